package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// clientProperties are the client properties Auth0's create and update schemas allow.
var clientProperties = []string{
	"name", "description", "client_secret", "app_type", "logo_uri", "is_first_party",
	"is_token_endpoint_ip_header_trusted", "oidc_conformant", "callbacks", "allowed_origins", "web_origins",
	"client_aliases", "allowed_clients", "allowed_logout_urls", "jwt_configuration", "encryption_key", "sso",
	"sso_disabled", "cross_origin_authentication", "grant_types", "cross_origin_loc", "custom_login_page_on",
	"custom_login_page", "custom_login_page_preview", "form_template", "addons", "token_endpoint_auth_method",
	"client_metadata", "mobile", "initiate_login_uri", "native_social_login", "refresh_token",
	"organization_usage", "organization_require_behavior", "client_authentication_methods",
	"require_pushed_authorization_requests", "oidc_backchannel_logout", "oidc_logout", "signed_request_object",
	"compliance_level", "require_proof_of_possession", "default_organization", "token_exchange", "token_quota",
	"session_transfer", "resource_server_identifier", "skip_non_verifiable_callback_uri_confirmation_prompt",
	"organization_discovery_methods", "async_approval_notification_channels", "express_configuration",
	"my_organization_configuration", "third_party_security_mode", "redirection_policy", "fedcm_login",
	"identity_assertion_authorization_grant",
}

// ruledClientProperties are the client properties the tenant keeps in typed fields, because a
// rotation depends on their rules; every other property is stored as sent.
var ruledClientProperties = []string{
	"name", "app_type", "client_secret", "grant_types", "jwt_configuration", "token_endpoint_auth_method",
	"client_authentication_methods",
}

// jwtAlgs are the values Auth0 accepts for jwt_configuration.alg.
var jwtAlgs = []string{"HS256", "RS256", "PS256"}

func (m *managementAPI) listClients(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	project, err := fieldFilter(q)
	if err != nil {
		return 0, nil, err
	}
	if q.Has("from") || q.Has("take") {
		return m.listClientsCheckpoint(q, project)
	}
	page, perPage, err := pageParams(q)
	if err != nil {
		return 0, nil, err
	}
	clients, total := m.tenant.clientsPage(page*perPage, perPage)
	return http.StatusOK, listBody(q, "clients", projectAll(clients, project), page*perPage, perPage, total), nil
}

// listClientsCheckpoint pages with an opaque "next" token: the id of the next client.
func (m *managementAPI) listClientsCheckpoint(q map[string][]string, project func(map[string]any) map[string]any) (int, any, error) {
	take, err := queryInt(q, "take", defaultPerPage, 1, maxPerPage)
	if err != nil {
		return 0, nil, err
	}
	start := 0
	if from := first(q, "from"); from != "" {
		id, decErr := base64.RawURLEncoding.DecodeString(from)
		idx, ok := m.tenant.clientIndex(string(id))
		if decErr != nil || !ok {
			return 0, nil, badRequest("Query validation error: 'from' is not a valid checkpoint; start again without it.", "invalid_query_string")
		}
		start = idx
	}
	clients, _ := m.tenant.clientsPage(start, take+1)
	body := map[string]any{}
	if len(clients) > take {
		body["next"] = base64.RawURLEncoding.EncodeToString([]byte(clients[take].ID))
		clients = clients[:take]
	}
	body["clients"] = projectAll(clients, project)
	return http.StatusOK, body, nil
}

func (m *managementAPI) createClient(r *http.Request) (int, any, error) {
	p, err := readClientBody(r)
	if err != nil {
		return 0, nil, err
	}
	c, err := m.tenant.CreateClient(p)
	return viewed(http.StatusCreated, c, err, clientView)
}

