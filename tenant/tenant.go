package tenant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/auth0/go-auth0/management"
	"golang.org/x/oauth2"
)

const (
	perPage          = 100 // the Management API's largest page
	credentialWorker = 8   // concurrent credential fetches
	tokenTimeout     = 30 * time.Second
)

// clientFields are the client properties rekey reads; asking for these alone keeps pages small
// and keeps other clients' secrets out of memory.
var clientFields = []string{
	"client_id", "name", "app_type", "grant_types", "jwt_configuration",
	"token_endpoint_auth_method", "client_authentication_methods",
}

// Tenant reads one Auth0 tenant through the Management API.
type Tenant struct {
	api    *management.Management
	domain string
	rt     *transport
}

// Client is one application of the tenant, with its Private Key JWT credential pool.
type Client struct {
	ID, Name, AppType, JWTAlg string
	AuthMethod                string   // "private_key_jwt" when client_authentication_methods.private_key_jwt is set, else token_endpoint_auth_method
	GrantTypes                []string // e.g. client_credentials
	AttachedIDs               []string // the credential ids client_authentication_methods.private_key_jwt lists
	// Credentials is the pool, attached first; for private_key_jwt clients only, and nil until
	// it has been read (ListClients leaves it unread).
	Credentials []Credential
}

// Credential is one public key in a client's pool.
type Credential struct {
	ID, Name, KID, Alg, Type string
	CreatedAt, UpdatedAt     time.Time
	ExpiresAt                *time.Time
	Attached                 bool // listed in client_authentication_methods.private_key_jwt
}

// Grant is a client grant: an API the client may request tokens for, with its scopes.
type Grant struct {
	Audience string
	Scope    []string
}

// PoolKnown reports whether the credential pool has been read (always, for other clients).
func (c Client) PoolKnown() bool { return c.AuthMethod != "private_key_jwt" || c.Credentials != nil }

// AttachedCount is the number of attached credentials, known from the client alone.
func (c Client) AttachedCount() int {
	if c.Credentials != nil || c.AuthMethod != "private_key_jwt" {
		return len(c.Attached())
	}
	return len(c.AttachedIDs)
}

// Attached returns the credentials attached to private_key_jwt, in the tenant's order.
func (c Client) Attached() []Credential {
	var out []Credential
	for _, cr := range c.Credentials {
		if cr.Attached {
			out = append(out, cr)
		}
	}
	return out
}

// SoonestExpiry returns the earliest expiry among attached credentials; false when none expires.
func (c Client) SoonestExpiry() (time.Time, bool) {
	var soonest time.Time
	found := false
	for _, cr := range c.Credentials {
		if cr.Attached && cr.ExpiresAt != nil && (!found || cr.ExpiresAt.Before(soonest)) {
			soonest, found = *cr.ExpiresAt, true
		}
	}
	return soonest, found
}

// Connect builds the management client (no network call) after Validate.
func Connect(cfg Config) (*Tenant, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	domain := cfg.host()
	base := cfg.HTTPClient
	if base == nil {
		base = http.DefaultClient
	}
	rt := newTransport(base.Transport, domain)
	apiClient := &http.Client{Transport: rt, Timeout: base.Timeout}
	opts := []management.Option{management.WithClient(apiClient), management.WithNoRetries()}
	if cfg.APIToken != "" {
		opts = append(opts, management.WithStaticToken(cfg.APIToken))
	} else {
		// x/oauth2 sends the token request with the client in this context, not with
		// management.WithClient's; it cannot be cancelled per call, hence the timeout.
		tokenClient := &http.Client{Transport: rt, Timeout: cmp.Or(base.Timeout, tokenTimeout)}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokenClient)
		opts = append(opts, management.WithClientCredentials(ctx, cfg.ClientID, cfg.ClientSecret))
	}
	api, err := management.New(domain, opts...)
	if err != nil {
		return nil, fmt.Errorf("tenant: AUTH0_DOMAIN %q: %w", domain, err)
	}
	return &Tenant{api: api, domain: domain, rt: rt}, nil
}

// Clients returns every client of the tenant sorted by name, with the credential pools of the
// private_key_jwt clients read in the order listed.
func (t *Tenant) Clients(ctx context.Context) ([]Client, error) {
	clients, err := t.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	next := 0
	queue := func() (int, bool) {
		next++
		return next - 1, next <= len(clients)
	}
	gone := make([]bool, len(clients))
	found := func(i int, pool []Credential, isGone bool) { clients[i].Credentials, gone[i] = pool, isGone }
	if err := t.LoadPools(ctx, clients, queue, found); err != nil {
		return nil, err
	}
	out := clients[:0]
	for i, c := range clients {
		if !gone[i] {
			out = append(out, c)
		}
	}
	return out, nil
}

