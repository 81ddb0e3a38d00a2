package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"rekey/sandbox"
	"rekey/tenant"
)

// TestClients lists a tenant of 256 clients (three pages) and checks every client against the
// sandbox's own state: names, types, auth methods, credential pools, attachment and expiry.
func TestClients(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alpha, alphaCreds := f.addPKJWT(t, "alpha-two-attached",
		cred{key: 0, name: "current", expires: 30 * 24 * time.Hour},
		cred{key: 1, name: "next", expires: 10 * 24 * time.Hour})
	for i := range 250 {
		f.tn.AddClient(fmt.Sprintf("svc-%03d", i), "non_interactive", []string{"client_credentials"})
	}
	native := f.tn.AddClient("native-app", "native", []string{"authorization_code"})
	beta, betaCreds := f.addPKJWT(t, "beta-one-detached",
		cred{key: 1, name: "old", expires: 5 * 24 * time.Hour, detach: true},
		cred{key: 0, name: "live"})
	gamma, _ := f.addPKJWT(t, "gamma-none-attached", cred{key: 0, detach: true})
	delta, deltaCreds := f.addPKJWT(t, "delta-rs384", cred{key: 1, name: "primary", alg: "RS384"})

	got, err := f.connect(t).Clients(ctx)
	if err != nil {
		t.Fatalf("Clients: %v", err)
	}
	if len(got) != f.tn.ClientCount() || len(got) != 256 {
		t.Fatalf("Clients returned %d, the tenant has %d (want 256)", len(got), f.tn.ClientCount())
	}
	if !slices.IsSorted(names(got)) {
		t.Errorf("clients are not sorted by name: %v…", names(got)[:10])
	}
	byID := map[string]tenant.Client{}
	for _, c := range got {
		if _, dup := byID[c.ID]; dup {
			t.Errorf("client %s listed twice", c.ID)
		}
		byID[c.ID] = c
	}

	// Every client agrees with the tenant's state.
	for _, c := range got {
		want, err := f.tn.Client(c.ID)
		if err != nil {
			t.Fatalf("listed client %s is not in the tenant", c.ID)
		}
		if c.Name != want.Name || c.AppType != want.AppType || c.JWTAlg != want.JWTAlg || !slices.Equal(c.GrantTypes, want.GrantTypes) {
			t.Errorf("client %s = %+v, tenant has name %q app_type %q alg %q grants %v", c.ID, c, want.Name, want.AppType, want.JWTAlg, want.GrantTypes)
		}
		if want.PrivateKeyJWT == nil {
			if c.AuthMethod != *want.TokenEndpointAuthMethod || c.Credentials != nil {
				t.Errorf("client %s: auth method %q credentials %v; want %q and nil", c.Name, c.AuthMethod, c.Credentials, *want.TokenEndpointAuthMethod)
			}
			continue
		}
		if c.AuthMethod != "private_key_jwt" || c.Credentials == nil {
			t.Errorf("client %s: auth method %q credentials %v, want private_key_jwt and a (possibly empty) pool", c.Name, c.AuthMethod, c.Credentials)
		}
		if len(c.Credentials) != len(want.Credentials) {
			t.Errorf("client %s: %d credentials, pool has %d", c.Name, len(c.Credentials), len(want.Credentials))
		}
		for _, cr := range c.Credentials {
			w, err := f.tn.Credential(c.ID, cr.ID)
			if err != nil {
				t.Fatalf("credential %s of %s not in the tenant", cr.ID, c.Name)
			}
			if cr.KID != w.KID || cr.Alg != w.Alg || cr.Name != w.Name || cr.Type != "public_key" ||
				!cr.CreatedAt.Equal(w.CreatedAt) || !cr.UpdatedAt.Equal(w.UpdatedAt) ||
				(cr.ExpiresAt == nil) != (w.ExpiresAt == nil) || (cr.ExpiresAt != nil && !cr.ExpiresAt.Equal(*w.ExpiresAt)) ||
				cr.Attached != slices.Contains(*want.PrivateKeyJWT, cr.ID) {
				t.Errorf("credential %s of %s = %+v, tenant has %+v attached=%v", cr.ID, c.Name, cr, w, slices.Contains(*want.PrivateKeyJWT, cr.ID))
			}
		}
	}

	t.Run("two attached, soonest expiry", func(t *testing.T) {
		c := byID[alpha.ID]
		att := c.Attached()
		if len(att) != 2 || att[0].ID != alphaCreds[0].ID || att[1].ID != alphaCreds[1].ID {
			t.Fatalf("attached = %+v, want %s then %s", att, alphaCreds[0].ID, alphaCreds[1].ID)
		}
		exp, ok := c.SoonestExpiry()
		if !ok || !exp.Equal(*alphaCreds[1].ExpiresAt) {
			t.Errorf("SoonestExpiry = %v %v, want %v (the 10-day one)", exp, ok, alphaCreds[1].ExpiresAt)
		}
	})
	t.Run("attached first; a detached expiry does not count", func(t *testing.T) {
		c := byID[beta.ID]
		if len(c.Credentials) != 2 || c.Credentials[0].ID != betaCreds[1].ID || !c.Credentials[0].Attached ||
			c.Credentials[1].ID != betaCreds[0].ID || c.Credentials[1].Attached {
			t.Fatalf("credentials = %+v, want attached %s first, then detached %s", c.Credentials, betaCreds[1].ID, betaCreds[0].ID)
		}
		if exp, ok := c.SoonestExpiry(); ok {
			t.Errorf("SoonestExpiry = %v, want none: only the detached credential expires", exp)
		}
	})
	t.Run("private_key_jwt with nothing attached", func(t *testing.T) {
		c := byID[gamma.ID]
		if c.AuthMethod != "private_key_jwt" || len(c.Credentials) != 1 || len(c.Attached()) != 0 {
			t.Errorf("gamma = %+v, want private_key_jwt with one detached credential", c)
		}
	})
	t.Run("algorithm and name", func(t *testing.T) {
		c := byID[delta.ID]
		if len(c.Credentials) != 1 || c.Credentials[0].Alg != "RS384" || c.Credentials[0].Name != "primary" || c.Credentials[0].KID != deltaCreds[0].KID {
			t.Errorf("delta credentials = %+v", c.Credentials)
		}
	})
	t.Run("other auth methods", func(t *testing.T) {
		if c := byID[native.ID]; c.AuthMethod != "none" || c.Credentials != nil {
			t.Errorf("native app = %+v, want auth method none and no credentials", c)
		}
		if c := byID[f.mgmt.ID]; c.AuthMethod != "client_secret_post" || c.Credentials != nil || c.JWTAlg != "RS256" {
			t.Errorf("management client = %+v, want client_secret_post, no credentials", c)
		}
	})
	t.Run("credentials fetched for private_key_jwt clients only", func(t *testing.T) {
		n := 0
		for _, c := range got {
			if c.AuthMethod == "private_key_jwt" {
				n++
			}
		}
		total := 0
		for _, c := range got {
			total += f.hits.path("GET /api/v2/clients/" + c.ID + "/credentials")
		}
		if n != 4 || total != 4 {
			t.Errorf("%d private_key_jwt clients, %d credential requests; want 4 and 4", n, total)
		}
		if pages := f.hits.path("GET /api/v2/clients"); pages != 3 {
			t.Errorf("%d list requests for 256 clients, want 3 pages of 100", pages)
		}
	})
}

