package steps_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"rekey/keys"
	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/steps"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

// TestVerifyFailureNeverRetires: when the new key cannot authenticate (it was detached in the
// tenant out of band right after attach), verify stops the rotation with ErrUnsafe; nothing
// after verify happens and the old key stays attached and working. The service never fails.
func TestVerifyFailureNeverRetires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	svc.waitRequests(t, 5)
	oldCred := e.credentialID(e.oldKID)

	// Seam: Deps.Now runs ahead after each failed check of the new key, so the 30-second
	// propagation timeout passes after a few real checks instead of 30 seconds.
	clock := &skewClock{}
	deps := e.deps(nil, nil)
	deps.Now = clock.now
	detached := false
	r := call(context.Background(), steps.Rotate, e.opts, deps, func(ev steps.Event) {
		switch {
		case ev.Kind == steps.StepFinished && ev.Step == steps.Attach:
			// Out of band: the tenant's private_key_jwt list loses the new key again.
			if _, err := e.srv.Tenant().UpdateClient(e.mc.ClientID, sandbox.ClientPatch{AuthMethodsSet: true, PrivateKeyJWT: &[]string{oldCred}}); err != nil {
				t.Errorf("detach the new key out of band: %v", err)
			}
			detached = true
		case ev.Kind == steps.CheckDone && ev.Step == steps.Verify && ev.Check.Role == "new" && !ev.Check.Result.OK:
			clock.advance(10 * time.Second)
		}
	})
	if !detached {
		t.Fatalf("attach never finished: %v", r.err)
	}
	if !errors.Is(r.err, steps.ErrUnsafe) {
		t.Fatalf("Rotate = %v, want ErrUnsafe from verify", r.err)
	}
	if !strings.Contains(r.err.Error(), "new key "+r.res.NewKID) {
		t.Errorf("the refusal does not say the new key %s failed: %v", r.res.NewKID, r.err)
	}
	if got := stepStatus(r.res, steps.Verify); got != "failed" {
		t.Errorf("verify: %q, want failed", got)
	}
	for _, s := range []steps.Step{steps.Promote, steps.Retire, steps.Confirm} {
		if got := stepStatus(r.res, s); got != "pending" {
			t.Errorf("step %s: %q, want pending (nothing after a failed verify)", s, got)
		}
	}
	if r.res.Status != steps.StatusFailed {
		t.Errorf("status %q, want failed", r.res.Status)
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{e.oldKID}) {
		t.Errorf("attached kids %v, want the old key %s alone", got, e.oldKID)
	}
	if res := e.checkKey(t, e.oldKeyFile); !res.OK {
		t.Errorf("the old key stopped working: %+v", res)
	}
	j := e.journal()
	if j == nil || j.Verified || j.PromotedAt != nil || j.Status != steps.StatusInProgress {
		t.Errorf("journal %+v: want in progress, not verified, not promoted", j)
	}
	// The service still lists the old key first: it was never promoted.
	if got := systemKIDs(t, e.mc.SystemConfig); len(got) != 2 || got[0] != e.oldKID {
		t.Errorf("system config %v, want the old key still CURRENT", got)
	}
	assertNoFailures(t, svc.Stop(), 10)
}

