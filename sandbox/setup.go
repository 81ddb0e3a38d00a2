package sandbox

import (
	"context"
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

	"rekey/internal/atomicfile"
	"rekey/keys"
)

// ManagementClientName names the seeded client that holds the Management API grant.
const ManagementClientName = "rekey sandbox management"

// managementScopes are the scopes of the management client: what a rotation and the
// workspace's Terraform provider (clients, credentials, resource servers, grants) need.
var managementScopes = []string{
	"read:clients", "update:clients", "create:clients", "delete:clients", "read:client_keys", "read:client_credentials",
	"create:client_credentials", "update:client_credentials", "delete:client_credentials",
	"read:client_grants", "create:client_grants", "update:client_grants", "delete:client_grants",
	"read:resource_servers", "create:resource_servers", "update:resource_servers", "delete:resource_servers",
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
	// RateLimits are the tenant's rate limits (DefaultRateLimits, as rekey sandbox serves);
	// the zero value serves without any.
	RateLimits RateLimits
	// Terraform, when set, makes the default clients and their credentials through Terraform
	// in DIR/terraform. Nil runs the tenant alone; so do generated clients, at any setting.
	Terraform *TerraformOptions
}

// Manifest describes a running sandbox: DIR/sandbox.json.
type Manifest struct {
	Domain       string `json:"domain"`
	CAFile       string `json:"ca_file"`
	TerraformDir string `json:"terraform_dir,omitempty"` // the workspace that manages the clients' credentials
	// TerraformCLIConfig installs the auth0 provider from the sandbox's mirror (TF_CLI_CONFIG_FILE);
	// empty when Terraform installs it from the registry.
	TerraformCLIConfig string `json:"terraform_cli_config,omitempty"`
	// Provider is the auth0 provider the workspace runs; nil without a workspace.
	Provider   *Provider        `json:"provider,omitempty"`
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
// started again with its clients and credentials; an empty one is seeded, through Terraform
// when opts.Terraform is set. Before returning it writes the CA, the env file and the manifest
// for the running server.
func Setup(ctx context.Context, dir string, opts SetupOptions) (*Server, *Manifest, error) {
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
	srv, err := Start(Options{Listen: opts.Listen, Tenant: tenant, Faults: opts.Faults, RateLimits: opts.RateLimits})
	if err != nil {
		return nil, nil, err
	}
	s := setup{dir: dir, srv: srv, opts: opts}
	m, err := s.run(ctx, fresh)
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	if err := tenant.Persist(statePath); err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("sandbox: save tenant state: %w", err)
	}
	return srv, m, nil
}

// setup is one start of a sandbox folder.
type setup struct {
	dir  string
	srv  *Server
	opts SetupOptions
}

// run seeds a fresh tenant (or re-initialises the Terraform workspace of an existing one) and
// writes the files that describe the running server.
func (s setup) run(ctx context.Context, fresh bool) (*Manifest, error) {
	tenant := s.srv.Tenant()
	if err := atomicfile.Write(filepath.Join(s.dir, caFile), s.srv.CAPEM(), 0o644); err != nil {
		return nil, fmt.Errorf("sandbox: write CA: %w", err)
	}
	mgmt, err := ensureManagementClient(tenant, s.srv.ManagementAudience())
	if err != nil {
		return nil, err
	}
	tf := s.opts.Terraform
	if s.opts.Clients > 0 || (!fresh && !fileExists(filepath.Join(s.dir, terraformDir, workspaceFile))) {
		tf = nil
	}
	var ws *workspace
	if fresh {
		seeded, err := prepareSeed(s.dir, s.opts.Clients, tenant.clock())
		if err != nil {
			return nil, err
		}
		if tf == nil {
			err = seedDirect(tenant, seeded)
		} else if err = writeWorkspace(s.dir, seeded, tf.Layout); err == nil {
			ws, err = s.terraform(ctx, mgmt, true)
		}
		if err != nil {
			return nil, err
		}
		if err := finishSeed(tenant, s.dir, seeded); err != nil {
			return nil, err
		}
	} else if tf != nil {
		if err := s.checkProviderKept(); err != nil {
			return nil, err
		}
		if ws, err = s.terraform(ctx, mgmt, false); err != nil {
			return nil, err
		}
	}
	return writeFiles(s.dir, s.srv, mgmt, ws)
}

