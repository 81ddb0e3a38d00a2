package ui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"rekey/keys"
	"rekey/steps"
	"rekey/tenant"
	"rekey/tfrunner"
)

// Rendering helpers the screens share.

// checkLine is one check result: ok with latency, or the failure (or an expected rejection),
// after "role key kid:" when role is given.
func checkLine(st Styles, role, kid string, r tenant.CheckResult, expectReject bool) string {
	who := ""
	if role != "" {
		who = role + " key " + shortKID(kid) + ": "
	}
	switch {
	case r.OK:
		return who + st.Good.Render(fmt.Sprintf("%s %d ms", st.Mark.OK, r.Latency.Milliseconds()))
	case expectReject && r.Status == 401:
		return who + st.Good.Render(st.Mark.OK+" rejected, as expected")
	}
	return who + st.Bad.Render(st.Mark.Fail+" "+steps.DescribeCheck(r))
}

// renderDiffish colours a unified diff (and leaves other text plain), wrapping long lines. It
// counts each hunk's lines from its "@@ -a,b +c,d @@" header, so that a removed line whose
// text starts with "--" (a PEM's "-----BEGIN") is a removal, not a file header. A wrapped diff
// line repeats its marker on each continuation. Unless expandKeys, each PEM block is one line
// that names its key.
func renderDiffish(st Styles, text string, w int, expandKeys bool) []string {
	lines := classifyDiff(st, text)
	if !expandKeys {
		lines = collapseKeys(st, lines)
	}
	width := max(w, 2)
	var out []string
	for _, l := range lines {
		for _, part := range strings.Split(ansi.Hardwrap(l.body, width-len(l.marker), true), "\n") {
			out = append(out, l.style.Render(l.marker+part))
		}
	}
	return out
}

// diffLine is one line of a diff: its marker ("+", "-", " ", or "" outside hunks) and the rest.
type diffLine struct {
	style        lipgloss.Style
	marker, body string
}

// classifyDiff styles each line by where it is: a file header, a hunk header, or a hunk's line.
func classifyDiff(st Styles, text string) []diffLine {
	var (
		out        []diffLine
		oldN, newN int                            // lines of the current hunk still to come
		hunked     = hunkHeader.MatchString(text) // else a bare listing of +/- lines
	)
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		header := strings.HasPrefix(l, "+++ ") || strings.HasPrefix(l, "--- ")
		inHunk := oldN > 0 || newN > 0 || !hunked && !header
		switch {
		case inHunk && strings.HasPrefix(l, "-"):
			oldN--
			out = append(out, diffLine{st.DiffDel, "-", l[1:]})
		case inHunk && strings.HasPrefix(l, "+"):
			newN--
			out = append(out, diffLine{st.DiffAdd, "+", l[1:]})
		case inHunk && hunked && (strings.HasPrefix(l, " ") || l == ""):
			oldN, newN = oldN-1, newN-1
			out = append(out, diffLine{st.Text, " ", strings.TrimPrefix(l, " ")})
		case strings.HasPrefix(l, "@@"):
			oldN, newN = hunkLengths(l)
			out = append(out, diffLine{st.DiffHunk, "", l})
		case header:
			out = append(out, diffLine{st.DiffFile, "", l})
		default:
			out = append(out, diffLine{st.Text, "", l})
		}
	}
	return out
}

// pemBegin and pemEnd are a PEM block's armour lines.
var (
	pemBegin = regexp.MustCompile(`^(\s*)-----BEGIN ([A-Z0-9 ]+)-----\s*$`)
	pemEnd   = regexp.MustCompile(`^\s*-----END ([A-Z0-9 ]+)-----\s*$`)
)

