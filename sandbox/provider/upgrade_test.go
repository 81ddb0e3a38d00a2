package provider

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestUpgradesVersion0State rewrites a workspace's state as the stand-in wrote it before it
// took the real provider's schema version 1 (version 0, without the client secret and the
// other methods' attributes, null for an unset name, pem, expiry or parse_expiry_from_cert,
// expiries without milliseconds). The provider must upgrade the credentials, before any
// refresh, to exactly what it writes itself, and then plan no changes.
func TestUpgradesVersion0State(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workspace(t)
	current := newKey(t, "Current", false)
	next := newKey(t, "Next", false)
	next.expiresAt = time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second).Format(stampFormat)
	w.create(t, clientConfig(DefaultVersion, "upgraded-worker", current, next))
	written := w.stateOf(t, credentialsAddress)

	statePath := filepath.Join(w.dir, "terraform.tfstate")
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	data, err = asVersion0(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(statePath, data, 0o600); err != nil {
		t.Fatal(err)
	}

	w.must(t, "plan", "-refresh=false", "-out=tfplan")
	var plan struct {
		PriorState struct {
			Values struct {
				RootModule struct {
					Resources []stateResource `json:"resources"`
				} `json:"root_module"`
			} `json:"values"`
		} `json:"prior_state"`
	}
	w.showJSON(t, &plan, "tfplan")
	for _, r := range plan.PriorState.Values.RootModule.Resources {
		if r.Address != credentialsAddress {
			continue
		}
		if got, want := credentialList(r.Values), credentialList(written.Values); r.SchemaVersion != credentialsSchemaVersion || !reflect.DeepEqual(sortedByName(got), sortedByName(want)) {
			t.Errorf("upgraded state: schema version %d, credentials\n%s\nwant version %d and\n%s", r.SchemaVersion, show(got), credentialsSchemaVersion, show(want))
		}
	}
	w.expectNoChanges(t)
}

// asVersion0 rewrites the credentials resource of a state file as the stand-in stored it at
// schema version 0.
func asVersion0(data []byte) ([]byte, error) {
	var state map[string]any
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, err
	}
	for _, r := range state["resources"].([]any) {
		r := r.(map[string]any)
		if r["type"] != "auth0_client_credentials" {
			continue
		}
		instance := r["instances"].([]any)[0].(map[string]any)
		instance["schema_version"], instance["sensitive_attributes"] = 0, []any{}
		attrs := instance["attributes"].(map[string]any)
		for _, name := range unsupportedArguments {
			delete(attrs, name)
		}
		for _, c := range credentialList(attrs) {
			c := c.(map[string]any)
			for _, name := range []string{"name", "pem", "expires_at"} {
				if c[name] == "" {
					c[name] = nil
				}
			}
			c["parse_expiry_from_cert"] = nil
			if at, err := time.Parse(time.RFC3339, str(c["expires_at"])); err == nil {
				c["expires_at"] = at.Format(time.RFC3339)
			}
		}
	}
	return json.Marshal(state)
}

// sortedByName returns a credentials list in name order.
func sortedByName(creds []any) []any {
	name := func(c any) string { return str(c.(map[string]any)["name"]) }
	return slices.SortedFunc(slices.Values(creds), func(a, b any) int { return strings.Compare(name(a), name(b)) })
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
