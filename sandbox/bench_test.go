package sandbox

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auth0/go-auth0/management"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"rekey/keys"
)

// benchServer starts a server on an empty tenant.
func benchServer(b *testing.B) (*Tenant, *Server) {
	b.Helper()
	tenant, err := NewTenant(DefaultPoolCap)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := Start(Options{Tenant: tenant})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return tenant, srv
}

// benchSandbox starts a server with one machine-to-machine client whose key is attached, and
// returns the server, the client id, its audience and its private key.
func benchSandbox(b *testing.B) (*Server, string, string, *rsa.PrivateKey) {
	b.Helper()
	tenant, srv := benchServer(b)
	key, err := keys.Generate(keys.MinBits)
	if err != nil {
		b.Fatal(err)
	}
	const audience = "https://bench.api.example.com/"
	tenant.AddAPI(audience, "bench")
	c := tenant.AddClient("bench", "non_interactive", []string{"client_credentials"})
	if _, err := tenant.AddGrant(c.ID, audience, []string{"read:bench"}); err != nil {
		b.Fatal(err)
	}
	pub, _ := keys.PublicPEM(&key.PublicKey)
	cr, err := tenant.CreateCredential(c.ID, NewCredential{PEM: string(pub)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tenant.UpdateClient(c.ID, ClientPatch{TokenEndpointAuthMethodSet: true, AuthMethodsSet: true, PrivateKeyJWT: &[]string{cr.ID}}); err != nil {
		b.Fatal(err)
	}
	return srv, c.ID, audience, key
}

// BenchmarkTokenExchange measures private_key_jwt token exchanges the sandbox verifies per
// second over keep-alive HTTPS. Assertions are signed before the timer starts: signing is the
// caller's cost, not the tenant's.
func BenchmarkTokenExchange(b *testing.B) {
	srv, clientID, audience, key := benchSandbox(b)
	forms := presignAssertions(b, srv.Domain(), clientID, audience, key, b.N)
	client := srv.HTTPClient()
	endpoint := "https://" + srv.Domain() + "/oauth/token"
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			form := forms[next.Add(1)-1]
			resp, err := client.Post(endpoint, "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("token exchange: %s", resp.Status)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "assertions/s")
}

// presignAssertions builds n token-request bodies with distinct, signed assertions.
func presignAssertions(b *testing.B, domain, clientID, audience string, key *rsa.PrivateKey, n int) []string {
	b.Helper()
	forms := make([]string, n)
	now := time.Now()
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				claims := jwt.MapClaims{
					"iss": clientID, "sub": clientID, "aud": []string{"https://" + domain + "/"},
					"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": fmt.Sprintf("bench-%d", i),
				}
				assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
				if err != nil {
					b.Error(err)
					return
				}
				forms[i] = url.Values{
					"grant_type": {"client_credentials"}, "audience": {audience},
					"client_assertion_type": {assertionType}, "client_assertion": {assertion},
				}.Encode()
			}
		})
	}
	wg.Wait()
	return forms
}

// BenchmarkListClients10k measures paging through 10,000 clients with go-auth0, 100 a page.
func BenchmarkListClients10k(b *testing.B) {
	tenant, srv := benchServer(b)
	for i := range 10000 {
		tenant.AddClient(fmt.Sprintf("service-%05d", i), "non_interactive", []string{"client_credentials"})
	}
	mgmt := tenant.AddClient(ManagementClientName, "non_interactive", []string{"client_credentials"})
	if _, err := tenant.AddGrant(mgmt.ID, srv.ManagementAudience(), managementScopes); err != nil {
		b.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.HTTPClient())
	api, err := management.New(srv.Domain(), management.WithClientCredentials(ctx, mgmt.ID, mgmt.Secret), management.WithClient(srv.HTTPClient()))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		seen := 0
		for page := 0; ; page++ {
			list, err := api.Client.List(ctx, management.Page(page), management.PerPage(100))
			if err != nil {
				b.Fatal(err)
			}
			seen += len(list.Clients)
			if !list.HasNext() {
				break
			}
		}
		if seen != 10001 {
			b.Fatalf("listed %d clients, want 10001", seen)
		}
	}
}
