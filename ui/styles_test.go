package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"rekey/steps"
)

// colourRenderer renders with true colour whatever the test's output is.
func colourRenderer() Option {
	return func(c *config) { c.renderer = trueColour() }
}

// trueColour is a renderer of true colour whatever the test's output is.
func trueColour() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.TrueColor)
	return r
}

// hasColour reports SGR colour parameters (30–37, 38;…, 90–97, and backgrounds).
func hasColour(s string) bool {
	return strings.Contains(s, "[38;") || strings.Contains(s, ";38;") || strings.Contains(s, "[48;") || strings.Contains(s, ";48;") ||
		strings.Contains(s, "\x1b[3") || strings.Contains(s, "\x1b[9")
}

// rotationFrames drives the fixture to the attach question and returns the frames on the way.
func rotationFrames(t *testing.T, opts ...Option) []string {
	t.Helper()
	f := newFixture(t)
	f.backend.Sandbox = true
	e := newScriptedEngine(f)
	h := newHarness(t, f.backend, 80, 24, append(opts, e.install())...)
	frames := []string{h.m.View()}
	h.update(openClientMsg{client: f.client})
	h.waitFor("the workspace", func() bool { return h.m.client.ws != nil })
	frames = append(frames, h.m.View())
	h.press("r")
	frames = append(frames, h.m.View())
	h.press("enter")
	h.waitQuestion(steps.Attach)
	return append(frames, h.m.View())
}

func TestColourIsUsedByDefault(t *testing.T) {
	frames := rotationFrames(t, func(c *config) { c.noColor = false }, colourRenderer())
	if !hasColour(frames[len(frames)-1]) {
		t.Fatal("no colour in the attach question with colour on")
	}
	if !strings.Contains(frames[len(frames)-1], "\x1b[") || !strings.Contains(frames[len(frames)-1], "+    credentials {") {
		t.Fatal("diff not rendered")
	}
}

func TestNoColor(t *testing.T) {
	t.Run("option", func(t *testing.T) {
		for i, f := range rotationFrames(t, WithNoColor(true), colourRenderer()) {
			if hasColour(f) {
				t.Errorf("frame %d has colour with WithNoColor: %q", i, f)
			}
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("NO_COLOR", "1")
		if cfg := newConfig(nil); !cfg.noColor {
			t.Fatal("NO_COLOR in the environment did not turn colour off")
		}
		for i, f := range rotationFrames(t, colourRenderer()) {
			if hasColour(f) {
				t.Errorf("frame %d has colour with NO_COLOR set", i)
			}
		}
	})
}

func TestPlainModeIsASCII(t *testing.T) {
	frames := rotationFrames(t, WithPlain(true), colourRenderer())
	for i, f := range frames {
		if hasColour(f) {
			t.Errorf("frame %d has colour in plain mode", i)
		}
		for _, r := range f {
			if r > 127 {
				t.Errorf("frame %d has the non-ASCII %q in plain mode:\n%s", i, r, f)
				break
			}
		}
	}
	last := frames[len(frames)-1]
	for _, want := range []string{"[x]", "[>]", "[ ]", "[ Apply ]"} {
		if !strings.Contains(last, want) {
			t.Errorf("plain stepper or buttons lack %q:\n%s", want, last)
		}
	}
}

func TestStylesMarkers(t *testing.T) {
	for _, plain := range []bool{false, true} {
		st := NewStyles(nil, plain, true)
		m := st.Mark
		all := []string{m.Done, m.Current, m.Pending, m.Failed, m.OK, m.Fail, m.Cursor, m.InProgress}
		seen := map[string]bool{}
		for _, s := range all[:4] {
			if seen[s] {
				t.Errorf("plain=%v: stepper markers repeat: %v", plain, all[:4])
			}
			seen[s] = true
		}
		if plain != st.Plain || plain == st.Color {
			t.Errorf("plain=%v: Plain %v Color %v", plain, st.Plain, st.Color)
		}
		if plain {
			for _, s := range append(all, m.Arrow, m.Dash, m.Ellipsis, m.Dot, string(m.Spark), m.Rule) {
				for _, r := range s {
					if r > 127 {
						t.Errorf("plain marker %q is not ASCII", s)
					}
				}
			}
		}
	}
}
