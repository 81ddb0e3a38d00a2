package provider

import (
	"slices"
	"testing"
)

// TestParsedExpiryIsPlannedAgain creates a credential whose expiry Auth0 parses from its
// certificate, in a block that leaves algorithm out. As with the real provider, the stored
// expires_at is part of the set element's hash but the proposed element has none, so every
// plan shows the credential removed and added again with its id and expiry unknown. Applying
// such a plan keeps the credential: the same key is the same credential (provider v1.55
// matching), so nothing is deleted.
func TestParsedExpiryIsPlannedAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workspace(t)
	cert := newKey(t, "Current", true)
	w.create(t, clientConfig(DefaultVersion, "cert-worker", cert))
	clientID := w.clientID(t)
	cr := h.attachedByKID(t, clientID, cert.kid())
	if cr.ExpiresAt == nil || !cr.ExpiresAt.Equal(cert.notAfter) {
		t.Errorf("expires_at = %v, want the certificate's notAfter %v", cr.ExpiresAt, cert.notAfter)
	}

	rc := w.savedPlan(t)["auth0_client_credentials.app"]
	before, after := planCredentials(rc.Change.Before), planCredentials(rc.Change.After)
	if !slices.Equal(rc.Change.Actions, []string{"update"}) || len(before) != 1 || len(after) != 1 {
		t.Fatalf("plan = %v, %d credentials before and %d after; want an update of one", rc.Change.Actions, len(before), len(after))
	}
	if before[0]["expires_at"] != cert.notAfter.Format(stampFormat) || after[0]["id"] != nil || after[0]["expires_at"] != nil {
		t.Errorf("plan = before %v, after %v; want the stored expiry before, and id and expiry unknown after", before[0], after[0])
	}
	w.must(t, "apply", "tfplan")
	if got := h.attachedByKID(t, clientID, cert.kid()); got.ID != cr.ID || len(h.attached(t, clientID)) != 1 {
		t.Errorf("after the apply: credential %s, %d attached; want %s still the only one", got.ID, len(h.attached(t, clientID)), cr.ID)
	}
}
