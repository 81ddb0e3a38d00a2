package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/steps"
)

// TestRotateEachLayout rotates billing-worker end to end in every layout of `rekey sandbox
// --layout`, through real Terraform and the real provider, with a service requesting tokens
// the whole time: rekey edits where the layout declares the keys (the literal block, the
// for_each map in locals, terraform.tfvars, the module call's map), the pool ends with the new
// key alone, the plan is clean, and no token request fails.
func TestRotateEachLayout(t *testing.T) {
	edits := map[sandbox.Layout]string{
		sandbox.LayoutLiteral: "main.tf", sandbox.LayoutFile: "main.tf", sandbox.LayoutForEach: "main.tf",
		sandbox.LayoutDynamic: "terraform.tfvars", sandbox.LayoutModule: "main.tf", sandbox.LayoutJSON: "main.tf.json",
		sandbox.LayoutCount: "main.tf",
	}
	for _, layout := range sandbox.Layouts {
		if layout == sandbox.LayoutComputed {
			continue // rekey cannot edit it: the manual tests rotate it
		}
		t.Run(string(layout), func(t *testing.T) {
			e := newEnvIn(t, sandboxtest.RealProvider(t), layout)
			r, svc := e.rotateEditing(t, edits[layout])
			if layout == sandbox.LayoutFile || layout == sandbox.LayoutDynamic || layout == sandbox.LayoutModule {
				pub := filepath.Join(e.m.TerraformDir, "keys", clientName+"-"+r.res.NewKID[:8]+".pem")
				if _, err := os.Stat(pub); err != nil {
					t.Errorf("the new public key file beside the old one: %v", err)
				}
			}
			e.assertRotated(t, r, svc)
		})
	}
}

// rotateEditing rotates billing-worker with a service requesting tokens, and checks that the
// rotation showed two Terraform diffs (besides those of the system config), the attach and the
// retire edit, both of file (relative to the workspace).
func (e *env) rotateEditing(t *testing.T, file string) (run, *runningConsumer) {
	t.Helper()
	svc := e.startConsumer(e.mc.SystemConfig)
	svc.waitRequests(t, 5)
	r := e.rotate(context.Background(), nil)
	if r.err != nil {
		t.Fatalf("rotate: %v", r.err)
	}
	var diffs []string
	for _, ev := range r.events {
		if ev.Kind == steps.Diff && !strings.HasPrefix(ev.Text, "--- a/"+filepath.Base(e.mc.SystemConfig)+"\n") {
			diffs = append(diffs, ev.Text)
		}
	}
	want := "--- a/" + file + "\n"
	if len(diffs) != 2 || !strings.HasPrefix(diffs[0], want) || !strings.HasPrefix(diffs[1], want) {
		t.Errorf("the Terraform diffs shown:\n%s\nwant the attach and the retire edit of %s", strings.Join(diffs, "\n"), file)
	}
	return r, svc
}

// assertRotated checks the end of a rotation (assertRotatedOnce), the new key alone in the
// client's pool too, a clean plan, and no failed request of the service (at least 20).
func (e *env) assertRotated(t *testing.T, r run, svc *runningConsumer) {
	t.Helper()
	assertRotatedOnce(t, e, r)
	if pool := e.poolKIDs(); !slices.Equal(pool, []string{r.res.NewKID}) || !slices.Equal(e.attachedKIDs(), pool) {
		t.Errorf("pool %v, attached %v; want only the new key %s", pool, e.attachedKIDs(), r.res.NewKID)
	}
	e.assertPlanClean(t)
	assertNoFailures(t, svc.Stop(), 20)
}

// TestRotationUnderRateLimits rotates billing-worker on a sandbox with a paid production
// tenant's rate limits (DefaultRateLimits), through the real provider, with a service
// requesting tokens: rekey, Terraform's provider and the service stay under them, and the
// tenant refuses no request.
func TestRotationUnderRateLimits(t *testing.T) {
	e := newEnvSetup(t, sandboxtest.RealProvider(t), sandbox.SetupOptions{RateLimits: sandbox.DefaultRateLimits, Terraform: &sandbox.TerraformOptions{}})
	r, svc := e.rotateEditing(t, "main.tf")
	e.assertRotated(t, r, svc)
	if n := e.srv.RateLimited(); n != 0 {
		t.Errorf("the tenant refused %d requests (429); want none", n)
	}
}
