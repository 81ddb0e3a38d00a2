package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"rekey/steps"
	"rekey/tenant"
	"rekey/tfrunner"
)

// rotPhase is where the rotation screen is.
type rotPhase int

const (
	phaseForm    rotPhase = iota // choosing the new key
	phaseRunning                 // the engine runs (a rotation or an abort), perhaps asking a question
	phaseFailed                  // the engine stopped with an error
	phaseAborted                 // an abort finished
	phaseRerun                   // the client was rotated moments ago: nothing was done
)

// confirmKind is the confirmation dialog shown over a running engine.
type confirmKind int

const (
	confirmNone   confirmKind = iota
	confirmCancel             // cancel the running step
	confirmQuit               // cancel the running step, then quit
)

// stepState is a step's place in the stepper.
type stepState int

const (
	stepPending stepState = iota
	stepRunning
	stepDone
	stepFailed
)

// entryKind says what an activity entry shows.
type entryKind int

const (
	entryOutput entryKind = iota // a line of progress or Terraform output
	entryDiff                    // a file diff
	entryPlan                    // a plan summary and its guard findings
	entryCheck                   // a live check the engine ran
	entryNote                    // something the wizard says (an answer, a failure)
	entryBad                     // an error
)

// entry is one thing that happened during a step.
type entry struct {
	kind     entryKind
	text     string
	plan     *tfrunner.PlanSummary
	findings []tfrunner.Finding
	check    *steps.KeyCheck
}

// stepBlurb says what each step does, under the stepper.
var stepBlurb = map[steps.Step]string{
	steps.Preflight: "Checking the client, its Terraform resource, the provider version, a clean plan and the current key.",
	steps.Generate:  "Generating the new RSA key pair; the private key is written 0600 outside the Terraform folder.",
	steps.Stage:     "Adding the new key to the service's configuration as NEXT, after CURRENT.",
	steps.Attach:    "Adding one credentials block to the HCL: review the diff and the plan, then apply.",
	steps.Verify:    "Proving the new key works (consecutive token exchanges) while the old key still does.",
	steps.Promote:   "Making the new key CURRENT in the service's configuration; the old key stays as fallback.",
	steps.Retire:    "Removing the old key's block: review the diff and the plan, then type the client's name.",
	steps.Confirm:   "Checking that the new key works and the old one is rejected; writing the audit record.",
}

// pendingQuestion is a gate the engine waits on.
type pendingQuestion struct {
	msg          questionMsg
	view         viewport.Model // the diff, the plan and the question's body
	input        textinput.Model
	applyFocused bool // Proceed: which button has the focus
	mismatch     bool // TypeName: the typed name did not match
}

// rotationScreen runs one client's rotation: the new-key form, then the engine step by step
// with its questions, live checks of the keys, the demo consumer's traffic, and what to do when
// a step fails.
type rotationScreen struct {
	c       *common
	id      int
	client  tenant.Client
	base    steps.Options
	known   map[string]string
	journal *steps.Journal
	opts    steps.Options
	form    genForm
	formErr string

	phase     rotPhase
	run       int
	aborting  bool
	cancel    context.CancelFunc
	stream    chan tea.Msg
	stopping  bool // the run's context was cancelled; waiting for the engine to stop
	quitAfter bool
	confirm   confirmKind

	status     [8]stepState
	current    steps.Step
	started    bool
	activity   []entry
	byStep     map[steps.Step][]entry // diffs and plans, for the questions
	log        []string
	showLog    bool
	expandKeys bool // diffs show key PEMs whole, not one line each
	logView    viewport.Model
	q          *pendingQuestion

	err      error
	result   steps.Result
	checks   []engineCheck // the engine's own checks
	live     []*liveKey    // old, then new
	audience string
	traffic  traffic

	width  int
	height int
}

// maxLog is how many output lines the log keeps.
const maxLog = 2000

func newRotationScreen(c *common, client tenant.Client, journal *steps.Journal, base steps.Options, known map[string]string, current steps.CurrentKey) *rotationScreen {
	s := &rotationScreen{
		c: c, id: c.nextID(), client: client, base: base, known: known, journal: journal,
		form: newGenForm(steps.Shape(base, current)), byStep: map[steps.Step][]entry{}, width: 80, height: 20,
	}
	s.audience = base.Audience
	s.logView = viewport.New(80, 10)
	s.syncJournal()
	return s
}

// init starts the live checks and the consumer polling and, when resuming past generate, the
// engine itself (the form's choices are in the journal already).
func (s *rotationScreen) init() tea.Cmd {
	cmds := []tea.Cmd{s.runChecks(), liveTick(s.id, s.c.cfg.checkEvery)}
	if s.c.backend.Consumer != nil {
		cmds = append(cmds, consumerTick(s.id, 10*time.Millisecond, s.c.backend.Consumer, s.client.ID))
	}
	if s.journal != nil && s.journal.Done(steps.Generate) {
		s.opts = s.base
		s.opts.Client = s.client.ID
		cmds = append(cmds, s.start(false))
	}
	return tea.Batch(cmds...)
}

