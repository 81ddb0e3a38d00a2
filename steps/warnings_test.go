package steps_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"rekey/steps"
)

// TestAutoApproveAcceptsWarningsOnlyByName: --yes (AutoApprove) goes on past preflight's
// warnings only when every one was accepted by name.
func TestAutoApproveAcceptsWarningsOnlyByName(t *testing.T) {
	drift := steps.Warning{Name: steps.WarnPlanDrift, Message: "drift"}
	unlisted := steps.Warning{Name: steps.WarnUnlistedCurrentKey, Message: "unlisted", Accepted: true}
	for _, tc := range []struct {
		name     string
		warnings []steps.Warning
		want     bool
	}{
		{"no warning", nil, true},
		{"accepted by name", []steps.Warning{unlisted}, true},
		{"not accepted", []steps.Warning{drift}, false},
		{"one of two not accepted", []steps.Warning{unlisted, drift}, false},
	} {
		a, err := steps.AutoApprove{}.Ask(context.Background(), steps.Question{Kind: steps.Proceed, Step: steps.Preflight, Warnings: tc.warnings})
		if err != nil || a.Yes != tc.want {
			t.Errorf("%s: AutoApprove = %+v, %v; want yes=%v", tc.name, a, err, tc.want)
		}
	}
}

// TestAcceptWarningNamesAreChecked: a misspelt warning name is an options error that lists the
// names, before the engine asks the tenant anything (it has none here).
func TestAcceptWarningNamesAreChecked(t *testing.T) {
	opts := steps.Options{Client: "billing-worker", TerraformDir: t.TempDir(), KeyDir: t.TempDir(), AcceptWarnings: []string{steps.WarnPlanDrift, "drift"}}
	_, err := steps.Rotate(context.Background(), opts, steps.Deps{})
	var oe *steps.OptionsError
	if !errors.As(err, &oe) {
		t.Fatalf("Rotate = %v, want an *OptionsError", err)
	}
	for _, want := range append([]string{`"drift"`}, steps.WarningNames...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %s: %v", want, err)
		}
	}
}
