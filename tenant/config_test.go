package tenant_test

import (
	"strings"
	"testing"

	"rekey/tenant"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"AUTH0_DOMAIN": " https://example.eu.auth0.com/ ", "AUTH0_CLIENT_ID": "cid",
		"AUTH0_CLIENT_SECRET": "sec", "AUTH0_API_TOKEN": "", "UNRELATED": "x",
	}
	cfg := tenant.ConfigFromEnv(func(k string) string { return env[k] })
	want := tenant.Config{Domain: "example.eu.auth0.com", ClientID: "cid", ClientSecret: "sec"}
	if cfg != want {
		t.Errorf("ConfigFromEnv = %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestConfigFromEnvNormalisesTheDomain: the domain comes back as the host (or host:port) that
// both rekey and the auth0 provider take, whatever scheme, slashes or space surround it.
func TestConfigFromEnvNormalisesTheDomain(t *testing.T) {
	for in, want := range map[string]string{
		"t.auth0.com":                "t.auth0.com",
		"t.auth0.com/":               "t.auth0.com",
		"t.auth0.com//":              "t.auth0.com",
		"https://t.auth0.com":        "t.auth0.com",
		"HTTPS://t.auth0.com/":       "t.auth0.com",
		" https://127.0.0.1:8443/\n": "127.0.0.1:8443",
		"http://t.auth0.com/":        "http://t.auth0.com", // refused by Validate, below
	} {
		cfg := tenant.ConfigFromEnv(func(k string) string {
			if k == "AUTH0_DOMAIN" {
				return strings.ReplaceAll(in, "\\n", "\n")
			}
			return ""
		})
		if cfg.Domain != want {
			t.Errorf("AUTH0_DOMAIN %q: Domain %q, want %q", in, cfg.Domain, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  tenant.Config
		want []string // parts of the error; nil for valid
	}{
		{"secret", tenant.Config{Domain: "t.auth0.com", ClientID: "a", ClientSecret: "b"}, nil},
		{"token", tenant.Config{Domain: "127.0.0.1:8443", APIToken: "tok"}, nil},
		{"token wins over a half pair", tenant.Config{Domain: "t.auth0.com", ClientID: "a", APIToken: "tok"}, nil},
		{"scheme and slash", tenant.Config{Domain: "https://t.auth0.com/", APIToken: "tok"}, nil},
		{"empty domain", tenant.Config{ClientID: "a", ClientSecret: "b"}, []string{"AUTH0_DOMAIN", "not set"}},
		{"blank domain", tenant.Config{Domain: " https:// ", ClientID: "a", ClientSecret: "b"}, []string{"AUTH0_DOMAIN"}},
		{"domain with a path", tenant.Config{Domain: "t.auth0.com/api/v2", APIToken: "tok"}, []string{"AUTH0_DOMAIN", "t.auth0.com/api/v2"}},
		{"http scheme", tenant.Config{Domain: "http://t.auth0.com/", APIToken: "tok"}, []string{"AUTH0_DOMAIN", "http://t.auth0.com/", "https only", "host alone"}},
		{"other scheme", tenant.Config{Domain: "ftp://t.auth0.com", APIToken: "tok"}, []string{"AUTH0_DOMAIN", "https only"}},
		{"user info", tenant.Config{Domain: "me@t.auth0.com", APIToken: "tok"}, []string{"AUTH0_DOMAIN", "me@t.auth0.com"}},
		{"missing secret", tenant.Config{Domain: "t.auth0.com", ClientID: "a"}, []string{"AUTH0_CLIENT_SECRET", "AUTH0_API_TOKEN"}},
		{"missing id", tenant.Config{Domain: "t.auth0.com", ClientSecret: "b"}, []string{"AUTH0_CLIENT_ID"}},
		{"no credentials", tenant.Config{Domain: "t.auth0.com"}, []string{"AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_API_TOKEN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			_, connErr := tenant.Connect(tc.cfg)
			if tc.want == nil {
				if err != nil || connErr != nil {
					t.Fatalf("Validate = %v, Connect = %v; want both nil", err, connErr)
				}
				return
			}
			if err == nil || connErr == nil {
				t.Fatalf("Validate = %v, Connect = %v; want errors", err, connErr)
			}
			for _, p := range tc.want {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not mention %q", err, p)
				}
			}
			if tc.cfg.ClientSecret != "" && strings.Contains(err.Error(), tc.cfg.ClientSecret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}
