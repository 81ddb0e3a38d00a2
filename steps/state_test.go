package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rekey/tfrunner"
)

// setCredentialsSchemaVersion rewrites the workspace's local state as if a provider with
// auth0_client_credentials schema version v had written it.
func (e *env) setCredentialsSchemaVersion(t *testing.T, v int) {
	t.Helper()
	path := filepath.Join(e.m.TerraformDir, "terraform.tfstate")
	var state map[string]any
	if err := json.Unmarshal(readFile(t, path), &state); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, r := range state["resources"].([]any) {
		res := r.(map[string]any)
		if res["type"] != "auth0_client_credentials" {
			continue
		}
		for _, inst := range res["instances"].([]any) {
			inst.(map[string]any)["schema_version"] = v
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("no auth0_client_credentials instance in the state")
	}
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// refusedForState runs a rotation on a state with credentials schema version v, expects
// preflight to stop with a StateProviderError (newer or not) that says each of want, and
// checks that nothing changed.
func (e *env) refusedForState(t *testing.T, v int, newer bool, want ...string) {
	t.Helper()
	e.setCredentialsSchemaVersion(t, v)
	before := e.snapshot()
	r := e.rotate(context.Background(), nil)
	var stateErr *tfrunner.StateProviderError
	if !errors.As(r.err, &stateErr) || stateErr.Newer != newer {
		t.Fatalf("Rotate = %v, want a StateProviderError with Newer %v", r.err, newer)
	}
	for _, w := range want {
		if !strings.Contains(r.err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, r.err)
		}
	}
	e.assertUnchanged(t, before)
}

// TestPreflightExplainsAStateOfAnOlderSchema: a state written with the credentials' older
// schema (as provider < 1.47 wrote it) cannot be shown as JSON by the selected provider;
// preflight stops, changes nothing, and says to run `terraform apply -refresh-only`. Doing
// exactly that lets the rotation go through.
func TestPreflightExplainsAStateOfAnOlderSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.refusedForState(t, 0, false, "terraform apply -refresh-only", "nothing was changed")

	cmd := exec.Command(e.bin.Path, "apply", "-refresh-only", "-auto-approve", "-no-color")
	cmd.Dir, cmd.Env = e.m.TerraformDir, os.Environ()
	for k, v := range e.m.TerraformEnv() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terraform apply -refresh-only: %v\n%s", err, out)
	}
	if r := e.rotate(context.Background(), nil); r.err != nil {
		t.Fatalf("Rotate after terraform apply -refresh-only: %v", r.err)
	}
}

// TestPreflightExplainsAStateOfANewerProvider: a state the selected provider cannot read (a
// newer schema, as when the workspace switched to an older or different provider) stops
// preflight with the provider to select again; nothing changes.
func TestPreflightExplainsAStateOfANewerProvider(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.refusedForState(t, 7, true, "terraform init -upgrade", "terraform apply -refresh-only", "nothing was changed")
}
