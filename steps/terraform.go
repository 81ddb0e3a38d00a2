package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"rekey/tenant"
	"rekey/tfrunner"
)

// planFile is where a step saves its plan: in .rekey/, next to the journal.
func (e *engine) planFile(s Step) string {
	return filepath.Join(e.opts.TerraformDir, journalDir, fmt.Sprintf("%s-%s.tfplan", e.client.ID, s))
}

// change is one guarded Terraform change: an HCL edit (nil when the HCL already has it, as
// when a step resumes), the intent the guard checks the plan against, and the question that
// confirms the apply.
type change struct {
	step        Step
	edit        func(*tfrunner.Workspace, *tfrunner.CredentialsResource) (*tfrunner.Edit, error)
	intent      tfrunner.Intent
	question    Question
	beforeApply func() error // records in the journal that the apply is about to run; may be nil
	undoesOnly  bool         // an abort's edit: a plan without changes means nothing was applied, which is fine
	// awaitEdit, for an edit the operator makes (manualChange), runs when the plan shows no
	// change: it reports whether to plan again (the operator edited) or not (already applied).
	awaitEdit func(context.Context) (bool, error)
}

// applyChange edits the HCL (unless the operator does: c.awaitEdit), shows the diff, saves a
// plan, guards it, asks, and applies the saved plan. An edit the operator declines, or the
// guard blocks, is undone.
func (e *engine) applyChange(ctx context.Context, c change) error {
	var edit *tfrunner.Edit
	if c.awaitEdit == nil {
		ws, res, err := e.workspace(ctx)
		if err != nil {
			return err
		}
		if edit, err = c.edit(ws, res); err != nil {
			return err
		}
	}
	undo := func() error { return nil }
	if edit != nil {
		e.emit(Event{Kind: Diff, Step: c.step, Text: edit.Diff})
		if err := edit.Write(); err != nil {
			return err
		}
		undo = tfrunner.Edit{File: edit.File, Before: edit.After, After: edit.Before}.Write
	}
	err := e.planGuardApply(ctx, c, edit != nil)
	if err != nil && !errors.Is(err, errApplyFailed) {
		err = errors.Join(err, undo())
	}
	return err
}

// errApplyFailed marks a failed apply: the HCL edit stays, so a resumed step plans again.
var errApplyFailed = errors.New("terraform apply failed")

func (e *engine) planGuardApply(ctx context.Context, c change, edited bool) error {
	planFile := e.planFile(c.step)
	defer os.Remove(planFile)
	changes, err := e.runner.Plan(ctx, planFile)
	if err != nil {
		return err
	}
	if !changes {
		if c.awaitEdit != nil {
			again, err := c.awaitEdit(ctx)
			if err != nil || !again {
				return err
			}
			return e.planGuardApply(ctx, c, edited)
		}
		if edited && !c.undoesOnly {
			return fmt.Errorf("the HCL edit of %s made no change in the plan", c.intent.Credentials)
		}
		return nil // applied before this step was resumed, or (abort) never applied
	}
	plan, err := e.runner.ShowPlan(ctx, planFile)
	if err != nil {
		return err
	}
	summary, err := tfrunner.ReadPlan(plan, c.intent.Credentials)
	if err != nil {
		return err
	}
	provider, err := tfrunner.LockedProviderVersion(e.opts.TerraformDir, tfrunner.ProviderSource)
	if err != nil {
		return err
	}
	c.intent.AcceptOther = e.opts.AcceptOther
	findings := tfrunner.Guard(summary, c.intent, provider)
	e.emit(Event{Kind: PlanReady, Step: c.step, Plan: &summary, Findings: findings})
	if err := e.judge(ctx, c, findings); err != nil {
		return err
	}
	if err := e.ask(ctx, c.question); err != nil {
		return err
	}
	e.recordAccepted(summary)
	digest, err := fileDigest(planFile)
	if err != nil {
		return err
	}
	if c.beforeApply != nil {
		if err := c.beforeApply(); err != nil {
			return err
		}
	}
	if err := e.runner.Apply(ctx, planFile); err != nil {
		return fmt.Errorf("%w: %w", errApplyFailed, err)
	}
	if e.j.PlanDigests == nil {
		e.j.PlanDigests = map[string]string{}
	}
	e.j.PlanDigests[c.step.String()] = digest
	return e.j.save()
}

