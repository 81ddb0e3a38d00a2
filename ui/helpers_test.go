package ui

import (
	"cmp"
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"rekey/keys"
	"rekey/steps"
	"rekey/tenant"
)

// The fake backend is the seam of these tests: a fakeTenant stands in for Auth0 (steps.Tenant),
// a temporary folder with a main.tf and a lock file stands in for the Terraform workspace, and
// a scripted engine (scriptedEngine) stands in for steps.Rotate where a test drives a rotation.

// testNow is the clock of the tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeTenant is a steps.Tenant that knows some clients and answers checks from a function.
type fakeTenant struct {
	mu      sync.Mutex
	clients map[string]tenant.Client
	grants  []tenant.Grant
	checks  map[string]int // kid → checks run
	result  func(kid string) tenant.CheckResult
}

func (f *fakeTenant) Client(_ context.Context, idOrName string) (tenant.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.clients {
		if c.ID == idOrName || c.Name == idOrName {
			return c, nil
		}
	}
	return tenant.Client{}, &tenant.NotFoundError{Query: idOrName}
}

func (f *fakeTenant) Grants(context.Context, string) ([]tenant.Grant, error) { return f.grants, nil }

// CheckKey counts the checks per kid and answers with result (default: ok in 42 ms).
func (f *fakeTenant) CheckKey(_ context.Context, _ string, key *rsa.PrivateKey, _ string, _ string) tenant.CheckResult {
	kid := keys.Thumbprint(&key.PublicKey)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.checks == nil {
		f.checks = map[string]int{}
	}
	f.checks[kid]++
	if f.result != nil {
		return f.result(kid)
	}
	return tenant.CheckResult{OK: true, Latency: 42 * time.Millisecond}
}

// setResult changes the answer of later checks.
func (f *fakeTenant) setResult(fn func(kid string) tenant.CheckResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.result = fn
}

func (f *fakeTenant) count(kid string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checks[kid]
}

var (
	keyOnce sync.Once
	keyA    *rsa.PrivateKey
	keyB    *rsa.PrivateKey
)

// testKeys are two RSA keys made once per test binary.
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keyOnce.Do(func() {
		var err error
		if keyA, err = keys.Generate(2048); err != nil {
			panic(err)
		}
		if keyB, err = keys.Generate(2048); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

// fixture is a fake backend with one private_key_jwt client whose key is known.
type fixture struct {
	backend Backend
	tenant  *fakeTenant
	dir     string // Terraform folder
	client  tenant.Client
	oldKID  string
	oldFile string
	newKID  string
	newFile string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	a, b := testKeys(t)
	dir := t.TempDir()
	keyDir := t.TempDir()
	f := &fixture{dir: dir, oldKID: keys.Thumbprint(&a.PublicKey), newKID: keys.Thumbprint(&b.PublicKey)}
	f.oldFile = filepath.Join(keyDir, "old.pem")
	f.newFile = filepath.Join(keyDir, "new.pem")
	must(t, keys.WritePrivateKey(f.oldFile, a))
	must(t, keys.WritePrivateKey(f.newFile, b))
	exp := testNow.Add(12 * 24 * time.Hour)
	f.client = tenant.Client{
		ID: "cl_billing0000000000000000000001", Name: "billing-service", AppType: "non_interactive", JWTAlg: "RS256",
		AuthMethod: "private_key_jwt", GrantTypes: []string{"client_credentials"},
		Credentials: []tenant.Credential{{
			ID: "cred_1", Name: "billing 2025", KID: f.oldKID, Alg: "RS256", Type: "public_key",
			CreatedAt: testNow.Add(-300 * 24 * time.Hour), ExpiresAt: &exp, Attached: true,
		}},
	}
	other := tenant.Client{ID: "cl_web00000000000000000000000002", Name: "Web Portal", AppType: "spa", AuthMethod: "none"}
	reports := tenant.Client{ID: "cl_reports000000000000000000003", Name: "reports-job", AuthMethod: "private_key_jwt",
		Credentials: []tenant.Credential{{ID: "cred_2", Name: "reports", KID: "kidreports", Alg: "RS256", Attached: true}}}
	f.tenant = &fakeTenant{
		clients: map[string]tenant.Client{f.client.ID: f.client, other.ID: other, reports.ID: reports},
		grants:  []tenant.Grant{{Audience: "https://api.example"}},
	}
	pub, err := keys.PublicPEM(&a.PublicKey)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(fmt.Sprintf(`resource "auth0_client_credentials" "billing" {
  client_id             = %q
  authentication_method = "private_key_jwt"
  private_key_jwt {
    credentials {
      name            = "billing 2025"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOT
%sEOT
    }
  }
}
`, f.client.ID, pub)), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, ".terraform.lock.hcl"), []byte(`provider "registry.terraform.io/auth0/auth0" {
  version     = "1.55.0"
  constraints = ">= 1.47.0"
}
`), 0o644))
	f.backend = Backend{
		Inventory: complete(func(context.Context) ([]tenant.Client, error) {
			return []tenant.Client{f.client, other, reports}, nil
		}),
		Tenant: f.tenant,
		Options: func(c tenant.Client) steps.Options {
			return steps.Options{TerraformDir: dir, KeyDir: keyDir}
		},
		KnownKeys: func(c tenant.Client) map[string]string {
			if c.ID == f.client.ID {
				return map[string]string{f.oldKID: f.oldFile}
			}
			return nil
		},
	}
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testConfig is the options of a model under test: a fixed clock, no colour, live checks that
// only run when a test asks.
func testOptions(extra ...Option) []Option {
	return append([]Option{
		WithNoColor(true),
		func(c *config) {
			c.now = func() time.Time { return testNow }
			c.checkEvery = time.Hour
			c.consumerEvery = time.Hour
		},
	}, extra...)
}

