package ui

// The rotation screen's new-key form: Generate's choices, asked before the engine starts.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"rekey/steps"
)

// The new-key form's choices.
var (
	formAlgs    = []string{"RS256", "RS384", "PS256"}
	formBits    = []int{2048, 3072, 4096}
	formDays    = []int{0, 90, 180, 365, 730}
	maxCertDays = 36500
)

// genForm is the new-key form: Generate's choices, defaults preselected.
type genForm struct {
	field int // 0 algorithm, 1 size, 2 certificate days
	alg   int
	bits  int
	days  string
}

func newGenForm() genForm {
	return genForm{alg: slices.Index(formAlgs, steps.DefaultAlg), bits: slices.Index(formBits, steps.DefaultBits), days: "0"}
}

// certDays is the number of days, or an error to show.
func (f genForm) certDays() (int, error) {
	n, err := strconv.Atoi(f.days)
	if err != nil || n < 0 || n > maxCertDays {
		return 0, fmt.Errorf("certificate validity: a number of days from 0 to %d", maxCertDays)
	}
	return n, nil
}

func (s *rotationScreen) formKey(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	f := &s.form
	s.formErr = ""
	switch {
	case key.Matches(msg, k.Start):
		days, err := f.certDays()
		if err != nil {
			s.formErr = err.Error()
			return nil
		}
		s.opts = s.base
		s.opts.Client = s.client.ID
		s.opts.Alg, s.opts.Bits, s.opts.CertDays = formAlgs[f.alg], formBits[f.bits], days
		return s.start(false)
	case key.Matches(msg, k.Back):
		return send(backToClientMsg{})
	case key.Matches(msg, k.NextField):
		f.field = (f.field + 1) % 3
	case key.Matches(msg, k.PrevField):
		f.field = (f.field + 2) % 3
	case key.Matches(msg, k.Left), key.Matches(msg, k.Right):
		d := 1
		if key.Matches(msg, k.Left) {
			d = -1
		}
		switch f.field {
		case 0:
			f.alg = (f.alg + d + len(formAlgs)) % len(formAlgs)
		case 1:
			f.bits = (f.bits + d + len(formBits)) % len(formBits)
		case 2:
			cur, _ := strconv.Atoi(f.days)
			i := slices.IndexFunc(formDays, func(n int) bool { return n >= cur })
			switch {
			case i < 0:
				i = len(formDays) - 1
			case d < 0 && formDays[i] == cur:
				i = max(i-1, 0)
			case d < 0:
				i = max(i-1, 0)
			case formDays[i] == cur:
				i = min(i+1, len(formDays)-1)
			}
			f.days = strconv.Itoa(formDays[i])
		}
	case f.field == 2 && msg.Type == tea.KeyBackspace:
		if len(f.days) > 0 {
			f.days = f.days[:len(f.days)-1]
		}
		if f.days == "" {
			f.days = "0"
		}
	case f.field == 2 && msg.Type == tea.KeyRunes:
		for _, r := range msg.Runes {
			if r < '0' || r > '9' || len(f.days) >= 5 {
				continue
			}
			if f.days == "0" {
				f.days = ""
			}
			f.days += string(r)
		}
	}
	return nil
}

func (s *rotationScreen) formView() []string {
	st := s.c.st
	f := s.form
	choice := func(field int, opts []string, sel int) string {
		var parts []string
		for i, o := range opts {
			switch {
			case i == sel && f.field == field:
				parts = append(parts, st.Selected.Render("["+o+"]"))
			case i == sel:
				parts = append(parts, st.Bold.Render("["+o+"]"))
			default:
				parts = append(parts, st.Subtle.Render(" "+o+" "))
			}
		}
		return strings.Join(parts, " ")
	}
	label := func(field int, text string) string {
		cur := st.Mark.NoCursor
		if f.field == field {
			cur = st.Mark.Cursor
		}
		return cur + st.pad(text, 13)
	}
	bits := make([]string, len(formBits))
	for i, b := range formBits {
		bits[i] = strconv.Itoa(b)
	}
	days := f.days
	if f.field == 2 {
		days = st.Selected.Render("[" + days + "]")
	} else {
		days = st.Bold.Render("[" + days + "]")
	}
	hint := "0 = no certificate"
	if d, err := f.certDays(); err == nil && d > 0 {
		hint = fmt.Sprintf("self-signed certificate; the key expires in %d days", d)
	}
	lines := []string{
		st.Subtle.Render(ansi.Truncate("Generate's choices. Enter accepts them and starts the rotation.", s.width, st.Mark.Ellipsis)),
		"",
		label(0, "Algorithm") + choice(0, formAlgs, f.alg),
		label(1, "Key size") + choice(1, bits, f.bits) + st.Subtle.Render(" bits"),
		label(2, "Certificate") + days + " " + st.Subtle.Render("days ("+hint+")"),
		"",
		"  " + st.button("Start rotation", true),
	}
	if s.formErr != "" {
		lines = append(lines, "", st.Bad.Render(indentWrap(s.formErr, s.width, 2)))
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, s.width, st.Mark.Ellipsis)
	}
	return lines
}