// TestRetireNeverRemovesLastKey: the rotation is paused after promote and the new key's block
// is removed from the HCL out of band; retire would then leave the client without a key, so
// it must stop on the safety rule, apply nothing and leave the HCL as it found it.
func TestRetireNeverRemovesLastKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, hook, cancel := stopAfter(steps.Promote)
	first := e.rotate(ctx, hook)
	cancel()
	if first.err == nil || stepStatus(first.res, steps.Promote) != "done" {
		t.Fatalf("the first run should stop after promote: %v %+v", first.err, first.res.Steps)
	}
	newKID := first.res.NewKID

	// Out of band, the new key's block leaves the HCL (through rekey's own HCL editor).
	runner, err := tfrunner.New(tfrunner.Config{Dir: e.m.TerraformDir, Binary: e.bin, Env: e.m.TerraformEnv()})
	if err != nil {
		t.Fatal(err)
	}
	state, err := runner.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ws, err := tfrunner.LoadWorkspace(e.m.TerraformDir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ws.FindCredentials(e.mc.ClientID, tfrunner.ClientResolver(state))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Credentials) != 2 {
		t.Fatalf("the HCL has %d credentials blocks after attach, want 2", len(res.Credentials))
	}
	edit, err := ws.RemoveCredential(res, func(b tfrunner.CredentialBlock) bool { return b.Name == res.Credentials[1].Name })
	if err != nil {
		t.Fatal(err)
	}
	if err := edit.Write(); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()

	second := e.rotate(context.Background(), nil)
	if second.err == nil {
		t.Fatalf("retire removed the last credentials block of the HCL")
	}
	t.Logf("second run: %v", second.err)
	if !errors.Is(second.err, steps.ErrUnsafe) {
		t.Errorf("Rotate = %v; want errors.Is(err, steps.ErrUnsafe): removing the last key is a safety rule (headless maps ErrUnsafe to exit 4, anything else to 1 'failed; resumable')", second.err)
	}
	if !strings.Contains(second.err.Error(), "last") {
		t.Errorf("the error does not say it would remove the last key: %v", second.err)
	}
	if got := stepStatus(second.res, steps.Retire); got != "failed" {
		t.Errorf("retire: %q, want failed", got)
	}
	e.assertUnchanged(t, before)
	if got := e.attachedKIDs(); !slices.Equal(got, sortedPair(e.oldKID, newKID)) {
		t.Errorf("attached kids %v, want both keys still attached", got)
	}
	if d, ok := auditDigest(e, "retire"); ok {
		t.Errorf("a retire plan was applied (digest %s)", d)
	}
}

// newBlockName matches the name attribute of the block attach adds.
var newBlockName = regexp.MustCompile(`name\s*=\s*"billing-worker \d{4}-\d{2}-\d{2} [A-Za-z0-9_-]{8}"`)

func sortedPair(a, b string) []string {
	out := []string{a, b}
	slices.Sort(out)
	return out
}

// auditDigest finds a plan digest of step in any audit record.
func auditDigest(e *env, step string) (string, bool) {
	for _, r := range e.auditRecords() {
		if d, ok := r.PlanDigests[step]; ok {
			return d, true
		}
	}
	return "", false
}

