package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"rekey/tfrunner"
)

// ProviderKind says where the sandbox workspace's auth0 provider comes from.
type ProviderKind string

// Where the provider comes from, in the order rekey prefers them.
const (
	ProviderReal     ProviderKind = "real"     // a terraform-provider-auth0 binary, installed through a filesystem mirror
	ProviderRegistry ProviderKind = "registry" // Terraform's own install from the public registry
	ProviderStandIn  ProviderKind = "stand-in" // rekey's stand-in, served by the rekey binary itself
)

// ProviderEnv names the variable that points at a real terraform-provider-auth0 binary.
const ProviderEnv = "REKEY_AUTH0_PROVIDER"

// Provider is the auth0 Terraform provider the sandbox's workspace runs.
type Provider struct {
	Kind    ProviderKind `json:"kind"`
	Version string       `json:"version,omitempty"` // for the registry, known after terraform init
	Path    string       `json:"path,omitempty"`    // the executable; empty for the registry
}

// String names the provider for the ready line and the wizard's header.
func (p Provider) String() string {
	v := p.Version
	if v == "" {
		v = "latest"
	}
	switch p.Kind {
	case ProviderReal:
		return fmt.Sprintf("auth0 provider %s (real, %s)", v, p.Path)
	case ProviderRegistry:
		return fmt.Sprintf("auth0 provider %s (real, from the registry)", v)
	}
	return fmt.Sprintf("auth0 provider %s (rekey's stand-in)", v)
}

// Label is a short name for a header: "auth0 1.54.1 (real)".
func (p Provider) Label() string {
	kind := string(p.Kind)
	if p.Kind == ProviderRegistry {
		kind = "real"
	}
	return fmt.Sprintf("auth0 %s (%s)", p.Version, kind)
}

// providerBinaryName is how Terraform names a provider executable in a mirror; the version
// comes from it.
var providerBinaryName = regexp.MustCompile(`^terraform-provider-auth0_v(\d+\.\d+\.\d+)$`)

// registryVersionsURL answers when the public registry is reachable (a variable: tests point
// it at a local server).
var registryVersionsURL = "https://registry.terraform.io/v1/providers/auth0/auth0/versions"

// ChooseProvider picks the auth0 provider for the sandbox's workspace: explicit (--provider
// PATH), else $REKEY_AUTH0_PROVIDER, else the public registry when it answers, else the
// stand-in served by standIn (the rekey executable).
func ChooseProvider(ctx context.Context, explicit, standIn string) (Provider, error) {
	for _, path := range []struct{ value, from string }{{explicit, "--provider"}, {os.Getenv(ProviderEnv), ProviderEnv}} {
		if path.value != "" {
			p, err := RealProvider(path.value)
			if err != nil {
				return Provider{}, fmt.Errorf("%s: %w", path.from, err)
			}
			return p, nil
		}
	}
	if registryReachable(ctx) {
		return Provider{Kind: ProviderRegistry}, nil
	}
	return Provider{Kind: ProviderStandIn, Version: tfrunner.StandInProviderVersion, Path: standIn}, nil
}

// RealProvider describes the provider binary at path, whose name gives its version.
func RealProvider(path string) (Provider, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Provider{}, err
	}
	m := providerBinaryName.FindStringSubmatch(filepath.Base(abs))
	if m == nil {
		return Provider{}, fmt.Errorf("%s: name the provider binary terraform-provider-auth0_vX.Y.Z (its version), as Terraform names it", path)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return Provider{}, fmt.Errorf("auth0 provider binary: %w", err)
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return Provider{}, fmt.Errorf("auth0 provider binary %s is not an executable file", path)
	}
	return Provider{Kind: ProviderReal, Version: m[1], Path: abs}, nil
}

// registryReachable reports whether the public Terraform registry answers within a few seconds.
func registryReachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, registryVersionsURL, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
