package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/auth0/go-auth0/authentication"
	"github.com/auth0/go-auth0/authentication/oauth"

	"rekey/keys"
	"rekey/tenant"
)

// jwtPattern matches a compact JWS whose header is JSON (base64url of `{"` is "eyJ").
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

// checkFixture is a sandbox with an API and a client granted to it whose pool holds key 0
// (attached) and key 1 (detached).
type checkFixture struct {
	*fixture
	clientID string
	audience string
}

func newCheckFixture(t *testing.T) checkFixture {
	t.Helper()
	f := newFixture(t)
	aud := "https://orders.example.com/"
	f.tn.AddAPI(aud, "Orders")
	c, _ := f.addPKJWT(t, "orders-worker", cred{key: 0, name: "current"}, cred{key: 1, name: "spare", detach: true})
	if _, err := f.tn.AddGrant(c.ID, aud, []string{"read:orders", "write:orders"}); err != nil {
		t.Fatal(err)
	}
	return checkFixture{fixture: f, clientID: c.ID, audience: aud}
}

// leaks returns every rendering of a result a caller might log or store.
func leaks(t *testing.T, res tenant.CheckResult) []string {
	t.Helper()
	errText := ""
	if res.Err != nil {
		errText = res.Err.Error()
	}
	j, err := json.Marshal(struct {
		tenant.CheckResult
		Err string
	}{res, errText})
	if err != nil {
		t.Fatal(err)
	}
	return []string{string(j), fmt.Sprintf("%+v", res), fmt.Sprintf("%#v", res)}
}