// TestRetireGuardBlocksRename: while the attach question is on screen, the operator renames
// the new (surviving) credentials block in the HCL. The rename is not in the saved attach
// plan, so attach applies as shown; at retire the plan would detach and recreate the renamed
// key (a rename is remove+add in provider v1.55), so the plan guard blocks it with ErrUnsafe,
// nothing is applied, and the HCL is left as the operator had it. Renaming it back lets the
// rotation finish.
func TestRetireGuardBlocksRename(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	var renamedHCL, renamedFrom, renamedTo []byte
	prompter := promptFunc(func(ctx context.Context, q steps.Question) (steps.Answer, error) {
		if q.Step == steps.Attach && renamedHCL == nil {
			// The new block is named "billing-worker YYYY-MM-DD <kid prefix>".
			src := readFile(t, e.mainTF())
			loc := newBlockName.FindIndex(src)
			if loc == nil {
				t.Fatalf("no new credentials block in\n%s", src)
			}
			renamedFrom = slices.Clone(src[loc[0]:loc[1]])
			renamedTo = append(bytes.TrimSuffix(slices.Clone(renamedFrom), []byte(`"`)), []byte(` renamed"`)...)
			renamedHCL = slices.Concat(src[:loc[0]], renamedTo, src[loc[1]:])
			if err := os.WriteFile(e.mainTF(), renamedHCL, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return steps.AutoApprove{}.Ask(ctx, q)
	})
	var findings []tfrunner.Finding
	r := call(context.Background(), steps.Rotate, e.opts, e.deps(prompter, nil), func(ev steps.Event) {
		if ev.Kind == steps.PlanReady && ev.Step == steps.Retire {
			findings = ev.Findings
		}
	})
	if renamedHCL == nil {
		t.Fatalf("the attach question was never asked: %v", r.err)
	}
	if !errors.Is(r.err, steps.ErrUnsafe) {
		t.Fatalf("Rotate = %v, want ErrUnsafe from the retire plan guard", r.err)
	}
	if !slices.ContainsFunc(findings, func(f tfrunner.Finding) bool { return f.Rule == tfrunner.RuleRename }) {
		t.Errorf("retire's findings %+v lack the rename rule", findings)
	}
	if got := stepStatus(r.res, steps.Retire); got != "failed" {
		t.Errorf("retire: %q, want failed", got)
	}
	if got := readFile(t, e.mainTF()); !bytes.Equal(got, renamedHCL) {
		t.Errorf("the retire edit was not undone: main.tf differs from the operator's version")
	}
	newKID := r.res.NewKID
	if got := e.attachedKIDs(); !slices.Equal(got, sortedPair(e.oldKID, newKID)) {
		t.Errorf("attached kids %v, want both keys still attached", got)
	}
	if _, ok := auditDigest(e, "retire"); ok {
		t.Errorf("a retire plan was applied")
	}

	// The operator puts the name back; the rotation resumes and completes.
	if err := os.WriteFile(e.mainTF(), bytes.Replace(renamedHCL, renamedTo, renamedFrom, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	again := e.rotate(context.Background(), nil)
	if again.err != nil || again.res.Status != steps.StatusRotated {
		t.Fatalf("after undoing the rename: %v (%s)", again.err, again.res.Status)
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{newKID}) {
		t.Errorf("attached kids %v, want the new key alone", got)
	}
	assertNoFailures(t, svc.Stop(), 20)
}

// TestPreflightBlocksOldProvider: a workspace locked to auth0 provider 1.46.0 (which replaces
// the whole credentials resource on any change) is refused in preflight with ErrUnsafe and an
// explanation naming 1.47; nothing changes. The stand-in plays 1.46: the real one is not
// available at that version here.
func TestPreflightBlocksOldProvider(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, sandboxtest.StandIn(t))
	if _, err := tfrunner.InstallMirror(filepath.Dir(e.m.TerraformCLIConfig), tftest.Rekey(t), tfrunner.StandInProviderVersion, "1.46.0"); err != nil {
		t.Fatal(err)
	}
	src := readFile(t, e.mainTF())
	pinned := bytes.Replace(src, []byte(`version = ">= 1.47.0"`), []byte(`version = "1.46.0"`), 1)
	if bytes.Equal(pinned, src) {
		t.Fatalf("no provider version constraint to change in main.tf")
	}
	if err := os.WriteFile(e.mainTF(), pinned, 0o644); err != nil {
		t.Fatal(err)
	}
	runner, err := tfrunner.New(tfrunner.Config{Dir: e.m.TerraformDir, Binary: e.bin, Env: e.m.TerraformEnv()})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Init(context.Background(), true); err != nil {
		t.Fatalf("terraform init -upgrade with provider 1.46.0: %v", err)
	}
	if v, err := tfrunner.LockedProviderVersion(e.m.TerraformDir, tfrunner.ProviderSource); err != nil || v == nil || v.String() != "1.46.0" {
		t.Fatalf("locked provider %v (%v), want 1.46.0", v, err)
	}
	before := e.snapshot()

	r := e.rotate(context.Background(), nil)
	if !errors.Is(r.err, steps.ErrUnsafe) {
		t.Fatalf("Rotate = %v, want ErrUnsafe", r.err)
	}
	if !strings.Contains(r.err.Error(), "1.47") {
		t.Errorf("the refusal does not name the first safe version 1.47: %v", r.err)
	}
	if got := stepStatus(r.res, steps.Preflight); got != "failed" {
		t.Errorf("preflight: %q, want failed", got)
	}
	e.assertUnchanged(t, before)
}

// TestPreflightRefusesFullSlots: a client that already has two credentials attached has no
// slot for a new key; preflight refuses with ErrUnsafe and says what to do.
func TestPreflightRefusesFullSlots(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key, err := keys.Generate(keys.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.PublicPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	extra, err := e.srv.Tenant().CreateCredential(e.mc.ClientID, sandbox.NewCredential{Name: "attached by hand", PEM: string(pub), Alg: "RS256"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Tenant().UpdateClient(e.mc.ClientID, sandbox.ClientPatch{AuthMethodsSet: true, PrivateKeyJWT: &[]string{e.credentialID(e.oldKID), extra.ID}}); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()

	r := e.rotate(context.Background(), nil)
	if !errors.Is(r.err, steps.ErrUnsafe) {
		t.Fatalf("Rotate = %v, want ErrUnsafe", r.err)
	}
	msg := r.err.Error()
	for _, want := range []string{"2 credentials attached", e.oldKID, extra.KID, "free slot", "--abort"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal does not mention %q: %s", want, msg)
		}
	}
	e.assertUnchanged(t, before)
}

// TestPreflightRefusesNonPrivateKeyJWTClient: the management client authenticates with a
// client secret; rekey refuses to rotate it.
func TestPreflightRefusesNonPrivateKeyJWTClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.snapshot()
	opts := e.opts
	opts.Client, opts.SystemConfig = sandbox.ManagementClientName, ""
	r := call(context.Background(), steps.Rotate, opts, e.deps(nil, nil), nil)
	if !errors.Is(r.err, steps.ErrUnsafe) {
		t.Fatalf("Rotate = %v, want ErrUnsafe", r.err)
	}
	if !strings.Contains(r.err.Error(), "private_key_jwt") || !strings.Contains(r.err.Error(), "client_secret") {
		t.Errorf("the refusal should say the client uses a client secret, not private_key_jwt: %v", r.err)
	}
	e.assertUnchanged(t, before)
	mgmt, err := e.srv.Tenant().Client(e.m.Management.ClientID)
	if err != nil || mgmt.PrivateKeyJWT != nil || len(mgmt.Credentials) != 0 {
		t.Errorf("the management client changed: %+v %v", mgmt, err)
	}
}

// TestDeclinedAttach: the operator answers no to the attach plan. The rotation stops with
// ErrDeclined and status aborted; the HCL is byte-identical to before and the tenant is
// unchanged.
func TestDeclinedAttach(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	hclBefore := readFile(t, e.mainTF())
	stateBefore := readFile(t, filepath.Join(e.m.TerraformDir, "terraform.tfstate"))
	before := e.snapshot()
	asked := false
	prompter := promptFunc(func(ctx context.Context, q steps.Question) (steps.Answer, error) {
		if q.Step == steps.Attach {
			asked = true
			// While the question is shown, the HCL holds the new block: what the plan shows.
			if bytes.Equal(readFile(t, e.mainTF()), hclBefore) {
				t.Errorf("at the attach question the HCL does not hold the new block")
			}
			return steps.Answer{Yes: false}, nil
		}
		return steps.AutoApprove{}.Ask(ctx, q)
	})
	r := call(context.Background(), steps.Rotate, e.opts, e.deps(prompter, nil), nil)
	if !asked {
		t.Fatalf("the attach question was never asked: %v", r.err)
	}
	if !errors.Is(r.err, steps.ErrDeclined) {
		t.Fatalf("Rotate = %v, want ErrDeclined", r.err)
	}
	if r.res.Status != steps.StatusDeclined {
		t.Errorf("status %q, want declined", r.res.Status)
	}
	if got := readFile(t, e.mainTF()); !bytes.Equal(got, hclBefore) {
		t.Errorf("main.tf is not byte-identical after the declined attach")
	}
	if got := readFile(t, filepath.Join(e.m.TerraformDir, "terraform.tfstate")); !bytes.Equal(got, stateBefore) {
		t.Errorf("the Terraform state changed after the declined attach")
	}
	after := e.snapshot()
	if !slices.Equal(after.attached, before.attached) || !slices.Equal(after.pool, before.pool) {
		t.Errorf("the tenant changed: attached %v -> %v, pool %v -> %v", before.attached, after.attached, before.pool, after.pool)
	}
	for _, s := range []steps.Step{steps.Verify, steps.Promote, steps.Retire, steps.Confirm} {
		if got := stepStatus(r.res, s); got != "pending" {
			t.Errorf("step %s: %q, want pending", s, got)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(e.m.TerraformDir, ".rekey", "*.tfplan")); len(files) > 0 {
		t.Errorf("plan files left behind: %v", files)
	}
	assertNoFailures(t, svc.Stop(), 5)
}

// TestRetireNeedsClientName: retire goes ahead only when the operator types the client's
// exact name; anything else is a decline that leaves the old key attached and the HCL as it
// was, and the rotation resumes when the name is typed.
func TestRetireNeedsClientName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var q steps.Question
	typed := promptFunc(func(ctx context.Context, question steps.Question) (steps.Answer, error) {
		if question.Step == steps.Retire {
			q = question
			return steps.Answer{Yes: true, Text: "billing"}, nil
		}
		return steps.AutoApprove{}.Ask(ctx, question)
	})
	var hclAfterPromote []byte
	r := call(context.Background(), steps.Rotate, e.opts, e.deps(typed, nil), func(ev steps.Event) {
		if ev.Kind == steps.StepFinished && ev.Step == steps.Promote {
			hclAfterPromote = readFile(t, e.mainTF())
		}
	})
	if q.Kind != steps.TypeName || q.Expect != clientName {
		t.Errorf("the retire question %+v, want the client's name %q typed", q, clientName)
	}
	if !errors.Is(r.err, steps.ErrDeclined) {
		t.Fatalf("Rotate with a mistyped name = %v, want ErrDeclined", r.err)
	}
	if got := readFile(t, e.mainTF()); !bytes.Equal(got, hclAfterPromote) {
		t.Errorf("the retire edit was not undone")
	}
	if got := e.attachedKIDs(); !slices.Equal(got, sortedPair(e.oldKID, r.res.NewKID)) {
		t.Errorf("attached %v, want both keys", got)
	}
	again := e.rotate(context.Background(), nil)
	if again.err != nil {
		t.Fatalf("resuming with the right name: %v", again.err)
	}
	assertRotatedOnce(t, e, again)
}

// TestOtherResourceChangesNeedAcceptanceByName: another client drifted (renamed out of band),
// so the plans also change auth0_client.reporting_cron. Preflight shows the drift, which the
// operator accepts by name (Options.AcceptWarnings); the attach plan's change to the other
// resource is not something AutoApprove accepts, so the rotation is declined with the HCL
// undone. Accepting the resource by name too (Options.AcceptOther, the headless
// --accept-change) lets the rotation finish, and the audit record names both.
func TestOtherResourceChangesNeedAcceptanceByName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var other string
	for _, c := range e.m.Clients {
		if c.Name == "reporting-cron" {
			other = c.ClientID
		}
	}
	drifted := "reporting-cron (renamed by hand)"
	if _, err := e.srv.Tenant().UpdateClient(other, sandbox.ClientPatch{Name: &drifted}); err != nil {
		t.Fatal(err)
	}
	hclBefore := readFile(t, e.mainTF())
	var preflightWarning string
	var attachFindings []tfrunner.Finding
	prompter := promptFunc(func(ctx context.Context, q steps.Question) (steps.Answer, error) {
		switch {
		case q.Step == steps.Preflight:
			preflightWarning = q.Body
		case q.Step == steps.Attach && len(q.Findings) > 0:
			attachFindings = q.Findings
		}
		return steps.AutoApprove{}.Ask(ctx, q)
	})
	opts := e.opts
	opts.AcceptWarnings = []string{steps.WarnPlanDrift}
	first := call(context.Background(), steps.Rotate, opts, e.deps(prompter, nil), nil)
	if !strings.Contains(preflightWarning, "auth0_client.reporting_cron") {
		t.Errorf("preflight did not show the drift of auth0_client.reporting_cron: %q", preflightWarning)
	}
	if !errors.Is(first.err, steps.ErrDeclined) {
		t.Fatalf("Rotate with an unaccepted change to another resource = %v, want ErrDeclined", first.err)
	}
	if len(attachFindings) != 1 || attachFindings[0].Address != "auth0_client.reporting_cron" || attachFindings[0].Rule != tfrunner.RuleOtherResources {
		t.Errorf("attach asked about %+v, want the other-resources finding for auth0_client.reporting_cron", attachFindings)
	}
	if got := readFile(t, e.mainTF()); !bytes.Equal(got, hclBefore) {
		t.Errorf("the declined attach left the HCL edited")
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{e.oldKID}) {
		t.Errorf("attached %v, want the old key alone", got)
	}
	if c, _ := e.srv.Tenant().Client(other); c.Name != drifted {
		t.Errorf("the declined plan changed the other client: %q", c.Name)
	}

	opts.AcceptOther = []string{"auth0_client.reporting_cron"}
	second := call(context.Background(), steps.Rotate, opts, e.deps(nil, nil), nil)
	if second.err != nil {
		t.Fatalf("Rotate accepting auth0_client.reporting_cron by name: %v", second.err)
	}
	assertRotatedOnce(t, e, second)
	if c, _ := e.srv.Tenant().Client(other); c.Name != "reporting-cron" {
		t.Errorf("the accepted change to the other client was not applied: %q", c.Name)
	}
	recs := e.auditRecords()
	last := recs[len(recs)-1]
	if !slices.Contains(last.Accepted, "auth0_client.reporting_cron") {
		t.Errorf("the audit record of the rotation does not list the resource the operator accepted by name (accepted: %q)", last.Accepted)
	}
	if !slices.ContainsFunc(last.Accepted, func(a string) bool { return strings.HasPrefix(a, "warning "+steps.WarnPlanDrift+": ") }) {
		t.Errorf("the audit record of the rotation does not list the accepted drift warning (accepted: %q)", last.Accepted)
	}
}
