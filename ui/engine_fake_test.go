package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"rekey/steps"
	"rekey/tenant"
	"rekey/tfrunner"
)

// scriptedEngine stands in for steps.Rotate and steps.Abort: it walks the eight steps with
// the events and questions the real engine produces, writes the journal where the real one
// does, and can be held at a step until its context ends.
type scriptedEngine struct {
	f       *fixture
	holdAt  steps.Step // hold (after StepStarted) at this step until ctx ends; -1 none
	failAt  steps.Step // fail this step with failErr; -1 none
	failErr error
	// warnings, when set, are preflight's: it asks to go on despite them.
	warnings []steps.Warning
	// rerun, when set, is a rotation finished moments ago: without Options.Again the run does
	// nothing and reports it, as the engine does.
	rerun *steps.Rerun
	// auditErr, when set, is why the audit record of a finished rotation was not written.
	auditErr string
	// manual, when set, makes attach ask for the operator's own edit first, as for a layout
	// rekey cannot edit.
	manual bool

	mu      sync.Mutex
	runs    int
	aborts  int
	options []steps.Options
}

func newScriptedEngine(f *fixture) *scriptedEngine {
	return &scriptedEngine{f: f, holdAt: -1, failAt: -1}
}

// install makes the model under test use the scripted engine.
func (e *scriptedEngine) install() Option {
	return func(c *config) {
		c.rotate = e.rotate
		c.abort = e.abort
	}
}

func (e *scriptedEngine) journal(j steps.Journal) {
	data, _ := json.Marshal(j)
	path := journalFile(e.f.dir, e.f.client.ID)
	_ = os.MkdirAll(filepath.Dir(path), 0o700)
	_ = os.WriteFile(path, data, 0o600)
}

func (e *scriptedEngine) rotate(ctx context.Context, opts steps.Options, deps steps.Deps) (steps.Result, error) {
	e.mu.Lock()
	e.runs++
	e.options = append(e.options, opts)
	e.mu.Unlock()
	f := e.f
	emit := func(ev steps.Event) { deps.Events <- ev }
	res := steps.Result{Status: steps.StatusRotated, ClientID: f.client.ID, ClientName: f.client.Name, OldKID: f.oldKID, NewKID: f.newKID,
		AuditLog: filepath.Join(f.dir, ".rekey", "audit.jsonl"), Journal: filepath.Join(f.dir, ".rekey", "done", "x.json")}
	j := steps.Journal{ClientID: f.client.ID, ClientName: f.client.Name, Status: steps.StatusInProgress, StartedAt: testNow, Operator: "tester",
		Resource: "auth0_client_credentials.billing", Audience: "https://api.example", Steps: map[string]steps.StepLog{},
		Old: &steps.JournalKey{KID: f.oldKID, Alg: "RS256", PrivateKeyFile: f.oldFile}}
	if prev, err := steps.LoadJournal(f.dir, f.client.ID); err == nil && prev != nil {
		j = *prev
	}
	if e.rerun != nil && !opts.Again {
		return steps.Result{Status: steps.StatusRotated, ClientID: f.client.ID, ClientName: f.client.Name, NewKID: f.oldKID, AuditLog: res.AuditLog, Rerun: e.rerun}, nil
	}
	for _, s := range steps.AllSteps {
		if j.Done(s) {
			continue
		}
		emit(steps.Event{Kind: steps.StepStarted, Step: s})
		if s == e.holdAt {
			<-ctx.Done()
			err := fmt.Errorf("%s: %w", s, ctx.Err())
			emit(steps.Event{Kind: steps.StepFailed, Step: s, Err: err})
			j.Steps[s.String()] = steps.StepLog{Status: "failed"}
			e.journal(j)
			res.Status, res.Error = steps.StatusFailed, err.Error()
			return res, err
		}
		if s == e.failAt {
			err := fmt.Errorf("%s: %w", s, e.failErr)
			emit(steps.Event{Kind: steps.StepFailed, Step: s, Err: err})
			j.Steps[s.String()] = steps.StepLog{Status: "failed"}
			e.journal(j)
			if s == steps.Preflight { // as the engine: a failed preflight changed nothing, so no journal
				_ = os.Remove(journalFile(f.dir, f.client.ID))
			}
			res.Status, res.Error = steps.StatusFailed, err.Error()
			return res, err
		}
		if err := e.step(ctx, s, deps, emit, &j); err != nil {
			err = fmt.Errorf("%s: %w", s, err)
			emit(steps.Event{Kind: steps.StepFailed, Step: s, Err: err})
			j.Steps[s.String()] = steps.StepLog{Status: "failed"}
			e.journal(j)
			res.Status, res.Error = steps.StatusFailed, err.Error()
			if errors.Is(err, steps.ErrDeclined) {
				res.Status = steps.StatusDeclined
			}
			return res, err
		}
		j.Steps[s.String()] = steps.StepLog{Status: "done", FinishedAt: testNow}
		e.journal(j)
		emit(steps.Event{Kind: steps.StepFinished, Step: s})
	}
	_ = os.Remove(journalFile(f.dir, f.client.ID))
	for _, s := range steps.AllSteps {
		res.Steps = append(res.Steps, steps.StepResult{Step: s.String(), Status: "done"})
	}
	if e.auditErr != "" {
		res.AuditError = e.auditErr
		return res, fmt.Errorf("%w: %s", steps.ErrAuditNotWritten, e.auditErr)
	}
	return res, nil
}

