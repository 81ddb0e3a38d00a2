package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"rekey/internal/termtest"
	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/tfrunner/tftest"
)

// terminalPath puts the test's rekey build and Terraform first on PATH.
func terminalPath(t *testing.T) string {
	return "PATH=" + filepath.Dir(tftest.Rekey(t)) + ":" + filepath.Dir(tftest.Terraform(t).Path) + ":" + os.Getenv("PATH")
}

// terminalEnv is the environment of a wizard run in a terminal: terminalPath, the real auth0
// provider for the sandbox (as rekey finds it: $REKEY_AUTH0_PROVIDER), and a temporary folder
// of the test's own, where the sandbox is made.
func terminalEnv(t *testing.T) (env []string, tmp string) {
	tmp = t.TempDir()
	return []string{terminalPath(t), "TMPDIR=" + tmp, sandbox.ProviderEnv + "=" + sandboxtest.RealProvider(t).Path}, tmp
}

// assertRealProvider checks that the sandbox the wizard made under tmp ran the real provider,
// and returns its folder.
func assertRealProvider(t *testing.T, tmp string) string {
	t.Helper()
	manifests, _ := filepath.Glob(filepath.Join(tmp, "rekey-sandbox-*", "sandbox.json"))
	if len(manifests) != 1 {
		t.Fatalf("want one sandbox in %s, found %v", tmp, manifests)
	}
	data, err := os.ReadFile(manifests[0])
	if err != nil {
		t.Fatal(err)
	}
	var m sandbox.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Provider == nil || m.Provider.Kind != sandbox.ProviderReal {
		t.Fatalf("the wizard's sandbox ran the %v, want the real provider", m.Provider)
	}
	return filepath.Dir(manifests[0])
}

// TestWizardRotatesInATerminal runs the real binary in a real terminal on the sandbox and
// performs a whole rotation with keystrokes, checking the screen at each step and, at the
// end, the tenant's saved state.
func TestWizardRotatesInATerminal(t *testing.T) {
	env, tmp := terminalEnv(t)
	tm := termtest.Start(t, 100, 30, env, "rekey --sandbox")
	tm.WaitForText("billing-worker", 90*time.Second)
	tm.WaitForText("(real)", time.Second) // the header names the sandbox's provider
	tm.WaitForText("payments-gateway", time.Second)

	tm.Type("/")
	tm.Type("billing")
	tm.WaitForText("1 of 5 clients", 5*time.Second)
	tm.Keys("Enter")
	tm.WaitForText("auth0_client_credentials.billing_worker", 20*time.Second)
	tm.WaitFor(regexp.MustCompile(`✓ \d+ ms`), 20*time.Second)

	tm.Type("r")
	tm.WaitForText("Start rotation", 10*time.Second)
	tm.Keys("Enter")
	screen := tm.WaitForText("Apply this plan to attach the new key", 120*time.Second)
	for _, want := range []string{"Step 4 of 8 — attach", "+ adds credential", "= keeps", "Live checks", "Demo consumer"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the attach screen lacks %q:\n%s", want, screen)
		}
	}
	tm.Type("y")

	screen = tm.WaitForText("Type billing-worker exactly", 120*time.Second)
	for _, want := range []string{"Step 7 of 8 — retire", "- removes credential"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the retire screen lacks %q:\n%s", want, screen)
		}
	}
	tm.Type("billing-wor") // not the name yet: nothing happens on Enter
	tm.Keys("Enter")
	time.Sleep(500 * time.Millisecond)
	if strings.Contains(tm.Screen(), "Rotated billing-worker") {
		t.Fatal("retire went ahead with a wrong name")
	}
	tm.Type("ker")
	tm.Keys("Enter")

	screen = tm.WaitForText("Rotated billing-worker", 120*time.Second)
	if !strings.Contains(screen, "audit log") {
		t.Fatalf("the done screen lacks the audit log:\n%s", screen)
	}
	assertRotatedThenQuit(t, tm, tmp, screen)
}