// syncJournal takes the step states and the keys from the journal.
func (s *rotationScreen) syncJournal() {
	j := s.journal
	if j != nil {
		for i, step := range steps.AllSteps {
			switch log, ok := j.Steps[step.String()]; {
			case ok && log.Status == "done":
				s.status[i] = stepDone
			case ok && log.Status == "failed" && s.status[i] == stepPending:
				s.status[i] = stepFailed
			}
		}
		if j.Audience != "" {
			s.audience = j.Audience
		}
	}
	old := checkSpec{role: "old"}
	switch {
	case j != nil && j.Old != nil:
		old.kid, old.alg, old.file = j.Old.KID, j.Old.Alg, j.Old.PrivateKeyFile
	case len(s.client.Attached()) > 0:
		cr := s.client.Attached()[0]
		old.kid, old.alg = cr.KID, cr.Alg
	}
	if old.file == "" {
		old.file = s.known[old.kid]
	}
	var specs []checkSpec
	if old.kid != "" {
		specs = append(specs, old)
	}
	if j != nil && j.New != nil {
		specs = append(specs, checkSpec{role: "new", kid: j.New.KID, alg: j.New.Alg, file: j.New.PrivateKeyFile})
	}
	var live []*liveKey
	for _, sp := range specs {
		k := &liveKey{role: sp.role, kid: sp.kid, alg: sp.alg, file: sp.file}
		for _, prev := range s.live {
			if prev.kid == sp.kid && prev.role == sp.role {
				k.running, k.have, k.last, k.samples = prev.running, prev.have, prev.last, prev.samples
			}
		}
		live = append(live, k)
	}
	s.live = live
}

// start runs the engine: a rotation (which resumes from the journal), or an abort.
func (s *rotationScreen) start(abort bool) tea.Cmd {
	s.run = s.c.nextID()
	ctx, cancel := context.WithCancel(s.c.life)
	s.cancel = cancel
	s.stream = make(chan tea.Msg, 256)
	s.phase, s.aborting, s.stopping, s.quitAfter, s.confirm = phaseRunning, abort, false, false, confirmNone
	s.err, s.q, s.started, s.activity = nil, nil, false, nil
	s.byStep = map[steps.Step][]entry{} // a question shows what this run emitted
	for i := range s.status {
		if s.status[i] == stepFailed || s.status[i] == stepRunning {
			s.status[i] = stepPending
		}
	}
	b := s.c.backend
	deps := steps.Deps{Tenant: b.Tenant, Terraform: b.Terraform, Usage: b.Usage}
	fn := s.c.cfg.rotate
	if abort {
		fn = s.c.cfg.abort
	}
	s.c.background.Add(1)
	return tea.Batch(
		runEngineCmd(ctx, s.c.life, s.run, abort, fn, s.opts, deps, s.stream, s.c.background.Done),
		waitStream(s.run, s.stream),
	)
}

func (s *rotationScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return s.key(msg)
	case engineEventMsg:
		if msg.run != s.run {
			return nil
		}
		return tea.Batch(s.event(msg.ev), waitStream(s.run, s.stream))
	case questionMsg:
		if msg.run != s.run {
			return nil
		}
		s.ask(msg)
		var focus tea.Cmd
		if msg.q.Kind == steps.TypeName {
			focus = s.q.input.Focus()
		}
		return tea.Batch(focus, waitStream(s.run, s.stream))
	case editorDoneMsg:
		if msg.err != nil {
			s.appendLog("   $EDITOR: " + msg.err.Error())
		}
		return nil
	case engineDoneMsg:
		if msg.run != s.run {
			return nil
		}
		return s.finish(msg)
	case journalMsg:
		if msg.owner != s.id || msg.err != nil {
			return nil
		}
		s.journal = msg.journal
		s.syncJournal()
		s.sizeLog() // the live panel may have grown by the new key
		s.sizeQuestion()
		return s.runChecks()
	case keyCheckMsg:
		if msg.owner != s.id {
			return nil
		}
		if msg.audience != "" {
			s.audience = msg.audience
		}
		for _, k := range s.live {
			if k.kid == msg.kid && k.role == msg.role {
				k.running, k.have, k.last = false, true, msg.result
				k.samples = addSample(k.samples, sample{latency: msg.result.Latency, ok: msg.result.OK})
			}
		}
	case liveTickMsg:
		if msg.owner != s.id {
			return nil
		}
		return tea.Batch(s.runChecks(), liveTick(s.id, s.c.cfg.checkEvery))
	case consumerMsg:
		if msg.owner != s.id {
			return nil
		}
		s.traffic.add(msg.stats, msg.at)
		return consumerTick(s.id, s.c.cfg.consumerEvery, s.c.backend.Consumer, s.client.ID)
	default:
		if s.q != nil && s.q.msg.q.Kind == steps.TypeName {
			var cmd tea.Cmd
			s.q.input, cmd = s.q.input.Update(msg)
			return cmd
		}
	}
	return nil
}

