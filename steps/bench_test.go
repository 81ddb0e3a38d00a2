package steps_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/steps"
	"rekey/tfrunner"
)

// BenchmarkRotationOverhead times a whole headless rotation against the rotation guide's bare
// procedure, side by side on one sandbox workspace (real Terraform, the real auth0 provider):
//
//   - rekey: steps.Rotate of billing-worker with AutoApprove — every step, gate and guard,
//     its live token checks and system-config edits; no usage-gate soak (Deps.Usage nil: the
//     soak is a configured wait, not overhead);
//   - bare: for reporting-cron, `openssl genrsa` and `openssl rsa -pubout`, add a credentials
//     block, `terraform apply -auto-approve`, remove the old block, `terraform apply
//     -auto-approve`, `terraform plan -detailed-exitcode`.
//
// The two alternate, each op is one of each, and the op's metrics are the min, median and max
// of each and the ratio of the medians (rekey's overhead: ≤ 1.15 is the target).
//
//	scripts/bench-rotation (go test ./steps -run '^$' -bench RotationOverhead -benchtime 5x)
func BenchmarkRotationOverhead(b *testing.B) {
	e := newEnvWith(b, sandboxtest.RealProvider(b))
	deps := e.deps(nil, nil)
	deps.Usage = nil
	opts := e.opts
	opts.Again = true // each op rotates again at once
	bare := newBareProcedure(b, e, "reporting-cron")
	var rekey, manual []time.Duration
	for range b.N {
		start := time.Now()
		if r := call(context.Background(), steps.Rotate, opts, deps, nil); r.err != nil {
			b.Fatalf("rotate: %v", r.err)
		}
		rekey = append(rekey, time.Since(start))
		start = time.Now()
		bare.rotate(b)
		manual = append(manual, time.Since(start))
	}
	b.StopTimer()
	report := func(name string, ds []time.Duration) time.Duration {
		slices.Sort(ds)
		b.ReportMetric(ds[0].Seconds(), name+"-min-s")
		b.ReportMetric(ds[len(ds)/2].Seconds(), name+"-median-s")
		b.ReportMetric(ds[len(ds)-1].Seconds(), name+"-max-s")
		return ds[len(ds)/2]
	}
	r, m := report("rekey", rekey), report("bare", manual)
	b.ReportMetric(r.Seconds()/m.Seconds(), "ratio")
}

// bareProcedure rotates one client's key the way the rotation guide does by hand.
type bareProcedure struct {
	e        *env
	clientID string
	state    *tfjson.State // for finding the client's resource: the operator knows where it is
	dir      string        // for the key files
	n        int
}

func newBareProcedure(b *testing.B, e *env, name string) *bareProcedure {
	i := slices.IndexFunc(e.m.Clients, func(c sandbox.ManifestClient) bool { return c.Name == name })
	if i < 0 {
		b.Fatalf("no client %s", name)
	}
	runner, err := tfrunner.New(tfrunner.Config{Binary: e.bin, Env: e.m.TerraformEnv(), Dir: e.m.TerraformDir})
	if err != nil {
		b.Fatal(err)
	}
	state, err := runner.State(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return &bareProcedure{e: e, clientID: e.m.Clients[i].ClientID, state: state, dir: b.TempDir()}
}

func (p *bareProcedure) rotate(b *testing.B) {
	p.n++
	key, pub := filepath.Join(p.dir, fmt.Sprintf("key%d.pem", p.n)), filepath.Join(p.dir, fmt.Sprintf("key%d.pub", p.n))
	p.run(b, "", "openssl", "genrsa", "-out", key, "2048")
	p.run(b, "", "openssl", "rsa", "-in", key, "-pubout", "-out", pub)
	pem, err := os.ReadFile(pub)
	if err != nil {
		b.Fatal(err)
	}
	name := fmt.Sprintf("bare %d", p.n)
	p.edit(b, func(ws *tfrunner.Workspace, res *tfrunner.CredentialsResource) (tfrunner.Edit, error) {
		return ws.AddCredential(res, tfrunner.NewCredentialBlock{Name: name, Algorithm: "RS256", PEM: string(pem)})
	})
	p.terraform(b, "apply", "-input=false", "-auto-approve")
	p.edit(b, func(ws *tfrunner.Workspace, res *tfrunner.CredentialsResource) (tfrunner.Edit, error) {
		return ws.RemoveCredential(res, func(c tfrunner.CredentialBlock) bool { return c.Name != name })
	})
	p.terraform(b, "apply", "-input=false", "-auto-approve")
	p.terraform(b, "plan", "-input=false", "-detailed-exitcode")
}

// edit changes the client's credentials block in the HCL.
func (p *bareProcedure) edit(b *testing.B, change func(*tfrunner.Workspace, *tfrunner.CredentialsResource) (tfrunner.Edit, error)) {
	ws, err := tfrunner.LoadWorkspace(p.e.m.TerraformDir)
	if err != nil {
		b.Fatal(err)
	}
	res, err := ws.Credentials(p.clientID, p.state)
	if err != nil {
		b.Fatal(err)
	}
	ed, err := change(ws, res)
	if err == nil {
		err = ed.Write()
	}
	if err != nil {
		b.Fatal(err)
	}
}

func (p *bareProcedure) terraform(b *testing.B, args ...string) {
	p.run(b, p.e.m.TerraformDir, p.e.bin.Path, args...)
}

func (p *bareProcedure) run(b *testing.B, dir, name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range p.e.m.TerraformEnv() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
