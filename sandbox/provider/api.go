package provider

import (
	"context"
	"errors"
	"net/http"

	"github.com/auth0/go-auth0/management"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"golang.org/x/oauth2"
)

// providerConfig is the provider block; every argument falls back to an environment variable.
type providerConfig struct {
	Domain       types.String `tfsdk:"domain"`
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
	APIToken     types.String `tfsdk:"api_token"`
	Audience     types.String `tfsdk:"audience"`
}

func providerSchema() schema.Schema {
	return schema.Schema{
		Description: "Sandbox stand-in for the Auth0 provider: auth0_client and auth0_client_credentials.",
		Attributes: map[string]schema.Attribute{
			"domain":        schema.StringAttribute{Optional: true, Description: "Your Auth0 domain name. It can also be sourced from the AUTH0_DOMAIN environment variable."},
			"client_id":     schema.StringAttribute{Optional: true, Description: "Your Auth0 client ID. It can also be sourced from the AUTH0_CLIENT_ID environment variable."},
			"client_secret": schema.StringAttribute{Optional: true, Sensitive: true, Description: "Your Auth0 client secret. It can also be sourced from the AUTH0_CLIENT_SECRET environment variable."},
			"api_token":     schema.StringAttribute{Optional: true, Sensitive: true, Description: "Your Auth0 management API access token. It can also be sourced from the AUTH0_API_TOKEN environment variable."},
			"audience":      schema.StringAttribute{Optional: true, Description: "Your Auth0 audience when using a custom domain. It can also be sourced from the AUTH0_AUDIENCE environment variable."},
		},
	}
}

// settings are the resolved provider arguments.
type settings struct {
	domain, clientID, clientSecret, apiToken, audience string
}

// resolve fills unset arguments from the environment and checks them as the real provider
// does: a domain, and either an API token or a client id with its secret.
func (c providerConfig) resolve(getenv func(string) string) (settings, diag.Diagnostics) {
	pick := func(v types.String, env string) string {
		if s := v.ValueString(); s != "" {
			return s
		}
		return getenv(env)
	}
	s := settings{
		domain:       pick(c.Domain, "AUTH0_DOMAIN"),
		clientID:     pick(c.ClientID, "AUTH0_CLIENT_ID"),
		clientSecret: pick(c.ClientSecret, "AUTH0_CLIENT_SECRET"),
		apiToken:     pick(c.APIToken, "AUTH0_API_TOKEN"),
		audience:     pick(c.Audience, "AUTH0_AUDIENCE"),
	}
	var diags diag.Diagnostics
	missingDomain := func(vars string) {
		diags.AddError("Missing required configuration", "The 'AUTH0_DOMAIN' must be specified along with "+vars+".")
	}
	switch {
	case s.apiToken != "":
		if s.domain == "" {
			missingDomain("'AUTH0_API_TOKEN'")
		}
	case s.clientID != "":
		if s.clientSecret == "" {
			diags.AddError("Missing required configuration", "When 'AUTH0_CLIENT_ID' is provided, 'AUTH0_CLIENT_SECRET' must also be specified.")
		} else if s.domain == "" {
			missingDomain("'AUTH0_CLIENT_ID' and 'AUTH0_CLIENT_SECRET'")
		}
	default:
		diags.AddError("Missing environment variables",
			"AUTH0_DOMAIN is required. Then, configure either AUTH0_API_TOKEN, or AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET.")
	}
	return s, diags
}

// newManagement builds a go-auth0 client whose API calls and token requests both go through
// transport (the provider passes a retrying transport over http.DefaultTransport, whose trust
// comes from the system roots: SSL_CERT_FILE for the sandbox). The token source gets a
// background context because it outlives Configure's request.
func newManagement(s settings, transport http.RoundTripper) (*management.Management, error) {
	httpClient := &http.Client{Transport: transport}
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, httpClient)
	auth := management.WithClientCredentials(tokenCtx, s.clientID, s.clientSecret)
	switch {
	case s.apiToken != "":
		auth = management.WithStaticToken(s.apiToken)
	case s.audience != "":
		auth = management.WithClientCredentialsAndAudience(tokenCtx, s.clientID, s.clientSecret, s.audience)
	}
	return management.New(s.domain, auth, management.WithClient(httpClient), management.WithNoRetries())
}

// isNotFound reports whether err is a Management API 404.
func isNotFound(err error) bool {
	var mErr management.Error
	return errors.As(err, &mErr) && mErr.Status() == http.StatusNotFound
}