// event takes one engine event into the stepper, the activity and the log.
func (s *rotationScreen) event(ev steps.Event) tea.Cmd {
	switch ev.Kind {
	case steps.StepStarted:
		s.current, s.started = ev.Step, true
		s.status[ev.Step] = stepRunning
		s.activity = nil
		s.byStep[ev.Step] = nil
		s.appendLog(fmt.Sprintf("== Step %d of %d %s %s", int(ev.Step)+1, len(steps.AllSteps), s.c.st.Mark.Dash, ev.Step))
	case steps.StepFinished:
		s.status[ev.Step] = stepDone
		s.appendLog("   " + ev.Step.String() + ": done")
		return tea.Batch(journalCmd(s.opts.TerraformDir, s.id, s.client.ID), s.runChecks())
	case steps.StepFailed:
		s.status[ev.Step] = stepFailed
		s.current, s.started = ev.Step, true
		s.activity = append(s.activity, entry{kind: entryBad, text: errText(ev.Err)})
		s.appendLog("   " + ev.Step.String() + ": FAILED: " + errText(ev.Err))
	case steps.Output:
		if ev.Text != "" {
			s.activity = append(s.activity, entry{kind: entryOutput, text: ev.Text})
			s.appendLog("   " + ev.Text)
		}
	case steps.Diff:
		e := entry{kind: entryDiff, text: ev.Text}
		s.activity = append(s.activity, e)
		s.byStep[ev.Step] = append(s.byStep[ev.Step], e)
		for _, l := range strings.Split(strings.TrimRight(ev.Text, "\n"), "\n") {
			s.appendLog("   " + l)
		}
	case steps.PlanReady:
		e := entry{kind: entryPlan, plan: ev.Plan, findings: ev.Findings}
		s.activity = append(s.activity, e)
		s.byStep[ev.Step] = append(s.byStep[ev.Step], e)
	case steps.CheckDone:
		if ev.Check != nil {
			s.checks = append(s.checks, engineCheck{step: ev.Step, check: *ev.Check})
			s.activity = append(s.activity, entry{kind: entryCheck, check: ev.Check})
			for _, k := range s.live {
				if k.kid == ev.Check.KID {
					k.samples = addSample(k.samples, sample{latency: ev.Check.Result.Latency, ok: ev.Check.Result.OK})
				}
			}
		}
	}
	return nil
}

func (s *rotationScreen) appendLog(line string) {
	s.log = append(s.log, line)
	if len(s.log) > maxLog {
		s.log = append(s.log[:0:0], s.log[len(s.log)-maxLog:]...)
	}
	if s.showLog {
		s.refreshLog()
	}
}

// refreshLog puts the log into its viewport, following the end if it was there.
func (s *rotationScreen) refreshLog() {
	follow := s.logView.AtBottom() || s.logView.TotalLineCount() == 0
	s.logView.SetContent(strings.Join(s.log, "\n"))
	if follow {
		s.logView.GotoBottom()
	}
}

// ask shows a question. Its yes button has the focus, unless it asks to go on despite
// preflight's warnings: each predicts an outage, so declining is the default.
func (s *rotationScreen) ask(msg questionMsg) {
	q := &pendingQuestion{msg: msg, applyFocused: len(msg.q.Warnings) == 0}
	if msg.q.Kind == steps.TypeName {
		q.input = textinput.New()
		q.input.Prompt = "> "
		q.input.PromptStyle = s.c.st.Accent
		q.input.PlaceholderStyle = s.c.st.Faint
		q.input.CharLimit = 512
	}
	s.q = q
	s.showLog = false
	s.sizeQuestion()
}

// answer sends the operator's answer to the engine.
func (s *rotationScreen) answer(a steps.Answer) tea.Cmd {
	q := s.q
	s.q = nil
	text := "Declined."
	if a.Yes {
		text = "Confirmed."
	}
	s.activity = append(s.activity, entry{kind: entryNote, text: q.msg.q.Title + " " + text})
	s.appendLog("   " + q.msg.q.Title + " " + text)
	return answerCmd(q.msg.reply, a)
}

