package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rekey/sandbox"
	"rekey/steps"
	"rekey/tfrunner/tftest"
)

// cliSandbox is one `rekey sandbox` (real auth0 provider) and the command lines that run rekey
// against it. The bad-input cases share one: each must leave it exactly as it found it.
type cliSandbox struct {
	bin    string
	dir    string // the sandbox's folder
	m      sandbox.Manifest
	keyDir string            // every case's --key-dir: it must never be created
	env    map[string]string // the sandbox's env file, as a sourced shell would have it
}

func startBadSandbox(t *testing.T) *cliSandbox {
	t.Helper()
	return startCLISandbox(t, nil)
}

// startCLISandbox starts a sandbox with flags, handing the lines it prints to onLine (if any).
func startCLISandbox(t *testing.T, onLine func(string), flags ...string) *cliSandbox {
	t.Helper()
	s := &cliSandbox{bin: tftest.Rekey(t), dir: filepath.Join(t.TempDir(), "sb"), keyDir: filepath.Join(t.TempDir(), "new-keys")}
	startSandboxWatched(t, s.bin, s.dir, onLine, flags...)
	data, err := os.ReadFile(filepath.Join(s.dir, "sandbox.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s.m); err != nil {
		t.Fatal(err)
	}
	s.env = s.m.TerraformEnv()
	return s
}

// client is the seeded client with this name.
func (s *cliSandbox) client(t *testing.T, name string) sandbox.ManifestClient {
	t.Helper()
	i := slices.IndexFunc(s.m.Clients, func(c sandbox.ManifestClient) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("the sandbox has no client %s", name)
	}
	return s.m.Clients[i]
}

// rotate is a well-formed command line for billing-worker with --yes and --json, followed by
// extra (a later flag overrides an earlier one).
func (s *cliSandbox) rotate(t *testing.T, extra ...string) []string {
	args := []string{"rotate", "--client", "billing-worker", "--dir", s.m.TerraformDir,
		"--system-config", s.client(t, "billing-worker").SystemConfig, "--key-dir", s.keyDir, "--yes", "--json"}
	return append(args, extra...)
}

// outcome is what one rekey process did.
type outcome struct {
	code           int
	stdout, stderr string
}

// run runs rekey with args, the sandbox's environment changed by env ("" unsets a variable),
// and stdin ("" for /dev/null).
func (s *cliSandbox) run(t *testing.T, args []string, env map[string]string, stdin string) outcome {
	t.Helper()
	cmd := s.command(args, env, stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return outcome{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// command is rekey with args in the sandbox's environment changed by env ("" unsets a
// variable), reading stdin ("" for /dev/null).
func (s *cliSandbox) command(args []string, env map[string]string, stdin string) *exec.Cmd {
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	for _, m := range []map[string]string{s.env, env} {
		for k, v := range m {
			vars[k] = v
		}
	}
	cmd := exec.Command(s.bin, args...)
	for k, v := range vars {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	return cmd
}

// result is the JSON object on the last line of stdout.
func (o outcome) result(t *testing.T) map[string]any {
	t.Helper()
	return lastJSONLine(t, []byte(o.stdout))
}

// warnings are the names of the JSON result's warnings, and whether each was accepted.
func (o outcome) warnings(t *testing.T) map[string]bool {
	t.Helper()
	var res struct{ Warnings []steps.Warning }
	lines := strings.Split(strings.TrimSpace(o.stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not JSON: %v", err)
	}
	out := map[string]bool{}
	for _, w := range res.Warnings {
		out[w.Name] = w.Accepted
	}
	return out
}

// leftOut stands in a snapshot for a folder, or a file whose bytes are not compared.
const leftOut = "folder, or left out"

// snapshot is every file a refused rotation must leave alone, by path: the tenant's state,
// the HCL, Terraform's state, the system configs, the keys, the case's own files and the new
// key folder. Terraform's cache, the provider mirror, and rekey's audit log (which records
// refusals) and lock files in .rekey are left out.
func (s *cliSandbox) snapshot(t *testing.T, caseDir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, root := range []string{s.dir, s.keyDir, caseDir} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			switch {
			case errors.Is(err, fs.ErrNotExist) && path == root:
				return nil
			case err != nil:
				return err
			case d.IsDir() && (d.Name() == ".terraform" || path == filepath.Join(s.dir, "provider")):
				return filepath.SkipDir
			case d.IsDir(), filepath.Base(filepath.Dir(path)) == ".rekey" && (d.Name() == "audit.jsonl" || strings.HasSuffix(d.Name(), ".lock")):
				files[path] = leftOut
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files[path] = fmt.Sprintf("%v %x", info.Mode(), sha256.Sum256(data))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// assertUnchanged compares the files with a snapshot taken before.
func (s *cliSandbox) assertUnchanged(t *testing.T, before map[string]string, caseDir string) {
	t.Helper()
	after := s.snapshot(t, caseDir)
	for path, was := range before {
		if now, ok := after[path]; !ok {
			t.Errorf("%s was removed", path)
		} else if now != was {
			t.Errorf("%s changed", path)
		}
	}
	for path, now := range after {
		rekeyOwn := now == leftOut && strings.Contains(path, string(filepath.Separator)+".rekey")
		if _, ok := before[path]; !ok && !rekeyOwn {
			t.Errorf("%s was created", path)
		}
	}
}

// badInput is one bad command line, environment, file or answer for rekey rotate.
type badInput struct {
	name string
	// args returns rekey's arguments; it may write files into dir, the case's own folder, or
	// change the sandbox and undo it with t.Cleanup.
	args     func(t *testing.T, s *cliSandbox, dir string) []string
	env      map[string]string // variables to change ("" unsets)
	stdin    string            // "" for /dev/null
	code     int
	want     []string        // in stderr, and in the JSON error when --json was given
	warnings map[string]bool // the JSON result's warnings: whether each was accepted
}

// extra is the case's arguments after the well-formed ones.
func extra(args ...string) func(*testing.T, *cliSandbox, string) []string {
	return func(t *testing.T, s *cliSandbox, _ string) []string { return s.rotate(t, args...) }
}

// write puts data into dir/name and returns its path.
func write(t *testing.T, dir, name, data string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// withSystemConfig runs a case with the system config that make writes into its folder.
func withSystemConfig(name string, make func(t *testing.T, s *cliSandbox, dir string) string, more ...string) func(*testing.T, *cliSandbox, string) []string {
	return func(t *testing.T, s *cliSandbox, dir string) []string {
		return s.rotate(t, append([]string{"--system-config", write(t, dir, name, make(t, s, dir), 0o600)}, more...)...)
	}
}

// currentKeyListed is a system config that lists billing-worker's current key with the
// private key file keyFile.
func currentKeyListed(keyFile func(s *cliSandbox) string) func(*testing.T, *cliSandbox, string) string {
	return func(t *testing.T, s *cliSandbox, _ string) string {
		kid := s.client(t, "billing-worker").Credentials[0].KID
		return `{"credentials": [{"kid": "` + kid + `", "alg": "RS256", "private_key_file": "` + keyFile(s) + `"}]}`
	}
}

// otherClientsSystemConfig is reporting-cron's system config: the wrong file for billing-worker.
func otherClientsSystemConfig(t *testing.T, s *cliSandbox) string {
	return s.client(t, "reporting-cron").SystemConfig
}

// editHCL changes the sandbox's main.tf for one case: old becomes new, undone afterwards.
func editHCL(t *testing.T, s *cliSandbox, old, new string) {
	t.Helper()
	path := filepath.Join(s.m.TerraformDir, "main.tf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("main.tf has no %q", old)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Error(err)
		}
	})
	write(t, s.m.TerraformDir, "main.tf", strings.Replace(string(data), old, new, 1), 0o644)
}

// Drift from a leftover HCL edit: reporting-cron's client gains a description.
const (
	reportingCronClient = "resource \"auth0_client\" \"reporting_cron\" {\n"
	leftoverEdit        = reportingCronClient + "  description = \"left over from an unfinished change\"\n"
)

func withLeftoverEdit(more ...string) func(*testing.T, *cliSandbox, string) []string {
	return func(t *testing.T, s *cliSandbox, _ string) []string {
		editHCL(t, s, reportingCronClient, leftoverEdit)
		return s.rotate(t, more...)
	}
}

// without drops a flag from the well-formed arguments.
func without(flag string, more ...string) func(*testing.T, *cliSandbox, string) []string {
	return func(t *testing.T, s *cliSandbox, _ string) []string {
		args := s.rotate(t, more...)
		return slices.DeleteFunc(args, func(a string) bool { return a == flag })
	}
}

const fakeTerraformTooOld = `#!/bin/sh
echo '{"terraform_version":"1.4.6","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}'
`

// badInputs are the cases; none may change anything.
func badInputs() []badInput {
	noJSONWarning := "rekey: warning [" + steps.WarnUnlistedCurrentKey + "]: the system config "
	return []badInput{
		// Flags and their values.
		{name: "bits not a number", args: extra("--bits", "abc"), code: exitUsage, want: []string{`invalid value "abc" for flag -bits`}},
		{name: "bits 3000", args: extra("--bits", "3000"), code: exitUsage, want: []string{"key size 3000: choose 2048, 3072 or 4096 bits"}},
		{name: "alg in lower case", args: extra("--alg", "rs256"), code: exitUsage, want: []string{`algorithm "rs256": Auth0 accepts RS256, RS384 or PS256`}},
		{name: "cert days in words", args: extra("--cert-days", "ten"), code: exitUsage, want: []string{`"ten" is not a whole number of days`}},
		{name: "cert days too many", args: extra("--cert-days", "36501"), code: exitUsage, want: []string{"certificate validity 36501 days", "1 to 36500"}},
		{name: "expiry days a fraction", args: extra("--expiry-days", "1.5"), code: exitUsage, want: []string{`"1.5" is not a whole number of days`}},
		{name: "expiry days negative", args: extra("--expiry-days", "-5"), code: exitUsage, want: []string{"expiry -5 days"}},
		{name: "certificate and expiry", args: extra("--cert-days", "30", "--expiry-days", "30"), code: exitUsage, want: []string{"either a certificate validity or an explicit expiry, not both"}},
		{name: "verify count negative", args: extra("--verify-count", "-1"), code: exitUsage, want: []string{"verify count -1: choose 1 to 100"}},
		{name: "verify count in words", args: extra("--verify-count", "three"), code: exitUsage, want: []string{`invalid value "three" for flag -verify-count`}},
		{name: "accept-warning misspelt", args: extra("--accept-warning", "drift"), code: exitUsage, want: []string{`no preflight warning is named "drift"`, steps.WarnPlanDrift, steps.WarnUnlistedCurrentKey}},
		{name: "accept-warning empty", args: extra("--accept-warning", ""), code: exitUsage, want: []string{`no preflight warning is named ""`}},
		{name: "client empty", args: extra("--client", ""), code: exitUsage, want: []string{"--client is required"}},
		{name: "an extra argument", args: extra("billing-worker"), code: exitUsage, want: []string{`rotate: unexpected argument "billing-worker"`}},
		{name: "json not a boolean", args: without("--json", "--json=maybe"), code: exitUsage, want: []string{`invalid boolean value "maybe" for -json`}},
		{name: "unknown flag after --json", args: extra("--dry-run"), code: exitUsage, want: []string{"flag provided but not defined: -dry-run"}},

		// The Terraform folder.
		{name: "dir is a file", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			return s.rotate(t, "--dir", filepath.Join(s.m.TerraformDir, "main.tf"))
		}, code: exitUsage, want: []string{"main.tf does not exist or is not a folder"}},
		{name: "dir without HCL", args: func(t *testing.T, s *cliSandbox, dir string) []string {
			return s.rotate(t, "--dir", dir)
		}, code: exitUsage, want: []string{"holds no Terraform configuration", "point --dir at the folder whose HCL manages"}},
		{name: "dir with HCL but no terraform init", args: func(t *testing.T, s *cliSandbox, dir string) []string {
			data, err := os.ReadFile(filepath.Join(s.m.TerraformDir, "main.tf"))
			if err != nil {
				t.Fatal(err)
			}
			write(t, dir, "main.tf", string(data), 0o644)
			return s.rotate(t, "--dir", dir)
		}, code: exitError, want: []string{"client_id refers to auth0_client.billing_worker, which Terraform state does not hold"}},
		{name: "a stray broken .tf file", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			path := write(t, s.m.TerraformDir, "zz_leftover.tf", "resource \"auth0_client\" \"half\" {\n  name = \n", 0o644)
			t.Cleanup(func() { os.Remove(path) })
			return s.rotate(t)
		}, code: exitError, want: []string{"zz_leftover.tf"}},

		// The environment.
		{name: "AUTH0_DOMAIN unset", args: extra(), env: map[string]string{"AUTH0_DOMAIN": ""}, code: exitUsage, want: []string{"AUTH0_DOMAIN is not set"}},
		{name: "AUTH0_DOMAIN over http", args: extra(), env: map[string]string{"AUTH0_DOMAIN": "http://127.0.0.1:1/"}, code: exitUsage, want: []string{"https only", "set the host alone"}},
		{name: "AUTH0_DOMAIN with a path", args: extra(), env: map[string]string{"AUTH0_DOMAIN": "127.0.0.1:1/api/v2/"}, code: exitUsage, want: []string{`AUTH0_DOMAIN "127.0.0.1:1/api/v2" is not a host name`}},
		{name: "AUTH0_DOMAIN with user info", args: extra(), env: map[string]string{"AUTH0_DOMAIN": "admin@127.0.0.1:1"}, code: exitUsage, want: []string{"is not a host name or host:port"}},
		{name: "AUTH0_CLIENT_SECRET unset", args: extra(), env: map[string]string{"AUTH0_CLIENT_SECRET": ""}, code: exitUsage, want: []string{"AUTH0_CLIENT_SECRET is not set"}},
		{name: "no management credentials", args: extra(), env: map[string]string{"AUTH0_CLIENT_ID": "", "AUTH0_CLIENT_SECRET": ""}, code: exitUsage, want: []string{"no Management API credentials"}},
		{name: "AUTH0_API_TOKEN not a token", args: extra(), env: map[string]string{"AUTH0_CLIENT_ID": "", "AUTH0_CLIENT_SECRET": "", "AUTH0_API_TOKEN": "not-a-token"}, code: exitError, want: []string{"the Management API refused access (401"}},
		{name: "the sandbox's CA not trusted", args: extra(), env: map[string]string{"SSL_CERT_FILE": "/nonexistent/ca.pem"}, code: exitError, want: []string{"its TLS certificate is not trusted", "set SSL_CERT_FILE"}},

		// The Terraform binary.
		{name: "terraform missing", args: extra("--terraform", "/nonexistent/terraform"), code: exitError, want: []string{"no usable Terraform: /nonexistent/terraform"}},
		{name: "terraform not terraform", args: func(t *testing.T, s *cliSandbox, dir string) []string {
			return s.rotate(t, "--terraform", write(t, dir, "terraform", "#!/bin/sh\necho hello\n", 0o755))
		}, code: exitError, want: []string{"does not run as Terraform"}},
		{name: "terraform too old", args: func(t *testing.T, s *cliSandbox, dir string) []string {
			return s.rotate(t, "--terraform", write(t, dir, "terraform", fakeTerraformTooOld, 0o755))
		}, code: exitError, want: []string{"is Terraform 1.4.6; rekey needs 1.5"}},

		// The client.
		{name: "a client id of no client", args: extra("--client", "cl_nobody"), code: exitError, want: []string{"cl_nobody"}},
		{name: "the management client", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			return s.rotate(t, "--client", s.m.Management.ClientID)
		}, code: exitUnsafe, want: []string{"rekey rotates private_key_jwt credentials only"}},
		{name: "abort with no rotation in progress", args: extra("--abort"), code: exitError, want: []string{"no rotation in progress"}},

		// The system config.
		{name: "another client's system config", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			return s.rotate(t, "--system-config", otherClientsSystemConfig(t, s))
		}, code: exitDeclined, want: []string{"not accepted: " + steps.WarnUnlistedCurrentKey, "--accept-warning " + steps.WarnUnlistedCurrentKey, "--yes never accepts"}, warnings: map[string]bool{steps.WarnUnlistedCurrentKey: false}},
		{name: "another client's system config, without --json", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			return slices.DeleteFunc(s.rotate(t, "--system-config", otherClientsSystemConfig(t, s)), func(a string) bool { return a == "--json" })
		}, code: exitDeclined, want: []string{noJSONWarning, "(not accepted: --accept-warning unlisted-current-key accepts it)"}},
		{name: "another client's system config, another warning accepted", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			return s.rotate(t, "--system-config", otherClientsSystemConfig(t, s), "--accept-warning", steps.WarnPlanDrift)
		}, code: exitDeclined, want: []string{"not accepted: " + steps.WarnUnlistedCurrentKey}, warnings: map[string]bool{steps.WarnUnlistedCurrentKey: false}},
		{name: "current key listed with another key's file", args: withSystemConfig("svc.json", currentKeyListed(func(s *cliSandbox) string {
			return s.m.Clients[slices.IndexFunc(s.m.Clients, func(c sandbox.ManifestClient) bool { return c.Name == "reporting-cron" })].Credentials[0].PrivateKeyFile
		})), code: exitDeclined, want: []string{"--accept-warning " + steps.WarnUnusableCurrentKeyFile}, warnings: map[string]bool{steps.WarnUnusableCurrentKeyFile: false}},
		{name: "current key listed with a missing file", args: withSystemConfig("svc.json", currentKeyListed(func(*cliSandbox) string { return "missing.pem" })),
			code: exitDeclined, want: []string{"--accept-warning " + steps.WarnUnusableCurrentKeyFile}, warnings: map[string]bool{steps.WarnUnusableCurrentKeyFile: false}},
		{name: "system config is a folder", args: func(t *testing.T, s *cliSandbox, dir string) []string {
			return s.rotate(t, "--system-config", dir)
		}, code: exitError, want: []string{"cannot read the system config"}},
		{name: "system config is a private key", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			return s.rotate(t, "--system-config", s.client(t, "billing-worker").Credentials[0].PrivateKeyFile)
		}, code: exitError, want: []string{"not valid JSON at line 1", "a .yaml or .yml name is read as YAML"}},
		{name: "system config empty", args: withSystemConfig("svc.yaml", func(*testing.T, *cliSandbox, string) string { return "" }),
			code: exitError, want: []string{"the file is empty"}},
		{name: "system config YAML badly indented", args: withSystemConfig("svc.yml", func(*testing.T, *cliSandbox, string) string {
			return "credentials:\n  - kid: a\n   alg: RS256\n"
		}), code: exitError, want: []string{"not valid YAML"}},

		// Preflight's other warnings.
		{name: "wrong audience", args: extra("--audience", "https://wrong.example/"), code: exitDeclined,
			want: []string{"--accept-warning " + steps.WarnFailingCurrentKey}, warnings: map[string]bool{steps.WarnFailingCurrentKey: false}},
		{name: "drift from a leftover HCL edit", args: withLeftoverEdit(), code: exitDeclined,
			want: []string{"plan: update auth0_client.reporting_cron", "--accept-warning " + steps.WarnPlanDrift}, warnings: map[string]bool{steps.WarnPlanDrift: false}},
		{name: "drift and another client's system config, drift accepted", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			editHCL(t, s, reportingCronClient, leftoverEdit)
			return s.rotate(t, "--system-config", otherClientsSystemConfig(t, s), "--accept-warning", steps.WarnPlanDrift)
		}, code: exitDeclined, want: []string{"not accepted: " + steps.WarnUnlistedCurrentKey + ".", "--accept-warning " + steps.WarnUnlistedCurrentKey + " ("},
			warnings: map[string]bool{steps.WarnPlanDrift: true, steps.WarnUnlistedCurrentKey: false}},

		// An AUTH0_DOMAIN with a scheme or a trailing slash reaches the tenant, for rekey and
		// Terraform alike: preflight's plan runs, and stops only at the warning.
		{name: "AUTH0_DOMAIN with https and a slash", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			return s.rotate(t, "--system-config", otherClientsSystemConfig(t, s))
		}, env: map[string]string{"AUTH0_DOMAIN": "https://" + "DOMAIN" + "/"}, code: exitDeclined, want: []string{"--accept-warning " + steps.WarnUnlistedCurrentKey}, warnings: map[string]bool{steps.WarnUnlistedCurrentKey: false}},
		{name: "AUTH0_DOMAIN with a trailing slash", args: func(t *testing.T, s *cliSandbox, _ string) []string {
			return s.rotate(t, "--system-config", otherClientsSystemConfig(t, s))
		}, env: map[string]string{"AUTH0_DOMAIN": "DOMAIN/"}, code: exitDeclined, want: []string{"--accept-warning " + steps.WarnUnlistedCurrentKey}, warnings: map[string]bool{steps.WarnUnlistedCurrentKey: false}},

		// No terminal to ask on, and no --yes.
		{name: "stdin /dev/null without --yes", args: without("--yes"), code: exitUsage, want: []string{"no terminal to ask on", "pass --yes"}},
		{name: "stdin a pipe without --yes", args: without("--yes"), stdin: "y\ny\nbilling-worker\n", code: exitUsage, want: []string{"no terminal to ask on", "pass --yes"}},
	}
}

