package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"rekey/internal/atomicfile"
	"rekey/keys"
)

// snapshot is the tenant's persisted form.
type snapshot struct {
	PoolCap int               `json:"pool_cap"`
	Clients []*Client         `json:"clients"`
	Grants  []*ClientGrant    `json:"grants"`
	APIs    []*ResourceServer `json:"apis"`
}

// LoadTenant reads a tenant saved by Persist.
func LoadTenant(path string) (*Tenant, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: read tenant state: %w", err)
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("sandbox: tenant state %s is not valid JSON (%v); move it aside to start a fresh tenant", path, err)
	}
	t, err := NewTenant(s.PoolCap)
	if err != nil {
		return nil, err
	}
	for _, c := range s.Clients {
		for _, cr := range c.Credentials {
			pub, err := keys.ParsePublic([]byte(cr.PEM))
			if err != nil && !errors.Is(err, keys.ErrCertExpired) { // expired credentials stay in the pool, as in Auth0
				return nil, fmt.Errorf("sandbox: tenant state %s: credential %s: %w", path, cr.ID, err)
			}
			cr.key = pub.Key
		}
		if c.Properties == nil { // saved before the sandbox kept client properties
			c.Properties = newClientProperties()
		}
		t.clients = append(t.clients, c)
		t.byID[c.ID] = c
	}
	t.grants = s.Grants
	for _, a := range s.APIs {
		if a.ID == "" { // saved before resource servers had ids
			*a = *newResourceServer(a.Identifier, a.Name)
		}
	}
	t.apis = s.APIs
	return t, nil
}

// Persist saves the tenant to path now and after every later change, so a sandbox can be
// stopped and started again with LoadTenant. The file holds client secrets: it is 0600.
func (t *Tenant) Persist(path string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var saveErr error
	t.onWrite = func() {
		if err := t.save(path); err != nil && saveErr == nil {
			saveErr = err
			fmt.Fprintf(os.Stderr, "sandbox: could not save tenant state: %v\n", err)
		}
	}
	return t.save(path)
}

// save writes the snapshot atomically; the caller holds the lock.
func (t *Tenant) save(path string) error {
	s := snapshot{PoolCap: t.poolCap, Clients: t.clients, Grants: t.grants, APIs: t.apis}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o600)
}
