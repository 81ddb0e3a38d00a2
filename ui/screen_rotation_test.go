package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"rekey/consumer"
	"rekey/steps"
	"rekey/tenant"
)

// toForm opens the fixture's client and its rotation form, with the scripted engine.
func toForm(t *testing.T, f *fixture, e *scriptedEngine, w, h int, opts ...Option) *harness {
	t.Helper()
	hs := openBilling(t, f, w, h, append(opts, e.install())...)
	hs.press("r")
	if hs.m.screen != screenRotation || hs.m.rotation.phase != phaseForm {
		t.Fatalf("not on the form: screen %v", hs.m.screen)
	}
	return hs
}

func (h *harness) rot() *rotationScreen { return h.m.rotation }

// waitQuestion waits until the engine asks about step s.
func (h *harness) waitQuestion(s steps.Step) *pendingQuestion {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("the %s question", s), func() bool {
		return h.rot() != nil && h.rot().q != nil && h.rot().q.msg.q.Step == s
	})
	return h.rot().q
}

// TestFormEnterAcceptsDefaults: the form preselects a key like the current one (a bare
// 2048-bit RS256 key), says so, and enter leaves every choice to the engine's like-for-like.
func TestFormEnterAcceptsDefaults(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	h := toForm(t, f, e, 80, 24)
	checkFrame(t, h.m.View(), 80, 24, "New key for billing-service", "[RS256]", "[2048]", "0 = a bare public key", "0 = no explicit expires_at", "like the current key", "Start rotation")
	h.press("enter")
	h.waitQuestion(steps.Attach)
	got := e.options[0]
	if got.Alg != "" || got.Bits != 0 || got.CertDays != nil || got.ExpiryDays != nil || got.Client != f.client.ID || got.TerraformDir != f.dir {
		t.Fatalf("options %+v, want every shape choice unset (like the current key) for %s in %s", got, f.client.ID, f.dir)
	}
}

func TestFormChangesChoices(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	h := toForm(t, f, e, 80, 24)
	h.press("right", "tab", "right", "down", "backspace")
	h.typeText("365")
	checkFrame(t, h.m.View(), 80, 24, "[RS384]", "[3072]", "[365]", "self-signed, expires in 365 days")
	h.press("shift+tab", "left", "up", "left", "left") // size back to 2048, algorithm wraps to PS256
	h.press("enter")
	h.waitQuestion(steps.Attach)
	got := e.options[0]
	if got.Alg != "PS256" || got.Bits != 0 || got.CertDays == nil || *got.CertDays != 365 || got.ExpiryDays != nil {
		t.Fatalf("options %+v, want PS256, bits like the current key, a 365-day certificate", got)
	}
}

func TestFormRefusesCertificateAndExpiry(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	h := toForm(t, f, e, 80, 24)
	h.press("tab", "tab", "right", "tab", "right", "enter")
	if runs, _ := e.counts(); runs != 0 || h.rot().phase != phaseForm {
		t.Fatal("the rotation started with both a certificate and an explicit expiry")
	}
	checkFrame(t, h.m.View(), 80, 24, "set the certificate or the")
}

func TestFormDaysPresetsAndLimit(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	h := toForm(t, f, e, 80, 24)
	h.press("tab", "tab", "right", "right", "right")
	if got := h.rot().form.days[fieldCert]; got != "180" {
		t.Fatalf("three presets up from 0: %q, want 180", got)
	}
	h.press("left")
	if got := h.rot().form.days[fieldCert]; got != "90" {
		t.Fatalf("one preset down: %q, want 90", got)
	}
	h.typeText("999") // 90999 > 36500
	h.press("enter")
	if runs, _ := e.counts(); runs != 0 || h.rot().phase != phaseForm {
		t.Fatal("the rotation started with an invalid certificate validity")
	}
	checkFrame(t, h.m.View(), 80, 24, "from 0 to 36500")
}

