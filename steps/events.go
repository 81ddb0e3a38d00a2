package steps

import (
	"rekey/tenant"
	"rekey/tfrunner"
)

// Step is one step of the rotation protocol.
type Step int

// The steps, in order.
const (
	Preflight Step = iota
	Generate
	Stage
	Attach
	Verify
	Promote
	Retire
	Confirm
)

// AllSteps lists the steps in order.
var AllSteps = []Step{Preflight, Generate, Stage, Attach, Verify, Promote, Retire, Confirm}

var stepNames = [...]string{"preflight", "generate", "stage", "attach", "verify", "promote", "retire", "confirm"}

// String is the step's name as the journal and the JSON output spell it.
func (s Step) String() string { return stepNames[s] }

// EventKind says what an Event reports.
type EventKind int

// Kinds of event.
const (
	StepStarted  EventKind = iota // Step begins (or resumes)
	Output                        // a line of progress, e.g. Terraform output
	CheckDone                     // a live token-exchange check finished: Check
	Diff                          // a file diff to show: Text
	PlanReady                     // a saved plan was read: Plan and Findings
	StepFinished                  // Step passed its gate
	StepFailed                    // Step failed: Err
)

// Event is progress the engine reports to the wizard or the headless printer.
type Event struct {
	Kind     EventKind
	Step     Step
	Text     string
	Check    *KeyCheck
	Plan     *tfrunner.PlanSummary
	Findings []tfrunner.Finding
	Err      error
}

// KeyCheck is the result of one live token exchange with a known key.
type KeyCheck struct {
	Role   string // "new" or "old"
	KID    string
	Result tenant.CheckResult
}
