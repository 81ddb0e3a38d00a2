// Package cli is rekey's command line: the wizard, rotate, check and sandbox commands, their
// flags, and the exit codes their errors map to.
package cli

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"rekey/inventory"
	"rekey/steps"
	"rekey/tenant"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line was wrong
)

const usage = `rekey rotates Auth0 Private Key JWT client credentials with zero downtime.

Usage:
  rekey [--sandbox] [--dir TFDIR] [--system-config FILE] [--key-dir DIR] [--plain]
      Open the wizard: pick a client, rotate its key step by step. --sandbox runs it on a
      fresh embedded sandbox tenant (no Auth0 account, no network).
  rekey rotate --client NAME|ID [--dir TFDIR] [--system-config FILE] [--yes] [--json] [--abort] ...
      Rotate (or resume, or --abort) one client's Private Key JWT credential through Terraform.
      --sandbox does it on a fresh embedded sandbox with a demo consumer.
  rekey check [--within 30d] [--json] [--cached]
      List every client's credentials with age and expiry; exit 1 when an attached one expires
      within the window.
  rekey sandbox --dir DIR [--listen ADDR] [--clients N] [--pool-cap 2|4] [--fault SPEC]...
                [--terraform PATH | --no-terraform] [-v]
      Run an embedded Auth0 look-alike tenant until interrupted, its clients' credentials
      managed by Terraform in DIR/terraform.

Run 'rekey COMMAND -h' for a command's flags.
`

// Run executes one command line (the arguments after the program's name) and returns the
// process exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	var (
		code int
		err  error
	)
	command := "wizard" // rekey alone, or with the wizard's flags
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") || slices.Contains([]string{"-h", "-help", "--help"}, firstArg(args)) {
		command, args = args[0], args[1:]
	}
	switch command {
	case "wizard":
		err = runWizard(args, os.Stdin, stdout, stderr)
	case "sandbox":
		err = runSandbox(args, stdout, stderr)
	case "rotate":
		code, err = runRotate(args, os.Stdin, stdout, stderr)
	case "check":
		code, err = runCheck(args, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "rekey: unknown command %q\n\n%s", command, usage)
		return exitUsage
	}
	var ue usageError
	switch {
	case err == nil:
		return code
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "rekey: %v\n", err)
		return exitUsage
	case code == exitOK: // a command that failed without choosing its own code
		fmt.Fprintf(stderr, "rekey: %v\n", err)
		return exitError
	default:
		fmt.Fprintf(stderr, "rekey: %v\n", err)
		return code
	}
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// usageError is a mistake in the command line; it exits with exitUsage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// tenantFromEnv connects to the tenant the environment names, with the auth0 provider's
// variables. It returns, for Terraform, the same AUTH0_DOMAIN normalised, so that rekey and
// the provider reach the same tenant however the variable was written.
func tenantFromEnv() (steps.TenantAPI, map[string]string, error) {
	cfg := tenant.ConfigFromEnv(os.Getenv)
	conn, err := tenant.Connect(cfg)
	if err != nil {
		return steps.TenantAPI{}, nil, err
	}
	return steps.TenantAPI{Conn: conn, Config: cfg}, map[string]string{"AUTH0_DOMAIN": cfg.Domain}, nil
}

// cacheDirEnv names the folder of the per-tenant client list caches, when not the per-user
// cache folder.
const cacheDirEnv = "REKEY_CACHE_DIR"

// clientInventory loads t's client list, cached in cacheDir (else $REKEY_CACHE_DIR, else the
// per-user cache folder); when there is no cache folder it loads without a cache.
func clientInventory(t steps.TenantAPI, cacheDir string) inventory.Loader {
	cache, _ := inventory.OpenCache(cmp.Or(cacheDir, os.Getenv(cacheDirEnv)), t.Config.Domain)
	return inventory.Loader{Source: t.Conn, Cache: cache}
}