// recordAccepted notes the other resources the operator accepted by name whose changes this
// plan applies.
func (e *engine) recordAccepted(summary tfrunner.PlanSummary) {
	for _, ch := range summary.Changes {
		if slices.Contains(e.opts.AcceptOther, ch.Address) && !slices.Contains(e.j.Accepted, ch.Address) {
			e.j.Accepted = append(e.j.Accepted, ch.Address)
		}
	}
}

// judge stops on any blocking finding and asks the operator about the acceptable ones
// (changes to other resources), recording what was accepted.
func (e *engine) judge(ctx context.Context, c change, findings []tfrunner.Finding) error {
	var blocking, acceptable []tfrunner.Finding
	for _, f := range findings {
		if f.Acceptable {
			acceptable = append(acceptable, f)
		} else {
			blocking = append(blocking, f)
		}
	}
	if len(blocking) > 0 {
		return fmt.Errorf("%w: the plan guard blocked the apply:\n%s", ErrUnsafe, describeFindings(blocking))
	}
	if len(acceptable) == 0 {
		return nil
	}
	q := Question{Kind: Proceed, Step: c.step, Title: "The plan also changes other resources", Findings: acceptable,
		Body: describeFindings(acceptable) + "\n(headless: accept each by name with --accept-change ADDRESS)"}
	if err := e.ask(ctx, q); err != nil {
		return err
	}
	for _, f := range acceptable {
		if !slices.Contains(e.j.Accepted, f.Address) {
			e.j.Accepted = append(e.j.Accepted, f.Address)
		}
	}
	return nil
}

func describeFindings(fs []tfrunner.Finding) string {
	var lines []string
	for _, f := range fs {
		lines = append(lines, fmt.Sprintf("- [%s] %s", f.Rule, f.Message))
	}
	return strings.Join(lines, "\n")
}

func fileDigest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// attach adds the new key's credentials block and applies it, then checks that the tenant
// has the new key attached.
func (e *engine) attach(ctx context.Context) error {
	if err := e.removeLeftoverNew(ctx, Attach); err != nil {
		return err
	}
	c := change{
		step: Attach,
		edit: func(ws *tfrunner.Workspace, res *tfrunner.CredentialsResource) (*tfrunner.Edit, error) {
			if _, ok := e.findBlock(res, e.j.New.KID); ok {
				return nil, nil
			}
			block, err := e.newBlock(res)
			if err != nil {
				return nil, err
			}
			edit, err := ws.AddCredential(res, block)
			return &edit, err
		},
		intent:   tfrunner.Intent{Credentials: e.j.Resource, Client: e.j.ClientRef, AddKID: e.j.New.KID},
		question: Question{Kind: Proceed, Step: Attach, Title: "Apply this plan to attach the new key?"},
	}
	if e.j.ManualEdit != nil {
		howTo, err := e.attachHowTo()
		if err != nil {
			return err
		}
		c = e.manualChange(c, howTo, e.attachedIs(e.j.New.KID, true))
	}
	if err := e.applyChange(ctx, c); err != nil {
		return err
	}
	return e.expectAttached(ctx, e.j.New.KID, true)
}

// newBlock describes the new credentials block in the style of the existing ones: a heredoc,
// or a file() next to the existing PEM files.
func (e *engine) newBlock(res *tfrunner.CredentialsResource) (tfrunner.NewCredentialBlock, error) {
	block := tfrunner.NewCredentialBlock{Name: e.j.New.Name, Algorithm: e.j.New.Alg, PEM: e.j.New.PublicPEM, ParseExpiryFromCert: e.shape().ParseExpiryFromCert}
	if e.j.New.ExplicitExpiry {
		block.ExpiresAt = ProviderTime(*e.j.New.ExpiresAt)
	}
	if res.PEMStyle != tfrunner.PEMFile {
		return block, nil
	}
	last := res.Credentials[len(res.Credentials)-1]
	block.PEMFile = filepath.Join(filepath.Dir(last.PEM), e.publicKeyName())
	return block, e.writePublicKey(filepath.Join(e.opts.TerraformDir, block.PEMFile))
}

