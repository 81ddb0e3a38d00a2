package steps_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rekey/sandbox"
	"rekey/steps"
)

// TestAbortBeforeRetire: a rotation interrupted after any step before retire is undone by
// Abort: the new key is not attached in the tenant, the HCL gets back its original bytes, the
// system config its original entries, the journal is archived as aborted, and the new
// private key file stays on disk. The service never fails, and a new rotation afterwards
// completes.
func TestAbortBeforeRetire(t *testing.T) {
	t.Parallel()
	for _, k := range []steps.Step{steps.Preflight, steps.Generate, steps.Stage, steps.Attach, steps.Verify, steps.Promote} {
		t.Run("after-"+k.String(), func(t *testing.T) {
			t.Parallel()
			testAbortAfter(t, k)
		})
	}
}

func testAbortAfter(t *testing.T, k steps.Step) {
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	hclOriginal := readFile(t, e.mainTF())
	sysOriginal := systemKIDs(t, e.mc.SystemConfig)
	sysBytesOriginal := readFile(t, e.mc.SystemConfig)

	ctx, hook, cancel := stopAfter(k)
	first := e.rotate(ctx, hook)
	cancel()
	if first.err == nil || stepStatus(first.res, k) != "done" {
		t.Fatalf("the first run should stop after %s: %v %+v", k, first.err, first.res.Steps)
	}
	newKID := first.res.NewKID
	keyFiles := e.newKeyFiles()

	ab := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
	if ab.err != nil {
		t.Fatalf("Abort: %v", ab.err)
	}
	if ab.res.Status != steps.StatusAborted {
		t.Errorf("Abort status %q, want aborted", ab.res.Status)
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{e.oldKID}) {
		t.Errorf("after Abort: attached %v, want the old key alone", got)
	}
	if got := readFile(t, e.mainTF()); !bytes.Equal(got, hclOriginal) {
		t.Errorf("after Abort main.tf is not byte-identical to the original:\n%s", got)
	}
	if got := systemKIDs(t, e.mc.SystemConfig); !slices.Equal(got, sysOriginal) {
		t.Errorf("after Abort the system config lists %v, want the original %v", got, sysOriginal)
	}
	if got := readFile(t, e.mc.SystemConfig); !bytes.Equal(got, sysBytesOriginal) {
		t.Logf("note: the system config's bytes differ from the original (entries are equal):\n%s", got)
	}
	if j := e.journal(); j != nil {
		t.Errorf("a journal is still in progress after Abort: %+v", j)
	}
	arch := e.archivedJournals()
	if len(arch) != 1 || arch[0].Status != steps.StatusAborted {
		t.Errorf("archived journals %+v, want one aborted rotation", arch)
	} else if newKID != "" && (arch[0].New == nil || arch[0].New.KID != newKID) {
		t.Errorf("the archived journal does not name the new key %s", newKID)
	}
	for _, f := range keyFiles {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("Abort deleted the new private key file: %v", err)
		} else if res := e.checkKey(t, f); res.OK {
			t.Errorf("the aborted new key still authenticates")
		}
	}
	if res := e.checkKey(t, e.oldKeyFile); !res.OK {
		t.Errorf("the old key does not work after Abort: %+v", res)
	}
	recs := e.auditRecords()
	if len(recs) == 0 || recs[len(recs)-1].Outcome != steps.StatusAborted {
		t.Errorf("the audit log does not end with the abort: %+v", recs)
	}
	// Nothing is left to abort.
	if again := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil); !errors.Is(again.err, steps.ErrNoRotation) {
		t.Errorf("a second Abort = %v, want ErrNoRotation", again.err)
	}

	// A fresh rotation after the abort works (the aborted credential holds no slot).
	next := e.rotate(context.Background(), nil)
	if next.err != nil {
		t.Fatalf("a new rotation after the abort failed: %v", next.err)
	}
	if newKID != "" && next.res.NewKID == newKID {
		t.Errorf("the new rotation reused the aborted key")
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{next.res.NewKID}) {
		t.Errorf("attached %v, want the latest key alone", got)
	}
	assertNoFailures(t, svc.Stop(), 40)
}

// TestAbortAfterRetireRefused: once retire ran, the old key is gone; Abort refuses with
// ErrUnsafe and changes nothing, and Rotate finishes the rotation.
func TestAbortAfterRetireRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, hook, cancel := stopAfter(steps.Retire)
	first := e.rotate(ctx, hook)
	cancel()
	if first.err == nil || stepStatus(first.res, steps.Retire) != "done" {
		t.Fatalf("the first run should stop after retire: %v %+v", first.err, first.res.Steps)
	}
	before := e.snapshot()
	journalBefore := readFile(t, journalFile(e))

	ab := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
	if !errors.Is(ab.err, steps.ErrUnsafe) {
		t.Fatalf("Abort after retire = %v, want ErrUnsafe", ab.err)
	}
	if !strings.Contains(ab.err.Error(), "retired") {
		t.Errorf("the refusal does not say the old key was retired: %v", ab.err)
	}
	e.assertUnchanged(t, before)
	if !bytes.Equal(readFile(t, journalFile(e)), journalBefore) {
		t.Errorf("the refused Abort changed the journal")
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{first.res.NewKID}) {
		t.Errorf("attached %v, want the new key alone", got)
	}

	r := e.rotate(context.Background(), nil)
	if r.err != nil {
		t.Fatalf("finishing the rotation: %v", r.err)
	}
	assertRotatedOnce(t, e, r)
}

