package termtest

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Command is one line of a vhs tape.
type Command struct {
	Line  int
	Name  string        // Type, Enter, Wait, Sleep, Ctrl+C, Set, Output, Hide, …
	Args  []string      // the words after the name (Set's setting and value, Output's file)
	Text  string        // Type's text; Wait's regular expression
	Count int           // repetitions of a key (Down 3)
	Time  time.Duration // Sleep's duration; Wait's timeout; a key's or Type's delay
	Scope string        // Wait's "Screen" or "Line"
}

// keyNames maps vhs keys to tmux key names.
var keyNames = map[string]string{
	"Backspace": "BSpace", "Delete": "DC", "Insert": "IC", "Down": "Down", "Enter": "Enter", "Escape": "Escape",
	"Home": "Home", "End": "End", "Left": "Left", "PageDown": "NPage", "PageUp": "PPage", "Right": "Right",
	"Space": "Space", "Tab": "Tab", "Up": "Up",
}

// settings are the commands that configure vhs and send nothing to the terminal.
var settings = map[string]bool{"Output": true, "Set": true, "Require": true, "Hide": true, "Show": true, "Screenshot": true, "Source": true, "Env": true}

var commandLine = regexp.MustCompile(`^([A-Za-z]+(?:\+[A-Za-z]+)*)(?:@(\S+))?\s*(.*)$`)

// ParseTape reads a vhs tape; unknown commands and malformed lines are errors with their line.
func ParseTape(r io.Reader) ([]Command, error) {
	var out []Command
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c, err := parseCommand(n, line)
		if err != nil {
			return nil, fmt.Errorf("tape line %d: %w", n, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

func parseCommand(n int, line string) (Command, error) {
	m := commandLine.FindStringSubmatch(line)
	if m == nil {
		return Command{}, fmt.Errorf("cannot read %q", line)
	}
	c := Command{Line: n, Name: m[1], Count: 1}
	if m[2] != "" {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			return c, fmt.Errorf("%s@%s: %v", c.Name, m[2], err)
		}
		c.Time = d
	}
	rest := strings.TrimSpace(m[3])
	name, scope, _ := strings.Cut(c.Name, "+")
	switch {
	case c.Name == "Type":
		text, err := unquote(rest)
		c.Text = text
		return c, err
	case name == "Wait":
		c.Name, c.Scope = "Wait", cmpOr(scope, "Line")
		if c.Time == 0 {
			c.Time = 15 * time.Second
		}
		if !strings.HasPrefix(rest, "/") || !strings.HasSuffix(rest, "/") || len(rest) < 2 {
			return c, fmt.Errorf("Wait needs a /regular expression/, got %q", rest)
		}
		c.Text = rest[1 : len(rest)-1]
		_, err := regexp.Compile(c.Text)
		return c, err
	case c.Name == "Sleep":
		d, err := time.ParseDuration(rest)
		c.Time = d
		return c, err
	case keyNames[c.Name] != "":
		if rest != "" {
			count, err := strconv.Atoi(rest)
			if err != nil {
				return c, fmt.Errorf("%s takes a count, got %q", c.Name, rest)
			}
			c.Count = count
		}
		return c, nil
	case strings.HasPrefix(c.Name, "Ctrl+") || strings.HasPrefix(c.Name, "Alt+"):
		return c, nil
	case settings[c.Name]:
		c.Args = strings.Fields(rest)
		return c, nil
	}
	return c, fmt.Errorf("unknown command %q", c.Name)
}

// unquote reads a vhs string: "…", '…' or `…`.
func unquote(s string) (string, error) {
	if len(s) >= 2 && strings.ContainsRune("\"'`", rune(s[0])) && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], nil
	}
	return "", fmt.Errorf("Type needs a quoted string, got %q", s)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Replay sends a tape's keystrokes to the terminal and honours its Waits (on the whole screen
// for Wait+Screen, the last non-empty line for Wait and Wait+Line) and Sleeps. Settings are
// skipped. The test fails at a Wait that times out, naming the tape line.
func Replay(tm *Terminal, tape []Command) {
	tm.t.Helper()
	for _, c := range tape {
		switch {
		case c.Name == "Type":
			tm.Type(c.Text)
		case c.Name == "Sleep":
			time.Sleep(c.Time)
		case c.Name == "Wait":
			tm.waitTape(c)
		case keyNames[c.Name] != "":
			for range c.Count {
				tm.Keys(keyNames[c.Name])
			}
		case strings.HasPrefix(c.Name, "Ctrl+"):
			tm.Keys("C-" + strings.ToLower(strings.TrimPrefix(c.Name, "Ctrl+")))
		case strings.HasPrefix(c.Name, "Alt+"):
			tm.Keys("M-" + strings.ToLower(strings.TrimPrefix(c.Name, "Alt+")))
		}
	}
}

func (tm *Terminal) waitTape(c Command) {
	tm.t.Helper()
	re := regexp.MustCompile(c.Text)
	deadline := time.Now().Add(c.Time)
	for {
		screen := tm.Screen()
		target := screen
		if c.Scope == "Line" {
			target = lastLine(screen)
		}
		if re.MatchString(target) {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("tape line %d: Wait+%s /%s/ timed out after %s; the screen shows:\n%s", c.Line, c.Scope, c.Text, c.Time, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return lines[len(lines)-1]
}

// Setting returns the value of "Set name value" in a tape, or "".
func Setting(tape []Command, name string) string {
	for _, c := range tape {
		if c.Name == "Set" && len(c.Args) >= 2 && c.Args[0] == name {
			return strings.Trim(strings.Join(c.Args[1:], " "), `"`)
		}
	}
	return ""
}
