package sandbox_test

// Client grants through go-auth0: create, read, list with the provider's filters, update and
// delete, with Auth0's conflicts and error bodies; the token endpoint sees every change.

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/auth0/go-auth0"
	"github.com/auth0/go-auth0/management"
)

func TestSDKClientGrantsCRUD(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	ctx := context.Background()
	app := sdkNewM2M(t, srv, 0)
	const aud = "https://grants.example.com/"
	tn.AddAPI(aud, "grants")
	a := sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, app.Key))
	if _, err := sdkLogin(a, aud); err == nil {
		t.Fatal("token issued before any grant")
	}

	g := &management.ClientGrant{ClientID: auth0.String(app.Client.ID), Audience: auth0.String(aud), Scope: &[]string{"read:a"}}
	if err := m.ClientGrant.Create(ctx, g); err != nil {
		t.Fatalf("Create: %v", err)
	}
	id := g.GetID()
	if !strings.HasPrefix(id, "cgr_") || len(id) != 20 {
		t.Errorf("id = %q, want cgr_ and 16 characters", id)
	}
	scopeOfToken := func(t *testing.T) string {
		t.Helper()
		ts, err := sdkLogin(a, aud)
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		return ts.Scope
	}
	if got := scopeOfToken(t); got != "read:a" {
		t.Errorf("token scope = %q, want read:a", got)
	}

	t.Run("read", func(t *testing.T) {
		got, err := m.ClientGrant.Read(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetClientID() != app.Client.ID || got.GetAudience() != aud || !slices.Equal(got.GetScope(), []string{"read:a"}) || got.SubjectType != nil {
			t.Errorf("Read = %s", got)
		}
	})

	t.Run("list as the provider filters", func(t *testing.T) {
		l, err := m.ClientGrant.List(ctx, management.Parameter("audience", aud), management.Parameter("client_id", app.Client.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.ClientGrants) != 1 || l.ClientGrants[0].GetID() != id || l.Total != 1 {
			t.Errorf("list = %+v", l)
		}
		l, err = m.ClientGrant.List(ctx, management.Parameter("client_id", app.Client.ID))
		if err != nil || len(l.ClientGrants) != 2 {
			t.Errorf("grants of the client = %+v, %v; want its two", l, err)
		}
	})

	t.Run("conflict", func(t *testing.T) {
		err := m.ClientGrant.Create(ctx, &management.ClientGrant{ClientID: auth0.String(app.Client.ID), Audience: auth0.String(aud), Scope: &[]string{}})
		sdkMgmtError(t, err, http.StatusConflict, "A client grant already exists between "+app.Client.ID+" and "+aud)
		// A grant for user access to the same API is another grant.
		user := &management.ClientGrant{ClientID: auth0.String(app.Client.ID), Audience: auth0.String(aud), Scope: &[]string{}, SubjectType: auth0.String("user")}
		if err := m.ClientGrant.Create(ctx, user); err != nil {
			t.Fatalf("user grant: %v", err)
		}
		if user.GetSubjectType() != "user" {
			t.Errorf("subject_type = %q", user.GetSubjectType())
		}
		if err := m.ClientGrant.Delete(ctx, user.GetID()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("update", func(t *testing.T) {
		if err := m.ClientGrant.Update(ctx, id, &management.ClientGrant{Scope: &[]string{"read:a", "write:a"}, OrganizationUsage: auth0.String("deny")}); err != nil {
			t.Fatal(err)
		}
		got, err := m.ClientGrant.Read(ctx, id)
		if err != nil || !slices.Equal(got.GetScope(), []string{"read:a", "write:a"}) || got.GetOrganizationUsage() != "deny" {
			t.Fatalf("after update: %s, %v", got, err)
		}
		if got := scopeOfToken(t); got != "read:a write:a" {
			t.Errorf("token scope after update = %q", got)
		}
		tok := sdkAdminToken(t, srv)
		status, _, body := sdkDo(t, srv, http.MethodPatch, "/api/v2/client-grants/"+id, tok, `{"organization_usage":null}`)
		if status != http.StatusOK || strings.Contains(string(body), "organization_usage") {
			t.Errorf("PATCH organization_usage null = %d %s", status, body)
		}
		status, _, body = sdkDo(t, srv, http.MethodPatch, "/api/v2/client-grants/"+id, tok, `{"audience":"https://elsewhere.example.com/"}`)
		if env := sdkEnvelope(t, body, http.StatusBadRequest); status != http.StatusBadRequest || env["message"] != "Payload validation error: 'Additional properties not allowed: audience'." {
			t.Errorf("PATCH audience = %d %v", status, env)
		}
	})

	t.Run("refused creates", func(t *testing.T) {
		err := m.ClientGrant.Create(ctx, &management.ClientGrant{ClientID: auth0.String("nobody"), Audience: auth0.String(aud), Scope: &[]string{}})
		sdkMgmtError(t, err, http.StatusNotFound, "Client not found")
		err = m.ClientGrant.Create(ctx, &management.ClientGrant{ClientID: auth0.String(app.Client.ID), Audience: auth0.String("https://nowhere.example.com/"), Scope: &[]string{}})
		sdkMgmtError(t, err, http.StatusNotFound, "No resource with identifier https://nowhere.example.com/")
		err = m.ClientGrant.Create(ctx, &management.ClientGrant{ClientID: auth0.String(app.Client.ID), Scope: &[]string{}})
		sdkMgmtError(t, err, http.StatusBadRequest, "Missing required property: audience")
	})

	t.Run("delete", func(t *testing.T) {
		if err := m.ClientGrant.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		tok := sdkAdminToken(t, srv)
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/client-grants/"+id, tok, nil)
		if env := sdkEnvelope(t, body, http.StatusNotFound); status != http.StatusNotFound || env["errorCode"] != "inexistent_client_grant" {
			t.Errorf("GET deleted grant = %d %v", status, env)
		}
		_, err := sdkLogin(a, aud)
		sdkAuthError(t, err, http.StatusForbidden, "access_denied")
		// Auth0 answers 204 to a second delete of the same grant.
		if status, _, body := sdkDo(t, srv, http.MethodDelete, "/api/v2/client-grants/"+id, tok, nil); status != http.StatusNoContent {
			t.Errorf("second DELETE = %d %s", status, body)
		}
	})
}

// TestSDKClientGrantScopes: each client grant endpoint needs its scope, as in Auth0.
func TestSDKClientGrantScopes(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)
	reader, m := sdkScopedManagement(t, srv, "grant reader", "read:client_grants", "read:resource_servers")
	ctx := context.Background()
	if _, err := m.ClientGrant.List(ctx); err != nil {
		t.Fatalf("list with read:client_grants: %v", err)
	}
	err := m.ClientGrant.Create(ctx, &management.ClientGrant{ClientID: auth0.String(reader.ID), Audience: auth0.String(srv.ManagementAudience())})
	sdkMgmtError(t, err, http.StatusForbidden, "Insufficient scope, expected any of: create:client_grants")
	sdkMgmtError(t, m.ClientGrant.Delete(ctx, "cgr_x"), http.StatusForbidden, "expected any of: delete:client_grants")
	err = m.ResourceServer.Create(ctx, &management.ResourceServer{Identifier: auth0.String("https://x.example.com/")})
	sdkMgmtError(t, err, http.StatusForbidden, "expected any of: create:resource_servers")
	if len(tn.Grants(reader.ID, "")) != 1 {
		t.Errorf("a forbidden request changed the grants: %+v", tn.Grants(reader.ID, ""))
	}
}
