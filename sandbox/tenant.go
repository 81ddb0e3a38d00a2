// Package sandbox is an embedded Auth0 look-alike: an HTTPS tenant on loopback that serves the
// parts of the Authentication and Management APIs a Private Key JWT rotation depends on, with
// the status codes, error bodies and limits recorded in the project's Auth0 facts.
package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"slices"
	"sync"
	"time"

	"rekey/keys"
)

// Defaults of a tenant, as Auth0 documents them.
const (
	DefaultPoolCap = 2 // credentials a client may hold; some tenants are entitled to 4
	SlotCap        = 2 // credentials attached to private_key_jwt at once
	maxPoolCap     = 4
)

// Client is one application of the tenant.
type Client struct {
	ID         string   `json:"client_id"`
	Name       string   `json:"name"`
	AppType    string   `json:"app_type"`
	Secret     string   `json:"client_secret"`
	GrantTypes []string `json:"grant_types"`
	JWTAlg     string   `json:"jwt_alg"`
	// TokenEndpointAuthMethod is nil once private_key_jwt is configured, as in Auth0.
	TokenEndpointAuthMethod *string `json:"token_endpoint_auth_method"`
	// PrivateKeyJWT lists the attached credential ids; nil when the client has no
	// client_authentication_methods at all.
	PrivateKeyJWT *[]string     `json:"private_key_jwt"`
	Credentials   []*Credential `json:"credentials"`
}

// Credential is one public key in a client's pool.
type Credential struct {
	ID             string     `json:"id"`
	Name           string     `json:"name,omitempty"`
	KID            string     `json:"kid"`
	Alg            string     `json:"alg"`
	CredentialType string     `json:"credential_type"`
	PEM            string     `json:"pem"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`

	key *rsa.PublicKey
}

// ClientGrant allows a client to request tokens for an API.
type ClientGrant struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scope    []string `json:"scope"`
}

// API is a resource server: an audience tokens may be issued for.
type API struct {
	Identifier string `json:"identifier"`
	Name       string `json:"name"`
}

// NewCredential is what a caller supplies to create a credential.
type NewCredential struct {
	Name                string
	PEM                 string
	Alg                 string
	ParseExpiryFromCert bool
	ExpiresAt           *time.Time
	KID                 string
}

// Tenant holds the sandbox's clients, credentials, grants and APIs; safe for concurrent use.
type Tenant struct {
	mu      sync.RWMutex
	clients []*Client
	byID    map[string]*Client
	grants  []*ClientGrant
	apis    map[string]*API
	poolCap int
	now     func() time.Time
	onWrite func() // persists after a change; called with the lock held

	usageMu  sync.Mutex
	lastUsed map[string]time.Time // by client id and kid: when an assertion last verified with it
}

// NewTenant returns an empty tenant whose clients may each hold poolCap credentials (2 or 4).
func NewTenant(poolCap int) (*Tenant, error) {
	if poolCap < DefaultPoolCap || poolCap > maxPoolCap {
		return nil, fmt.Errorf("sandbox: credential pool cap %d: Auth0 tenants allow %d (default) to %d", poolCap, DefaultPoolCap, maxPoolCap)
	}
	return &Tenant{byID: map[string]*Client{}, apis: map[string]*API{}, poolCap: poolCap, now: time.Now}, nil
}

// SetClock replaces the tenant's clock; tests use it to move past expiry dates.
func (t *Tenant) SetClock(now func() time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.now = now
}

// clock returns the tenant's current time.
func (t *Tenant) clock() time.Time {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.now()
}

// hasAPI reports whether audience names a registered API.
func (t *Tenant) hasAPI(audience string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.apis[audience] != nil
}

func (t *Tenant) changed() {
	if t.onWrite != nil {
		t.onWrite()
	}
}

// AddAPI registers an audience.
func (t *Tenant) AddAPI(identifier, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.apis[identifier] = &API{Identifier: identifier, Name: name}
	t.changed()
}