func TestAttachNeedsY(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	h := toForm(t, f, e, 80, 24)
	h.press("enter")
	q := h.waitQuestion(steps.Attach)
	checkFrame(t, h.m.View(), 80, 24, "Step 4 of 8", "attach", "Apply this plan to attach the new key?",
		"+++ main.tf", `+    credentials {`, "update auth0_client_credentials.billing", `+ adds credential "billing new"`, "[ Apply ]", "Decline")
	h.press("x", "a", "r", "down", "up")
	if h.rot().q != q {
		t.Fatal("a key other than y (or enter on Apply) answered the attach question")
	}
	h.press("l", "y", "enter") // with the log over the question, nothing answers it
	if h.rot().q != q {
		t.Fatal("the attach question was answered while the log hid it")
	}
	h.press("l")
	if h.rot().status[steps.Attach] != stepRunning {
		t.Fatal("attach moved on without an answer")
	}
	h.press("y")
	h.waitQuestion(steps.Retire)
	if h.rot().status[steps.Attach] != stepDone || h.rot().status[steps.Verify] != stepDone {
		t.Fatalf("after y: attach %v, verify %v", h.rot().status[steps.Attach], h.rot().status[steps.Verify])
	}
}

func TestAttachEnterOnFocusedButton(t *testing.T) {
	t.Run("apply", func(t *testing.T) {
		f := newFixture(t)
		e := newScriptedEngine(f)
		h := toForm(t, f, e, 80, 24)
		h.press("enter")
		h.waitQuestion(steps.Attach)
		h.press("enter") // Apply has the focus
		h.waitQuestion(steps.Retire)
	})
	t.Run("decline", func(t *testing.T) {
		f := newFixture(t)
		e := newScriptedEngine(f)
		h := toForm(t, f, e, 80, 24)
		h.press("enter")
		h.waitQuestion(steps.Attach)
		h.press("tab", "enter")
		h.waitFor("the failure", func() bool { return h.rot().phase == phaseFailed })
		if !errors.Is(h.rot().err, steps.ErrDeclined) {
			t.Fatalf("err %v, want ErrDeclined", h.rot().err)
		}
		checkFrame(t, h.m.View(), 80, 24, "You declined", "r   retry", "a   abort", "q   quit")
	})
}

func TestRetireNeedsTheExactName(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	h := toForm(t, f, e, 80, 24)
	h.press("enter")
	h.waitQuestion(steps.Attach)
	h.press("y")
	q := h.waitQuestion(steps.Retire)
	if !h.m.active().capturing() {
		t.Fatal("the retire question does not capture typing")
	}
	checkFrame(t, h.m.View(), 80, 24, "Type the client's name (billing-service)", "Type billing-service exactly", "- removes credential")
	h.typeText("Billing-service") // wrong case
	h.press("enter")
	if h.rot().q != q || !q.mismatch {
		t.Fatal("a wrong name was accepted")
	}
	checkFrame(t, h.m.View(), 80, 24, "That is not the client's name; nothing was applied.")
	clearInput := func() {
		for range len(q.input.Value()) {
			h.press("backspace")
		}
	}
	clearInput()
	h.typeText("q?billing-service") // q and ? are text here, not quit and help
	if h.m.quitting || h.m.help.ShowAll {
		t.Fatal("q or ? acted as a key while typing the name")
	}
	h.press("enter")
	if h.rot().q != q {
		t.Fatal("q?billing-service was accepted")
	}
	h.update(keyPress("ctrl+c")) // ctrl+c asks, it does not quit
	if h.m.quitting || h.rot().confirm != confirmCancel {
		t.Fatal("ctrl+c did not ask to cancel the step")
	}
	h.press("n")
	clearInput()
	h.typeText("billing-service") // l and n are text too, not the log and no
	if h.rot().showLog {
		t.Fatal("typing l toggled the log")
	}
	h.press("enter")
	h.waitFor("the done screen", func() bool { return h.m.screen == screenDone })
}

