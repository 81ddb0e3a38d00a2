package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auth0/go-auth0/authentication"
	"github.com/auth0/go-auth0/authentication/oauth"
	"github.com/auth0/go-auth0/management"

	"rekey/internal/termtest"
	"rekey/keys"
	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/tfrunner/tftest"
)

// TestMain lets the test binary act as "any go-auth0 program" run with the sandbox's env file
// sourced: it then trusts the sandbox only through SSL_CERT_FILE, as a user's program would.
func TestMain(m *testing.M) {
	if os.Getenv(testEditorEnv) != "" {
		if err := testEditor(os.Args[1:]); err != nil {
			os.WriteFile(os.Getenv(testEditorEnv), []byte(err.Error()), 0o600)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if dir := os.Getenv("REKEY_ENV_PROBE"); dir != "" {
		if err := envProbe(dir); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	tftest.Main(m)
}

// envProbe lists the clients with the management credentials from the environment, then
// exchanges a token with the first seeded client's key from its system config.
func envProbe(dir string) error {
	ctx := context.Background()
	domain := os.Getenv("AUTH0_DOMAIN")
	api, err := management.New(domain, management.WithClientCredentials(ctx, os.Getenv("AUTH0_CLIENT_ID"), os.Getenv("AUTH0_CLIENT_SECRET")))
	if err != nil {
		return err
	}
	list, err := api.Client.List(ctx)
	if err != nil {
		return err
	}
	var m sandbox.Manifest
	data, err := os.ReadFile(filepath.Join(dir, "sandbox.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	seeded := m.Clients[0]
	var sys sandbox.SystemConfig
	if data, err = os.ReadFile(seeded.SystemConfig); err != nil {
		return err
	}
	if err := json.Unmarshal(data, &sys); err != nil {
		return err
	}
	pemKey, err := os.ReadFile(filepath.Join(filepath.Dir(seeded.SystemConfig), sys.Credentials[0].PrivateKeyFile))
	if err != nil {
		return err
	}
	auth, err := authentication.New(ctx, domain, authentication.WithClientID(seeded.ClientID), authentication.WithClientAssertion(string(pemKey), "RS256"))
	if err != nil {
		return err
	}
	tok, err := auth.OAuth.LoginWithClientCredentials(ctx, oauth.LoginWithClientCredentialsRequest{Audience: seeded.Audience}, oauth.IDTokenValidationOptions{})
	if err != nil {
		return err
	}
	fmt.Printf("clients=%d token_type=%s\n", list.Total, tok.TokenType)
	return nil
}

// startSandbox runs "rekey sandbox --dir dir" with extra flags and waits for its ready line.
func startSandbox(t *testing.T, bin, dir string, flags ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	return startSandboxWatched(t, bin, dir, nil, flags...)
}

// startSandboxWatched is startSandbox that also hands each line the sandbox prints after its
// ready line to onLine, as it comes.
func startSandboxWatched(t *testing.T, bin, dir string, onLine func(string), flags ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	if !slices.Contains(flags, "--no-terraform") {
		if p := sandboxtest.RealProvider(t); p.Path != "" {
			flags = append(flags, "--provider", p.Path)
		}
	}
	cmd := exec.Command(bin, append([]string{"sandbox", "--dir", dir, "--listen", "127.0.0.1:0"}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	rest := &bytes.Buffer{}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "rekey sandbox ready: ") {
				ready <- sc.Text()
			} else if onLine != nil {
				onLine(sc.Text())
				continue
			}
			rest.WriteString(sc.Text() + "\n")
		}
	}()
	select {
	case line := <-ready:
		t.Log(line)
	case <-time.After(3 * time.Minute): // a 10,000-client sandbox signs 7,500 certificates first
		t.Fatalf("no ready line within 3 minutes; stderr:\n%s", stderr.String())
	}
	return cmd, rest
}

func TestSandboxCommandServesGoAuth0Programs(t *testing.T) {
	bin := tftest.Rekey(t)
	dir := filepath.Join(t.TempDir(), "sb")
	cmd, out := startSandbox(t, bin, dir)

	runProbe(t, dir)

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("rekey sandbox did not stop within 10s of SIGINT")
	}
	if !strings.Contains(out.String(), "stopping") {
		t.Errorf("no stopping line in output:\n%s", out)
	}
	if !regexp.MustCompile(`rekey sandbox ready: .*Terraform runs the auth0 provider \d+\.\d+\.\d+ \(real`).MatchString(out.String()) {
		t.Errorf("the ready line does not name the real provider:\n%s", out)
	}
	for _, f := range []string{"env", "sandbox.json", "tenant.json"} {
		if info, err := os.Stat(filepath.Join(dir, f)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, info, err)
		}
	}

	// A restart serves the same tenant on a new port, with a new CA.
	startSandbox(t, bin, dir)
	runProbe(t, dir)
}

// runProbe runs the test binary as a go-auth0 program with dir/env sourced; the SSL_CERT_FILE
// it inherits points nowhere, so only the env file can make it trust the sandbox.
func runProbe(t *testing.T, dir string) {
	t.Helper()
	probe := exec.Command("bash", "-c", `source "$1/env" && exec "$2"`, "probe", dir, os.Args[0])
	probe.Env = append(os.Environ(), "REKEY_ENV_PROBE="+dir, "SSL_CERT_FILE=/nonexistent")
	got, err := probe.CombinedOutput()
	if err != nil {
		t.Fatalf("go-auth0 program with the env file sourced: %v\n%s", err, got)
	}
	if want := "clients=5 token_type=Bearer"; !strings.Contains(string(got), want) {
		t.Fatalf("probe printed %q, want %q", got, want)
	}
}

func TestSandboxWithoutTerraformKeepsKeysOffScreen(t *testing.T) {
	bin := tftest.Rekey(t)
	dir := filepath.Join(t.TempDir(), "sb")
	cmd, out := startSandbox(t, bin, dir, "--no-terraform")
	runProbe(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "terraform")); err == nil {
		t.Error("--no-terraform made a Terraform workspace")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	entries, err := os.ReadDir(filepath.Join(dir, "keys"))
	if err != nil || len(entries) != 4 {
		t.Fatalf("keys folder: %d entries, %v", len(entries), err)
	}
	for _, e := range entries {
		key, err := keys.LoadPrivateKey(filepath.Join(dir, "keys", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		der, _ := keys.PrivatePEM(key)
		body := strings.Split(string(der), "\n")[1]
		if strings.Contains(out.String(), body) {
			t.Errorf("the output contains private key material of %s", e.Name())
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"--sandbox", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"sandbox"}, exitUsage, "--dir is required"},
		{[]string{"sandbox", "--dir", "x", "--pool-cap", "3"}, exitUsage, "--pool-cap must be 2 or 4"},
		{[]string{"sandbox", "--dir", "x", "--clients", "-1"}, exitUsage, "--clients must be"},
		{[]string{"sandbox", "--dir", "x", "--fault", "oauth,5xx=2"}, exitUsage, "start with the path prefix"},
		{[]string{"sandbox", "--dir", "x", "--fault", "/oauth,5xx=2"}, exitUsage, "not a probability"},
		{[]string{"sandbox", "--dir", "x", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"sandbox", "--dir", "x", "--listen", "256.0.0.1:1"}, exitError, "choose another address"},
		{[]string{"rotate"}, exitUsage, "--client is required"},
		{[]string{"rotate", "--client", "x", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"rotate", "--client", "x"}, exitUsage, "AUTH0_DOMAIN is not set"},
		{[]string{"check"}, exitUsage, "AUTH0_DOMAIN is not set"},
		{[]string{"check", "--within", "soon"}, exitUsage, "give days like 30d"},
	}
	t.Setenv("AUTH0_DOMAIN", "")
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr bytes.Buffer
			if code := Run(c.args, &stdout, &stderr); code != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), c.want)
			}
		})
	}
}