// checkProviderKept refuses to restart a workspace the real provider made with the stand-in:
// the stand-in cannot read the real provider's state of auth0_client.
func (s setup) checkProviderKept() error {
	data, err := os.ReadFile(filepath.Join(s.dir, manifestFile))
	if err != nil {
		return nil // an older sandbox folder, or none written yet: nothing recorded
	}
	var last Manifest
	if json.Unmarshal(data, &last) != nil || last.Provider == nil {
		return nil
	}
	if now := s.opts.Terraform.Provider; last.Provider.Kind != ProviderStandIn && now.Kind == ProviderStandIn {
		return fmt.Errorf("sandbox: the workspace in %s was made with the %s, and rekey's stand-in cannot read that state; "+
			"start it with the real provider again: --provider PATH or %s=PATH", filepath.Join(s.dir, terraformDir), last.Provider, ProviderEnv)
	}
	return nil
}

// terraform initialises the workspace (and applies it, with apply).
func (s setup) terraform(ctx context.Context, mgmt ManagementClient, apply bool) (*workspace, error) {
	ws, err := runTerraform(ctx, s.dir, s.srv, mgmt, *s.opts.Terraform, apply)
	return &ws, err
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
	if id, ok := t.clientIDsByName()[ManagementClientName]; ok {
		c, _ = t.Client(id)
	} else {
		c = *t.AddClient(ManagementClientName, "non_interactive", []string{"client_credentials"})
	}
	// A restart on the same port keeps the grant: bring its scopes up to date.
	if grants := t.Grants(c.ID, audience); len(grants) > 0 {
		if _, err := t.UpdateGrant(grants[0].ID, GrantPatch{Scope: new(slices.Clone(managementScopes))}); err != nil {
			return ManagementClient{}, err
		}
	} else if _, err := t.AddGrant(c.ID, audience, managementScopes); err != nil {
		return ManagementClient{}, err
	}
	return ManagementClient{ClientID: c.ID, ClientSecret: c.Secret, Audience: audience}, nil
}

// seededClient is a client to seed with its key pair and the PEM its credential is made of:
// a self-signed certificate (whose notAfter becomes the credential's expiry) or a public key.
type seededClient struct {
	seedClient
	key            *rsa.PrivateKey
	kid            string
	pem            string
	credentialName string
}

// prepareSeed makes the key pairs of the clients to seed (the default four, or n generated
// ones sharing a small pool of keys) and writes their private keys to dir/keys.
func prepareSeed(dir string, n int, now time.Time) ([]seededClient, error) {
	clients := defaultClients
	if n > 0 {
		clients = generatedClients(n)
	}
	var pool []*rsa.PrivateKey
	out := make([]seededClient, 0, len(clients))
	for i, sc := range clients {
		if i < scaleKeyPool || n == 0 {
			key, err := keys.Generate(keys.MinBits)
			if err != nil {
				return nil, err
			}
			if err := keys.WritePrivateKey(filepath.Join(dir, keysDir, keyFileName(keys.Thumbprint(&key.PublicKey))), key); err != nil {
				return nil, fmt.Errorf("sandbox: %w", err)
			}
			pool = append(pool, key)
		}
		key := pool[i%len(pool)]
		pem, err := credentialPEM(sc, key, now)
		if err != nil {
			return nil, err
		}
		out = append(out, seededClient{seedClient: sc, key: key, kid: keys.Thumbprint(&key.PublicKey), pem: pem,
			credentialName: sc.name + " " + now.Format("2006-01-02")})
	}
	return out, nil
}

