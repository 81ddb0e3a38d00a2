package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rekey/consumer"
	"rekey/internal/termtest"
	"rekey/tenant"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

// providerCall is a request line of `rekey sandbox --log-requests` sent by the real provider.
type providerCall struct {
	name      string // the moment it marks
	method    string
	suffix    string // of the path
	abortable bool   // inside attach, where --abort is allowed
}

// The calls inside the applies that leave the tenant ahead of the Terraform state: the new
// credential created but not attached, attached but not recorded, and the old one detached
// but not deleted.
var signalledCalls = []providerCall{
	{"attach-create", http.MethodPost, "/credentials", true},
	{"attach-patch", http.MethodPatch, "", true},
	{"retire-delete", http.MethodDelete, "", false},
}

// TestSignalsToRekeyInsideAnApply sends SIGINT, SIGTERM or SIGKILL to a running `rekey rotate
// --yes` (a real process against a `rekey sandbox` process with the real provider) while one
// of the provider's calls is in flight inside the attach or the retire apply: the sandbox
// prints each request as it arrives and holds the client's API calls for 700 ms. A second
// rekey then resumes with --repair or, inside attach, aborts. Every case must end with exactly
// the expected key in the client's pool, attached, a clean plan, and a service that never
// failed a token request.
func TestSignalsToRekeyInsideAnApply(t *testing.T) {
	signals := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL}
	for _, at := range signalledCalls {
		for _, sig := range signals {
			ends := []string{"resume"}
			if at.abortable {
				ends = append(ends, "abort")
			}
			for _, end := range ends {
				t.Run(at.name+"/"+sigName(sig)+"/"+end, func(t *testing.T) {
					t.Parallel()
					signalled(t, at, sig, end)
				})
			}
		}
	}
}

func sigName(sig syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL"}[sig]
}

func signalled(t *testing.T, at providerCall, sig syscall.Signal, end string) {
	var mu sync.Mutex
	var rekey *os.Process // the rotation to signal
	signalledAt := make(chan string, 1)
	onLine := func(line string) {
		method, path, ok := requestLine(line)
		if !ok || !strings.Contains(line, "(Terraform-Provider-Auth0/") || method != at.method || !strings.HasSuffix(path, at.suffix) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if rekey != nil {
			rekey.Signal(sig)
			rekey = nil
			signalledAt <- line
		}
	}
	s := startCLISandbox(t, onLine, "--log-requests", "--fault", "/api/v2/clients/,latency=700ms")
	mc := s.client(t, "billing-worker")
	conn := s.tenant(t)
	oldKIDs := livePoolKIDs(t, conn, mc.ClientID)
	svc := s.consumer(t, mc.ClientID, mc.Audience, mc.SystemConfig)

	cmd := s.command(s.rotate(t), nil, "")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	mu.Lock()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rekey = cmd.Process
	mu.Unlock()
	cmd.Wait()
	select {
	case line := <-signalledAt:
		t.Logf("%s at %s; rekey exited %d", sigName(sig), line, cmd.ProcessState.ExitCode())
	default:
		t.Fatalf("rekey ended before the provider's %s %s: exit %d\n%s", at.method, at.suffix, cmd.ProcessState.ExitCode(), stderr.String())
	}
	if sig != syscall.SIGKILL {
		if res := (outcome{stdout: stdout.String()}).result(t); res["status"] == "rotated" || res["error"] == "" {
			t.Errorf("the signalled run reported %v", res)
		}
	}
	waitForOrphans(t, s)

	args := s.rotate(t, "--repair")
	if end == "abort" {
		args = append(args, "--abort")
	}
	out := s.run(t, args, nil, "")
	res := out.result(t)
	if out.code != 0 {
		t.Fatalf("%s: exit %d: %v\n%s", end, out.code, res, out.stderr)
	}
	if repairs, _ := res["repairs"].([]any); len(repairs) > 0 {
		t.Logf("repairs: %v", repairs)
	}
	want := []string{res["new_kid"].(string)}
	if end == "abort" {
		want = oldKIDs
	}
	if pool := livePoolKIDs(t, conn, mc.ClientID); !slices.Equal(pool, want) || !slices.Equal(liveAttachedKIDs(t, conn, mc.ClientID), want) {
		t.Errorf("pool %v, attached %v; want exactly %v", pool, liveAttachedKIDs(t, conn, mc.ClientID), want)
	}
	s.assertPlanClean(t)
	svc.stop(t)
}

// requestLine reads "request METHOD PATH (PRODUCT)".
func requestLine(line string) (method, path string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "request" {
		return "", "", false
	}
	return f[1], f[2], true
}

// waitForOrphans waits until no provider process of the sandbox's workspace is left: after a
// SIGKILL, Terraform dies with rekey but the provider it started ends on its own.
func waitForOrphans(t *testing.T, s *cliSandbox) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if !providerRunningIn(s.m.TerraformDir) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("a provider of %s still runs 20 s after the signal", s.m.TerraformDir)
}

// providerRunningIn reports whether a terraform-provider-auth0 process runs in dir.
func providerRunningIn(dir string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cwd")
	for _, cwd := range procs {
		if target, err := os.Readlink(cwd); err != nil || target != dir {
			continue
		}
		if exe, err := os.Readlink(filepath.Join(filepath.Dir(cwd), "exe")); err == nil && strings.Contains(filepath.Base(exe), "terraform") {
			return true
		}
	}
	return false
}

