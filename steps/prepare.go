package steps

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"rekey/keys"
	"rekey/sysconfig"
	"rekey/tenant"
	"rekey/tfrunner"
)

// preflight checks everything the rotation relies on before anything changes: the client uses
// private_key_jwt and has exactly one attached credential, which the workspace's HCL declares;
// the provider updates credentials in place; the plan is clean (or the operator accepts its
// drift); the current key works, when its private key is known.
func (e *engine) preflight(ctx context.Context) error {
	c := e.client
	if c.AuthMethod != "private_key_jwt" {
		return fmt.Errorf("%w: client %s authenticates with %s; rekey rotates private_key_jwt credentials only", ErrUnsafe, c.Name, cmpOr(c.AuthMethod, "no method"))
	}
	attached := c.Attached()
	switch {
	case len(attached) == 0:
		return fmt.Errorf("%w: client %s has no attached credential to rotate", ErrUnsafe, c.Name)
	case len(attached) >= tfrunner.MaxAttached:
		return fmt.Errorf("%w: client %s already has %d credentials attached (%s), the most Auth0 allows; a rotation needs a free slot. "+
			"If an earlier rotation stopped after attaching its key, finish it (rekey rotate) or undo it (rekey rotate --abort); otherwise retire one of them first",
			ErrUnsafe, c.Name, len(attached), kidsOf(attached))
	}
	old := attached[0]
	res, err := e.credentialsResource(ctx)
	if err != nil {
		if res, err = e.manualResource(ctx, err); err != nil {
			return err
		}
	}
	block, ok := e.findBlock(res, old.KID)
	if !ok && e.j.ManualEdit != nil {
		block, ok = tfrunner.CredentialBlock{Name: old.Name}, true // a state without the pem: the plan judges the layout
	}
	if !ok {
		return fmt.Errorf("%w: %s does not declare the attached credential %s (kid %s); the HCL and the tenant differ — bring them in line with terraform plan/apply first",
			ErrUnsafe, res.Address, cmpOr(old.Name, old.ID), old.KID)
	}
	if err := e.checkProvider(); err != nil {
		return err
	}
	audience, err := e.audience(ctx)
	if err != nil {
		return err
	}
	e.j.Resource, e.j.ClientRef, e.j.Audience = res.Address, res.ClientRef, audience
	e.j.Old = &JournalKey{KID: old.KID, Alg: old.Alg, Name: block.Name, ExpiresAt: old.ExpiresAt}
	shape := Shape(e.opts, ReadCurrentKey(e.opts.TerraformDir, old, block))
	e.j.Shape = &shape
	e.emit(Event{Kind: Output, Step: Preflight, Text: "The new key: " + strings.Join(shape.Describe(), "; ")})
	var warnings []Warning
	if e.j.Old.PrivateKeyFile, err = e.knownKeyFile(old.KID); err != nil {
		warnings = append(warnings, Warning{Name: WarnUnusableCurrentKeyFile, Message: fmt.Sprintf(
			"the system config's private key file for the current key %s cannot be used (%v): a service using this file cannot sign with it either; the key's live checks are skipped", old.KID, err)})
	}
	more, err := e.preflightWarnings(ctx)
	if err != nil {
		return err
	}
	return e.acceptWarnings(ctx, append(warnings, more...))
}

