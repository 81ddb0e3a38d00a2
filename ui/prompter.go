package ui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"rekey/steps"
)

// prompter is the engine's steps.Prompter inside the wizard: each question goes to the program
// as a questionMsg (through out, which the run's forwarder delivers in order with the events),
// and Ask blocks until Update answers through the reply channel, or ctx ends.
type prompter struct {
	run int
	out chan<- tea.Msg
}

var _ steps.Prompter = prompter{}

// Ask implements steps.Prompter.
func (p prompter) Ask(ctx context.Context, q steps.Question) (steps.Answer, error) {
	reply := make(chan steps.Answer, 1) // answerCmd never blocks
	select {
	case p.out <- questionMsg{run: p.run, q: q, reply: reply}:
	case <-ctx.Done():
		return steps.Answer{}, ctx.Err()
	}
	select {
	case a := <-reply:
		return a, nil
	case <-ctx.Done():
		return steps.Answer{}, ctx.Err()
	}
}

// answerCmd sends the operator's answer to the waiting engine, from a Cmd rather than Update.
func answerCmd(reply chan<- steps.Answer, a steps.Answer) tea.Cmd {
	return func() tea.Msg {
		reply <- a
		return nil
	}
}
