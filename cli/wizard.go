package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"os/signal"
	"path/filepath"
	"syscall"

	"rekey/consumer"
	"rekey/sandbox"
	"rekey/steps"
	"rekey/sysconfig"
	"rekey/tenant"
	"rekey/tfrunner"
	"rekey/ui"
)

// wizardFlags are the flags of the interactive wizard (rekey, rekey --sandbox).
type wizardFlags struct {
	sandbox      bool
	dir          string
	systemConfig string
	keyDir       string
	terraform    string
	plain        bool
	layout       sandbox.Layout
	rateLimits   sandbox.RateLimits
}

// runWizard opens the interactive wizard on the real tenant of the environment, or on a fresh
// embedded sandbox.
func runWizard(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var f wizardFlags
	fs := flag.NewFlagSet("rekey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.sandbox, "sandbox", false, "run on a fresh embedded sandbox tenant (no Auth0 account, no network)")
	fs.StringVar(&f.dir, "dir", ".", "Terraform folder whose HCL manages the clients' credentials (real tenant)")
	fs.StringVar(&f.systemConfig, "system-config", "", "the consuming service's credential list (real tenant)")
	fs.StringVar(&f.keyDir, "key-dir", "", "folder for new private keys (default: ~/.local/share/rekey/keys)")
	fs.StringVar(&f.terraform, "terraform", "", "Terraform binary to use (default: terraform or tofu on PATH, else installed)")
	fs.BoolVar(&f.plain, "plain", false, "plain, accessible display: no colour, ASCII markers")
	layout := fs.String("layout", string(sandbox.LayoutLiteral), "with --sandbox: how its workspace declares the credentials: "+sandbox.LayoutNames())
	rateLimit := fs.String("rate-limit", "default", "with --sandbox: its rate limits, off, default ("+sandbox.DefaultRateLimits.String()+": a paid production tenant's Management API and token endpoint, RATE/BURST each) or MGMT[,AUTH]")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; see rekey --help", fs.Arg(0))
	}
	var err error
	if f.layout, err = sandbox.ParseLayout(*layout); err != nil {
		return usagef("--%s", err)
	}
	if f.rateLimits, err = sandbox.ParseRateLimits(*rateLimit); err != nil {
		return usagef("--%s", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	prepare := f.prepareReal
	if f.sandbox {
		var cleanup func()
		prepare, cleanup = f.prepareSandbox()
		defer cleanup()
	}
	return ui.Run(ctx, prepare, stdin, stdout, ui.WithPlain(f.plain))
}

// prepareReal connects to the tenant named by the environment.
func (f wizardFlags) prepareReal(ctx context.Context, progress func(string)) (ui.Backend, error) {
	progress("Finding Terraform")
	bin, err := tfrunner.FindBinary(ctx, tfrunner.FindOptions{Explicit: f.terraform})
	if err != nil {
		return ui.Backend{}, err
	}
	t, tfEnv, err := tenantFromEnv()
	if err != nil {
		return ui.Backend{}, err
	}
	progress("Listing the tenant's clients")
	return ui.Backend{
		Inventory: clientInventory(t, ""),
		Tenant:    t,
		Terraform: tfrunner.Config{Binary: bin, Env: tfEnv},
		Options: func(c tenant.Client) steps.Options {
			// The wizard asks for the edits of a layout rekey cannot edit (the operator is there).
			return steps.Options{Client: c.ID, TerraformDir: f.dir, SystemConfig: f.systemConfig, KeyDir: f.keyDir, ManualEdit: true}
		},
		KnownKeys: func(tenant.Client) map[string]string { return knownKeys(f.systemConfig) },
	}, nil
}

// prepareSandbox returns a Prepare that starts a sandbox session, and the cleanup that stops it.
func (f wizardFlags) prepareSandbox() (ui.Prepare, func()) {
	var session *sandboxSession
	prepare := func(ctx context.Context, progress func(string)) (ui.Backend, error) {
		progress("Finding Terraform")
		bin, err := tfrunner.FindBinary(ctx, tfrunner.FindOptions{Explicit: f.terraform})
		if err != nil {
			return ui.Backend{}, err
		}
		if session, err = startSandboxSession(ctx, bin, f.layout, f.rateLimits, progress); err != nil {
			return ui.Backend{}, err
		}
		m := session.manifest
		systems := map[string]string{}
		for _, c := range m.Clients {
			systems[c.ClientID] = c.SystemConfig
		}
		return ui.Backend{
			Inventory: clientInventory(session.tenant, filepath.Join(session.dir, "cache")), Tenant: session.tenant,
			Terraform: tfrunner.Config{Binary: bin, Env: m.TerraformEnv()}, Usage: session.srv.Tenant(), Sandbox: true,
			Provider: m.Provider.Label(),
			Options: func(c tenant.Client) steps.Options {
				return steps.Options{Client: c.ID, TerraformDir: m.TerraformDir, SystemConfig: systems[c.ID], KeyDir: filepath.Join(session.dir, "keys"), ManualEdit: true}
			},
			KnownKeys: func(c tenant.Client) map[string]string { return knownKeys(systems[c.ID]) },
			Consumer:  func(clientID string) *consumer.Stats { return session.stats[clientID] },
		}, nil
	}
	cleanup := func() {
		if session != nil {
			session.Close()
		}
	}
	return prepare, cleanup
}

// knownKeys maps the kids a system config lists to their private key files.
func knownKeys(path string) map[string]string {
	if path == "" {
		return nil
	}
	f, err := sysconfig.Load(path)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, e := range f.Entries() {
		out[e.KID] = f.KeyPath(e)
	}
	return out
}
