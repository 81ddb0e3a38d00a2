package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"rekey/tfrunner"
)

// QuestionKind says how a gate is answered.
type QuestionKind int

// Kinds of question.
const (
	Proceed      QuestionKind = iota // yes or no
	TypeName                         // the operator types Expect (the client's name) to go on
	EditYourself                     // the operator makes the HCL edit Body describes; yes plans again
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
	Warnings []Warning          // preflight's warnings: a yes accepts them all
	// File and Line, for EditYourself, are where rekey thinks the edit belongs (an editor opens
	// there); "" when it does not know.
	File string
	Line int
}

// Names of preflight's warnings. Each predicts an outage if the rotation goes on, so each must
// be accepted: by name (Options.AcceptWarnings, the headless --accept-warning), or by the
// operator's answer in the wizard. AutoApprove (--yes) accepts only what was accepted by name.
const (
	// WarnUnlistedCurrentKey: the system config does not list the client's current key; it
	// is probably another service's file, whose service the rotation would break.
	WarnUnlistedCurrentKey = "unlisted-current-key"
	// WarnUnusableCurrentKeyFile: the system config's private key file for the current key
	// cannot be used; its live checks are skipped.
	WarnUnusableCurrentKeyFile = "unusable-current-key-file"
	// WarnFailingCurrentKey: the current key fails a token exchange (a wrong audience, or a
	// key that no longer works); accepting it skips the current key's later checks.
	WarnFailingCurrentKey = "failing-current-key"
	// WarnPlanDrift: terraform plan is not clean, e.g. after a leftover HCL edit; the
	// rotation's plans would carry the drift.
	WarnPlanDrift = "plan-drift"
)

// WarningNames lists the names of preflight's warnings.
var WarningNames = []string{WarnUnlistedCurrentKey, WarnUnusableCurrentKeyFile, WarnFailingCurrentKey, WarnPlanDrift}

// Warning is something preflight found that predicts an outage if the rotation goes on.
type Warning struct {
	Name     string `json:"name"` // one of WarningNames
	Message  string `json:"message"`
	Accepted bool   `json:"accepted"` // by name, in Options.AcceptWarnings
}

// checkWarningNames refuses a name that is not one of WarningNames.
func checkWarningNames(names []string) error {
	for _, n := range names {
		if !slices.Contains(WarningNames, n) {
			return optionsErrorf("no preflight warning is named %q: the names are %s", n, strings.Join(WarningNames, ", "))
		}
	}
	return nil
}

// AcceptedByName reports whether every warning was accepted by name.
func AcceptedByName(ws []Warning) bool {
	return !slices.ContainsFunc(ws, func(w Warning) bool { return !w.Accepted })
}

// warningsText lists warnings one a line, as "! [name] message".
func warningsText(ws []Warning) string {
	lines := make([]string, len(ws))
	for i, w := range ws {
		lines[i] = fmt.Sprintf("! [%s] %s", w.Name, w.Message)
	}
	return strings.Join(lines, "\n")
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
// --yes). It never overrides a safety rule, since those are not questions, and it accepts
// neither changes to other resources nor preflight's warnings: those are accepted by name
// (Options.AcceptOther, Options.AcceptWarnings).
type AutoApprove struct{}

// Ask implements Prompter.
func (AutoApprove) Ask(_ context.Context, q Question) (Answer, error) {
	if q.Kind == EditYourself {
		return Answer{}, nil // an edit needs a human: the run stops, and the next one plans it
	}
	return Answer{Yes: len(q.Findings) == 0 && AcceptedByName(q.Warnings), Text: q.Expect}, nil
}
