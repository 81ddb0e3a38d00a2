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
	want := tenant.Config{Domain: "https://example.eu.auth0.com/", ClientID: "cid", ClientSecret: "sec"}
	if cfg != want {
		t.Errorf("ConfigFromEnv = %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
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
