package steps_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"rekey/sandbox"
	"rekey/steps"
	"rekey/tfrunner"
)

// moment is a point inside an apply, seen in the sandbox tenant: the pool's kids and the
// attached kids of billing-worker.
type moment struct {
	name string
	step steps.Step
	at   func(e *env, pool, attached []string) bool
}

// The moments inside the attach apply (the provider POSTs the credential, then PATCHes the
// client to attach it) and the retire apply (PATCH to detach, then DELETE).
var moments = []moment{
	{"attach: created, not attached", steps.Attach, func(e *env, pool, attached []string) bool {
		return len(pool) == 2 && len(attached) == 1
	}},
	{"attach: created and attached", steps.Attach, func(e *env, pool, attached []string) bool {
		return len(attached) == 2
	}},
	{"retire: detached, not deleted", steps.Retire, func(e *env, pool, attached []string) bool {
		return len(pool) == 2 && len(attached) == 1 && !slices.Contains(attached, e.oldKID)
	}},
}

// Ways an apply is cut short.
const (
	cutCancel = "cancel" // the wizard's cancel, or SIGINT/SIGTERM of rekey: Terraform is interrupted and saves what it can
	cutKill   = "kill"   // SIGKILL: Terraform dies before saving any state
	cut5xx    = "5xx"    // the Management API fails every call for a while: the apply fails
)

// TestInterruptionMatrix cuts the attach and retire applies short at each moment, in each way,
// with a slowed Management API so the moments can be hit; then resumes (with --repair's
// consent to remove rekey's own leftovers) or, inside attach, aborts. Every case must end with
// exactly the expected credentials in the client's pool (not only attached), a clean plan, and
// a service that never failed a token request. One outcome is allowed besides: a failed apply
// (the 5xx cut) can save a state the guard then refuses to build on; that stop is checked to be
// safe (the old key alone in the pool, attached, and no failed request).
func TestInterruptionMatrix(t *testing.T) {
	for _, m := range moments {
		for _, cut := range []string{cutCancel, cutKill, cut5xx} {
			ends := []string{"resume"}
			if m.step == steps.Attach {
				ends = append(ends, "abort")
			}
			for _, end := range ends {
				t.Run(m.name+"/"+cut+"/"+end, func(t *testing.T) {
					t.Parallel()
					interrupted(t, m, cut, end)
				})
			}
		}
	}
}

func interrupted(t *testing.T, m moment, cut, end string) {
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	svc.waitRequests(t, 5)
	clientPath := "/api/v2/clients/" + e.mc.ClientID
	e.srv.SetFaults([]sandbox.Fault{{Path: clientPath, Latency: 700 * time.Millisecond}})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan run, 1)
	var current atomic.Int32 // the step running now
	current.Store(-1)
	go func() {
		done <- e.rotate(ctx, func(ev steps.Event) {
			if ev.Kind == steps.StepStarted {
				current.Store(int32(ev.Step))
			}
		})
	}()
	hit := false
	for !hit {
		select {
		case r := <-done:
			t.Fatalf("the rotation ended before the moment %q: %v", m.name, r.err)
		case <-time.After(10 * time.Millisecond):
		}
		pool, attached := e.poolKIDs(), e.attachedKIDs()
		hit = steps.Step(current.Load()) == m.step && m.at(e, pool, attached)
	}
	switch cut {
	case cutCancel:
		cancel()
	case cutKill:
		e.killTerraform(t)
		cancel()
	case cut5xx:
		e.srv.SetFaults([]sandbox.Fault{{Path: clientPath, ErrorRate: 1}})
	}
	first := <-done
	t.Logf("cut %s at %q: %v", cut, m.name, first.err)
	e.srv.SetFaults(nil)

	e.opts.Repair = true
	var r run
	if end == "abort" {
		r = call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
	} else {
		r = e.rotate(context.Background(), nil)
	}
	if r.err != nil && cut == cut5xx && errors.Is(r.err, steps.ErrUnsafe) {
		// A failed apply may save a state whose surviving credential lost its configured
		// parse_expiry_from_cert; the guard then refuses the next plan. That stop must be safe:
		// the old key alone, attached, and working.
		t.Logf("safe stop after a failed apply: %v", r.err)
		if pool := e.poolKIDs(); !slices.Equal(pool, []string{e.oldKID}) || !slices.Equal(e.attachedKIDs(), pool) {
			t.Errorf("after the safe stop: pool %v, attached %v; want only the old key %s", pool, e.attachedKIDs(), e.oldKID)
		}
		assertNoFailures(t, svc.Stop(), 20)
		return
	}
	if r.err != nil {
		t.Fatalf("%s after the cut: %v", end, r.err)
	}
	if recs := e.auditRecords(); len(recs) > 0 {
		t.Logf("repairs: %v", recs[len(recs)-1].Repairs)
	}
	want := []string{r.res.NewKID}
	if end == "abort" {
		want = []string{e.oldKID}
	}
	if pool := e.poolKIDs(); !slices.Equal(pool, want) || !slices.Equal(e.attachedKIDs(), want) {
		t.Errorf("pool %v, attached %v; want exactly %v", pool, e.attachedKIDs(), want)
	}
	e.assertPlanClean(t)
	assertNoFailures(t, svc.Stop(), 20)
}

// poolKIDs are the kids of every credential of billing-worker, attached or not.
func (e *env) poolKIDs() []string {
	e.t.Helper()
	creds, err := e.srv.Tenant().Credentials(e.mc.ClientID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, cr := range creds {
		out = append(out, cr.KID)
	}
	sort.Strings(out)
	return out
}

// killTerraform sends SIGKILL to the terraform apply of this env's workspace (its saved plan
// lies in the workspace's .rekey folder) and to the provider it runs.
func (e *env) killTerraform(t *testing.T) {
	t.Helper()
	plan := filepath.Join(e.m.TerraformDir, ".rekey")
	if out, err := exec.Command("pkill", "-KILL", "-f", "apply .*"+plan).CombinedOutput(); err != nil {
		t.Fatalf("pkill terraform apply: %v %s", err, out)
	}
}

// assertPlanClean runs terraform plan in the workspace and expects no changes.
func (e *env) assertPlanClean(t *testing.T) {
	t.Helper()
	runner, err := tfrunner.New(tfrunner.Config{Dir: e.m.TerraformDir, Binary: e.bin, Env: e.m.TerraformEnv()})
	if err != nil {
		t.Fatal(err)
	}
	if changes, err := runner.Plan(context.Background(), filepath.Join(t.TempDir(), "check.tfplan")); err != nil || changes {
		t.Errorf("terraform plan after the rotation: changes=%v err=%v", changes, err)
	}
}