// AddClient creates a client with a generated id and secret; its token endpoint auth method
// starts as Auth0 sets it: none for native and single-page apps, else client_secret_post.
func (t *Tenant) AddClient(name, appType string, grantTypes []string) *Client {
	t.mu.Lock()
	defer t.mu.Unlock()
	method := "client_secret_post"
	if appType == "native" || appType == "spa" {
		method = "none"
	}
	c := &Client{
		ID: randomID("", 32), Name: name, AppType: appType, Secret: randomID("", 64),
		GrantTypes: slices.Clone(grantTypes), JWTAlg: "RS256", TokenEndpointAuthMethod: &method,
	}
	t.clients = append(t.clients, c)
	t.byID[c.ID] = c
	t.changed()
	snapshot := c.clone()
	return &snapshot
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

// AddGrant allows clientID to request tokens for audience with the given scopes.
func (t *Tenant) AddGrant(clientID, audience string, scope []string) (*ClientGrant, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID[clientID] == nil {
		return nil, notFound("The client does not exist", "inexistent_client")
	}
	if t.apis[audience] == nil {
		return nil, notFound("The resource server does not exist", "inexistent_resource_server")
	}
	g := &ClientGrant{ID: randomID("cgr_", 16), ClientID: clientID, Audience: audience, Scope: slices.Clone(scope)}
	t.grants = append(t.grants, g)
	t.changed()
	return g, nil
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

// Grants returns the client grants, filtered by client id and audience when given.
func (t *Tenant) Grants(clientID, audience string) []ClientGrant {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []ClientGrant
	for _, g := range t.grants {
		if (clientID == "" || g.ClientID == clientID) && (audience == "" || g.Audience == audience) {
			out = append(out, *g)
		}
	}
	return out
}

// ClientPatch is a change to a client; nil fields are left alone. The Set flags tell an
// explicit JSON null (clear) from an absent field.
type ClientPatch struct {
	Name                       *string
	Description                *string
	AppType                    *string
	GrantTypes                 *[]string
	JWTAlg                     *string
	TokenEndpointAuthMethodSet bool
	TokenEndpointAuthMethod    *string
	AuthMethodsSet             bool
	PrivateKeyJWT              *[]string // nil with AuthMethodsSet clears client_authentication_methods
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
	next := *c
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.AppType != nil {
		next.AppType = *p.AppType
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
	if err := validateAuthMethods(&next); err != nil {
		return Client{}, err
	}
	*c = next
	t.changed()
	return c.clone(), nil
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

// Credentials returns copies of a client's credential pool.
func (t *Tenant) Credentials(clientID string) ([]Credential, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.byID[clientID]
	if c == nil {
		return nil, notFound("Client not found.", "inexistent_client")
	}
	out := make([]Credential, 0, len(c.Credentials))
	for _, cr := range c.Credentials {
		out = append(out, *cr)
	}
	return out, nil
}

// Credential returns a copy of one credential.
func (t *Tenant) Credential(clientID, credID string) (Credential, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	cr, err := t.lookupCredential(clientID, credID)
	if err != nil {
		return Credential{}, err
	}
	return *cr, nil
}

func (t *Tenant) lookupCredential(clientID, credID string) (*Credential, error) {
	c := t.byID[clientID]
	if c == nil {
		return nil, notFound("Client not found.", "inexistent_client")
	}
	cr := findCredential(c, credID)
	if cr == nil {
		return nil, notFound("Credential does not exist", "inexistent_credential")
	}
	return cr, nil
}

func findCredential(c *Client, id string) *Credential {
	for _, cr := range c.Credentials {
		if cr.ID == id {
			return cr
		}
	}
	return nil
}

// CreateCredential adds a public_key credential to a client's pool (not attached), enforcing
// the pool cap, one use per key, supported algorithms and key sizes, and expiry rules.
func (t *Tenant) CreateCredential(clientID string, in NewCredential) (Credential, error) {
	pub, err := keys.ParsePublic([]byte(in.PEM))
	if err != nil {
		return Credential{}, badRequest(fmt.Sprintf("Invalid pem: %v", err), "invalid_body")
	}
	alg := in.Alg
	if alg == "" {
		alg = "RS256"
	}
	if !slices.Contains(credentialAlgs, alg) {
		return Credential{}, badRequest(fmt.Sprintf("Payload validation error: 'No enum match for: \"%s\"' on property alg (Algorithm which will be used with the credential. Supported algorithms: RS256,RS384,PS256).", alg), "invalid_body")
	}
	if len(in.Name) > 128 {
		return Credential{}, badRequest("Payload validation error: 'String is too long (max 128)' on property name.", "invalid_body")
	}
	expires, err := credentialExpiry(in, pub)
	if err != nil {
		return Credential{}, err
	}
	kid := keys.Thumbprint(pub.Key)
	if in.KID != "" {
		kid = in.KID
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.byID[clientID]
	if c == nil {
		return Credential{}, notFound("Client not found.", "inexistent_client")
	}
	if expires != nil && !expires.After(t.now()) {
		return Credential{}, badRequest("expires_at must be a date in the future.", "invalid_body")
	}
	if len(c.Credentials) >= t.poolCap {
		return Credential{}, badRequest(fmt.Sprintf("A client can have a maximum of %d credentials.", t.poolCap), "invalid_body")
	}
	for _, cr := range c.Credentials {
		if cr.key.Equal(pub.Key) {
			return Credential{}, badRequest("credentials contains public keys that already exist in client", "invalid_body")
		}
	}
	now := t.now().UTC().Truncate(time.Millisecond)
	cr := &Credential{
		ID: randomID("cred_", 22), Name: in.Name, KID: kid, Alg: alg, CredentialType: "public_key",
		PEM: in.PEM, CreatedAt: now, UpdatedAt: now, ExpiresAt: expires, key: pub.Key,
	}
	c.Credentials = append(c.Credentials, cr)
	t.changed()
	return *cr, nil
}

var credentialAlgs = []string{"RS256", "RS384", "PS256"}

func credentialExpiry(in NewCredential, pub keys.PublicKey) (*time.Time, error) {
	if !in.ParseExpiryFromCert {
		if in.ExpiresAt == nil {
			return nil, nil
		}
		at := in.ExpiresAt.UTC().Truncate(time.Millisecond)
		return &at, nil
	}
	if in.ExpiresAt != nil {
		return nil, badRequest("parse_expiry_from_cert and expires_at are mutually exclusive.", "invalid_body")
	}
	notAfter, ok := pub.NotAfter()
	if !ok {
		return nil, badRequest("parse_expiry_from_cert requires the pem to be an X.509 certificate.", "invalid_body")
	}
	at := notAfter.UTC().Truncate(time.Millisecond)
	return &at, nil
}

// SetCredentialExpiry changes a credential's expires_at, the only field Auth0 lets a PATCH change.
func (t *Tenant) SetCredentialExpiry(clientID, credID string, at time.Time) (Credential, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cr, err := t.lookupCredential(clientID, credID)
	if err != nil {
		return Credential{}, err
	}
	at = at.UTC().Truncate(time.Millisecond)
	cr.ExpiresAt = &at
	cr.UpdatedAt = t.now().UTC().Truncate(time.Millisecond)
	t.changed()
	return *cr, nil
}

// DeleteCredential removes a credential from the pool; an attached one is refused.
func (t *Tenant) DeleteCredential(clientID, credID string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	cr, err := t.lookupCredential(clientID, credID)
	if err != nil {
		return err
	}
	c := t.byID[clientID]
	if c.PrivateKeyJWT != nil && slices.Contains(*c.PrivateKeyJWT, cr.ID) {
		return badRequest("Cannot delete credential still associated with a client", "")
	}
	c.Credentials = slices.DeleteFunc(c.Credentials, func(x *Credential) bool { return x == cr })
	t.changed()
	return nil
}

// liveKey is an attached, unexpired credential's key.
type liveKey struct {
	kid string
	key *rsa.PublicKey
}

// activeKeys returns the attached, unexpired credentials of a client that use alg; with a
// kid, only the credential with that kid.
func (t *Tenant) activeKeys(clientID, alg, kid string) []liveKey {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.byID[clientID]
	if c == nil || c.PrivateKeyJWT == nil {
		return nil
	}
	now := t.now()
	var out []liveKey
	for _, id := range *c.PrivateKeyJWT {
		cr := findCredential(c, id)
		if cr == nil || cr.Alg != alg || (cr.ExpiresAt != nil && !cr.ExpiresAt.After(now)) {
			continue
		}
		if kid != "" && cr.KID != kid {
			continue
		}
		out = append(out, liveKey{kid: cr.KID, key: cr.key})
	}
	return out
}

// recordUse notes that clientID authenticated with the credential kid at time at.
func (t *Tenant) recordUse(clientID, kid string, at time.Time) {
	t.usageMu.Lock()
	defer t.usageMu.Unlock()
	if t.lastUsed == nil {
		t.lastUsed = map[string]time.Time{}
	}
	t.lastUsed[clientID+"\x00"+kid] = at
}

// LastUsed tells when clientID last authenticated with the credential kid. Auth0 has no such
// API; the sandbox offers it so that a rotation can refuse to retire a key still in use.
func (t *Tenant) LastUsed(clientID, kid string) (time.Time, bool) {
	t.usageMu.Lock()
	defer t.usageMu.Unlock()
	at, ok := t.lastUsed[clientID+"\x00"+kid]
	return at, ok
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomID returns prefix followed by n random alphanumerics, like Auth0's ids.
func randomID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}
