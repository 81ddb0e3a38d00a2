package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"rekey/steps"
	"rekey/tfrunner"
)

// Exit codes of rekey rotate, beyond exitOK, exitError (failed; resumable) and exitUsage.
const (
	exitDeclined = 3 // the operator (or a missing --yes) declined a gate
	exitUnsafe   = 4 // a safety rule stopped the rotation
	exitNoAudit  = 5 // rotated (or aborted), but the audit record could not be written
)

// stringList collects a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// rotateFlags are the flags of rekey rotate.
type rotateFlags struct {
	opts           steps.Options
	yes            bool
	json           bool
	abort          bool
	sandbox        bool
	terraform      string
	accept         stringList
	acceptWarnings stringList
}

func parseRotateFlags(args []string, stderr io.Writer) (rotateFlags, error) {
	var f rotateFlags
	fs := flag.NewFlagSet("rekey rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.opts.Client, "client", "", "client to rotate: its name or client id (required)")
	fs.StringVar(&f.opts.TerraformDir, "dir", ".", "Terraform folder whose HCL manages the client's auth0_client_credentials")
	fs.StringVar(&f.opts.SystemConfig, "system-config", "", "the consuming service's credential list (JSON or YAML); without it, each change is shown and confirmed")
	fs.StringVar(&f.opts.KeyDir, "key-dir", "", "folder for the new private key (default: ~/.local/share/rekey/keys); never inside --dir")
	fs.StringVar(&f.opts.Alg, "alg", "", "signing algorithm: RS256, RS384 or PS256 (default: the current key's)")
	fs.IntVar(&f.opts.Bits, "bits", 0, "RSA key size: 2048, 3072 or 4096 (default: the current key's)")
	fs.Var(optionalInt{&f.opts.CertDays}, "cert-days", "wrap the public key in a self-signed certificate valid this many days, its notAfter the credential's expiry; 0: a bare public key (default: like the current key)")
	fs.Var(optionalInt{&f.opts.ExpiryDays}, "expiry-days", "give the credential an explicit expires_at this many days ahead; 0: none (default: like the current key)")
	fs.StringVar(&f.opts.Audience, "audience", "", "API to request tokens for in live checks (default: the client's first client grant)")
	fs.IntVar(&f.opts.VerifyCount, "verify-count", steps.DefaultVerifyCount, "consecutive successful token exchanges the new key needs before the old one may go")
	fs.BoolVar(&f.yes, "yes", false, "answer the gates a human would (never the safety rules)")
	fs.BoolVar(&f.json, "json", false, "print the result as one JSON object on the last line")
	fs.BoolVar(&f.abort, "abort", false, "undo the client's rotation in progress (only before its old key was retired)")
	fs.BoolVar(&f.sandbox, "sandbox", false, "rotate on a fresh embedded sandbox tenant, with a demo consumer requesting tokens throughout")
	fs.StringVar(&f.terraform, "terraform", "", "Terraform binary to use (default: terraform or tofu on PATH, else installed)")
	fs.Var(&f.accept, "accept-change", "accept a planned change to this other resource address (repeatable)")
	fs.Var(&f.acceptWarnings, "accept-warning", "go on despite this preflight warning, which predicts an outage: "+strings.Join(steps.WarningNames, ", ")+" (repeatable; --yes accepts none)")
	fs.BoolVar(&f.opts.Again, "again", false, "rotate even though rekey put this client's key in place within the last hours (a rerun of a finished rotation is otherwise a no-op)")
	fs.BoolVar(&f.opts.ManualEdit, "manual-edit", false, "for a layout rekey cannot edit (for_each, modules, data-fed dynamic blocks, .tf.json): print each HCL edit to make and stop (exit 3); the next run plans it and applies only a plan that makes exactly that change")
	fs.BoolVar(&f.opts.Repair, "repair", false, "remove rekey's own leftover credentials (from an interrupted apply) through the Management API without asking; needs the scopes update:clients and delete:client_credentials")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return f, usagef("rotate: unexpected argument %q", fs.Arg(0))
	}
	if f.opts.Client == "" {
		return f, usagef("rotate: --client is required: the name or client id of the client to rotate")
	}
	f.opts.AcceptOther, f.opts.AcceptWarnings = f.accept, f.acceptWarnings
	return f, nil
}

// optionalInt is an int flag that stays nil unless given.
type optionalInt struct{ p **int }

func (o optionalInt) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return strconv.Itoa(**o.p)
}

func (o optionalInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number of days", s)
	}
	*o.p = &n
	return nil
}