// harness drives a root model like the program would: the Cmds of each message run in
// goroutines and their messages are fed back, in arrival order, one at a time.
type harness struct {
	t       testing.TB
	m       *model
	msgs    chan tea.Msg
	timeout time.Duration // of waitFor; 5 s unless set
}

// quiet is how long settle waits for another message before it considers the model idle.
const quiet = 30 * time.Millisecond

// newHarness returns a harness on a root model that has prepared b and loaded its clients,
// sized w×h.
func newHarness(t testing.TB, b Backend, w, h int, opts ...Option) *harness {
	t.Helper()
	hs := startHarness(t, b, w, h, opts...)
	hs.waitFor("the clients", func() bool { return !hs.m.clients.loading })
	return hs
}

// startHarness is newHarness without waiting for the clients to load.
func startHarness(t testing.TB, b Backend, w, h int, opts ...Option) *harness {
	t.Helper()
	m := NewModel(func(context.Context, func(string)) (Backend, error) { return b, nil }, testOptions(opts...)...).(*model)
	t.Cleanup(func() {
		m.c.stop()
		m.c.background.Wait() // as Run does: the engine stops before the test's folders go
	})
	hs := &harness{t: t, m: m, msgs: make(chan tea.Msg, 4096)}
	hs.update(tea.WindowSizeMsg{Width: w, Height: h})
	hs.update(preparedMsg{backend: b})
	if m.screen != screenClients {
		t.Fatalf("screen after prepare = %v, want clients", m.screen)
	}
	return hs
}

// launch runs a Cmd (batches flattened) in a goroutine; its message goes to h.msgs. Spinner
// ticks and cursor blinks are dropped so that the model settles.
func (h *harness) launch(c tea.Cmd) {
	if c == nil {
		return
	}
	go func() {
		msg := c()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				h.launch(c)
			}
			return
		}
		if msg != nil && !isAnimation(msg) {
			h.msgs <- msg
		}
	}()
}

// update feeds msg to the model and settles.
func (h *harness) update(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.launch(cmd)
	h.settle()
}

// settle feeds messages as they arrive until none comes for a while.
func (h *harness) settle() {
	for {
		select {
		case msg := <-h.msgs:
			_, cmd := h.m.Update(msg)
			h.launch(cmd)
		case <-time.After(quiet):
			return
		}
	}
}

// waitFor settles until cond holds, or fails after a few seconds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(cmp.Or(h.timeout, 5*time.Second))
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.text())
		}
		select {
		case msg := <-h.msgs:
			_, cmd := h.m.Update(msg)
			h.launch(cmd)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// press feeds keys one by one.
func (h *harness) press(ks ...string) {
	h.t.Helper()
	for _, k := range ks {
		h.update(keyPress(k))
	}
}

// typeText feeds each rune of s as a key, then settles.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		_, cmd := h.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		h.launch(cmd)
	}
	h.settle()
}

// text is the frame without ANSI sequences.
func (h *harness) text() string { return ansi.Strip(h.m.View()) }

func isAnimation(msg tea.Msg) bool {
	name := fmt.Sprintf("%T", msg)
	return strings.HasPrefix(name, "spinner.") || strings.HasPrefix(name, "cursor.")
}

// keyPress is a key message: "enter", "esc", "tab", "up", "down", "ctrl+c", "backspace",
// or runes.
func keyPress(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// checkFrame fails when a line of view is wider than w or there are more than h lines, and
// when a wanted text is not visible.
func checkFrame(t testing.TB, view string, w, h int, want ...string) {
	t.Helper()
	plain := ansi.Strip(view)
	lines := strings.Split(plain, "\n")
	if len(lines) > h {
		t.Errorf("%d lines, more than the height %d", len(lines), h)
	}
	for i, l := range strings.Split(view, "\n") {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, n, w, ansi.Strip(l))
		}
	}
	for _, s := range want {
		if !strings.Contains(plain, s) {
			t.Errorf("%q not visible in:\n%s", s, plain)
		}
	}
}
