package sandbox

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Paging limits of the Management API.
const (
	defaultPerPage = 50
	maxPerPage     = 100
	timeFormat     = "2006-01-02T15:04:05.000Z"
)

// managementAPI serves the Management API v2 subset a rotation uses.
type managementAPI struct {
	tenant *Tenant
	auth   *authority
}

func (m *managementAPI) routes(mux *http.ServeMux) {
	handle := func(pattern, scope string, h func(*http.Request) (int, any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := m.auth.checkBearer(r.Header.Get("Authorization"), scope); err != nil {
				writeAPIError(w, err)
				return
			}
			status, body, err := h(r)
			if err != nil {
				writeAPIError(w, err)
				return
			}
			writeJSON(w, status, body)
		})
	}
	handle("GET /api/v2/clients", "read:clients", m.listClients)
	handle("POST /api/v2/clients", "create:clients", m.createClient)
	handle("GET /api/v2/clients/{id}", "read:clients", m.getClient)
	handle("PATCH /api/v2/clients/{id}", "update:clients", m.patchClient)
	handle("DELETE /api/v2/clients/{id}", "delete:clients", m.deleteClient)
	handle("GET /api/v2/clients/{id}/credentials", "read:client_credentials", m.listCredentials)
	handle("POST /api/v2/clients/{id}/credentials", "create:client_credentials", m.createCredential)
	handle("GET /api/v2/clients/{id}/credentials/{cred}", "read:client_credentials", m.getCredential)
	handle("PATCH /api/v2/clients/{id}/credentials/{cred}", "update:client_credentials", m.patchCredential)
	handle("DELETE /api/v2/clients/{id}/credentials/{cred}", "delete:client_credentials", m.deleteCredential)
	handle("GET /api/v2/client-grants", "read:client_grants", m.listGrants)
}

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
	views := projectAll(clients, project)
	if q.Get("include_totals") != "true" {
		return http.StatusOK, views, nil
	}
	return http.StatusOK, map[string]any{"start": page * perPage, "limit": perPage, "length": len(views), "total": total, "clients": views}, nil
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
	var body struct {
		Name       string   `json:"name"`
		AppType    string   `json:"app_type"`
		GrantTypes []string `json:"grant_types"`
		JWT        *struct {
			Alg string `json:"alg"`
		} `json:"jwt_configuration"`
	}
	if err := decodeStrict(r, &body); err != nil {
		return 0, nil, err
	}
	if body.Name == "" {
		return 0, nil, badRequest("Payload validation error: 'Missing required property: name'.", "invalid_body")
	}
	c := m.tenant.AddClient(body.Name, cmp.Or(body.AppType, "non_interactive"), body.GrantTypes)
	if body.JWT != nil && body.JWT.Alg != "" {
		alg := body.JWT.Alg
		updated, err := m.tenant.UpdateClient(c.ID, ClientPatch{JWTAlg: &alg})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, clientView(updated), nil
	}
	return http.StatusCreated, clientView(*c), nil
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

