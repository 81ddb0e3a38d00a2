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
func BenchmarkClients10k(b *testing.B) {
	f := newFixture(b)
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
	for b.Loop() {
		clients, err := tt.Clients(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(clients) != 10_001 || clients[1].Name != "service-00000" || len(clients[1].Attached()) != 1 {
			b.Fatalf("listed %d clients (second %+v), want 10001", len(clients), clients[1])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}
