package sandbox

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"rekey/keys"
)

// ManagementClientName names the seeded client that holds the Management API grant.
const ManagementClientName = "rekey sandbox management"

// managementScopes are the scopes a rotation's Management API token carries.
var managementScopes = []string{
	"read:clients", "update:clients", "create:clients", "read:client_keys", "read:client_credentials",
	"create:client_credentials", "update:client_credentials", "delete:client_credentials", "read:client_grants",
}

// seedClient describes one of the default machine-to-machine clients.
type seedClient struct {
	name     string
	audience string
	scope    []string
	certDays int // certificate validity, which becomes the credential's expiry; 0 = a bare public key, no expiry
}

// defaultClients are the four clients a new sandbox starts with; two expire soon so that
// expiry warnings can be seen.
var defaultClients = []seedClient{
	{"billing-worker", "https://billing.api.example.com/", []string{"read:invoices", "write:invoices"}, 90},
	{"reporting-cron", "https://reports.api.example.com/", []string{"read:reports"}, 12},
	{"inventory-sync", "https://inventory.api.example.com/", []string{"read:stock", "write:stock"}, 0},
	{"payments-gateway", "https://payments.api.example.com/", []string{"create:payments"}, 3},
}

// scaleKeyPool is how many key pairs the generated clients of a scale sandbox share; a key may
// be attached to several clients, as in Auth0, and generating one per client would take minutes.
const scaleKeyPool = 8

// SetupOptions configure Setup.
type SetupOptions struct {
	Listen  string
	Clients int // 0: the four default clients; N: N generated clients for scale tests
	PoolCap int // 0: DefaultPoolCap
	Faults  []Fault
}

// Manifest describes a running sandbox: DIR/sandbox.json.
type Manifest struct {
	Domain     string           `json:"domain"`
	CAFile     string           `json:"ca_file"`
	Management ManagementClient `json:"management"`
	Clients    []ManifestClient `json:"clients"`
}

// ManagementClient holds the credentials of the client that may call the Management API.
type ManagementClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Audience     string `json:"audience"`
}

// ManifestClient is a seeded machine-to-machine client.
type ManifestClient struct {
	ClientID     string               `json:"client_id"`
	Name         string               `json:"name"`
	Audience     string               `json:"audience"`
	Credentials  []ManifestCredential `json:"credentials"`
	SystemConfig string               `json:"system_config"`
}

// ManifestCredential is a credential of a seeded client and where its private key is, if known.
type ManifestCredential struct {
	ID             string `json:"id"`
	KID            string `json:"kid"`
	Alg            string `json:"alg"`
	PrivateKeyFile string `json:"private_key_file,omitempty"`
}

// SystemConfig is the consuming service's credential list, in order of preference.
type SystemConfig struct {
	Credentials []SystemCredential `json:"credentials"`
}

// SystemCredential is one entry of a SystemConfig; a relative key path is relative to the file.
type SystemCredential struct {
	KID            string `json:"kid"`
	Alg            string `json:"alg"`
	PrivateKeyFile string `json:"private_key_file"`
}

// Files of a sandbox folder.
const (
	stateFile    = "tenant.json"
	manifestFile = "sandbox.json"
	envFile      = "env"
	caFile       = "ca.pem"
	keysDir      = "keys"
	systemsDir   = "systems"
)

