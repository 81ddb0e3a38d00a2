package tenant_test

// Shared helpers of the tenant tests: a sandbox tenant with a management client, machine
// clients with Private Key JWT credentials, and an HTTP client that counts what it sends.

import (
	"crypto/rsa"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"rekey/keys"
	"rekey/sandbox"
	"rekey/tenant"
)

// readScopes are the Management API scopes rekey's reads need.
var readScopes = []string{"read:clients", "read:client_credentials", "read:client_grants"}

var (
	testKeysOnce sync.Once
	testKeys     [2]*rsa.PrivateKey
	testKeysErr  error
)

// testKey returns one of two 2048-bit keys generated once per test binary.
func testKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for j := range testKeys {
			wg.Go(func() {
				k, err := keys.Generate(keys.MinBits)
				mu.Lock()
				defer mu.Unlock()
				testKeys[j] = k
				if err != nil {
					testKeysErr = err
				}
			})
		}
		wg.Wait()
	})
	if testKeysErr != nil {
		t.Fatalf("generate test keys: %v", testKeysErr)
	}
	return testKeys[i]
}

func publicPEM(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	p, err := keys.PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(p)
}

// fixture is a running sandbox tenant with a management client.
type fixture struct {
	srv  *sandbox.Server
	tn   *sandbox.Tenant
	mgmt *sandbox.Client
	cfg  tenant.Config
	hits *counter // what cfg.HTTPClient sent
}

// newFixture starts a sandbox whose management client holds the given Management API scopes
// (readScopes when none are given).
func newFixture(t testing.TB, scopes ...string) *fixture {
	t.Helper()
	return newLimitedFixture(t, sandbox.RateLimits{}, scopes...)
}

// newLimitedFixture is newFixture with the tenant's rate limits.
func newLimitedFixture(t testing.TB, limits sandbox.RateLimits, scopes ...string) *fixture {
	t.Helper()
	if len(scopes) == 0 {
		scopes = readScopes
	}
	tn, err := sandbox.NewTenant(sandbox.DefaultPoolCap)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.Start(sandbox.Options{Tenant: tn, RateLimits: limits})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	mgmt := tn.AddClient(sandbox.ManagementClientName, "non_interactive", []string{"client_credentials"})
	if _, err := tn.AddGrant(mgmt.ID, srv.ManagementAudience(), scopes); err != nil {
		t.Fatal(err)
	}
	hc := srv.HTTPClient()
	hits := &counter{base: hc.Transport, byStatus: map[int]int{}, byPath: map[string]int{}}
	hc.Transport = hits
	// Without this, Close waits a second for HTTP/2 clients to hang up (http2's GOAWAY timeout).
	t.Cleanup(hc.CloseIdleConnections)
	return &fixture{
		srv: srv, tn: tn, mgmt: mgmt, hits: hits,
		cfg: tenant.Config{Domain: srv.Domain(), ClientID: mgmt.ID, ClientSecret: mgmt.Secret, HTTPClient: hc},
	}
}

func (f *fixture) connect(t testing.TB) *tenant.Tenant {
	t.Helper()
	tt, err := tenant.Connect(f.cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return tt
}

// cred describes one credential of a machine client.
type cred struct {
	key     int    // index of testKey
	name    string // credential name
	alg     string // RS256 when empty
	expires time.Duration
	detach  bool // leave it in the pool, not attached
}

// addPKJWT adds a non_interactive client using private_key_jwt with the given credentials
// (attached in order unless detach) and returns it with its credentials.
func (f *fixture) addPKJWT(t testing.TB, name string, creds ...cred) (*sandbox.Client, []sandbox.Credential) {
	t.Helper()
	c := f.tn.AddClient(name, "non_interactive", []string{"client_credentials"})
	attached := []string{}
	var out []sandbox.Credential
	for _, spec := range creds {
		in := sandbox.NewCredential{Name: spec.name, PEM: publicPEM(t, testKey(t, spec.key)), Alg: spec.alg}
		if spec.expires != 0 {
			at := time.Now().Add(spec.expires)
			in.ExpiresAt = &at
		}
		cr, err := f.tn.CreateCredential(c.ID, in)
		if err != nil {
			t.Fatalf("CreateCredential for %s: %v", name, err)
		}
		out = append(out, cr)
		if !spec.detach {
			attached = append(attached, cr.ID)
		}
	}
	if _, err := f.tn.UpdateClient(c.ID, sandbox.ClientPatch{
		TokenEndpointAuthMethodSet: true, AuthMethodsSet: true, PrivateKeyJWT: &attached,
	}); err != nil {
		t.Fatalf("attach credentials of %s: %v", name, err)
	}
	return c, out
}

// counter is an http.RoundTripper that counts requests by path and responses by status.
type counter struct {
	base     http.RoundTripper
	mu       sync.Mutex
	byStatus map[int]int
	byPath   map[string]int
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byPath[req.Method+" "+req.URL.Path]++
	if err == nil {
		c.byStatus[resp.StatusCode]++
	}
	return resp, err
}

// CloseIdleConnections closes the idle connections of the wrapped transport.
func (c *counter) CloseIdleConnections() {
	if ci, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func (c *counter) status(code int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byStatus[code]
}

// total is how many requests were sent.
func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.byPath {
		n += k
	}
	return n
}

func (c *counter) path(methodPath string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byPath[methodPath]
}

// closedDomain returns a 127.0.0.1 address on which nothing listens.
func closedDomain(t testing.TB) string {
	t.Helper()
	ln, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// mustContain fails unless s contains every part.
func mustContain(t testing.TB, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s %q does not mention %q", what, s, p)
		}
	}
}

func names(cs []tenant.Client) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// listenLoopback listens on a free 127.0.0.1 port.
func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