func (m *managementAPI) getClient(r *http.Request) (int, any, error) {
	project, err := fieldFilter(r.URL.Query())
	if err != nil {
		return 0, nil, err
	}
	c, err := m.tenant.Client(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, project(clientView(c)), nil
}

func (m *managementAPI) patchClient(r *http.Request) (int, any, error) {
	p, err := readClientBody(r)
	if err != nil {
		return 0, nil, err
	}
	c, err := m.tenant.UpdateClient(r.PathValue("id"), p)
	return viewed(http.StatusOK, c, err, clientView)
}

func (m *managementAPI) deleteClient(r *http.Request) (int, any, error) {
	return noContent(m.tenant.DeleteClient(r.PathValue("id")))
}

// readClientBody reads a create or update body: the ruled properties into the patch's
// fields, every other one into its merge patch of properties.
func readClientBody(r *http.Request) (ClientPatch, error) {
	var p ClientPatch
	body, err := decodeBody(r, clientProperties)
	if err != nil {
		return p, err
	}
	fields := []struct {
		key string
		dst any
	}{{"name", &p.Name}, {"app_type", &p.AppType}, {"client_secret", &p.Secret}, {"grant_types", &p.GrantTypes}}
	for _, f := range fields {
		if err := decodeProperty(body, f.key, f.dst); err != nil {
			return p, err
		}
	}
	if p.Name != nil && *p.Name == "" {
		return p, badRequest("Payload validation error: 'String is too short (0 chars), minimum 1' on property name.", "invalid_body")
	}
	if p.Properties, err = propertyBag(body, ruledClientProperties); err != nil {
		return p, err
	}
	if err := readJWTConfiguration(body, &p); err != nil {
		return p, err
	}
	if v, ok := body["token_endpoint_auth_method"]; ok {
		p.TokenEndpointAuthMethodSet = true
		if err := json.Unmarshal(v, &p.TokenEndpointAuthMethod); err != nil {
			return p, badRequest("Payload validation error: token_endpoint_auth_method must be a string or null.", "invalid_body")
		}
	}
	if v, ok := body["client_authentication_methods"]; ok {
		p.AuthMethodsSet = true
		if p.PrivateKeyJWT, err = parseAuthMethods(v); err != nil {
			return p, err
		}
	}
	return p, nil
}

// readJWTConfiguration puts jwt_configuration.alg into p.JWTAlg and the rest of the object
// into p.Properties, to be merged into the stored one.
func readJWTConfiguration(body map[string]json.RawMessage, p *ClientPatch) error {
	v, ok := body["jwt_configuration"]
	if !ok {
		return nil
	}
	var jc map[string]any
	if err := json.Unmarshal(v, &jc); err != nil || jc == nil {
		return badRequest("Payload validation error: jwt_configuration must be an object.", "invalid_body")
	}
	if alg, ok := jc["alg"]; ok {
		s, _ := alg.(string)
		if !slices.Contains(jwtAlgs, s) {
			return badRequest(fmt.Sprintf("Payload validation error: 'No enum match for: \"%v\"' on property jwt_configuration.alg.", alg), "invalid_body")
		}
		p.JWTAlg = &s
		delete(jc, "alg")
	}
	p.Properties["jwt_configuration"] = jc
	return nil
}

// parseAuthMethods reads client_authentication_methods: null, or private_key_jwt with a list of
// {"id"} objects, which Auth0 takes as the whole attached set.
func parseAuthMethods(v json.RawMessage) (*[]string, error) {
	var methods map[string]struct {
		Credentials []map[string]any `json:"credentials"`
	}
	if err := json.Unmarshal(v, &methods); err != nil {
		return nil, badRequest("Payload validation error: client_authentication_methods must be an object or null.", "invalid_body")
	}
	if methods == nil {
		return nil, nil
	}
	if len(methods) != 1 {
		return nil, badRequest("Payload validation error: client_authentication_methods must name exactly one method.", "invalid_body")
	}
	pkjwt, ok := methods["private_key_jwt"]
	if !ok {
		return nil, badRequest("The sandbox supports the private_key_jwt client authentication method only.", "invalid_body")
	}
	ids := []string{}
	for _, cred := range pkjwt.Credentials {
		id, _ := cred["id"].(string)
		if id == "" || len(cred) != 1 {
			return nil, badRequest("Payload validation error: each credential must be an object with only an \"id\".", "invalid_body")
		}
		ids = append(ids, id)
	}
	return &ids, nil
}

// clientView renders a client as the Management API does: once private_key_jwt is configured,
// token_endpoint_auth_method and client_secret are no longer returned.
func clientView(c Client) map[string]any {
	ruled := map[string]any{"client_id": c.ID, "name": c.Name, "grant_types": c.GrantTypes}
	if c.AppType != "" {
		ruled["app_type"] = c.AppType
	}
	if c.JWTAlg != "" {
		ruled["jwt_configuration"] = map[string]any{"alg": c.JWTAlg}
	}
	if c.PrivateKeyJWT == nil {
		ruled["client_secret"] = c.Secret
		if c.TokenEndpointAuthMethod != nil {
			ruled["token_endpoint_auth_method"] = *c.TokenEndpointAuthMethod
		}
	} else {
		refs := make([]map[string]string, 0, len(*c.PrivateKeyJWT))
		for _, id := range *c.PrivateKeyJWT {
			refs = append(refs, map[string]string{"id": id})
		}
		ruled["client_authentication_methods"] = map[string]any{"private_key_jwt": map[string]any{"credentials": refs}}
	}
	return mergePatch(c.Properties, ruled)
}

func projectAll(clients []Client, project func(map[string]any) map[string]any) []map[string]any {
	views := make([]map[string]any, 0, len(clients))
	for _, c := range clients {
		views = append(views, project(clientView(c)))
	}
	return views
}
