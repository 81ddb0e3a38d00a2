package sandbox

import (
	"fmt"
	"slices"
)

// Client is one application of the tenant.
type Client struct {
	ID         string   `json:"client_id"`
	Name       string   `json:"name"`
	AppType    string   `json:"app_type"` // empty when the client was created without one, as in Auth0
	Secret     string   `json:"client_secret"`
	GrantTypes []string `json:"grant_types"`
	JWTAlg     string   `json:"jwt_alg"` // jwt_configuration.alg; empty when never set
	// TokenEndpointAuthMethod is nil once private_key_jwt is configured, as in Auth0.
	TokenEndpointAuthMethod *string `json:"token_endpoint_auth_method"`
	// PrivateKeyJWT lists the attached credential ids; nil when the client has no
	// client_authentication_methods at all.
	PrivateKeyJWT *[]string     `json:"private_key_jwt"`
	Credentials   []*Credential `json:"credentials"`
	// Properties holds every other client property (description, callbacks, refresh_token,
	// the rest of jwt_configuration, ...) as Auth0 returns it.
	Properties map[string]any `json:"properties,omitempty"`
}

// defaultGrantTypes are the grant types of a client created without any.
var defaultGrantTypes = []string{"authorization_code", "implicit", "refresh_token", "client_credentials"}

// newClientProperties are the properties Auth0 gives every new client.
func newClientProperties() map[string]any {
	return map[string]any{
		"is_first_party": true, "is_token_endpoint_ip_header_trusted": false, "oidc_conformant": false,
		"sso_disabled": false, "cross_origin_authentication": false, "custom_login_page_on": true,
		"jwt_configuration": map[string]any{"secret_encoded": false, "lifetime_in_seconds": 36000},
		"refresh_token": map[string]any{
			"rotation_type": "non-rotating", "expiration_type": "non-expiring", "leeway": 0,
			"token_lifetime": 31557600, "infinite_token_lifetime": true,
			"infinite_idle_token_lifetime": true, "idle_token_lifetime": 2592000,
		},
	}
}

// newClient returns a client with a generated id and secret and Auth0's defaults; its token
// endpoint auth method starts as Auth0 sets it: none for native and single-page apps,
// client_secret_post for other app types, and unset when there is no app type.
func newClient(name, appType string) *Client {
	c := &Client{ID: randomID("", 32), Name: name, AppType: appType, Secret: randomID("", 64), Properties: newClientProperties()}
	if appType != "" {
		method := "client_secret_post"
		if appType == "native" || appType == "spa" {
			method = "none"
		}
		c.TokenEndpointAuthMethod = &method
	}
	return c
}

// AddClient creates a client with the given grant types and jwt_configuration.alg RS256.
func (t *Tenant) AddClient(name, appType string, grantTypes []string) *Client {
	c := newClient(name, appType)
	c.GrantTypes, c.JWTAlg = slices.Clone(grantTypes), "RS256"
	t.mu.Lock()
	defer t.mu.Unlock()
	t.insertClient(c)
	snapshot := c.clone()
	return &snapshot
}

// CreateClient creates a client from p over Auth0's defaults, as POST /api/v2/clients does.
func (t *Tenant) CreateClient(p ClientPatch) (Client, error) {
	if p.Name == nil {
		return Client{}, badRequest("Payload validation error: 'Missing required property: name'.", "invalid_body")
	}
	appType := ""
	if p.AppType != nil {
		appType = *p.AppType
	}
	c := newClient(*p.Name, appType)
	c.GrantTypes = slices.Clone(defaultGrantTypes)
	next, err := c.patched(p)
	if err != nil {
		return Client{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.insertClient(&next)
	return next.clone(), nil
}

// insertClient adds c to the tenant; the caller holds the lock.
func (t *Tenant) insertClient(c *Client) {
	t.clients = append(t.clients, c)
	t.byID[c.ID] = c
	t.changed()
}

// clone returns a deep copy that later changes to the tenant do not touch.
func (c *Client) clone() Client {
	out := *c
	out.GrantTypes = slices.Clone(c.GrantTypes)
	if c.TokenEndpointAuthMethod != nil {
		method := *c.TokenEndpointAuthMethod
		out.TokenEndpointAuthMethod = &method
	}
	if c.PrivateKeyJWT != nil {
		ids := slices.Clone(*c.PrivateKeyJWT)
		out.PrivateKeyJWT = &ids
	}
	out.Credentials = make([]*Credential, len(c.Credentials))
	for i, cr := range c.Credentials {
		copied := *cr
		out.Credentials[i] = &copied
	}
	out.Properties = cloneObject(c.Properties)
	return out
}

// DeleteClient removes a client with its credentials and grants.
func (t *Tenant) DeleteClient(id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.byID[id]
	if c == nil {
		return notFound("The client does not exist", "inexistent_client")
	}
	t.clients = slices.DeleteFunc(t.clients, func(x *Client) bool { return x == c })
	t.grants = slices.DeleteFunc(t.grants, func(g *ClientGrant) bool { return g.ClientID == id })
	delete(t.byID, id)
	t.changed()
	return nil
}

// Client returns a copy of the client with the given id.
func (t *Tenant) Client(id string) (Client, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.byID[id]
	if c == nil {
		return Client{}, notFound("The client does not exist", "inexistent_client")
	}
	return c.clone(), nil
}

// ClientCount returns how many clients the tenant has.
func (t *Tenant) ClientCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.clients)
}

