package steps

import (
	"context"
	"errors"
	"fmt"

	"rekey/sysconfig"
	"rekey/tfrunner"
)

// ErrNoRotation means there is no rotation in progress to abort.
var ErrNoRotation = errors.New("no rotation in progress")

// Abort undoes a rotation that has not retired the old key: the new key's block is removed
// and applied (a reverse attach), the system config gets its original order and loses the new
// entry, and the journal is closed as aborted. The old key was never touched. The new private
// key file is kept; nothing is deleted from disk.
func Abort(ctx context.Context, opts Options, deps Deps) (Result, error) {
	e, unlock, err := start(ctx, opts, deps)
	if err != nil {
		return failedResult(opts, err), err
	}
	defer unlock()
	defer e.closeOutput()
	err = e.abort(ctx)
	return e.result(err), err
}

func (e *engine) abort(ctx context.Context) error {
	if len(e.j.Steps) == 0 {
		return fmt.Errorf("%w for client %s (no journal in %s)", ErrNoRotation, e.client.Name, e.j.path)
	}
	if e.j.Done(Retire) || e.j.RetireApplying {
		return fmt.Errorf("%w: the old key %s was already retired; aborting now would leave no working key — finish the rotation with rekey rotate",
			ErrUnsafe, e.j.Old.KID)
	}
	if e.j.New != nil {
		if err := e.detachNew(ctx); err != nil {
			return err
		}
		if err := e.unstage(); err != nil {
			return err
		}
	}
	e.j.Status = StatusAborted
	if err := e.j.save(); err != nil {
		return err
	}
	return errors.Join(e.audit(StatusAborted, nil), e.j.archive(e.deps.Now()))
}

// detachNew removes the new key's block, if the HCL has it, through a guarded apply.
func (e *engine) detachNew(ctx context.Context) error {
	if e.j.Resource == "" {
		return nil
	}
	if err := e.removeLeftoverNew(ctx, Attach); err != nil {
		return err
	}
	c := change{
		step:       Attach,
		edit:       e.removeBlock(e.j.New.KID),
		intent:     tfrunner.Intent{Credentials: e.j.Resource, Client: e.j.ClientRef, RemoveKID: e.j.New.KID},
		question:   Question{Kind: Proceed, Step: Attach, Title: "Apply this plan to remove the new key again?"},
		undoesOnly: true,
	}
	if e.j.ManualEdit != nil {
		c = e.manualChange(c, e.removeHowTo(e.j.New, e.j.Old), e.attachedIs(e.j.New.KID, false))
	}
	if err := e.applyChange(ctx, c); err != nil {
		return err
	}
	return e.expectAttached(ctx, e.j.New.KID, false)
}

// unstage puts the old key first again and removes the new entry from the system config.
func (e *engine) unstage() error {
	if e.sys == nil || position(e.sys, e.j.New.KID) < 0 {
		return nil
	}
	if position(e.sys, e.j.Old.KID) > 0 {
		if err := e.sys.Promote(e.j.Old.KID); err != nil {
			return err
		}
	}
	return e.editSystemConfig(Stage, e.j.New.KID, -1, func(f *sysconfig.File) error { return f.Remove(e.j.New.KID) })
}