func (m *managementAPI) deleteClient(r *http.Request) (int, any, error) {
	if err := m.tenant.DeleteClient(r.PathValue("id")); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// patchableClientFields are the client properties the sandbox can change.
var patchableClientFields = []string{"name", "description", "app_type", "grant_types", "jwt_configuration", "token_endpoint_auth_method", "client_authentication_methods"}

func (m *managementAPI) patchClient(r *http.Request) (int, any, error) {
	var raw map[string]json.RawMessage
	if err := decodeStrict(r, &raw); err != nil {
		return 0, nil, err
	}
	for k := range raw {
		if !slices.Contains(patchableClientFields, k) {
			return 0, nil, badRequest(fmt.Sprintf("Payload validation error: 'Additional properties not allowed: %s'. The sandbox can change: %s.", k, strings.Join(patchableClientFields, ", ")), "invalid_body")
		}
	}
	p, err := parseClientPatch(raw)
	if err != nil {
		return 0, nil, err
	}
	c, err := m.tenant.UpdateClient(r.PathValue("id"), p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, clientView(c), nil
}

func parseClientPatch(raw map[string]json.RawMessage) (ClientPatch, error) {
	var p ClientPatch
	fields := []struct {
		key string
		dst any
	}{{"name", &p.Name}, {"description", &p.Description}, {"app_type", &p.AppType}, {"grant_types", &p.GrantTypes}}
	for _, f := range fields {
		if v, ok := raw[f.key]; ok {
			if err := json.Unmarshal(v, f.dst); err != nil {
				return p, badRequest(fmt.Sprintf("Payload validation error: invalid type for %s: %v", f.key, err), "invalid_body")
			}
		}
	}
	if v, ok := raw["jwt_configuration"]; ok {
		var jc struct {
			Alg *string `json:"alg"`
		}
		if err := json.Unmarshal(v, &jc); err != nil {
			return p, badRequest("Payload validation error: jwt_configuration must be an object.", "invalid_body")
		}
		if jc.Alg != nil && !slices.Contains([]string{"HS256", "RS256", "PS256"}, *jc.Alg) {
			return p, badRequest(fmt.Sprintf("Payload validation error: 'No enum match for: \"%s\"' on property jwt_configuration.alg.", *jc.Alg), "invalid_body")
		}
		p.JWTAlg = jc.Alg
	}
	if v, ok := raw["token_endpoint_auth_method"]; ok {
		p.TokenEndpointAuthMethodSet = true
		if err := json.Unmarshal(v, &p.TokenEndpointAuthMethod); err != nil {
			return p, badRequest("Payload validation error: token_endpoint_auth_method must be a string or null.", "invalid_body")
		}
	}
	if v, ok := raw["client_authentication_methods"]; ok {
		p.AuthMethodsSet = true
		ids, err := parseAuthMethods(v)
		if err != nil {
			return p, err
		}
		p.PrivateKeyJWT = ids
	}
	return p, nil
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

func (m *managementAPI) listCredentials(r *http.Request) (int, any, error) {
	creds, err := m.tenant.Credentials(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	views := make([]map[string]any, 0, len(creds))
	for _, cr := range creds {
		views = append(views, credentialView(cr))
	}
	return http.StatusOK, views, nil
}

var kidPattern = regexp.MustCompile(`^[0-9a-zA-Z\-_]{10,64}$`)

func (m *managementAPI) createCredential(r *http.Request) (int, any, error) {
	var body struct {
		CredentialType      string  `json:"credential_type"`
		Name                string  `json:"name"`
		PEM                 string  `json:"pem"`
		Alg                 string  `json:"alg"`
		ParseExpiryFromCert bool    `json:"parse_expiry_from_cert"`
		ExpiresAt           *string `json:"expires_at"`
		KID                 string  `json:"kid"`
	}
	if err := decodeStrict(r, &body); err != nil {
		return 0, nil, err
	}
	switch {
	case body.CredentialType == "":
		return 0, nil, badRequest("Payload validation error: 'Missing required property: credential_type'.", "invalid_body")
	case body.CredentialType != "public_key":
		return 0, nil, badRequest(fmt.Sprintf("The sandbox supports credential_type public_key only (the type Private Key JWT uses), not %q.", body.CredentialType), "invalid_body")
	case body.PEM == "":
		return 0, nil, badRequest("Payload validation error: 'Missing required property: pem'.", "invalid_body")
	case body.KID != "" && !kidPattern.MatchString(body.KID):
		return 0, nil, badRequest("Payload validation error: 'String does not match pattern ^[0-9a-zA-Z-_]{10,64}$' on property kid.", "invalid_body")
	}
	in := NewCredential{Name: body.Name, PEM: body.PEM, Alg: body.Alg, ParseExpiryFromCert: body.ParseExpiryFromCert, KID: body.KID}
	if body.ExpiresAt != nil {
		at, err := time.Parse(time.RFC3339, *body.ExpiresAt)
		if err != nil {
			return 0, nil, badRequest("Payload validation error: 'Object didn't pass validation for format date-time' on property expires_at.", "invalid_body")
		}
		in.ExpiresAt = &at
	}
	cr, err := m.tenant.CreateCredential(r.PathValue("id"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, credentialView(cr), nil
}

func (m *managementAPI) getCredential(r *http.Request) (int, any, error) {
	cr, err := m.tenant.Credential(r.PathValue("id"), r.PathValue("cred"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, credentialView(cr), nil
}

func (m *managementAPI) patchCredential(r *http.Request) (int, any, error) {
	var body struct {
		ExpiresAt *string `json:"expires_at"`
	}
	if err := decodeStrict(r, &body); err != nil {
		return 0, nil, err
	}
	if body.ExpiresAt == nil {
		return 0, nil, badRequest("Payload validation error: expires_at (a date-time) is the only property that can be changed, and it is required.", "invalid_body")
	}
	at, err := time.Parse(time.RFC3339, *body.ExpiresAt)
	if err != nil {
		return 0, nil, badRequest("Payload validation error: 'Object didn't pass validation for format date-time' on property expires_at.", "invalid_body")
	}
	cr, err := m.tenant.SetCredentialExpiry(r.PathValue("id"), r.PathValue("cred"), at)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, credentialView(cr), nil
}

func (m *managementAPI) deleteCredential(r *http.Request) (int, any, error) {
	if err := m.tenant.DeleteCredential(r.PathValue("id"), r.PathValue("cred")); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (m *managementAPI) listGrants(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	page, perPage, err := pageParams(q)
	if err != nil {
		return 0, nil, err
	}
	all := m.tenant.Grants(first(q, "client_id"), first(q, "audience"))
	start := min(page*perPage, len(all))
	grants := all[start:min(start+perPage, len(all))]
	if grants == nil {
		grants = []ClientGrant{}
	}
	if q.Get("include_totals") != "true" {
		return http.StatusOK, grants, nil
	}
	return http.StatusOK, map[string]any{"start": start, "limit": perPage, "length": len(grants), "total": len(all), "client_grants": grants}, nil
}

// clientView renders a client as the Management API does: once private_key_jwt is configured,
// token_endpoint_auth_method and client_secret are no longer returned.
func clientView(c Client) map[string]any {
	v := map[string]any{
		"client_id": c.ID, "name": c.Name, "app_type": c.AppType, "tenant": "sandbox",
		"is_first_party": true, "grant_types": c.GrantTypes,
		"jwt_configuration": map[string]any{"alg": c.JWTAlg, "lifetime_in_seconds": 36000, "secret_encoded": false},
	}
	if c.PrivateKeyJWT == nil {
		v["client_secret"] = c.Secret
		if c.TokenEndpointAuthMethod != nil {
			v["token_endpoint_auth_method"] = *c.TokenEndpointAuthMethod
		}
		return v
	}
	refs := make([]map[string]string, 0, len(*c.PrivateKeyJWT))
	for _, id := range *c.PrivateKeyJWT {
		refs = append(refs, map[string]string{"id": id})
	}
	v["client_authentication_methods"] = map[string]any{"private_key_jwt": map[string]any{"credentials": refs}}
	return v
}

// credentialView renders a credential without its pem, with Auth0's millisecond timestamps.
func credentialView(cr Credential) map[string]any {
	v := map[string]any{
		"id": cr.ID, "credential_type": cr.CredentialType, "kid": cr.KID, "alg": cr.Alg,
		"created_at": cr.CreatedAt.UTC().Format(timeFormat), "updated_at": cr.UpdatedAt.UTC().Format(timeFormat),
	}
	if cr.Name != "" {
		v["name"] = cr.Name
	}
	if cr.ExpiresAt != nil {
		v["expires_at"] = cr.ExpiresAt.UTC().Format(timeFormat)
	}
	return v
}

func projectAll(clients []Client, project func(map[string]any) map[string]any) []map[string]any {
	views := make([]map[string]any, 0, len(clients))
	for _, c := range clients {
		views = append(views, project(clientView(c)))
	}
	return views
}

// fieldFilter implements fields/include_fields: keep (or drop) the named properties.
func fieldFilter(q map[string][]string) (func(map[string]any) map[string]any, error) {
	fields := first(q, "fields")
	if fields == "" {
		return func(v map[string]any) map[string]any { return v }, nil
	}
	names := strings.Split(fields, ",")
	include := first(q, "include_fields") != "false"
	return func(v map[string]any) map[string]any {
		out := map[string]any{}
		for k, val := range v {
			if slices.Contains(names, k) == include {
				out[k] = val
			}
		}
		return out
	}, nil
}

func first(q map[string][]string, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// pageParams reads page mode's page and per_page.
func pageParams(q map[string][]string) (page, perPage int, err error) {
	if page, err = queryInt(q, "page", 0, 0, 1<<30); err != nil {
		return 0, 0, err
	}
	perPage, err = queryInt(q, "per_page", defaultPerPage, 0, maxPerPage)
	return page, perPage, err
}

// queryInt reads an integer query parameter within [lo, hi].
func queryInt(q map[string][]string, key string, def, lo, hi int) (int, error) {
	s := first(q, key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(fmt.Sprintf("Query validation error: '%s' must be an integer from %d to %d, got %q.", key, lo, hi, s), "invalid_query_string")
	}
	return n, nil
}

// decodeStrict reads a JSON body, refusing unknown properties as Auth0's schemas do.
func decodeStrict(r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		msg := err.Error()
		if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return badRequest(fmt.Sprintf("Payload validation error: 'Additional properties not allowed: %s'.", strings.Trim(field, `"`)), "invalid_body")
		}
		return badRequest(fmt.Sprintf("Payload validation error: invalid JSON body: %s.", msg), "invalid_body")
	}
	return nil
}
