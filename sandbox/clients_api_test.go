package sandbox_test

// Client properties through go-auth0: what the real auth0 Terraform provider sends for a
// machine-to-machine client is stored and returned as Auth0 returns it, and PATCH merges
// nested objects as Auth0 does.

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/auth0/go-auth0"
	"github.com/auth0/go-auth0/management"
)

// sdkProviderClient is the create body the provider (expand.go) sends for a typical
// machine-to-machine auth0_client.
func sdkProviderClient(name string) *management.Client {
	return &management.Client{
		Name: auth0.String(name), Description: auth0.String("Reads orders"), AppType: auth0.String("non_interactive"),
		GrantTypes: &[]string{"client_credentials"}, TokenEndpointAuthMethod: auth0.String("client_secret_post"),
		Callbacks: &[]string{}, OIDCConformant: auth0.Bool(true), IsFirstParty: auth0.Bool(true),
		CustomLoginPageOn: auth0.Bool(false), OrganizationUsage: auth0.String("deny"),
		ClientMetadata: &map[string]interface{}{"team": "orders", "tier": "1"},
		JWTConfiguration: &management.ClientJWTConfiguration{
			Algorithm: auth0.String("RS256"), LifetimeInSeconds: auth0.Int(3600), SecretEncoded: auth0.Bool(false),
		},
		RefreshToken: &management.ClientRefreshToken{RotationType: auth0.String("non-rotating"), ExpirationType: auth0.String("non-expiring")},
		NativeSocialLogin: &management.ClientNativeSocialLogin{
			Apple: &management.ClientNativeSocialLoginSupportEnabled{Enabled: auth0.Bool(false)},
		},
	}
}

func TestSDKClientCreate(t *testing.T) {
	srv, _ := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	ctx := context.Background()

	t.Run("what the provider sends is returned", func(t *testing.T) {
		sent := sdkProviderClient("orders-worker")
		if err := m.Client.Create(ctx, sent); err != nil {
			t.Fatalf("Create: %v", err)
		}
		got, err := m.Client.Read(ctx, sent.GetClientID())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*management.Client{sent, got} {
			if c.GetDescription() != "Reads orders" || c.GetAppType() != "non_interactive" || c.GetTokenEndpointAuthMethod() != "client_secret_post" ||
				!c.GetOIDCConformant() || c.GetCustomLoginPageOn() || c.GetOrganizationUsage() != "deny" || c.GetClientSecret() == "" {
				t.Errorf("client = %s", c)
			}
			if c.Callbacks == nil || len(*c.Callbacks) != 0 || !slices.Equal(c.GetGrantTypes(), []string{"client_credentials"}) {
				t.Errorf("callbacks %v grant_types %v", c.Callbacks, c.GetGrantTypes())
			}
			if !reflect.DeepEqual(c.GetClientMetadata(), map[string]interface{}{"team": "orders", "tier": "1"}) {
				t.Errorf("client_metadata = %v", c.GetClientMetadata())
			}
			jwt := c.GetJWTConfiguration()
			if jwt.GetAlgorithm() != "RS256" || jwt.GetLifetimeInSeconds() != 3600 || jwt.GetSecretEncoded() {
				t.Errorf("jwt_configuration = %s", jwt)
			}
			if c.GetNativeSocialLogin().GetApple().GetEnabled() || c.GetNativeSocialLogin().Apple == nil {
				t.Errorf("native_social_login = %s", c.GetNativeSocialLogin())
			}
			// Auth0 fills in the refresh token settings the body leaves out.
			rt := c.GetRefreshToken()
			if rt.GetRotationType() != "non-rotating" || rt.Leeway == nil || rt.GetTokenLifetime() != 31557600 || !rt.GetInfiniteTokenLifetime() {
				t.Errorf("refresh_token = %s", rt)
			}
		}
	})

	t.Run("Auth0's defaults", func(t *testing.T) {
		c := &management.Client{Name: auth0.String("bare")}
		if err := m.Client.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.AppType != nil || c.TokenEndpointAuthMethod != nil || c.Description != nil {
			t.Errorf("app_type %s, token_endpoint_auth_method %s, description %s on a bare client",
				sdkStr(c.AppType), sdkStr(c.TokenEndpointAuthMethod), sdkStr(c.Description))
		}
		want := []string{"authorization_code", "implicit", "refresh_token", "client_credentials"}
		if !slices.Equal(c.GetGrantTypes(), want) {
			t.Errorf("grant_types = %v, want %v", c.GetGrantTypes(), want)
		}
		if !c.GetIsFirstParty() || c.GetOIDCConformant() || !c.GetCustomLoginPageOn() || c.GetSSODisabled() || c.GetCrossOriginAuth() {
			t.Errorf("flags = %s", c)
		}
		if jwt := c.GetJWTConfiguration(); jwt.Algorithm != nil || jwt.GetLifetimeInSeconds() != 36000 || jwt.SecretEncoded == nil {
			t.Errorf("jwt_configuration = %s", jwt)
		}
		native := &management.Client{Name: auth0.String("native"), AppType: auth0.String("native")}
		if err := m.Client.Create(ctx, native); err != nil {
			t.Fatal(err)
		}
		if native.GetTokenEndpointAuthMethod() != "none" {
			t.Errorf("native app token_endpoint_auth_method = %q, want none", native.GetTokenEndpointAuthMethod())
		}
	})

	t.Run("refused bodies", func(t *testing.T) {
		tok := sdkAdminToken(t, srv)
		for body, want := range map[string]string{
			`{"app_type":"non_interactive"}`:                  "Missing required property: name",
			`{"name":""}`:                                     "String is too short (0 chars), minimum 1",
			`{"name":"x","client_id":"mine"}`:                 "Additional properties not allowed: client_id",
			`{"name":"x","favourite_colour":"blue"}`:          "Additional properties not allowed: favourite_colour",
			`{"name":"x","jwt_configuration":{"alg":"none"}}`: `No enum match for: "none"`,
			`{"name":"x","grant_types":"client_credentials"}`: "invalid type for grant_types",
		} {
			status, _, resp := sdkDo(t, srv, http.MethodPost, "/api/v2/clients", tok, body)
			env := sdkEnvelope(t, resp, http.StatusBadRequest)
			if msg, _ := env["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, want) {
				t.Errorf("POST %s = %d %q, want 400 containing %q", body, status, msg, want)
			}
		}
	})
}

