package sandbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProviderBinary writes an executable file named like a provider in a mirror.
func fakeProviderBinary(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// withRegistry points the registry check at a server answering status, or at nothing.
func withRegistry(t *testing.T, status int) {
	t.Helper()
	old := registryVersionsURL
	t.Cleanup(func() { registryVersionsURL = old })
	if status == 0 {
		srv := httptest.NewServer(http.NotFoundHandler())
		registryVersionsURL = srv.URL // closed below: connection refused
		srv.Close()
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	t.Cleanup(srv.Close)
	registryVersionsURL = srv.URL
}

func TestChooseProviderOrder(t *testing.T) {
	explicit := fakeProviderBinary(t, "terraform-provider-auth0_v1.54.1")
	fromEnv := fakeProviderBinary(t, "terraform-provider-auth0_v1.53.0")
	ctx := context.Background()

	t.Setenv(ProviderEnv, fromEnv)
	withRegistry(t, http.StatusOK)
	if p, err := ChooseProvider(ctx, explicit, "/rekey"); err != nil || p.Kind != ProviderReal || p.Version != "1.54.1" || p.Path != explicit {
		t.Fatalf("with --provider: %+v %v", p, err)
	}
	if p, err := ChooseProvider(ctx, "", "/rekey"); err != nil || p.Kind != ProviderReal || p.Version != "1.53.0" {
		t.Fatalf("with %s: %+v %v", ProviderEnv, p, err)
	}
	t.Setenv(ProviderEnv, "")
	if p, err := ChooseProvider(ctx, "", "/rekey"); err != nil || p.Kind != ProviderRegistry {
		t.Fatalf("with the registry reachable: %+v %v", p, err)
	}
	withRegistry(t, 0)
	p, err := ChooseProvider(ctx, "", "/rekey")
	if err != nil || p.Kind != ProviderStandIn || p.Path != "/rekey" || p.Version == "" {
		t.Fatalf("offline: %+v %v", p, err)
	}
	if !strings.Contains(p.String(), "stand-in") || !strings.Contains(p.Label(), p.Version) {
		t.Errorf("descriptions %q / %q", p.String(), p.Label())
	}
}

func TestChooseProviderRefusesBadBinaries(t *testing.T) {
	cases := map[string]string{
		"unversioned name":  fakeProviderBinary(t, "terraform-provider-auth0"),
		"missing":           filepath.Join(t.TempDir(), "terraform-provider-auth0_v1.54.1"),
		"not an executable": filepath.Join(t.TempDir(), "terraform-provider-auth0_v1.54.0"),
	}
	if err := os.WriteFile(cases["not an executable"], nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			if p, err := ChooseProvider(context.Background(), path, "/rekey"); err == nil || !strings.Contains(err.Error(), "--provider") {
				t.Fatalf("ChooseProvider(%s) = %+v, %v; want an error naming --provider", path, p, err)
			}
		})
	}
}