// tenant connects to the sandbox's Management API as the test's own client.
func (s *cliSandbox) tenant(t *testing.T) *tenant.Tenant {
	t.Helper()
	conn, err := tenant.Connect(tenant.Config{Domain: s.m.Domain, ClientID: s.m.Management.ClientID, ClientSecret: s.m.Management.ClientSecret, HTTPClient: s.httpClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// httpClient trusts the sandbox's CA.
func (s *cliSandbox) httpClient(t *testing.T) *http.Client {
	t.Helper()
	ca, err := os.ReadFile(s.m.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func livePoolKIDs(t *testing.T, conn *tenant.Tenant, clientID string) []string {
	return credentialKIDs(t, conn, clientID, func(tenant.Credential) bool { return true })
}

func liveAttachedKIDs(t *testing.T, conn *tenant.Tenant, clientID string) []string {
	return credentialKIDs(t, conn, clientID, func(c tenant.Credential) bool { return c.Attached })
}

func credentialKIDs(t *testing.T, conn *tenant.Tenant, clientID string, keep func(tenant.Credential) bool) []string {
	t.Helper()
	c, err := conn.Client(context.Background(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cr := range c.Credentials {
		if keep(cr) {
			out = append(out, cr.KID)
		}
	}
	sort.Strings(out)
	return out
}

// runningService is a service requesting tokens from a system config, as billing-worker's would.
type runningService struct {
	stats  consumer.Stats
	cancel context.CancelFunc
	done   chan struct{}
}

// consumer starts a service requesting 25 tokens a second with the keys in systemConfig.
func (s *cliSandbox) consumer(t *testing.T, clientID, audience, systemConfig string) *runningService {
	t.Helper()
	ts, err := consumer.New(consumer.Config{SystemConfig: systemConfig, Domain: s.m.Domain, ClientID: clientID, Audience: audience, HTTPClient: s.httpClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc := &runningService{cancel: cancel, done: make(chan struct{})}
	go func() { defer close(svc.done); consumer.Run(ctx, ts, 25, &svc.stats) }()
	t.Cleanup(func() { cancel(); <-svc.done })
	return svc
}

// stop ends the service and fails the test if any token request failed.
func (svc *runningService) stop(t *testing.T) {
	t.Helper()
	svc.cancel()
	<-svc.done
	if st := svc.stats.Snapshot(); st.Failures != 0 || st.Requests < 20 {
		t.Errorf("the service made %d token requests, %d failed (last: %s); want 20 or more, none failed", st.Requests, st.Failures, st.LastError)
	}
}

// assertPlanClean runs terraform plan in the sandbox's workspace and expects no changes.
func (s *cliSandbox) assertPlanClean(t *testing.T) {
	t.Helper()
	runner, err := tfrunner.New(tfrunner.Config{Dir: s.m.TerraformDir, Binary: tftest.Terraform(t), Env: s.env})
	if err != nil {
		t.Fatal(err)
	}
	if changes, err := runner.Plan(context.Background(), filepath.Join(t.TempDir(), "check.tfplan")); err != nil || changes {
		t.Errorf("terraform plan after the rotation: changes=%v err=%v", changes, err)
	}
}

// TestWizardCancelInsideTheAttachApply: in a real terminal, the operator approves the attach
// plan, then presses esc and confirms while the provider's PATCH that attaches the new key is
// in flight. The wizard says the step was cancelled and quits on q (resume later); a headless resume with
// --repair then finishes the rotation with only the new key in the pool.
func TestWizardCancelInsideTheAttachApply(t *testing.T) {
	patching := make(chan struct{})
	var once sync.Once
	onLine := func(line string) {
		if method, _, ok := requestLine(line); ok && method == http.MethodPatch && strings.Contains(line, "(Terraform-Provider-Auth0/") {
			once.Do(func() { close(patching) })
		}
	}
	s := startCLISandbox(t, onLine, "--log-requests", "--fault", "/api/v2/clients/,latency=700ms")
	mc := s.client(t, "billing-worker")
	svc := s.consumer(t, mc.ClientID, mc.Audience, mc.SystemConfig)
	env := []string{terminalPath(t)}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	tm := termtest.Start(t, 120, 40, env, strings.Join([]string{"rekey", "--dir", s.m.TerraformDir, "--system-config", mc.SystemConfig, "--key-dir", s.keyDir}, " "))
	tm.WaitForText("billing-worker", 90*time.Second)
	tm.Type("/")
	tm.Type("billing")
	tm.Keys("Enter")
	tm.WaitForText("auth0_client_credentials.billing_worker", 60*time.Second)
	tm.Type("r")
	tm.WaitForText("Start rotation", 20*time.Second)
	tm.Keys("Enter")
	tm.WaitForText("Apply this plan to attach the new key", 180*time.Second)
	tm.Type("y")
	select {
	case <-patching:
	case <-time.After(120 * time.Second):
		t.Fatalf("the provider never attached the new key:\n%s", tm.Screen())
	}
	tm.Keys("Escape")
	tm.WaitForText("Cancel the running step?", 5*time.Second)
	tm.Type("y")
	tm.WaitForText("The step was cancelled", 60*time.Second)
	tm.Type("q") // quit, to resume later
	tm.WaitExit(30 * time.Second)

	out := s.run(t, s.rotate(t, "--repair"), nil, "")
	res := out.result(t)
	if out.code != 0 || res["status"] != "rotated" {
		t.Fatalf("resume: exit %d: %v\n%s", out.code, res, out.stderr)
	}
	conn := s.tenant(t)
	want := []string{res["new_kid"].(string)}
	if pool := livePoolKIDs(t, conn, mc.ClientID); !slices.Equal(pool, want) || !slices.Equal(liveAttachedKIDs(t, conn, mc.ClientID), want) {
		t.Errorf("pool %v, attached %v; want exactly %v", pool, liveAttachedKIDs(t, conn, mc.ClientID), want)
	}
	s.assertPlanClean(t)
	svc.stop(t)
}