// lastJSONLine decodes the last line of out as a JSON object.
func lastJSONLine(t *testing.T, out []byte) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &obj); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	return obj
}

func TestRotateSandboxHeadless(t *testing.T) {
	cmd := exec.Command(tftest.Rekey(t), "rotate", "--sandbox", "--client", "billing-worker", "--yes", "--json")
	cmd.Env = append(os.Environ(), sandbox.ProviderEnv+"="+sandboxtest.RealProvider(t).Path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rekey rotate --sandbox: %v\n%s", err, stderr.String())
	}
	res := lastJSONLine(t, out)
	t.Cleanup(func() { os.RemoveAll(res["sandbox_dir"].(string)) })
	if res["status"] != "rotated" || res["old_kid"] == res["new_kid"] || res["new_kid"] == "" {
		t.Fatalf("result: %v", res)
	}
	if p, _ := res["provider"].(map[string]any); p["kind"] != string(sandbox.ProviderReal) {
		t.Fatalf("the sandbox ran the provider %v, want the real one", res["provider"])
	}
	steps, _ := res["steps"].([]any)
	if len(steps) != 8 {
		t.Fatalf("steps: %v", res["steps"])
	}
	for _, s := range steps {
		if s.(map[string]any)["status"] != "done" {
			t.Errorf("step not done: %v", s)
		}
	}
	demo := res["consumer"].(map[string]any)
	if demo["failures"].(float64) != 0 || demo["requests"].(float64) < 20 {
		t.Errorf("demo consumer: %v", demo)
	}
	byKID := demo["by_kid"].(map[string]any)
	if byKID[res["old_kid"].(string)] == nil || byKID[res["new_kid"].(string)] == nil {
		t.Errorf("the demo consumer did not use both keys: %v", byKID)
	}
	if !strings.Contains(stderr.String(), "== Step 8 of 8 — confirm") {
		t.Errorf("progress lines missing from stderr:\n%s", stderr.String())
	}
}

