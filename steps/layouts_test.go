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
			svc := e.startConsumer(e.mc.SystemConfig)
			svc.waitRequests(t, 5)
			r := e.rotate(context.Background(), nil)
			if r.err != nil {
				t.Fatalf("rotate: %v", r.err)
			}
			assertEdited(t, r, edits[layout], e.mc.SystemConfig)
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

// TestRotateWithAnOverrideFile: billing-worker's keys live in keys_override.tf, whose
// private_key_jwt Terraform uses instead of the one in main.tf (a placeholder). rekey edits the
// override, where the keys win, and the rotation goes through the real provider.
func TestRotateWithAnOverrideFile(t *testing.T) {
	e := newEnv(t)
	src := string(readFile(t, e.mainTF()))
	start := strings.Index(src, `resource "auth0_client_credentials" "billing_worker" {`)
	from := strings.Index(src[start:], "  private_key_jwt {\n") + start
	to := strings.Index(src[from:], "\n  }\n") + from + len("\n  }\n")
	placeholder := "  private_key_jwt {\n    credentials {\n      name            = \"placeholder\"\n      credential_type = \"public_key\"\n      pem             = \"replaced by keys_override.tf\"\n    }\n  }\n"
	writeTF(t, e.mainTF(), []byte(src[:from]+placeholder+src[to:]))
	override := "resource \"auth0_client_credentials\" \"billing_worker\" {\n" + src[from:to] + "}\n"
	writeTF(t, filepath.Join(e.m.TerraformDir, "keys_override.tf"), []byte(override))
	e.assertPlanClean(t)

	svc := e.startConsumer(e.mc.SystemConfig)
	svc.waitRequests(t, 5)
	r := e.rotate(context.Background(), nil)
	if r.err != nil {
		t.Fatalf("rotate: %v", r.err)
	}
	assertEdited(t, r, "keys_override.tf", e.mc.SystemConfig)
	if !strings.Contains(string(readFile(t, e.mainTF())), placeholder) {
		t.Error("main.tf's placeholder changed")
	}
	e.assertRotated(t, r, svc)
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