func credentialPEM(sc seedClient, key *rsa.PrivateKey, now time.Time) (string, error) {
	if sc.certDays == 0 {
		pub, err := keys.PublicPEM(&key.PublicKey)
		return string(pub), err
	}
	cert, err := keys.SelfSignedCert(key, sc.name, now.Add(-time.Hour), now.AddDate(0, 0, sc.certDays))
	return string(cert), err
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

// seedDirect creates the clients and their attached credentials through the tenant itself.
func seedDirect(t *Tenant, seeded []seededClient) error {
	for _, sc := range seeded {
		c := t.AddClient(sc.name, "non_interactive", []string{"client_credentials"})
		cr, err := t.CreateCredential(c.ID, NewCredential{Name: sc.credentialName, PEM: sc.pem, Alg: "RS256", ParseExpiryFromCert: sc.certDays > 0})
		if err != nil {
			return fmt.Errorf("sandbox: seed %s: %w", sc.name, err)
		}
		if _, err := t.UpdateClient(c.ID, ClientPatch{TokenEndpointAuthMethodSet: true, AuthMethodsSet: true, PrivateKeyJWT: &[]string{cr.ID}}); err != nil {
			return fmt.Errorf("sandbox: seed %s: %w", sc.name, err)
		}
	}
	return nil
}

// finishSeed gives each seeded client (found by name) a grant to its API and writes its system
// config, which lists the seeded key.
func finishSeed(t *Tenant, dir string, seeded []seededClient) error {
	if err := os.MkdirAll(filepath.Join(dir, systemsDir), 0o700); err != nil {
		return err
	}
	ids := t.clientIDsByName()
	for _, sc := range seeded {
		id, ok := ids[sc.name]
		if !ok {
			return fmt.Errorf("sandbox: seeded client %s is missing from the tenant", sc.name)
		}
		if !t.hasAPI(sc.audience) {
			t.AddAPI(sc.audience, strings.TrimSuffix(strings.TrimPrefix(sc.audience, "https://"), "/"))
		}
		if _, err := t.AddGrant(id, sc.audience, sc.scope); err != nil {
			return err
		}
		if err := writeSystemConfig(dir, id, sc.kid); err != nil {
			return err
		}
	}
	return nil
}

// writeSystemConfig writes dir/systems/<client_id>.json listing the key with kid.
func writeSystemConfig(dir, clientID, kid string) error {
	rel := filepath.Join("..", keysDir, keyFileName(kid))
	sys := SystemConfig{Credentials: []SystemCredential{{KID: kid, Alg: "RS256", PrivateKeyFile: rel}}}
	data, err := json.MarshalIndent(sys, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(systemConfigPath(dir, clientID), append(data, '\n'), 0o600)
}

func keyFileName(kid string) string { return "key-" + kid + ".pem" }

func systemConfigPath(dir, clientID string) string {
	return filepath.Join(dir, systemsDir, clientID+".json")
}

// writeFiles writes the env file and manifest that describe the running server and its
// workspace (nil when there is none).
func writeFiles(dir string, srv *Server, mgmt ManagementClient, ws *workspace) (*Manifest, error) {
	m := &Manifest{Domain: srv.Domain(), CAFile: filepath.Join(dir, caFile), Management: mgmt}
	if ws != nil {
		m.TerraformDir, m.TerraformCLIConfig, m.Provider = filepath.Join(dir, terraformDir), ws.cliConfig, &ws.provider
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
	if err := atomicfile.Write(filepath.Join(dir, manifestFile), append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("sandbox: write manifest: %w", err)
	}
	env := fmt.Sprintf("export AUTH0_DOMAIN=%s\nexport AUTH0_CLIENT_ID=%s\nexport AUTH0_CLIENT_SECRET=%s\nexport SSL_CERT_FILE=%s\n",
		shellQuote(m.Domain), shellQuote(mgmt.ClientID), shellQuote(mgmt.ClientSecret), shellQuote(m.CAFile))
	if m.TerraformCLIConfig != "" {
		env += fmt.Sprintf("export TF_CLI_CONFIG_FILE=%s\n", shellQuote(m.TerraformCLIConfig))
	}
	if err := atomicfile.Write(filepath.Join(dir, envFile), []byte(env), 0o600); err != nil {
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