// runRotate runs (or resumes, or with --abort undoes) one client's rotation headless. With
// --json, its one JSON object is the last line of stdout whatever happens.
func runRotate(args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	f, err := parseRotateFlags(args, stderr)
	if err != nil {
		return f.failed(stdout, exitUsage, err)
	}
	var api steps.TenantAPI
	var tfEnv map[string]string
	if !f.sandbox {
		if api, tfEnv, err = tenantFromEnv(); err != nil {
			return f.failed(stdout, exitUsage, err)
		}
	}
	if err := canAsk(f.yes, stdin); err != nil {
		return f.failed(stdout, exitUsage, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	progress := stdout
	if f.json {
		progress = stderr
	}
	bin, err := tfrunner.FindBinary(ctx, tfrunner.FindOptions{Explicit: f.terraform, Log: progress})
	if err != nil {
		return f.failed(stdout, exitError, err)
	}
	env := rotationEnv{flags: f, terraform: bin, progress: progress, stdin: stdin, stderr: stderr}
	if f.sandbox {
		return env.inSandbox(ctx, stdout)
	}
	if cache := clientInventory(api, "").Cache; cache != nil {
		// A name the client cache knows spares a big tenant's client pages.
		if id, ok := cache.IDForName(ctx, f.opts.Client, api.Conn.ClientByID); ok {
			fmt.Fprintf(progress, "Client %q is %s (by the client cache; --client %s names it exactly)\n", f.opts.Client, id, id)
			env.flags.opts.Client = id
		}
	}
	result, warnings, err := env.run(ctx, api, tfEnv, nil)
	return report(result, err, f.json, stdout, map[string]any{"warnings": warnings})
}

// failed ends rekey rotate before the engine ran, with code; with --json it prints the one
// JSON object of a failed rotation.
func (f rotateFlags) failed(stdout io.Writer, code int, err error) (int, error) {
	if f.json && !errors.Is(err, flag.ErrHelp) {
		result := steps.Result{Status: steps.StatusFailed, ClientName: f.opts.Client, Error: err.Error()}
		printJSON(stdout, result, map[string]any{"warnings": []steps.Warning{}})
	}
	return code, err
}

// rotationEnv is what a headless rotation runs with.
type rotationEnv struct {
	flags     rotateFlags
	terraform tfrunner.Binary
	progress  io.Writer
	stdin     io.Reader
	stderr    io.Writer
}

// run drives the engine, printing its events as lines; it returns the warnings the engine
// asked about with the result.
func (r rotationEnv) run(ctx context.Context, t steps.Tenant, tfEnv map[string]string, usage steps.UsageProbe) (steps.Result, []steps.Warning, error) {
	out := newProgress(r.progress)
	prompter := newTerminalPrompter(out, r.stdin, r.stderr, r.flags.yes)
	deps := steps.Deps{
		Tenant: t, Terraform: tfrunner.Config{Binary: r.terraform, Env: tfEnv}, Usage: usage, Events: out.events, Prompter: prompter,
	}
	run := steps.Rotate
	if r.flags.abort {
		run = steps.Abort
	}
	result, err := run(ctx, r.flags.opts, deps)
	out.close()
	return result, prompter.warnings, err
}

// report prints the result (as JSON with --json, extra fields merged in) and maps the error
// to an exit code.
func report(result steps.Result, err error, asJSON bool, stdout io.Writer, extra map[string]any) (int, error) {
	switch {
	case asJSON:
		printJSON(stdout, result, extra)
	case result.Rerun != nil:
		fmt.Fprintf(stdout, "%s: already rotated %s by %s; nothing was done (pass --again to rotate before %s)\n",
			result.ClientName, result.Rerun.FinishedAt.Format(time.RFC3339), cmp.Or(result.Rerun.Operator, "rekey"), result.Rerun.Until.Format(time.RFC3339))
	case err == nil || errors.Is(err, steps.ErrAuditNotWritten):
		fmt.Fprintf(stdout, "%s: %s (old key %s, new key %s); audit log %s\n", result.ClientName, result.Status, result.OldKID, result.NewKID, result.AuditLog)
	}
	var optErr *steps.OptionsError
	switch {
	case err == nil:
		return exitOK, nil
	case errors.As(err, &optErr):
		return exitUsage, err
	case errors.Is(err, steps.ErrDeclined):
		return exitDeclined, err
	case errors.Is(err, steps.ErrUnsafe):
		return exitUnsafe, err
	case errors.Is(err, steps.ErrAuditNotWritten):
		return exitNoAudit, err
	}
	return exitError, err
}

// printJSON prints the result with extra fields merged in as one line of JSON.
func printJSON(stdout io.Writer, result steps.Result, extra map[string]any) {
	obj := map[string]any{}
	data, _ := json.Marshal(result)
	json.Unmarshal(data, &obj)
	for k, v := range extra {
		obj[k] = v
	}
	line, _ := json.Marshal(obj)
	fmt.Fprintln(stdout, string(line))
}
