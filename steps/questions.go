package steps

import (
	"context"

	"rekey/tfrunner"
)

// QuestionKind says how a gate is answered.
type QuestionKind int

// Kinds of question.
const (
	Proceed  QuestionKind = iota // yes or no
	TypeName                     // the operator types Expect (the client's name) to go on
)

// Question is a gate a human answers: warnings to accept, an apply to confirm, a manual change
// to the system config to confirm.
type Question struct {
	Kind     QuestionKind
	Step     Step
	Title    string
	Body     string             // what the operator decides on: warnings, a diff, a snippet
	Expect   string             // for TypeName
	Findings []tfrunner.Finding // acceptable guard findings the operator may accept by name
}

// Answer is the operator's reply.
type Answer struct {
	Yes  bool
	Text string // what was typed, for TypeName
}

// Prompter asks the operator. The wizard shows a screen; headless mode answers from --yes or a
// terminal prompt.
type Prompter interface {
	Ask(ctx context.Context, q Question) (Answer, error)
}

// AutoApprove answers the gates a human would: yes, typing the expected name (headless
// --yes). It never overrides a safety rule, since those are not questions, and it does not
// accept changes to other resources: those are accepted by name (Options.AcceptOther).
type AutoApprove struct{}

// Ask implements Prompter.
func (AutoApprove) Ask(_ context.Context, q Question) (Answer, error) {
	return Answer{Yes: len(q.Findings) == 0, Text: q.Expect}, nil
}
