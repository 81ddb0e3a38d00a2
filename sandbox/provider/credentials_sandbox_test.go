package provider

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"rekey/sandbox"
)

// sandboxResource returns an auth0_client_credentials implementation talking to a fresh
// sandbox in-process, and a client of that sandbox whose credentials it manages.
func sandboxResource(t *testing.T) (*credentialsResource, *harness, string) {
	t.Helper()
	srv, tenant, mgmt := startSandbox(t)
	transport := newRetryTransport(srv.HTTPClient().Transport)
	api, err := newManagement(settings{domain: srv.Domain(), clientID: mgmt.ID, clientSecret: mgmt.Secret}, transport)
	if err != nil {
		t.Fatal(err)
	}
	app := tenant.AddClient("app", "non_interactive", []string{"client_credentials"})
	return &credentialsResource{api: api}, &harness{srv: srv, tenant: tenant}, app.ID
}

// seedAttached creates keys in the tenant, attaches them to clientID and returns their state.
func seedAttached(t *testing.T, h *harness, clientID string, ks ...testKey) []credentialModel {
	t.Helper()
	var state []credentialModel
	var ids []string
	for _, k := range ks {
		cr, err := h.tenant.CreateCredential(clientID, sandboxCredential(k))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cr.ID)
		m := stored(cr.ID, k.name, k.pem)
		m.KeyID, m.Algorithm = types.StringValue(cr.KID), types.StringValue(cr.Alg)
		state = append(state, m)
	}
	if _, err := h.tenant.UpdateClient(clientID, sandbox.ClientPatch{TokenEndpointAuthMethodSet: true, AuthMethodsSet: true, PrivateKeyJWT: &ids}); err != nil {
		t.Fatal(err)
	}
	return state
}

// plannedCredential is k as a new credential in a plan.
func plannedCredential(k testKey) credentialModel {
	return newCredentialPlan(fromConfig(k.name, k.pem))
}

func planFor(clientID string) credentialsModel {
	return credentialsModel{ClientID: types.StringValue(clientID), AuthenticationMethod: types.StringValue("private_key_jwt")}
}

// TestFullRotationKeepsOneAttached swaps both credentials of a client at the pool cap of 2 in
// one update: v1.52+ order deletes first for each pair, so one key is attached throughout.
func TestFullRotationKeepsOneAttached(t *testing.T) {
	r, h, clientID := sandboxResource(t)
	prior := seedAttached(t, h, clientID, newKey(t, "A", false), newKey(t, "B", false))
	c, d := newKey(t, "C", false), newKey(t, "D", false)

	stop := h.watchAttached(clientID, func(ids []string) bool { return len(ids) > 0 })
	x, err := r.update(context.Background(), planFor(clientID), []credentialModel{plannedCredential(c), plannedCredential(d)}, prior, true)
	samples, empty := stop()
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if empty > 0 {
		t.Errorf("no credential was attached in %d of %d samples", empty, samples)
	}
	var kids []string
	for _, cr := range h.attached(t, clientID) {
		kids = append(kids, cr.KID)
	}
	if !slices.Equal(kids, []string{c.kid(), d.kid()}) {
		t.Errorf("attached kids = %v, want C then D", kids)
	}
	if pool, _ := h.tenant.Credentials(clientID); len(pool) != 2 || len(x.owned) != 2 {
		t.Errorf("pool = %d credentials, owned = %d; want 2 and 2", len(pool), len(x.owned))
	}
}

// TestFailedUpdateKeepsAccurateState replaces a credential when the tenant's pool is full:
// the create fails as it does on Auth0, and the state still owns the untouched old key.
func TestFailedUpdateKeepsAccurateState(t *testing.T) {
	r, h, clientID := sandboxResource(t)
	prior := seedAttached(t, h, clientID, newKey(t, "A", false))
	if _, err := h.tenant.CreateCredential(clientID, sandboxCredential(newKey(t, "stray", false))); err != nil {
		t.Fatal(err)
	}
	x, err := r.update(context.Background(), planFor(clientID), []credentialModel{plannedCredential(newKey(t, "C", false))}, prior, true)
	if err == nil || !strings.Contains(err.Error(), "maximum of 2 credentials") {
		t.Fatalf("update error = %v, want the pool cap", err)
	}
	if len(x.owned) != 1 || !x.owned[0].ID.Equal(prior[0].ID) {
		t.Errorf("owned after failure = %v, want only A", x.owned)
	}
	state, found, diags := r.readState(context.Background(), clientID, x.owned, x.owned, true)
	creds, _, _, _ := state.credentials(context.Background())
	if !found || diags.HasError() || len(creds) != 1 || !creds[0].ID.Equal(prior[0].ID) || !creds[0].PEM.Equal(prior[0].PEM) {
		t.Errorf("state after failure = %v (found %v, %v), want A with its pem", creds, found, diags)
	}
}

// TestCreateRollsBack attaches to a client whose JWTs are HS256, which Auth0 refuses: the
// credentials created before the attach must be deleted again.
func TestCreateRollsBack(t *testing.T) {
	r, h, clientID := sandboxResource(t)
	hs := "HS256"
	if _, err := h.tenant.UpdateClient(clientID, sandbox.ClientPatch{JWTAlg: &hs}); err != nil {
		t.Fatal(err)
	}
	a := credentialAPI{api: r.api, clientID: clientID}
	_, err := r.createAll(context.Background(), a, []credentialModel{plannedCredential(newKey(t, "A", false)), plannedCredential(newKey(t, "B", false))})
	if err == nil || !strings.Contains(err.Error(), "RS256") {
		t.Fatalf("createAll error = %v, want the RS256 requirement", err)
	}
	if pool, _ := h.tenant.Credentials(clientID); len(pool) != 0 {
		t.Errorf("pool after a failed create = %d credentials, want 0 (rolled back)", len(pool))
	}
}

// TestRemovingTheBlockRevertsToSecret drops the private_key_jwt block: its credentials are
// deleted and the client goes back to its app type's client secret method.
func TestRemovingTheBlockRevertsToSecret(t *testing.T) {
	r, h, clientID := sandboxResource(t)
	prior := seedAttached(t, h, clientID, newKey(t, "A", false))
	plan := planFor(clientID)
	plan.AuthenticationMethod = types.StringUnknown()
	if _, err := r.update(context.Background(), plan, nil, prior, false); err != nil {
		t.Fatalf("update: %v", err)
	}
	c, _ := h.tenant.Client(clientID)
	pool, _ := h.tenant.Credentials(clientID)
	if c.PrivateKeyJWT != nil || c.TokenEndpointAuthMethod == nil || *c.TokenEndpointAuthMethod != "client_secret_post" || len(pool) != 0 {
		t.Errorf("client = private_key_jwt %v, token_endpoint_auth_method %v, %d credentials; want none, client_secret_post, 0",
			c.PrivateKeyJWT, c.TokenEndpointAuthMethod, len(pool))
	}
}
