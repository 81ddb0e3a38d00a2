package steps

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"rekey/tfrunner"
)

// The edit-it-yourself path: for a layout rekey cannot edit (for_each, a module, a dynamic
// block fed by data, .tf.json), the operator makes each HCL edit; rekey says what to change,
// and the saved plan is the judge: the guard lets only a plan through that adds (or removes)
// exactly this key on exactly this client's resource instance, and changes nothing else.

// ManualEdit is why rekey cannot edit a layout, and where: the operator edits it.
type ManualEdit struct {
	Reason string `json:"reason"`
	File   string `json:"file,omitempty"` // the file:line rekey stopped at, when it knows it
	Line   int    `json:"line,omitempty"`
}

// manualEditOf records why cannotEdit stopped rekey's editor, and where: the construct it
// stopped at, or else the declaration of the resource instance at address.
func (e *engine) manualEditOf(cannotEdit error, address string) *ManualEdit {
	m := &ManualEdit{Reason: cannotEdit.Error()}
	var unsupported *tfrunner.UnsupportedError
	var module *tfrunner.ModuleError
	switch {
	case errors.As(cannotEdit, &unsupported):
		m.File, m.Line = unsupported.File, unsupported.Line
	case errors.As(cannotEdit, &module):
		m.File, m.Line = module.File, module.Line
	default:
		if ws, err := tfrunner.LoadWorkspace(e.opts.TerraformDir); err == nil {
			m.File, m.Line, _ = ws.Declaration(address)
		}
	}
	return m
}

// manualResource is the client's credentials resource when rekey cannot edit where it is
// declared (cannotEdit says why): with Options.ManualEdit, the one instance the Terraform
// state records for the client, with the credentials the state records; without it,
// cannotEdit, with how --manual-edit goes on.
func (e *engine) manualResource(ctx context.Context, cannotEdit error) (*tfrunner.CredentialsResource, error) {
	var syntax *tfrunner.SyntaxError
	if errors.As(cannotEdit, &syntax) {
		return nil, cannotEdit
	}
	state, err := e.runner.State(ctx)
	if err != nil {
		return nil, errors.Join(cannotEdit, err)
	}
	addresses := tfrunner.CredentialsAddresses(state, e.client.ID)
	switch {
	case len(addresses) > 1:
		return nil, fmt.Errorf("%w\nThe Terraform state holds %d auth0_client_credentials instances for client %s (%s); keep one", cannotEdit, len(addresses), e.client.ID, strings.Join(addresses, ", "))
	case len(addresses) == 0:
		return nil, cannotEdit
	case !e.opts.ManualEdit:
		return nil, fmt.Errorf("%w\nrekey can still rotate %s if you make the HCL edits yourself: run it with --manual-edit (the wizard offers the same). "+
			"It then shows each change to make and applies only a plan that makes exactly that change", cannotEdit, addresses[0])
	}
	e.j.ManualEdit = e.manualEditOf(cannotEdit, addresses[0])
	e.emit(Event{Kind: Output, Step: Preflight, Text: fmt.Sprintf("rekey cannot edit this layout itself (%s); you make the HCL edits, and each plan must make exactly the change asked for %s.", cannotEdit, addresses[0])})
	return &tfrunner.CredentialsResource{Address: addresses[0], Credentials: tfrunner.StateCredentialBlocks(state, addresses[0])}, nil
}

// manualChange turns c into the change the operator makes: rekey edits nothing, and when the
// plan shows no change yet it asks for the edit howTo describes, unless applied says the
// change is in the tenant already (a resumed step).
func (e *engine) manualChange(c change, howTo string, applied func(context.Context) (bool, error)) change {
	c.awaitEdit = func(ctx context.Context) (bool, error) {
		if done, err := applied(ctx); done || err != nil {
			return false, err
		}
		e.emit(Event{Kind: Output, Step: c.step, Text: howTo})
		q := Question{Kind: EditYourself, Step: c.step, Title: "Make this edit, then plan", Body: howTo, File: e.j.ManualEdit.File, Line: e.j.ManualEdit.Line}
		if err := e.ask(ctx, q); err != nil {
			return false, fmt.Errorf("%w; make the edit, then run rekey again: it plans, and applies only a plan that makes exactly this change", err)
		}
		return true, nil
	}
	return c
}

// attachHowTo says how to add the new key, and writes its public key beside the HCL.
func (e *engine) attachHowTo() (string, error) {
	name := e.publicKeyName()
	path := filepath.Join(e.opts.TerraformDir, name)
	if err := e.writePublicKey(path); err != nil {
		return "", err
	}
	values := []string{
		fmt.Sprintf("name                   = %q", e.j.New.Name),
		`credential_type        = "public_key"`,
		fmt.Sprintf("algorithm              = %q", e.j.New.Alg),
	}
	if p := e.shape().ParseExpiryFromCert; p != nil {
		values = append(values, fmt.Sprintf("parse_expiry_from_cert = %t", *p))
	}
	if e.j.New.ExplicitExpiry {
		values = append(values, fmt.Sprintf("expires_at             = %q", ProviderTime(*e.j.New.ExpiresAt)))
	}
	values = append(values, fmt.Sprintf("pem                    = file(%q)  # or its text; the file is written: %s", name, path))
	return fmt.Sprintf("Add a credential for the new key (kid %s) to %s%s, wherever its credentials are declared (the block, or the data that feeds it), with:\n  %s\n"+
		"Keep the current key's credential (kid %s) exactly as it is. rekey then plans, and applies only a plan that adds exactly this key to %s and changes nothing else.",
		e.j.New.KID, e.j.Resource, e.manualWhere(), strings.Join(values, "\n  "), e.j.Old.KID, e.j.Resource), nil
}

// removeHowTo says how to remove the credential of key, keeping the one of keep.
func (e *engine) removeHowTo(key, keep *JournalKey) string {
	return fmt.Sprintf("Remove the credential of the key %s (named %q) from %s%s, wherever its credentials are declared. "+
		"Keep the credential of %s (named %q) exactly as it is. rekey then plans, and applies only a plan that removes exactly that key from %s and changes nothing else.",
		key.KID, key.Name, e.j.Resource, e.manualWhere(), keep.KID, keep.Name, e.j.Resource)
}

// manualWhere is " (declared at FILE:LINE)" when rekey knows where the layout it cannot edit is.
func (e *engine) manualWhere() string {
	if e.j.ManualEdit.File == "" {
		return ""
	}
	return fmt.Sprintf(" (declared at %s:%d)", e.j.ManualEdit.File, e.j.ManualEdit.Line)
}

// attachedIs reports whether kid's attachment in the tenant is want: the change a manual step
// asks for is then already applied.
func (e *engine) attachedIs(kid string, want bool) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		attached, err := e.isAttached(ctx, kid)
		return attached == want, err
	}
}
