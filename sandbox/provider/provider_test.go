package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestVersionFromExecutable(t *testing.T) {
	tests := map[string]string{
		"/w/.terraform/providers/registry.terraform.io/auth0/auth0/1.46.0/linux_amd64/terraform-provider-auth0_v1.46.0": "1.46.0",
		"terraform-provider-auth0_v1.55.0":                       "1.55.0",
		"/tmp/mirror/1.52.3/terraform-provider-auth0_v1.52.3_x5": "1.52.3",
		"/tmp/go-build123/b001/exe/rekey":                        DefaultVersion,
		"/usr/local/bin/rekey_v1.2":                              DefaultVersion,
	}
	for path, want := range tests {
		if got := versionFromExecutable(path); got != want {
			t.Errorf("versionFromExecutable(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestReplacesCredentials(t *testing.T) {
	tests := map[string]bool{
		"0.48.0": true, "1.41.0": true, "1.46.0": true, "1.46.9": true,
		"1.47.0": false, "1.52.0": false, "1.55.0": false, "1.100.0": false, "2.0.0": false,
	}
	for version, want := range tests {
		if got := replacesCredentials(version); got != want {
			t.Errorf("replacesCredentials(%q) = %v, want %v", version, got, want)
		}
	}
}

func TestResolveConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name        string
		cfg         providerConfig
		getenv      func(string) string
		want        settings
		wantSummary string
		wantDetail  string
	}{
		{
			name:   "environment",
			getenv: env("AUTH0_DOMAIN", "t.example", "AUTH0_CLIENT_ID", "id", "AUTH0_CLIENT_SECRET", "s", "AUTH0_AUDIENCE", "aud"),
			want:   settings{domain: "t.example", clientID: "id", clientSecret: "s", audience: "aud"},
		},
		{
			name:   "arguments win over the environment",
			cfg:    providerConfig{Domain: types.StringValue("arg.example"), APIToken: types.StringValue("tok")},
			getenv: env("AUTH0_DOMAIN", "env.example", "AUTH0_API_TOKEN", "envtok"),
			want:   settings{domain: "arg.example", apiToken: "tok"},
		},
		{name: "nothing", getenv: env(), wantSummary: "Missing environment variables", wantDetail: "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET"},
		{name: "domain only", getenv: env("AUTH0_DOMAIN", "t.example"), wantSummary: "Missing environment variables", wantDetail: "AUTH0_DOMAIN is required"},
		{name: "secret missing", getenv: env("AUTH0_DOMAIN", "t.example", "AUTH0_CLIENT_ID", "id"), wantSummary: "Missing required configuration", wantDetail: "'AUTH0_CLIENT_SECRET' must also be specified"},
		{name: "domain missing", getenv: env("AUTH0_CLIENT_ID", "id", "AUTH0_CLIENT_SECRET", "s"), wantSummary: "Missing required configuration", wantDetail: "'AUTH0_DOMAIN' must be specified"},
		{name: "token without domain", getenv: env("AUTH0_API_TOKEN", "tok"), wantSummary: "Missing required configuration", wantDetail: "'AUTH0_API_TOKEN'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := tt.cfg.resolve(tt.getenv)
			if tt.wantSummary == "" {
				if diags.HasError() {
					t.Fatalf("resolve: %v", diags)
				}
				if got != tt.want {
					t.Errorf("resolve = %+v, want %+v", got, tt.want)
				}
				return
			}
			if len(diags) != 1 || diags[0].Summary() != tt.wantSummary || !strings.Contains(diags[0].Detail(), tt.wantDetail) {
				t.Errorf("diagnostics = %v, want %q mentioning %q", diags, tt.wantSummary, tt.wantDetail)
			}
		})
	}
}
