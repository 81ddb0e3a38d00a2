package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"rekey/steps"
	"rekey/tenant"
)

// openBilling opens the fixture's private_key_jwt client.
func openBilling(t *testing.T, f *fixture, w, h int, opts ...Option) *harness {
	t.Helper()
	hs := newHarness(t, f.backend, w, h, opts...)
	hs.update(openClientMsg{client: f.client})
	hs.waitFor("the workspace", func() bool { return hs.m.client.ws != nil })
	return hs
}

func TestClientShowsCredentialsWorkspaceAndChecks(t *testing.T) {
	f := newFixture(t)
	h := openBilling(t, f, 120, 40)
	h.waitFor("the live check", func() bool { return h.m.client.checks[f.oldKID] != nil && h.m.client.checks[f.oldKID].have })
	checkFrame(t, h.m.client.view(), 120, 40,
		"billing-service", f.client.ID, "private_key_jwt",
		"auth0_client_credentials.billing", "main.tf", "auth0 1.55.0",
		"Credentials: 1 attached of 1", "billing 2025", f.oldKID[:20], "RS256", "2026-03-13", "yes", "✓ 42 ms")
	if got := f.tenant.count(f.oldKID); got != 1 {
		t.Errorf("%d checks of the known key on open, want 1", got)
	}
	h.press("c")
	h.waitFor("the second check", func() bool { return f.tenant.count(f.oldKID) == 2 })
}

func TestClientWorkspaceUnknownSaysWhy(t *testing.T) {
	f := newFixture(t)
	f.backend.Options = func(tenant.Client) steps.Options { return steps.Options{TerraformDir: t.TempDir()} }
	h := openBilling(t, f, 80, 24)
	text := h.text()
	for _, want := range []string{"terraform  unknown", "provider   unknown", "no auth0 provider in .terraform.lock.hcl"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q missing:\n%s", want, text)
		}
	}
}

func TestClientFailedCheckShowsReason(t *testing.T) {
	f := newFixture(t)
	f.tenant.setResult(func(string) tenant.CheckResult {
		return tenant.CheckResult{Status: 401, Code: "invalid_client", Description: "Invalid client assertion", Latency: time.Millisecond}
	})
	h := openBilling(t, f, 80, 24)
	h.waitFor("the check", func() bool { return h.m.client.checks[f.oldKID] != nil && h.m.client.checks[f.oldKID].have })
	checkFrame(t, h.m.client.view(), 80, 24, "failed", "401 invalid_client: Invalid client assertion")
}

func TestClientUnknownKeyIsNotChecked(t *testing.T) {
	f := newFixture(t)
	f.backend.KnownKeys = nil
	h := openBilling(t, f, 80, 24)
	h.press("c")
	if n := f.tenant.count(f.oldKID); n != 0 {
		t.Fatalf("%d checks without a known private key", n)
	}
	checkFrame(t, h.m.client.view(), 80, 24, "private key not known here", "cannot be checked live")
}

func TestClientRotateStartsTheForm(t *testing.T) {
	f := newFixture(t)
	h := openBilling(t, f, 80, 24)
	h.press("r")
	if h.m.screen != screenRotation || h.m.rotation.phase != phaseForm {
		t.Fatalf("r: screen %v, want the rotation form", h.m.screen)
	}
	if h.m.rotation.base.TerraformDir != f.dir {
		t.Errorf("the rotation did not get the backend's options: %+v", h.m.rotation.base)
	}
	h.press("esc")
	if h.m.screen != screenClient || h.m.rotation != nil {
		t.Fatalf("esc from the form: screen %v, want the client", h.m.screen)
	}
}

func TestClientNotPrivateKeyJWTCannotRotate(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f.backend, 80, 24)
	h.update(openClientMsg{client: f.tenant.clients["cl_web00000000000000000000000002"]})
	h.press("r")
	if h.m.screen != screenClient {
		t.Fatalf("r on a client without private_key_jwt left the screen (%v)", h.m.screen)
	}
	checkFrame(t, h.m.client.view(), 80, 24, "rekey rotates private_key_jwt credentials", "does not use Private Key JWT")
}

func TestClientResumeShowsJournal(t *testing.T) {
	f := newFixture(t)
	e := newScriptedEngine(f)
	e.journal(steps.Journal{ClientID: f.client.ID, Status: steps.StatusInProgress, StartedAt: testNow, Operator: "alice",
		Steps: map[string]steps.StepLog{"preflight": {Status: "done"}, "generate": {Status: "done"}},
		Old:   &steps.JournalKey{KID: f.oldKID, PrivateKeyFile: f.oldFile}, New: &steps.JournalKey{KID: f.newKID, PrivateKeyFile: f.newFile}})
	h := openBilling(t, f, 80, 24, e.install())
	h.waitFor("the journal", func() bool { return h.m.client.journal != nil })
	checkFrame(t, h.m.client.view(), 80, 24, "A rotation is in progress", "by alice", "preflight, generate", "r resumes it")
	h.press("r")
	// Generate is done: the form is skipped and the engine resumes.
	h.waitFor("the engine", func() bool { runs, _ := e.counts(); return runs == 1 })
	if h.m.rotation.phase == phaseForm {
		t.Fatal("resuming past generate showed the form")
	}
}

func TestClientBack(t *testing.T) {
	f := newFixture(t)
	h := openBilling(t, f, 80, 24)
	h.press("esc")
	if h.m.screen != screenClients || h.m.client != nil {
		t.Fatalf("esc: screen %v", h.m.screen)
	}
}

func TestClientRenderSizes(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			f := newFixture(t)
			h := openBilling(t, f, size[0], size[1])
			checkFrame(t, h.m.client.view(), size[0], size[1]-2, "billing-service", "LIVE CHECK", "auth0 1.55.0")
			checkFrame(t, h.m.View(), size[0], size[1], "r rotate", "c check keys now", "esc back")
		})
	}
}