func TestCheckKey(t *testing.T) {
	f := newCheckFixture(t)
	ctx := context.Background()
	transportBefore := f.cfg.HTTPClient.Transport

	t.Run("success", func(t *testing.T) {
		res := tenant.CheckKey(ctx, f.cfg, f.clientID, testKey(t, 0), "RS256", f.audience)
		if !res.OK || res.Err != nil || res.Status != 0 || res.Code != "" {
			t.Fatalf("CheckKey = %+v, want OK", res)
		}
		if res.Latency <= 0 {
			t.Errorf("Latency = %v, want > 0", res.Latency)
		}
		want := map[string]any{
			"sub": f.clientID + "@clients", "gty": "client-credentials", "aud": f.audience, "azp": f.clientID,
			"iss": "https://" + f.srv.Domain() + "/", "scope": "read:orders write:orders",
		}
		for k, v := range want {
			if res.Claims[k] != v {
				t.Errorf("claim %s = %v, want %v", k, res.Claims[k], v)
			}
		}
		exp, _ := res.Claims["exp"].(float64)
		if exp < float64(time.Now().Unix()) {
			t.Errorf("claim exp = %v, want a future epoch time", res.Claims["exp"])
		}
		for _, s := range leaks(t, res) {
			if jwtPattern.MatchString(s) {
				t.Errorf("the result carries a JWT: %s", s)
			}
		}
	})

	t.Run("the leak check can fail", func(t *testing.T) {
		// The same exchange through go-auth0 directly yields a token the pattern recognises.
		pemKey, err := keys.PrivatePEM(testKey(t, 0))
		if err != nil {
			t.Fatal(err)
		}
		a, err := authentication.New(ctx, f.srv.Domain(), authentication.WithClientID(f.clientID),
			authentication.WithClientAssertion(string(pemKey), "RS256"), authentication.WithClient(&http.Client{Transport: f.cfg.HTTPClient.Transport}),
			authentication.WithIDTokenSigningAlg("HS256"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := a.OAuth.LoginWithClientCredentials(ctx, oauth.LoginWithClientCredentialsRequest{Audience: f.audience}, oauth.IDTokenValidationOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !jwtPattern.MatchString(tok.AccessToken) {
			t.Fatalf("the JWT pattern does not match a real access token")
		}
	})

	t.Run("detached key", func(t *testing.T) {
		res := tenant.CheckKey(ctx, f.cfg, f.clientID, testKey(t, 1), "RS256", f.audience)
		if res.OK || res.Status != http.StatusUnauthorized || res.Code != "invalid_client" || res.Description == "" || res.Err == nil {
			t.Fatalf("CheckKey = %+v, want 401 invalid_client with a description", res)
		}
		if res.Claims != nil {
			t.Errorf("claims on failure: %v", res.Claims)
		}
		mustContain(t, "error", res.Err.Error(), "401", "invalid_client", f.clientID)
	})

	t.Run("wrong algorithm", func(t *testing.T) {
		res := tenant.CheckKey(ctx, f.cfg, f.clientID, testKey(t, 0), "PS256", f.audience)
		if res.OK || res.Status != http.StatusUnauthorized || res.Code != "invalid_client" {
			t.Fatalf("CheckKey(PS256 against an RS256 credential) = %+v, want 401 invalid_client", res)
		}
	})

	t.Run("unknown audience", func(t *testing.T) {
		res := tenant.CheckKey(ctx, f.cfg, f.clientID, testKey(t, 0), "RS256", "https://nowhere.example.com/")
		if res.OK || res.Status != http.StatusForbidden || res.Code != "access_denied" || res.Description == "" {
			t.Fatalf("CheckKey = %+v, want 403 access_denied", res)
		}
		mustContain(t, "description", res.Description, "https://nowhere.example.com/")
	})

	t.Run("PS256 credential", func(t *testing.T) {
		c, _ := f.addPKJWT(t, "pss-worker", cred{key: 1, alg: "PS256"})
		if _, err := f.tn.AddGrant(c.ID, f.audience, []string{"read:orders"}); err != nil {
			t.Fatal(err)
		}
		if res := tenant.CheckKey(ctx, f.cfg, c.ID, testKey(t, 1), "PS256", f.audience); !res.OK {
			t.Fatalf("CheckKey(PS256) = %+v, want OK", res)
		}
		if res := tenant.CheckKey(ctx, f.cfg, c.ID, testKey(t, 1), "", f.audience); res.OK || res.Status != http.StatusUnauthorized {
			t.Fatalf("CheckKey(default RS256 against PS256 credential) = %+v, want 401", res)
		}
	})

	t.Run("concurrent checks", func(t *testing.T) {
		var wg sync.WaitGroup
		results := make([]tenant.CheckResult, 8)
		for i := range results {
			wg.Go(func() { results[i] = tenant.CheckKey(ctx, f.cfg, f.clientID, testKey(t, 0), "RS256", f.audience) })
		}
		wg.Wait()
		for i, res := range results {
			if !res.OK {
				t.Errorf("check %d: %+v", i, res)
			}
		}
	})

	t.Run("caller's HTTP client untouched", func(t *testing.T) {
		// go-auth0's authentication.New wraps the transport of the client it is given.
		if f.cfg.HTTPClient.Transport != transportBefore {
			t.Errorf("CheckKey replaced the caller's transport with %T", f.cfg.HTTPClient.Transport)
		}
	})

	t.Run("no JWKS fetch", func(t *testing.T) {
		before := f.hits.path("GET /.well-known/jwks.json")
		tenant.CheckKey(ctx, f.cfg, f.clientID, testKey(t, 0), "RS256", f.audience)
		if n := f.hits.path("GET /.well-known/jwks.json") - before; n != 0 {
			t.Errorf("a check fetched the JWKS %d times", n)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		cfg := tenant.Config{Domain: closedDomain(t)}
		res := tenant.CheckKey(ctx, cfg, f.clientID, testKey(t, 0), "RS256", f.audience)
		if res.OK || res.Status != 0 || !errors.Is(res.Err, tenant.ErrUnreachable) {
			t.Fatalf("CheckKey = %+v, want a transport failure matching ErrUnreachable", res)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for name, res := range map[string]tenant.CheckResult{
			"no domain":   tenant.CheckKey(ctx, tenant.Config{}, f.clientID, testKey(t, 0), "RS256", f.audience),
			"no key":      tenant.CheckKey(ctx, f.cfg, f.clientID, nil, "RS256", f.audience),
			"no client":   tenant.CheckKey(ctx, f.cfg, "", testKey(t, 0), "RS256", f.audience),
			"no audience": tenant.CheckKey(ctx, f.cfg, f.clientID, testKey(t, 0), "RS256", ""),
			"bad alg":     tenant.CheckKey(ctx, f.cfg, f.clientID, testKey(t, 0), "HS256", f.audience),
		} {
			if res.OK || res.Err == nil || res.Status != 0 {
				t.Errorf("%s: %+v, want a local error", name, res)
			}
		}
	})
}
