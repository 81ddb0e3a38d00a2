// Package termtest drives programs in a real terminal for tests: a tmux session on a private
// server, keystrokes in, screen text out; and a reader for vhs tapes, so that a tape's
// keystrokes and waits can be replayed in that terminal.
package termtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Terminal is a tmux session running one command.
type Terminal struct {
	t          testing.TB
	socket     string
	config     string
	statusFile string
}

var sessions atomic.Int64

// Start runs command in a new width×height terminal with env added to tmux's environment; the
// session ends with the test. It fails the test when tmux is missing.
func Start(t testing.TB, width, height int, env []string, command string) *Terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("these tests need tmux (apt-get install tmux): %v", err)
	}
	tm := &Terminal{t: t, socket: fmt.Sprintf("rekey-test-%d-%d", time.Now().UnixNano(), sessions.Add(1))}
	// A configuration that keeps the pane (and its last screen) after the command exits.
	conf := filepath.Join(t.TempDir(), "tmux.conf")
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tm.config = conf
	// The command's exit status goes to a file: tmux does not always record it.
	tm.statusFile = filepath.Join(t.TempDir(), "status")
	dir, _ := os.Getwd()
	shell := "env"
	for _, kv := range append(env, "TERM=xterm-256color") {
		shell += " " + shellQuote(kv)
	}
	shell += " " + command + "; echo $? > " + shellQuote(tm.statusFile)
	tm.tmux("new-session", "-d", "-s", "main", "-c", dir, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), shell)
	t.Cleanup(func() { exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (tm *Terminal) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket, "-f", tm.config}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Keys sends tmux key names: Enter, Escape, Tab, Up, Down, C-c, BSpace, Space…
func (tm *Terminal) Keys(keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys", "-t", "main"}, keys...)...)
}

// Type sends text literally, as typed.
func (tm *Terminal) Type(text string) {
	tm.t.Helper()
	tm.tmux("send-keys", "-t", "main", "-l", text)
}

// Screen returns the visible screen as text.
func (tm *Terminal) Screen() string {
	tm.t.Helper()
	return tm.tmux("capture-pane", "-p", "-t", "main")
}

// WaitFor polls the screen until it matches re and returns it; after timeout the test fails
// with the last screen.
func (tm *Terminal) WaitFor(re *regexp.Regexp, timeout time.Duration) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		screen := tm.Screen()
		if re.MatchString(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen did not show %s within %s; it shows:\n%s", re, timeout, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitForText is WaitFor with a literal text.
func (tm *Terminal) WaitForText(text string, timeout time.Duration) string {
	tm.t.Helper()
	return tm.WaitFor(regexp.MustCompile(regexp.QuoteMeta(text)), timeout)
}

// WaitExit waits for the command to end and returns its exit status; after timeout the test
// fails with the last screen.
func (tm *Terminal) WaitExit(timeout time.Duration) int {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if data, err := os.ReadFile(tm.statusFile); err == nil && strings.HasSuffix(string(data), "\n") {
			var status int
			fmt.Sscan(string(data), &status)
			return status
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the command did not exit within %s; the screen shows:\n%s", timeout, tm.Screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