// preflightWarnings lists what predicts an outage if the rotation goes on: drift in the plan,
// a system config that does not list the current key, a current key that fails.
func (e *engine) preflightWarnings(ctx context.Context) ([]Warning, error) {
	var warnings []Warning
	drift, err := e.drift(ctx)
	if err != nil {
		return nil, err
	}
	if drift != "" {
		warnings = append(warnings, Warning{Name: WarnPlanDrift, Message: fmt.Sprintf(
			"terraform plan is not clean: it would %s (drift, e.g. a leftover HCL edit or a change made outside Terraform); the rotation's plans would carry it. Bring the HCL and the tenant in line first", drift)})
	}
	if e.sys != nil && position(e.sys, e.j.Old.KID) < 0 {
		warnings = append(warnings, Warning{Name: WarnUnlistedCurrentKey, Message: fmt.Sprintf(
			"the system config %s does not list %s's current key %s: is it another service's file? Its service would get %s's new key, and the real service would lose its key at retire",
			e.sys.Path(), e.client.Name, e.j.Old.KID, e.client.Name)})
	}
	if e.j.Old.PrivateKeyFile == "" {
		e.emit(Event{Kind: Output, Step: Preflight, Text: "The current key's private key is not known here; its live checks are skipped."})
	} else if r := e.check(ctx, Preflight, "old", e.j.Old); !r.OK {
		warnings = append(warnings, Warning{Name: WarnFailingCurrentKey, Message: fmt.Sprintf(
			"the current key %s fails a token exchange for %s: %s. A wrong --audience fails the new key's checks too; accepting this skips the current key's later checks",
			e.j.Old.KID, e.j.Audience, DescribeCheck(r))})
	}
	return warnings, nil
}

// drift runs terraform plan and describes its changes ("update auth0_client.x, …"), or ""
// when the plan is clean.
func (e *engine) drift(ctx context.Context) (string, error) {
	planFile := e.planFile(Preflight)
	defer os.Remove(planFile)
	changes, err := e.runner.Plan(ctx, planFile)
	if err != nil || !changes {
		return "", err
	}
	plan, err := e.runner.ShowPlan(ctx, planFile)
	if err != nil {
		return "", err
	}
	summary, err := tfrunner.ReadPlan(plan, e.j.Resource)
	if err != nil {
		return "", err
	}
	e.emit(Event{Kind: PlanReady, Step: Preflight, Plan: &summary})
	var what []string
	for _, c := range summary.Changes {
		what = append(what, c.Action()+" "+c.Address)
	}
	return strings.Join(what, ", "), nil
}

// acceptWarnings puts preflight's warnings to the operator; the rotation goes on only if all
// are accepted. What was accepted goes to the journal and the audit record.
func (e *engine) acceptWarnings(ctx context.Context, warnings []Warning) error {
	if len(warnings) == 0 {
		return nil
	}
	for i, w := range warnings {
		warnings[i].Accepted = slices.Contains(e.opts.AcceptWarnings, w.Name)
	}
	q := Question{Kind: Proceed, Step: Preflight, Title: "Continue despite these warnings?", Body: warningsText(warnings), Warnings: warnings}
	a, err := e.deps.Prompter.Ask(ctx, q)
	if err != nil {
		return err
	}
	if !a.Yes {
		return warningsDeclined(q)
	}
	for _, w := range warnings {
		e.j.Accepted = append(e.j.Accepted, "warning "+w.Name+": "+w.Message)
		if w.Name == WarnFailingCurrentKey {
			e.j.Old.PrivateKeyFile = "" // its later checks could never pass
		}
	}
	return nil
}

