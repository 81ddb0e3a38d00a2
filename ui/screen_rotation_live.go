package ui

// The rotation screen's live panel: checks of the old and new keys while the rotation runs,
// and the sandbox demo consumer's traffic.

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"rekey/consumer"
	"rekey/steps"
	"rekey/tenant"
)

// liveKey is a key checked live during the rotation.
type liveKey struct {
	role, kid, alg, file string
	running              bool
	have                 bool
	last                 tenant.CheckResult
	samples              []sample
}

// traffic follows the sandbox demo consumer's counters.
type traffic struct {
	first, prev *consumer.Stats
	prevAt      time.Time
	rate        float64 // requests per second over the last poll
	lastKID     string  // the key its most recent successes used
}

func (t *traffic) add(snap *consumer.Stats, at time.Time) {
	if snap == nil {
		return
	}
	if t.first == nil {
		t.first, t.prev, t.prevAt = snap, snap, at
		return
	}
	if dt := at.Sub(t.prevAt).Seconds(); dt > 0 {
		t.rate = float64(snap.Requests-t.prev.Requests) / dt
	}
	best, most := "", int64(0)
	for kid, n := range snap.ByKID {
		if d := n - t.prev.ByKID[kid]; d > most || d == most && d > 0 && kid < best {
			best, most = kid, d
		}
	}
	if best != "" {
		t.lastKID = best
	}
	t.prev, t.prevAt = snap, at
}

// summary is the traffic since the rotation screen opened.
func (t *traffic) summary() *trafficSummary {
	if t.first == nil {
		return nil
	}
	return &trafficSummary{
		requests: t.prev.Requests - t.first.Requests,
		failures: t.prev.Failures - t.first.Failures,
		lastKID:  t.lastKID,
		lastErr:  t.prev.LastError,
	}
}

// checkable says whether a key is checked now, or why not. The old key is left alone from
// verify's end until retire is done: the retire gate refuses a key a service used after
// promote, and a check is a use. The new key only works once attached.
func (s *rotationScreen) checkable(k *liveKey) (bool, string) {
	switch {
	case k.file == "":
		return false, "private key not known here"
	case k.role == "old" && (s.status[steps.Verify] == stepDone || s.status[steps.Promote] != stepPending) && s.status[steps.Retire] != stepDone:
		return false, "paused: retire needs it unused"
	case k.role == "new" && s.status[steps.Attach] != stepDone:
		return false, "waiting for attach"
	}
	return true, ""
}

// expectRejection reports whether a key is supposed to fail now: the old key once retired.
func (s *rotationScreen) expectRejection(k *liveKey) bool {
	return k.role == "old" && s.status[steps.Retire] == stepDone
}

// runChecks starts a live check of every checkable key that is not being checked.
func (s *rotationScreen) runChecks() tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range s.live {
		if ok, _ := s.checkable(k); !ok || k.running {
			continue
		}
		k.running = true
		cmds = append(cmds, checkKeyCmd(s.c.life, s.c.backend.Tenant, s.id, s.client.ID, checkSpec{role: k.role, kid: k.kid, alg: k.alg, file: k.file}, s.audience))
	}
	return tea.Batch(cmds...)
}

// panel is the live checks and the demo consumer's traffic: a side panel of width w, or the
// bottom panel (one line per key).
func (s *rotationScreen) panel(w int, side bool) []string {
	st := s.c.st
	title := "Live checks"
	var lines []string
	if side {
		lines = append(lines, " "+st.Title.Render(title))
	} else {
		rule := st.Mark.Rule + st.Mark.Rule + " " + title + " "
		lines = append(lines, st.Rule.Render(rule+strings.Repeat(st.Mark.Rule, max(w-ansi.StringWidth(rule), 0))))
	}
	if len(s.live) == 0 {
		lines = append(lines, " "+st.Subtle.Render("no key of this client is known"))
	}
	for _, k := range s.live {
		head := fmt.Sprintf("%-3s %s", k.role, shortKID(k.kid))
		state := s.liveState(k)
		spark := sparkline(k.samples, 12, st.Mark)
		if side {
			lines = append(lines, " "+st.Bold.Render(head))
			lines = append(lines, "   "+ansi.Truncate(state, w-3, st.Mark.Ellipsis))
			if spark != "" {
				lines = append(lines, "   "+st.Accent.Render(spark))
			}
			continue
		}
		line := " " + st.Bold.Render(head) + "  " + state
		if spark != "" {
			line += "  " + st.Accent.Render(spark)
		}
		lines = append(lines, ansi.Truncate(line, w, st.Mark.Ellipsis))
	}
	if s.c.backend.Consumer != nil {
		lines = append(lines, s.consumerLines(w, side)...)
	}
	return lines
}

// liveState is a key's latest check: ok with latency, failing, or why it is not checked.
func (s *rotationScreen) liveState(k *liveKey) string {
	st := s.c.st
	ok, why := s.checkable(k)
	switch {
	case !ok && !(k.have && k.role == "old" && s.status[steps.Retire] == stepDone):
		return st.Subtle.Render(why)
	case !k.have && k.running:
		return s.c.spin.View() + " checking"
	case !k.have:
		return st.Subtle.Render("not checked yet")
	}
	return checkLine(st, "", "", k.last, s.expectRejection(k))
}

func (s *rotationScreen) consumerLines(w int, side bool) []string {
	st := s.c.st
	t := s.traffic.summary()
	if t == nil {
		if side {
			return []string{"", " " + st.Title.Render("Demo consumer"), "   " + st.Subtle.Render("waiting"+st.Mark.Ellipsis)}
		}
		return []string{" " + st.Subtle.Render("consumer: waiting"+st.Mark.Ellipsis)}
	}
	fails := st.Good.Render("0 failed")
	if t.failures > 0 {
		fails = st.Bad.Render(fmt.Sprintf("%d failed", t.failures))
	}
	using := st.Subtle.Render("no success yet")
	if t.lastKID != "" {
		using = "signing with " + shortKID(t.lastKID) + s.roleOf(t.lastKID)
		if s.roleOf(t.lastKID) == "" {
			using += st.Subtle.Render(" (another client's key)")
		}
	}
	reqs := fmt.Sprintf("%s req %s %.0f/s", thousands(int(t.requests)), st.Mark.Dot, s.traffic.rate)
	if side {
		return []string{
			"",
			" " + st.Title.Render("Demo consumer"),
			"   " + reqs,
			"   " + fails,
			"   " + ansi.Truncate(using, w-3, st.Mark.Ellipsis),
		}
	}
	return []string{ansi.Truncate(" consumer: "+reqs+" "+st.Mark.Dot+" "+fails+" "+st.Mark.Dot+" "+using, w, st.Mark.Ellipsis)}
}

// roleOf names a kid's role in the rotation, for the consumer line.
func (s *rotationScreen) roleOf(kid string) string {
	for _, k := range s.live {
		if k.kid == kid {
			return " (" + k.role + ")"
		}
	}
	return ""
}
