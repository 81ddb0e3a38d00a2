package steps_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"rekey/steps"
)

// TestResumeAtEveryStepBoundary interrupts a rotation right after each step (the context is
// cancelled the moment the step's StepFinished event arrives, as Ctrl-C in the wizard would)
// and resumes it with a second Rotate: the rotation completes with exactly one new key, and
// the service requesting tokens throughout never fails. The interrupted run reports the
// cancellation as such and starts no step after it.
func TestResumeAtEveryStepBoundary(t *testing.T) {
	t.Parallel()
	for _, k := range steps.AllSteps {
		t.Run("after-"+k.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			svc := e.startConsumer(e.mc.SystemConfig)
			svc.waitRequests(t, 3)

			ctx, hook, cancel := stopAfter(k)
			first := e.rotate(ctx, hook)
			cancel()
			if k == steps.Confirm {
				// Nothing is left to interrupt after the last step: the rotation is complete.
				if first.err != nil || first.res.Status != steps.StatusRotated {
					t.Fatalf("cancelled after confirm: %v (%s), want rotated", first.err, first.res.Status)
				}
				assertRotatedOnce(t, e, first)
				assertNoFailures(t, svc.Stop(), 20)
				return
			}
			if first.err == nil {
				t.Fatalf("the interrupted run succeeded (%s)", first.res.Status)
			}
			t.Logf("interrupted run: %v", first.err)
			j := e.journal()
			if j == nil || j.Status != steps.StatusInProgress {
				t.Fatalf("after the interrupt the journal is %+v, want in progress", j)
			}
			t.Run("interrupt", func(t *testing.T) {
				if !errors.Is(first.err, context.Canceled) {
					t.Errorf("the interrupted run's error does not match context.Canceled (an interrupt must not read as a safety stop or a failure): %v", first.err)
				}
				if errors.Is(first.err, steps.ErrUnsafe) {
					t.Errorf("an interrupt is reported as ErrUnsafe (headless exit 4, 'a safety rule stopped the rotation'): %v", first.err)
				}
				for _, s := range steps.AllSteps {
					done := j.Done(s)
					if s <= k && !done {
						t.Errorf("step %s finished before the interrupt but the journal does not say done", s)
					}
					if s > k && done {
						t.Errorf("step %s was done after the operator interrupted the rotation at the end of %s", s, k)
					}
				}
			})

			second := e.rotate(context.Background(), nil)
			t.Run("resume", func(t *testing.T) {
				if second.err != nil {
					t.Fatalf("the resumed rotation failed: %v", second.err)
				}
				if first.res.NewKID != "" && first.res.NewKID != second.res.NewKID {
					t.Errorf("the resumed run rotated to %s, the interrupted one had generated %s", second.res.NewKID, first.res.NewKID)
				}
				assertRotatedOnce(t, e, second)
				assertNoFailures(t, svc.Stop(), 40)
			})
			t.Run("audit", func(t *testing.T) { assertAuditDigests(t, e) })
		})
	}

	// A Prompter error (the wizard closed while the retire confirmation was shown) stops the
	// rotation with retire's HCL edit undone; the next run completes it.
	t.Run("prompter-error-at-retire", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		svc := e.startConsumer(e.mc.SystemConfig)
		var hclAtQuestion []byte
		errGone := errors.New("the wizard was closed")
		prompter := promptFunc(func(ctx context.Context, q steps.Question) (steps.Answer, error) {
			if q.Step == steps.Retire {
				hclAtQuestion = readFile(t, e.mainTF())
				return steps.Answer{}, errGone
			}
			return steps.AutoApprove{}.Ask(ctx, q)
		})
		var hclAfterPromote []byte
		first := call(context.Background(), steps.Rotate, e.opts, e.deps(prompter, nil), func(ev steps.Event) {
			if ev.Kind == steps.StepFinished && ev.Step == steps.Promote {
				hclAfterPromote = readFile(t, e.mainTF())
			}
		})
		if !errors.Is(first.err, errGone) || hclAtQuestion == nil {
			t.Fatalf("Rotate = %v, want the Prompter's error at retire", first.err)
		}
		if slices.Equal(hclAtQuestion, hclAfterPromote) {
			t.Errorf("at the retire question the HCL should show the removal")
		}
		if got := readFile(t, e.mainTF()); !slices.Equal(got, hclAfterPromote) {
			t.Errorf("retire's HCL edit was not undone after the Prompter failed")
		}
		if got := e.attachedKIDs(); !slices.Equal(got, sortedPair(e.oldKID, first.res.NewKID)) {
			t.Errorf("attached %v, want both keys", got)
		}
		second := e.rotate(context.Background(), nil)
		if second.err != nil {
			t.Fatalf("the resumed rotation failed: %v", second.err)
		}
		assertRotatedOnce(t, e, second)
		assertNoFailures(t, svc.Stop(), 40)
		t.Run("audit", func(t *testing.T) { assertAuditDigests(t, e) })
	})
}

