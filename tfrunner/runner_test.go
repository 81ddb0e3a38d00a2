package tfrunner_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

// builtinWorkspace writes a folder whose only resource uses Terraform's built-in provider, so
// these tests need no provider at all.
func builtinWorkspace(t *testing.T, hcl string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// collect starts a reader of the runner's output and returns a func that stops it and returns
// the lines read.
func collect() (chan tfrunner.Line, func() []string) {
	ch := make(chan tfrunner.Line)
	var lines []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for l := range ch {
			lines = append(lines, l.Text)
		}
	})
	return ch, func() []string { close(ch); wg.Wait(); return lines }
}

func TestRunnerPlanShowApplyState(t *testing.T) {
	ctx := context.Background()
	dir := builtinWorkspace(t, "resource \"terraform_data\" \"x\" {\n  input = \"a\"\n}\n")
	out, stop := collect()
	r, err := tfrunner.New(tfrunner.Config{Dir: dir, Binary: tftest.Terraform(t), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Init(ctx, false); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(dir, "rekey.tfplan")
	changes, err := r.Plan(ctx, planFile)
	if err != nil || !changes {
		t.Fatalf("plan: changes=%v err=%v", changes, err)
	}
	plan, err := r.ShowPlan(ctx, planFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.ResourceChanges) != 1 || plan.ResourceChanges[0].Address != "terraform_data.x" || !plan.ResourceChanges[0].Change.Actions.Create() {
		t.Fatalf("saved plan: %+v", plan.ResourceChanges)
	}
	if err := r.Apply(ctx, planFile); err != nil {
		t.Fatal(err)
	}
	state, err := r.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := state.Values.RootModule.Resources[0].AttributeValues["input"]; got != "a" {
		t.Errorf("state input = %v", got)
	}
	if changes, err := r.Plan(ctx, planFile); err != nil || changes {
		t.Errorf("plan after apply: changes=%v err=%v", changes, err)
	}
	lines := strings.Join(stop(), "\n")
	for _, want := range []string{"Terraform has been successfully initialized", "terraform_data.x: Plan to create", "Apply complete! Resources: 1 added"} {
		if !strings.Contains(lines, want) {
			t.Errorf("streamed output lacks %q:\n%s", want, lines)
		}
	}
}

func TestRunnerReportsHeldLock(t *testing.T) {
	ctx := context.Background()
	bin := tftest.Terraform(t)
	dir := builtinWorkspace(t, "resource \"terraform_data\" \"x\" {\n  input = \"a\"\n}\n")
	r, err := tfrunner.New(tfrunner.Config{Dir: dir, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Init(ctx, false); err != nil {
		t.Fatal(err)
	}
	// A second process holds the lock: an interactive apply waiting at its prompt.
	holder := exec.Command(bin.Path, "apply", "-input=true", "-no-color")
	holder.Dir = dir
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); holder.Wait() })
	waitFor(t, stdout, "Enter a value")

	_, err = r.Plan(ctx, filepath.Join(dir, "p.tfplan"))
	var lockErr *tfrunner.LockError
	if !errors.As(err, &lockErr) {
		t.Fatalf("plan under a held lock: %T %v", err, err)
	}
	if !strings.Contains(lockErr.Detail, "OperationTypeApply") || !strings.Contains(err.Error(), "force-unlock") {
		t.Errorf("lock error lacks the holder's info or the way out: %v", err)
	}
}

func TestRunnerReportsMissingInit(t *testing.T) {
	dir := builtinWorkspace(t, "terraform {\n  required_providers {\n    auth0 = { source = \"auth0/auth0\" }\n  }\n}\n")
	r, err := tfrunner.New(tfrunner.Config{Dir: dir, Binary: tftest.Terraform(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Plan(context.Background(), filepath.Join(dir, "p.tfplan"))
	var notInit *tfrunner.NotInitializedError
	if !errors.As(err, &notInit) || !strings.Contains(err.Error(), "run `terraform init`") {
		t.Fatalf("plan before init: %T %v", err, err)
	}
}

// slowPlan saves a plan whose apply takes 30 seconds, in a workspace of its own.
func slowPlan(t *testing.T) (*tfrunner.Runner, string) {
	t.Helper()
	dir := builtinWorkspace(t, `resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 30"
  }
}
`)
	out, stop := collect()
	t.Cleanup(func() { stop() })
	r, err := tfrunner.New(tfrunner.Config{Dir: dir, Binary: tftest.Terraform(t), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Init(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(dir, "p.tfplan")
	if _, err := r.Plan(context.Background(), planFile); err != nil {
		t.Fatal(err)
	}
	return r, planFile
}

func TestRunnerCancelReleasesLock(t *testing.T) {
	r, planFile := slowPlan(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(2*time.Second, cancel)
	err := r.Apply(ctx, planFile)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled apply: %v", err)
	}
	// The lock is free again: a plan in the same folder succeeds at once.
	if _, err := r.Plan(context.Background(), planFile); err != nil {
		t.Fatalf("plan after a cancelled apply: %v", err)
	}
}

// TestRunnerReportsKilledTerraform: a Terraform apply killed with SIGKILL (by the OOM killer,
// say) is reported as killed, with what it means for the state lock, not as a cancel.
func TestRunnerReportsKilledTerraform(t *testing.T) {
	r, planFile := slowPlan(t)
	time.AfterFunc(2*time.Second, func() { exec.Command("pkill", "-KILL", "-f", "apply .*"+planFile).Run() })
	err := r.Apply(context.Background(), planFile)
	if err == nil || !strings.Contains(err.Error(), "terraform apply was killed") || !strings.Contains(err.Error(), "force-unlock") {
		t.Fatalf("killed apply: %v", err)
	}
}

func TestRunnerReportsProviderError(t *testing.T) {
	dir := builtinWorkspace(t, `resource "terraform_data" "bad" {
  provisioner "local-exec" {
    command = "exit 3"
  }
}
`)
	r, err := tfrunner.New(tfrunner.Config{Dir: dir, Binary: tftest.Terraform(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	planFile := filepath.Join(dir, "p.tfplan")
	if err := r.Init(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Plan(ctx, planFile); err != nil {
		t.Fatal(err)
	}
	err = r.Apply(ctx, planFile)
	var perr *tfrunner.ProviderError
	if !errors.As(err, &perr) || perr.Address != "terraform_data.bad" {
		t.Fatalf("failing apply: %T %v", err, err)
	}
}

// waitFor reads r until a line contains want.
func waitFor(t *testing.T, r interface{ Read([]byte) (int, error) }, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Split(bufio.ScanWords)
		var seen strings.Builder
		for sc.Scan() {
			seen.WriteString(sc.Text() + " ")
			if strings.Contains(seen.String(), want) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("output ended before %q", want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no %q within 30s", want)
	}
}