// finish ends an engine run.
func (s *rotationScreen) finish(msg engineDoneMsg) tea.Cmd {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.stopping, s.q, s.confirm = false, nil, confirmNone
	s.result, s.err = msg.result, msg.err
	for i := range s.status {
		if s.status[i] == stepRunning {
			s.status[i] = stepPending
			if msg.err != nil {
				s.status[i] = stepFailed
			}
		}
	}
	reload := journalCmd(s.opts.TerraformDir, s.id, s.client.ID)
	switch {
	case msg.err != nil && !errors.Is(msg.err, steps.ErrAuditNotWritten): // without the record, the rotation still stands
		s.phase = phaseFailed
		s.appendLog("   stopped: " + errText(msg.err))
	case msg.abort:
		s.phase = phaseAborted
	case msg.result.Rerun != nil:
		s.phase = phaseRerun
	}
	switch {
	case s.quitAfter:
		return send(quitMsg{})
	case s.phase != phaseRunning:
		return reload
	}
	return send(rotationFinishedMsg{summary: doneSummary{
		result:  msg.result,
		checks:  s.checks,
		traffic: s.traffic.summary(),
	}})
}

// canAbort reports whether an abort can undo the rotation: its journal is in progress and
// retire's apply has not begun (after it, the old key may be gone and only going forward is
// safe). The engine checks the same before it undoes anything.
func (s *rotationScreen) canAbort() bool {
	j := s.journal
	return j != nil && j.Status == steps.StatusInProgress && !j.Done(steps.Retire) && !j.RetireApplying &&
		s.status[steps.Retire] != stepDone
}

func (s *rotationScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	if s.confirm != confirmNone {
		switch {
		case key.Matches(msg, k.Yes), key.Matches(msg, k.Interrupt):
			if s.confirm == confirmQuit {
				s.quitAfter = true
			}
			s.confirm = confirmNone
			s.stopping = true
			s.q = nil
			if s.cancel != nil {
				s.cancel()
			}
		case key.Matches(msg, k.No), msg.Type == tea.KeyEsc:
			s.confirm = confirmNone
		}
		return nil
	}
	switch s.phase {
	case phaseForm:
		return s.formKey(msg)
	case phaseRunning:
		return s.runningKey(msg)
	case phaseFailed:
		switch {
		case key.Matches(msg, k.Retry):
			return s.start(false)
		case key.Matches(msg, k.Abort) && s.canAbort():
			return s.start(true)
		case key.Matches(msg, k.Log):
			s.toggleLog()
		case key.Matches(msg, k.ExpandKeys):
			s.expandKeys = !s.expandKeys
		case key.Matches(msg, k.Back):
			return send(backMsg{reload: true})
		default:
			s.scroll(msg)
		}
	case phaseAborted:
		if key.Matches(msg, k.Finish) || key.Matches(msg, k.Back) {
			return send(backMsg{reload: true})
		}
	case phaseRerun:
		switch {
		case key.Matches(msg, k.Again):
			s.opts.Again = true
			return s.start(false)
		case key.Matches(msg, k.Back):
			return send(backMsg{reload: true})
		}
	}
	return nil
}

func (s *rotationScreen) runningKey(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	if s.stopping {
		if key.Matches(msg, k.Interrupt) {
			return send(quitMsg{}) // a second ctrl+c: leave now; Run still waits for the engine
		}
		if key.Matches(msg, k.Log) {
			s.toggleLog()
		}
		return nil
	}
	if key.Matches(msg, k.CancelStep) {
		s.confirm = confirmCancel
		return nil
	}
	typing := s.q != nil && s.q.msg.q.Kind == steps.TypeName
	if key.Matches(msg, k.ExpandKeys) && (!typing || msg.Type == tea.KeyCtrlX) {
		s.expandKeys = !s.expandKeys
		return nil
	}
	if q := s.q; typing {
		switch {
		case msg.Type == tea.KeyEnter:
			if q.input.Value() != q.msg.q.Expect {
				q.mismatch = true
				return nil
			}
			return s.answer(steps.Answer{Yes: true, Text: q.input.Value()})
		case msg.Type == tea.KeyUp, msg.Type == tea.KeyDown, msg.Type == tea.KeyPgUp, msg.Type == tea.KeyPgDown:
			s.scroll(msg)
			return nil
		}
		var cmd tea.Cmd
		q.input, cmd = q.input.Update(msg)
		q.mismatch = false
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		s.confirm = confirmQuit
	case key.Matches(msg, k.Log):
		s.toggleLog()
	case s.q == nil || s.showLog:
		s.scroll(msg) // a question is answered only while it is on screen
	case key.Matches(msg, k.Edit) && s.canEdit():
		q := s.q.msg.q
		return tea.ExecProcess(editorCommand(os.Getenv("EDITOR"), q.File, q.Line), func(err error) tea.Msg { return editorDoneMsg{err: err} })
	case key.Matches(msg, k.Apply):
		return s.answer(steps.Answer{Yes: true})
	case key.Matches(msg, k.No):
		return s.answer(steps.Answer{})
	case key.Matches(msg, k.Switch):
		s.q.applyFocused = !s.q.applyFocused
	case key.Matches(msg, k.Submit):
		return s.answer(steps.Answer{Yes: s.q.applyFocused})
	default:
		s.scroll(msg)
	}
	return nil
}

