package tfrunner

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// LockError means another process holds the Terraform state lock.
type LockError struct {
	Detail string // Terraform's lock info: ID, path, operation, who, created
}

func (e *LockError) Error() string {
	return "the Terraform state is locked by another run; wait for it to finish, or if it died, " +
		"run `terraform force-unlock LOCK_ID` in the Terraform folder (lock info below)\n" + e.Detail
}

// NotInitializedError means the working directory needs `terraform init`.
type NotInitializedError struct {
	Dir    string
	Reason string
}

func (e *NotInitializedError) Error() string {
	return fmt.Sprintf("the Terraform folder %s is not initialized (%s); run `terraform init` there (with -upgrade if the provider changed)", e.Dir, e.Reason)
}

// ProviderError is an error a provider reported for one resource.
type ProviderError struct {
	Address string
	Summary string
	Detail  string
}

func (e *ProviderError) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Address, e.Summary)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// StateProviderError means the workspace's auth0 provider cannot read the Terraform state:
// another provider (or version) wrote it. rekey changed nothing; the operator brings state
// and provider in line first.
type StateProviderError struct {
	Dir    string
	Newer  bool   // the state was written by a newer provider, or a different one, than the selected
	Detail string // Terraform's message
}

func (e *StateProviderError) Error() string {
	if e.Newer {
		return fmt.Sprintf("the Terraform state in %s was written by another auth0 provider (a newer version, or a different build) than the one `terraform init` selected, "+
			"which cannot read it; nothing was changed. Select the provider that wrote it again (its version in required_providers, then `terraform init -upgrade`), "+
			"run `terraform apply -refresh-only` there, then run rekey again. Terraform said: %s", e.Dir, e.Detail)
	}
	return fmt.Sprintf("the Terraform state in %s was written with an older schema of the auth0 provider than the one selected; nothing was changed. "+
		"Run `terraform apply -refresh-only` in %s (the provider upgrades the state; check that the plan changes nothing else), then run rekey again. Terraform said: %s", e.Dir, e.Dir, e.Detail)
}

// stateNewerMessages are what Terraform says when the selected provider cannot read a state
// written by another provider; stateOlderMessages, when the state has an older schema version.
var (
	stateNewerMessages = []string{"managed by newer provider version", "from prior state", "Failed to marshal state"}
	// schemaMismatch is `terraform show -json`'s message, in either direction.
	schemaMismatch = regexp.MustCompile(`schema version (\d+) for \S+ in state does not match version (\d+) from the provider`)
)

// stateProviderError recognises a state the selected provider cannot read in text.
func stateProviderError(dir, text, detail string) (*StateProviderError, bool) {
	if m := schemaMismatch.FindStringSubmatch(text); m != nil {
		inState, _ := strconv.Atoi(m[1])
		fromProvider, _ := strconv.Atoi(m[2])
		return &StateProviderError{Dir: dir, Newer: inState > fromProvider, Detail: detail}, true
	}
	if containsAny(text, stateNewerMessages) {
		return &StateProviderError{Dir: dir, Newer: true, Detail: detail}, true
	}
	return nil, false
}

// CommandError is any other failure of a Terraform command.
type CommandError struct {
	Command string
	Message string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("terraform %s failed: %s", e.Command, e.Message)
}

// notInitializedSummaries are the diagnostics Terraform gives when init is missing or stale.
var notInitializedSummaries = []string{
	"Backend initialization required", "Required plugins are not installed", "Inconsistent dependency lock file",
	"Module not installed", "Missing required provider", "Failed to load plugin schemas", "Could not load plugin",
}

// killed reports whether err is that of a Terraform process ended by SIGKILL.
func killed(err error) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// classify turns a failed command's diagnostics and error into a typed error.
func classify(command, dir string, diags []diagnostic, err error) error {
	if killed(err) {
		return fmt.Errorf("terraform %s was killed before it could finish or save its state; a local state's lock ended with it, a remote backend's may be left held (terraform force-unlock ID, once nothing runs); run rekey again to resume: %w", command, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("terraform %s was cancelled; Terraform was interrupted and released its state lock: %w", command, err)
	}
	text := err.Error()
	for _, d := range diags {
		text += "\n" + d.Summary + "\n" + d.Detail
	}
	switch {
	case strings.Contains(text, "Error acquiring the state lock"):
		detail := text
		for _, d := range diags {
			if d.Summary == "Error acquiring the state lock" {
				detail = d.Detail
			}
		}
		return &LockError{Detail: detail}
	case containsAny(text, notInitializedSummaries):
		return &NotInitializedError{Dir: dir, Reason: firstSummary(diags, err)}
	}
	if e, ok := stateProviderError(dir, text, firstSummary(diags, err)); ok {
		return e
	}
	for _, d := range diags {
		if d.Address != "" {
			return &ProviderError{Address: d.Address, Summary: d.Summary, Detail: d.Detail}
		}
	}
	return &CommandError{Command: command, Message: firstSummary(diags, err)}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func firstSummary(diags []diagnostic, err error) string {
	if len(diags) > 0 {
		msg := diags[0].Summary
		if diags[0].Detail != "" {
			msg += ": " + diags[0].Detail
		}
		return msg
	}
	return strings.TrimSpace(exitStatusLine.ReplaceAllString(err.Error(), ""))
}

// exitStatusLine is the "exit status 1" line terraform-exec puts before Terraform's stderr.
var exitStatusLine = regexp.MustCompile(`^exit status \d+\n`)
