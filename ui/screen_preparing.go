package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// preparingScreen shows a spinner and Prepare's latest progress line; a failure stays on
// screen until the operator quits.
type preparingScreen struct {
	c      *common
	ch     chan string
	line   string
	err    error
	width  int
	height int
}

func newPreparingScreen(c *common) *preparingScreen {
	return &preparingScreen{c: c, line: "Preparing" + c.st.Mark.Ellipsis}
}

// start runs prepare and listens to its progress.
func (s *preparingScreen) start(prepare Prepare) tea.Cmd {
	s.ch = make(chan string, 64)
	return tea.Batch(prepareCmd(s.c.life, prepare, s.ch), waitProgress(s.ch))
}

func (s *preparingScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case progressMsg:
		s.line = msg.text
		return waitProgress(s.ch)
	case preparedMsg:
		s.err = msg.err
	}
	return nil
}

func (s *preparingScreen) view() string {
	st := s.c.st
	w := max(s.width-4, 10)
	if s.err != nil {
		lines := []string{"", "  " + st.Bad.Render(st.Mark.Fail+" Could not start")}
		for _, l := range strings.Split(wrapText(s.err.Error(), w), "\n") {
			lines = append(lines, "  "+l)
		}
		lines = append(lines, "", "  "+st.Subtle.Render("q to quit"))
		return strings.Join(lines, "\n")
	}
	line := ansi.Truncate(s.line, w-3, st.Mark.Ellipsis)
	return "\n  " + s.c.spin.View() + " " + line
}

func (s *preparingScreen) setSize(w, h int)      { s.width, s.height = w, h }
func (s *preparingScreen) helpKeys() help.KeyMap { return s.c.keys.PreparingHelp() }
func (s *preparingScreen) capturing() bool       { return false }
func (s *preparingScreen) busy() bool            { return false }
