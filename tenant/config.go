// Package tenant is rekey's only way to read Auth0: it lists clients with their Private Key
// JWT credentials and client grants through the Management API (go-auth0), and checks that a
// private key can exchange a client assertion for an access token.
//
// Private keys and access tokens never leave this package: keys are encoded in memory only to
// sign assertions, and a token check keeps the decoded claims, never the token.
package tenant

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Config holds how to reach the Management API, with the Terraform provider's variables.
type Config struct {
	Domain       string       // AUTH0_DOMAIN: host or host:port (an https:// scheme and trailing slashes are ignored)
	ClientID     string       // AUTH0_CLIENT_ID
	ClientSecret string       // AUTH0_CLIENT_SECRET
	APIToken     string       // AUTH0_API_TOKEN (used when set)
	HTTPClient   *http.Client // optional: e.g. one that trusts a sandbox CA; nil = http.DefaultClient semantics
}

// ConfigFromEnv reads the Auth0 Terraform provider's environment variables through getenv. The
// domain comes back normalised (see Domain), as Terraform must be given it too.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		Domain:       normalizeDomain(getenv("AUTH0_DOMAIN")),
		ClientID:     strings.TrimSpace(getenv("AUTH0_CLIENT_ID")),
		ClientSecret: strings.TrimSpace(getenv("AUTH0_CLIENT_SECRET")),
		APIToken:     strings.TrimSpace(getenv("AUTH0_API_TOKEN")),
	}
}

// Validate reports a missing or malformed setting, naming the variable to set.
func (c Config) Validate() error {
	host := c.host()
	if host == "" {
		return errors.New("AUTH0_DOMAIN is not set: rekey needs the tenant's domain (e.g. your-tenant.eu.auth0.com)")
	}
	if strings.Contains(host, "://") {
		return fmt.Errorf("AUTH0_DOMAIN %q: rekey and the auth0 provider reach Auth0 over https only; set the host alone (e.g. your-tenant.eu.auth0.com)", c.Domain)
	}
	if err := checkHost(host); err != nil {
		return err
	}
	switch {
	case c.APIToken != "":
		return nil
	case c.ClientID == "" && c.ClientSecret == "":
		return errors.New("no Management API credentials: set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (a machine-to-machine client granted read:clients read:client_credentials read:client_grants), or AUTH0_API_TOKEN")
	case c.ClientSecret == "":
		return errors.New("AUTH0_CLIENT_SECRET is not set: it is needed with AUTH0_CLIENT_ID (or set AUTH0_API_TOKEN instead)")
	case c.ClientID == "":
		return errors.New("AUTH0_CLIENT_ID is not set: it is needed with AUTH0_CLIENT_SECRET (or set AUTH0_API_TOKEN instead)")
	}
	return nil
}

// host is the domain as go-auth0 and the auth0 provider take it.
func (c Config) host() string { return normalizeDomain(c.Domain) }

// normalizeDomain strips an AUTH0_DOMAIN of surrounding space, an https:// scheme and trailing
// slashes, leaving host or host:port; anything else is left for Validate to refuse.
func normalizeDomain(d string) string {
	d = strings.TrimSpace(d)
	const scheme = "https://"
	if len(d) >= len(scheme) && strings.EqualFold(d[:len(scheme)], scheme) {
		d = d[len(scheme):]
	}
	return strings.TrimRight(d, "/")
}

// checkHost accepts host or host:port and nothing else (no path, query or user info).
func checkHost(host string) error {
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.Hostname() == "" || u.User != nil {
		return fmt.Errorf("AUTH0_DOMAIN %q is not a host name or host:port (e.g. your-tenant.eu.auth0.com)", host)
	}
	return nil
}
