package tenant_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"rekey/sandbox"
)

// TestClientsStayUnderTheRateLimit lists a tenant whose Management API allows a burst of 30 and
// 30 requests a second, far fewer than the listing needs at once: every request goes through the
// limiter, which holds them back as the tenant's X-RateLimit-* headers say, so the tenant
// refuses none. The same tenant refuses a burst sent past the limiter, so the limit is real.
func TestClientsStayUnderTheRateLimit(t *testing.T) {
	limits := sandbox.RateLimits{Management: sandbox.RateLimit{Burst: 30, PerSecond: 30}, Authentication: sandbox.DefaultRateLimits.Authentication}
	f := newLimitedFixture(t, limits)
	for i := range 120 {
		f.addPKJWT(t, fmt.Sprintf("service-%03d", i), cred{key: i % 2, name: "current"})
	}
	clients, err := f.connect(t).Clients(context.Background())
	if err != nil {
		t.Fatalf("Clients: %v", err)
	}
	if len(clients) != 121 {
		t.Fatalf("listed %d clients, want 121", len(clients))
	}
	if sent := f.hits.path("GET /api/v2/clients"); sent+120 <= limits.Management.Burst {
		t.Fatalf("the listing sent %d requests, no more than the burst: the test proves nothing", sent+120)
	}
	if n := f.srv.RateLimited(); n != 0 || f.hits.status(http.StatusTooManyRequests) != 0 {
		t.Errorf("the tenant refused %d requests (rekey saw %d 429s); want none", n, f.hits.status(http.StatusTooManyRequests))
	}

	// Past the limiter, the same requests at once exceed the bucket.
	var wg sync.WaitGroup
	hc := f.srv.HTTPClient()
	for range 3 * limits.Management.Burst {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, "https://"+f.srv.Domain()+"/api/v2/clients", nil)
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if f.srv.RateLimited() == 0 {
		t.Error("a burst past the limiter was not refused: the tenant's limit is not in effect")
	}
}