// TestAbortWithNothingInProgress: Abort without a rotation in progress says so with
// ErrNoRotation and changes nothing.
func TestAbortWithNothingInProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.snapshot()
	ab := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
	if !errors.Is(ab.err, steps.ErrNoRotation) {
		t.Fatalf("Abort = %v, want ErrNoRotation", ab.err)
	}
	if ab.res.Status != steps.StatusFailed {
		t.Errorf("status %q, want failed", ab.res.Status)
	}
	e.assertUnchanged(t, before)
	if e.journal() != nil || len(e.archivedJournals()) != 0 || len(e.auditRecords()) != 0 {
		t.Errorf("Abort with nothing in progress wrote a journal or an audit record")
	}
}

// TestAbortAfterUsageGateRefusal: the retire gate refused (a service still used the old key),
// so retire changed nothing and the old key was never touched; the operator can still undo
// the rotation with Abort.
func TestAbortAfterUsageGateRefusal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stalePath := filepath.Join(filepath.Dir(e.mc.SystemConfig), "stale-"+filepath.Base(e.mc.SystemConfig))
	if err := os.WriteFile(stalePath, readFile(t, e.mc.SystemConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	hclOriginal := readFile(t, e.mainTF())
	sysOriginal := systemKIDs(t, e.mc.SystemConfig)
	stale := e.startConsumer(stalePath)
	stale.waitRequests(t, 5)
	first := e.rotate(context.Background(), nil)
	if !errors.Is(first.err, steps.ErrUnsafe) || stepStatus(first.res, steps.Retire) != "failed" {
		t.Fatalf("Rotate = %v (retire %s), want the retire gate's ErrUnsafe", first.err, stepStatus(first.res, steps.Retire))
	}
	if got := e.attachedKIDs(); !slices.Equal(got, sortedPair(e.oldKID, first.res.NewKID)) {
		t.Fatalf("attached %v, want both keys", got)
	}

	ab := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
	if ab.err != nil {
		t.Fatalf("Abort after the retire gate refused (nothing retired, the old key attached) = %v, want the rotation undone", ab.err)
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{e.oldKID}) {
		t.Errorf("after Abort: attached %v, want the old key alone", got)
	}
	if got := readFile(t, e.mainTF()); !bytes.Equal(got, hclOriginal) {
		t.Errorf("after Abort main.tf is not the original")
	}
	if got := systemKIDs(t, e.mc.SystemConfig); !slices.Equal(got, sysOriginal) {
		t.Errorf("after Abort the system config lists %v, want %v", got, sysOriginal)
	}
	assertNoFailures(t, stale.Stop(), 20)
}

// TestFailedAttachApply: the attach apply fails before it changes anything (the Management
// API answers 503 to every request while Terraform applies). The HCL keeps the new block, as
// the engine intends, so that the step plans again when resumed. From there the operator can
// either resume (the rotation completes) or abort (the block leaves the HCL again, nothing is
// attached, the journal is closed as aborted).
func TestFailedAttachApply(t *testing.T) {
	t.Parallel()
	for _, then := range []string{"resume", "abort"} {
		t.Run(then, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			svc := e.startConsumer(e.mc.SystemConfig)
			hclOriginal := readFile(t, e.mainTF())
			sysOriginal := systemKIDs(t, e.mc.SystemConfig)
			failApply := promptFunc(func(ctx context.Context, q steps.Question) (steps.Answer, error) {
				if q.Step == steps.Attach {
					e.srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/", ErrorRate: 1}})
				}
				return steps.AutoApprove{}.Ask(ctx, q)
			})
			first := call(context.Background(), steps.Rotate, e.opts, e.deps(failApply, nil), nil)
			e.srv.SetFaults(nil)
			if first.err == nil || stepStatus(first.res, steps.Attach) != "failed" {
				t.Fatalf("the attach apply should fail: %v %+v", first.err, first.res.Steps)
			}
			t.Logf("failed apply: %v", first.err)
			if got := e.attachedKIDs(); !slices.Equal(got, []string{e.oldKID}) {
				t.Fatalf("the failed apply changed the tenant: attached %v", got)
			}
			if bytes.Equal(readFile(t, e.mainTF()), hclOriginal) {
				t.Errorf("after a failed apply the HCL edit should stay for the resumed step")
			}

			if then == "resume" {
				r := e.rotate(context.Background(), nil)
				if r.err != nil {
					t.Fatalf("resuming after the failed apply: %v", r.err)
				}
				assertRotatedOnce(t, e, r)
				assertNoFailures(t, svc.Stop(), 40)
				return
			}
			ab := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
			if ab.err != nil {
				t.Errorf("Abort after a failed attach apply: %v", ab.err)
			}
			if got := readFile(t, e.mainTF()); !bytes.Equal(got, hclOriginal) {
				t.Errorf("after Abort main.tf is not the original; it still declares the new key")
			}
			if got := e.attachedKIDs(); !slices.Equal(got, []string{e.oldKID}) {
				t.Errorf("after Abort: attached %v, want the old key alone", got)
			}
			if got := systemKIDs(t, e.mc.SystemConfig); !slices.Equal(got, sysOriginal) {
				t.Errorf("after Abort the system config lists %v, want %v", got, sysOriginal)
			}
			if j := e.journal(); j != nil {
				t.Errorf("the rotation is still in progress after Abort")
			}
			assertNoFailures(t, svc.Stop(), 20)
		})
	}
}
