package cli

import (
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"rekey/internal/termtest"
	"rekey/tfrunner/tftest"
)

// TestWizardFirstScreenAt10kClients runs the wizard in a real terminal against a sandbox tenant
// of 10,000 private_key_jwt clients under a paid production tenant's rate limits (the
// sandbox's default), as a real tenant (the env file's credentials). The list must be usable
// from the client pages alone, while the 10,000 credential pools (about ten minutes at 16
// requests/s) stream in: filtering finds a client and opening it shows its credentials.
// The time to the first list is logged; BenchmarkFirstList10k measures it.
func TestWizardFirstScreenAt10kClients(t *testing.T) {
	bin := tftest.Rekey(t)
	dir := filepath.Join(t.TempDir(), "sb")
	startSandbox(t, bin, dir, "--no-terraform", "--clients", "10000")
	env := []string{terminalPath(t)}
	start := time.Now()
	tm := termtest.Start(t, 120, 30, env, "bash -c '. "+dir+"/env && exec rekey --dir "+t.TempDir()+"'")
	tm.WaitForText("10,001 clients", 60*time.Second)
	t.Logf("first usable list after %.1f s (rekey's start, the token, 101 client pages)", time.Since(start).Seconds())
	screen := tm.WaitFor(regexp.MustCompile(`credentials \d[\d,]*/10,000`), 5*time.Second)
	if !regexp.MustCompile(`service-00001 +\S+ +1 `).MatchString(screen) {
		t.Errorf("rows should show their attached count before their pools are read:\n%s", screen)
	}

	tm.Type("/")
	tm.Type("service-09876")
	tm.WaitForText("1 of 10,001 clients", 5*time.Second)
	tm.Keys("Enter")
	tm.WaitForText("Credentials: 1 attached of 1", 20*time.Second)
	tm.Keys("Escape")
	tm.WaitFor(regexp.MustCompile(`credentials \d[\d,]*/10,000`), 10*time.Second)
}
