package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rekey/internal/termtest"
	"rekey/steps"
)

// testEditorEnv makes the test binary act as $EDITOR for the computed layout (see testEditor);
// its value is the file the editor's error goes to.
const testEditorEnv = "REKEY_TEST_EDITOR"

// testEditor is an operator's edit of the sandbox's computed layout, run as $EDITOR with
// "+LINE FILE": it reads the rotation in progress from the journal beside FILE and adds the
// new key to billing-worker's keys (before attach) or drops the old one (before retire).
func testEditor(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: +LINE FILE, got %q", args)
	}
	file := args[1]
	journals, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".rekey", "*.json"))
	if len(journals) != 1 {
		return fmt.Errorf("want one journal in progress, found %v", journals)
	}
	data, err := os.ReadFile(journals[0])
	if err != nil {
		return err
	}
	var j steps.Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	text := string(src)
	start := strings.Index(text, `"`+j.ClientName+`" = {`)
	open := strings.Index(text[start:], "keys = [\n") + start + len("keys = [\n")
	end := strings.Index(text[open:], "      ]\n") + open
	keys := text[open:end]
	if !j.Done(steps.Attach) {
		keys += fmt.Sprintf("        {\n          name                   = %q\n          parse_expiry_from_cert = true\n          pem                    = file(%q)\n        },\n",
			j.New.Name, fmt.Sprintf("%s-%s.pem", j.ClientName, j.New.KID[:8]))
	} else {
		at := strings.Index(keys, `"`+j.Old.Name+`"`)
		if at < 0 {
			return fmt.Errorf("no key named %q among:\n%s", j.Old.Name, keys)
		}
		from := strings.LastIndex(keys[:at], "        {\n")
		to := strings.Index(keys[at:], "        },\n") + at + len("        },\n")
		keys = keys[:from] + keys[to:]
	}
	return os.WriteFile(file, []byte(text[:open]+keys+text[end:]), 0o644)
}

// TestWizardManualEditComputedLayout runs `rekey --sandbox --layout computed` in a real
// terminal (the real provider) and rotates billing-worker by making each HCL edit through
// $EDITOR (this test binary, doing what an operator would): e opens it at the file and line
// the wizard names, y plans, and the guard lets exactly that change through.
func TestWizardManualEditComputedLayout(t *testing.T) {
	env, tmp := terminalEnv(t)
	editorLog := filepath.Join(tmp, "editor.log")
	env = append(env, "EDITOR="+testEditorEnv+"="+editorLog+" "+os.Args[0])
	t.Cleanup(func() {
		if data, err := os.ReadFile(editorLog); err == nil {
			t.Errorf("the editor failed: %s", data)
		}
	})
	tm := termtest.Start(t, 120, 40, env, "rekey --sandbox --layout computed")
	startBillingRotation(tm, `auth0_client_credentials.all["billing-worker"]`, "rekey cannot edit this layout")
	screen := tm.WaitForText("Make this edit, then plan", 180*time.Second)
	if !strings.Contains(screen, "e opens $EDITOR at main.tf:") {
		t.Fatalf("the edit does not offer $EDITOR:\n%s", screen)
	}
	tm.Type("e")
	time.Sleep(2 * time.Second)
	tm.Type("y")
	tm.WaitForText("Apply this plan to attach the new key", 120*time.Second)
	tm.Type("y")
	tm.WaitForText("Remove the credential of the key", 180*time.Second) // retire's edit
	tm.Type("e")
	time.Sleep(2 * time.Second)
	tm.Type("y")
	tm.WaitForText("Type billing-worker exactly", 120*time.Second)
	tm.Type("billing-worker")
	tm.Keys("Enter")
	screen = tm.WaitForText("Rotated billing-worker", 180*time.Second)
	assertRotatedThenQuit(t, tm, tmp, screen)
}

// TestWizardRotatesTheModuleLayout runs `rekey --sandbox --layout module` in a real terminal:
// billing-worker's credentials are an instance of a local module called with for_each, and
// the wizard shows that address, edits the module call's keys in locals itself, and rotates.
func TestWizardRotatesTheModuleLayout(t *testing.T) {
	env, tmp := terminalEnv(t)
	tm := termtest.Start(t, 120, 40, env, "rekey --sandbox --layout module")
	startBillingRotation(tm, `module.m2m["billing-worker"].auth0_client_credentials.this`)
	screen := tm.WaitForText("Apply this plan to attach the new key", 180*time.Second)
	if !strings.Contains(screen, "+ adds credential") {
		t.Errorf("the attach screen lacks the plan's added credential:\n%s", screen)
	}
	tm.Type("y")
	tm.WaitForText("Type billing-worker exactly", 180*time.Second)
	tm.Type("billing-worker")
	tm.Keys("Enter")
	screen = tm.WaitForText("Rotated billing-worker", 180*time.Second)
	assertRotatedThenQuit(t, tm, tmp, screen)
}

// startBillingRotation opens billing-worker once the wizard lists the clients, waits for its
// screen to show address and each of wants, and starts a rotation.
func startBillingRotation(tm *termtest.Terminal, address string, wants ...string) {
	tm.WaitForText("billing-worker", 120*time.Second)
	tm.Type("/")
	tm.Type("billing")
	tm.Keys("Enter")
	tm.WaitForText(address, 60*time.Second)
	for _, want := range wants {
		tm.WaitForText(want, 5*time.Second)
	}
	tm.Type("r")
	tm.WaitForText("Start rotation", 20*time.Second)
	tm.Keys("Enter")
}
