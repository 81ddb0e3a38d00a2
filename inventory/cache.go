package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"rekey/internal/atomicfile"
	"rekey/tenant"
)

// cacheVersion changes when the file's shape does; files of another version are ignored.
const cacheVersion = 1

// Cache is one tenant's client list on disk: names, ids, auth methods and the public details
// of credentials (no secret, no key material). Credentials are kept by id, which Auth0 never
// reuses, so a cached credential stays true for as long as a client's slot still names it.
type Cache struct {
	path string
}

// OpenCache returns the cache of the tenant at domain in dir (the per-user cache folder,
// $XDG_CACHE_HOME/rekey/tenants, when dir is ""). Nothing is read or written yet.
func OpenCache(dir, domain string) (*Cache, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("inventory: no cache folder (set XDG_CACHE_HOME or HOME): %w", err)
		}
		dir = filepath.Join(base, "rekey", "tenants")
	}
	name := strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, domain)
	return &Cache{path: filepath.Join(dir, name+".json")}, nil
}

// Path is the cache file.
func (c *Cache) Path() string { return c.path }

// snapshot is the file.
type snapshot struct {
	Version     int                         `json:"version"`
	SavedAt     time.Time                   `json:"saved_at"`
	Clients     []cachedClient              `json:"clients"`
	Credentials map[string]cachedCredential `json:"credentials"`
}

type cachedClient struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	AppType     string   `json:"app_type,omitempty"`
	JWTAlg      string   `json:"jwt_alg,omitempty"`
	AuthMethod  string   `json:"auth_method,omitempty"`
	GrantTypes  []string `json:"grant_types,omitempty"`
	AttachedIDs []string `json:"attached,omitempty"`
	Pool        []string `json:"pool,omitempty"` // credential ids of the pool when it was read
	PoolKnown   bool     `json:"pool_known,omitempty"`
}

type cachedCredential struct {
	Name      string     `json:"name,omitempty"`
	KID       string     `json:"kid,omitempty"`
	Alg       string     `json:"alg,omitempty"`
	Type      string     `json:"type,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Contents is what a cache file holds.
type Contents struct {
	SavedAt time.Time
	Clients []tenant.Client // as saved: pools that were read are filled in, others nil
	pools   map[string]cachedPool
}

// cachedPool is a client's pool as saved.
type cachedPool struct {
	ids   []string
	creds []tenant.Credential
}

// Load reads the cache; ok is false when there is none (or it is of another version, or
// unreadable: a cache is never worth failing for).
func (c *Cache) Load() (Contents, bool) {
	data, err := os.ReadFile(c.path)
	if err != nil {
		return Contents{}, false
	}
	var s snapshot
	if json.Unmarshal(data, &s) != nil || s.Version != cacheVersion {
		return Contents{}, false
	}
	out := Contents{SavedAt: s.SavedAt, Clients: make([]tenant.Client, len(s.Clients)), pools: map[string]cachedPool{}}
	for i, cc := range s.Clients {
		cl := tenant.Client{ID: cc.ID, Name: cc.Name, AppType: cc.AppType, JWTAlg: cc.JWTAlg, AuthMethod: cc.AuthMethod,
			GrantTypes: cc.GrantTypes, AttachedIDs: cc.AttachedIDs}
		if cc.PoolKnown {
			creds := make([]tenant.Credential, 0, len(cc.Pool))
			for _, id := range cc.Pool {
				if cr, ok := s.Credentials[id]; ok {
					creds = append(creds, tenant.Credential{ID: id, Name: cr.Name, KID: cr.KID, Alg: cr.Alg, Type: cr.Type,
						CreatedAt: cr.CreatedAt, UpdatedAt: cr.UpdatedAt, ExpiresAt: cr.ExpiresAt})
				}
			}
			out.pools[cc.ID] = cachedPool{ids: cc.Pool, creds: creds}
			cl.Credentials = tenant.OrderPool(slices.Clone(creds), cc.AttachedIDs)
		}
		out.Clients[i] = cl
	}
	return out, true
}

// Pool returns the cached pool of a client as listed now, when the cache holds every
// credential its slot attaches; the pool may lack credentials added since, never attached ones.
func (c Contents) Pool(cl tenant.Client) ([]tenant.Credential, bool) {
	p, ok := c.pools[cl.ID]
	if !ok {
		return nil, false
	}
	for _, id := range cl.AttachedIDs {
		if !slices.Contains(p.ids, id) {
			return nil, false
		}
	}
	return tenant.OrderPool(slices.Clone(p.creds), cl.AttachedIDs), true
}

// IDsNamed returns the ids of the cached clients named name exactly.
func (c Contents) IDsNamed(name string) []string {
	var ids []string
	for _, cl := range c.Clients {
		if cl.Name == name {
			ids = append(ids, cl.ID)
		}
	}
	return ids
}

// Save replaces the cache with clients (a pool left nil is saved as unknown), atomically, as
// a 0600 file in a 0700 folder.
func (c *Cache) Save(clients []tenant.Client, at time.Time) error {
	s := snapshot{Version: cacheVersion, SavedAt: at.UTC(), Clients: make([]cachedClient, len(clients)), Credentials: map[string]cachedCredential{}}
	for i, cl := range clients {
		cc := cachedClient{ID: cl.ID, Name: cl.Name, AppType: cl.AppType, JWTAlg: cl.JWTAlg, AuthMethod: cl.AuthMethod,
			GrantTypes: cl.GrantTypes, AttachedIDs: cl.AttachedIDs, PoolKnown: cl.Credentials != nil}
		for _, cr := range cl.Credentials {
			cc.Pool = append(cc.Pool, cr.ID)
			s.Credentials[cr.ID] = cachedCredential{Name: cr.Name, KID: cr.KID, Alg: cr.Alg, Type: cr.Type,
				CreatedAt: cr.CreatedAt, UpdatedAt: cr.UpdatedAt, ExpiresAt: cr.ExpiresAt}
		}
		s.Clients[i] = cc
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("inventory: cache folder: %w", err)
	}
	if err := atomicfile.Write(c.path, data, 0o600); err != nil {
		return fmt.Errorf("inventory: cache: %w", err)
	}
	return nil
}

// IDForName returns the id of the one client the cache knows by name, once read (a read by id,
// one request) confirms the tenant still calls it that; ok is false otherwise, and the caller
// looks the name up in the client pages. A client given the same name since the cache was
// saved goes unnoticed: the client id is the exact way to name a client.
func (c *Cache) IDForName(ctx context.Context, name string, read func(ctx context.Context, id string) (tenant.Client, error)) (string, bool) {
	contents, ok := c.Load()
	if !ok {
		return "", false
	}
	ids := contents.IDsNamed(name)
	if len(ids) != 1 {
		return "", false
	}
	cl, err := read(ctx, ids[0])
	if err != nil || cl.Name != name || cl.ID != ids[0] {
		return "", false
	}
	return ids[0], true
}
