package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"rekey/sysconfig"
	"rekey/tenant"
	"rekey/tfrunner"
)

// Errors a caller may want to tell apart.
var (
	// ErrDeclined means the operator answered no at a gate; nothing after it was done.
	ErrDeclined = errors.New("the operator declined")
	// ErrUnsafe means a safety rule stopped the rotation; it cannot be overridden.
	ErrUnsafe = errors.New("stopped by a safety rule")
	// ErrAuditNotWritten means an audit record could not be written. What the run did stands:
	// a rotation that reached its end is rotated (Result.AuditError says why the record is
	// missing), and the next run for the client writes the record without rotating again.
	ErrAuditNotWritten = errors.New("the audit record could not be written")
)

// Result is how a rotation (or an abort) ended.
type Result struct {
	Status     string       `json:"status"` // rotated, aborted, failed or declined; a finished rotation's status stands whatever went wrong after it
	ClientID   string       `json:"client_id"`
	ClientName string       `json:"client_name"`
	OldKID     string       `json:"old_kid"`
	NewKID     string       `json:"new_kid"`
	Steps      []StepResult `json:"steps"`
	NewKey     *KeyShape    `json:"new_key,omitempty"` // what the new key is made like, and why
	AuditLog   string       `json:"audit_log,omitempty"`
	Journal    string       `json:"journal,omitempty"`
	Error      string       `json:"error,omitempty"`
	// AuditError says why the audit record of this run could not be written (ErrAuditNotWritten).
	AuditError string `json:"audit_error,omitempty"`
	// Rerun is set when nothing was done because the rotation had already finished.
	Rerun *Rerun `json:"rerun,omitempty"`
	// Repairs are the leftover credentials of rekey's own it removed through the Management API.
	Repairs []string `json:"repairs,omitempty"`
}

// StepResult is one step's outcome in a Result.
type StepResult struct {
	Step   string `json:"step"`
	Status string `json:"status"` // done, failed or pending
	Detail string `json:"detail,omitempty"`
}

// engine runs one rotation of one client.
type engine struct {
	opts        Options
	deps        Deps
	j           *Journal
	client      tenant.Client
	runner      *tfrunner.Runner
	sys         *sysconfig.File // nil when the operator keeps the system config by hand
	state       *tfjson.State   // the Terraform state, read once: where the client's credentials are
	closeOutput func()          // ends Terraform's provider session and the forwarding of its output
	lateAudit   error           // an earlier rotation's audit record still cannot be written
}

// Rotate runs (or resumes) the rotation of opts.Client; a rerun of a rotation that already
// finished does nothing and says so (Result.Rerun). The error is also in the Result.
func Rotate(ctx context.Context, opts Options, deps Deps) (Result, error) {
	e, unlock, err := start(ctx, opts, deps)
	if err != nil {
		return failedResult(opts, err), err
	}
	defer unlock()
	defer e.closeOutput()
	rerun, err := e.rerun()
	if err == nil && rerun != nil {
		return rerun.result(e), e.lateAudit
	}
	if err = errors.Join(err, e.lateAudit); err != nil {
		return e.result(err), err
	}
	err = e.run(ctx)
	return e.result(err), err
}

// start validates the options, finds the client, takes its lock and loads, rebuilds or
// begins its journal.
func start(ctx context.Context, opts Options, deps Deps) (*engine, func(), error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Prompter == nil {
		deps.Prompter = refuseAll{}
	}
	client, err := deps.Tenant.Client(ctx, opts.Client)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := lockClient(opts.TerraformDir, client.ID)
	if err != nil {
		return nil, nil, err
	}
	e := &engine{opts: opts, deps: deps, client: client}
	if err := e.begin(ctx); err != nil {
		e.closeOutput()
		unlock()
		return nil, nil, err
	}
	return e, unlock, nil
}

