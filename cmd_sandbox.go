package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"rekey/sandbox"
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
	srv, m, err := sandbox.Setup(*dir, sandbox.SetupOptions{Listen: *listen, Clients: *clients, PoolCap: *poolCap, Faults: faults})
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	abs, _ := filepath.Abs(*dir)
	fmt.Fprintf(stdout, "rekey sandbox ready: https://%s with %d clients\n", m.Domain, len(m.Clients))
	fmt.Fprintf(stdout, "  env file: source %s\n  manifest: %s\n  Ctrl-C stops it; the state in %s survives a restart.\n",
		filepath.Join(abs, "env"), filepath.Join(abs, "sandbox.json"), abs)
	<-stop
	fmt.Fprintln(stdout, "rekey sandbox: stopping")
	return srv.Close()
}