// warningsDeclined is the error of a warnings question answered no: it names the warnings
// not accepted by name and the flags that would accept them.
func warningsDeclined(q Question) error {
	var names, flags []string
	for _, w := range q.Warnings {
		if !w.Accepted {
			names = append(names, w.Name)
			flags = append(flags, "--accept-warning "+w.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("%w at %q; nothing was changed", ErrDeclined, q.Title)
	}
	return fmt.Errorf("%w: preflight's warnings predict an outage and were not accepted: %s. Nothing was changed. Fix their cause, or, to go on anyway, accept each by name: %s (--yes never accepts a warning)",
		ErrDeclined, strings.Join(names, ", "), strings.Join(flags, " "))
}

// checkProvider refuses an auth0 provider that replaces the credentials resource on change.
func (e *engine) checkProvider() error {
	v, err := tfrunner.LockedProviderVersion(e.opts.TerraformDir, tfrunner.ProviderSource)
	if err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("the Terraform folder %s has no auth0 provider in .terraform.lock.hcl; run terraform init there", e.opts.TerraformDir)
	}
	for _, f := range tfrunner.Guard(tfrunner.PlanSummary{Credentials: &tfrunner.CredentialsChange{After: 1}}, tfrunner.Intent{}, v) {
		if f.Rule == tfrunner.RuleProviderVersion {
			return fmt.Errorf("%w: %s", ErrUnsafe, f.Message)
		}
	}
	return nil
}

// audience is the API the checks ask tokens for: the operator's, or the client's first grant.
func (e *engine) audience(ctx context.Context) (string, error) {
	if e.opts.Audience != "" {
		return e.opts.Audience, nil
	}
	grants, err := e.deps.Tenant.Grants(ctx, e.client.ID)
	if err != nil {
		return "", err
	}
	if len(grants) == 0 {
		return "", fmt.Errorf("client %s has no client grant, so no token can be requested to check its keys; pass --audience or add a grant", e.client.Name)
	}
	return grants[0].Audience, nil
}

// knownKeyFile is the private key file the system config lists for kid, or "" when it lists
// none; a listed file that does not hold the key is an error.
func (e *engine) knownKeyFile(kid string) (string, error) {
	if e.sys == nil {
		return "", nil
	}
	i := position(e.sys, kid)
	if i < 0 {
		return "", nil
	}
	path := e.sys.KeyPath(e.sys.Entries()[i])
	key, err := keys.LoadPrivateKey(path)
	if err != nil {
		return "", err
	}
	if keys.Thumbprint(&key.PublicKey) != kid {
		return "", fmt.Errorf("%s holds the key %s, not %s", path, keys.Thumbprint(&key.PublicKey), kid)
	}
	return path, nil
}

// generate makes the new key pair, writes its private key 0600 outside the Terraform folder,
// and checks that the file on disk matches the public part.
func (e *engine) generate(ctx context.Context) error {
	if e.j.New != nil && e.j.New.PrivateKeyFile != "" {
		return e.checkNewKeyFile()
	}
	shape := e.shape()
	key, err := keys.Generate(shape.Bits)
	if err != nil {
		return err
	}
	kid := keys.Thumbprint(&key.PublicKey)
	nk := &JournalKey{KID: kid, Alg: shape.Alg, Name: newKeyName(e.client.Name, e.deps.Now(), kid), PrivateKeyFile: e.newKeyFile(kid)}
	if err := e.publicPart(nk, key, shape); err != nil {
		return err
	}
	if err := keys.WritePrivateKey(nk.PrivateKeyFile, key); err != nil {
		return err
	}
	e.j.New = nk
	if err := e.j.save(); err != nil {
		return err
	}
	e.emit(Event{Kind: Output, Step: Generate, Text: fmt.Sprintf("New %d-bit RSA key %s (%s), private key in %s (0600)", shape.Bits, kid, shape.Alg, nk.PrivateKeyFile)})
	return e.checkNewKeyFile()
}

// shape is the new key's shape chosen in preflight (a journal from before shapes were
// recorded has none: then the options and defaults decide).
func (e *engine) shape() KeyShape {
	if e.j.Shape != nil {
		return *e.j.Shape
	}
	return Shape(e.opts, CurrentKey{})
}

// checkNewKeyFile is generate's gate: the private key file exists and matches the public part.
func (e *engine) checkNewKeyFile() error {
	key, err := keys.LoadPrivateKey(e.j.New.PrivateKeyFile)
	if err != nil {
		return err
	}
	pub, err := keys.ParsePublic([]byte(e.j.New.PublicPEM))
	if err != nil {
		return err
	}
	if err := keys.Match(key, pub.Key); err != nil {
		return err
	}
	if keys.Thumbprint(pub.Key) != e.j.New.KID {
		return fmt.Errorf("the new key's kid does not match its public key; the journal %s was edited", e.j.path)
	}
	return nil
}

// safeFileName keeps letters, digits, dot, dash and underscore of a client name.
func safeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, name)
}

