package steps_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"rekey/sandbox"
	"rekey/steps"
	"rekey/tfrunner"
)

// Ways an apply is cut short.
const (
	cutCancel = "cancel" // the wizard's cancel, or SIGINT/SIGTERM of rekey: Terraform is interrupted and saves what it can
	cutKill   = "kill"   // SIGKILL of Terraform and its provider: nothing after the call is sent, and no state is saved
	cut5xx    = "5xx"    // from this call on, the Management API answers 503 until the run ends: the apply fails
)

// applyCall is one request the auth0 provider sends during the attach or the retire apply.
type applyCall struct {
	step  steps.Step
	index int    // 1-based, within the step's apply
	what  string // method and path, with the client's and credentials' ids as they were
}

// TestInterruptionMatrix cuts the attach and the retire apply short at each Management API
// call the real provider makes inside them, in each way, then resumes (with --repair's consent
// to remove rekey's own leftovers) or, inside attach, aborts. The calls are those of an
// uninterrupted rotation, recorded first; the cut lands while the call is on its way (the
// sandbox holds it until the cut is done). Every case must end with exactly the expected
// credentials in the client's pool (not only attached), a clean plan, and a service that never
// failed a token request.
func TestInterruptionMatrix(t *testing.T) {
	calls := recordApplyCalls(t)
	counts := map[steps.Step]int{}
	for _, c := range calls {
		counts[c.step]++
	}
	if counts[steps.Attach] < 3 || counts[steps.Retire] < 3 {
		t.Fatalf("recorded too few provider calls to cut at: %v", calls)
	}
	for _, c := range calls {
		for _, cut := range []string{cutCancel, cutKill, cut5xx} {
			ends := []string{"resume"}
			if c.step == steps.Attach {
				ends = append(ends, "abort")
			}
			for _, end := range ends {
				t.Run(fmt.Sprintf("%s/call%d/%s/%s", c.step, c.index, cut, end), func(t *testing.T) {
					t.Parallel()
					t.Logf("cutting %s at %s", c.step, c.what)
					interrupted(t, c, cut, end)
				})
			}
		}
	}
}

// applyWatch counts the provider's requests inside one step's apply: from the step's plan
// (PlanReady) until the step ends. It is fed by the engine's events and the sandbox's observer.
type applyWatch struct {
	mu       sync.Mutex
	applying steps.Step
	active   bool
	count    int
}

func (w *applyWatch) event(ev steps.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case ev.Kind == steps.PlanReady:
		w.applying, w.active, w.count = ev.Step, true, 0
	case ev.Kind == steps.StepFinished || ev.Kind == steps.StepFailed:
		w.active = false
	}
}

// providerCall reports whether r is the provider's and, if so, the step whose apply sent it
// and its index there.
func (w *applyWatch) providerCall(r *http.Request) (steps.Step, int, bool) {
	if !strings.Contains(r.UserAgent(), "Terraform/") {
		return 0, 0, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.active {
		return 0, 0, false
	}
	w.count++
	return w.applying, w.count, true
}

// recordApplyCalls rotates billing-worker once, uninterrupted, and records the provider's
// requests inside the attach and the retire apply.
func recordApplyCalls(t *testing.T) []applyCall {
	e := newEnv(t)
	var w applyWatch
	var mu sync.Mutex
	var calls []applyCall
	e.srv.Observe(func(r *http.Request) {
		if step, i, ok := w.providerCall(r); ok && (step == steps.Attach || step == steps.Retire) {
			mu.Lock()
			calls = append(calls, applyCall{step: step, index: i, what: r.Method + " " + r.URL.Path})
			mu.Unlock()
		}
	})
	if r := e.rotate(context.Background(), w.event); r.err != nil {
		t.Fatalf("the uninterrupted rotation: %v", r.err)
	}
	e.srv.Observe(nil)
	for _, c := range calls {
		t.Logf("%s apply, call %d: %s", c.step, c.index, c.what)
	}
	return calls
}

func interrupted(t *testing.T, at applyCall, cut, end string) {
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	svc.waitRequests(t, 5)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var w applyWatch
	var once sync.Once
	e.srv.Observe(func(r *http.Request) {
		if step, i, ok := w.providerCall(r); ok && step == at.step && i == at.index {
			once.Do(func() {
				t.Logf("cut %s at %s %s", cut, r.Method, r.URL.Path)
				switch cut {
				case cutCancel:
					cancel()
				case cutKill:
					e.killTerraform(t)
					cancel()
				case cut5xx:
					e.srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/", ErrorRate: 1}})
				}
			})
		}
	})
	first := e.rotate(ctx, w.event)
	e.srv.Observe(nil)
	e.srv.SetFaults(nil)
	t.Logf("the cut run ended: %v", first.err)

	e.opts.Repair = true
	var r run
	if end == "abort" {
		r = call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
	} else {
		r = e.rotate(context.Background(), nil)
	}
	if r.err != nil {
		t.Fatalf("%s after the cut: %v", end, r.err)
	}
	if recs := e.auditRecords(); len(recs) > 0 && len(recs[len(recs)-1].Repairs) > 0 {
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

// killTerraform sends SIGKILL to the process group of this env's terraform apply (its saved
// plan lies in the workspace's .rekey folder): Terraform and the provider it runs.
func (e *env) killTerraform(t *testing.T) {
	t.Helper()
	plan := filepath.Join(e.m.TerraformDir, ".rekey")
	out, err := exec.Command("pgrep", "-f", "apply .*"+plan).Output()
	if err != nil {
		t.Fatalf("pgrep terraform apply: %v", err)
	}
	for _, field := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill terraform's process group %d: %v", pid, err)
		}
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
