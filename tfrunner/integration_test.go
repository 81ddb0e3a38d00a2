package tfrunner_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rekey/keys"
	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

func TestMain(m *testing.M) { tftest.Main(m) }

// sandboxRun is a sandbox whose clients Terraform manages, with a runner for its workspace.
type sandboxRun struct {
	srv      *sandbox.Server
	manifest *sandbox.Manifest
	binary   tfrunner.Binary
	runner   *tfrunner.Runner
	client   sandbox.ManifestClient // billing-worker
}

func startSandboxWorkspace(t testing.TB, provider sandbox.Provider) *sandboxRun {
	t.Helper()
	bin := tftest.Terraform(t)
	srv, m, err := sandbox.Setup(context.Background(), t.TempDir(), sandbox.SetupOptions{
		Terraform: &sandbox.TerraformOptions{Binary: bin, Provider: provider},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	runner, err := tfrunner.New(tfrunner.Config{Dir: m.TerraformDir, Binary: bin, Env: m.TerraformEnv()})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Clients, func(c sandbox.ManifestClient) bool { return c.Name == "billing-worker" })
	if i < 0 {
		t.Fatalf("no billing-worker in %+v", m.Clients)
	}
	return &sandboxRun{srv: srv, manifest: m, binary: bin, runner: runner, client: m.Clients[i]}
}

// credentials finds billing-worker's credentials resource the way a rotation does: through
// the references in state.
func (s *sandboxRun) credentials(t testing.TB) (*tfrunner.Workspace, *tfrunner.CredentialsResource) {
	t.Helper()
	state, err := s.runner.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ws, err := tfrunner.LoadWorkspace(s.manifest.TerraformDir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ws.FindCredentials(s.client.ClientID, tfrunner.ClientResolver(state))
	if err != nil {
		t.Fatal(err)
	}
	return ws, res
}

// planAndGuard saves a plan and returns its summary and the guard's findings for intent.
func (s *sandboxRun) planAndGuard(t testing.TB, planFile string, intent tfrunner.Intent) (tfrunner.PlanSummary, []tfrunner.Finding) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.runner.Plan(ctx, planFile); err != nil {
		t.Fatal(err)
	}
	plan, err := s.runner.ShowPlan(ctx, planFile)
	if err != nil {
		t.Fatal(err)
	}
	summary, err := tfrunner.ReadPlan(plan, intent.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	provider, err := tfrunner.LockedProviderVersion(s.runner.Dir(), tfrunner.ProviderSource)
	if err != nil || provider == nil {
		t.Fatalf("auth0 provider version from the lock file: %v %v", provider, err)
	}
	return summary, tfrunner.Guard(summary, intent, provider)
}

// attached returns the kids of billing-worker's attached credentials in the tenant.
func (s *sandboxRun) attached(t testing.TB) []string {
	t.Helper()
	tenant := s.srv.Tenant()
	c, err := tenant.Client(s.client.ClientID)
	if err != nil || c.PrivateKeyJWT == nil {
		t.Fatalf("client: %+v %v", c, err)
	}
	var kids []string
	for _, id := range *c.PrivateKeyJWT {
		cr, err := tenant.Credential(c.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, cr.KID)
	}
	slices.Sort(kids)
	return kids
}

func newPublicKey(t testing.TB) (pem, kid string) {
	t.Helper()
	key, err := keys.Generate(keys.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.PublicPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pub), keys.Thumbprint(&key.PublicKey)
}

// TestAttachAndRetireThroughTerraform edits, plans, guards and applies the two credential
// changes of a rotation on the sandbox with real Terraform and the stand-in provider.
func TestAttachAndRetireThroughTerraform(t *testing.T) {
	ctx := context.Background()
	s := startSandboxWorkspace(t, sandboxtest.RealProvider(t))
	oldKID := s.client.Credentials[0].KID
	newPEM, newKID := newPublicKey(t)
	planFile := filepath.Join(t.TempDir(), "rekey.tfplan")

	ws, res := s.credentials(t)
	if res.Address != "auth0_client_credentials.billing_worker" || res.ClientRef != "auth0_client.billing_worker" {
		t.Fatalf("found %s for client ref %q", res.Address, res.ClientRef)
	}
	edit, err := ws.AddCredential(res, tfrunner.NewCredentialBlock{Name: "billing-worker next", Algorithm: "RS256", PEM: newPEM})
	if err != nil {
		t.Fatal(err)
	}
	if err := edit.Write(); err != nil {
		t.Fatal(err)
	}
	intent := tfrunner.Intent{Credentials: res.Address, Client: res.ClientRef, AddKID: newKID}
	summary, findings := s.planAndGuard(t, planFile, intent)
	if len(findings) != 0 {
		t.Fatalf("guard findings for the attach: %+v", findings)
	}
	cc := summary.Credentials
	if len(summary.Changes) != 1 || summary.Changes[0].Action() != "update" || len(cc.Added) != 1 || cc.Added[0].KID != newKID || len(cc.Kept) != 1 || cc.Kept[0].KID != oldKID {
		t.Fatalf("attach plan: %+v, credentials %+v", summary.Changes, cc)
	}
	if err := s.runner.Apply(ctx, planFile); err != nil {
		t.Fatal(err)
	}
	if got, want := s.attached(t), sortedPair(oldKID, newKID); !slices.Equal(got, want) {
		t.Fatalf("attached after the attach: %v, want %v", got, want)
	}

	ws, res = s.credentials(t)
	edit, err = ws.RemoveCredential(res, func(c tfrunner.CredentialBlock) bool { return blockKID(t, c) == oldKID })
	if err != nil {
		t.Fatal(err)
	}
	if err := edit.Write(); err != nil {
		t.Fatal(err)
	}
	intent = tfrunner.Intent{Credentials: res.Address, Client: res.ClientRef, RemoveKID: oldKID}
	summary, findings = s.planAndGuard(t, planFile, intent)
	if len(findings) != 0 {
		t.Fatalf("guard findings for the retire: %+v", findings)
	}
	if cc := summary.Credentials; len(cc.Removed) != 1 || cc.Removed[0].KID != oldKID || len(cc.Kept) != 1 || cc.Kept[0].KID != newKID {
		t.Fatalf("retire plan credentials: %+v", cc)
	}
	if err := s.runner.Apply(ctx, planFile); err != nil {
		t.Fatal(err)
	}
	if got := s.attached(t); !slices.Equal(got, []string{newKID}) {
		t.Fatalf("attached after the retire: %v, want only %s", got, newKID)
	}
	if changes, err := s.runner.Plan(ctx, planFile); err != nil || changes {
		t.Fatalf("plan after the rotation: changes=%v err=%v", changes, err)
	}
}

// blockKID is the kid of the key in a credentials block with a literal PEM.
func blockKID(t testing.TB, c tfrunner.CredentialBlock) string {
	t.Helper()
	pub, err := keys.ParsePublic([]byte(c.PEM))
	if pub.Key == nil {
		t.Fatalf("credentials block %q: %v", c.Name, err)
	}
	return keys.Thumbprint(pub.Key)
}

func sortedPair(a, b string) []string {
	pair := []string{a, b}
	slices.Sort(pair)
	return pair
}

// TestGuardBlocksARealRename: the guard reads a real plan of the real provider that renames the
// surviving credential, and blocks it.
func TestGuardBlocksARealRename(t *testing.T) {
	s := startSandboxWorkspace(t, sandboxtest.RealProvider(t))
	oldKID := s.client.Credentials[0].KID
	mainTF := filepath.Join(s.manifest.TerraformDir, "main.tf")
	original, err := os.ReadFile(mainTF)
	if err != nil {
		t.Fatal(err)
	}
	_, res := s.credentials(t)
	oldName := res.Credentials[0].Name
	renamed := strings.Replace(string(original), `"`+oldName+`"`, `"Current Credential"`, 1)
	if err := os.WriteFile(mainTF, []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(mainTF, original, 0o644) })
	_, findings := s.planAndGuard(t, filepath.Join(t.TempDir(), "p"), tfrunner.Intent{Credentials: res.Address, Client: res.ClientRef})
	if !hasRule(findings, tfrunner.RuleRename) {
		t.Fatalf("a rename of %s (kid %s) was not blocked: %+v", oldName, oldKID, findings)
	}
}

// TestGuardBlocksTheLegacyReplace: with the stand-in playing provider 1.46 (the real one is
// not available at that version here), the guard blocks the plan that replaces the whole
// credentials resource.
func TestGuardBlocksTheLegacyReplace(t *testing.T) {
	ctx := context.Background()
	s := startSandboxWorkspace(t, sandboxtest.StandIn(t))
	mainTF := filepath.Join(s.manifest.TerraformDir, "main.tf")
	original, err := os.ReadFile(mainTF)
	if err != nil {
		t.Fatal(err)
	}
	cliConfig, err := tfrunner.InstallMirror(filepath.Dir(s.manifest.TerraformCLIConfig), tftest.Rekey(t), tfrunner.StandInProviderVersion, "1.46.0")
	if err != nil || cliConfig != s.manifest.TerraformCLIConfig {
		t.Fatalf("mirror with 1.46.0: %s %v", cliConfig, err)
	}
	legacy := strings.Replace(string(original), `version = ">= 1.47.0"`, `version = "1.46.0"`, 1)
	if legacy == string(original) {
		t.Fatal("the workspace has no provider version constraint to pin")
	}
	if err := os.WriteFile(mainTF, []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.runner.Init(ctx, true); err != nil {
		t.Fatal(err)
	}
	ws, res := s.credentials(t)
	newPEM, newKID := newPublicKey(t)
	edit, err := ws.AddCredential(res, tfrunner.NewCredentialBlock{Name: "next", Algorithm: "RS256", PEM: newPEM})
	if err != nil {
		t.Fatal(err)
	}
	if err := edit.Write(); err != nil {
		t.Fatal(err)
	}
	_, findings := s.planAndGuard(t, filepath.Join(t.TempDir(), "p"), tfrunner.Intent{Credentials: res.Address, Client: res.ClientRef, AddKID: newKID})
	if !hasRule(findings, tfrunner.RuleReplace) || !hasRule(findings, tfrunner.RuleProviderVersion) {
		t.Fatalf("the legacy provider's replace was not blocked: %+v", findings)
	}
}

func hasRule(findings []tfrunner.Finding, rule string) bool {
	return slices.ContainsFunc(findings, func(f tfrunner.Finding) bool { return f.Rule == rule })
}
