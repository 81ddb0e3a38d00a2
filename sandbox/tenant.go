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

// NewCredential is what a caller supplies to create a credential.
type NewCredential struct {
	Name                string
	PEM                 string
	Alg                 string
	ParseExpiryFromCert bool
	ExpiresAt           *time.Time
	KID                 string
}

// Tenant holds the sandbox's clients, credentials, client grants and resource servers; safe
// for concurrent use.
type Tenant struct {
	mu      sync.RWMutex
	clients []*Client
	byID    map[string]*Client
	grants  []*ClientGrant
	apis    []*ResourceServer // in creation order
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
	return &Tenant{byID: map[string]*Client{}, poolCap: poolCap, now: time.Now}, nil
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

func (t *Tenant) changed() {
	if t.onWrite != nil {
		t.onWrite()
	}
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
func randomID(prefix string, n int) string { return prefix + randomString(idAlphabet, n) }

// randomHexID returns n random lowercase hex digits, like the ids of Auth0's resource servers.
func randomHexID(n int) string { return randomString("0123456789abcdef", n) }

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