func TestCheckCommand(t *testing.T) {
	bin := tftest.Rekey(t)
	dir := filepath.Join(t.TempDir(), "sb")
	startSandbox(t, bin, dir, "--no-terraform")
	check := func(within string, flags ...string) (int, map[string]any) {
		cmd := exec.Command("bash", append([]string{"-c", `source "$1/env" && exec "$2" check --json --within "$3" "${@:4}"`, "check", dir, bin, within}, flags...)...)
		out, err := cmd.Output()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, lastJSONLine(t, out)
	}
	// payments-gateway expires in 3 days and reporting-cron in 12.
	if code, rep := check("30d"); code != 1 || rep["expiring"].(float64) != 2 || len(rep["clients"].([]any)) != 5 {
		t.Errorf("check --within 30d: exit %d, %v", code, rep)
	}
	if code, rep := check("1d"); code != 0 || rep["expiring"].(float64) != 0 {
		t.Errorf("check --within 1d: exit %d, %v", code, rep)
	}
	// --cached reuses the last check's credential details (the tenant has not changed): the
	// same report, from the cache the checks above left in REKEY_CACHE_DIR.
	_, fresh := check("30d")
	code, reused := check("30d", "--cached")
	if code != 1 || !reflect.DeepEqual(reused["clients"], fresh["clients"]) {
		t.Errorf("check --cached: exit %d, clients %v; want those of a fresh check %v", code, reused["clients"], fresh["clients"])
	}
	if caches, _ := filepath.Glob(filepath.Join(os.Getenv("REKEY_CACHE_DIR"), "127.0.0.1*.json")); len(caches) == 0 {
		t.Errorf("no tenant cache in REKEY_CACHE_DIR")
	}
	// With --json, a check that cannot run still prints its one object, with the error.
	for _, bad := range []struct{ script, want string }{
		{`source "$1/env" && exec "$2" check --json --within soon`, `--within "soon"`},
		{`source "$1/env" && unset AUTH0_DOMAIN && exec "$2" check --json`, "AUTH0_DOMAIN"},
		{`source "$1/env" && AUTH0_CLIENT_SECRET=wrong exec "$2" check --json`, "401"},
	} {
		out, err := exec.Command("bash", "-c", bad.script, "check", dir, bin).Output()
		if rep := lastJSONLine(t, out); err == nil || !strings.Contains(fmt.Sprint(rep["error"]), bad.want) {
			t.Errorf("%s: %v, object %v; want an error mentioning %q", bad.script, err, rep, bad.want)
		}
	}
}

