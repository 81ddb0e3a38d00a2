// Package provider is the sandbox's stand-in for the Terraform provider auth0/auth0: the
// auth0_client and auth0_client_credentials resources of the real provider, implemented with
// go-auth0 against any Auth0-compatible tenant (in practice the sandbox). The rekey binary
// serves it when Terraform launches it as a plugin through the mirror tfrunner.InstallMirror makes.
package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/auth0/go-auth0/management"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"rekey/tfrunner"
)

// DefaultVersion is the provider version served when the executable's name carries none.
const DefaultVersion = tfrunner.StandInProviderVersion

// firstInPlaceVersion is the first real provider release that updates private_key_jwt
// credentials in place (PR #1570); earlier ones replace the whole resource.
const firstInPlaceVersion = "1.47.0"

// versionPattern finds the version in a plugin file name such as terraform-provider-auth0_v1.55.0.
var versionPattern = regexp.MustCompile(`_v(\d+\.\d+\.\d+)`)

// New returns a factory for the provider that behaves like the real auth0/auth0 at version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &auth0Provider{version: version} }
}

// versionFromExecutable reads the version from a plugin path, or returns DefaultVersion.
func versionFromExecutable(path string) string {
	if m := versionPattern.FindStringSubmatch(filepath.Base(path)); m != nil {
		return m[1]
	}
	return DefaultVersion
}

// replacesCredentials reports whether version behaves like provider ≤ 1.46, which replaces
// the whole auth0_client_credentials resource on any private_key_jwt credential change.
func replacesCredentials(version string) bool {
	return compareVersions(version, firstInPlaceVersion) < 0
}

// compareVersions orders two dotted numeric versions.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// auth0Provider is the provider; Configure builds the Management API client its resources use.
type auth0Provider struct {
	version string
}

// Metadata names the provider auth0 and reports its version.
func (p *auth0Provider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "auth0"
	resp.Version = p.version
}

// Schema describes the provider block.
func (p *auth0Provider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerSchema()
}

// Configure builds the Management API client from the provider block and the environment.
func (p *auth0Provider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerConfig
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, diags := cfg.resolve(os.Getenv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	api, err := newManagement(s, newRetryTransport(http.DefaultTransport))
	if err != nil {
		resp.Diagnostics.AddError("Cannot create the Auth0 Management API client", err.Error())
		return
	}
	resp.ResourceData = api
}

// Resources lists auth0_client and auth0_client_credentials.
func (p *auth0Provider) Resources(context.Context) []func() resource.Resource {
	legacy := replacesCredentials(p.version)
	return []func() resource.Resource{
		func() resource.Resource { return &clientResource{} },
		func() resource.Resource { return &credentialsResource{legacy: legacy} },
	}
}

// DataSources lists none: the stand-in has no data sources.
func (p *auth0Provider) DataSources(context.Context) []func() datasource.DataSource { return nil }

// managementFrom returns the client Configure made (nil before then), or reports any other provider data.
func managementFrom(req resource.ConfigureRequest, resp *resource.ConfigureResponse) *management.Management {
	if req.ProviderData == nil {
		return nil
	}
	api, ok := req.ProviderData.(*management.Management)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("%T", req.ProviderData))
	}
	return api
}
