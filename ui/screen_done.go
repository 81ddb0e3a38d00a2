package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"rekey/steps"
)

// trafficSummary is what the demo consumer did while the rotation screen was open.
type trafficSummary struct {
	requests, failures int64
	lastKID            string // the key of its latest successes
	lastErr            string
}

// engineCheck is a live check the engine ran, with its step.
type engineCheck struct {
	step  steps.Step
	check steps.KeyCheck
}

// doneSummary is what the done screen shows.
type doneSummary struct {
	result  steps.Result
	checks  []engineCheck
	traffic *trafficSummary
}

// doneScreen shows what a finished rotation changed, its checks, and where its record is.
type doneScreen struct {
	c      *common
	sum    doneSummary
	width  int
	height int
}

func newDoneScreen(c *common, sum doneSummary) *doneScreen {
	return &doneScreen{c: c, sum: sum, width: 80, height: 20}
}

func (s *doneScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(tea.KeyMsg); ok && (key.Matches(msg, s.c.keys.Finish) || key.Matches(msg, s.c.keys.Back)) {
		return send(backMsg{reload: true})
	}
	return nil
}

func (s *doneScreen) view() string {
	st := s.c.st
	r := s.sum.result
	w := s.width
	var lines []string
	add := func(l ...string) { lines = append(lines, l...) }
	title := st.Good.Bold(true).Render(st.Mark.OK + " Rotated " + r.ClientName)
	if r.OldKID != "" && r.NewKID != "" {
		title += ": " + shortKID(r.OldKID) + " " + st.Mark.Arrow + " " + shortKID(r.NewKID)
	}
	add(ansi.Truncate(title, w, st.Mark.Ellipsis), "")
	field := func(label, value string) {
		add(wrapHanging(st.Subtle.Render(st.pad(label, 9)), value, w)...)
	}
	field("old key", r.OldKID+st.Subtle.Render(" (retired)"))
	field("new key", r.NewKID+st.Subtle.Render(" (current)"))
	var done []string
	all := len(r.Steps) > 0
	for _, sr := range r.Steps {
		mark := st.Good.Render(st.Mark.Done)
		if sr.Status != "done" {
			mark, all = st.Warn.Render(st.Mark.Pending), false
		}
		done = append(done, mark+" "+sr.Step)
	}
	switch {
	case all:
		field("steps", st.Good.Render(fmt.Sprintf("%s all %d done", st.Mark.Done, len(r.Steps))))
	case len(done) > 0:
		field("steps", strings.Join(done, " "))
	}
	add("", st.Title.Render("Checks"))
	add(s.checkLines(w)...)
	if t := s.sum.traffic; t != nil {
		text := fmt.Sprintf("%s token requests during the rotation, ", thousands(int(t.requests)))
		if t.failures == 0 {
			text += st.Good.Render("none failed")
		} else {
			text += st.Bad.Render(fmt.Sprintf("%d failed", t.failures))
			if t.lastErr != "" {
				text += st.Bad.Render(" (last: " + t.lastErr + ")")
			}
		}
		switch {
		case t.lastKID != "" && t.lastKID == r.NewKID:
			text += fmt.Sprintf("; now signing with %s (the new key)", shortKID(t.lastKID))
		case t.lastKID != "" && t.lastKID == r.OldKID:
			text += fmt.Sprintf("; now signing with %s (the old key)", shortKID(t.lastKID))
		case t.lastKID != "":
			text += fmt.Sprintf("; it signs with %s, another client's key", shortKID(t.lastKID))
		}
		add("", st.Title.Render("Demo consumer"))
		add(strings.Split(indentWrap(text, w, 2), "\n")...)
	}
	add("", st.Title.Render("Record"))
	if r.AuditError != "" {
		add(wrapStyled(st.Bad, st.Mark.Failed+" the audit record was not written: "+r.AuditError+". The rotation stands; the journal keeps it.", w)...)
	}
	if r.AuditLog != "" {
		add(pathLines(st, "audit log (one JSON line per rotation)", r.AuditLog, w)...)
	}
	if r.Journal != "" {
		add(pathLines(st, "journal of this rotation", r.Journal, w)...)
	}
	return strings.Join(lines, "\n")
}

// checkLines sums up the engine's checks by step and key: how many passed, and the last result.
func (s *doneScreen) checkLines(w int) []string {
	st := s.c.st
	type slot struct {
		step steps.Step
		role string
	}
	type tally struct {
		ok, total int
		last      steps.KeyCheck
	}
	tallies := map[slot]*tally{}
	var order []slot
	for _, c := range s.sum.checks {
		k := slot{c.step, c.check.Role}
		t := tallies[k]
		if t == nil {
			t = &tally{}
			tallies[k] = t
			order = append(order, k)
		}
		t.total++
		if c.check.Result.OK {
			t.ok++
		}
		t.last = c.check
	}
	if len(order) == 0 {
		return []string{"  " + st.Subtle.Render("no live checks ran (no private key known here)")}
	}
	var out []string
	for _, k := range order {
		t := tallies[k]
		line := checkLine(st, t.last.Role, t.last.KID, t.last.Result, k.step == steps.Confirm && k.role == "old")
		if t.total > 1 {
			line += st.Subtle.Render(fmt.Sprintf(" (%d of %d ok)", t.ok, t.total))
		}
		out = append(out, "  "+st.Subtle.Render(st.pad(k.step.String(), 9))+" "+ansi.Truncate(line, max(w-12, 10), st.Mark.Ellipsis))
	}
	return out
}

func (s *doneScreen) setSize(w, h int)      { s.width, s.height = w, h }
func (s *doneScreen) helpKeys() help.KeyMap { return s.c.keys.DoneHelp() }
func (s *doneScreen) capturing() bool       { return false }
func (s *doneScreen) busy() bool            { return false }
