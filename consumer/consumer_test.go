package consumer_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auth0/go-auth0/authentication"

	"rekey/consumer"
	"rekey/keys"
	"rekey/sandbox"
	"rekey/sysconfig"
)

const keyCount = 3

var (
	keysOnce sync.Once
	rsaKeys  [keyCount]*rsa.PrivateKey
	keysErr  error
)

// testKey returns one of a few RSA keys generated once per test binary.
func testKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		var wg sync.WaitGroup
		errs := make([]error, keyCount)
		for i := range keyCount {
			wg.Go(func() { rsaKeys[i], errs[i] = keys.Generate(keys.MinBits) })
		}
		wg.Wait()
		keysErr = errors.Join(errs...)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return rsaKeys[i]
}

// env is a sandbox tenant with one M2M client, an API and a folder for keys and the system config.
type env struct {
	srv    *sandbox.Server
	tn     *sandbox.Tenant
	http   *http.Client // trusts the sandbox CA
	client string
	aud    string
	dir    string
	credID map[int]string // key index → credential id in the client's pool
}

func newEnv(t *testing.T, grant bool) *env {
	t.Helper()
	tn, err := sandbox.NewTenant(4) // room for every test key in one pool
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.Start(sandbox.Options{Tenant: tn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	httpClient := srv.HTTPClient()
	// Closing the idle connections first spares srv.Close the HTTP/2 shutdown's one-second wait.
	t.Cleanup(httpClient.CloseIdleConnections)
	e := &env{srv: srv, tn: tn, http: httpClient, aud: "https://api.consumer-test.example.com/", dir: t.TempDir(), credID: map[int]string{}}
	tn.AddAPI(e.aud, "consumer test API")
	e.client = tn.AddClient("svc", "non_interactive", []string{"client_credentials"}).ID
	if grant {
		if _, err := tn.AddGrant(e.client, e.aud, []string{"read:x"}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// kid is the kid of test key i.
func kid(t *testing.T, i int) string { return keys.Thumbprint(&testKey(t, i).PublicKey) }

// attach makes exactly the given test keys the client's private_key_jwt credentials.
func (e *env) attach(t *testing.T, idx ...int) {
	t.Helper()
	ids := []string{}
	for _, i := range idx {
		if e.credID[i] == "" {
			pub, err := keys.PublicPEM(&testKey(t, i).PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			cr, err := e.tn.CreateCredential(e.client, sandbox.NewCredential{PEM: string(pub), Alg: "RS256"})
			if err != nil {
				t.Fatal(err)
			}
			e.credID[i] = cr.ID
		}
		ids = append(ids, e.credID[i])
	}
	if _, err := e.tn.UpdateClient(e.client, sandbox.ClientPatch{TokenEndpointAuthMethodSet: true, AuthMethodsSet: true, PrivateKeyJWT: &ids}); err != nil {
		t.Fatal(err)
	}
}

// entry writes test key i to keys/k<i>.pem (once) and returns its system config entry.
func (e *env) entry(t *testing.T, i int) sysconfig.Entry {
	t.Helper()
	rel := filepath.Join("keys", fmt.Sprintf("k%d.pem", i))
	if _, err := os.Stat(filepath.Join(e.dir, rel)); err != nil {
		if err := keys.WritePrivateKey(filepath.Join(e.dir, rel), testKey(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	return sysconfig.Entry{KID: kid(t, i), Alg: "RS256", PrivateKeyFile: rel}
}

// writeConfig writes the system config listing entries and returns its path.
func (e *env) writeConfig(t *testing.T, entries ...sysconfig.Entry) string {
	t.Helper()
	path := filepath.Join(e.dir, "system.json")
	if err := os.WriteFile(path, []byte(sysconfig.Snippet(entries)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e *env) source(t *testing.T, path string) *consumer.TokenSource {
	t.Helper()
	s, err := consumer.New(consumer.Config{SystemConfig: path, Domain: e.srv.Domain(), ClientID: e.client, Audience: e.aud, HTTPClient: e.http})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// token gets a token and checks which kid obtained it.
func token(t *testing.T, s *consumer.TokenSource, wantKID string, wantFallback bool) {
	t.Helper()
	tok, err := s.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.KID != wantKID || tok.Fallback != wantFallback {
		t.Fatalf("Token by kid %s (fallback %v), want %s (fallback %v)", tok.KID, tok.Fallback, wantKID, wantFallback)
	}
	if tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("Token has no access token or lifetime: %d", tok.ExpiresIn)
	}
}

func TestTokenWithFirstKey(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 0, 1)
	s := e.source(t, e.writeConfig(t, e.entry(t, 0), e.entry(t, 1)))
	token(t, s, kid(t, 0), false)
	token(t, s, kid(t, 0), false) // the cached client works again
}

// go-auth0 wraps the transport of the HTTP client it is given; the caller's client must not change.
func TestHTTPClientUntouched(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 1)
	transport := e.http.Transport
	s := e.source(t, e.writeConfig(t, e.entry(t, 0), e.entry(t, 1))) // two authentication clients
	token(t, s, kid(t, 1), true)
	if e.http.Transport != transport {
		t.Errorf("the configured HTTP client's transport was replaced by %T", e.http.Transport)
	}
}

func TestFallbackWhenFirstKeyDetached(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 1)
	s := e.source(t, e.writeConfig(t, e.entry(t, 0), e.entry(t, 1)))
	token(t, s, kid(t, 1), true)
}

func TestFallbackWhenKeyFileUnusable(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 0, 1)
	garbage := filepath.Join(e.dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{"missing": "keys/missing.pem", "not a key": garbage} {
		t.Run(name, func(t *testing.T) {
			first := sysconfig.Entry{KID: kid(t, 0), Alg: "RS256", PrivateKeyFile: file}
			s := e.source(t, e.writeConfig(t, first, e.entry(t, 1)))
			token(t, s, kid(t, 1), true)
		})
	}
}

func TestAllRejected(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 2)
	path := e.writeConfig(t, e.entry(t, 0), sysconfig.Entry{KID: "kid-without-file", Alg: "RS256", PrivateKeyFile: "nope.pem"}, e.entry(t, 1))
	_, err := e.source(t, path).Token(t.Context())
	if err == nil {
		t.Fatal("Token succeeded with no attached key")
	}
	for _, want := range []string{"no credential of " + path + " was accepted", "kid " + kid(t, 0) + ": 401 invalid_client", "kid kid-without-file: read key file", "kid " + kid(t, 1) + ": 401"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	var ae *authentication.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized {
		t.Errorf("error does not wrap the 401: %v", err)
	}
}

func TestForbiddenIsNotAFallback(t *testing.T) {
	e := newEnv(t, false) // no client grant: Auth0 answers 403 access_denied
	e.attach(t, 0, 1)
	_, err := e.source(t, e.writeConfig(t, e.entry(t, 0), e.entry(t, 1))).Token(t.Context())
	var ae *authentication.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden {
		t.Fatalf("Token = %v, want the 403", err)
	}
	if !strings.Contains(err.Error(), "kid "+kid(t, 0)) || strings.Contains(err.Error(), kid(t, 1)) {
		t.Errorf("error %q should name only the first kid", err)
	}
}

func TestServerErrorIsRetriedThenReturned(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 0, 1)
	e.srv.SetFaults([]sandbox.Fault{{Path: "/oauth/token", ErrorRate: 1}})
	_, err := e.source(t, e.writeConfig(t, e.entry(t, 0), e.entry(t, 1))).Token(t.Context())
	var ae *authentication.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "kid "+kid(t, 0)) {
		t.Fatalf("Token = %v, want the 503 for the first kid", err)
	}
}

// scripted answers its first requests with canned failures, then passes them to base.
type scripted struct {
	base  http.RoundTripper
	mu    sync.Mutex
	fails []int // HTTP status, or 0 for a transport error
	calls int
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	n := s.calls
	s.calls++
	s.mu.Unlock()
	if n >= len(s.fails) {
		return s.base.RoundTrip(r)
	}
	r.Body.Close()
	if s.fails[n] == 0 {
		return nil, errors.New("connection reset by peer")
	}
	body := `{"error":"temporarily_unavailable","error_description":"scripted failure"}`
	return &http.Response{StatusCode: s.fails[n], Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestTransientErrorsAreRetried(t *testing.T) {
	cases := []struct {
		name    string
		fails   []int
		wantErr int // status of the error Token returns, or 0 for success
	}{
		{"503 then reset", []int{503, 0}, 0},
		{"429 twice", []int{429, 429}, 0},
		{"503 three times", []int{503, 503, 503}, 503},
		{"400 is not retried", []int{400}, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, true)
			e.attach(t, 0, 1)
			tr := &scripted{base: e.http.Transport, fails: c.fails}
			s, err := consumer.New(consumer.Config{SystemConfig: e.writeConfig(t, e.entry(t, 0), e.entry(t, 1)),
				Domain: e.srv.Domain(), ClientID: e.client, Audience: e.aud, HTTPClient: &http.Client{Transport: tr}})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := s.Token(t.Context())
			var ae *authentication.Error
			switch {
			case c.wantErr == 0 && (err != nil || tok.KID != kid(t, 0)):
				t.Errorf("Token = %v by %s, want success with the first key", err, tok.KID)
			case c.wantErr != 0 && !(errors.As(err, &ae) && ae.StatusCode == c.wantErr):
				t.Errorf("Token = %v, want a %d", err, c.wantErr)
			}
			if want := max(len(c.fails), min(len(c.fails)+1, 3)); c.wantErr == 400 && tr.calls != 1 || c.wantErr != 400 && tr.calls != want {
				t.Errorf("%d requests sent", tr.calls)
			}
		})
	}
}

func TestUntrustedServerIsNotRetried(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 0)
	tr := &scripted{base: &http.Transport{}}
	s, err := consumer.New(consumer.Config{SystemConfig: e.writeConfig(t, e.entry(t, 0)),
		Domain: e.srv.Domain(), ClientID: e.client, Audience: e.aud, HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Token = %v, want a certificate error", err)
	}
	if tr.calls != 1 {
		t.Errorf("%d requests sent, want 1", tr.calls)
	}
}

// A whole rotation, edited through sysconfig while Run keeps requesting tokens, loses no request.
func TestRotationWhileRunning(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 0)
	path := e.writeConfig(t, e.entry(t, 0))
	s := e.source(t, path)
	var stats consumer.Stats
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { consumer.Run(ctx, s, 50, &stats); close(done) }()

	edit := func(change func(*sysconfig.File) error) {
		t.Helper()
		f, err := sysconfig.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := change(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Save(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // let traffic run on each state
	}
	old, next := kid(t, 0), kid(t, 1)
	token(t, s, old, false)
	edit(func(f *sysconfig.File) error { return f.Stage(e.entry(t, 1)) })
	token(t, s, old, false)
	e.attach(t, 0, 1)
	edit(func(f *sysconfig.File) error { return f.Promote(next) })
	token(t, s, next, false)
	e.attach(t, 1)
	token(t, s, next, false)
	edit(func(f *sysconfig.File) error { return f.Remove(old) })
	token(t, s, next, false)

	cancel()
	<-done
	got := stats.Snapshot()
	if got.Failures != 0 || got.Requests < 20 || got.ByKID[old] == 0 || got.ByKID[next] == 0 {
		t.Errorf("%d requests, %d failed (last: %s), by kid %v; want no failures and requests served by both keys",
			got.Requests, got.Failures, got.LastError, got.ByKID)
	}
}

func TestReloadKeepsLastGoodList(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 0)
	path := e.writeConfig(t, e.entry(t, 0))
	s := e.source(t, path)
	if err := os.WriteFile(path, []byte(`{"credentials": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	token(t, s, kid(t, 0), false)
	e.attach(t) // nothing attached: the error must say the file could not be reloaded
	_, err := s.Token(t.Context())
	if err == nil || !strings.Contains(err.Error(), "could not be reloaded") || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("Token = %v, want a rejection with a note about the broken file", err)
	}
	e.attach(t, 1)
	e.writeConfig(t, e.entry(t, 1))
	token(t, s, kid(t, 1), false) // the repaired file is picked up
}

func TestRunRate(t *testing.T) {
	e := newEnv(t, true)
	e.attach(t, 0)
	s := e.source(t, e.writeConfig(t, e.entry(t, 0)))
	var stats consumer.Stats
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	consumer.Run(ctx, s, 50, &stats)
	got := stats.Snapshot()
	if got.Requests < 40 || got.Failures != 0 || got.ByKID[kid(t, 0)] != got.Requests {
		t.Errorf("%d requests, %d failed (last: %s), by kid %v; want at least 40, all by the first key, none failed",
			got.Requests, got.Failures, got.LastError, got.ByKID)
	}
}

func TestNewErrors(t *testing.T) {
	e := newEnv(t, true)
	path := e.writeConfig(t, e.entry(t, 0))
	good := consumer.Config{SystemConfig: path, Domain: e.srv.Domain(), ClientID: e.client, Audience: e.aud}
	cases := map[string]struct {
		change func(*consumer.Config)
		want   string
	}{
		"no domain":      {func(c *consumer.Config) { c.Domain = "" }, "Config.Domain is empty"},
		"no client":      {func(c *consumer.Config) { c.ClientID = "" }, "Config.ClientID is empty"},
		"no audience":    {func(c *consumer.Config) { c.Audience = "" }, "Config.Audience is empty"},
		"no config":      {func(c *consumer.Config) { c.SystemConfig = "" }, "Config.SystemConfig is empty"},
		"missing config": {func(c *consumer.Config) { c.SystemConfig += ".missing" }, path + ".missing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := good
			c.change(&cfg)
			if _, err := consumer.New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want an error containing %q", err, c.want)
			}
		})
	}
}
