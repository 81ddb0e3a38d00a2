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
	formAlgs = []string{"RS256", "RS384", "PS256"}
	formBits = []int{2048, 3072, 4096}
	formDays = []int{0, 30, 90, 180, 365, 730}
)

// The form's fields, in order.
const (
	fieldAlg = iota
	fieldBits
	fieldCert
	fieldExpiry
	formFields
)

// genForm is the new-key form: Generate's choices, preselected like the current key (like).
type genForm struct {
	like  steps.KeyShape
	field int
	alg   int
	bits  int
	days  [formFields]string // the certificate and expiry fields' text
}

func newGenForm(like steps.KeyShape) genForm {
	f := genForm{like: like, alg: max(0, slices.Index(formAlgs, like.Alg)), bits: max(0, slices.Index(formBits, like.Bits))}
	f.days[fieldCert], f.days[fieldExpiry] = strconv.Itoa(like.CertDays), strconv.Itoa(like.ExpiryDays)
	return f
}

// dayCount is a days field's number, or an error to show.
func (f genForm) dayCount(field int) (int, error) {
	n, err := strconv.Atoi(f.days[field])
	if err != nil || n < 0 || n > steps.MaxDays {
		what := map[int]string{fieldCert: "certificate validity", fieldExpiry: "explicit expiry"}[field]
		return 0, fmt.Errorf("%s: a number of days from 0 to %d", what, steps.MaxDays)
	}
	return n, nil
}

// apply sets the options the operator changed from the current key's shape; what is left
// unset, the engine makes like the current key.
func (f genForm) apply(o *steps.Options) error {
	cert, err := f.dayCount(fieldCert)
	if err != nil {
		return err
	}
	expiry, err := f.dayCount(fieldExpiry)
	if err != nil {
		return err
	}
	if cert > 0 && expiry > 0 {
		return fmt.Errorf("a certificate's notAfter already sets the expiry: set the certificate or the explicit expiry to 0")
	}
	if alg := formAlgs[f.alg]; alg != f.like.Alg {
		o.Alg = alg
	}
	if bits := formBits[f.bits]; bits != f.like.Bits {
		o.Bits = bits
	}
	if cert != f.like.CertDays {
		o.CertDays = &cert
	}
	if expiry != f.like.ExpiryDays {
		o.ExpiryDays = &expiry
	}
	return nil
}

func (s *rotationScreen) formKey(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	f := &s.form
	s.formErr = ""
	switch {
	case key.Matches(msg, k.Start):
		s.opts = s.base
		s.opts.Client = s.client.ID
		if err := f.apply(&s.opts); err != nil {
			s.formErr = err.Error()
			return nil
		}
		return s.start(false)
	case key.Matches(msg, k.Back):
		return send(backToClientMsg{})
	case key.Matches(msg, k.NextField):
		f.field = (f.field + 1) % formFields
	case key.Matches(msg, k.PrevField):
		f.field = (f.field + formFields - 1) % formFields
	case key.Matches(msg, k.Left), key.Matches(msg, k.Right):
		d := 1
		if key.Matches(msg, k.Left) {
			d = -1
		}
		switch f.field {
		case fieldAlg:
			f.alg = (f.alg + d + len(formAlgs)) % len(formAlgs)
		case fieldBits:
			f.bits = (f.bits + d + len(formBits)) % len(formBits)
		default:
			f.days[f.field] = strconv.Itoa(stepDays(f.days[f.field], d))
		}
	case f.field >= fieldCert && msg.Type == tea.KeyBackspace:
		days := &f.days[f.field]
		if *days = (*days)[:max(0, len(*days)-1)]; *days == "" {
			*days = "0"
		}
	case f.field >= fieldCert && msg.Type == tea.KeyRunes:
		days := &f.days[f.field]
		for _, r := range msg.Runes {
			if r < '0' || r > '9' || len(*days) >= 5 {
				continue
			}
			if *days == "0" {
				*days = ""
			}
			*days += string(r)
		}
	}
	return nil
}

// stepDays moves a days field to the next (d > 0) or previous preset from its value.
func stepDays(text string, d int) int {
	cur, _ := strconv.Atoi(text)
	i := slices.IndexFunc(formDays, func(n int) bool { return n >= cur })
	switch {
	case i < 0:
		return formDays[len(formDays)-1]
	case d < 0:
		return formDays[max(i-1, 0)]
	case formDays[i] == cur:
		return formDays[min(i+1, len(formDays)-1)]
	}
	return formDays[i]
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
	days := func(field int) string {
		if f.field == field {
			return st.Selected.Render("[" + f.days[field] + "]")
		}
		return st.Bold.Render("[" + f.days[field] + "]")
	}
	// like says where a choice that matches the preselected shape came from.
	like := func(part string, same bool) string {
		if !same {
			return ""
		}
		return st.Subtle.Render("  " + f.like.From[part])
	}
	certHint := "0 = a bare public key"
	if d, err := f.dayCount(fieldCert); err == nil && d > 0 {
		certHint = fmt.Sprintf("self-signed, expires in %d days", d)
	}
	expiryHint := "0 = no explicit expires_at"
	if d, err := f.dayCount(fieldExpiry); err == nil && d > 0 {
		expiryHint = fmt.Sprintf("expires_at %d days on", d)
	}
	lines := []string{
		st.Subtle.Render(ansi.Truncate("The new key, made like the current one. Enter accepts and starts the rotation.", s.width, st.Mark.Ellipsis)),
		"",
		label(fieldAlg, "Algorithm") + choice(fieldAlg, formAlgs, f.alg) + like("alg", formAlgs[f.alg] == f.like.Alg),
		label(fieldBits, "Key size") + choice(fieldBits, bits, f.bits) + st.Subtle.Render(" bits") + like("bits", formBits[f.bits] == f.like.Bits),
		label(fieldCert, "Certificate") + days(fieldCert) + " " + st.Subtle.Render("days ("+certHint+")") + like("cert", f.days[fieldCert] == strconv.Itoa(f.like.CertDays)),
		label(fieldExpiry, "Expiry") + days(fieldExpiry) + " " + st.Subtle.Render("days ("+expiryHint+")") + like("expiry", f.days[fieldExpiry] == strconv.Itoa(f.like.ExpiryDays)),
		"",
		"  " + st.button("Start rotation", true),
	}
	if s.formErr != "" {
		lines = append(lines, "")
		for _, l := range strings.Split(indentWrap(s.formErr, s.width, 2), "\n") {
			lines = append(lines, st.Bad.Render(l))
		}
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, s.width, st.Mark.Ellipsis)
	}
	return lines
}