// ListClients returns every client of the tenant sorted by name, from the client pages alone:
// the credential pools of private_key_jwt clients are left nil (unknown), their attached ids
// are in AttachedIDs. It costs one request per 100 clients.
func (t *Tenant) ListClients(ctx context.Context) ([]Client, error) {
	clients, err := t.listClients(ctx, "list clients")
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(clients, func(a, b Client) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return clients, nil
}

// Client returns one client with its credentials, by client id or else by its unique exact
// name; a *NotFoundError or *AmbiguousError when that fails.
func (t *Tenant) Client(ctx context.Context, idOrName string) (Client, error) {
	if strings.TrimSpace(idOrName) == "" {
		return Client{}, &NotFoundError{Query: idOrName}
	}
	c, err := t.ClientByID(ctx, idOrName)
	var notFound *NotFoundError
	if !errors.As(err, &notFound) {
		return c, err
	}
	// Not an id: look the name up in the pages.
	op := fmt.Sprintf("read client %q", idOrName)
	all, err := t.listClients(ctx, op)
	if err != nil {
		return Client{}, err
	}
	var matches []Client
	names := make([]string, 0, len(all))
	for _, c := range all {
		names = append(names, c.Name)
		if c.Name == idOrName {
			matches = append(matches, c)
		}
	}
	switch len(matches) {
	case 0:
		return Client{}, &NotFoundError{Query: idOrName, Suggestions: suggest(idOrName, names)}
	case 1:
		return t.withCredentials(ctx, op, matches[0])
	}
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = m.ID
	}
	slices.Sort(ids)
	return Client{}, &AmbiguousError{Name: idOrName, IDs: ids}
}

// ClientByID returns one client with its credentials by client id (one request, two for a
// private_key_jwt client); a *NotFoundError when no client has that id.
func (t *Tenant) ClientByID(ctx context.Context, id string) (Client, error) {
	op := fmt.Sprintf("read client %q", id)
	mc, err := t.api.Client.Read(ctx, id, management.IncludeFields(clientFields...))
	var me management.Error
	switch {
	case err == nil:
		if err := t.requireCredentialScope(op); err != nil {
			return Client{}, err
		}
		return t.withCredentials(ctx, op, fromManagement(mc))
	case errors.As(err, &me) && (me.Status() == http.StatusNotFound || me.Status() == http.StatusBadRequest):
		return Client{}, &NotFoundError{Query: id} // Auth0 answers 400 to ids of the wrong shape
	}
	return Client{}, classify(t.domain, op, err)
}

// Grants returns the client grants of a client: the APIs it may get tokens for.
func (t *Tenant) Grants(ctx context.Context, clientID string) ([]Grant, error) {
	op := fmt.Sprintf("list client grants of %s", clientID)
	grants := []Grant{}
	for page := 0; ; page++ {
		list, err := t.api.ClientGrant.List(ctx, management.Parameter("client_id", clientID),
			management.Page(page), management.PerPage(perPage), management.IncludeTotals(true))
		if err != nil {
			return nil, classify(t.domain, op, err)
		}
		for _, g := range list.ClientGrants {
			if g.GetClientID() != "" && g.GetClientID() != clientID {
				continue // a tenant that ignored the filter
			}
			grants = append(grants, Grant{Audience: g.GetAudience(), Scope: slices.Clone(derefSlice(g.Scope))})
		}
		if len(list.ClientGrants) == 0 || !list.HasNext() {
			break
		}
	}
	slices.SortStableFunc(grants, func(a, b Grant) int { return cmp.Compare(a.Audience, b.Audience) })
	return grants, nil
}

// listClients pages through every client (fields rekey reads only, no credentials).
func (t *Tenant) listClients(ctx context.Context, op string) ([]Client, error) {
	var (
		out   []Client
		seen  = map[string]bool{}
		total int
	)
	for page := 0; ; page++ {
		list, err := t.api.Client.List(ctx, management.Page(page), management.PerPage(perPage),
			management.IncludeTotals(true), management.IncludeFields(clientFields...))
		if err != nil {
			return nil, classify(t.domain, op, err)
		}
		if page == 0 {
			if err := t.requireCredentialScope(op); err != nil {
				return nil, err
			}
		}
		for _, mc := range list.Clients {
			c := fromManagement(mc)
			if c.ID == "" || seen[c.ID] {
				continue // a client that moved to the next page while paging
			}
			seen[c.ID] = true
			out = append(out, c)
		}
		total = list.Total
		if len(list.Clients) == 0 || !list.HasNext() {
			break
		}
	}
	if len(out) < total {
		return nil, fmt.Errorf("%s: the tenant reports %d clients but paging returned %d; clients may have changed meanwhile, try again", op, total, len(out))
	}
	return out, nil
}