// Setup starts a sandbox whose files live in dir. A folder that already holds a tenant is
// started again with its clients and credentials; an empty one is seeded. Before returning it
// writes the CA, the env file and the manifest for the running server.
func Setup(dir string, opts SetupOptions) (*Server, *Manifest, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("sandbox: create %s: %w", dir, err)
	}
	statePath := filepath.Join(dir, stateFile)
	tenant, fresh, err := openTenant(statePath, opts.PoolCap)
	if err != nil {
		return nil, nil, err
	}
	srv, err := Start(Options{Listen: opts.Listen, Tenant: tenant, Faults: opts.Faults})
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*Server, *Manifest, error) {
		srv.Close()
		return nil, nil, err
	}
	if fresh {
		if err := seed(tenant, dir, opts.Clients); err != nil {
			return fail(err)
		}
	}
	mgmt, err := ensureManagementClient(tenant, srv.ManagementAudience())
	if err != nil {
		return fail(err)
	}
	if err := tenant.Persist(statePath); err != nil {
		return fail(fmt.Errorf("sandbox: save tenant state: %w", err))
	}
	m, err := writeFiles(dir, srv, mgmt)
	if err != nil {
		return fail(err)
	}
	return srv, m, nil
}

// openTenant loads the tenant saved in path, or makes an empty one when there is none.
func openTenant(path string, poolCap int) (t *Tenant, fresh bool, err error) {
	if _, statErr := os.Stat(path); statErr == nil {
		t, err = LoadTenant(path)
		return t, false, err
	} else if !errors.Is(statErr, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("sandbox: %w", statErr)
	}
	if poolCap == 0 {
		poolCap = DefaultPoolCap
	}
	t, err = NewTenant(poolCap)
	return t, true, err
}

// ensureManagementClient returns the management client, creating it on first start, and grants
// it the Management API of this start's domain (the port may differ from the last start).
func ensureManagementClient(t *Tenant, audience string) (ManagementClient, error) {
	var c Client
	t.mu.RLock()
	for _, x := range t.clients {
		if x.Name == ManagementClientName {
			c = *x
		}
	}
	t.mu.RUnlock()
	if c.ID == "" {
		c = *t.AddClient(ManagementClientName, "non_interactive", []string{"client_credentials"})
	}
	if len(t.Grants(c.ID, audience)) == 0 {
		if _, err := t.AddGrant(c.ID, audience, managementScopes); err != nil {
			return ManagementClient{}, err
		}
	}
	return ManagementClient{ClientID: c.ID, ClientSecret: c.Secret, Audience: audience}, nil
}

// seed creates the default clients (or n generated ones), each with a client grant to its API
// and one attached credential whose private key is written to dir/keys, and a system config in
// dir/systems that lists that key.
func seed(t *Tenant, dir string, n int) error {
	clients := defaultClients
	if n > 0 {
		clients = generatedClients(n)
	}
	pool := map[int]*rsa.PrivateKey{}
	for i, sc := range clients {
		key := pool[i%scaleKeyPool]
		if key == nil {
			var err error
			if key, err = keys.Generate(keys.MinBits); err != nil {
				return err
			}
			if n > 0 {
				pool[i%scaleKeyPool] = key
			}
		}
		if err := seedOne(t, dir, sc, key); err != nil {
			return fmt.Errorf("sandbox: seed %s: %w", sc.name, err)
		}
	}
	return nil
}

func generatedClients(n int) []seedClient {
	out := make([]seedClient, n)
	for i := range out {
		out[i] = seedClient{
			name: fmt.Sprintf("service-%05d", i+1), audience: fmt.Sprintf("https://api-%03d.example.com/", i%100),
			scope: []string{"read:data"}, certDays: []int{0, 5, 30, 365}[i%4],
		}
	}
	return out
}

