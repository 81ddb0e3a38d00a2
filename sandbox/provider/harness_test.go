package provider

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rekey/keys"
	"rekey/sandbox"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

func TestMain(m *testing.M) { tftest.Main(m) }

// harness is a sandbox tenant on HTTPS plus what Terraform needs to reach it through the
// stand-in provider.
type harness struct {
	terraform string
	dir       string // the provider mirror and the CLI configuration that installs from it
	srv       *sandbox.Server
	tenant    *sandbox.Tenant
	env       []string
}

// newHarness starts a sandbox with a management client and mirrors the stand-in provider at
// versions (default DefaultVersion).
func newHarness(t *testing.T, versions ...string) *harness {
	t.Helper()
	tf := tftest.Terraform(t).Path
	srv, tenant, mgmt := startSandbox(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, srv.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &harness{terraform: tf, dir: dir, srv: srv, tenant: tenant}
	if len(versions) == 0 {
		versions = []string{DefaultVersion}
	}
	var cliConfig string
	for _, v := range versions {
		cliConfig = h.mirror(t, tftest.Rekey(t), v)
	}
	env := []string{
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE=" + cliConfig, "SSL_CERT_FILE=" + caFile,
		"AUTH0_DOMAIN=" + srv.Domain(), "AUTH0_CLIENT_ID=" + mgmt.ID, "AUTH0_CLIENT_SECRET=" + mgmt.Secret,
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "TF_") && !strings.HasPrefix(name, "AUTH0_") && !strings.HasPrefix(name, "SSL_CERT_") {
			env = append(env, kv)
		}
	}
	h.env = env
	return h
}

// mirror offers executable as auth0/auth0 at version in the harness's mirror and returns the
// CLI configuration's path.
func (h *harness) mirror(t *testing.T, executable, version string) string {
	t.Helper()
	cliConfig, err := tfrunner.InstallMirror(h.dir, executable, version)
	if err != nil {
		t.Fatal(err)
	}
	return cliConfig
}

// startSandbox starts a sandbox tenant on HTTPS with a management client granted the provider's scopes.
func startSandbox(t *testing.T) (*sandbox.Server, *sandbox.Tenant, *sandbox.Client) {
	t.Helper()
	tenant, err := sandbox.NewTenant(2)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.Start(sandbox.Options{Tenant: tenant})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	mgmt := tenant.AddClient(sandbox.ManagementClientName, "non_interactive", []string{"client_credentials"})
	if _, err := tenant.AddGrant(mgmt.ID, srv.ManagementAudience(), []string{
		"read:clients", "update:clients", "create:clients", "delete:clients", "read:client_credentials",
		"create:client_credentials", "update:client_credentials", "delete:client_credentials",
	}); err != nil {
		t.Fatal(err)
	}
	return srv, tenant, mgmt
}

// workspace is a Terraform working directory.
type workspace struct {
	h   *harness
	dir string
	env []string // added to the harness's environment
}

func (h *harness) workspace(t *testing.T) *workspace {
	return &workspace{h: h, dir: t.TempDir()}
}

// write replaces the workspace's main.tf.
func (w *workspace) write(t *testing.T, config string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
}

// create writes config, then runs terraform init and apply.
func (w *workspace) create(t *testing.T, config string) {
	t.Helper()
	w.write(t, config)
	w.must(t, "init")
	w.must(t, "apply", "-auto-approve")
}

// run runs terraform and returns its combined output and exit code.
func (w *workspace) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	flags := []string{"-no-color"}
	if args[0] != "show" && args[0] != "output" {
		flags = append(flags, "-input=false")
	}
	args = append(append(args[:1:1], flags...), args[1:]...)
	cmd := exec.Command(w.h.terraform, args...)
	cmd.Dir = w.dir
	cmd.Env = append(append([]string{}, w.h.env...), w.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("terraform %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode()
	} else if err != nil {
		t.Fatalf("terraform %s: %v", args[0], err)
	}
	return out.String(), 0
}

