package ui

import (
	"context"
	"errors"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"rekey/steps"
)

func TestPrompterAsksThroughTheProgramAndWaits(t *testing.T) {
	out := make(chan tea.Msg)
	p := prompter{run: 7, out: out}
	type result struct {
		a   steps.Answer
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := p.Ask(context.Background(), steps.Question{Kind: steps.TypeName, Title: "type it", Expect: "x"})
		done <- result{a, err}
	}()
	msg := (<-out).(questionMsg)
	if msg.run != 7 || msg.q.Title != "type it" {
		t.Fatalf("question %+v", msg)
	}
	select {
	case r := <-done:
		t.Fatalf("Ask returned %+v before the answer", r)
	case <-time.After(20 * time.Millisecond):
	}
	if m := answerCmd(msg.reply, steps.Answer{Yes: true, Text: "x"})(); m != nil {
		t.Fatalf("answerCmd returned %v", m)
	}
	r := <-done
	if r.err != nil || !r.a.Yes || r.a.Text != "x" {
		t.Fatalf("Ask = %+v, %v", r.a, r.err)
	}
}

func TestPrompterHonoursCancellation(t *testing.T) {
	t.Run("nobody takes the question", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel)
		_, err := prompter{out: make(chan tea.Msg)}.Ask(ctx, steps.Question{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	})
	t.Run("nobody answers", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		out := make(chan tea.Msg, 1)
		time.AfterFunc(10*time.Millisecond, cancel)
		_, err := prompter{out: out}.Ask(ctx, steps.Question{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		// A late answer never blocks the Cmd that sends it.
		q := (<-out).(questionMsg)
		finished := make(chan struct{})
		go func() { answerCmd(q.reply, steps.Answer{Yes: true})(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(time.Second):
			t.Fatal("a late answer blocked")
		}
	})
}

// TestRunEngineStreamsInOrder runs an engine function that emits, asks and emits again: the
// stream carries them in that order, then the done message, then closes.
func TestRunEngineStreamsInOrder(t *testing.T) {
	life, stop := context.WithCancel(context.Background())
	defer stop()
	engine := func(ctx context.Context, _ steps.Options, deps steps.Deps) (steps.Result, error) {
		for i := range 50 {
			deps.Events <- steps.Event{Kind: steps.Output, Text: string(rune('a' + i%26))}
		}
		a, err := deps.Prompter.Ask(ctx, steps.Question{Title: "go on?"})
		if err != nil || !a.Yes {
			return steps.Result{}, errors.New("declined")
		}
		deps.Events <- steps.Event{Kind: steps.StepFinished}
		return steps.Result{Status: "rotated"}, nil
	}
	stream := make(chan tea.Msg, 4) // smaller than the burst: the engine must wait, not drop
	finished := make(chan struct{})
	go runEngineCmd(life, life, 3, false, engine, steps.Options{}, steps.Deps{}, stream, func() { close(finished) })()
	var events int
	for msg := range stream {
		switch m := msg.(type) {
		case engineEventMsg:
			if m.run != 3 {
				t.Fatalf("run %d", m.run)
			}
			if m.ev.Kind == steps.StepFinished && events != 50 {
				t.Fatalf("the event after the answer came after %d events", events)
			}
			events++
		case questionMsg:
			if events != 50 {
				t.Fatalf("the question overtook events: %d of 50 delivered before it", events)
			}
			answerCmd(m.reply, steps.Answer{Yes: true})()
		case engineDoneMsg:
			if m.err != nil || m.result.Status != "rotated" || events != 51 {
				t.Fatalf("done %+v after %d events", m, events)
			}
		}
	}
	<-finished
}

// TestRunEngineNeverBlocksAfterQuit: once the program is gone (life ends), the engine's events
// are drained and dropped, so it can finish.
func TestRunEngineNeverBlocksAfterQuit(t *testing.T) {
	life, stop := context.WithCancel(context.Background())
	stop()
	engine := func(ctx context.Context, _ steps.Options, deps steps.Deps) (steps.Result, error) {
		for range 100 {
			deps.Events <- steps.Event{Kind: steps.Output}
		}
		return steps.Result{}, nil
	}
	finished := make(chan struct{})
	go runEngineCmd(context.Background(), life, 1, false, engine, steps.Options{}, steps.Deps{}, make(chan tea.Msg), func() { close(finished) })()
	select {
	case <-finished:
	case <-time.After(2 * time.Second):
		t.Fatal("the engine blocked on its events after the program ended")
	}
}
