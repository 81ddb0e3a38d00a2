package steps_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rekey/steps"
)

// TestRerunAfterFinishedRotation: running a finished rotation again does nothing and says
// when and how it finished (from its archived journal, or — with no journal of it — from the
// key rekey wrote and the tenant's creation time); Options.Again rotates again.
func TestRerunAfterFinishedRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.rotate(context.Background(), nil)
	if first.err != nil {
		t.Fatalf("the rotation failed: %v", first.err)
	}
	before := e.snapshot()
	audits := len(e.auditRecords())

	second := e.rotate(context.Background(), nil)
	assertRerun(t, e, second, first.res.NewKID, before, audits)
	arch := e.archivedJournals()
	if len(arch) != 1 || arch[0].FinishedAt == nil {
		t.Fatalf("archived journals %+v, want the one finished rotation with its finish time", arch)
	}
	if rr := second.res.Rerun; !rr.FinishedAt.Equal(*arch[0].FinishedAt) || rr.Journal == "" || rr.Operator != e.opts.Operator ||
		!rr.Until.Equal(rr.FinishedAt.Add(steps.RerunWindow)) {
		t.Errorf("the rerun reports %+v, want the archived rotation's finish time %s, operator and journal", rr, arch[0].FinishedAt)
	}
	if !slices.Equal(second.res.Steps, first.res.Steps) || second.res.OldKID != e.oldKID {
		t.Errorf("the rerun's result does not tell the finished rotation: %+v", second.res)
	}

	if err := os.RemoveAll(filepath.Join(e.m.TerraformDir, ".rekey", "done")); err != nil {
		t.Fatal(err)
	}
	third := e.rotate(context.Background(), nil)
	assertRerun(t, e, third, first.res.NewKID, before, audits)
	if third.res.Rerun.Journal != "" {
		t.Errorf("with no archived journal the rerun names one: %+v", third.res.Rerun)
	}

	again := e.opts
	again.Again = true
	fourth := call(context.Background(), steps.Rotate, again, e.deps(nil, nil), nil)
	if fourth.err != nil || fourth.res.Rerun != nil || fourth.res.Status != steps.StatusRotated {
		t.Fatalf("Rotate with Again = %v (%+v), want a new rotation", fourth.err, fourth.res.Rerun)
	}
	if got := e.attachedKIDs(); fourth.res.NewKID == first.res.NewKID || !slices.Equal(got, []string{fourth.res.NewKID}) {
		t.Errorf("after Rotate with Again: attached %v, new key %s; want a third key alone", got, fourth.res.NewKID)
	}
}

// assertRerun checks that r did nothing, said so, and reported the finished rotation to kid.
func assertRerun(t *testing.T, e *env, r run, kid string, before snapshot, audits int) {
	t.Helper()
	if r.err != nil || r.res.Status != steps.StatusRotated || r.res.Rerun == nil || r.res.NewKID != kid {
		t.Fatalf("the rerun = %v, status %s, rerun %+v, new key %s; want a no-op reporting the rotation to %s", r.err, r.res.Status, r.res.Rerun, r.res.NewKID, kid)
	}
	e.assertUnchanged(t, before)
	if n := len(e.auditRecords()); n != audits {
		t.Errorf("the rerun wrote %d audit records", n-audits)
	}
	if e.journal() != nil {
		t.Errorf("the rerun left a journal in progress")
	}
	said := slices.ContainsFunc(r.events, func(ev steps.Event) bool {
		return ev.Kind == steps.Output && strings.Contains(ev.Text, "already rotated") && strings.Contains(ev.Text, "--again")
	})
	started := slices.ContainsFunc(r.events, func(ev steps.Event) bool { return ev.Kind == steps.StepStarted })
	if !said || started {
		t.Errorf("the rerun said it was already rotated: %v; it started a step: %v", said, started)
	}
}

// TestAuditLogUnwritable: when the audit log cannot be written at the end of a complete
// rotation, the rotation is still rotated — the error wraps ErrAuditNotWritten, says so and
// does not ask to resume — and the archived journal keeps the reason. Reruns never rotate
// again: while the log is still unwritable they report the rerun and the audit error; once it
// is writable, the next run writes the record, marked late.
func TestAuditLogUnwritable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	audit := steps.AuditPath(e.m.TerraformDir)
	if err := os.MkdirAll(audit, 0o700); err != nil { // a folder where the log should be
		t.Fatal(err)
	}
	first := e.rotate(context.Background(), nil)
	if !errors.Is(first.err, steps.ErrAuditNotWritten) {
		t.Fatalf("Rotate = %v, want ErrAuditNotWritten", first.err)
	}
	if first.res.Status != steps.StatusRotated || first.res.AuditError == "" {
		t.Errorf("status %q, audit_error %q; want rotated, with the audit error", first.res.Status, first.res.AuditError)
	}
	if msg := first.err.Error(); strings.Contains(msg, "to resume") || !strings.Contains(msg, audit) {
		t.Errorf("the error asks to resume, or does not name the audit log: %v", first.err)
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{first.res.NewKID}) {
		t.Errorf("attached %v, want the new key alone", got)
	}
	if arch := e.archivedJournals(); len(arch) != 1 || arch[0].AuditError == "" {
		t.Fatalf("archived journals %+v, want the rotation with its audit error", arch)
	}
	before := e.snapshot()

	second := e.rotate(context.Background(), nil)
	if !errors.Is(second.err, steps.ErrAuditNotWritten) || second.res.Rerun == nil || second.res.Status != steps.StatusRotated {
		t.Errorf("the rerun with the log still unwritable = %v (status %s, rerun %+v), want the rerun with the audit error", second.err, second.res.Status, second.res.Rerun)
	}
	e.assertUnchanged(t, before)

	if err := os.Remove(audit); err != nil {
		t.Fatal(err)
	}
	third := e.rotate(context.Background(), nil)
	if third.err != nil || third.res.Rerun == nil || third.res.AuditError != "" {
		t.Fatalf("the rerun with the log writable = %v (rerun %+v, audit_error %q), want a clean rerun", third.err, third.res.Rerun, third.res.AuditError)
	}
	e.assertUnchanged(t, before)
	recs := e.auditRecords()
	if len(recs) != 1 || recs[0].Outcome != steps.StatusRotated || recs[0].NewKID != first.res.NewKID || recs[0].Late == "" {
		t.Fatalf("audit records %+v, want the rotation's, written late", recs)
	}
	if arch := e.archivedJournals(); len(arch) != 1 || arch[0].AuditError != "" || !recs[0].Time.Equal(*arch[0].FinishedAt) {
		t.Errorf("archived journal %+v: want its audit error cleared, and the record dated when the rotation finished", arch)
	}
}