// TestRotateRefusesBadOptions: a wrong option is a usage error (exit 2) that changes nothing.
func TestRotateRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUTH0_DOMAIN", "127.0.0.1:1")
	t.Setenv("AUTH0_CLIENT_ID", "id")
	t.Setenv("AUTH0_CLIENT_SECRET", "secret")
	t.Setenv("PATH", filepath.Dir(tftest.Terraform(t).Path)+":"+os.Getenv("PATH"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--bits", "1024"}, "key size 1024: choose 2048, 3072 or 4096 bits"},
		{[]string{"--alg", "ES256"}, `algorithm "ES256": Auth0 accepts RS256, RS384 or PS256`},
		{[]string{"--key-dir", filepath.Join(dir, "keys")}, "private keys must never be written there"},
		{[]string{"--dir", filepath.Join(dir, "missing")}, "does not exist or is not a folder"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"rotate", "--client", "billing-worker", "--dir", dir, "--yes"}, c.args...)
		if code := Run(args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr.String(), exitUsage, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("refused rotations left files in the Terraform folder: %v", entries)
	}
}

// TestRotateWithoutYesOrTerminalStopsAtTheFirstGate: with no terminal to ask on (a pipe, or
// /dev/null, which is a character device but no terminal) and no --yes, rekey rotate stops
// before anything changes — before even starting the sandbox — and says to pass --yes.
func TestRotateWithoutYesOrTerminalStopsAtTheFirstGate(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	for name, stdin := range map[string]io.Reader{"pipe": strings.NewReader("y\n"), "/dev/null": devNull} {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(tftest.Rekey(t), "rotate", "--sandbox", "--client", "billing-worker", "--json")
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			cmd.Stdin = stdin
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitUsage {
				t.Fatalf("exit: %v, want %d\n%s", err, exitUsage, stderr.String())
			}
			res := lastJSONLine(t, out)
			if res["status"] != "failed" || !strings.Contains(res["error"].(string), "no terminal to ask on") || !strings.Contains(res["error"].(string), "pass --yes") {
				t.Errorf("result: %v", res)
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("the refused rotation made files: %v", entries)
			}
		})
	}
}

// TestRotateAsksInATerminal: without --yes, in a terminal, rekey rotate asks at attach, after
// printing the plan it asks about; n declines the gate (exit 3).
func TestRotateAsksInATerminal(t *testing.T) {
	env, _ := terminalEnv(t)
	tm := termtest.Start(t, 160, 60, env, "rekey rotate --sandbox --client billing-worker")
	screen := tm.WaitForText("Apply this plan to attach the new key? [y/N]", 90*time.Second)
	plan := strings.Index(screen, `plan: + credential "billing-worker `)
	if prompt := strings.Index(screen, "Apply this plan"); plan < 0 || plan > prompt {
		t.Errorf("the plan is not shown above the prompt:\n%s", screen)
	}
	tm.Type("n")
	tm.Keys("Enter")
	if status := tm.WaitExit(60 * time.Second); status != exitDeclined {
		t.Errorf("exit %d after n, want %d; the screen shows:\n%s", status, exitDeclined, tm.Screen())
	}
}
