package sandbox

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rekey/keys"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

func readManifest(t *testing.T, dir string) Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s: mode %o, want %o", path, got, want)
	}
}

func TestSetupSeedsDefaultClients(t *testing.T) {
	dir := t.TempDir()
	srv, m, err := Setup(context.Background(), dir, SetupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	if onDisk := readManifest(t, dir); onDisk.Domain != srv.Domain() || len(onDisk.Clients) != 4 {
		t.Fatalf("manifest on disk: domain %q with %d clients; server is %q", onDisk.Domain, len(onDisk.Clients), srv.Domain())
	}
	for _, f := range []string{envFile, manifestFile, stateFile} {
		assertMode(t, filepath.Join(dir, f), 0o600)
	}
	assertMode(t, filepath.Join(dir, keysDir), 0o700)

	wantNames := []string{"billing-worker", "reporting-cron", "inventory-sync", "payments-gateway"}
	expiringSoon := 0
	for i, mc := range m.Clients {
		if mc.Name != wantNames[i] {
			t.Errorf("client %d is %q, want %q", i, mc.Name, wantNames[i])
		}
		c, err := srv.Tenant().Client(mc.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if c.AppType != "non_interactive" || c.JWTAlg != "RS256" || c.PrivateKeyJWT == nil || len(*c.PrivateKeyJWT) != 1 {
			t.Errorf("%s: app_type %q alg %q attached %v", mc.Name, c.AppType, c.JWTAlg, c.PrivateKeyJWT)
		}
		if g := srv.Tenant().Grants(mc.ClientID, mc.Audience); len(g) != 1 {
			t.Errorf("%s: %d grants to %s, want 1", mc.Name, len(g), mc.Audience)
		}
		if len(mc.Credentials) != 1 {
			t.Fatalf("%s: %d credentials in manifest", mc.Name, len(mc.Credentials))
		}
		cred := mc.Credentials[0]
		assertMode(t, cred.PrivateKeyFile, 0o600)
		key, err := keys.LoadPrivateKey(cred.PrivateKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if keys.Thumbprint(&key.PublicKey) != cred.KID {
			t.Errorf("%s: key file does not match kid %s", mc.Name, cred.KID)
		}
		stored, _ := srv.Tenant().Credential(mc.ClientID, cred.ID)
		if stored.ExpiresAt != nil && stored.ExpiresAt.Before(time.Now().AddDate(0, 0, 30)) {
			expiringSoon++
		}
		assertSystemConfigNames(t, mc.SystemConfig, cred)
	}
	if expiringSoon == 0 {
		t.Error("no seeded credential expires within 30 days; expiry warnings could not be seen")
	}

	env, err := os.ReadFile(filepath.Join(dir, envFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export AUTH0_DOMAIN='" + srv.Domain() + "'", "export AUTH0_CLIENT_ID='" + m.Management.ClientID + "'",
		"export AUTH0_CLIENT_SECRET='" + m.Management.ClientSecret + "'", "export SSL_CERT_FILE='" + filepath.Join(dir, caFile) + "'"} {
		if !strings.Contains(string(env), want) {
			t.Errorf("env file lacks %q:\n%s", want, env)
		}
	}
}

// assertSystemConfigNames checks that a system config lists exactly cred, with a key path
// relative to the config file.
func assertSystemConfigNames(t *testing.T, path string, cred ManifestCredential) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sys SystemConfig
	if err := json.Unmarshal(data, &sys); err != nil {
		t.Fatal(err)
	}
	if len(sys.Credentials) != 1 || sys.Credentials[0].KID != cred.KID || sys.Credentials[0].Alg != "RS256" {
		t.Fatalf("%s lists %+v, want kid %s", path, sys.Credentials, cred.KID)
	}
	rel := sys.Credentials[0].PrivateKeyFile
	if filepath.IsAbs(rel) || filepath.Join(filepath.Dir(path), rel) != cred.PrivateKeyFile {
		t.Errorf("%s: key path %q does not resolve to %s", path, rel, cred.PrivateKeyFile)
	}
}

func TestSetupRestartKeepsTenant(t *testing.T) {
	dir := t.TempDir()
	srv, first, err := Setup(context.Background(), dir, SetupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := first.Clients[0]
	if _, err := srv.Tenant().UpdateClient(c.ClientID, ClientPatch{Name: ptr("billing-worker-renamed")}); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	srv, second, err := Setup(context.Background(), dir, SetupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if second.Management.ClientID != first.Management.ClientID || len(second.Clients) != 4 {
		t.Fatalf("after restart: management %s (was %s), %d clients", second.Management.ClientID, first.Management.ClientID, len(second.Clients))
	}
	if second.Clients[0].Name != "billing-worker-renamed" || second.Clients[0].Credentials[0].KID != c.Credentials[0].KID {
		t.Errorf("after restart the first client is %+v", second.Clients[0])
	}
	if len(srv.Tenant().Grants(second.Management.ClientID, srv.ManagementAudience())) != 1 {
		t.Error("the management client has no grant to this start's Management API")
	}
}

func TestSetupGeneratedClients(t *testing.T) {
	srv, m, err := Setup(context.Background(), t.TempDir(), SetupOptions{Clients: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if len(m.Clients) != 20 || srv.Tenant().ClientCount() != 21 {
		t.Fatalf("%d clients in manifest, %d in tenant; want 20 and 21", len(m.Clients), srv.Tenant().ClientCount())
	}
	for _, mc := range m.Clients {
		if len(mc.Credentials) != 1 || mc.Credentials[0].PrivateKeyFile == "" {
			t.Errorf("%s: credentials %+v", mc.Name, mc.Credentials)
		}
	}
}

func TestSetupRefusesCorruptState(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, stateFile)
	if err := os.WriteFile(state, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Setup(context.Background(), dir, SetupOptions{})
	if err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("Setup with a corrupt state file: %v", err)
	}
	if data, _ := os.ReadFile(state); string(data) != "{not json" {
		t.Error("the corrupt state file was changed")
	}
}

func ptr[T any](v T) *T { return &v }

func TestMain(m *testing.M) { tftest.Main(m) }

// realProvider is the real auth0 provider the tests run against ($REKEY_AUTH0_PROVIDER).
func realProvider(t *testing.T) Provider {
	t.Helper()
	p, err := RealProvider(tftest.RealProvider(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// standIn is rekey's stand-in provider, served by the test build of rekey.
func standIn(t *testing.T) Provider {
	return Provider{Kind: ProviderStandIn, Version: tfrunner.StandInProviderVersion, Path: tftest.Rekey(t)}
}

// TestSetupThroughTerraform: Terraform itself creates the seeded clients and credentials with
// the real provider, and with the stand-in; plan is clean afterwards and after a restart.
func TestSetupThroughTerraform(t *testing.T) {
	for name, provider := range map[string]func(*testing.T) Provider{"real": realProvider, "stand-in": standIn} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			setupThroughTerraform(t, provider(t))
		})
	}
}

func setupThroughTerraform(t *testing.T, provider Provider) {
	ctx := context.Background()
	dir := t.TempDir()
	tf := &TerraformOptions{Binary: tftest.Terraform(t), Provider: provider}
	srv, m, err := Setup(ctx, dir, SetupOptions{Terraform: tf})
	if err != nil {
		t.Fatal(err)
	}
	workspace := filepath.Join(dir, terraformDir)
	if m.TerraformDir != workspace || len(m.Clients) != 4 {
		t.Fatalf("manifest: terraform_dir %q, %d clients", m.TerraformDir, len(m.Clients))
	}
	if m.Provider == nil || *m.Provider != provider {
		t.Fatalf("manifest provider %+v, want %+v", m.Provider, provider)
	}
	env, _ := os.ReadFile(filepath.Join(dir, envFile))
	if !strings.Contains(string(env), "export TF_CLI_CONFIG_FILE='"+filepath.Join(dir, providerDir, "terraformrc")+"'") {
		t.Errorf("env file lacks TF_CLI_CONFIG_FILE:\n%s", env)
	}
	for _, mc := range m.Clients {
		if len(mc.Credentials) != 1 || mc.Credentials[0].PrivateKeyFile == "" {
			t.Fatalf("%s: credentials %+v", mc.Name, mc.Credentials)
		}
		assertSystemConfigNames(t, mc.SystemConfig, mc.Credentials[0])
	}
	if fmtOut, err := exec.Command(tf.Binary.Path, "fmt", "-check", "-diff", workspace).CombinedOutput(); err != nil {
		t.Errorf("the workspace is not terraform fmt clean: %v\n%s", err, fmtOut)
	}
	assertNoChanges(t, dir, srv, m)
	srv.Close()

	// A restart re-initialises the workspace for this start's server and binary.
	srv, m, err = Setup(ctx, dir, SetupOptions{Terraform: tf})
	if err != nil {
		t.Fatal(err)
	}
	assertNoChanges(t, dir, srv, m)
	srv.Close()
	if provider.Kind == ProviderStandIn {
		return
	}
	// Restarted with the stand-in, which cannot read the real provider's state: refused.
	_, _, err = Setup(ctx, dir, SetupOptions{Terraform: &TerraformOptions{Binary: tf.Binary, Provider: standIn(t)}})
	if err == nil || !strings.Contains(err.Error(), "--provider") || !strings.Contains(err.Error(), ProviderEnv) {
		t.Fatalf("a restart with the stand-in of a real-provider workspace: %v", err)
	}
}

// TestSetupLayouts: every layout seeds the same clients through Terraform with the real
// provider (and the stand-in), fmt clean, with a clean plan, billing-worker's credentials at
// the address the layout gives them.
func TestSetupLayouts(t *testing.T) {
	addresses := map[Layout]string{
		LayoutLiteral: "auth0_client_credentials.billing_worker", LayoutFile: "auth0_client_credentials.billing_worker",
		LayoutForEach: `auth0_client_credentials.all["billing-worker"]`, LayoutDynamic: "auth0_client_credentials.billing_worker",
		LayoutModule: `module.m2m["billing-worker"].auth0_client_credentials.this`, LayoutComputed: `auth0_client_credentials.all["billing-worker"]`,
		LayoutJSON: "auth0_client_credentials.billing_worker", LayoutCount: "auth0_client_credentials.all[0]",
	}
	for _, layout := range Layouts {
		for name, provider := range map[string]func(*testing.T) Provider{"real": realProvider, "stand-in": standIn} {
			t.Run(string(layout)+"/"+name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				tf := &TerraformOptions{Binary: tftest.Terraform(t), Provider: provider(t), Layout: layout}
				srv, m, err := Setup(context.Background(), dir, SetupOptions{Terraform: tf})
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				if len(m.Clients) != 4 {
					t.Fatalf("manifest: %d clients", len(m.Clients))
				}
				if fmtOut, err := exec.Command(tf.Binary.Path, "fmt", "-recursive", "-check", "-diff", m.TerraformDir).CombinedOutput(); err != nil {
					t.Errorf("the workspace is not terraform fmt clean: %v\n%s", err, fmtOut)
				}
				assertNoChanges(t, dir, srv, m)
				list := exec.Command(tf.Binary.Path, "state", "list")
				list.Dir = m.TerraformDir
				out, err := list.Output()
				if err != nil || !strings.Contains(string(out), addresses[layout]+"\n") {
					t.Errorf("terraform state list: %v\n%s\nwant %s", err, out, addresses[layout])
				}
			})
		}
	}
}

// assertNoChanges runs terraform plan in the sandbox's workspace as a user would after
// sourcing the env file, and expects no changes.
func assertNoChanges(t *testing.T, dir string, srv *Server, m *Manifest) {
	t.Helper()
	if m.TerraformCLIConfig != filepath.Join(dir, providerDir, "terraformrc") || m.Domain != srv.Domain() {
		t.Fatalf("manifest names CLI config %q for %s", m.TerraformCLIConfig, m.Domain)
	}
	runner, err := tfrunner.New(tfrunner.Config{Dir: m.TerraformDir, Binary: tftest.Terraform(t), Env: m.TerraformEnv()})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := runner.Plan(context.Background(), filepath.Join(t.TempDir(), "check.tfplan"))
	if err != nil || changes {
		t.Fatalf("terraform plan in the sandbox workspace: changes=%v err=%v", changes, err)
	}
}