// collapseKeys replaces each PEM block whose lines share one marker with a single line naming
// it: "… RSA 3072 certificate, kid aaxmkzfa (20 lines)".
func collapseKeys(st Styles, lines []diffLine) []diffLine {
	var out []diffLine
	for i := 0; i < len(lines); i++ {
		begin := pemBegin.FindStringSubmatch(lines[i].body)
		end := -1
		for j := i + 1; begin != nil && j < len(lines) && lines[j].marker == lines[i].marker; j++ {
			if m := pemEnd.FindStringSubmatch(lines[j].body); m != nil {
				if m[1] == begin[2] {
					end = j
				}
				break
			}
		}
		if end < 0 {
			out = append(out, lines[i])
			continue
		}
		var block strings.Builder
		for _, l := range lines[i : end+1] {
			block.WriteString(strings.TrimSpace(l.body) + "\n")
		}
		summary := fmt.Sprintf("%s%s %s (%d lines)", begin[1], st.Mark.Ellipsis, describePEM(block.String(), begin[2]), end-i+1)
		out = append(out, diffLine{lines[i].style, lines[i].marker, summary})
		i = end
	}
	return out
}

// describePEM names a PEM block's key: "RSA 3072 public key, kid aaxmkzfa"; the block's type
// when it holds no RSA key.
func describePEM(block, typ string) string {
	p, _ := keys.ParsePublic([]byte(block)) // an expired certificate still names its key
	if p.Key == nil {
		return strings.ToLower(typ)
	}
	what := "public key"
	if p.Cert != nil {
		what = "certificate"
	}
	return fmt.Sprintf("RSA %d %s, kid %s", p.Key.N.BitLen(), what, shortKID(keys.Thumbprint(p.Key)))
}

// hunkHeader finds a hunk header in a text.
var hunkHeader = regexp.MustCompile(`(?m)^@@ `)

// hunkRange is a hunk header's line counts.
var hunkRange = regexp.MustCompile(`^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@`)

