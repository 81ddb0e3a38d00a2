package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rekey/sandbox"
)

// TestRetriesThroughFaults applies, re-plans and destroys while the Management API answers
// some requests with 503 or 429: the provider's retries must carry every command through.
// The rates keep a spurious failure unlikely (four 503s in a row: 1 in 10⁴ per request, about
// 0.2% for the ~21 requests) and make a run without any fault rarer still (0.675²¹ ≈ 0.03%);
// the provider log shows the retries. (The brief's 30% 503s would fail ~0.8% of requests.)
func TestRetriesThroughFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workspace(t)
	logFile := filepath.Join(t.TempDir(), "provider.log")
	w.env = []string{"TF_LOG_PROVIDER=WARN", "TF_LOG_PATH=" + logFile}
	w.write(t, clientConfig(DefaultVersion, "faulty-worker", newKey(t, "Current", false), newKey(t, "Next", false)))
	w.must(t, "init")

	h.srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/", ErrorRate: 0.1, RateLimited: 0.25}})
	w.must(t, "apply", "-auto-approve")
	clientID := w.clientID(t)
	if n := len(h.attached(t, clientID)); n != 2 {
		t.Errorf("attached credentials = %d, want 2", n)
	}
	w.expectNoChanges(t)
	w.must(t, "destroy", "-auto-approve")
	h.srv.SetFaults(nil)

	if _, err := h.tenant.Client(clientID); err == nil {
		t.Errorf("client %s still exists after destroy", clientID)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	rateLimited := strings.Count(log, "Auth0 rate limit exceeded; retrying")
	failed := strings.Count(log, "Auth0 request failed; retrying")
	t.Logf("the provider retried %d rate-limited and %d failed requests", rateLimited, failed)
	if rateLimited+failed == 0 {
		t.Error("the provider log shows no retry: the faults were not exercised")
	}
}

// TestMissingCredentials runs a plan with no credentials in the environment: the provider
// must stop with the real provider's diagnostic.
func TestMissingCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workspace(t)
	w.env = []string{"AUTH0_DOMAIN=", "AUTH0_CLIENT_ID=", "AUTH0_CLIENT_SECRET="}
	w.write(t, clientConfig(DefaultVersion, "unconfigured", newKey(t, "Current", false)))
	w.must(t, "init")
	out, code := w.run(t, "plan")
	if code == 0 || !strings.Contains(out, "Missing environment variables") || !strings.Contains(out, "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET") {
		t.Errorf("plan exited %d, want a failure naming the variables to set:\n%s", code, out)
	}
}
