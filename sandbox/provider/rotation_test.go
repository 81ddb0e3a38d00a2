package provider

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestRotationInPlace walks a zero-downtime rotation with real Terraform against provider
// v1.55: create with one key, add a second in place, retire the first, then rename the
// survivor (which v1.55 treats as remove+add), and finally destroy the credentials resource.
// The keys' expiries are written with milliseconds, as the provider stores them, so that
// every plan after an apply is clean (see TestParsedExpiryIsPlannedAgain for the others).
func TestRotationInPlace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workspace(t)
	current := newKey(t, "Current", false)
	current.notAfter = time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	current.expiresAt = current.notAfter.Format(stampFormat)
	next := newKey(t, "Next", false)
	var clientID, currentID, nextID string

	t.Run("a create with one credential", func(t *testing.T) {
		w.create(t, clientConfig(DefaultVersion, "billing-worker", current))
		clientID = w.clientID(t)
		attached := h.attached(t, clientID)
		if len(attached) != 1 {
			t.Fatalf("attached credentials = %d, want 1", len(attached))
		}
		cr := attached[0]
		currentID = cr.ID
		if cr.KID != current.kid() || cr.Name != "Current" || cr.Alg != "RS256" {
			t.Errorf("credential = kid %s name %q alg %s, want kid %s name Current alg RS256", cr.KID, cr.Name, cr.Alg, current.kid())
		}
		if cr.ExpiresAt == nil || !cr.ExpiresAt.Equal(current.notAfter) {
			t.Errorf("expires_at = %v, want %v", cr.ExpiresAt, current.notAfter)
		}
		c, _ := h.tenant.Client(clientID)
		if c.TokenEndpointAuthMethod != nil || c.JWTAlg != "RS256" || !slices.Equal(c.GrantTypes, []string{"client_credentials"}) {
			t.Errorf("client = token_endpoint_auth_method %v jwt alg %s grants %v", c.TokenEndpointAuthMethod, c.JWTAlg, c.GrantTypes)
		}
		w.expectNoChanges(t)
	})

	t.Run("b add a second credential in place", func(t *testing.T) {
		needs(t, currentID)
		w.write(t, clientConfig(DefaultVersion, "billing-worker", current, next))
		changes := w.savedPlan(t)
		if a := changes["auth0_client.app"].Change.Actions; !slices.Equal(a, []string{"no-op"}) {
			t.Errorf("auth0_client actions = %v, want [no-op]", a)
		}
		rc := changes["auth0_client_credentials.app"]
		if !slices.Equal(rc.Change.Actions, []string{"update"}) {
			t.Fatalf("auth0_client_credentials actions = %v, want [update]", rc.Change.Actions)
		}
		before, after := planCredentials(rc.Change.Before), planCredentials(rc.Change.After)
		if len(before) != 1 || len(after) != 2 {
			t.Fatalf("credentials before/after = %d/%d, want 1/2", len(before), len(after))
		}
		if kept := credentialNamed(t, after, "Current"); !reflect.DeepEqual(kept, asPlannedAgain(before[0])) {
			t.Errorf("the surviving credential changes in the plan:\nbefore %v\nafter  %v", before[0], kept)
		}
		if added := credentialNamed(t, after, "Next"); added["id"] != nil {
			t.Errorf("the new credential has id %v in the plan, want unknown", added["id"])
		}
		stop := h.watchAttached(clientID, func(ids []string) bool { return slices.Contains(ids, currentID) })
		w.must(t, "apply", "tfplan")
		samples, detached := stop()
		t.Logf("watched the attached list %d times during the apply", samples)
		if detached > 0 {
			t.Errorf("the current credential was detached in %d of %d samples during the apply", detached, samples)
		}
		if got := h.attachedByKID(t, clientID, current.kid()).ID; got != currentID {
			t.Errorf("current credential id = %s, want it unchanged (%s)", got, currentID)
		}
		nextID = h.attachedByKID(t, clientID, next.kid()).ID
		if n := len(h.attached(t, clientID)); n != 2 {
			t.Errorf("attached credentials = %d, want 2", n)
		}
		w.expectNoChanges(t)
	})

	t.Run("c retire the first credential", func(t *testing.T) {
		needs(t, nextID)
		w.write(t, clientConfig(DefaultVersion, "billing-worker", next))
		rc := w.savedPlan(t)["auth0_client_credentials.app"]
		if !slices.Equal(rc.Change.Actions, []string{"update"}) {
			t.Fatalf("auth0_client_credentials actions = %v, want [update]", rc.Change.Actions)
		}
		after := planCredentials(rc.Change.After)
		if len(after) != 1 || !reflect.DeepEqual(after[0], asPlannedAgain(credentialNamed(t, planCredentials(rc.Change.Before), "Next"))) {
			t.Errorf("after = %v, want only the unchanged Next credential", after)
		}
		stop := h.watchAttached(clientID, func(ids []string) bool { return slices.Contains(ids, nextID) })
		w.must(t, "apply", "tfplan")
		if samples, detached := stop(); detached > 0 {
			t.Errorf("the next credential was detached in %d of %d samples during the apply", detached, samples)
		}
		attached := h.attached(t, clientID)
		if len(attached) != 1 || attached[0].ID != nextID {
			t.Errorf("attached = %v, want only %s", attached, nextID)
		}
		pool, _ := h.tenant.Credentials(clientID)
		if len(pool) != 1 {
			t.Errorf("pool has %d credentials, want 1: the retired one must be deleted", len(pool))
		}
		w.expectNoChanges(t)
	})

	// A new expires_at changes the set element's hash, so the plan shows the credential removed
	// and added again, its id unknown, as the real provider's does; the apply must still
	// PATCH the same credential rather than delete the key and create it again.
	t.Run("c2 change expires_at in place", func(t *testing.T) {
		needs(t, nextID)
		expiry := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
		next.expiresAt = expiry.Format(stampFormat)
		w.write(t, clientConfig(DefaultVersion, "billing-worker", next))
		rc := w.savedPlan(t)["auth0_client_credentials.app"]
		after := planCredentials(rc.Change.After)
		if !slices.Equal(rc.Change.Actions, []string{"update"}) || len(after) != 1 {
			t.Fatalf("plan = %v with %d credentials, want an update keeping one", rc.Change.Actions, len(after))
		}
		if after[0]["id"] != nil || after[0]["expires_at"] != next.expiresAt {
			t.Errorf("planned credential = %v, want it planned again (id unknown) with expires_at %s", after[0], next.expiresAt)
		}
		w.must(t, "apply", "tfplan")
		cr := h.attachedByKID(t, clientID, next.kid())
		if cr.ID != nextID || cr.ExpiresAt == nil || !cr.ExpiresAt.Equal(expiry) {
			t.Errorf("credential %s expires %v, want %s to expire %v", cr.ID, cr.ExpiresAt, nextID, expiry)
		}
		w.expectNoChanges(t)
	})

	// v1.55 matches credentials by name too, so renaming the survivor plans it as removed and
	// added; with the same key the provider must detach and delete it before creating it again.
	t.Run("d rename the surviving credential", func(t *testing.T) {
		needs(t, nextID)
		renamed := next
		renamed.name = "Next renamed"
		w.write(t, clientConfig(DefaultVersion, "billing-worker", renamed))
		rc := w.savedPlan(t)["auth0_client_credentials.app"]
		if !slices.Equal(rc.Change.Actions, []string{"update"}) {
			t.Fatalf("auth0_client_credentials actions = %v, want [update]", rc.Change.Actions)
		}
		before, after := planCredentials(rc.Change.Before), planCredentials(rc.Change.After)
		if len(before) != 1 || before[0]["name"] != "Next" || len(after) != 1 || after[0]["name"] != "Next renamed" || after[0]["id"] != nil {
			t.Fatalf("plan = before %v after %v, want the element removed and a new one (unknown id) added", before, after)
		}
		stop := h.watchAttached(clientID, func(ids []string) bool { return len(ids) > 0 })
		w.must(t, "apply", "tfplan")
		samples, empty := stop()
		t.Logf("rename: the client had no attached credential in %d of %d samples (v1.55 detaches before re-creating the same key)", empty, samples)
		cr := h.attachedByKID(t, clientID, next.kid())
		if cr.ID == nextID || cr.Name != "Next renamed" {
			t.Errorf("after rename: credential %s named %q, want a new credential named %q", cr.ID, cr.Name, "Next renamed")
		}
		nextID = cr.ID
		w.expectNoChanges(t)
	})

	t.Run("destroy deletes only the credentials in state", func(t *testing.T) {
		needs(t, nextID)
		stray := newKey(t, "stray", false)
		if _, err := h.tenant.CreateCredential(clientID, sandboxCredential(stray)); err != nil {
			t.Fatal(err)
		}
		w.must(t, "destroy", "-auto-approve", "-target=auth0_client_credentials.app")
		c, _ := h.tenant.Client(clientID)
		if c.PrivateKeyJWT != nil || c.TokenEndpointAuthMethod == nil || *c.TokenEndpointAuthMethod != "client_secret_post" {
			t.Errorf("client after destroy: private_key_jwt %v token_endpoint_auth_method %v, want none and client_secret_post", c.PrivateKeyJWT, c.TokenEndpointAuthMethod)
		}
		pool, _ := h.tenant.Credentials(clientID)
		if len(pool) != 1 || pool[0].KID != stray.kid() {
			t.Errorf("pool after destroy = %v, want only the credential Terraform did not create", pool)
		}
	})
}

// asPlannedAgain is a credential of a plan's before as the plan's after shows it when the
// set changes but the credential does not: parse_expiry_from_cert, left out of the
// configuration, is planned null (the state's false comes back after the apply).
func asPlannedAgain(before map[string]any) map[string]any {
	after := maps.Clone(before)
	after["parse_expiry_from_cert"] = nil
	return after
}

// needs skips a step whose predecessor failed.
func needs(t *testing.T, value string) {
	t.Helper()
	if value == "" {
		t.Skip("an earlier step failed")
	}
}
