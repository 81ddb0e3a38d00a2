package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"rekey/sandbox"
	"rekey/tfrunner"
)

// faultFlags collects repeated --fault values.
type faultFlags []sandbox.Fault

func (f *faultFlags) String() string { return fmt.Sprint(len(*f), " faults") }

func (f *faultFlags) Set(spec string) error {
	fault, err := sandbox.ParseFault(spec)
	if err != nil {
		return err
	}
	*f = append(*f, fault)
	return nil
}

// runSandbox starts the embedded tenant and serves it until SIGINT or SIGTERM.
func runSandbox(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rekey sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "folder for the sandbox's state, keys, env file and manifest (required)")
	listen := fs.String("listen", "127.0.0.1:0", "address to serve HTTPS on; port 0 picks a free port")
	clients := fs.Int("clients", 0, "seed N generated clients instead of the four default ones (scale tests)")
	poolCap := fs.Int("pool-cap", sandbox.DefaultPoolCap, "credentials a client may hold: 2 (Auth0's default) or 4")
	terraform := fs.String("terraform", "", "Terraform binary to use (default: terraform or tofu on PATH, else installed into the user cache)")
	provider := fs.String("provider", "", "auth0 provider binary (terraform-provider-auth0_vX.Y.Z) for the workspace (default: $"+sandbox.ProviderEnv+", else the public registry when reachable, else rekey's stand-in)")
	noTerraform := fs.Bool("no-terraform", false, "run the tenant alone, seeded directly, without a Terraform workspace")
	layout := fs.String("layout", string(sandbox.LayoutLiteral), "how the new workspace declares the credentials: "+sandbox.LayoutNames()+" (see README, \"Your Terraform layout\")")
	rateLimit := fs.String("rate-limit", "default", "the tenant's rate limits: off, default ("+sandbox.DefaultRateLimits.String()+": a paid production tenant's Management API and token endpoint, RATE/BURST each) or MGMT[,AUTH]")
	verbose := fs.Bool("v", false, "show Terraform's output while the workspace is prepared")
	logRequests := fs.Bool("log-requests", false, "print a line for each request once the sandbox is ready: method, path and the caller's product (e.g. Terraform-Provider-Auth0/1.54.1)")
	var faults faultFlags
	fs.Var(&faults, "fault", "inject faults: PATH,latency=50ms,drop=0.05,5xx=0.1,429=0.1 (repeatable)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err.Error()}
	}
	switch {
	case *dir == "":
		return usagef("sandbox: --dir is required: the folder where the sandbox keeps its files, e.g. --dir sb")
	case fs.NArg() > 0:
		return usagef("sandbox: unexpected argument %q", fs.Arg(0))
	case *clients < 0:
		return usagef("sandbox: --clients must be 0 (the default clients) or more")
	case *poolCap != 2 && *poolCap != 4:
		return usagef("sandbox: --pool-cap must be 2 or 4")
	}
	wsLayout, err := sandbox.ParseLayout(*layout)
	if err != nil {
		return usagef("sandbox: --%s", err)
	}
	limits, err := sandbox.ParseRateLimits(*rateLimit)
	if err != nil {
		return usagef("sandbox: --%s", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := sandbox.SetupOptions{Listen: *listen, Clients: *clients, PoolCap: *poolCap, Faults: faults, RateLimits: limits}
	if !*noTerraform && *clients == 0 {
		tf, err := sandboxTerraform(ctx, *terraform, *provider, stderr)
		if err != nil {
			return fmt.Errorf("%w\nTo run the tenant alone, without a Terraform workspace: rekey sandbox --dir %s --no-terraform", err, *dir)
		}
		if *verbose {
			tf.Log = stderr
		}
		tf.Layout = wsLayout
		fmt.Fprintf(stdout, "Preparing the sandbox in %s (Terraform %s at %s; %s)\n", *dir, tf.Binary.Version, tf.Binary.Path, tf.Provider)
		opts.Terraform = tf
	}
	srv, m, err := sandbox.Setup(ctx, *dir, opts)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(*dir)
	ready := fmt.Sprintf("rekey sandbox ready: https://%s with %d clients", m.Domain, len(m.Clients))
	if m.Provider != nil {
		ready += "; Terraform runs the " + m.Provider.String()
	}
	fmt.Fprintln(stdout, ready)
	fmt.Fprintf(stdout, "  env file: source %s\n  manifest: %s\n", filepath.Join(abs, "env"), filepath.Join(abs, "sandbox.json"))
	if m.TerraformDir != "" {
		fmt.Fprintf(stdout, "  terraform: %s (after sourcing the env file, terraform plan there reports no changes)\n", m.TerraformDir)
	}
	fmt.Fprintf(stdout, "  Ctrl-C stops it; the state in %s survives a restart.\n", abs)
	if *logRequests {
		srv.Observe(requestLogger(stdout))
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "rekey sandbox: stopping")
	return srv.Close()
}

// requestLogger prints "request METHOD PATH (PRODUCT)" for each request, PRODUCT being the
// first word of its User-Agent, as the request arrives (before any fault delays it).
func requestLogger(w io.Writer) func(*http.Request) {
	var mu sync.Mutex
	return func(r *http.Request) {
		product, _, _ := strings.Cut(r.UserAgent(), " ")
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "request %s %s (%s)\n", r.Method, r.URL.Path, product)
	}
}

// sandboxTerraform finds Terraform (installing it when missing) and chooses the auth0
// provider for the sandbox's workspace: explicitProvider, else the real one from the
// environment or the registry, else this very binary as the stand-in.
func sandboxTerraform(ctx context.Context, explicit, explicitProvider string, log io.Writer) (*sandbox.TerraformOptions, error) {
	bin, err := tfrunner.FindBinary(ctx, tfrunner.FindOptions{Explicit: explicit, Log: log})
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the rekey executable, which Terraform runs as the sandbox's stand-in provider: %w", err)
	}
	provider, err := sandbox.ChooseProvider(ctx, explicitProvider, exe)
	if err != nil {
		return nil, err
	}
	return &sandbox.TerraformOptions{Binary: bin, Provider: provider}, nil
}