// TestRotateRefusesBadInput: every bad flag, value, file, environment or stdin gets its exit
// code and a message that says what is wrong, and changes nothing: the tenant, the HCL,
// Terraform's state, the system configs and the key folders stay as they were.
func TestRotateRefusesBadInput(t *testing.T) {
	s := startBadSandbox(t)
	initial := s.snapshot(t, "")
	for _, c := range badInputs() {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := c.args(t, s, dir)
			env := map[string]string{}
			for k, v := range c.env {
				env[k] = strings.ReplaceAll(v, "DOMAIN", s.m.Domain)
			}
			before := s.snapshot(t, dir)
			out := s.run(t, args, env, c.stdin)
			if out.code != c.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", out.code, c.code, out.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(out.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, out.stderr)
				}
			}
			if slices.Contains(args, "--json") {
				checkJSONFailure(t, out, c)
			} else if strings.Contains(out.stdout, "{") {
				t.Errorf("a JSON object without --json:\n%s", out.stdout)
			}
			s.assertUnchanged(t, before, dir)
		})
	}
	s.assertUnchanged(t, initial, "")
}

// checkJSONFailure: with --json, the last line is the one JSON object, a failed rotation with
// the error and the warnings.
func checkJSONFailure(t *testing.T, out outcome, c badInput) {
	t.Helper()
	res := out.result(t)
	if res["status"] == steps.StatusRotated || res["error"] == nil || !strings.Contains(out.stderr, res["error"].(string)) {
		t.Errorf("JSON result %v: want a failure whose error is the one on stderr", res)
	}
	want := steps.StatusFailed
	if c.code == exitDeclined {
		want = steps.StatusDeclined
	}
	if res["status"] != want {
		t.Errorf("JSON status %v after exit %d, want %s", res["status"], c.code, want)
	}
	if got := out.warnings(t); !maps.Equal(got, c.warnings) && len(got)+len(c.warnings) > 0 {
		t.Errorf("JSON warnings (name: accepted) %v, want %v", got, c.warnings)
	}
}

