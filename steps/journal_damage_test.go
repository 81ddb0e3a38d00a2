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

	"rekey/steps"
)

// Ways a journal is lost.
const (
	lossMissing   = "missing"   // deleted, e.g. moved aside as the old advice said
	lossTruncated = "truncated" // cut short, as a kill during a write on some file systems leaves it
)

// TestLostJournal: a rotation stopped after a step whose journal is then lost is rebuilt from
// the world (the tenant, the key folder, the system config, the HCL and the state). Resume
// completes it with the key it had generated — no second key is generated or staged — and,
// before retire, abort undoes it. A damaged journal is kept aside, never deleted; the
// rotation's record says it was rebuilt. The service never fails.
func TestLostJournal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		after      steps.Step
		loss, then string
	}{
		{steps.Attach, lossMissing, "resume"},
		{steps.Attach, lossMissing, "abort"},
		{steps.Attach, lossTruncated, "resume"},
		{steps.Attach, lossTruncated, "abort"},
		{steps.Stage, lossTruncated, "resume"}, // not attached, not declared: the certificate is made again from the key
		{steps.Retire, lossMissing, "resume"},  // the old key is gone: abort refuses, resume confirms
	}
	for _, c := range cases {
		t.Run("after-"+c.after.String()+"/"+c.loss+"/"+c.then, func(t *testing.T) {
			t.Parallel()
			testLostJournal(t, c.after, c.loss, c.then)
		})
	}
}

func testLostJournal(t *testing.T, after steps.Step, loss, then string) {
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	original := e.snapshot()
	newKID := e.rotateStoppedAfter(t, after).res.NewKID
	cut := loseJournal(t, e, loss)

	if then == "abort" {
		ab := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
		if ab.err != nil || ab.res.Status != steps.StatusAborted {
			t.Fatalf("Abort with the journal %s = %v (%s), want the rotation undone", loss, ab.err, ab.res.Status)
		}
		e.assertUndone(t, original)
		if files := e.newKeyFiles(); len(files) != 1 {
			t.Errorf("new private key files %v, want the one the rotation generated, kept", files)
		}
	} else {
		if after == steps.Retire {
			ab := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
			if !errors.Is(ab.err, steps.ErrUnsafe) || !strings.Contains(ab.err.Error(), "retired") {
				t.Errorf("Abort after retire with the journal %s = %v, want the safety refusal (the old key is retired)", loss, ab.err)
			}
		}
		r := e.rotate(context.Background(), nil)
		if r.err != nil {
			t.Fatalf("resuming with the journal %s: %v", loss, r.err)
		}
		if r.res.NewKID != newKID {
			t.Errorf("the resumed rotation put %s in place; the rotation had generated %s", r.res.NewKID, newKID)
		}
		assertRotatedOnce(t, e, r)
		if recs := e.auditRecords(); len(recs) == 0 || recs[len(recs)-1].Rebuilt == nil {
			t.Errorf("the rotation's audit record does not say its journal was rebuilt")
		}
	}
	assertKeptAside(t, e, cut)
	assertNoFailures(t, svc.Stop(), 20)
}

// loseJournal deletes or truncates the journal in progress; it returns the truncated bytes.
func loseJournal(t *testing.T, e *env, loss string) []byte {
	t.Helper()
	path := journalFile(e)
	data := readFile(t, path)
	if loss == lossMissing {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	cut := data[:len(data)/2]
	if err := os.WriteFile(path, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	return cut
}

// assertKeptAside checks that a damaged journal (cut; nil when none) is kept, byte for byte,
// next to where it was.
func assertKeptAside(t *testing.T, e *env, cut []byte) {
	t.Helper()
	kept, _ := filepath.Glob(filepath.Join(e.m.TerraformDir, ".rekey", e.mc.ClientID+".damaged-*.json"))
	switch {
	case cut == nil && len(kept) > 0:
		t.Errorf("journals kept as damaged %v, want none", kept)
	case cut != nil && len(kept) != 1:
		t.Errorf("journals kept as damaged %v, want the one damaged journal", kept)
	case cut != nil && !bytes.Equal(readFile(t, kept[0]), cut):
		t.Errorf("the journal kept aside is not the damaged one, byte for byte")
	}
}

// TestLostJournalUnclearEvidence: with the journal lost after attach and the new key's private
// key file moved out of the key folder, nothing shows which attached key is rekey's new one:
// Rotate and Abort refuse as a safety stop, say what they found, and change nothing. With the
// file back, Abort undoes the rotation.
func TestLostJournalUnclearEvidence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	original := e.snapshot()
	first := e.rotateStoppedAfter(t, steps.Attach)
	loseJournal(t, e, lossMissing)
	files := e.newKeyFiles()
	if len(files) != 1 {
		t.Fatalf("new key files %v, want one", files)
	}
	elsewhere := filepath.Join(t.TempDir(), filepath.Base(files[0]))
	if err := os.Rename(files[0], elsewhere); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()
	for name, fn := range map[string]engineFunc{"Rotate": steps.Rotate, "Abort": steps.Abort} {
		r := call(context.Background(), fn, e.opts, e.deps(nil, nil), nil)
		if !errors.Is(r.err, steps.ErrUnsafe) {
			t.Fatalf("%s with unclear evidence = %v, want a safety stop", name, r.err)
		}
		t.Logf("%s refused: %v", name, r.err)
		for _, what := range []string{e.oldKID, first.res.NewKID, e.opts.KeyDir, "--key-dir"} {
			if !strings.Contains(r.err.Error(), what) {
				t.Errorf("%s's refusal does not mention %q: %v", name, what, r.err)
			}
		}
		e.assertUnchanged(t, before)
		if e.journal() != nil {
			t.Errorf("%s wrote a journal it could not rebuild", name)
		}
	}
	if err := os.Rename(elsewhere, files[0]); err != nil {
		t.Fatal(err)
	}
	if ab := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil); ab.err != nil {
		t.Fatalf("Abort with the key file back: %v", ab.err)
	}
	e.assertUndone(t, original)
}

// rotateStoppedAfter runs a rotation the operator interrupts right after step s.
func (e *env) rotateStoppedAfter(t *testing.T, s steps.Step) run {
	t.Helper()
	ctx, hook, cancel := stopAfter(s)
	defer cancel()
	r := e.rotate(ctx, hook)
	if r.err == nil || stepStatus(r.res, s) != "done" {
		t.Fatalf("the run should stop after %s: %v %+v", s, r.err, r.res.Steps)
	}
	return r
}

// assertUndone checks that an abort gave back the world of before: the same keys attached,
// the same HCL and system config (the new key's private key file stays, outside the snapshot).
func (e *env) assertUndone(t *testing.T, before snapshot) {
	t.Helper()
	after := e.snapshot()
	if !slices.Equal(after.attached, before.attached) {
		t.Errorf("after Abort: attached %v, want %v", after.attached, before.attached)
	}
	for _, p := range []string{e.mainTF(), e.mc.SystemConfig} {
		if after.files[p] != before.files[p] {
			t.Errorf("after Abort %s is not as it was", p)
		}
	}
}