func TestCancelRunningStepAndRetryResumes(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.holdAt = steps.Verify
	h := toForm(t, f, e, 80, 24)
	h.press("enter")
	h.waitQuestion(steps.Attach)
	h.press("y")
	h.waitFor("verify", func() bool { return h.rot().current == steps.Verify && h.rot().status[steps.Verify] == stepRunning })
	h.press("esc")
	checkFrame(t, h.m.View(), 80, 24, "Cancel the running step? Terraform will be interrupted and release its", "(y/n)")
	h.update(tea.WindowSizeMsg{Width: 120, Height: 40})
	checkFrame(t, h.m.View(), 120, 40, "Cancel the running step? Terraform will be interrupted and release its lock (y/n)")
	h.update(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.press("n")
	if h.rot().confirm != confirmNone || h.rot().phase != phaseRunning {
		t.Fatal("n did not keep the step running")
	}
	h.press("esc", "y")
	h.waitFor("the failure", func() bool { return h.rot().phase == phaseFailed })
	checkFrame(t, h.m.View(), 80, 24, "The step was cancelled", "resumes where it stopped")
	if h.rot().status[steps.Verify] != stepFailed || h.rot().status[steps.Attach] != stepDone {
		t.Fatalf("stepper after cancel: %v", h.rot().status)
	}
	e.holdAt = -1
	h.press("r")
	h.waitQuestion(steps.Retire)
	if runs, _ := e.counts(); runs != 2 {
		t.Fatalf("%d engine runs, want 2", runs)
	}
	if a, b := e.options[0], e.options[1]; a.Alg != b.Alg || a.Bits != b.Bits || a.Client != b.Client || a.TerraformDir != b.TerraformDir {
		t.Errorf("the retry ran with other options: %+v vs %+v", e.options[1], e.options[0])
	}
}

func TestQuitWhileRunningAsksAndStopsTheEngineFirst(t *testing.T) {
	h := runningVerify(t, 80, 24)
	h.press("q")
	if h.m.quitting {
		t.Fatal("q quit while the engine runs, without asking")
	}
	checkFrame(t, h.m.View(), 80, 24, "Quit? The running step is cancelled first")
	h.press("y")
	h.waitFor("quit", func() bool { return h.m.quitting })
	if h.rot().phase != phaseFailed || h.m.c.life.Err() == nil {
		t.Fatal("the program quit before the engine stopped")
	}
}

func TestAbortAfterFailure(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.failAt, e.failErr = steps.Verify, fmt.Errorf("%w: the new key failed 3 checks", steps.ErrUnsafe)
	h := toForm(t, f, e, 80, 24)
	h.press("enter")
	h.waitQuestion(steps.Attach)
	h.press("y")
	h.waitFor("the failure", func() bool { return h.rot().phase == phaseFailed })
	checkFrame(t, h.m.View(), 80, 24, "A safety rule stopped the rotation", "failed 3 checks", "removes the new key again")
	h.press("a")
	h.waitQuestion(steps.Attach)
	checkFrame(t, h.m.View(), 80, 24, "Apply this plan to remove the new key again?", "Aborting the rotation")
	if strings.Contains(h.text(), "billing new") {
		t.Error("the abort's question shows the attach step's old diff")
	}
	h.press("y")
	h.waitFor("aborted", func() bool { return h.rot().phase == phaseAborted })
	checkFrame(t, h.m.View(), 80, 24, "The rotation was aborted", "was detached again", "was never touched", "audit.jsonl")
	h.press("enter")
	if h.m.screen != screenClients {
		t.Fatalf("enter after abort: screen %v", h.m.screen)
	}
}

func TestNoAbortOnceRetireStarted(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.failAt, e.failErr = steps.Confirm, errors.New("the old key still works")
	h := toForm(t, f, e, 80, 24)
	h.press("enter")
	h.waitQuestion(steps.Attach)
	h.press("y")
	h.waitQuestion(steps.Retire)
	h.rot().q.input.SetValue(f.client.Name)
	h.press("enter")
	h.waitFor("the failure", func() bool { return h.rot().phase == phaseFailed })
	h.press("a")
	if _, aborts := e.counts(); aborts != 0 {
		t.Fatal("a ran an abort after the old key was retired")
	}
	checkFrame(t, h.m.View(), 80, 24, "abort is no longer possible")
	if strings.Contains(h.text(), "a abort") {
		t.Error("the help offers abort")
	}
}

func TestNothingToAbortAfterAFailedPreflight(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.failAt, e.failErr = steps.Preflight, fmt.Errorf("%w: the client has 2 credentials attached", steps.ErrUnsafe)
	h := toForm(t, f, e, 80, 24)
	h.press("enter")
	h.waitFor("the failure", func() bool { return h.rot().phase == phaseFailed })
	h.press("a")
	if _, aborts := e.counts(); aborts != 0 {
		t.Fatal("a ran an abort with no rotation in progress")
	}
	checkFrame(t, h.m.View(), 80, 24, "Step 1 of 8", "2 credentials attached", "nothing to abort")
}

func TestOldKeyChecksPauseFromVerifyUntilRetired(t *testing.T) {
	f := newFixture(t)
	f.tenant.setResult(func(kid string) tenant.CheckResult {
		return tenant.CheckResult{OK: true, Latency: 30 * time.Millisecond}
	})
	e := newScriptedEngine(f)
	e.holdAt = steps.Confirm
	h := toForm(t, f, e, 80, 24)
	tick := func() { h.update(liveTickMsg{owner: h.rot().id}) }
	h.press("enter")
	h.waitQuestion(steps.Attach)
	tick()
	if n := f.tenant.count(f.newKID); n != 0 {
		t.Fatalf("the new key was checked %d times before attach", n)
	}
	h.press("y")
	h.waitQuestion(steps.Retire)
	oldBefore, newBefore := f.tenant.count(f.oldKID), f.tenant.count(f.newKID)
	tick()
	tick()
	if n := f.tenant.count(f.oldKID); n != oldBefore {
		t.Fatalf("the old key was checked between verify and retire (%d → %d): the retire gate would see it in use", oldBefore, n)
	}
	if n := f.tenant.count(f.newKID); n <= newBefore {
		t.Fatal("the new key was not checked after attach")
	}
	checkFrame(t, h.m.View(), 80, 24, "paused: retire needs it unused")
	f.tenant.setResult(func(kid string) tenant.CheckResult {
		if kid == f.oldKID {
			return tenant.CheckResult{Status: 401, Code: "invalid_client", Description: "unknown key"}
		}
		return tenant.CheckResult{OK: true, Latency: 30 * time.Millisecond}
	})
	h.rot().q.input.SetValue(f.client.Name)
	h.press("enter")
	h.waitFor("confirm", func() bool { return h.rot().status[steps.Retire] == stepDone })
	tick()
	h.waitFor("the old key's check", func() bool { return f.tenant.count(f.oldKID) > oldBefore })
	h.settle()
	checkFrame(t, h.m.View(), 80, 24, "rejected, as expected")
}

func TestLogToggle(t *testing.T) {
	h := runningVerify(t, 120, 40)
	h.press("l")
	checkFrame(t, h.m.View(), 120, 40, "Terraform and engine log", "Apply complete! Resources: 0 added, 1 changed", "== Step 4 of 8", "l hide log")
	h.press("l")
	if strings.Contains(h.text(), "Terraform and engine log") {
		t.Fatal("l did not hide the log")
	}
	checkFrame(t, h.m.View(), 120, 40, "Running verify")
}

func TestConsumerTrafficPanel(t *testing.T) {
	f := newFixture(t)
	f.backend.Sandbox = true
	f.backend.Consumer = func(string) *consumer.Stats { return &consumer.Stats{} }
	e := newScriptedEngine(f)
	h := toForm(t, f, e, 120, 40)
	id := h.rot().id
	h.update(consumerMsg{owner: id, at: testNow, stats: &consumer.Stats{Requests: 100, ByKID: map[string]int64{f.oldKID: 100}}})
	h.update(consumerMsg{owner: id, at: testNow.Add(time.Second), stats: &consumer.Stats{Requests: 120, Failures: 1, LastError: "boom",
		ByKID: map[string]int64{f.oldKID: 105, f.newKID: 114}}})
	h.press("enter")
	h.waitQuestion(steps.Attach)
	checkFrame(t, h.m.View(), 120, 40, "SANDBOX", "Demo consumer", "20 req · 20/s", "1 failed", "signing with "+shortKID(f.newKID)+" (new)")
}

// rotateToDone starts the rotation from the form, answers attach and retire, and waits for
// the done screen.
func (h *harness) rotateToDone(f *fixture) {
	h.t.Helper()
	h.press("enter")
	h.waitQuestion(steps.Attach)
	h.press("y")
	h.waitQuestion(steps.Retire)
	h.rot().q.input.SetValue(f.client.Name)
	h.press("enter")
	h.waitFor("the done screen", func() bool { return h.m.screen == screenDone })
}

func TestRotationFinishesOnTheDoneScreen(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	h := toForm(t, f, e, 80, 24)
	h.rotateToDone(f)
	checkFrame(t, h.m.View(), 80, 24, "Rotated billing-service: "+shortKID(f.oldKID)+" → "+shortKID(f.newKID), f.oldKID, f.newKID, "(retired)", "(current)",
		"verify", "3 of 3 ok", "rejected, as expected", "audit.jsonl", "enter back to clients")
	h.press("enter")
	if h.m.screen != screenClients {
		t.Fatalf("enter on done: screen %v", h.m.screen)
	}
}

// TestRerunSaysWhenAndRotatesAgainOnR: a client rotated moments ago is not rotated again
// silently; the screen says when and by whom, and r rotates anyway (Options.Again).
func TestRerunSaysWhenAndRotatesAgainOnR(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.rerun = &steps.Rerun{FinishedAt: testNow.Add(-time.Hour), Operator: "alice", Until: testNow.Add(11 * time.Hour)}
	h := toForm(t, f, e, 80, 24)
	h.press("enter")
	h.waitFor("the rerun", func() bool { return h.rot().phase == phaseRerun })
	checkFrame(t, h.m.View(), 80, 24, "Already rotated", "by alice", "Nothing was done", "r rotate again anyway", "esc clients")
	h.press("r")
	h.waitQuestion(steps.Attach)
	if runs, _ := e.counts(); runs != 2 || e.options[0].Again || !e.options[1].Again {
		t.Fatalf("runs %d with options %+v; want a second run with Again", runs, e.options)
	}
}

// TestAuditFailureStillEndsOnTheDoneScreen: a rotation whose audit record could not be written
// still stands; the done screen says so instead of offering a retry.
func TestAuditFailureStillEndsOnTheDoneScreen(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.auditErr = "open .rekey/audit.jsonl: permission denied"
	h := toForm(t, f, e, 100, 30)
	h.rotateToDone(f)
	checkFrame(t, h.m.View(), 100, 30, "Rotated billing-service", "the audit record was not written", "permission denied", "The rotation stands")
}

// TestEditYourselfOpensTheEditorThenPlans: for a layout rekey cannot edit, the question says
// what to edit, e opens $EDITOR at the file and line, and y plans.
func TestEditYourselfOpensTheEditorThenPlans(t *testing.T) {
	t.Setenv("EDITOR", "true")
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.manual = true
	h := toForm(t, f, e, 100, 30)
	h.press("enter")
	h.waitFor("the edit", func() bool { return h.rot().q != nil && h.rot().q.msg.q.Kind == steps.EditYourself })
	checkFrame(t, h.m.View(), 100, 30, "Make this edit, then plan", "Add a credential for the new key", "e opens $EDITOR at", "main.tf:12", "Plan")
	if cmd := h.rot().key(keyPress("e")); cmd == nil {
		t.Fatal("e did not open the editor")
	}
	h.press("y")
	h.waitQuestion(steps.Attach)
	checkFrame(t, h.m.View(), 100, 30, "Apply this plan to attach the new key?")
}

func TestEditorCommand(t *testing.T) {
	cmd := editorCommand("code -w", "/tf/main.tf", 12)
	if want := []string{"sh", "-c", `code -w "$@"`, "editor", "+12", "/tf/main.tf"}; !slices.Equal(cmd.Args, want) {
		t.Errorf("args %q, want %q", cmd.Args, want)
	}
}

func TestRotationRenderSizes(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			w, hgt := size[0], size[1]
			f := newFixture(t)
			f.backend.Sandbox = true
			f.backend.Consumer = func(string) *consumer.Stats { return &consumer.Stats{} }
			e := newScriptedEngine(f)
			h := toForm(t, f, e, w, hgt)
			frame := func(want ...string) {
				t.Helper()
				checkFrame(t, h.m.View(), w, hgt, want...)
				checkFrame(t, h.rot().view(), w, hgt-1, want...)
			}
			frame("New key for billing-service", "Algorithm", "Key size", "Certificate")
			h.press("enter")
			h.waitQuestion(steps.Attach)
			frame("Step 4 of 8", "attach", "Live checks", "old "+shortKID(f.oldKID), "waiting for attach", "[ Apply ]")
			h.press("y")
			h.waitQuestion(steps.Retire)
			frame("Step 7 of 8", "retire", "Type billing-service exactly")
			if w >= 100 {
				frame("✓ preflight", "● retire", "○ confirm")
			} else {
				frame("● retire")
			}
		})
	}
}