// begin opens the Terraform runner and the system config, then takes up the rotation in
// progress (from its journal, or rebuilt from the world when the journal is lost or
// damaged); with none, it writes the audit records earlier rotations could not (noting in
// lateAudit when it still cannot: no new rotation starts then), and starts a new journal.
func (e *engine) begin(ctx context.Context) error {
	cfg := e.deps.Terraform
	cfg.Dir = e.opts.TerraformDir
	cfg.Output = e.terraformOutput()
	cfg.ShareProvider = true
	var err error
	if e.runner, err = tfrunner.New(cfg); err != nil {
		return err
	}
	closeOutput := e.closeOutput
	e.closeOutput = func() {
		e.runner.Close()
		closeOutput()
	}
	if e.opts.SystemConfig != "" {
		if e.sys, err = sysconfig.Load(e.opts.SystemConfig); err != nil {
			return err
		}
	}
	if e.j, err = e.inProgress(ctx); err != nil || e.j != nil {
		return err
	}
	e.j = &Journal{
		ClientID: e.client.ID, ClientName: e.client.Name, Status: StatusInProgress, StartedAt: e.deps.Now().UTC(),
		Operator: e.opts.Operator, Steps: map[string]StepLog{}, path: journalPath(e.opts.TerraformDir, e.client.ID),
	}
	e.lateAudit = e.writeLateAudits()
	return nil
}

// inProgress is the rotation in progress, or nil. A damaged journal is kept aside and, like
// a missing one, rebuilt from the world; a finished one whose archiving was cut short is
// archived now.
func (e *engine) inProgress(ctx context.Context) (*Journal, error) {
	j, err := LoadJournal(e.opts.TerraformDir, e.client.ID)
	var damaged *DamagedJournalError
	switch {
	case errors.As(err, &damaged):
		aside, err := setAside(damaged.Path, e.deps.Now())
		if err != nil {
			return nil, fmt.Errorf("%w; keeping it aside failed: %w", damaged, err)
		}
		e.emit(Event{Kind: Output, Text: fmt.Sprintf("The rotation journal was damaged (%s); it is kept as %s", damaged.Reason, aside)})
		return e.rebuild(ctx, aside)
	case err != nil:
		return nil, err
	case j == nil:
		return e.rebuild(ctx, "")
	case j.finished():
		return nil, j.archive(j.finishedAt())
	}
	e.emit(Event{Kind: Output, Text: fmt.Sprintf("Resuming the rotation of %s started %s by %s", j.ClientName, j.StartedAt.Format(time.RFC3339), j.Operator)})
	return j, nil
}

// run performs the steps not yet done, in order, recording each in the journal.
func (e *engine) run(ctx context.Context) error {
	do := map[Step]func(context.Context) error{
		Preflight: e.preflight, Generate: e.generate, Stage: e.stage, Attach: e.attach,
		Verify: e.verify, Promote: e.promote, Retire: e.retire, Confirm: e.confirm,
	}
	for _, s := range AllSteps {
		if e.j.Done(s) {
			continue
		}
		e.emit(Event{Kind: StepStarted, Step: s})
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped before %s: %w; run rekey again to resume", s, err)
		}
		if err := do[s](ctx); err != nil {
			err = fmt.Errorf("%s: %w", s, err)
			e.emit(Event{Kind: StepFailed, Step: s, Err: err})
			return errors.Join(err, e.recordFailure(s, err), e.audit("failed", err))
		}
		if err := e.j.record(s, "done", "", e.deps.Now()); err != nil {
			return err
		}
		e.emit(Event{Kind: StepFinished, Step: s})
	}
	return e.finish(StatusRotated)
}

// finish writes the audit record of the rotation's end, then closes and archives its
// journal. A crash before the journal is closed leaves it in progress with every step done,
// so the next run only finishes it. An audit record that cannot be written leaves the
// outcome as it is; the archived journal keeps why, and the next run writes the record.
func (e *engine) finish(status string) error {
	audited := e.audit(status, nil)
	e.j.Status = status
	return errors.Join(audited, e.j.archive(e.deps.Now()))
}

// recordFailure notes a failed step in the journal; a rotation that failed its preflight
// changed nothing, so it leaves no journal behind.
func (e *engine) recordFailure(s Step, err error) error {
	if s == Preflight {
		e.j.Steps[s.String()] = StepLog{Status: "failed", FinishedAt: e.deps.Now().UTC(), Detail: err.Error()}
		return e.j.discard()
	}
	return e.j.record(s, "failed", err.Error(), e.deps.Now())
}