// TestRotateAcceptsWarningsByName: each warning that refuses a rotation under --yes lets it go
// on once accepted by name; stderr, the JSON result and the audit record say it was accepted.
// The cases share one sandbox, each rotating its own client; the drift comes last, as its
// leftover edit shows in every client's plan.
func TestRotateAcceptsWarningsByName(t *testing.T) {
	s := startBadSandbox(t)
	t.Run("unlisted-current-key, with AUTH0_DOMAIN https://HOST/", func(t *testing.T) {
		// The service's file lists only another key: the rotation edits this file, as accepted.
		data, err := os.ReadFile(otherClientsSystemConfig(t, s))
		if err != nil {
			t.Fatal(err)
		}
		sys := write(t, t.TempDir(), "service.json", string(data), 0o600)
		out := s.run(t, s.rotate(t, "--system-config", sys, "--accept-warning", steps.WarnUnlistedCurrentKey),
			map[string]string{"AUTH0_DOMAIN": "https://" + s.m.Domain + "/"}, "")
		s.expectAccepted(t, out, exitOK, steps.WarnUnlistedCurrentKey)
		if res := out.result(t); res["status"] != steps.StatusRotated {
			t.Errorf("result %v, want rotated", res)
		}
	})
	t.Run("failing-current-key", func(t *testing.T) {
		// The wrong audience fails the new key's checks too: verify stops the rotation, which
		// --abort undoes.
		args := s.rotate(t, "--client", "payments-gateway", "--system-config", s.client(t, "payments-gateway").SystemConfig,
			"--audience", "https://wrong.example/", "--verify-count", "1", "--accept-warning", steps.WarnFailingCurrentKey)
		out := s.run(t, args, nil, "")
		s.expectAccepted(t, out, exitUnsafe, steps.WarnFailingCurrentKey)
		if !strings.Contains(out.stderr, "verify: FAILED") {
			t.Errorf("the rotation did not go on to verify:\n%s", out.stderr)
		}
		if undo := s.run(t, append(args, "--abort"), nil, ""); undo.code != exitOK {
			t.Errorf("--abort: exit %d\n%s", undo.code, undo.stderr)
		}
	})
	t.Run("plan-drift", func(t *testing.T) {
		editHCL(t, s, reportingCronClient, leftoverEdit)
		out := s.run(t, s.rotate(t, "--client", "inventory-sync", "--system-config", s.client(t, "inventory-sync").SystemConfig,
			"--accept-warning", steps.WarnPlanDrift, "--accept-change", "auth0_client.reporting_cron"), nil, "")
		s.expectAccepted(t, out, exitOK, steps.WarnPlanDrift)
	})
}

// expectAccepted checks a rotation that went past preflight's warning name, accepted by name:
// its exit code, stderr, the JSON result and the audit record.
func (s *cliSandbox) expectAccepted(t *testing.T, out outcome, code int, name string) {
	t.Helper()
	if out.code != code {
		t.Errorf("exit %d, want %d\nstderr:\n%s", out.code, code, out.stderr)
	}
	if !strings.Contains(out.stderr, "rekey: warning ["+name+"]: ") || !strings.Contains(out.stderr, "(accepted with --accept-warning "+name+")") {
		t.Errorf("stderr does not show %s as accepted:\n%s", name, out.stderr)
	}
	if got := out.warnings(t); !maps.Equal(got, map[string]bool{name: true}) {
		t.Errorf("JSON warnings %v, want %s accepted", got, name)
	}
	data, err := os.ReadFile(steps.AuditPath(s.m.TerraformDir))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var rec steps.AuditRecord
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rec.Accepted, func(a string) bool { return strings.HasPrefix(a, "warning "+name+": ") }) {
		t.Errorf("the audit record does not list %s as accepted: %q", name, rec.Accepted)
	}
}