func TestSDKClientPatchProperties(t *testing.T) {
	srv, _ := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	ctx := context.Background()
	c := sdkProviderClient("patched")
	if err := m.Client.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	id := c.GetClientID()
	path := "/api/v2/clients/" + id
	tok := sdkAdminToken(t, srv)
	patch := func(t *testing.T, body string) map[string]any {
		t.Helper()
		status, _, resp := sdkDo(t, srv, http.MethodPatch, path, tok, body)
		if status != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", body, status, resp)
		}
		return sdkJSONObject(t, resp)
	}
	read := func(t *testing.T) *management.Client {
		t.Helper()
		got, err := m.Client.Read(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	t.Run("description stays changed", func(t *testing.T) {
		if err := m.Client.Update(ctx, id, &management.Client{Description: auth0.String("Reads and writes orders")}); err != nil {
			t.Fatal(err)
		}
		if got := read(t); got.GetDescription() != "Reads and writes orders" || got.GetName() != "patched" {
			t.Errorf("after update: description %q name %q", got.GetDescription(), got.GetName())
		}
	})

	t.Run("nested objects merge", func(t *testing.T) {
		patch(t, `{"jwt_configuration":{"lifetime_in_seconds":600},"refresh_token":{"leeway":10}}`)
		got := read(t)
		if jwt := got.GetJWTConfiguration(); jwt.GetAlgorithm() != "RS256" || jwt.GetLifetimeInSeconds() != 600 {
			t.Errorf("jwt_configuration = %s, want alg kept and lifetime 600", jwt)
		}
		if rt := got.GetRefreshToken(); rt.GetLeeway() != 10 || rt.GetRotationType() != "non-rotating" {
			t.Errorf("refresh_token = %s, want leeway 10 and the rest kept", rt)
		}
	})

	t.Run("null removes a property", func(t *testing.T) {
		// The provider removes a client_metadata key by sending it as null.
		patch(t, `{"client_metadata":{"tier":null,"owner":"ops"}}`)
		if got := read(t).GetClientMetadata(); !reflect.DeepEqual(got, map[string]interface{}{"team": "orders", "owner": "ops"}) {
			t.Errorf("client_metadata = %v", got)
		}
		obj := patch(t, `{"description":null,"organization_usage":null}`)
		if _, ok := obj["description"]; ok {
			t.Errorf("description still returned: %v", obj["description"])
		}
		if got := read(t); got.Description != nil || got.OrganizationUsage != nil {
			t.Errorf("description %s organization_usage %s after null", sdkStr(got.Description), sdkStr(got.OrganizationUsage))
		}
	})

	t.Run("top-level values replace", func(t *testing.T) {
		patch(t, `{"callbacks":["https://a.example.com/cb"],"grant_types":["client_credentials","refresh_token"]}`)
		patch(t, `{"callbacks":["https://b.example.com/cb"]}`)
		got := read(t)
		if !slices.Equal(got.GetCallbacks(), []string{"https://b.example.com/cb"}) {
			t.Errorf("callbacks = %v", got.GetCallbacks())
		}
		if !slices.Equal(got.GetGrantTypes(), []string{"client_credentials", "refresh_token"}) {
			t.Errorf("grant_types = %v", got.GetGrantTypes())
		}
	})

	t.Run("what the credentials resource sends on delete", func(t *testing.T) {
		obj := patch(t, `{"client_authentication_methods":null,"signed_request_object":null,"token_endpoint_auth_method":"client_secret_post"}`)
		if obj["token_endpoint_auth_method"] != "client_secret_post" || obj["client_secret"] == nil {
			t.Errorf("after revert: %v", obj)
		}
	})

	t.Run("unknown property", func(t *testing.T) {
		status, _, resp := sdkDo(t, srv, http.MethodPatch, path, tok, `{"description":"x","signing_keys":[]}`)
		env := sdkEnvelope(t, resp, http.StatusBadRequest)
		if status != http.StatusBadRequest || env["message"] != "Payload validation error: 'Additional properties not allowed: signing_keys'." || env["errorCode"] != "invalid_body" {
			t.Errorf("PATCH signing_keys = %d %v", status, env)
		}
		if got := read(t); got.Description != nil {
			t.Errorf("a refused PATCH changed description to %q", got.GetDescription())
		}
	})
}

func TestSDKClientDelete(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	ctx := context.Background()
	app := sdkNewM2M(t, srv, 0)
	if err := m.Client.Delete(ctx, app.Client.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := m.Client.Read(ctx, app.Client.ID)
	sdkMgmtError(t, err, http.StatusNotFound, "The client does not exist")
	if g := tn.Grants(app.Client.ID, ""); len(g) != 0 {
		t.Errorf("grants of a deleted client remain: %+v", g)
	}
	sdkMgmtError(t, m.Client.Delete(ctx, app.Client.ID), http.StatusNotFound, "The client does not exist")
}
