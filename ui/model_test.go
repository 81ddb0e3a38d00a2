package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"rekey/steps"
)

func TestKeyMapASCIIHelp(t *testing.T) {
	k := DefaultKeyMap().ASCII()
	v := reflect.ValueOf(k)
	for i := range v.NumField() {
		b, ok := v.Field(i).Interface().(key.Binding)
		if !ok {
			continue
		}
		h := b.Help()
		for _, r := range h.Key + h.Desc {
			if r > 127 {
				t.Errorf("%s: help %q/%q is not ASCII", v.Type().Field(i).Name, h.Key, h.Desc)
				break
			}
		}
		if h.Key == "" || h.Desc == "" {
			t.Errorf("%s has no help", v.Type().Field(i).Name)
		}
	}
}

func TestPreparingShowsProgressThenClients(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	prepare := func(ctx context.Context, progress func(string)) (Backend, error) {
		progress("Starting the sandbox tenant…")
		<-release
		progress("Applying the Terraform workspace…")
		return f.backend, nil
	}
	tm := teatest.NewTestModel(t, NewModel(prepare, testOptions()...), teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = tm.Quit() })
	waitOutput(t, tm, "Starting the sandbox tenant")
	close(release)
	waitOutput(t, tm, "billing-service")
}

func TestPreparingErrorStaysUntilQuit(t *testing.T) {
	m := NewModel(func(context.Context, func(string)) (Backend, error) {
		return Backend{}, errors.New("terraform not found: install it or pass --terraform")
	}, testOptions()...).(*model)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	msg := prepareCmd(context.Background(), m.prepare, make(chan string, 1))()
	m.Update(msg)
	if m.screen != screenPreparing {
		t.Fatalf("screen %v after a failed prepare", m.screen)
	}
	checkFrame(t, m.View(), 80, 24, "Could not start", "terraform not found: install it or pass --terraform", "q to quit")
	_, cmd := m.Update(keyPress("q"))
	if cmd == nil || !m.quitting {
		t.Fatal("q did not quit")
	}
	if !errors.Is(m.c.prepErr, msg.(preparedMsg).err) {
		t.Fatal("the prepare error is not kept for Run")
	}
}

func TestHelpToggleAndResize(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f.backend, 80, 24)
	short := h.text()
	h.press("?")
	full := h.text()
	if !strings.Contains(full, "clear filter") || strings.Contains(short, "clear filter") {
		t.Fatalf("? did not show the full help:\n%s", full)
	}
	checkFrame(t, h.m.View(), 80, 24)
	if h.m.clients.pageSize() >= 19 {
		t.Errorf("the list did not make room for the full help (page %d)", h.m.clients.pageSize())
	}
	h.press("?")
	h.update(tea.WindowSizeMsg{Width: 100, Height: 30})
	checkFrame(t, h.m.View(), 100, 30, "billing-service")
	if got := len(strings.Split(h.m.View(), "\n")); got != 30 {
		t.Errorf("%d lines after resize to 30", got)
	}
	if h.m.clients.width != 100 || h.m.clients.pageSize() != 30-3-3 { // header, gap and help; status, filter and heading
		t.Errorf("the clients screen did not get the new size: %d wide, page %d", h.m.clients.width, h.m.clients.pageSize())
	}
}

func TestQuitFromTheList(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f.backend, 80, 24)
	_, cmd := h.m.Update(keyPress("q"))
	if !h.m.quitting || cmd == nil {
		t.Fatal("q did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not return tea.Quit")
	}
	if h.m.c.life.Err() == nil {
		t.Fatal("quitting did not cancel the work still running")
	}
}

// waitOutput waits until the program has written every text (output read by an earlier wait
// is not seen again).
func waitOutput(t *testing.T, tm *teatest.TestModel, texts ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, text := range texts {
			if !bytes.Contains(b, []byte(text)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// TestWizardThroughTeatest drives the real program loop: preparing → clients → client → the
// rotation form, then quits. The engine is not run here (the terminal-level test does that).
func TestWizardThroughTeatest(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	prepare := func(ctx context.Context, progress func(string)) (Backend, error) {
		progress("Starting the sandbox tenant…")
		return f.backend, nil
	}
	tm := teatest.NewTestModel(t, NewModel(prepare, testOptions(e.install())...), teatest.WithInitialTermSize(80, 24))
	waitOutput(t, tm, "3 clients")
	tm.Type("/bill")
	waitOutput(t, tm, "1 of 3 clients")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitOutput(t, tm, "auth0 1.55.0", "42 ms") // the workspace, and the live check of the known key
	tm.Type("r")
	waitOutput(t, tm, "Algorithm")
	tm.Send(tea.KeyMsg{Type: tea.KeyRight})
	waitOutput(t, tm, "[RS384]")
	tm.Type("q")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if fm.screen != screenRotation || fm.rotation.phase != phaseForm || fm.rotation.form.alg != 1 {
		t.Fatalf("final screen %v", fm.screen)
	}
	if runs, _ := e.counts(); runs != 0 {
		t.Fatalf("the engine ran %d times", runs)
	}
	if n := f.tenant.count(f.oldKID); n < 1 {
		t.Fatal("the client screen did not check the known key")
	}
}

func TestRunReturnsThePrepareError(t *testing.T) {
	in, typed := io.Pipe()
	var out bytes.Buffer
	failed := make(chan struct{})
	prepare := func(context.Context, func(string)) (Backend, error) {
		defer close(failed)
		return Backend{}, errors.New("no terraform")
	}
	go func() {
		<-failed
		time.Sleep(50 * time.Millisecond)
		_, _ = typed.Write([]byte("q"))
	}()
	err := Run(context.Background(), prepare, in, &out, WithPlain(true))
	if err == nil || err.Error() != "no terraform" {
		t.Fatalf("Run = %v, want the prepare error", err)
	}
}

func TestRunEndsWithItsContextAndWaitsForTheEngine(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	ctx, cancel := context.WithCancel(context.Background())
	in, typed := io.Pipe()
	defer typed.Close()
	var stopped time.Time
	engineStarted := make(chan struct{})
	rotate := func(ctx context.Context, o steps.Options, d steps.Deps) (steps.Result, error) {
		close(engineStarted)
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond) // Terraform takes a moment to release its lock
		stopped = time.Now()
		return steps.Result{}, ctx.Err()
	}
	go func() {
		// clients → open → rotate → start with the defaults
		for _, k := range []string{"\r", "r", "\r"} {
			time.Sleep(300 * time.Millisecond)
			_, _ = typed.Write([]byte(k))
		}
		<-engineStarted
		cancel()
	}()
	err := Run(ctx, func(context.Context, func(string)) (Backend, error) { return f.backend, nil }, in, io.Discard,
		e.install(), func(c *config) { c.rotate = rotate })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if stopped.IsZero() {
		t.Fatal("Run returned before the engine stopped")
	}
}