// stage adds the new key to the system config as NEXT, after CURRENT, and re-reads the file;
// without a file it shows the entry and waits for the operator's confirmation.
func (e *engine) stage(ctx context.Context) error {
	entry := sysconfig.Entry{KID: e.j.New.KID, Alg: e.j.New.Alg, PrivateKeyFile: e.j.New.PrivateKeyFile}
	if e.sys == nil {
		return e.ask(ctx, Question{Kind: Proceed, Step: Stage, Title: "Add the new key to the service's configuration as NEXT",
			Body: "Add this entry after the current one in the consuming service's credential list, then confirm:\n" + sysconfig.Snippet([]sysconfig.Entry{entry})})
	}
	entry.PrivateKeyFile = e.sys.KeyPathAsWritten(entry.PrivateKeyFile)
	return e.editSystemConfig(Stage, entry.KID, 1, func(f *sysconfig.File) error { return f.Stage(entry) })
}

// editSystemConfig applies change unless kid already stands at position want (a resumed
// step), saves, and checks the re-read file.
func (e *engine) editSystemConfig(s Step, kid string, want int, change func(*sysconfig.File) error) error {
	if position(e.sys, kid) == want {
		return nil
	}
	if err := change(e.sys); err != nil {
		return err
	}
	e.emit(Event{Kind: Diff, Step: s, Text: e.sys.Diff()})
	if err := e.sys.Save(); err != nil {
		return err
	}
	reread, err := sysconfig.Load(e.sys.Path())
	if err != nil {
		return err
	}
	if got := position(reread, kid); got != want {
		return fmt.Errorf("after writing %s, key %s is at position %d, not %d", e.sys.Path(), kid, got, want)
	}
	e.sys = reread
	return nil
}

// position is kid's index in the system config, or -1.
func position(f *sysconfig.File, kid string) int {
	return slices.IndexFunc(f.Entries(), func(x sysconfig.Entry) bool { return x.KID == kid })
}

// credentialsResource finds the client's auth0_client_credentials resource in the workspace.
func (e *engine) credentialsResource(ctx context.Context) (*tfrunner.CredentialsResource, error) {
	_, res, err := e.workspace(ctx)
	return res, err
}

// workspace loads the HCL and finds the client's credentials resource through the state. The
// state is read once per run: the ids of auth0_client resources and the address of the
// client's credentials do not change in a rotation.
func (e *engine) workspace(ctx context.Context) (*tfrunner.Workspace, *tfrunner.CredentialsResource, error) {
	if e.state == nil {
		state, err := e.runner.State(ctx)
		if err != nil {
			return nil, nil, err
		}
		e.state = state
	}
	ws, err := tfrunner.LoadWorkspace(e.opts.TerraformDir)
	if err != nil {
		return nil, nil, err
	}
	res, err := ws.Credentials(e.client.ID, e.state)
	if err != nil {
		return nil, nil, err
	}
	return ws, res, nil
}

// findBlock returns the credentials block whose PEM holds the key with kid.
func (e *engine) findBlock(res *tfrunner.CredentialsResource, kid string) (tfrunner.CredentialBlock, bool) {
	for _, b := range res.Credentials {
		if blockKID(e.opts.TerraformDir, b) == kid {
			return b, true
		}
	}
	return tfrunner.CredentialBlock{}, false
}

// blockKID is the kid of a block's key (a literal PEM, or a file() relative to dir), or ""
// when it cannot be read.
func blockKID(dir string, b tfrunner.CredentialBlock) string {
	if pub := ReadCurrentKey(dir, tenant.Credential{}, b).Public.Key; pub != nil {
		return keys.Thumbprint(pub)
	}
	return ""
}

func kidsOf(creds []tenant.Credential) string {
	var out []string
	for _, c := range creds {
		out = append(out, c.KID)
	}
	return strings.Join(out, ", ")
}