func (e *scriptedEngine) step(ctx context.Context, s steps.Step, deps steps.Deps, emit func(steps.Event), j *steps.Journal) error {
	f := e.f
	ok := tenant.CheckResult{OK: true, Latency: 40 * time.Millisecond}
	ask := func(q steps.Question) error {
		a, err := deps.Prompter.Ask(ctx, q)
		if err != nil {
			return err
		}
		if !a.Yes || (q.Kind == steps.TypeName && a.Text != q.Expect) {
			return fmt.Errorf("%w at %q", steps.ErrDeclined, q.Title)
		}
		return nil
	}
	switch s {
	case steps.Preflight:
		emit(steps.Event{Kind: steps.Output, Step: s, Text: "terraform plan: no changes"})
		emit(steps.Event{Kind: steps.CheckDone, Step: s, Check: &steps.KeyCheck{Role: "old", KID: f.oldKID, Result: ok}})
		if len(e.warnings) > 0 {
			return ask(steps.Question{Kind: steps.Proceed, Step: s, Title: "Continue despite these warnings?", Body: "(the warnings)", Warnings: e.warnings})
		}
	case steps.Generate:
		j.New = &steps.JournalKey{KID: f.newKID, Alg: "RS256", PrivateKeyFile: f.newFile}
		emit(steps.Event{Kind: steps.Output, Step: s, Text: "New 3072-bit RSA key " + f.newKID + " (RS256), private key in " + f.newFile + " (0600)"})
	case steps.Attach:
		if e.manual {
			if err := ask(steps.Question{Kind: steps.EditYourself, Step: s, Title: "Make this edit, then plan", Body: "Add a credential for the new key", File: filepath.Join(f.dir, "main.tf"), Line: 12}); err != nil {
				return err
			}
		}
		emit(steps.Event{Kind: steps.Diff, Step: s, Text: "--- main.tf\n+++ main.tf\n@@ -8,3 +8,9 @@\n     }\n+    credentials {\n+      name = \"billing new\"\n+    }\n-    # removed comment\n   }\n"})
		emit(steps.Event{Kind: steps.PlanReady, Step: s, Plan: &tfrunner.PlanSummary{
			Changes:     []tfrunner.ResourceChange{{Address: "auth0_client_credentials.billing", Type: "auth0_client_credentials"}},
			Credentials: &tfrunner.CredentialsChange{Address: "auth0_client_credentials.billing", Added: []tfrunner.PlannedCredential{{Name: "billing new", KID: f.newKID}}, Kept: []tfrunner.PlannedCredential{{Name: "billing 2025", KID: f.oldKID}}, After: 2},
		}})
		if err := ask(steps.Question{Kind: steps.Proceed, Step: s, Title: "Apply this plan to attach the new key?"}); err != nil {
			return err
		}
		emit(steps.Event{Kind: steps.Output, Text: "auth0_client_credentials.billing: Modifying..."})
		emit(steps.Event{Kind: steps.Output, Text: "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."})
	case steps.Verify:
		for range 3 {
			emit(steps.Event{Kind: steps.CheckDone, Step: s, Check: &steps.KeyCheck{Role: "new", KID: f.newKID, Result: ok}})
		}
		emit(steps.Event{Kind: steps.CheckDone, Step: s, Check: &steps.KeyCheck{Role: "old", KID: f.oldKID, Result: ok}})
		j.Verified = true
	case steps.Retire:
		emit(steps.Event{Kind: steps.Diff, Step: s, Text: "--- main.tf\n+++ main.tf\n-    credentials {\n-      name = \"billing 2025\"\n-    }\n"})
		emit(steps.Event{Kind: steps.PlanReady, Step: s, Plan: &tfrunner.PlanSummary{
			Changes:     []tfrunner.ResourceChange{{Address: "auth0_client_credentials.billing"}},
			Credentials: &tfrunner.CredentialsChange{Removed: []tfrunner.PlannedCredential{{Name: "billing 2025", KID: f.oldKID}}, After: 1},
		}})
		if err := ask(steps.Question{Kind: steps.TypeName, Step: s, Expect: f.client.Name,
			Title: fmt.Sprintf("Type the client's name (%s) to remove the old key %s", f.client.Name, f.oldKID)}); err != nil {
			return err
		}
	case steps.Confirm:
		emit(steps.Event{Kind: steps.CheckDone, Step: s, Check: &steps.KeyCheck{Role: "new", KID: f.newKID, Result: ok}})
		emit(steps.Event{Kind: steps.CheckDone, Step: s, Check: &steps.KeyCheck{Role: "old", KID: f.oldKID,
			Result: tenant.CheckResult{Status: 401, Code: "invalid_client", Description: "Invalid client assertion"}}})
	}
	return nil
}

func (e *scriptedEngine) abort(ctx context.Context, opts steps.Options, deps steps.Deps) (steps.Result, error) {
	e.mu.Lock()
	e.aborts++
	e.mu.Unlock()
	a, err := deps.Prompter.Ask(ctx, steps.Question{Kind: steps.Proceed, Step: steps.Attach, Title: "Apply this plan to remove the new key again?"})
	if err != nil {
		return steps.Result{Status: steps.StatusFailed}, err
	}
	if !a.Yes {
		return steps.Result{Status: steps.StatusFailed}, fmt.Errorf("%w", steps.ErrDeclined)
	}
	_ = os.Remove(journalFile(e.f.dir, e.f.client.ID))
	return steps.Result{Status: steps.StatusAborted, ClientName: e.f.client.Name, OldKID: e.f.oldKID, NewKID: e.f.newKID,
		AuditLog: filepath.Join(e.f.dir, ".rekey", "audit.jsonl")}, nil
}

func (e *scriptedEngine) counts() (runs, aborts int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runs, e.aborts
}