func seedOne(t *Tenant, dir string, sc seedClient, key *rsa.PrivateKey) error {
	c := t.AddClient(sc.name, "non_interactive", []string{"client_credentials"})
	if !t.hasAPI(sc.audience) {
		t.AddAPI(sc.audience, strings.TrimSuffix(strings.TrimPrefix(sc.audience, "https://"), "/"))
	}
	if _, err := t.AddGrant(c.ID, sc.audience, sc.scope); err != nil {
		return err
	}
	now := t.clock()
	in := NewCredential{Name: sc.name + " " + now.Format("2006-01-02"), Alg: "RS256"}
	if sc.certDays > 0 {
		cert, err := keys.SelfSignedCert(key, sc.name, now.Add(-time.Hour), now.AddDate(0, 0, sc.certDays))
		if err != nil {
			return err
		}
		in.PEM, in.ParseExpiryFromCert = string(cert), true
	} else {
		pub, err := keys.PublicPEM(&key.PublicKey)
		if err != nil {
			return err
		}
		in.PEM = string(pub)
	}
	cr, err := t.CreateCredential(c.ID, in)
	if err != nil {
		return err
	}
	none := (*string)(nil)
	if _, err := t.UpdateClient(c.ID, ClientPatch{
		TokenEndpointAuthMethodSet: true, TokenEndpointAuthMethod: none,
		AuthMethodsSet: true, PrivateKeyJWT: &[]string{cr.ID},
	}); err != nil {
		return err
	}
	keyPath := filepath.Join(dir, keysDir, keyFileName(cr.KID))
	if err := keys.WritePrivateKey(keyPath, key); err != nil && !errors.Is(err, keys.ErrExists) {
		return err
	}
	rel, err := filepath.Rel(filepath.Join(dir, systemsDir), keyPath)
	if err != nil {
		return err
	}
	sys := SystemConfig{Credentials: []SystemCredential{{KID: cr.KID, Alg: cr.Alg, PrivateKeyFile: rel}}}
	data, err := json.MarshalIndent(sys, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, systemsDir), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(systemConfigPath(dir, c.ID), append(data, '\n'), 0o600)
}

func keyFileName(kid string) string { return "key-" + kid + ".pem" }

func systemConfigPath(dir, clientID string) string {
	return filepath.Join(dir, systemsDir, clientID+".json")
}

// writeFiles writes the CA, env file and manifest that describe the running server.
func writeFiles(dir string, srv *Server, mgmt ManagementClient) (*Manifest, error) {
	m := &Manifest{Domain: srv.Domain(), CAFile: filepath.Join(dir, caFile), Management: mgmt}
	if err := writeFileAtomic(m.CAFile, srv.CAPEM(), 0o644); err != nil {
		return nil, fmt.Errorf("sandbox: write CA: %w", err)
	}
	t := srv.Tenant()
	t.mu.RLock()
	clients := slices.Clone(t.clients)
	t.mu.RUnlock()
	for _, c := range clients {
		if c.ID == mgmt.ClientID {
			continue
		}
		m.Clients = append(m.Clients, manifestClient(t, dir, c.ID))
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, manifestFile), append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("sandbox: write manifest: %w", err)
	}
	env := fmt.Sprintf("export AUTH0_DOMAIN=%s\nexport AUTH0_CLIENT_ID=%s\nexport AUTH0_CLIENT_SECRET=%s\nexport SSL_CERT_FILE=%s\n",
		shellQuote(m.Domain), shellQuote(mgmt.ClientID), shellQuote(mgmt.ClientSecret), shellQuote(m.CAFile))
	if err := writeFileAtomic(filepath.Join(dir, envFile), []byte(env), 0o600); err != nil {
		return nil, fmt.Errorf("sandbox: write env: %w", err)
	}
	return m, nil
}

// manifestClient describes a client from the tenant's current state.
func manifestClient(t *Tenant, dir, clientID string) ManifestClient {
	c, _ := t.Client(clientID)
	mc := ManifestClient{ClientID: c.ID, Name: c.Name, SystemConfig: systemConfigPath(dir, c.ID), Credentials: []ManifestCredential{}}
	if grants := t.Grants(c.ID, ""); len(grants) > 0 {
		mc.Audience = grants[0].Audience
	}
	creds, _ := t.Credentials(c.ID)
	for _, cr := range creds {
		mcr := ManifestCredential{ID: cr.ID, KID: cr.KID, Alg: cr.Alg}
		if path := filepath.Join(dir, keysDir, keyFileName(cr.KID)); fileExists(path) {
			mcr.PrivateKeyFile = path
		}
		mc.Credentials = append(mc.Credentials, mcr)
	}
	return mc
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
