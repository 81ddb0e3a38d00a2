package sandbox_test

// Resource servers through go-auth0: create, read by id or identifier, update, list and
// delete as the auth0 Terraform provider does, with Auth0's error bodies; the token endpoint
// sees what the API changed.

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/auth0/go-auth0"
	"github.com/auth0/go-auth0/management"

	"rekey/sandbox"
)

func TestSDKResourceServers(t *testing.T) {
	srv, _ := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	ctx := context.Background()
	const identifier = "https://orders.example.com/api/"
	rs := &management.ResourceServer{
		Name: auth0.String("Orders API"), Identifier: auth0.String(identifier), SigningAlgorithm: auth0.String("RS256"),
		TokenLifetime: auth0.Int(3600), Scopes: &[]management.ResourceServerScope{{Value: auth0.String("read:orders"), Description: auth0.String("Read orders")}},
	}
	if err := m.ResourceServer.Create(ctx, rs); err != nil {
		t.Fatalf("Create: %v", err)
	}
	id := rs.GetID()
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
		t.Errorf("id = %q, want 24 hex digits as Auth0's", id)
	}

	t.Run("read by id and by identifier", func(t *testing.T) {
		for _, key := range []string{id, identifier} {
			got, err := m.ResourceServer.Read(ctx, key)
			if err != nil {
				t.Fatalf("Read(%s): %v", key, err)
			}
			if got.GetID() != id || got.GetName() != "Orders API" || got.GetTokenLifetime() != 3600 || len(got.GetScopes()) != 1 {
				t.Errorf("Read(%s) = %s", key, got)
			}
			// Auth0's defaults for what the body left out.
			if got.GetTokenLifetimeForWeb() != 7200 || got.AllowOfflineAccess == nil || got.GetAllowOfflineAccess() || got.SkipConsentForVerifiableFirstPartyClients == nil {
				t.Errorf("defaults: %s", got)
			}
		}
	})

	t.Run("duplicate identifier", func(t *testing.T) {
		err := m.ResourceServer.Create(ctx, &management.ResourceServer{Name: auth0.String("again"), Identifier: auth0.String(identifier)})
		sdkMgmtError(t, err, http.StatusConflict, "A resource server with the same identifier already exists")
	})

	t.Run("update", func(t *testing.T) {
		if err := m.ResourceServer.Update(ctx, id, &management.ResourceServer{Name: auth0.String("Orders"), TokenLifetime: auth0.Int(600)}); err != nil {
			t.Fatal(err)
		}
		// The provider's auth0_resource_server_scopes patches by identifier.
		if err := m.ResourceServer.Update(ctx, identifier, &management.ResourceServer{Scopes: &[]management.ResourceServerScope{}}); err != nil {
			t.Fatal(err)
		}
		got, err := m.ResourceServer.Read(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetName() != "Orders" || got.GetTokenLifetime() != 600 || got.GetSigningAlgorithm() != "RS256" || got.Scopes == nil || len(*got.Scopes) != 0 {
			t.Errorf("after update: %s", got)
		}
		tok := sdkAdminToken(t, srv)
		status, _, body := sdkDo(t, srv, http.MethodPatch, "/api/v2/resource-servers/"+id, tok, `{"identifier":"https://other.example.com/"}`)
		if env := sdkEnvelope(t, body, http.StatusBadRequest); status != http.StatusBadRequest || env["message"] != "Payload validation error: 'Additional properties not allowed: identifier'." {
			t.Errorf("PATCH identifier = %d %v", status, env)
		}
	})

	t.Run("list", func(t *testing.T) {
		l, err := m.ResourceServer.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, r := range l.ResourceServers {
			found[r.GetIdentifier()] = true
		}
		if !found[identifier] || !found[srv.ManagementAudience()] || l.Total != len(l.ResourceServers) {
			t.Errorf("list = %d of total %d, found %v", len(l.ResourceServers), l.Total, found)
		}
		l, err = m.ResourceServer.List(ctx, management.Parameter("identifiers", identifier))
		if err != nil || len(l.ResourceServers) != 1 || l.ResourceServers[0].GetID() != id {
			t.Errorf("list by identifier = %+v, %v", l, err)
		}
	})

	t.Run("missing identifier", func(t *testing.T) {
		err := m.ResourceServer.Create(ctx, &management.ResourceServer{Name: auth0.String("nameless")})
		sdkMgmtError(t, err, http.StatusBadRequest, "Missing required property: identifier")
	})

	t.Run("delete", func(t *testing.T) {
		if err := m.ResourceServer.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		tok := sdkAdminToken(t, srv)
		for _, key := range []string{id, url.PathEscape(identifier)} {
			status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/resource-servers/"+key, tok, nil)
			env := sdkEnvelope(t, body, http.StatusNotFound)
			if status != http.StatusNotFound || env["message"] != "The resource server does not exist" || env["errorCode"] != "inexistent_resource_server" {
				t.Errorf("GET deleted %s = %d %v", key, status, env)
			}
		}
		sdkMgmtError(t, m.ResourceServer.Delete(ctx, id), http.StatusNotFound, "The resource server does not exist")
	})
}

