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
	AuthMethod                string       // "private_key_jwt" when client_authentication_methods.private_key_jwt is set, else token_endpoint_auth_method
	GrantTypes                []string     // e.g. client_credentials
	Credentials               []Credential // the pool, attached first; only for private_key_jwt clients (others: nil)
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
// private_key_jwt clients.
func (t *Tenant) Clients(ctx context.Context) ([]Client, error) {
	raw, err := t.listClients(ctx, "list clients")
	if err != nil {
		return nil, err
	}
	clients := make([]Client, len(raw))
	for i, c := range raw {
		clients[i] = c.client
	}
	gone, err := t.fetchCredentials(ctx, clients, raw)
	if err != nil {
		return nil, err
	}
	out := clients[:0]
	for i, c := range clients {
		if !gone[i] {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b Client) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Client returns one client with its credentials, by client id or else by its unique exact
// name; a *NotFoundError or *AmbiguousError when that fails.
func (t *Tenant) Client(ctx context.Context, idOrName string) (Client, error) {
	if strings.TrimSpace(idOrName) == "" {
		return Client{}, &NotFoundError{Query: idOrName}
	}
	op := fmt.Sprintf("read client %q", idOrName)
	mc, err := t.api.Client.Read(ctx, idOrName, management.IncludeFields(clientFields...))
	var me management.Error
	switch {
	case err == nil:
		if err := t.requireCredentialScope(op); err != nil {
			return Client{}, err
		}
		return t.withCredentials(ctx, op, fromManagement(mc))
	case errors.As(err, &me) && (me.Status() == http.StatusNotFound || me.Status() == http.StatusBadRequest):
		// Not an id (Auth0 answers 400 to ids of the wrong shape): look the name up.
	default:
		return Client{}, classify(t.domain, op, err)
	}
	all, err := t.listClients(ctx, op)
	if err != nil {
		return Client{}, err
	}
	var matches []listed
	names := make([]string, 0, len(all))
	for _, c := range all {
		names = append(names, c.client.Name)
		if c.client.Name == idOrName {
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
		ids[i] = m.client.ID
	}
	slices.Sort(ids)
	return Client{}, &AmbiguousError{Name: idOrName, IDs: ids}
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

// listed is a client as listed, with the ids its private_key_jwt slot names.
type listed struct {
	client   Client
	attached []string
}

// listClients pages through every client (fields rekey reads only, no credentials).
func (t *Tenant) listClients(ctx context.Context, op string) ([]listed, error) {
	var (
		out   []listed
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
			l := fromManagement(mc)
			if l.client.ID == "" || seen[l.client.ID] {
				continue // a client that moved to the next page while paging
			}
			seen[l.client.ID] = true
			out = append(out, l)
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
func (t *Tenant) withCredentials(ctx context.Context, op string, l listed) (Client, error) {
	c := l.client
	if c.AuthMethod != "private_key_jwt" {
		return c, nil
	}
	pool, err := t.api.Client.ListCredentials(ctx, c.ID)
	if err != nil {
		return Client{}, classify(t.domain, op+": list credentials", err)
	}
	c.Credentials = mergePool(pool, l.attached)
	return c, nil
}

// fetchCredentials fills in the pools of the private_key_jwt clients with a few concurrent
// requests, stopping at the first error. It reports clients deleted meanwhile (404) as gone.
func (t *Tenant) fetchCredentials(ctx context.Context, clients []Client, raw []listed) ([]bool, error) {
	gone := make([]bool, len(clients))
	var todo []int
	for i, c := range clients {
		if c.AuthMethod == "private_key_jwt" {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return gone, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
		jobs     = make(chan int)
	)
	for range min(credentialWorker, len(todo)) {
		wg.Go(func() {
			for i := range jobs {
				pool, err := t.api.Client.ListCredentials(ctx, clients[i].ID)
				var me management.Error
				switch {
				case err == nil:
					clients[i].Credentials = mergePool(pool, raw[i].attached)
				case errors.As(err, &me) && me.Status() == http.StatusNotFound:
					gone[i] = true
				default:
					once.Do(func() {
						firstErr = classify(t.domain, fmt.Sprintf("list credentials of client %s (%s)", clients[i].Name, clients[i].ID), err)
						cancel()
					})
				}
			}
		})
	}
feed:
	for _, i := range todo {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return gone, nil
}

// fromManagement converts a go-auth0 client (credentials not yet known).
func fromManagement(mc *management.Client) listed {
	c := Client{
		ID: mc.GetClientID(), Name: mc.GetName(), AppType: mc.GetAppType(),
		JWTAlg:     mc.GetJWTConfiguration().GetAlgorithm(),
		AuthMethod: mc.GetTokenEndpointAuthMethod(),
		GrantTypes: slices.Clone(derefSlice(mc.GrantTypes)),
	}
	var attached []string
	if methods := mc.ClientAuthenticationMethods; methods != nil {
		switch {
		case methods.PrivateKeyJWT != nil:
			c.AuthMethod = "private_key_jwt"
			for _, ref := range derefSlice(methods.PrivateKeyJWT.Credentials) {
				attached = append(attached, ref.GetID())
			}
		case methods.TLSClientAuth != nil:
			c.AuthMethod = "tls_client_auth"
		case methods.SelfSignedTLSClientAuth != nil:
			c.AuthMethod = "self_signed_tls_client_auth"
		}
	}
	if c.AuthMethod == "private_key_jwt" {
		c.Credentials = []Credential{}
	}
	return listed{client: c, attached: attached}
}

// mergePool returns the pool with the attached credentials first, in the slot's order, then
// the others by creation time.
func mergePool(pool []*management.Credential, attached []string) []Credential {
	out := make([]Credential, 0, len(pool))
	for _, p := range pool {
		cr := Credential{
			ID: p.GetID(), Name: p.GetName(), KID: p.GetKeyID(), Alg: p.GetAlgorithm(), Type: p.GetCredentialType(),
			CreatedAt: p.GetCreatedAt(), UpdatedAt: p.GetUpdatedAt(), Attached: slices.Contains(attached, p.GetID()),
		}
		if p.ExpiresAt != nil {
			at := *p.ExpiresAt
			cr.ExpiresAt = &at
		}
		out = append(out, cr)
	}
	slices.SortStableFunc(out, func(a, b Credential) int {
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
	return out
}

func derefSlice[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}
