package tfrunner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/tfrunner"
)

// TestProviderSession attaches a workspace's commands to one provider process, for the real
// provider and the stand-in: a plan and a state read go through it, and once it is gone they
// fail, which shows they did not start a provider of their own.
func TestProviderSession(t *testing.T) {
	for _, tc := range []struct {
		name     string
		provider func(testing.TB) sandbox.Provider
	}{{"real", sandboxtest.RealProvider}, {"stand-in", sandboxtest.StandIn}} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSandboxWorkspace(t, tc.provider(t))
			runner := s.sharingRunner(t)
			defer runner.Close()
			if changes, err := runner.Plan(context.Background(), filepath.Join(t.TempDir(), "p.tfplan")); err != nil || changes {
				t.Fatalf("plan through the session: changes %v, %v", changes, err)
			}
			if _, err := runner.State(context.Background()); err != nil {
				t.Fatalf("state through the session: %v", err)
			}
			pid := tfrunner.ProviderPID(runner)
			if pid == 0 {
				t.Fatal("the runner started no provider session")
			}
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if _, err := runner.State(context.Background()); err == nil {
				t.Error("a state read still worked with the session's provider killed: Terraform started its own")
			}
		})
	}
}

// TestProviderSessionRefusesAnUnlockedBinary: an installed provider that does not match the
// lock file's hash is not started; Terraform runs (and checks) the provider itself.
func TestProviderSessionRefusesAnUnlockedBinary(t *testing.T) {
	s := startSandboxWorkspace(t, sandboxtest.RealProvider(t))
	lock := filepath.Join(s.manifest.TerraformDir, ".terraform.lock.hcl")
	data, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), `"h1:`)
	if i < 0 {
		t.Fatalf("no h1 hash in the lock file:\n%s", data)
	}
	tampered := string(data[:i+4]) + "AAAA" + string(data[i+8:])
	if err := os.WriteFile(lock, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = tfrunner.StartProviderSession(context.Background(), tfrunner.Config{Dir: s.manifest.TerraformDir, Env: s.manifest.TerraformEnv()})
	if err == nil || !strings.Contains(err.Error(), "does not match the lock file") {
		t.Fatalf("StartProviderSession with a tampered lock file: %v", err)
	}
	runner := s.sharingRunner(t)
	defer runner.Close()
	if _, err := runner.State(context.Background()); err == nil || tfrunner.ProviderPID(runner) != 0 {
		t.Errorf("a runner with a tampered lock file: pid %d, error %v; want Terraform's own refusal", tfrunner.ProviderPID(runner), err)
	}
}

// sharingRunner is a Runner of the workspace with ShareProvider set.
func (s *sandboxRun) sharingRunner(t testing.TB) *tfrunner.Runner {
	t.Helper()
	r, err := tfrunner.New(tfrunner.Config{Dir: s.manifest.TerraformDir, Binary: s.binary, Env: s.manifest.TerraformEnv(), ShareProvider: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
