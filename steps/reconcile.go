package steps

import (
	"context"
	"fmt"
	"slices"

	"rekey/tenant"
	"rekey/tfrunner"
)

// Repairer removes a credential from a client's pool through the Management API: the one
// repair Terraform cannot make, for a leftover of rekey's own that no state records.
// *TenantAPI is one; a Tenant that is not cannot repair, and rekey then only reports.
type Repairer interface {
	RemoveCredential(ctx context.Context, clientID, credID string) error
}

// RemoveCredential implements Repairer.
func (t TenantAPI) RemoveCredential(ctx context.Context, clientID, credID string) error {
	return t.Conn.RemoveCredential(ctx, clientID, credID)
}

// RuleLeftover is the finding a leftover credential raises; headless, --repair accepts it.
const RuleLeftover = "leftover"

// removeLeftoverNew removes the new key's credential when an interrupted attach apply left it
// in the client's pool (attached or not) without the Terraform state recording it: the next
// apply would otherwise fail on Auth0's cap or duplicate-key check.
func (e *engine) removeLeftoverNew(ctx context.Context, step Step) error {
	c, cr, ok, err := e.poolCredential(ctx, e.j.New.KID)
	if err != nil || !ok {
		return err
	}
	state, err := e.runner.State(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(tfrunner.StateCredentialIDs(state, e.j.Resource), cr.ID) {
		return nil // applied: the state owns it
	}
	e.reportForeign(c, step, tfrunner.StateCredentialIDs(state, e.j.Resource))
	return e.removeLeftover(ctx, step, cr, "an interrupted apply created the new key's credential, but the Terraform state does not record it")
}

// removeLeftoverOld removes the old key's credential when the retire apply detached it but
// did not delete it (an interruption between the two calls): it would take a pool slot the
// next rotation needs.
func (e *engine) removeLeftoverOld(ctx context.Context, step Step) error {
	_, cr, ok, err := e.poolCredential(ctx, e.j.Old.KID)
	if err != nil || !ok {
		return err
	}
	if cr.Attached {
		return fmt.Errorf("%w: the old key %s (%s) is still attached after its block was removed and applied; run rekey rotate again to resume", ErrUnsafe, e.j.Old.KID, cr.ID)
	}
	return e.removeLeftover(ctx, step, cr, "the retire apply detached the old key's credential but was interrupted before deleting it")
}

// poolCredential finds the credential with kid in the client's pool.
func (e *engine) poolCredential(ctx context.Context, kid string) (tenant.Client, tenant.Credential, bool, error) {
	c, err := e.deps.Tenant.Client(ctx, e.client.ID)
	if err != nil {
		return c, tenant.Credential{}, false, err
	}
	i := slices.IndexFunc(c.Credentials, func(cr tenant.Credential) bool { return cr.KID == kid })
	if i < 0 {
		return c, tenant.Credential{}, false, nil
	}
	return c, c.Credentials[i], true, nil
}

// reportForeign names the credentials of the pool that are neither this rotation's keys nor
// recorded in the state: rekey cannot tell where they came from, so it leaves them alone.
func (e *engine) reportForeign(c tenant.Client, step Step, stateIDs []string) {
	for _, cr := range c.Credentials {
		if cr.KID == e.j.Old.KID || cr.KID == e.j.New.KID || slices.Contains(stateIDs, cr.ID) {
			continue
		}
		e.emit(Event{Kind: Output, Step: step, Text: fmt.Sprintf(
			"Credential %s (kid %s, %q) is in the client's pool but in no Terraform state, and is not this rotation's: rekey leaves it alone; remove or import it yourself.", cr.ID, cr.KID, cr.Name)})
	}
}

// removeLeftover deletes rekey's own leftover credential through the Management API, with the
// operator's consent (headless: --repair), and records it for the audit log.
func (e *engine) removeLeftover(ctx context.Context, step Step, cr tenant.Credential, why string) error {
	repairer, ok := e.deps.Tenant.(Repairer)
	what := fmt.Sprintf("credential %s (kid %s) of client %s: %s", cr.ID, cr.KID, e.client.Name, why)
	if !ok {
		return fmt.Errorf("%w: %s; remove it from the client (Auth0 dashboard or Management API), then run rekey again", ErrUnsafe, what)
	}
	if !e.opts.Repair {
		finding := tfrunner.Finding{Rule: RuleLeftover, Address: cr.ID, Acceptable: true, Message: what}
		q := Question{Kind: Proceed, Step: step, Title: "Remove rekey's leftover credential through the Management API?", Findings: []tfrunner.Finding{finding},
			Body: fmt.Sprintf("- %s.\nTerraform cannot remove it (no state records it). rekey detaches and deletes it with the Management API (scopes %s); the key itself stays in its file.\n(headless: pass --repair)", what, tenant.RepairScopes)}
		if err := e.ask(ctx, q); err != nil {
			return err
		}
	}
	if err := repairer.RemoveCredential(ctx, e.client.ID, cr.ID); err != nil {
		return err
	}
	e.j.Repairs = append(e.j.Repairs, fmt.Sprintf("%s: removed %s through the Management API", step, what))
	e.emit(Event{Kind: Output, Step: step, Text: "Removed rekey's leftover " + what})
	return e.j.save()
}