// publicKeyName is the name of the new key's public key file: <client>-<kid8>.pem.
func (e *engine) publicKeyName() string {
	return fmt.Sprintf("%s-%s.pem", safeFileName(e.client.Name), e.j.New.KID[:8])
}

// writePublicKey writes the new key's public key (or certificate) to path, unless it is there
// already; it never overwrites another file.
func (e *engine) writePublicKey(path string) error {
	if data, err := os.ReadFile(path); err == nil && string(data) == e.j.New.PublicPEM {
		return nil
	}
	return writeNewFile(path, []byte(e.j.New.PublicPEM))
}

// writeNewFile writes a public file that must not exist yet.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// retire removes the old key's block and applies it, after the rules allow it: verify passed
// in this rotation, and no service still uses the old key (where that can be seen). The
// operator confirms by typing the client's name.
func (e *engine) retire(ctx context.Context) error {
	if !e.j.Verified {
		return fmt.Errorf("%w: the new key was not verified in this rotation; rekey never retires a key before the new one is proven", ErrUnsafe)
	}
	if err := e.checkOldKeyUnused(ctx); err != nil {
		return err
	}
	c := change{
		step: Retire,
		edit: e.removeBlock(e.j.Old.KID),
		beforeApply: func() error {
			e.j.RetireApplying = true
			return e.j.save()
		},
		intent: tfrunner.Intent{Credentials: e.j.Resource, Client: e.j.ClientRef, RemoveKID: e.j.Old.KID},
		question: Question{Kind: TypeName, Step: Retire, Expect: e.client.Name,
			Title: fmt.Sprintf("Type the client's name (%s) to remove the old key %s", e.client.Name, e.j.Old.KID)},
	}
	if e.j.ManualEdit != nil {
		c = e.manualChange(c, e.removeHowTo(e.j.Old, e.j.New), e.attachedIs(e.j.Old.KID, false))
	}
	if err := e.applyChange(ctx, c); err != nil {
		return err
	}
	if err := e.removeLeftoverOld(ctx, Retire); err != nil {
		return err
	}
	return e.expectAttached(ctx, e.j.Old.KID, false)
}

// isAttached reports whether kid is attached to the client in the tenant.
func (e *engine) isAttached(ctx context.Context, kid string) (bool, error) {
	c, err := e.deps.Tenant.Client(ctx, e.client.ID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(c.Attached(), func(cr tenant.Credential) bool { return cr.KID == kid }), nil
}

// removeBlock is the edit that removes the credentials block of kid (none when the HCL no
// longer has it). Removing the last block is a safety stop.
func (e *engine) removeBlock(kid string) func(*tfrunner.Workspace, *tfrunner.CredentialsResource) (*tfrunner.Edit, error) {
	return func(ws *tfrunner.Workspace, res *tfrunner.CredentialsResource) (*tfrunner.Edit, error) {
		if _, ok := e.findBlock(res, kid); !ok {
			return nil, nil
		}
		edit, err := ws.RemoveCredential(res, func(b tfrunner.CredentialBlock) bool { return blockKID(e.opts.TerraformDir, b) == kid })
		if errors.Is(err, tfrunner.ErrLastCredential) {
			return nil, fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		return &edit, err
	}
}

// expectAttached checks in the tenant that kid is (or is no longer) attached to the client.
func (e *engine) expectAttached(ctx context.Context, kid string, want bool) error {
	attached, err := e.isAttached(ctx, kid)
	if err != nil {
		return err
	}
	if attached != want {
		return fmt.Errorf("after the apply, key %s is attached=%v in the tenant, expected %v", kid, attached, want)
	}
	return nil
}