// must runs terraform and fails the test unless it exits 0.
func (w *workspace) must(t *testing.T, args ...string) string {
	t.Helper()
	out, code := w.run(t, args...)
	if code != 0 {
		t.Fatalf("terraform %s exited %d:\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// expectNoChanges fails unless `terraform plan -detailed-exitcode` reports no changes.
func (w *workspace) expectNoChanges(t *testing.T) {
	t.Helper()
	if out, code := w.run(t, "plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan -detailed-exitcode exited %d, want 0 (no changes):\n%s", code, out)
	}
}

// resourceChange is one entry of a saved plan's resource_changes.
type resourceChange struct {
	Address string `json:"address"`
	Change  struct {
		Actions      []string       `json:"actions"`
		Before       map[string]any `json:"before"`
		After        map[string]any `json:"after"`
		AfterUnknown map[string]any `json:"after_unknown"`
	} `json:"change"`
}

// savedPlan plans into a file and returns the change of each resource by address; the plan
// must have changes.
func (w *workspace) savedPlan(t *testing.T) map[string]resourceChange {
	t.Helper()
	changes, changed := w.planFile(t)
	if !changed {
		t.Fatal("plan reports no changes, want changes")
	}
	return changes
}

// planFile plans into a file and returns the change of each resource by address, and whether
// the plan has changes.
func (w *workspace) planFile(t *testing.T) (changes map[string]resourceChange, changed bool) {
	t.Helper()
	out, code := w.run(t, "plan", "-out=tfplan", "-detailed-exitcode")
	if code != 0 && code != 2 {
		t.Fatalf("plan exited %d:\n%s", code, out)
	}
	var plan struct {
		ResourceChanges []resourceChange `json:"resource_changes"`
	}
	w.showJSON(t, &plan, "tfplan")
	changes = map[string]resourceChange{}
	for _, rc := range plan.ResourceChanges {
		changes[rc.Address] = rc
	}
	return changes, code == 2
}

// showJSON decodes `terraform show -json [args]` into v.
func (w *workspace) showJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	cmd := exec.Command(w.h.terraform, append([]string{"show", "-json"}, args...)...)
	cmd.Dir, cmd.Env = w.dir, w.h.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("terraform show -json %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("terraform show -json %s: %v", strings.Join(args, " "), err)
	}
}

// stateResource is a resource of `terraform show -json`'s state.
type stateResource struct {
	Address       string         `json:"address"`
	SchemaVersion int            `json:"schema_version"`
	Values        map[string]any `json:"values"`
}

// stateOf returns the resource at address from `terraform show -json`, which decodes the
// state with the installed provider's schema.
func (w *workspace) stateOf(t *testing.T, address string) stateResource {
	t.Helper()
	var state struct {
		Values struct {
			RootModule struct {
				Resources []stateResource `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	w.showJSON(t, &state)
	for _, r := range state.Values.RootModule.Resources {
		if r.Address == address {
			return r
		}
	}
	t.Fatalf("no %s in the state", address)
	return stateResource{}
}

// planCredentials returns the private_key_jwt credentials of a before or after object.
func planCredentials(obj map[string]any) []map[string]any {
	blocks, _ := obj["private_key_jwt"].([]any)
	if len(blocks) == 0 {
		return nil
	}
	list, _ := blocks[0].(map[string]any)["credentials"].([]any)
	var out []map[string]any
	for _, c := range list {
		out = append(out, c.(map[string]any))
	}
	return out
}

// credentialNamed finds a credential by name in a plan's list.
func credentialNamed(t *testing.T, creds []map[string]any, name string) map[string]any {
	t.Helper()
	for _, c := range creds {
		if c["name"] == name {
			return c
		}
	}
	t.Fatalf("no credential named %q in %v", name, creds)
	return nil
}

// testKey is a key pair with the PEM Terraform is given for it.
type testKey struct {
	name        string // "" leaves name out
	key         *rsa.PrivateKey
	pem         string
	notAfter    time.Time // the certificate's, when pem is one
	algorithm   string
	parseExpiry string // parse_expiry_from_cert as configured: "true", "false", or "" to leave it out
	expiresAt   string // expires_at as configured; "" leaves it out
}

// newKey makes a 2048-bit key; asCert wraps its public key in a self-signed certificate whose
// notAfter becomes the credential's expiry (parse_expiry_from_cert = true).
func newKey(t *testing.T, name string, asCert bool) testKey {
	t.Helper()
	k, err := keys.Generate(keys.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	tk := testKey{name: name, key: k}
	if asCert {
		tk.parseExpiry, tk.notAfter = "true", time.Now().Add(90*24*time.Hour).UTC().Truncate(time.Second)
		cert, err := keys.SelfSignedCert(k, name, time.Now().Add(-time.Hour), tk.notAfter)
		if err != nil {
			t.Fatal(err)
		}
		tk.pem = string(cert)
	} else {
		pub, err := keys.PublicPEM(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		tk.pem = string(pub)
	}
	return tk
}

// sandboxCredential is the key as a credential created directly in the tenant.
func sandboxCredential(k testKey) sandbox.NewCredential {
	return sandbox.NewCredential{Name: k.name, PEM: k.pem, Alg: "RS256"}
}

// kid is the key's RFC 7638 thumbprint, the kid Auth0 gives it.
func (k testKey) kid() string { return keys.Thumbprint(&k.key.PublicKey) }

// hcl is the credentials block for the key.
func (k testKey) hcl() string {
	var b strings.Builder
	b.WriteString("      credentials {\n")
	if k.name != "" {
		fmt.Fprintf(&b, "        name            = %q\n", k.name)
	}
	b.WriteString("        credential_type = \"public_key\"\n")
	if k.algorithm != "" {
		fmt.Fprintf(&b, "        algorithm       = %q\n", k.algorithm)
	}
	if k.parseExpiry != "" {
		fmt.Fprintf(&b, "        parse_expiry_from_cert = %s\n", k.parseExpiry)
	}
	if k.expiresAt != "" {
		fmt.Fprintf(&b, "        expires_at      = %q\n", k.expiresAt)
	}
	fmt.Fprintf(&b, "        pem             = <<-EOT\n%s        EOT\n      }\n", indent(k.pem, "          "))
	return b.String()
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(prefix + line)
		}
	}
	return b.String()
}

// clientConfig is a workspace with one auth0_client and its auth0_client_credentials holding
// creds, served by the provider at version.
func clientConfig(version, clientName string, creds ...testKey) string {
	return requireProvider(version) + fmt.Sprintf(`
resource "auth0_client" "app" {
  name        = %q
  app_type    = "non_interactive"
  grant_types = ["client_credentials"]
  jwt_configuration {
    alg = "RS256"
  }
}

output "client_id" {
  value = auth0_client.app.id
}
`, clientName) + credentialsBlock("auth0_client.app.id", creds)
}

// credentialsConfig is a workspace with only an auth0_client_credentials, holding creds, for
// the existing client clientID, served by the provider at version.
func credentialsConfig(version, clientID string, creds ...testKey) string {
	return requireProvider(version) + credentialsBlock(fmt.Sprintf("%q", clientID), creds)
}

// requireProvider is the terraform block that requires auth0/auth0 at version.
func requireProvider(version string) string {
	return fmt.Sprintf(`terraform {
  required_providers {
    auth0 = {
      source  = "auth0/auth0"
      version = %q
    }
  }
}
`, version)
}

// credentialsBlock is auth0_client_credentials.app for the client clientID (an HCL
// expression) with the creds.
func credentialsBlock(clientID string, creds []testKey) string {
	var blocks strings.Builder
	for _, c := range creds {
		blocks.WriteString(c.hcl())
	}
	return fmt.Sprintf(`
resource "auth0_client_credentials" "app" {
  client_id             = %s
  authentication_method = "private_key_jwt"

  private_key_jwt {
%s  }
}
`, clientID, blocks.String())
}

// clientID returns the id Terraform recorded for auth0_client.app.
func (w *workspace) clientID(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(w.must(t, "output", "-raw", "client_id"))
}

// attached returns the credentials attached to a client's private_key_jwt method.
func (h *harness) attached(t *testing.T, clientID string) []sandbox.Credential {
	t.Helper()
	c, err := h.tenant.Client(clientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.PrivateKeyJWT == nil {
		return nil
	}
	var out []sandbox.Credential
	for _, id := range *c.PrivateKeyJWT {
		cr, err := h.tenant.Credential(clientID, id)
		if err != nil {
			t.Fatalf("attached credential %s: %v", id, err)
		}
		out = append(out, cr)
	}
	return out
}

// attachedByKID returns the attached credential with kid, failing the test without one.
func (h *harness) attachedByKID(t *testing.T, clientID, kid string) sandbox.Credential {
	t.Helper()
	for _, cr := range h.attached(t, clientID) {
		if cr.KID == kid {
			return cr
		}
	}
	t.Fatalf("no credential with kid %s attached to client %s", kid, clientID)
	return sandbox.Credential{}
}

// watchAttached samples the client's attached credential ids until the returned function is
// called, which reports how many samples were taken and how many of them ok rejected. It
// reads only the attached id list, which the tenant replaces wholesale on every change.
func (h *harness) watchAttached(clientID string, ok func(ids []string) bool) func() (samples, bad int) {
	done := make(chan struct{})
	result := make(chan [2]int)
	go func() {
		var n [2]int
		for {
			select {
			case <-done:
				result <- n
				return
			default:
			}
			var ids []string
			if c, err := h.tenant.Client(clientID); err == nil && c.PrivateKeyJWT != nil {
				ids = *c.PrivateKeyJWT
			}
			n[0]++
			if !ok(ids) {
				n[1]++
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	return func() (int, int) {
		close(done)
		n := <-result
		return n[0], n[1]
	}
}
