package tfrunner_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"rekey/sandbox/sandboxtest"
	"rekey/tfrunner"
)

// BenchmarkRotationApplies times the two Terraform changes of a rotation on the sandbox: the
// attach (add one credential) and the retire (remove the old one). "rekey" is the guarded
// path — HCL edit, plan -out, show -json, provider versions, guard, apply of the saved plan;
// "bare-terraform" is the rotation guide's manual procedure — the same edit, then
// `terraform plan -out` and `terraform apply PLAN`. The difference is rekey's overhead.
func BenchmarkRotationApplies(b *testing.B) {
	b.Run("rekey", func(b *testing.B) {
		s := startSandboxWorkspace(b, sandboxtest.RealProvider(b))
		s.runner = s.sharingRunner(b) // as the engine runs Terraform: one provider process
		b.Cleanup(s.runner.Close)
		benchmarkRotation(b, s, func(intent tfrunner.Intent, planFile string) {
			if _, findings := s.planAndGuard(b, planFile, intent); len(findings) != 0 {
				b.Fatalf("guard: %+v", findings)
			}
			if err := s.runner.Apply(context.Background(), planFile); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("bare-terraform", func(b *testing.B) {
		s := startSandboxWorkspace(b, sandboxtest.RealProvider(b))
		env := os.Environ()
		for k, v := range s.manifest.TerraformEnv() {
			env = append(env, k+"="+v)
		}
		terraform := func(args ...string) {
			cmd := exec.Command(s.binary.Path, args...)
			cmd.Dir, cmd.Env = s.manifest.TerraformDir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("terraform %v: %v\n%s", args, err, out)
			}
		}
		benchmarkRotation(b, s, func(_ tfrunner.Intent, planFile string) {
			terraform("plan", "-input=false", "-out="+planFile)
			terraform("apply", "-input=false", planFile)
		})
	})
}

// benchmarkRotation runs attach then retire b.N times, timing the two with apply and
// reporting each in milliseconds; editing the HCL is part of the timed work.
func benchmarkRotation(b *testing.B, s *sandboxRun, apply func(tfrunner.Intent, string)) {
	planFile := filepath.Join(b.TempDir(), "bench.tfplan")
	oldKID := s.client.Credentials[0].KID
	var attach, retire time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		newPEM, newKID := newPublicKey(b)
		b.StartTimer()

		start := time.Now()
		ws, res := s.credentials(b)
		edit, err := ws.AddCredential(res, tfrunner.NewCredentialBlock{Name: "next " + newKID[:8], Algorithm: "RS256", PEM: newPEM})
		if err != nil {
			b.Fatal(err)
		}
		if err := edit.Write(); err != nil {
			b.Fatal(err)
		}
		apply(tfrunner.Intent{Credentials: res.Address, Client: res.ClientRef, AddKID: newKID}, planFile)
		attach += time.Since(start)

		start = time.Now()
		ws, res = s.credentials(b)
		edit, err = ws.RemoveCredential(res, func(c tfrunner.CredentialBlock) bool { return blockKID(b, c) == oldKID })
		if err != nil {
			b.Fatal(err)
		}
		if err := edit.Write(); err != nil {
			b.Fatal(err)
		}
		apply(tfrunner.Intent{Credentials: res.Address, Client: res.ClientRef, RemoveKID: oldKID}, planFile)
		retire += time.Since(start)
		oldKID = newKID
	}
	b.ReportMetric(float64(attach.Milliseconds())/float64(b.N), "attach-ms")
	b.ReportMetric(float64(retire.Milliseconds())/float64(b.N), "retire-ms")
}
