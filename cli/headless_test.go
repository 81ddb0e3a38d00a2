package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"rekey/steps"
	"rekey/tfrunner"
)

// TestPromptComesAfterWhatItAsksAbout: the events the engine sent before a question (its
// diff and its plan) are printed before the prompt, though another goroutine prints them.
func TestPromptComesAfterWhatItAsksAbout(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	prompter := newTerminalPrompter(p, strings.NewReader("y\n"), io.Discard, false)
	for i := range 60 {
		p.events <- steps.Event{Kind: steps.Output, Step: steps.Attach, Text: fmt.Sprintf("terraform line %d", i)}
	}
	p.events <- steps.Event{Kind: steps.PlanReady, Step: steps.Attach, Plan: &tfrunner.PlanSummary{
		Credentials: &tfrunner.CredentialsChange{Added: []tfrunner.PlannedCredential{{Name: "billing new", KID: "kid2"}}},
	}}
	a, err := prompter.Ask(context.Background(), steps.Question{Kind: steps.Proceed, Step: steps.Attach, Title: "Apply this plan to attach the new key?"})
	p.close()
	if err != nil || !a.Yes {
		t.Fatalf("Ask = %+v, %v; want yes", a, err)
	}
	text := out.String()
	prompt := strings.Index(text, "Apply this plan to attach the new key? [y/N]")
	for _, before := range []string{"terraform line 59", `plan: + credential "billing new" (kid kid2)`} {
		if i := strings.Index(text, before); i < 0 || i > prompt {
			t.Errorf("%q is not printed before the prompt:\n%s", before, text)
		}
	}
}

// TestHeadlessWarnings: every warning is printed on stderr with its name and how to accept
// it, and kept for the JSON result; --yes and the terminal alike go on only when each was
// accepted by name, and the terminal is asked only then.
func TestHeadlessWarnings(t *testing.T) {
	drift := steps.Warning{Name: steps.WarnPlanDrift, Message: "terraform plan is not clean"}
	unlisted := steps.Warning{Name: steps.WarnUnlistedCurrentKey, Message: "the system config does not list it", Accepted: true}
	for _, tc := range []struct {
		name     string
		yes      bool
		warnings []steps.Warning
		want     bool   // the answer
		prompted string // on the progress output; "" for no prompt
	}{
		{"--yes, one not accepted", true, []steps.Warning{unlisted, drift}, false, ""},
		{"--yes, all accepted", true, []steps.Warning{unlisted}, true, ""},
		{"terminal, one not accepted", false, []steps.Warning{unlisted, drift}, false, ""},
		{"terminal, all accepted", false, []steps.Warning{unlisted}, true, "Continue despite these warnings? [y/N]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, stderr bytes.Buffer
			p := newProgress(&out)
			prompter := newTerminalPrompter(p, strings.NewReader("y\n"), &stderr, tc.yes)
			a, err := prompter.Ask(context.Background(), steps.Question{Kind: steps.Proceed, Step: steps.Preflight, Title: "Continue despite these warnings?", Warnings: tc.warnings})
			p.close()
			if err != nil || a.Yes != tc.want {
				t.Errorf("Ask = %+v, %v; want yes=%v", a, err, tc.want)
			}
			if got := strings.TrimSpace(out.String()); got != tc.prompted {
				t.Errorf("progress output %q, want %q", got, tc.prompted)
			}
			for _, w := range tc.warnings {
				if !strings.Contains(stderr.String(), "rekey: warning ["+w.Name+"]: "+w.Message) {
					t.Errorf("stderr does not show %s:\n%s", w.Name, stderr.String())
				}
			}
			if slices.Contains(tc.warnings, drift) && !strings.Contains(stderr.String(), "(not accepted: --accept-warning plan-drift accepts it)") {
				t.Errorf("stderr does not say how to accept plan-drift:\n%s", stderr.String())
			}
			if !strings.Contains(stderr.String(), "(accepted with --accept-warning unlisted-current-key)") {
				t.Errorf("stderr does not say unlisted-current-key was accepted:\n%s", stderr.String())
			}
			if !slices.Equal(prompter.warnings, tc.warnings) {
				t.Errorf("kept %v, want %v", prompter.warnings, tc.warnings)
			}
		})
	}
}
