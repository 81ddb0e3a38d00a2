package ui

import (
	"errors"
	"testing"

	"rekey/steps"
)

// preflightWarnings are what the scripted engine's preflight asks about.
var preflightWarnings = []steps.Warning{
	{Name: steps.WarnUnlistedCurrentKey, Message: "the system config /srv/reporting.json does not list billing-service's current key"},
	{Name: steps.WarnPlanDrift, Message: "terraform plan is not clean: it would update auth0_client.billing"},
}

// toWarnings starts a rotation whose preflight warns, and waits for its question.
func toWarnings(t *testing.T) (*harness, *scriptedEngine) {
	t.Helper()
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.warnings = preflightWarnings
	h := toForm(t, f, e, 80, 24)
	h.press("enter")
	h.waitQuestion(steps.Preflight)
	return h, e
}

// TestWarningsDefaultToDecline: the question to go on despite preflight's warnings lists each
// by name, and its focused button declines, so enter alone stops the rotation.
func TestWarningsDefaultToDecline(t *testing.T) {
	h, _ := toWarnings(t)
	checkFrame(t, h.m.View(), 80, 24, "Continue despite these warnings?", "! [unlisted-current-key] the system config",
		"! [plan-drift] terraform plan is not clean", "  Accept  ", "[ Decline ]", "y accept")
	h.press("enter")
	h.waitFor("the failure", func() bool { return h.rot().phase == phaseFailed })
	if !errors.Is(h.rot().err, steps.ErrDeclined) {
		t.Fatalf("err %v, want ErrDeclined", h.rot().err)
	}
}

// TestWarningsAcceptedInteractively: the operator may still accept them, with y or by moving
// the focus to Accept.
func TestWarningsAcceptedInteractively(t *testing.T) {
	for _, keys := range [][]string{{"y"}, {"tab", "enter"}} {
		h, _ := toWarnings(t)
		h.press(keys...)
		h.waitQuestion(steps.Attach)
		if h.rot().status[steps.Preflight] != stepDone {
			t.Errorf("%v: preflight %v after accepting its warnings", keys, h.rot().status[steps.Preflight])
		}
	}
}
