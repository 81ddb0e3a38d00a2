package sandbox

import "slices"

// ResourceServer is an API of the tenant: an audience tokens may be issued for.
type ResourceServer struct {
	ID         string `json:"id"`
	Identifier string `json:"identifier"`
	Name       string `json:"name"`
	// Properties holds the resource server's other properties (token_lifetime, scopes, ...)
	// as Auth0 returns them.
	Properties map[string]any `json:"properties,omitempty"`
}

// ResourceServerPatch is a change to a resource server: a new name (nil leaves it) and a JSON
// merge patch of its other properties.
type ResourceServerPatch struct {
	Name       *string
	Properties map[string]any
}

// newResourceServerProperties are the properties Auth0 gives a new resource server.
func newResourceServerProperties() map[string]any {
	return map[string]any{
		"allow_offline_access": false, "skip_consent_for_verifiable_first_party_clients": false,
		"token_lifetime": 86400, "token_lifetime_for_web": 7200, "signing_alg": "RS256",
	}
}

func errNoResourceServer() error {
	return notFound("The resource server does not exist", "inexistent_resource_server")
}

// hasAPI reports whether audience is the identifier of a resource server.
func (t *Tenant) hasAPI(audience string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.apiByIdentifier(audience) != nil
}

// AddAPI registers a resource server with the given identifier and name, or renames the one
// that has that identifier.
func (t *Tenant) AddAPI(identifier, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rs := t.apiByIdentifier(identifier); rs != nil {
		rs.Name = name
	} else {
		t.apis = append(t.apis, newResourceServer(identifier, name))
	}
	t.changed()
}

func newResourceServer(identifier, name string) *ResourceServer {
	return &ResourceServer{ID: randomHexID(24), Identifier: identifier, Name: name, Properties: newResourceServerProperties()}
}

// CreateResourceServer creates a resource server from p over Auth0's defaults; an identifier
// already in use is a conflict.
func (t *Tenant) CreateResourceServer(identifier string, p ResourceServerPatch) (ResourceServer, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.apiByIdentifier(identifier) != nil {
		return ResourceServer{}, conflict("A resource server with the same identifier already exists")
	}
	rs := newResourceServer(identifier, "")
	rs.apply(p)
	t.apis = append(t.apis, rs)
	t.changed()
	return rs.clone(), nil
}

// ResourceServer returns a copy of the resource server with the given id or identifier.
func (t *Tenant) ResourceServer(idOrIdentifier string) (ResourceServer, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	rs := t.lookupAPI(idOrIdentifier)
	if rs == nil {
		return ResourceServer{}, errNoResourceServer()
	}
	return rs.clone(), nil
}

// ResourceServers returns copies of the resource servers, in creation order.
func (t *Tenant) ResourceServers() []ResourceServer {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]ResourceServer, 0, len(t.apis))
	for _, rs := range t.apis {
		out = append(out, rs.clone())
	}
	return out
}

// UpdateResourceServer applies p to the resource server with the given id or identifier.
func (t *Tenant) UpdateResourceServer(idOrIdentifier string, p ResourceServerPatch) (ResourceServer, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rs := t.lookupAPI(idOrIdentifier)
	if rs == nil {
		return ResourceServer{}, errNoResourceServer()
	}
	rs.apply(p)
	t.changed()
	return rs.clone(), nil
}

// DeleteResourceServer removes the resource server with the given id or identifier. Client
// grants for it are left in place; tokens for it are refused from then on.
func (t *Tenant) DeleteResourceServer(idOrIdentifier string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	rs := t.lookupAPI(idOrIdentifier)
	if rs == nil {
		return errNoResourceServer()
	}
	t.apis = slices.DeleteFunc(t.apis, func(x *ResourceServer) bool { return x == rs })
	t.changed()
	return nil
}

// lookupAPI finds a resource server by id or identifier; the caller holds the lock.
func (t *Tenant) lookupAPI(idOrIdentifier string) *ResourceServer {
	for _, rs := range t.apis {
		if rs.ID == idOrIdentifier || rs.Identifier == idOrIdentifier {
			return rs
		}
	}
	return nil
}

// apiByIdentifier finds a resource server by identifier; the caller holds the lock.
func (t *Tenant) apiByIdentifier(identifier string) *ResourceServer {
	for _, rs := range t.apis {
		if rs.Identifier == identifier {
			return rs
		}
	}
	return nil
}

func (rs *ResourceServer) apply(p ResourceServerPatch) {
	if p.Name != nil {
		rs.Name = *p.Name
	}
	if p.Properties != nil {
		rs.Properties = mergePatch(rs.Properties, p.Properties)
	}
}

func (rs *ResourceServer) clone() ResourceServer {
	out := *rs
	out.Properties = cloneObject(rs.Properties)
	return out
}
