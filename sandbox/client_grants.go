package sandbox

import (
	"fmt"
	"slices"
)

// ClientGrant allows a client to request tokens for an API.
type ClientGrant struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scope    []string `json:"scope"`
	// Properties holds the grant's other properties (subject_type, organization_usage, ...)
	// as Auth0 returns them.
	Properties map[string]any `json:"properties,omitempty"`
}

// GrantPatch is a change to a client grant: a new scope (nil leaves it) and a JSON merge patch
// of its other properties.
type GrantPatch struct {
	Scope      *[]string
	Properties map[string]any
}

// AddGrant allows clientID to request tokens for audience with the given scopes.
func (t *Tenant) AddGrant(clientID, audience string, scope []string) (*ClientGrant, error) {
	g, err := t.CreateGrant(clientID, audience, GrantPatch{Scope: &scope})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// CreateGrant creates a client grant for an existing client and resource server. A client may
// hold one grant per audience and subject type, as in Auth0.
func (t *Tenant) CreateGrant(clientID, audience string, p GrantPatch) (ClientGrant, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID[clientID] == nil {
		return ClientGrant{}, notFound("Client not found", "inexistent_client")
	}
	if t.apiByIdentifier(audience) == nil {
		return ClientGrant{}, notFound(fmt.Sprintf("No resource with identifier %s", audience), "inexistent_resource_server")
	}
	g := &ClientGrant{ID: randomID("cgr_", 16), ClientID: clientID, Audience: audience, Scope: []string{}}
	g.apply(p)
	if slices.ContainsFunc(t.grants, func(x *ClientGrant) bool {
		return x.ClientID == clientID && x.Audience == audience && x.subjectType() == g.subjectType()
	}) {
		return ClientGrant{}, conflict(fmt.Sprintf("A client grant already exists between %s and %s", clientID, audience))
	}
	t.grants = append(t.grants, g)
	t.changed()
	return g.clone(), nil
}

// Grant returns a copy of the client grant with the given id.
func (t *Tenant) Grant(id string) (ClientGrant, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	g := t.lookupGrant(id)
	if g == nil {
		return ClientGrant{}, errNoGrant()
	}
	return g.clone(), nil
}

// Grants returns the client grants, filtered by client id and audience when given.
func (t *Tenant) Grants(clientID, audience string) []ClientGrant {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []ClientGrant
	for _, g := range t.grants {
		if (clientID == "" || g.ClientID == clientID) && (audience == "" || g.Audience == audience) {
			out = append(out, g.clone())
		}
	}
	return out
}

// UpdateGrant applies p to the client grant with the given id.
func (t *Tenant) UpdateGrant(id string, p GrantPatch) (ClientGrant, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.lookupGrant(id)
	if g == nil {
		return ClientGrant{}, errNoGrant()
	}
	g.apply(p)
	t.changed()
	return g.clone(), nil
}

// DeleteGrant removes the client grant with the given id; as in Auth0, deleting one that does
// not exist (any more) succeeds.
func (t *Tenant) DeleteGrant(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g := t.lookupGrant(id); g != nil {
		t.grants = slices.DeleteFunc(t.grants, func(x *ClientGrant) bool { return x == g })
		t.changed()
	}
}

func errNoGrant() error {
	return notFound("The client grant does not exist", "inexistent_client_grant")
}

// lookupGrant finds a client grant by id; the caller holds the lock.
func (t *Tenant) lookupGrant(id string) *ClientGrant {
	i := slices.IndexFunc(t.grants, func(g *ClientGrant) bool { return g.ID == id })
	if i < 0 {
		return nil
	}
	return t.grants[i]
}

func (g *ClientGrant) apply(p GrantPatch) {
	if p.Scope != nil {
		g.Scope = slices.Clone(*p.Scope)
	}
	if p.Properties != nil {
		g.Properties = mergePatch(g.Properties, p.Properties)
	}
}

// subjectType is the kind of access the grant gives: client unless it says user.
func (g *ClientGrant) subjectType() string {
	if s, ok := g.Properties["subject_type"].(string); ok && s != "" {
		return s
	}
	return "client"
}

func (g *ClientGrant) clone() ClientGrant {
	out := *g
	out.Scope = slices.Clone(g.Scope)
	out.Properties = cloneObject(g.Properties)
	return out
}
