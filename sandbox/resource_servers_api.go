package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// resourceServerProperties are the resource server properties a PATCH may change.
var resourceServerProperties = []string{
	"name", "scopes", "signing_alg", "signing_secret", "allow_offline_access", "allow_online_access",
	"allow_online_access_with_ephemeral_sessions", "token_lifetime", "token_lifetime_for_web",
	"skip_consent_for_verifiable_first_party_clients", "verificationLocation", "options", "enforce_policies",
	"token_dialect", "consent_policy", "authorization_details", "token_encryption", "proof_of_possession",
	"subject_type_authorization", "authorization_policy",
}

// resourceServerCreateProperties are the resource server properties a POST may set.
var resourceServerCreateProperties = slices.Concat(resourceServerProperties, []string{"identifier"})

func (m *managementAPI) listResourceServers(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	var wanted []string
	for _, v := range q["identifiers"] {
		wanted = append(wanted, strings.Split(v, ",")...)
	}
	var views []map[string]any
	for _, rs := range m.tenant.ResourceServers() {
		if wanted == nil || slices.Contains(wanted, rs.Identifier) {
			views = append(views, resourceServerView(rs))
		}
	}
	body, err := pageOf(q, "resource_servers", views)
	return http.StatusOK, body, err
}

func (m *managementAPI) createResourceServer(r *http.Request) (int, any, error) {
	body, p, err := readResourceServerBody(r, resourceServerCreateProperties)
	if err != nil {
		return 0, nil, err
	}
	var identifier string
	if err := decodeProperty(body, "identifier", &identifier); err != nil {
		return 0, nil, err
	}
	if identifier == "" {
		return 0, nil, badRequest("Payload validation error: 'Missing required property: identifier'.", "invalid_body")
	}
	rs, err := m.tenant.CreateResourceServer(identifier, p)
	return viewed(http.StatusCreated, rs, err, resourceServerView)
}

// getResourceServer finds the resource server by id or by identifier, as Auth0 does.
func (m *managementAPI) getResourceServer(r *http.Request) (int, any, error) {
	rs, err := m.tenant.ResourceServer(r.PathValue("id"))
	return viewed(http.StatusOK, rs, err, resourceServerView)
}

func (m *managementAPI) patchResourceServer(r *http.Request) (int, any, error) {
	_, p, err := readResourceServerBody(r, resourceServerProperties)
	if err != nil {
		return 0, nil, err
	}
	rs, err := m.tenant.UpdateResourceServer(r.PathValue("id"), p)
	return viewed(http.StatusOK, rs, err, resourceServerView)
}

func (m *managementAPI) deleteResourceServer(r *http.Request) (int, any, error) {
	return noContent(m.tenant.DeleteResourceServer(r.PathValue("id")))
}

// readResourceServerBody reads a resource server body: the name and the other properties
// into a patch; the body itself for what only a create has.
func readResourceServerBody(r *http.Request, allowed []string) (map[string]json.RawMessage, ResourceServerPatch, error) {
	var p ResourceServerPatch
	body, err := decodeBody(r, allowed)
	if err != nil {
		return nil, p, err
	}
	if err := decodeProperty(body, "name", &p.Name); err != nil {
		return nil, p, err
	}
	p.Properties, err = propertyBag(body, []string{"name", "identifier"})
	return body, p, err
}

// resourceServerView renders a resource server as the Management API does.
func resourceServerView(rs ResourceServer) map[string]any {
	ruled := map[string]any{"id": rs.ID, "identifier": rs.Identifier}
	if rs.Name != "" {
		ruled["name"] = rs.Name
	}
	return mergePatch(rs.Properties, ruled)
}