// clientIDsByName maps client names to ids (the last client of a name wins).
func (t *Tenant) clientIDsByName() map[string]string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	ids := make(map[string]string, len(t.clients))
	for _, c := range t.clients {
		ids[c.Name] = c.ID
	}
	return ids
}

// clientsPage returns copies of clients [start, start+n) and the total count.
func (t *Tenant) clientsPage(start, n int) ([]Client, int) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	total := len(t.clients)
	start = min(start, total)
	end := min(start+n, total)
	page := make([]Client, 0, end-start)
	for _, c := range t.clients[start:end] {
		page = append(page, c.clone())
	}
	return page, total
}

// clientIndex returns the position of a client in creation order, for checkpoint paging.
func (t *Tenant) clientIndex(id string) (int, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.byID[id]
	if c == nil {
		return 0, false
	}
	return slices.Index(t.clients, c), true
}

// ClientPatch is a change to a client; nil fields are left alone. The Set flags tell an
// explicit JSON null (clear) from an absent field.
type ClientPatch struct {
	Name                       *string
	AppType                    *string
	Secret                     *string
	GrantTypes                 *[]string
	JWTAlg                     *string
	TokenEndpointAuthMethodSet bool
	TokenEndpointAuthMethod    *string
	AuthMethodsSet             bool
	PrivateKeyJWT              *[]string // nil with AuthMethodsSet clears client_authentication_methods
	// Properties is a JSON merge patch of the client's other properties.
	Properties map[string]any
}

// UpdateClient applies a patch with Auth0's rules for client_authentication_methods: the list
// replaces the attached set wholesale, holds at most two existing credentials of the client,
// needs jwt_configuration.alg RS256, and excludes token_endpoint_auth_method.
func (t *Tenant) UpdateClient(id string, p ClientPatch) (Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.byID[id]
	if c == nil {
		return Client{}, notFound("The client does not exist", "inexistent_client")
	}
	next, err := c.patched(p)
	if err != nil {
		return Client{}, err
	}
	*c = next
	t.changed()
	return c.clone(), nil
}

// patched returns c with p applied, or the rule p breaks; c itself is not changed.
func (c *Client) patched(p ClientPatch) (Client, error) {
	next := *c
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.AppType != nil {
		next.AppType = *p.AppType
	}
	if p.Secret != nil {
		next.Secret = *p.Secret
	}
	if p.GrantTypes != nil {
		next.GrantTypes = slices.Clone(*p.GrantTypes)
	}
	if p.JWTAlg != nil {
		next.JWTAlg = *p.JWTAlg
	}
	if p.TokenEndpointAuthMethodSet {
		next.TokenEndpointAuthMethod = p.TokenEndpointAuthMethod
	}
	if p.AuthMethodsSet {
		next.PrivateKeyJWT = nil
		if p.PrivateKeyJWT != nil {
			ids := slices.Clone(*p.PrivateKeyJWT)
			next.PrivateKeyJWT = &ids
		}
	}
	if p.Properties != nil {
		next.Properties = mergePatch(c.Properties, p.Properties)
	}
	if err := validateAuthMethods(&next); err != nil {
		return Client{}, err
	}
	return next, nil
}

func validateAuthMethods(c *Client) error {
	if c.PrivateKeyJWT == nil {
		return nil
	}
	ids := *c.PrivateKeyJWT
	if len(ids) > SlotCap {
		return badRequest(fmt.Sprintf("Payload validation error: 'Array is too long (%d), maximum %d' on property client_authentication_methods.private_key_jwt.credentials.", len(ids), SlotCap), "invalid_body")
	}
	if c.TokenEndpointAuthMethod != nil {
		return badRequest("Payload validation error: token_endpoint_auth_method and client_authentication_methods are mutually exclusive; send \"token_endpoint_auth_method\": null with client_authentication_methods.", "invalid_body")
	}
	if c.JWTAlg != "RS256" {
		return badRequest("client_authentication_methods requires jwt_configuration.alg to be RS256.", "invalid_body")
	}
	var missing []string
	for _, id := range ids {
		if findCredential(c, id) == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return badRequest(fmt.Sprintf("One or more of the credentials do not exist on this client: %v", missing), "invalid_body")
	}
	return nil
}
