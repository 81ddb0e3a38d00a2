package tfrunner

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// classify turns a failed command's diagnostics and error into a typed error.
func classify(command, dir string, diags []diagnostic, err error) error {
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
	return strings.TrimSpace(err.Error())
}