func TestDoneScreenRenderSizes(t *testing.T) {
	f := newFixture(t)
	sum := doneSummary{
		result: steps.Result{Status: steps.StatusRotated, ClientName: "billing-service", OldKID: f.oldKID, NewKID: f.newKID,
			AuditLog: "/srv/tf/.rekey/audit.jsonl", Journal: "/srv/tf/.rekey/done/cl_billing-20260301T120000Z.json",
			Steps: []steps.StepResult{{Step: "preflight", Status: "done"}, {Step: "confirm", Status: "done"}}},
		checks: []engineCheck{
			{steps.Verify, steps.KeyCheck{Role: "new", KID: f.newKID, Result: tenant.CheckResult{OK: true, Latency: 51 * time.Millisecond}}},
			{steps.Confirm, steps.KeyCheck{Role: "old", KID: f.oldKID, Result: tenant.CheckResult{Status: 401, Code: "invalid_client"}}},
		},
		traffic: &trafficSummary{requests: 1234, failures: 0, lastKID: f.newKID},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		h := newHarness(t, f.backend, size[0], size[1])
		h.update(rotationFinishedMsg{summary: sum})
		checkFrame(t, h.m.done.view(), size[0], size[1]-2, "Rotated billing-service", f.oldKID, f.newKID,
			"verify", "51 ms", "rejected, as expected", "1,234 token requests during the rotation, none failed",
			"/srv/tf/.rekey/audit.jsonl", "cl_billing-20260301T120000Z.json", "(the new key)")
		checkFrame(t, h.m.View(), size[0], size[1], "enter back to clients")
	}
}

// runningVerify starts a scripted rotation at w×h, applies the attach, and returns once verify
// runs (the engine holds there).
func runningVerify(t *testing.T, w, h int) *harness {
	t.Helper()
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.holdAt = steps.Verify
	hs := toForm(t, f, e, w, h)
	hs.press("enter")
	hs.waitQuestion(steps.Attach)
	hs.press("y")
	hs.waitFor("verify", func() bool { return hs.rot().status[steps.Verify] == stepRunning })
	return hs
}