// hunkLengths reads how many old and new lines a hunk header announces (1 when a count is
// left out, as diff does); 0, 0 for a header it cannot read.
func hunkLengths(header string) (oldN, newN int) {
	m := hunkRange.FindStringSubmatch(header)
	if m == nil {
		return 0, 0
	}
	count := func(s string) int {
		if s == "" {
			return 1
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	return count(m[1]), count(m[2])
}

// renderPlan shows a plan summary: each resource's action, the credentials added, removed and
// kept, and the guard's findings (blocking ones in red).
func renderPlan(st Styles, p *tfrunner.PlanSummary, findings []tfrunner.Finding, w int) []string {
	lines := []string{st.Title.Render("Plan")}
	if p == nil {
		return append(lines, st.Subtle.Render("  (no plan)"))
	}
	if len(p.Changes) == 0 {
		lines = append(lines, st.Subtle.Render("  no changes"))
	}
	for _, c := range p.Changes {
		style, sym := st.Warn, "~"
		switch c.Action() {
		case "create":
			style, sym = st.DiffAdd, "+"
		case "delete":
			style, sym = st.DiffDel, "-"
		case "replace":
			style, sym = st.Bad.Bold(true), "-/+"
		}
		lines = append(lines, wrapStyled(style, fmt.Sprintf("  %s %s %s", sym, c.Action(), c.Address), w)...)
	}
	if cc := p.Credentials; cc != nil {
		cred := func(style lipgloss.Style, what string, c tfrunner.PlannedCredential) {
			lines = append(lines, wrapStyled(style, fmt.Sprintf("    %s %q", what, c.Name), w)...)
			lines = append(lines, wrapStyled(style, "        kid "+c.KID, w)...)
		}
		for _, a := range cc.Added {
			cred(st.DiffAdd, "+ adds credential", a)
		}
		for _, r := range cc.Removed {
			cred(st.DiffDel, "- removes credential", r)
		}
		for _, k := range cc.Kept {
			cred(st.Subtle, "= keeps", k)
		}
		for _, a := range cc.Altered {
			cred(st.Warn, "~ alters", a.Before)
		}
		lines = append(lines, st.Subtle.Render(fmt.Sprintf("    %d credential(s) after the apply", cc.After)))
	}
	for _, f := range findings {
		style, mark := st.Bad, st.Mark.Fail
		if f.Acceptable {
			style, mark = st.Warn, "!"
		}
		lines = append(lines, wrapStyled(style, fmt.Sprintf("  %s guard [%s]: %s", mark, f.Rule, f.Message), w)...)
	}
	return lines
}

// wrapStyled wraps text to w and styles each line.
func wrapStyled(style lipgloss.Style, text string, w int) []string {
	var out []string
	for _, l := range strings.Split(wrapText(text, max(w, 1)), "\n") {
		out = append(out, style.Render(l))
	}
	return out
}

// wrapHanging renders "label text" with the text wrapped under itself.
func wrapHanging(label, text string, w int) []string {
	lw := ansi.StringWidth(label) + 3
	wrapped := strings.Split(wrapText(text, max(w-lw, 10)), "\n")
	out := []string{"  " + label + " " + wrapped[0]}
	for _, l := range wrapped[1:] {
		out = append(out, strings.Repeat(" ", lw)+l)
	}
	return out
}

// padStyled pads a rendered line to width w.
func padStyled(l string, w int) string {
	n := ansi.StringWidth(l)
	if n > w {
		return ansi.Truncate(l, w, "")
	}
	return l + strings.Repeat(" ", w-n)
}

// errText is an error's message, or "".
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// describeErr says what an engine error means for the operator.
func describeErr(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "The step was cancelled: Terraform was interrupted and released its lock. The journal keeps what was done."
	case errors.Is(err, steps.ErrDeclined):
		return "You declined (" + err.Error() + "). Nothing after that gate was done."
	case errors.Is(err, steps.ErrBusy):
		return "Another rekey is rotating this client right now: " + err.Error()
	case errors.Is(err, steps.ErrUnsafe):
		return "A safety rule stopped the rotation: " + err.Error()
	}
	return err.Error()
}

// pad truncates (with the ellipsis marker) or pads text to exactly width cells.
func (st Styles) pad(text string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(text)
	if w > width {
		return ansi.Truncate(text, width, st.Mark.Ellipsis)
	}
	return text + strings.Repeat(" ", width-w)
}

// thousands formats n with thin separators: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// indentWrap wraps text to width minus the indent, indenting every line.
func indentWrap(text string, width, indent int) string {
	prefix := strings.Repeat(" ", indent)
	wrapped := wrapText(text, max(width-indent, 10))
	return prefix + strings.ReplaceAll(wrapped, "\n", "\n"+prefix)
}

// shortKID is the first 8 characters of a kid, enough to tell keys apart on screen.
func shortKID(kid string) string {
	if len(kid) > 8 {
		return kid[:8]
	}
	return kid
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// firstLine is an error's first line, or "".
func firstLine(err error) string {
	if err == nil {
		return ""
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// pathLines shows a labelled file path, the path on its own lines so it is never cut.
func pathLines(st Styles, label, path string, w int) []string {
	out := []string{"  " + st.Subtle.Render(label)}
	for _, l := range strings.Split(ansi.Hardwrap(path, max(w-4, 10), true), "\n") {
		out = append(out, "    "+l)
	}
	return out
}

// wrapText wraps text to width cells at spaces only, so that kids, paths and other words with
// hyphens stay whole; a word longer than the width is cut. Line breaks are kept, and so is each
// line's indentation, on its continuation lines too.
func wrapText(text string, width int) string {
	width = max(width, 1)
	var out []string
	for _, para := range strings.Split(text, "\n") {
		body := strings.TrimLeft(para, " ")
		indent := para[:len(para)-len(body)]
		if len(indent) >= width {
			indent = ""
		}
		room := width - len(indent)
		line, lineW := "", 0
		flush := func() {
			out = append(out, indent+line)
			line, lineW = "", 0
		}
		for _, word := range strings.Fields(body) {
			ww := ansi.StringWidth(word)
			if lineW > 0 && lineW+1+ww > room {
				flush()
			}
			for ww > room { // a word that fits no line
				if lineW > 0 {
					flush()
				}
				line = ansi.Cut(word, 0, room)
				flush()
				word = ansi.Cut(word, room, ww)
				ww = ansi.StringWidth(word)
			}
			if lineW > 0 {
				line += " "
				lineW++
			}
			line += word
			lineW += ww
		}
		flush()
	}
	return strings.Join(out, "\n")
}
