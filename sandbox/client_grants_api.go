package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
)

// grantUpdateProperties are the client grant properties a PATCH may change.
var grantUpdateProperties = []string{"scope", "organization_usage", "allow_any_organization", "authorization_details_types", "allow_all_scopes"}

// grantCreateProperties are the client grant properties a POST may set.
var grantCreateProperties = slices.Concat(grantUpdateProperties, []string{"client_id", "audience", "subject_type", "default_for"})

func (m *managementAPI) listGrants(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	grants := m.tenant.Grants(first(q, "client_id"), first(q, "audience"))
	views := make([]map[string]any, 0, len(grants))
	for _, g := range grants {
		views = append(views, grantView(g))
	}
	body, err := pageOf(q, "client_grants", views)
	return http.StatusOK, body, err
}

func (m *managementAPI) createGrant(r *http.Request) (int, any, error) {
	body, p, err := readGrantBody(r, grantCreateProperties)
	if err != nil {
		return 0, nil, err
	}
	if _, ok := body["default_for"]; ok {
		return 0, nil, badRequest("The sandbox makes grants for one client_id only; default_for is not supported.", "invalid_body")
	}
	var clientID, audience string
	for _, f := range []struct {
		key string
		dst *string
	}{{"client_id", &clientID}, {"audience", &audience}} {
		if _, ok := body[f.key]; !ok {
			return 0, nil, badRequest("Payload validation error: 'Missing required property: "+f.key+"'.", "invalid_body")
		}
		if err := decodeProperty(body, f.key, f.dst); err != nil {
			return 0, nil, err
		}
	}
	g, err := m.tenant.CreateGrant(clientID, audience, p)
	return viewed(http.StatusCreated, g, err, grantView)
}

func (m *managementAPI) getGrant(r *http.Request) (int, any, error) {
	g, err := m.tenant.Grant(r.PathValue("id"))
	return viewed(http.StatusOK, g, err, grantView)
}

func (m *managementAPI) patchGrant(r *http.Request) (int, any, error) {
	_, p, err := readGrantBody(r, grantUpdateProperties)
	if err != nil {
		return 0, nil, err
	}
	g, err := m.tenant.UpdateGrant(r.PathValue("id"), p)
	return viewed(http.StatusOK, g, err, grantView)
}

// deleteGrant answers 204 even for a grant that does not exist, as Auth0 does.
func (m *managementAPI) deleteGrant(r *http.Request) (int, any, error) {
	m.tenant.DeleteGrant(r.PathValue("id"))
	return http.StatusNoContent, nil, nil
}

// readGrantBody reads a grant body: the scope and the other properties into a patch; the body
// itself for what only a create has.
func readGrantBody(r *http.Request, allowed []string) (map[string]json.RawMessage, GrantPatch, error) {
	var p GrantPatch
	body, err := decodeBody(r, allowed)
	if err != nil {
		return nil, p, err
	}
	if err := decodeProperty(body, "scope", &p.Scope); err != nil {
		return nil, p, err
	}
	p.Properties, err = propertyBag(body, []string{"client_id", "audience", "scope"})
	return body, p, err
}

// grantView renders a client grant as the Management API does.
func grantView(g ClientGrant) map[string]any {
	scope := g.Scope
	if scope == nil {
		scope = []string{}
	}
	return mergePatch(g.Properties, map[string]any{"id": g.ID, "client_id": g.ClientID, "audience": g.Audience, "scope": scope})
}