func TestClientLookup(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	billing, creds := f.addPKJWT(t, "billing-worker", cred{key: 0, name: "k1"})
	f.addPKJWT(t, "reporting-cron", cred{key: 1})
	dup1 := f.tn.AddClient("shared-name", "non_interactive", []string{"client_credentials"})
	dup2 := f.tn.AddClient("shared-name", "non_interactive", []string{"client_credentials"})
	tt := f.connect(t)

	t.Run("by id", func(t *testing.T) {
		c, err := tt.Client(ctx, billing.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != billing.ID || c.Name != "billing-worker" || c.AuthMethod != "private_key_jwt" ||
			len(c.Credentials) != 1 || c.Credentials[0].ID != creds[0].ID || !c.Credentials[0].Attached {
			t.Errorf("Client(id) = %+v", c)
		}
	})
	t.Run("by name", func(t *testing.T) {
		c, err := tt.Client(ctx, "billing-worker")
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != billing.ID || len(c.Credentials) != 1 || c.Credentials[0].KID != creds[0].KID {
			t.Errorf("Client(name) = %+v", c)
		}
	})
	t.Run("by name, secret client", func(t *testing.T) {
		c, err := tt.Client(ctx, sandbox.ManagementClientName)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != f.mgmt.ID || c.AuthMethod != "client_secret_post" || c.Credentials != nil {
			t.Errorf("Client(management) = %+v", c)
		}
	})
	t.Run("unknown, with suggestion", func(t *testing.T) {
		_, err := tt.Client(ctx, "biling-worker")
		var nf *tenant.NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("error = %v (%T), want *NotFoundError", err, err)
		}
		if nf.Query != "biling-worker" || len(nf.Suggestions) == 0 || nf.Suggestions[0] != "billing-worker" {
			t.Errorf("NotFoundError = %+v, want billing-worker suggested first", nf)
		}
		mustContain(t, "error", err.Error(), `"biling-worker"`, `did you mean "billing-worker"`)
	})
	t.Run("unknown, nothing close", func(t *testing.T) {
		_, err := tt.Client(ctx, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
		var nf *tenant.NotFoundError
		if !errors.As(err, &nf) || len(nf.Suggestions) != 0 {
			t.Fatalf("error = %v, want *NotFoundError without suggestions", err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		_, err := tt.Client(ctx, " ")
		var nf *tenant.NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("error = %v, want *NotFoundError", err)
		}
	})
	t.Run("duplicate name", func(t *testing.T) {
		_, err := tt.Client(ctx, "shared-name")
		var amb *tenant.AmbiguousError
		if !errors.As(err, &amb) {
			t.Fatalf("error = %v (%T), want *AmbiguousError", err, err)
		}
		want := []string{dup1.ID, dup2.ID}
		slices.Sort(want)
		if amb.Name != "shared-name" || !slices.Equal(amb.IDs, want) {
			t.Errorf("AmbiguousError = %+v, want ids %v", amb, want)
		}
		mustContain(t, "error", err.Error(), dup1.ID, dup2.ID, "client id")
		// Each of them is still reachable by id.
		if c, err := tt.Client(ctx, dup2.ID); err != nil || c.ID != dup2.ID {
			t.Errorf("Client(%s) = %+v, %v", dup2.ID, c, err)
		}
	})
}

func TestGrants(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	many := f.tn.AddClient("many-apis", "non_interactive", []string{"client_credentials"})
	for i := range 120 {
		aud := fmt.Sprintf("https://api-%03d.example.com/", i)
		f.tn.AddAPI(aud, fmt.Sprintf("API %d", i))
		if _, err := f.tn.AddGrant(many.ID, aud, []string{"read:data", fmt.Sprintf("scope:%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	none := f.tn.AddClient("no-grants", "non_interactive", []string{"client_credentials"})
	tt := f.connect(t)

	grants, err := tt.Grants(ctx, many.ID)
	if err != nil {
		t.Fatalf("Grants: %v", err)
	}
	if len(grants) != 120 {
		t.Fatalf("%d grants, want 120 (two pages)", len(grants))
	}
	for i, g := range grants {
		if want := fmt.Sprintf("https://api-%03d.example.com/", i); g.Audience != want || !slices.Equal(g.Scope, []string{"read:data", fmt.Sprintf("scope:%d", i)}) {
			t.Errorf("grant %d = %+v, want audience %s", i, g, want)
		}
	}
	if got, err := tt.Grants(ctx, none.ID); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Grants(no grants) = %#v, %v; want an empty list", got, err)
	}
	got, err := tt.Grants(ctx, f.mgmt.ID)
	if err != nil || len(got) != 1 || got[0].Audience != f.srv.ManagementAudience() || !slices.Equal(got[0].Scope, readScopes) {
		t.Errorf("Grants(management) = %+v, %v", got, err)
	}
}

// TestUnauthorized: refused credentials and missing scopes come back as ErrUnauthorized with a
// message that says what to check.
func TestUnauthorized(t *testing.T) {
	ctx := context.Background()
	wantHints := []string{"AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_API_TOKEN", "read:clients read:client_credentials read:client_grants"}

	t.Run("wrong secret", func(t *testing.T) {
		f := newFixture(t)
		f.cfg.ClientSecret = "not-the-secret"
		_, err := f.connect(t).Clients(ctx)
		if !errors.Is(err, tenant.ErrUnauthorized) || errors.Is(err, tenant.ErrUnreachable) {
			t.Fatalf("error = %v, want ErrUnauthorized only", err)
		}
		mustContain(t, "error", err.Error(), append(wantHints, "token endpoint", "401")...)
		if strings.Contains(err.Error(), "not-the-secret") {
			t.Errorf("error shows the secret: %v", err)
		}
		// A refused secret is not retried: x/oauth2 tries HTTP Basic, then the form (2 requests);
		// go-auth0's default retries would repeat that three times, seconds apart.
		if n := f.hits.path("POST /oauth/token"); n != 2 {
			t.Errorf("%d token requests, want 2", n)
		}
	})
	t.Run("no grant for the Management API", func(t *testing.T) {
		f := newFixture(t)
		other := f.tn.AddClient("no-grant", "non_interactive", []string{"client_credentials"})
		f.cfg.ClientID, f.cfg.ClientSecret = other.ID, other.Secret
		_, err := f.connect(t).Clients(ctx)
		if !errors.Is(err, tenant.ErrUnauthorized) {
			t.Fatalf("error = %v, want ErrUnauthorized", err)
		}
		mustContain(t, "error", err.Error(), append(wantHints, "403", "client-grant")...)
	})
	t.Run("missing read:client_credentials", func(t *testing.T) {
		f := newFixture(t, "read:clients", "read:client_grants")
		f.addPKJWT(t, "pk-client", cred{key: 0})
		tt := f.connect(t)
		_, err := tt.Clients(ctx)
		if !errors.Is(err, tenant.ErrUnauthorized) {
			t.Fatalf("Clients error = %v, want ErrUnauthorized", err)
		}
		mustContain(t, "error", err.Error(), append(wantHints, "lacks the scope read:client_credentials")...)
		_, err = tt.Client(ctx, "pk-client")
		if !errors.Is(err, tenant.ErrUnauthorized) || !strings.Contains(err.Error(), "read:client_credentials") {
			t.Fatalf("Client error = %v, want ErrUnauthorized naming read:client_credentials", err)
		}
	})
	t.Run("missing read:clients", func(t *testing.T) {
		f := newFixture(t, "read:client_credentials", "read:client_grants")
		_, err := f.connect(t).Clients(ctx)
		if !errors.Is(err, tenant.ErrUnauthorized) {
			t.Fatalf("error = %v, want ErrUnauthorized", err)
		}
		mustContain(t, "error", err.Error(), "lacks the scope read:clients", "403")
	})
	t.Run("missing read:client_grants", func(t *testing.T) {
		f := newFixture(t, "read:clients", "read:client_credentials")
		_, err := f.connect(t).Grants(ctx, f.mgmt.ID)
		if !errors.Is(err, tenant.ErrUnauthorized) {
			t.Fatalf("error = %v, want ErrUnauthorized", err)
		}
		mustContain(t, "error", err.Error(), "lacks the scope read:client_grants")
	})
	t.Run("bad API token", func(t *testing.T) {
		f := newFixture(t)
		f.cfg = tenant.Config{Domain: f.cfg.Domain, APIToken: "not-a-jwt", HTTPClient: f.cfg.HTTPClient}
		_, err := f.connect(t).Clients(ctx)
		if !errors.Is(err, tenant.ErrUnauthorized) {
			t.Fatalf("error = %v, want ErrUnauthorized", err)
		}
		mustContain(t, "error", err.Error(), "401", "AUTH0_API_TOKEN")
	})
}

// managementToken gets a Management API token for the fixture's client, as an operator would
// for AUTH0_API_TOKEN.
func managementToken(t *testing.T, f *fixture) string {
	t.Helper()
	resp, err := f.cfg.HTTPClient.PostForm("https://"+f.srv.Domain()+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {f.mgmt.ID}, "client_secret": {f.mgmt.Secret},
		"audience": {f.srv.ManagementAudience()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("management token: %d %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

func TestAPIToken(t *testing.T) {
	ctx := context.Background()
	t.Run("works", func(t *testing.T) {
		f := newFixture(t)
		pk, _ := f.addPKJWT(t, "pk", cred{key: 0})
		f.cfg = tenant.Config{Domain: "https://" + f.srv.Domain() + "/", APIToken: managementToken(t, f), HTTPClient: f.cfg.HTTPClient}
		before := f.hits.path("POST /oauth/token")
		c, err := f.connect(t).Client(ctx, pk.ID)
		if err != nil || len(c.Attached()) != 1 {
			t.Fatalf("Client with AUTH0_API_TOKEN = %+v, %v", c, err)
		}
		if n := f.hits.path("POST /oauth/token") - before; n != 0 {
			t.Errorf("%d token requests with AUTH0_API_TOKEN set, want none", n)
		}
	})
	t.Run("lacking read:client_credentials", func(t *testing.T) {
		f := newFixture(t, "read:clients", "read:client_grants")
		f.cfg = tenant.Config{Domain: f.srv.Domain(), APIToken: managementToken(t, f), HTTPClient: f.cfg.HTTPClient}
		_, err := f.connect(t).Clients(ctx)
		if !errors.Is(err, tenant.ErrUnauthorized) || !strings.Contains(err.Error(), "lacks the scope read:client_credentials") {
			t.Fatalf("error = %v, want ErrUnauthorized naming read:client_credentials", err)
		}
	})
}

func TestUnreachable(t *testing.T) {
	ctx := context.Background()
	t.Run("closed port", func(t *testing.T) {
		domain := closedDomain(t)
		for _, cfg := range []tenant.Config{
			{Domain: domain, ClientID: "id", ClientSecret: "secret"},
			{Domain: domain, APIToken: "token"},
		} {
			tt, err := tenant.Connect(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tt.Clients(ctx)
			if !errors.Is(err, tenant.ErrUnreachable) || errors.Is(err, tenant.ErrUnauthorized) {
				t.Fatalf("error = %v, want ErrUnreachable", err)
			}
			mustContain(t, "error", err.Error(), domain, "AUTH0_DOMAIN", "network", "SSL_CERT_FILE", "connection refused")
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		f := newFixture(t)
		f.cfg.HTTPClient = nil // system roots: the sandbox CA is not among them
		_, err := f.connect(t).Grants(ctx, f.mgmt.ID)
		if !errors.Is(err, tenant.ErrUnreachable) {
			t.Fatalf("error = %v, want ErrUnreachable", err)
		}
		mustContain(t, "error", err.Error(), f.srv.Domain(), "not trusted", "SSL_CERT_FILE")
	})
	t.Run("plain HTTP server", func(t *testing.T) {
		srv := &http.Server{Handler: http.NotFoundHandler()}
		ln, err := listenLoopback()
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		tt, err := tenant.Connect(tenant.Config{Domain: ln.Addr().String(), APIToken: "x"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tt.Clients(ctx)
		if !errors.Is(err, tenant.ErrUnreachable) {
			t.Fatalf("error = %v, want ErrUnreachable", err)
		}
		mustContain(t, "error", err.Error(), "TLS")
	})
}

// TestRateLimited: with 30% of /api/v2/clients… answered 429, listing still returns exactly
// what it returns without faults.
func TestRateLimited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 250 {
		f.tn.AddClient(fmt.Sprintf("svc-%03d", i), "non_interactive", []string{"client_credentials"})
	}
	for i := range 30 {
		f.addPKJWT(t, fmt.Sprintf("pk-%02d", i), cred{key: i % 2, expires: time.Duration(i+1) * time.Hour})
	}
	tt := f.connect(t)
	want, err := tt.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/clients", RateLimited: 0.3}})
	got, err := tt.Clients(ctx)
	if err != nil {
		t.Fatalf("Clients under 429s: %v", err)
	}
	if n := f.hits.status(http.StatusTooManyRequests); n == 0 {
		t.Fatalf("no 429 was served; the test tests nothing")
	} else {
		t.Logf("%d requests answered 429 and retried", n)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listing under 429s differs from the listing without faults")
	}
}

// TestRateLimitedToken: a 429 from the token endpoint is waited out too (the token request
// goes through the context's HTTP client, which must be rekey's retrying one).
func TestRateLimitedToken(t *testing.T) {
	f := newFixture(t)
	f.srv.SetFaults([]sandbox.Fault{{Path: "/oauth/token", RateLimited: 1}})
	time.AfterFunc(200*time.Millisecond, func() { f.srv.SetFaults(nil) })
	if _, err := f.connect(t).Grants(context.Background(), f.mgmt.ID); err != nil {
		t.Fatalf("Grants after a rate-limited token request: %v", err)
	}
	if n := f.hits.status(http.StatusTooManyRequests); n == 0 {
		t.Fatal("the token endpoint never answered 429; the test tests nothing")
	}
}

func TestCancelled(t *testing.T) {
	f := newFixture(t)
	for i := range 20 {
		f.addPKJWT(t, fmt.Sprintf("pk-%02d", i), cred{key: 0})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.connect(t).Clients(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}