// result summarises the rotation for the caller.
func (e *engine) result(err error) Result {
	r := Result{Status: e.j.Status, ClientID: e.client.ID, ClientName: e.client.Name, NewKey: e.j.Shape, AuditLog: AuditPath(e.opts.TerraformDir), Journal: e.j.path}
	if e.j.Old != nil {
		r.OldKID = e.j.Old.KID
	}
	if e.j.New != nil {
		r.NewKID = e.j.New.KID
	}
	for _, s := range AllSteps {
		log, ok := e.j.Steps[s.String()]
		if !ok {
			log.Status = "pending"
		}
		r.Steps = append(r.Steps, StepResult{Step: s.String(), Status: log.Status, Detail: log.Detail})
	}
	r.AuditError, r.Repairs = e.j.AuditError, e.j.Repairs
	switch {
	case err == nil:
	case e.j.finished():
		r.Error = err.Error() // what went wrong after the end, e.g. the audit record
	case errors.Is(err, ErrDeclined):
		r.Error, r.Status = err.Error(), StatusDeclined
	default:
		r.Error, r.Status = err.Error(), StatusFailed
	}
	return r
}

func failedResult(opts Options, err error) Result {
	return Result{Status: StatusFailed, ClientName: opts.Client, Error: err.Error()}
}

// audit appends the rotation's record to the audit log. When it cannot, the journal keeps
// why (saved with the journal's next save) and the error wraps ErrAuditNotWritten.
func (e *engine) audit(outcome string, err error) error {
	rec := e.j.auditRecord(e.opts.Operator, outcome, e.deps.Now())
	if err != nil {
		rec.Error = err.Error()
	}
	if werr := appendAudit(e.opts.TerraformDir, rec); werr != nil {
		e.j.AuditError = werr.Error()
		return e.auditFailed(outcome, werr)
	}
	e.j.AuditError = ""
	return nil
}

// auditFailed explains an audit record that could not be written: what stands, and what to
// do so that the next run writes it.
func (e *engine) auditFailed(outcome string, err error) error {
	path := AuditPath(e.opts.TerraformDir)
	rerun := fmt.Sprintf("rekey rotate --client %s", e.client.Name)
	switch outcome {
	case StatusRotated:
		return fmt.Errorf("%w to %s: %v. The rotation itself is complete (%s now uses only the new key) and nothing needs resuming: make %s a file rekey can append to, then run %s again: it writes the record from the journal and does not rotate again",
			ErrAuditNotWritten, path, err, e.client.Name, path, rerun)
	case StatusAborted:
		return fmt.Errorf("%w to %s: %v. The abort itself is complete: make %s a file rekey can append to, then run %s --abort again: it writes the record from the journal",
			ErrAuditNotWritten, path, err, path, rerun)
	}
	return fmt.Errorf("%w to %s: %v", ErrAuditNotWritten, path, err)
}

// emit sends an event to the caller, if it listens.
func (e *engine) emit(ev Event) {
	if e.deps.Events != nil {
		e.deps.Events <- ev
	}
}

// terraformOutput returns a channel whose lines are forwarded as Output events until
// closeOutput.
func (e *engine) terraformOutput() chan<- tfrunner.Line {
	lines := make(chan tfrunner.Line)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for l := range lines {
			e.emit(Event{Kind: Output, Text: l.Text})
		}
	}()
	e.closeOutput = func() { close(lines); <-done }
	return lines
}

// ask puts a question to the operator; a no is ErrDeclined.
func (e *engine) ask(ctx context.Context, q Question) error {
	a, err := e.deps.Prompter.Ask(ctx, q)
	if err != nil {
		return err
	}
	if !a.Yes || (q.Kind == TypeName && a.Text != q.Expect) {
		return fmt.Errorf("%w at %q", ErrDeclined, q.Title)
	}
	return nil
}

// refuseAll is the Prompter when none is given: it answers no, so nothing proceeds unasked.
type refuseAll struct{}

func (refuseAll) Ask(context.Context, Question) (Answer, error) {
	return Answer{}, errors.New("a confirmation is needed and nobody can answer it: run interactively, or pass --yes")
}