// assertRotatedThenQuit checks the done screen of billing-worker's rotation in the sandbox the
// wizard made under tmp: no failed token request, the real provider, and the new kid it shows
// the only key attached in the tenant. Then it goes back to the clients and quits.
func assertRotatedThenQuit(t *testing.T, tm *termtest.Terminal, tmp, screen string) {
	t.Helper()
	if !strings.Contains(screen, "none failed") {
		t.Errorf("the demo consumer failed during the rotation:\n%s", screen)
	}
	newKID := regexp.MustCompile(`new key\s+(\S+) \(current\)`).FindStringSubmatch(screen)
	if newKID == nil {
		t.Fatalf("the done screen lacks the new kid:\n%s", screen)
	}
	sandboxDir := assertRealProvider(t, tmp)
	if got := attachedKIDs(t, filepath.Join(sandboxDir, "tenant.json"), "billing-worker"); !slices.Equal(got, []string{newKID[1]}) {
		t.Fatalf("attached to billing-worker: %v, want only the new key %s", got, newKID[1])
	}
	tm.Keys("Enter")
	tm.WaitForText("sorted by", 30*time.Second)
	tm.Type("q")
	if status := tm.WaitExit(20 * time.Second); status != 0 {
		t.Fatalf("rekey exited with status %d", status)
	}
}

// attachedKIDs reads a saved sandbox tenant and returns the kids attached to a client.
func attachedKIDs(t *testing.T, statePath, clientName string) []string {
	t.Helper()
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var state struct{ Clients []sandbox.Client }
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatal(err)
	}
	for _, c := range state.Clients {
		if c.Name != clientName || c.PrivateKeyJWT == nil {
			continue
		}
		var kids []string
		for _, id := range *c.PrivateKeyJWT {
			for _, cr := range c.Credentials {
				if cr.ID == id {
					kids = append(kids, cr.KID)
				}
			}
		}
		return kids
	}
	t.Fatalf("no client %s in %s", clientName, statePath)
	return nil
}

// TestDemoTapeReplays sends demo.tape's keystrokes and waits to the real binary in a real
// terminal, from the repository root as vhs runs it, so the tape is known to work wherever vhs
// (scripts/record-demo) is not at hand.
func TestDemoTapeReplays(t *testing.T) {
	t.Chdir("..") // the tape builds the command from the repository root
	f, err := os.Open("demo.tape")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tape, err := termtest.ParseTape(f)
	if err != nil {
		t.Fatal(err)
	}
	if termtest.Setting(tape, "Shell") != "bash" {
		t.Fatalf("demo.tape should set Shell bash, as this replay assumes")
	}
	// vhs's bash prompt is "> "; 1400×860 pixels at font size 14 is about 160×48 cells.
	env, tmp := terminalEnv(t)
	tm := termtest.Start(t, 160, 48, append(env, "PS1=> "), "bash --noprofile --norc")
	termtest.Replay(tm, tape)
	tm.WaitFor(regexp.MustCompile(`(?m)^>$`), 20*time.Second) // the wizard quit back to the shell
	assertRealProvider(t, tmp)
}

// TestWizardOnATenantFromTheEnvironment opens the wizard as on a real tenant — the settings
// from a sourced env file, the Terraform folder and system config from flags — against a
// running `rekey sandbox`, and checks the client screen and a live check of the known key.
func TestWizardOnATenantFromTheEnvironment(t *testing.T) {
	bin := tftest.Rekey(t)
	dir := filepath.Join(t.TempDir(), "sb")
	startSandbox(t, bin, dir)
	data, err := os.ReadFile(filepath.Join(dir, "sandbox.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m sandbox.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Clients, func(c sandbox.ManifestClient) bool { return c.Name == "billing-worker" })
	command := "source " + filepath.Join(dir, "env") + " && exec rekey --dir " + m.TerraformDir + " --system-config " + m.Clients[i].SystemConfig
	tm := termtest.Start(t, 100, 30, []string{terminalPath(t)}, "bash -c '"+command+"'")
	screen := tm.WaitForText("billing-worker", 60*time.Second)
	if strings.Contains(screen, "SANDBOX") {
		t.Errorf("the wizard on a tenant from the environment shows the sandbox badge:\n%s", screen)
	}
	tm.Type("/")
	tm.Type("billing")
	tm.Keys("Enter")
	tm.WaitForText("auth0_client_credentials.billing_worker", 20*time.Second)
	tm.WaitFor(regexp.MustCompile(`✓ \d+ ms`), 20*time.Second)
	tm.Keys("Escape")
	tm.WaitForText("sorted by", 10*time.Second) // else escape and q arrive together, as alt+q
	tm.Type("q")
	if status := tm.WaitExit(20 * time.Second); status != 0 {
		t.Fatalf("rekey exited with status %d", status)
	}
}
