package tfrunner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	"golang.org/x/mod/sumdb/dirhash"
)

// ProviderDebugEnv is the variable that makes the auth0 provider (the real one, and the
// sandbox's stand-in) serve in debug mode: it prints its reattach address and serves every
// Terraform command that attaches to it, until stopped.
const ProviderDebugEnv = "TF_PROVIDER_AUTH0_DEBUG"

// sessionStartTimeout bounds how long a provider may take to print its reattach address.
const sessionStartTimeout = 15 * time.Second

// reattachLine is how a provider in debug mode (terraform-plugin-go) prints its address.
var reattachLine = regexp.MustCompile(`TF_REATTACH_PROVIDERS='(.+)'`)

// ProviderSession is one auth0 provider process that a run's Terraform commands attach to
// (TF_REATTACH_PROVIDERS), instead of each starting the provider anew: its start-up (loading a
// large binary, building every resource's schema) is about half of each small plan, show and
// apply. It is the binary `terraform init` installed, checked against the lock file's hash as
// Terraform checks it, run with Terraform's environment.
type ProviderSession struct {
	cmd      *exec.Cmd
	exited   chan struct{}
	reattach tfexec.ReattachInfo
}

// StartProviderSession starts the locked auth0 provider that `terraform init` installed in
// cfg.Dir, in debug mode. An error means the run goes on without a session: Terraform then
// starts (and verifies) the provider itself for each command, as usual.
func StartProviderSession(ctx context.Context, cfg Config) (*ProviderSession, error) {
	binary, err := installedProvider(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary)
	cmd.Dir = cfg.Dir
	for k, v := range Environment(os.Environ(), cfg.Env) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, ProviderDebugEnv+"=1")
	cmd.SysProcAttr = sessionProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &tailBuffer{max: 4096}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the auth0 provider %s: %w", binary, err)
	}
	s := &ProviderSession{cmd: cmd, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			if m := reattachLine.FindStringSubmatch(sc.Text()); m != nil {
				select { // the first address counts; reading on keeps the provider's stdout drained
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	timer := time.NewTimer(sessionStartTimeout)
	defer timer.Stop()
	select {
	case line := <-found:
		if s.reattach, err = reattachFor(line); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("the auth0 provider %s exited without serving in debug mode: %s", binary, strings.TrimSpace(stderr.String()))
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("the auth0 provider %s printed no reattach address within %s", binary, sessionStartTimeout)
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// Reattach is the option that attaches a Terraform command to the session's provider.
func (s *ProviderSession) Reattach() *tfexec.ReattachOption { return tfexec.Reattach(s.reattach) }

// Close stops the provider and waits for it to exit.
func (s *ProviderSession) Close() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	<-s.exited
}

// reattachFor names the provider's one reattach entry by ProviderSource, which is what
// Terraform looks it up by.
func reattachFor(line string) (tfexec.ReattachInfo, error) {
	var entries tfexec.ReattachInfo
	if err := json.Unmarshal([]byte(line), &entries); err != nil || len(entries) != 1 {
		return nil, fmt.Errorf("the auth0 provider's reattach address is not one JSON entry: %q", line)
	}
	var entry tfexec.ReattachConfig
	for _, entry = range entries {
	}
	return tfexec.ReattachInfo{ProviderSource: entry}, nil
}

// installedProvider is the auth0 provider binary `terraform init` installed for the locked
// version and this platform, once its package matches one of the lock file's h1 hashes.
func installedProvider(dir string) (string, error) {
	lock, err := readLock(dir, ProviderSource)
	if err != nil {
		return "", err
	}
	if lock.version == "" {
		return "", errors.New("no auth0 provider in the lock file")
	}
	pkg := filepath.Join(dir, ".terraform", "providers", filepath.FromSlash(ProviderSource), lock.version, runtime.GOOS+"_"+runtime.GOARCH)
	if pkg, err = filepath.EvalSymlinks(pkg); err != nil {
		return "", fmt.Errorf("the locked auth0 provider is not installed (terraform init): %w", err)
	}
	hash, err := dirhash.HashDir(pkg, "", dirhash.Hash1)
	if err != nil {
		return "", err
	}
	if !slices.Contains(lock.hashes, hash) {
		return "", fmt.Errorf("the installed auth0 provider %s does not match the lock file's hashes", pkg)
	}
	binaries, _ := filepath.Glob(filepath.Join(pkg, "terraform-provider-auth0*"))
	if len(binaries) != 1 {
		return "", fmt.Errorf("%s holds %d auth0 provider binaries, want 1", pkg, len(binaries))
	}
	return binaries[0], nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
