package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rekey/steps"
)

// TestRotateManualEditHeadless: on a `rekey sandbox --layout computed` workspace (the real
// provider), rekey rotate refuses without --manual-edit and names the flag and the state
// address; with it, it prints the edit to make, writes the new public key beside the HCL, and
// stops with exit 3 and status declined, the attach step recorded for the next run.
func TestRotateManualEditHeadless(t *testing.T) {
	s := startCLISandbox(t, nil, "--layout", "computed")
	out := s.run(t, s.rotate(t), nil, "")
	if out.code != exitError || !strings.Contains(out.stderr, "--manual-edit") || !strings.Contains(out.stderr, `auth0_client_credentials.all["billing-worker"]`) {
		t.Fatalf("without --manual-edit: exit %d\n%s", out.code, out.stderr)
	}
	out = s.run(t, s.rotate(t, "--manual-edit"), nil, "")
	res := out.result(t)
	if out.code != exitDeclined || res["status"] != steps.StatusDeclined {
		t.Fatalf("with --manual-edit: exit %d, %v\n%s", out.code, res, out.stderr)
	}
	for _, want := range []string{"Add a credential for the new key", `auth0_client_credentials.all["billing-worker"]`, "(declared at ", "main.tf:", "make the edit, then run rekey again"} {
		if !strings.Contains(out.stderr, want) {
			t.Errorf("the output lacks %q:\n%s", want, out.stderr)
		}
	}
	pems, _ := filepath.Glob(filepath.Join(s.m.TerraformDir, "billing-worker-*.pem"))
	if len(pems) != 1 {
		t.Fatalf("the new public key file: %v", pems)
	}
	if data, _ := os.ReadFile(pems[0]); !strings.HasPrefix(string(data), "-----BEGIN PUBLIC KEY-----") && !strings.HasPrefix(string(data), "-----BEGIN CERTIFICATE-----") {
		t.Errorf("%s is not a public key:\n%s", pems[0], data)
	}
	stepsDone := map[string]string{}
	for _, st := range res["steps"].([]any) {
		m := st.(map[string]any)
		stepsDone[m["step"].(string)] = m["status"].(string)
	}
	if stepsDone["stage"] != "done" || stepsDone["attach"] != "failed" {
		t.Errorf("steps %v: want stage done and attach waiting for the edit", stepsDone)
	}
}