func (s *rotationScreen) toggleLog() {
	s.showLog = !s.showLog
	if s.showLog {
		s.sizeLog()
		s.refreshLog()
		s.logView.GotoBottom()
	}
}

// scroll moves the log or the question's viewport.
func (s *rotationScreen) scroll(msg tea.KeyMsg) {
	k := s.c.keys
	vp := &s.logView
	if !s.showLog {
		if s.q == nil {
			return
		}
		vp = &s.q.view
	}
	switch {
	case key.Matches(msg, k.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		vp.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		vp.PageUp()
	case key.Matches(msg, k.PageDown):
		vp.PageDown()
	case key.Matches(msg, k.Home):
		vp.GotoTop()
	case key.Matches(msg, k.End):
		vp.GotoBottom()
	}
}

// Layout.

// sideBySide reports whether the live panel sits right of the body (wide terminals).
func (s *rotationScreen) sideBySide() bool { return s.width >= 100 }

const sidePanelWidth = 34

// top is the title and the stepper, then a blank line.
const rotationTop = 3

// panelLines is the height of the bottom live panel.
func (s *rotationScreen) panelLines() int {
	n := 1 + max(len(s.live), 1)
	if s.c.backend.Consumer != nil {
		n++
	}
	return n
}

// bodySize is the room for the step's body.
func (s *rotationScreen) bodySize() (w, h int) {
	if s.phase == phaseForm {
		return s.width, max(s.height-rotationTop, 1)
	}
	if s.sideBySide() {
		return s.width - sidePanelWidth - 1, max(s.height-rotationTop, 1)
	}
	return s.width, max(s.height-rotationTop-s.panelLines(), 1)
}

func (s *rotationScreen) setSize(w, h int) {
	s.width, s.height = w, h
	s.sizeLog()
	s.sizeQuestion()
}

func (s *rotationScreen) sizeLog() {
	w, h := s.bodySize()
	s.logView.Width, s.logView.Height = w, max(h-1, 1)
	if s.showLog {
		s.refreshLog()
	}
}

// questionChrome is the number of body lines a question uses around its viewport.
func (s *rotationScreen) questionChrome(w int) int {
	q := s.q
	title := strings.Count(wrapText(q.msg.q.Title, w), "\n") + 1
	switch {
	case q.msg.q.Kind == steps.TypeName:
		return title + 4 // blank, prompt, input, mismatch
	case s.canEdit():
		return title + 3 // blank, where the editor opens, buttons
	}
	return title + 2 // blank, buttons
}

// sizeQuestion sizes the question's viewport and renders its content for the width.
func (s *rotationScreen) sizeQuestion() {
	if s.q == nil {
		return
	}
	w, h := s.bodySize()
	s.q.view.Width, s.q.view.Height = w, max(h-s.questionChrome(w), 1)
	s.q.view.SetContent(strings.Join(s.questionContent(s.q.msg.q, w), "\n"))
	s.q.input.Width = max(w-4, 10)
}

// questionContent is what a question shows: the step's plans and diffs, then its body and
// the findings the operator may accept.
func (s *rotationScreen) questionContent(q steps.Question, w int) []string {
	st := s.c.st
	var lines []string
	// The plan (what will change, and the guard's findings) first: it decides; the diff explains.
	for _, kind := range []entryKind{entryPlan, entryDiff} {
		for _, e := range s.byStep[q.Step] {
			if e.kind == kind {
				lines = append(lines, s.renderEntry(e, w)...)
			}
		}
	}
	for _, warn := range q.Warnings {
		lines = append(lines, wrapStyled(st.Warn, fmt.Sprintf("! [%s] %s", warn.Name, warn.Message), w)...)
	}
	if q.Body != "" && len(q.Warnings) == 0 { // a warnings question's body lists them as above
		lines = append(lines, renderDiffish(st, q.Body, w, s.expandKeys)...)
	}
	for _, f := range q.Findings {
		lines = append(lines, wrapStyled(st.Warn, fmt.Sprintf("! [%s] %s", f.Rule, f.Message), w)...)
	}
	if len(lines) == 0 {
		lines = append(lines, st.Subtle.Render("(nothing more to show)"))
	}
	return lines
}

// Rendering.

func (s *rotationScreen) view() string {
	lines := []string{s.titleLine(), s.stepper(), ""}
	if s.phase == phaseForm {
		return strings.Join(append(lines, s.formView()...), "\n")
	}
	bw, bh := s.bodySize()
	body := s.body(bw, bh)
	if len(body) > bh {
		body = body[:bh]
	}
	for len(body) < bh {
		body = append(body, "")
	}
	if s.sideBySide() {
		panel := s.panel(sidePanelWidth, true)
		sep := s.c.st.Rule.Render("│")
		if s.c.st.Plain {
			sep = "|"
		}
		for i, l := range body {
			p := ""
			if i < len(panel) {
				p = panel[i]
			}
			lines = append(lines, padStyled(l, bw)+sep+p)
		}
		return strings.Join(lines, "\n")
	}
	lines = append(lines, body...)
	lines = append(lines, s.panel(s.width, false)...)
	return strings.Join(lines, "\n")
}

// titleLine is "Step N of 8 — step", or what the screen shows instead.
func (s *rotationScreen) titleLine() string {
	st := s.c.st
	n := len(steps.AllSteps)
	var t string
	switch {
	case s.phase == phaseForm:
		t = st.Title.Render("New key for " + s.client.Name)
	case s.phase == phaseAborted:
		t = st.Title.Render("Rotation aborted")
	case s.phase == phaseRerun:
		t = st.Title.Render("Already rotated") + " " + st.Subtle.Render("nothing was done")
	case s.aborting && s.phase == phaseRunning:
		t = st.Title.Render("Aborting the rotation") + " " + st.Warn.Render("removing the new key again")
	case s.aborting:
		t = st.Title.Render("Aborting the rotation") + st.Bad.Render(": stopped")
	case !s.started:
		t = st.Title.Render(fmt.Sprintf("Step %s of %d", st.Mark.Dash, n)) + " " + st.Subtle.Render("starting the engine"+st.Mark.Ellipsis)
	default:
		t = st.Title.Render(fmt.Sprintf("Step %d of %d %s %s", int(s.current)+1, n, st.Mark.Dash, s.current))
		switch {
		case s.phase == phaseFailed:
			t += st.Bad.Render(": stopped")
		}
	}
	return ansi.Truncate(t, s.width, st.Mark.Ellipsis)
}

// stepper shows every step done, current, failed or pending; compact when the names do not fit.
func (s *rotationScreen) stepper() string {
	st := s.c.st
	mark := func(i int) string {
		switch s.status[i] {
		case stepDone:
			return st.Good.Render(st.Mark.Done)
		case stepRunning:
			return st.Accent.Render(st.Mark.Current)
		case stepFailed:
			return st.Bad.Render(st.Mark.Failed)
		}
		return st.Faint.Render(st.Mark.Pending)
	}
	var full, compact []string
	for i, step := range steps.AllSteps {
		name := step.String()
		styled := st.Subtle.Render(name)
		if s.status[i] == stepRunning || s.status[i] == stepFailed {
			styled = st.Bold.Render(name)
		}
		full = append(full, mark(i)+" "+styled)
		if s.status[i] == stepRunning || s.status[i] == stepFailed {
			compact = append(compact, mark(i)+" "+styled)
		} else {
			compact = append(compact, mark(i)+st.Faint.Render(strconv.Itoa(i+1)))
		}
	}
	line := strings.Join(full, "  ")
	if ansi.StringWidth(line) <= s.width {
		return line
	}
	line = strings.Join(compact, " ")
	return ansi.Truncate(line, s.width, "")
}

// body is the step's main area: the log, a question, the failure, the abort's result, or the
// step's activity.
func (s *rotationScreen) body(w, h int) []string {
	st := s.c.st
	var lines []string
	switch {
	case s.showLog:
		lines = append(lines, st.Subtle.Render(ansi.Truncate(fmt.Sprintf("Terraform and engine log (%d lines) %s l hides it", len(s.log), st.Mark.Dash), w, st.Mark.Ellipsis)))
		lines = append(lines, strings.Split(s.logView.View(), "\n")...)
	case s.phase == phaseFailed:
		lines = s.failedView(w)
	case s.phase == phaseAborted:
		lines = s.abortedView(w)
	case s.phase == phaseRerun:
		lines = s.rerunView(w)
	case s.q != nil:
		lines = s.questionView(w)
	default:
		lines = s.activityView(w, h)
	}
	if s.confirm != confirmNone {
		text := "Cancel the running step? Terraform will be interrupted and release its lock (y/n)"
		if s.confirm == confirmQuit {
			text = "Quit? The running step is cancelled first: Terraform will be interrupted and release its lock; the rotation resumes next time (y/n)"
		}
		dialog := append([]string{""}, wrapStyled(st.Warn.Bold(true), text, w)...)
		keep := max(h-len(dialog), 0)
		if len(lines) > keep {
			lines = lines[:keep]
		}
		for len(lines) < keep {
			lines = append(lines, "")
		}
		lines = append(lines, dialog...)
	}
	return lines
}

// activityView is the step's blurb, a spinner, and the latest of what happened.
func (s *rotationScreen) activityView(w, h int) []string {
	st := s.c.st
	var head []string
	if s.started {
		head = append(head, wrapStyled(st.Subtle, stepBlurb[s.current], w)...)
	}
	status := s.c.spin.View() + " "
	switch {
	case s.stopping:
		status += st.Warn.Render("Stopping safely: Terraform is interrupted and releases its lock" + st.Mark.Ellipsis)
	case s.aborting:
		status += "Aborting" + st.Mark.Ellipsis
	case !s.started:
		status += "Starting" + st.Mark.Ellipsis
	default:
		status += "Running " + s.current.String() + st.Mark.Ellipsis
	}
	head = append(head, ansi.Truncate(status, w, st.Mark.Ellipsis))
	var tail []string
	for _, e := range s.activity {
		tail = append(tail, s.renderEntry(e, w)...)
	}
	if room := h - len(head); len(tail) > room {
		tail = tail[len(tail)-max(room, 0):]
	}
	return append(head, tail...)
}

// renderEntry renders one activity entry at width w.
func (s *rotationScreen) renderEntry(e entry, w int) []string {
	st := s.c.st
	switch e.kind {
	case entryDiff:
		return renderDiffish(st, e.text, w, s.expandKeys)
	case entryPlan:
		return renderPlan(st, e.plan, e.findings, w)
	case entryCheck:
		return []string{ansi.Truncate(checkLine(st, e.check.Role, e.check.KID, e.check.Result, false), w, st.Mark.Ellipsis)}
	case entryNote:
		return wrapStyled(st.Accent, e.text, w)
	case entryBad:
		return wrapStyled(st.Bad, e.text, w)
	}
	return []string{ansi.Truncate(e.text, w, st.Mark.Ellipsis)}
}

func (s *rotationScreen) questionView(w int) []string {
	st := s.c.st
	q := s.q
	lines := wrapStyled(st.Title, q.msg.q.Title, w)
	lines = append(lines, strings.Split(q.view.View(), "\n")...)
	if q.view.AtBottom() {
		lines = append(lines, "")
	} else {
		lines = append(lines, st.Subtle.Render(ansi.Truncate(fmt.Sprintf("%s more below (%d%%): %s to scroll",
			st.Mark.Ellipsis, int(q.view.ScrollPercent()*100), s.c.keys.Scroll.Help().Key), w, st.Mark.Ellipsis)))
	}
	if q.msg.q.Kind == steps.TypeName {
		lines = append(lines, ansi.Truncate("Type "+st.Bold.Render(q.msg.q.Expect)+" exactly, then enter:", w, st.Mark.Ellipsis))
		lines = append(lines, q.input.View())
		if q.mismatch {
			lines = append(lines, st.Bad.Render(ansi.Truncate(st.Mark.Fail+" That is not the client's name; nothing was applied.", w, st.Mark.Ellipsis)))
		} else {
			lines = append(lines, "")
		}
		return lines
	}
	if s.canEdit() {
		file := q.msg.q.File
		if rel, err := filepath.Rel(s.opts.TerraformDir, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
		lines = append(lines, st.Subtle.Render(ansi.Truncate(fmt.Sprintf("e opens $EDITOR at %s:%d; y plans once you saved", file, q.msg.q.Line), w, st.Mark.Ellipsis)))
	}
	yes := proceedLabel(q.msg.q)
	buttons := st.button(yes, q.applyFocused) + " " + st.button("Decline", !q.applyFocused) + "  " +
		st.Subtle.Render("y "+strings.ToLower(yes)+" "+st.Mark.Dot+" n decline")
	return append(lines, ansi.Truncate(buttons, w, st.Mark.Ellipsis))
}

// canEdit reports whether the question on screen is an edit the operator makes and $EDITOR
// can open where it belongs.
func (s *rotationScreen) canEdit() bool {
	return s.q != nil && s.q.msg.q.Kind == steps.EditYourself && s.q.msg.q.File != "" && os.Getenv("EDITOR") != ""
}

// editorCommand opens file at line in editor ($EDITOR, which may carry arguments, e.g.
// "code -w"), with the +LINE argument vi, nano and emacs read.
func editorCommand(editor, file string, line int) *exec.Cmd {
	return exec.Command("sh", "-c", editor+` "$@"`, "editor", fmt.Sprintf("+%d", line), file)
}

// proceedLabel is what yes does at a gate.
func proceedLabel(q steps.Question) string {
	switch {
	case q.Kind == steps.EditYourself:
		return "Plan"
	case len(q.Findings) > 0, len(q.Warnings) > 0:
		return "Accept"
	case strings.HasPrefix(q.Title, "Apply"):
		return "Apply"
	}
	return "Continue"
}

func (s *rotationScreen) failedView(w int) []string {
	st := s.c.st
	var lines []string
	what := "The rotation stopped."
	if s.aborting {
		what = "The abort stopped."
	}
	lines = append(lines, st.Bad.Render(st.Mark.Fail+" "+what))
	lines = append(lines, wrapStyled(st.Text, describeErr(s.err), w)...)
	lines = append(lines, "", st.Title.Render("What now"))
	opt := func(k, text string) {
		lines = append(lines, wrapHanging(st.Accent.Render(st.pad(k, 3)), text, w)...)
	}
	opt("r", "retry: runs the rotation again; it resumes where it stopped")
	switch j := s.journal; {
	case s.canAbort():
		opt("a", "abort: removes the new key again (if attached); the old key was never touched")
	case j == nil || j.Status != steps.StatusInProgress:
		opt("a", st.Subtle.Render("nothing to abort: no rotation is in progress (nothing was changed)"))
	default:
		opt("a", st.Subtle.Render("abort is no longer possible: retire's apply began, so the old key may be gone; r finishes the rotation"))
	}
	opt("q", "quit: the journal keeps the progress; run rekey again to resume")
	opt("l", "show the Terraform and engine log")
	return lines
}

func (s *rotationScreen) abortedView(w int) []string {
	st := s.c.st
	r := s.result
	lines := []string{st.Good.Render(st.Mark.OK + " The rotation was aborted")}
	text := "No new key was made, so nothing had to be undone."
	switch {
	case r.NewKID != "" && s.status[steps.Attach] == stepDone:
		text = fmt.Sprintf("The new key %s was detached again and its entry left the service's configuration.", r.NewKID)
	case r.NewKID != "":
		text = fmt.Sprintf("The new key %s was never attached; its entry left the service's configuration.", r.NewKID)
	}
	if r.OldKID != "" {
		text += fmt.Sprintf(" The old key %s was never touched.", r.OldKID)
	}
	lines = append(lines, wrapStyled(st.Text, text, w)...)
	lines = append(lines, "")
	if r.AuditLog != "" {
		lines = append(lines, pathLines(st, "audit log", r.AuditLog, w)...)
	}
	if r.Journal != "" {
		lines = append(lines, pathLines(st, "journal of the aborted rotation", r.Journal, w)...)
	}
	return append(lines, "", st.Subtle.Render("enter: back to the clients"))
}

// rerunView says when and by whom the client was rotated, and how to rotate it again anyway.
func (s *rotationScreen) rerunView(w int) []string {
	st := s.c.st
	r := s.result.Rerun
	text := fmt.Sprintf("%s was rotated %s by %s: its only attached key, %s, is the one that rotation put in place. Nothing was done.",
		s.client.Name, r.FinishedAt.Local().Format("2006-01-02 15:04 MST"), cmp.Or(r.Operator, "rekey"), s.result.NewKID)
	lines := wrapStyled(st.Good, text, w)
	lines = append(lines, "")
	lines = append(lines, wrapStyled(st.Text, fmt.Sprintf("Until %s another rotation of it is taken for a rerun. r rotates it again anyway (rekey rotate --again).", r.Until.Local().Format("2006-01-02 15:04 MST")), w)...)
	if r.Journal != "" {
		lines = append(lines, "")
		lines = append(lines, pathLines(st, "journal of that rotation", r.Journal, w)...)
	}
	return lines
}

func (s *rotationScreen) helpKeys() help.KeyMap {
	k := s.c.keys
	switch {
	case s.confirm != confirmNone:
		return k.ConfirmHelp()
	case s.phase == phaseForm:
		return k.FormHelp()
	case s.phase == phaseFailed:
		return k.FailedHelp(s.canAbort())
	case s.phase == phaseAborted:
		return k.AbortedHelp()
	case s.phase == phaseRerun:
		return k.RerunHelp()
	case s.showLog:
		return k.RunningHelp(true)
	case s.q != nil && s.q.msg.q.Kind == steps.TypeName:
		return k.TypeNameHelp()
	case s.q != nil:
		return k.ProceedHelp(strings.ToLower(proceedLabel(s.q.msg.q)), s.canEdit())
	}
	return k.RunningHelp(s.showLog)
}

func (s *rotationScreen) capturing() bool {
	return s.phase == phaseRunning && s.q != nil && s.q.msg.q.Kind == steps.TypeName && s.confirm == confirmNone && !s.stopping
}

func (s *rotationScreen) busy() bool { return s.phase == phaseRunning }
