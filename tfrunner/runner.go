package tfrunner

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// Config describes one Terraform working directory and how to run Terraform there.
type Config struct {
	Dir    string
	Binary Binary
	Env    map[string]string // on top of the variables Environment passes from rekey's own
	Output chan<- Line       // every output line, as it is written; nil to discard
	// ShareProvider runs the commands after init against one auth0 provider process (a
	// ProviderSession), when the installed provider can serve so; Close ends it.
	ShareProvider bool
}

// Runner runs Terraform in one folder with a single *tfexec.Terraform. Plans are saved to a
// file and applied from it, so what was shown is what is applied.
type Runner struct {
	tf           *tfexec.Terraform
	cfg          Config
	session      *ProviderSession
	sessionTried bool
}

// New returns a Runner for cfg.Dir.
func New(cfg Config) (*Runner, error) {
	tf, err := tfexec.NewTerraform(cfg.Dir, cfg.Binary.Path)
	if err != nil {
		return nil, fmt.Errorf("terraform in %s: %w", cfg.Dir, err)
	}
	if err := tf.SetEnv(Environment(os.Environ(), cfg.Env)); err != nil {
		return nil, err
	}
	return &Runner{tf: tf, cfg: cfg}, nil
}

// Dir is the working directory.
func (r *Runner) Dir() string { return r.cfg.Dir }

// outputMode says what a command's standard output is and whether it is shown.
type outputMode int

const (
	textOutput  outputMode = iota // human text, streamed
	jsonOutput                    // JSON UI messages, streamed as their @message
	quietOutput                   // a JSON document the caller decodes; not streamed
)

// Close ends the provider session, if one was started.
func (r *Runner) Close() {
	if r.session != nil {
		r.session.Close()
		r.session = nil
	}
}

// shareProvider starts the provider session, once, for the commands that follow; when the
// provider cannot serve so, they run as usual (Terraform starts it for each).
func (r *Runner) shareProvider(ctx context.Context) {
	if !r.cfg.ShareProvider || r.sessionTried {
		return
	}
	r.sessionTried = true
	r.session, _ = StartProviderSession(ctx, r.cfg)
}

// attached adds to a command's options the one that attaches it to the provider session.
func attached[O any](r *Runner, opts ...O) []O {
	if r.session != nil {
		opts = append(opts, any(r.session.Reattach()).(O))
	}
	return opts
}

// run streams a command's output to the Output channel and returns its typed error.
func (r *Runner) run(ctx context.Context, command string, mode outputMode, fn func(stdout io.Writer) error) error {
	if command != "init" {
		r.shareProvider(ctx)
	}
	stdout := &lineWriter{ctx: ctx, out: r.cfg.Output, json: mode == jsonOutput}
	stderr := &lineWriter{ctx: ctx, out: r.cfg.Output, stderr: true}
	r.tf.SetStderr(stderr)
	r.tf.SetStdout(nil)
	if mode == textOutput {
		r.tf.SetStdout(stdout)
	}
	err := fn(stdout)
	stdout.flush()
	stderr.flush()
	if err != nil {
		return classify(command, r.cfg.Dir, stdout.errors(), err)
	}
	return nil
}

// Init runs terraform init; upgrade refreshes the lock file's provider hashes.
func (r *Runner) Init(ctx context.Context, upgrade bool) error {
	return r.run(ctx, "init", textOutput, func(io.Writer) error {
		return r.tf.Init(ctx, tfexec.Upgrade(upgrade))
	})
}

// Plan saves a plan to planFile and reports whether it has changes.
func (r *Runner) Plan(ctx context.Context, planFile string) (bool, error) {
	var changes bool
	err := r.run(ctx, "plan", jsonOutput, func(stdout io.Writer) error {
		var err error
		changes, err = r.tf.PlanJSON(ctx, stdout, attached[tfexec.PlanOption](r, tfexec.Out(planFile), tfexec.LockTimeout("0s"))...)
		return err
	})
	return changes, err
}

// ShowPlan reads a saved plan as JSON.
func (r *Runner) ShowPlan(ctx context.Context, planFile string) (*tfjson.Plan, error) {
	var plan *tfjson.Plan
	err := r.run(ctx, "show", quietOutput, func(io.Writer) error {
		var err error
		plan, err = r.tf.ShowPlanFile(ctx, planFile, attached[tfexec.ShowOption](r)...)
		return err
	})
	return plan, err
}

// Apply applies a saved plan, exactly as planned.
func (r *Runner) Apply(ctx context.Context, planFile string) error {
	return r.run(ctx, "apply", jsonOutput, func(stdout io.Writer) error {
		return r.tf.ApplyJSON(ctx, stdout, attached[tfexec.ApplyOption](r, tfexec.DirOrPlan(planFile), tfexec.LockTimeout("0s"))...)
	})
}

// State reads the current state.
func (r *Runner) State(ctx context.Context) (*tfjson.State, error) {
	var state *tfjson.State
	err := r.run(ctx, "show", quietOutput, func(io.Writer) error {
		var err error
		state, err = r.tf.Show(ctx, attached[tfexec.ShowOption](r)...)
		return err
	})
	return state, err
}
