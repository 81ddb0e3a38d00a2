package ui

import (
	"github.com/charmbracelet/lipgloss"
)

// Markers are the symbols the wizard draws; plain mode swaps them for ASCII.
type Markers struct {
	Done, Current, Pending, Failed string // stepper
	OK, Fail                       string // check results
	Cursor, NoCursor               string // list selection
	InProgress                     string // a rotation in progress (journal exists)
	Arrow, Dash, Ellipsis, Dot     string
	Spark                          []rune // sparkline levels, low to high
	SparkFail                      rune   // a failed sample in a sparkline
	Rule                           string // horizontal rule character
}

// Styles is every style the wizard renders with, built once from the options: colour off for
// NO_COLOR, colour off and ASCII markers in plain (accessible) mode.
type Styles struct {
	Plain bool    // ASCII markers, no colour, no box drawing
	Color bool    // colours are used
	Mark  Markers // symbols

	App, Crumb, Sandbox              lipgloss.Style // header
	Text, Title, Bold, Subtle, Faint lipgloss.Style // text
	Good, Warn, Bad, Accent          lipgloss.Style // meaning
	Selected                         lipgloss.Style // the row under the cursor
	Heading                          lipgloss.Style // table column headings
	Expired, Soon, Later, Fine, Dim  lipgloss.Style // expiry badges: expired, ≤ 7 days, ≤ 30 days, later, none
	DiffAdd, DiffDel, DiffHunk       lipgloss.Style // unified diffs
	DiffFile                         lipgloss.Style
	Button, ButtonFocused            lipgloss.Style
	Panel                            lipgloss.Style // the live-check side panel
	Rule                             lipgloss.Style
	HelpKey, HelpDesc, HelpSep       lipgloss.Style
}

// NewStyles builds the styles for a renderer (nil: lipgloss's default). color false drops every
// colour (NO_COLOR); plain also drops colour and uses ASCII markers.
func NewStyles(r *lipgloss.Renderer, plain, color bool) Styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	color = color && !plain
	col := func(c string) lipgloss.TerminalColor {
		if !color {
			return lipgloss.NoColor{}
		}
		return lipgloss.Color(c)
	}
	const (
		red    = "203"
		orange = "214"
		yellow = "221"
		green  = "78"
		blue   = "111"
		cyan   = "80"
		grey   = "245"
		dark   = "240"
		purple = "135"
		white  = "231"
	)
	ns := r.NewStyle
	s := Styles{Plain: plain, Color: color}
	s.Mark = Markers{
		Done: "✓", Current: "●", Pending: "○", Failed: "✗",
		OK: "✓", Fail: "✗", Cursor: "▸ ", NoCursor: "  ", InProgress: "↻",
		Arrow: "→", Dash: "—", Ellipsis: "…", Dot: "·",
		Spark: []rune("▁▂▃▄▅▆▇█"), SparkFail: '×', Rule: "─",
	}
	if plain {
		s.Mark = Markers{
			Done: "[x]", Current: "[>]", Pending: "[ ]", Failed: "[!]",
			OK: "ok", Fail: "FAIL", Cursor: "> ", NoCursor: "  ", InProgress: "*",
			Arrow: "->", Dash: "-", Ellipsis: "...", Dot: "|",
			Spark: []rune("_.-=+*#@"), SparkFail: 'x', Rule: "-",
		}
	}
	s.App = ns().Bold(true).Foreground(col(blue))
	s.Crumb = ns().Foreground(col(grey))
	s.Sandbox = ns().Bold(true).Foreground(col(white)).Background(col(purple)).Padding(0, 1)
	if !color {
		s.Sandbox = ns().Bold(true)
	}
	s.Text = ns()
	s.Title = ns().Bold(true)
	s.Bold = ns().Bold(true)
	s.Subtle = ns().Foreground(col(grey))
	s.Faint = ns().Foreground(col(dark))
	s.Good = ns().Foreground(col(green))
	s.Warn = ns().Foreground(col(yellow))
	s.Bad = ns().Foreground(col(red))
	s.Accent = ns().Foreground(col(blue))
	s.Selected = ns().Bold(true).Foreground(col(blue))
	s.Heading = ns().Bold(true).Foreground(col(grey))
	s.Expired = ns().Bold(true).Foreground(col(red))
	s.Soon = ns().Foreground(col(orange))
	s.Later = ns().Foreground(col(yellow))
	s.Fine = ns().Foreground(col(green))
	s.Dim = ns().Foreground(col(dark))
	s.DiffAdd = ns().Foreground(col(green))
	s.DiffDel = ns().Foreground(col(red))
	s.DiffHunk = ns().Foreground(col(cyan))
	s.DiffFile = ns().Bold(true)
	s.Button = ns().Padding(0, 1).Foreground(col(grey))
	s.ButtonFocused = ns().Padding(0, 1).Bold(true).Foreground(col(white)).Background(col(blue))
	if !color {
		s.Button = ns()
		s.ButtonFocused = ns().Bold(true)
	}
	s.Rule = ns().Foreground(col(dark))
	s.HelpKey = ns().Foreground(col(grey))
	s.HelpDesc = ns().Foreground(col(dark))
	s.HelpSep = ns().Foreground(col(dark))
	return s
}

// button renders a button label, marked when focused (brackets stay visible without colour).
func (s Styles) button(label string, focused bool) string {
	if focused {
		return s.ButtonFocused.Render("[ " + label + " ]")
	}
	return s.Button.Render("  " + label + "  ")
}