// TestSDKResourceServerTokens: an API made through the Management API is an audience the token
// endpoint issues tokens for, until it is deleted.
func TestSDKResourceServerTokens(t *testing.T) {
	srv, _ := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	ctx := context.Background()
	app := sdkNewM2M(t, srv, 0)
	const aud = "https://made-by-api.example.com/"
	rs := &management.ResourceServer{Name: auth0.String("made by API"), Identifier: auth0.String(aud)}
	if err := m.ResourceServer.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := m.ClientGrant.Create(ctx, &management.ClientGrant{ClientID: auth0.String(app.Client.ID), Audience: auth0.String(aud), Scope: &[]string{"read:x"}}); err != nil {
		t.Fatal(err)
	}
	a := sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, app.Key))
	ts, err := sdkLogin(a, aud)
	if err != nil {
		t.Fatalf("token for an API made through the Management API: %v", err)
	}
	if ts.Scope != "read:x" {
		t.Errorf("scope = %q, want read:x", ts.Scope)
	}
	if err := m.ResourceServer.Delete(ctx, rs.GetID()); err != nil {
		t.Fatal(err)
	}
	_, err = sdkLogin(a, aud)
	sdkAuthError(t, err, http.StatusForbidden, "access_denied")
}

// TestSDKResourceServerPersistence: resource servers made through the API, and those of a
// tenant saved before they had ids, survive a restart.
func TestSDKResourceServerPersistence(t *testing.T) {
	tn, path := sdkPersistedTenant(t, 2)
	rs, err := tn.CreateResourceServer("https://kept.example.com/", sandbox.ResourceServerPatch{
		Name: auth0.String("kept"), Properties: map[string]any{"token_lifetime": 60},
	})
	if err != nil {
		t.Fatal(err)
	}
	tn2, err := sandbox.LoadTenant(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tn2.ResourceServer(rs.ID)
	if err != nil || got.Name != "kept" || got.Identifier != "https://kept.example.com/" || got.Properties["token_lifetime"] != float64(60) {
		t.Errorf("after load: %+v, %v", got, err)
	}

	old := filepath.Join(t.TempDir(), "tenant.json")
	state := `{"pool_cap":2,"clients":[],"grants":[],"apis":[{"identifier":"https://old.example.com/","name":"old"}]}`
	if err := os.WriteFile(old, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	tn3, err := sandbox.LoadTenant(old)
	if err != nil {
		t.Fatal(err)
	}
	got, err = tn3.ResourceServer("https://old.example.com/")
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(got.ID) || got.Name != "old" || got.Properties["token_lifetime"] == nil {
		t.Errorf("resource server saved without an id, after load: %+v, %v", got, err)
	}
}