// requireCredentialScope fails when the Management API token is known to lack
// read:client_credentials: without it Auth0 leaves client_authentication_methods out of client
// responses, so private_key_jwt clients would look like clients without credentials.
func (t *Tenant) requireCredentialScope(op string) error {
	scopes, known := t.rt.tokenScopes()
	if !known || slices.Contains(scopes, "read:client_credentials") {
		return nil
	}
	return unauthorized(t.domain, op, "the Management API token lacks the scope read:client_credentials, without which Auth0 hides which clients use private_key_jwt and their credentials", nil)
}

// withCredentials completes one listed client with its credential pool.
func (t *Tenant) withCredentials(ctx context.Context, op string, c Client) (Client, error) {
	if c.AuthMethod != "private_key_jwt" {
		return c, nil
	}
	pool, err := t.api.Client.ListCredentials(ctx, c.ID)
	if err != nil {
		return Client{}, classify(t.domain, op+": list credentials", err)
	}
	c.Credentials = mergePool(pool, c.AttachedIDs)
	return c, nil
}

// LoadPools reads the credential pools of the private_key_jwt clients among clients, with a
// few concurrent requests, in the order queue hands out indices (ok false: none left; other
// clients are skipped). found is called, concurrently, with each pool; gone means the client
// was deleted meanwhile (404). It stops at the first other error.
func (t *Tenant) LoadPools(ctx context.Context, clients []Client, queue func() (i int, ok bool), found func(i int, pool []Credential, gone bool)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		for firstErr == nil && ctx.Err() == nil {
			i, ok := queue()
			if !ok {
				return 0, false
			}
			if clients[i].AuthMethod == "private_key_jwt" {
				return i, true
			}
		}
		return 0, false
	}
	for range credentialWorker {
		wg.Go(func() {
			for i, ok := next(); ok; i, ok = next() {
				c := clients[i]
				pool, err := t.api.Client.ListCredentials(ctx, c.ID)
				var me management.Error
				switch {
				case err == nil:
					found(i, mergePool(pool, c.AttachedIDs), false)
				case errors.As(err, &me) && me.Status() == http.StatusNotFound:
					found(i, nil, true)
				default:
					mu.Lock()
					if firstErr == nil && ctx.Err() == nil {
						firstErr = classify(t.domain, fmt.Sprintf("list credentials of client %s (%s)", c.Name, c.ID), err)
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list credentials: %w", err)
	}
	return nil
}

// fromManagement converts a go-auth0 client (credentials not yet known).
func fromManagement(mc *management.Client) Client {
	c := Client{
		ID: mc.GetClientID(), Name: mc.GetName(), AppType: mc.GetAppType(),
		JWTAlg:     mc.GetJWTConfiguration().GetAlgorithm(),
		AuthMethod: mc.GetTokenEndpointAuthMethod(),
		GrantTypes: slices.Clone(derefSlice(mc.GrantTypes)),
	}
	if methods := mc.ClientAuthenticationMethods; methods != nil {
		switch {
		case methods.PrivateKeyJWT != nil:
			c.AuthMethod = "private_key_jwt"
			for _, ref := range derefSlice(methods.PrivateKeyJWT.Credentials) {
				c.AttachedIDs = append(c.AttachedIDs, ref.GetID())
			}
		case methods.TLSClientAuth != nil:
			c.AuthMethod = "tls_client_auth"
		case methods.SelfSignedTLSClientAuth != nil:
			c.AuthMethod = "self_signed_tls_client_auth"
		}
	}
	return c
}

// mergePool converts the pool and orders it for the attached ids (OrderPool).
func mergePool(pool []*management.Credential, attached []string) []Credential {
	out := make([]Credential, 0, len(pool))
	for _, p := range pool {
		cr := Credential{
			ID: p.GetID(), Name: p.GetName(), KID: p.GetKeyID(), Alg: p.GetAlgorithm(), Type: p.GetCredentialType(),
			CreatedAt: p.GetCreatedAt(), UpdatedAt: p.GetUpdatedAt(),
		}
		if p.ExpiresAt != nil {
			at := *p.ExpiresAt
			cr.ExpiresAt = &at
		}
		out = append(out, cr)
	}
	return OrderPool(out, attached)
}

// OrderPool marks the credentials the attached ids list as Attached, and orders pool in place:
// attached first, in the slot's order, then the others by creation time.
func OrderPool(pool []Credential, attached []string) []Credential {
	for i := range pool {
		pool[i].Attached = slices.Contains(attached, pool[i].ID)
	}
	slices.SortStableFunc(pool, func(a, b Credential) int {
		switch {
		case a.Attached && b.Attached:
			return cmp.Compare(slices.Index(attached, a.ID), slices.Index(attached, b.ID))
		case a.Attached != b.Attached:
			if a.Attached {
				return -1
			}
			return 1
		}
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return pool
}

func derefSlice[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}
