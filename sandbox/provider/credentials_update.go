package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Limits the real provider plans a rotation with (v1.55 maxSlotCredentials, maxPoolCredentials).
const (
	slotLimit = 2
	poolLimit = 4
)

// step is one change of an update: create and attach a credential, or detach and delete one.
type step struct {
	add  bool
	cred credentialModel
}

// planRotation orders an update's additions and removals as provider v1.52+ does (facts
// §4.4): additions are paired with removals; a pair creates first, so there is no gap, when
// the slot has room (attached < 2), the pool has room (< 4) and the two are not the same key;
// otherwise it deletes first. Unpaired removals follow, then unpaired additions. A pair
// leaves the counts as they were.
func planRotation(additions, removals []credentialModel, attached, pool int) []step {
	var steps []step
	n := min(len(additions), len(removals))
	for i := range n {
		add, remove := step{add: true, cred: additions[i]}, step{cred: removals[i]}
		if attached < slotLimit && pool < poolLimit && !sameCredentialKey(additions[i], removals[i]) {
			steps = append(steps, add, remove)
		} else {
			steps = append(steps, remove, add)
		}
	}
	for _, r := range removals[n:] {
		steps = append(steps, step{cred: r})
	}
	for _, a := range additions[n:] {
		steps = append(steps, step{add: true, cred: a})
	}
	return steps
}

// sameCredentialKey reports whether an added credential carries the key of a removed one.
func sameCredentialKey(added, removed credentialModel) bool {
	return added.PEM.ValueString() == removed.PEM.ValueString() || sameKey(added.PEM.ValueString(), removed.KeyID.ValueString())
}

// rotation carries out steps on one client, tracking the attached list it last sent and the
// credentials the state should own, so that after a failure the state is still accurate.
type rotation struct {
	credentialAPI
	attached []string
	owned    []credentialModel
}

// run applies steps in order and stops at the first failure.
func (x *rotation) run(ctx context.Context, steps []step) error {
	for _, s := range steps {
		var err error
		if s.add {
			err = x.createAttach(ctx, s.cred)
		} else {
			err = x.detachDelete(ctx, s.cred)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// createAttach creates c and attaches it next to the attached ones; if the attach fails the
// new credential is deleted again.
func (x *rotation) createAttach(ctx context.Context, c credentialModel) error {
	created, err := x.create(ctx, c)
	if err != nil {
		return err
	}
	ids := append(slices.Clone(x.attached), created.ID.ValueString())
	if err := x.attach(ctx, ids); err != nil {
		return errors.Join(err, x.rollback(ctx, created))
	}
	x.attached = ids
	x.owned = append(x.owned, created)
	return nil
}

// detachDelete detaches c (when attached) and deletes it.
func (x *rotation) detachDelete(ctx context.Context, c credentialModel) error {
	id := c.ID.ValueString()
	if slices.Contains(x.attached, id) {
		ids := slices.DeleteFunc(slices.Clone(x.attached), func(a string) bool { return a == id })
		if err := x.attach(ctx, ids); err != nil {
			return err
		}
		x.attached = ids
	}
	x.owned = slices.DeleteFunc(x.owned, func(o credentialModel) bool { return o.ID.ValueString() == id })
	return x.remove(ctx, id)
}

// rollback deletes a credential this apply created and could not attach.
func (x *rotation) rollback(ctx context.Context, created credentialModel) error {
	if err := x.remove(ctx, created.ID.ValueString()); err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	return nil
}

// credentialDiff is an update of the credentials set, as provider v1.55 applies it.
type credentialDiff struct {
	additions []credentialModel // planned credentials to create
	removals  []credentialModel // prior credentials no longer planned
	kept      []credentialModel // prior credentials that stay, with their planned pem and parse_expiry_from_cert
	expiries  []credentialModel // kept credentials to give another expires_at
}

// diffCredentials splits an update. A planned element is the prior credential it has the
// id of, or else the same credential planned as a new set element (sameCredential), which
// is kept: only its expires_at changes, when one is configured and is another instant.
func diffCredentials(planned, prior []credentialModel) credentialDiff {
	var d credentialDiff
	used := make([]bool, len(prior))
	for _, p := range planned {
		j := firstUnused(p, prior, used, func(p, s credentialModel) bool { return p.ID.Equal(s.ID) })
		if j < 0 {
			j = firstUnused(p, prior, used, sameCredential)
		}
		if j < 0 {
			d.additions = append(d.additions, p)
			continue
		}
		used[j] = true
		kept := prior[j]
		kept.PEM, kept.ParseExpiryFromCert = p.PEM, p.ParseExpiryFromCert
		d.kept = append(d.kept, kept)
		if at := p.ExpiresAt; !at.IsUnknown() && at.ValueString() != "" && !sameInstant(at.ValueString(), kept.ExpiresAt.ValueString()) {
			kept.ExpiresAt = at
			d.expiries = append(d.expiries, kept)
		}
	}
	for j, s := range prior {
		if !used[j] {
			d.removals = append(d.removals, s)
		}
	}
	return d
}