// assertRotatedOnce checks the end state of a completed rotation: one new key, attached alone,
// working; the old key refused; the system config listing the new key alone; and the audit
// record of the rotation naming both applied plans.
func assertRotatedOnce(t *testing.T, e *env, r run) {
	t.Helper()
	if r.res.Status != steps.StatusRotated {
		t.Errorf("status %q, want rotated", r.res.Status)
	}
	files := e.newKeyFiles()
	if len(files) != 1 {
		t.Fatalf("new private key files %v, want exactly one", files)
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{r.res.NewKID}) {
		t.Errorf("attached kids %v, want the new key %s alone", got, r.res.NewKID)
	}
	if res := e.checkKey(t, files[0]); !res.OK {
		t.Errorf("the new key does not work: %+v", res)
	}
	if res := e.checkKey(t, e.oldKeyFile); res.OK {
		t.Errorf("the old key still works")
	}
	if got := systemKIDs(t, e.mc.SystemConfig); !slices.Equal(got, []string{r.res.NewKID}) {
		t.Errorf("system config lists %v, want only %s", got, r.res.NewKID)
	}
	if j := e.journal(); j != nil {
		t.Errorf("a journal is still in progress")
	}
	recs := e.auditRecords()
	if len(recs) == 0 || recs[len(recs)-1].Outcome != steps.StatusRotated {
		t.Errorf("the last audit record is not the rotation's: %+v", recs)
	}
}

// assertAuditDigests checks that the audit record of a completed rotation (outcome rotated)
// names the digests of both plans the rotation applied, attach and retire, even when the
// rotation was resumed after they were applied.
func assertAuditDigests(t *testing.T, e *env) {
	t.Helper()
	recs := e.auditRecords()
	if len(recs) == 0 || recs[len(recs)-1].Outcome != steps.StatusRotated {
		t.Fatalf("the last audit record is not the rotation's: %+v", recs)
	}
	last := recs[len(recs)-1]
	for _, s := range []string{"attach", "retire"} {
		if _, ok := last.PlanDigests[s]; !ok {
			t.Errorf("the audit record of the rotation (outcome rotated) has no plan digest for %s (digests %v): a resumed rotation's record loses the plans applied before the interruption", s, last.PlanDigests)
		}
	}
}

// TestConcurrentRotateIsBusy: while one Rotate of the client waits at its attach question,
// a second Rotate of the same client refuses with ErrBusy and touches nothing; the first then
// completes.
func TestConcurrentRotateIsBusy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	atQuestion := make(chan struct{})
	release := make(chan struct{})
	prompter := promptFunc(func(ctx context.Context, q steps.Question) (steps.Answer, error) {
		if q.Step == steps.Attach {
			close(atQuestion)
			<-release
		}
		return steps.AutoApprove{}.Ask(ctx, q)
	})
	firstDone := make(chan run, 1)
	go func() { firstDone <- call(context.Background(), steps.Rotate, e.opts, e.deps(prompter, nil), nil) }()
	select {
	case <-atQuestion:
	case r := <-firstDone:
		t.Fatalf("the first rotation ended before its attach question: %v", r.err)
	}
	journalBefore := readFile(t, journalFile(e))
	sysBefore := readFile(t, e.mc.SystemConfig)
	hclBefore := readFile(t, e.mainTF())

	second := e.rotate(context.Background(), nil)
	// Abort is refused the same way while the rotation runs.
	abort := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
	close(release)
	if !errors.Is(abort.err, steps.ErrBusy) {
		t.Errorf("a concurrent Abort = %v, want ErrBusy", abort.err)
	}
	if !errors.Is(second.err, steps.ErrBusy) {
		t.Errorf("the concurrent Rotate = %v, want ErrBusy", second.err)
	}
	if second.res.Status != steps.StatusFailed {
		t.Errorf("the concurrent Rotate's status %q, want failed", second.res.Status)
	}
	if !slices.Equal(readFile(t, journalFile(e)), journalBefore) || !slices.Equal(readFile(t, e.mc.SystemConfig), sysBefore) ||
		!slices.Equal(readFile(t, e.mainTF()), hclBefore) {
		t.Errorf("the refused Rotate changed the journal, the system config or the HCL")
	}
	first := <-firstDone
	if first.err != nil {
		t.Fatalf("the first rotation failed: %v", first.err)
	}
	assertRotatedOnce(t, e, first)
}

// journalFile is the path of billing-worker's journal in progress.
func journalFile(e *env) string {
	return filepath.Join(e.m.TerraformDir, ".rekey", e.mc.ClientID+".json")
}
