package tenant_test

import (
	"context"
	"fmt"
	"testing"

	"rekey/sandbox"
)

// BenchmarkClients10k lists a tenant of 10,000 clients, half of them private_key_jwt clients
// with one attached credential: 101 pages plus 5,000 credential requests per listing.
//
//	go test ./tenant -run '^$' -bench Clients10k
func BenchmarkClients10k(b *testing.B) { benchmarkClients10k(b, sandbox.RateLimits{}) }

// BenchmarkClients10kRateLimited lists the same tenant under a paid production tenant's rate
// limits (sandbox.DefaultRateLimits): it reports the time against the floor (requests ÷ the
// sustained rate, after the burst) and the 429s the tenant answered. One op takes minutes:
// run it with -benchtime=1x.
func BenchmarkClients10kRateLimited(b *testing.B) { benchmarkClients10k(b, sandbox.DefaultRateLimits) }

func benchmarkClients10k(b *testing.B, limits sandbox.RateLimits) {
	f := newLimitedFixture(b, limits)
	pem := publicPEM(b, testKey(b, 0))
	for i := range 10_000 {
		c := f.tn.AddClient(fmt.Sprintf("service-%05d", i), "non_interactive", []string{"client_credentials"})
		if i%2 == 1 {
			continue
		}
		cr, err := f.tn.CreateCredential(c.ID, sandbox.NewCredential{Name: "current", PEM: pem})
		if err != nil {
			b.Fatal(err)
		}
		ids := []string{cr.ID}
		if _, err := f.tn.UpdateClient(c.ID, sandbox.ClientPatch{TokenEndpointAuthMethodSet: true, AuthMethodsSet: true, PrivateKeyJWT: &ids}); err != nil {
			b.Fatal(err)
		}
	}
	tt := f.connect(b)
	ctx := context.Background()
	before := f.hits.total()
	for b.Loop() {
		clients, err := tt.Clients(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(clients) != 10_001 || clients[1].Name != "service-00000" || len(clients[1].Attached()) != 1 {
			b.Fatalf("listed %d clients (second %+v), want 10001", len(clients), clients[1])
		}
	}
	perOp := float64(b.Elapsed().Milliseconds()) / float64(b.N)
	b.ReportMetric(perOp, "ms/op")
	requests := float64(f.hits.total()-before) / float64(b.N)
	b.ReportMetric(requests, "requests/op")
	b.ReportMetric(float64(f.srv.RateLimited()), "429s")
	if rate := limits.Management.PerSecond; rate > 0 {
		floor := max(requests-float64(limits.Management.Burst), 0) / rate * 1000
		b.ReportMetric(perOp/floor, "x-floor")
	}
}
