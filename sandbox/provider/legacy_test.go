package provider

import (
	"slices"
	"testing"

	"rekey/sandbox"
)

// TestLegacyReplacesCredentials serves the provider as v1.46.0, which replaces the whole
// auth0_client_credentials resource when a credential is added, and whose destroy deletes
// every credential of the client.
func TestLegacyReplacesCredentials(t *testing.T) {
	t.Parallel()
	const legacy = "1.46.0"
	h := newHarness(t, legacy)
	w := h.workspace(t)
	first, second := newKey(t, "First", false), newKey(t, "Second", false)
	w.create(t, clientConfig(legacy, "legacy-worker", first))
	clientID := w.clientID(t)
	firstID := h.attachedByKID(t, clientID, first.kid()).ID
	w.expectNoChanges(t)
	stray := newKey(t, "stray", false)
	if _, err := h.tenant.CreateCredential(clientID, sandboxCredential(stray)); err != nil {
		t.Fatal(err)
	}

	w.write(t, clientConfig(legacy, "legacy-worker", first, second))
	changes := w.savedPlan(t)
	if a := changes["auth0_client_credentials.app"].Change.Actions; !slices.Equal(a, []string{"delete", "create"}) {
		t.Fatalf("auth0_client_credentials actions = %v, want [delete create] (replace)", a)
	}
	if a := changes["auth0_client.app"].Change.Actions; !slices.Equal(a, []string{"no-op"}) {
		t.Errorf("auth0_client actions = %v, want [no-op]", a)
	}
	stop := h.watchAttached(clientID, func(ids []string) bool { return len(ids) > 0 })
	w.must(t, "apply", "tfplan")
	samples, empty := stop()
	t.Logf("legacy replace: the client had no attached credential in %d of %d samples (the outage the wizard blocks)", empty, samples)
	if got := h.attachedByKID(t, clientID, first.kid()).ID; got == firstID {
		t.Errorf("the first credential kept id %s; a replace deletes and re-creates it", got)
	}
	h.attachedByKID(t, clientID, second.kid())
	pool, _ := h.tenant.Credentials(clientID)
	if len(pool) != 2 || slices.ContainsFunc(pool, func(c sandbox.Credential) bool { return c.KID == stray.kid() }) {
		t.Errorf("pool after the replace = %v, want only the two configured keys (≤ 1.54 deletes every credential)", pool)
	}
	w.expectNoChanges(t)
}
