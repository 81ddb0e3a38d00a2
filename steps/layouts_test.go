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
	}
	for _, layout := range sandbox.Layouts {
		if layout == sandbox.LayoutComputed {
			continue // rekey cannot edit it: the manual tests rotate it
		}
		t.Run(string(layout), func(t *testing.T) {
			e := newEnvIn(t, sandboxtest.RealProvider(t), layout)
			svc := e.startConsumer(e.mc.SystemConfig)
			svc.waitRequests(t, 5)
			r := e.rotate(context.Background(), nil)
			if r.err != nil {
				t.Fatalf("rotate: %v", r.err)
			}
			assertEdited(t, r, edits[layout], e.mc.SystemConfig)
			if pool := e.poolKIDs(); !slices.Equal(pool, []string{r.res.NewKID}) || !slices.Equal(e.attachedKIDs(), pool) {
				t.Errorf("pool %v, attached %v; want only the new key %s", pool, e.attachedKIDs(), r.res.NewKID)
			}
			if layout == sandbox.LayoutFile || layout == sandbox.LayoutDynamic || layout == sandbox.LayoutModule {
				pub := filepath.Join(e.m.TerraformDir, "keys", clientName+"-"+r.res.NewKID[:8]+".pem")
				if _, err := os.Stat(pub); err != nil {
					t.Errorf("the new public key file beside the old one: %v", err)
				}
			}
			e.assertPlanClean(t)
			assertNoFailures(t, svc.Stop(), 20)
		})
	}
}

// assertEdited checks that the rotation showed two Terraform diffs (besides those of the system
// config), the attach and the retire edit, both of file (relative to the workspace).
func assertEdited(t *testing.T, r run, file, systemConfig string) {
	t.Helper()
	var diffs []string
	for _, ev := range r.events {
		if ev.Kind == steps.Diff && !strings.HasPrefix(ev.Text, "--- a/"+filepath.Base(systemConfig)+"\n") {
			diffs = append(diffs, ev.Text)
		}
	}
	want := "--- a/" + file + "\n"
	if len(diffs) != 2 || !strings.HasPrefix(diffs[0], want) || !strings.HasPrefix(diffs[1], want) {
		t.Errorf("the Terraform diffs shown:\n%s\nwant the attach and the retire edit of %s", strings.Join(diffs, "\n"), file)
	}
}
