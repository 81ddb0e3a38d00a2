package tfrunner_test

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"rekey/tfrunner"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/hcledit")

// goldenCase edits testdata/hcledit/<dir>/input.tf, copied as main.tf next to the files of
// <dir>/files, and compares the result with want.tf and want.diff.
type goldenCase struct {
	dir    string
	client string
	state  map[string]string // Terraform state: auth0_client address → client id
	add    *tfrunner.NewCredentialBlock
	remove string // name of the credential to remove
}

var goldenCases = []goldenCase{
	{dir: "guide_add", client: "guide-client", state: map[string]string{"auth0_client.my_client": "guide-client"},
		add: &tfrunner.NewCredentialBlock{Name: "Next Credential", Algorithm: "RS256", PEM: testPEM("CERTIFICATE", "next")}},
	{dir: "guide_remove", client: "guide-client", state: map[string]string{"auth0_client.my_client": "guide-client"},
		remove: "Current Credential"},
	{dir: "literal_client_add", client: "kTq9xBillingWorker0001",
		add: &tfrunner.NewCredentialBlock{Name: "billing-2026-01", Algorithm: "PS256", PEM: testPEM("CERTIFICATE", "billing-2026"), ParseExpiryFromCert: new(true)}},
	{dir: "file_pem_add", client: "rEpOrTiNgCrOn0002",
		add: &tfrunner.NewCredentialBlock{Name: "reporting-2026", Algorithm: "RS384", PEMFile: "keys/reporting-2026.pem"}},
	{dir: "file_pem_path_module_add", client: "iNvEnToRySyNc0003",
		add: &tfrunner.NewCredentialBlock{Name: "inventory-b", Algorithm: "RS256", PEMFile: "keys/inventory-b.pem"}},
	{dir: "file_pem_trimspace_add", client: "iNvEnToRySyNc0003",
		add: &tfrunner.NewCredentialBlock{Name: "inventory-b", Algorithm: "RS256", PEMFile: "keys/inventory-b.pem"}},
	{dir: "comments_add", client: "payments-id", state: map[string]string{"auth0_client.payments": "payments-id"},
		add: &tfrunner.NewCredentialBlock{Name: "payments-2026-01", Algorithm: "RS256", PEM: testPEM("CERTIFICATE", "payments-2026")}},
	{dir: "comments_remove", client: "payments-id", state: map[string]string{"auth0_client.payments": "payments-id"},
		remove: "payments-2025-06"},
	{dir: "remove_last", client: "kTq9xBillingWorker0001", remove: "billing-b"},
	{dir: "compact_remove", client: "kTq9xBillingWorker0001", remove: "billing-a"},
	{dir: "multi_resource_add", client: "reporting-id",
		state: map[string]string{"auth0_client.billing": "billing-id", "auth0_client.reporting": "reporting-id"},
		add:   &tfrunner.NewCredentialBlock{Name: "reporting-2", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "reporting-2")}},
	{dir: "multi_file_add", client: "inventory-id",
		state: map[string]string{"auth0_client.inventory": "inventory-id", "auth0_client.billing": "billing-id"},
		add:   &tfrunner.NewCredentialBlock{Name: "inventory-2", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "inventory-2")}},
	{dir: "crlf_add", client: "kTq9xBillingWorker0001",
		add: &tfrunner.NewCredentialBlock{Name: "billing-b", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "billing-b")}},
	{dir: "crlf_remove", client: "kTq9xBillingWorker0001", remove: "billing-a"},
	{dir: "tabs_add", client: "kTq9xBillingWorker0001",
		add: &tfrunner.NewCredentialBlock{Name: "billing-b", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "billing-b"), ParseExpiryFromCert: new(true)}},
	{dir: "tabs_remove", client: "kTq9xBillingWorker0001", remove: "billing-a"},
	{dir: "delimiter_add", client: "kTq9xBillingWorker0001",
		add: &tfrunner.NewCredentialBlock{Name: "billing-b", Algorithm: "RS256", PEM: pemWithEOF}},
}

// pemWithEOF is a public key PEM whose base64 holds "EOF", so the heredoc needs another delimiter.
var pemWithEOF = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustBase64("MIIBIjANEOFAkqhkiG9w0BAQEFAAOCAQ")}))

func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// testPEM returns a PEM block of the given type with bytes derived from seed.
func testPEM(kind, seed string) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: []byte(strings.Repeat(seed+"/", 24))}))
}

func TestEditGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.dir, func(t *testing.T) {
			dir := caseWorkspace(t, c.dir, nil)
			e := c.edit(t, dir)
			if e.File != filepath.Join(dir, "main.tf") {
				t.Errorf("Edit.File = %s, want main.tf of the workspace", e.File)
			}
			checkGolden(t, filepath.Join("testdata", "hcledit", c.dir, "want.tf"), e.After)
			checkGolden(t, filepath.Join("testdata", "hcledit", c.dir, "want.diff"), []byte(e.Diff))
			if applied, err := applyDiff(e.Diff, string(e.Before)); err != nil || applied != string(e.After) {
				t.Errorf("Edit.Diff does not turn Before into After (%v)", err)
			}
			checkFormatting(t, c, e)
			if c.add != nil {
				checkAddThenRemoveRestores(t, c, dir, e)
			}
		})
	}
}

// edit loads dir, finds the case's resource and applies its edit.
func (c goldenCase) edit(t *testing.T, dir string) tfrunner.Edit {
	t.Helper()
	w, r := findIn(t, dir, c.client, c.state)
	var e tfrunner.Edit
	var err error
	if c.add != nil {
		e, err = w.AddCredential(r, *c.add)
	} else {
		e, err = w.RemoveCredential(r, named(c.remove))
	}
	if err != nil {
		t.Fatalf("edit: %v", err)
	}
	return e
}

func findIn(t *testing.T, dir, client string, state map[string]string) (*tfrunner.Workspace, *tfrunner.CredentialsResource) {
	t.Helper()
	w, err := tfrunner.LoadWorkspace(dir)
	if err != nil {
		t.Fatalf("LoadWorkspace: %v", err)
	}
	r, err := w.FindCredentials(client, resolver(state))
	if err != nil {
		t.Fatalf("FindCredentials: %v", err)
	}
	return w, r
}

func resolver(state map[string]string) func(string) (string, bool) {
	if state == nil {
		return nil
	}
	return func(ref string) (string, bool) {
		id, ok := state[ref]
		return id, ok
	}
}

func named(name string) func(tfrunner.CredentialBlock) bool {
	return func(c tfrunner.CredentialBlock) bool { return c.Name == name }
}

// caseWorkspace copies a case into a temporary folder; main, when given, replaces its input.tf.
func caseWorkspace(t *testing.T, name string, main []byte) string {
	t.Helper()
	src := filepath.Join("testdata", "hcledit", name)
	dir := t.TempDir()
	if main == nil {
		main = readFile(t, filepath.Join(src, "input.tf"))
	}
	writeFile(t, filepath.Join(dir, "main.tf"), main)
	files := filepath.Join(src, "files")
	if _, err := os.Stat(files); err != nil {
		return dir
	}
	err := os.CopyFS(dir, os.DirFS(files))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		writeFile(t, path, got)
		return
	}
	if want := readFile(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n%s", path, tfrunner.UnifiedDiff(path, want, got))
	}
}

// checkFormatting proves the edit adds no formatting problem: a terraform-fmt-clean input gives
// a clean result (terraform fmt -check and hclwrite.Format agree), and for any input,
// formatting the result equals editing the formatted input.
func checkFormatting(t *testing.T, c goldenCase, e tfrunner.Edit) {
	t.Helper()
	tf := terraformBinary(t)
	if terraformFmtClean(t, tf, e.Before) {
		if !terraformFmtClean(t, tf, e.After) {
			t.Errorf("the input is terraform fmt clean but the result is not:\n%s",
				tfrunner.UnifiedDiff("main.tf", e.After, terraformFmt(t, tf, e.After)))
		}
		if formatted := hclwrite.Format(e.After); !bytes.Equal(formatted, e.After) {
			t.Errorf("hclwrite.Format changes the result:\n%s", tfrunner.UnifiedDiff("main.tf", e.After, formatted))
		}
		return
	}
	fromFormatted := c.edit(t, caseWorkspace(t, c.dir, terraformFmt(t, tf, e.Before))).After
	if got := terraformFmt(t, tf, e.After); !bytes.Equal(got, fromFormatted) {
		t.Errorf("terraform fmt of the result differs from editing the formatted input:\n%s",
			tfrunner.UnifiedDiff("main.tf", fromFormatted, got))
	}
}

// checkAddThenRemoveRestores removes the block just added and expects the original bytes back.
func checkAddThenRemoveRestores(t *testing.T, c goldenCase, dir string, e tfrunner.Edit) {
	t.Helper()
	if err := e.Write(); err != nil {
		t.Fatal(err)
	}
	w, r := findIn(t, dir, c.client, c.state)
	undo, err := w.RemoveCredential(r, named(c.add.Name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(undo.After, e.Before) {
		t.Errorf("removing the added block does not restore the file:\n%s", tfrunner.UnifiedDiff("main.tf", e.Before, undo.After))
	}
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)`)

// applyDiff applies a unified diff to before, checking every context and removed line.
func applyDiff(diff, before string) (string, error) {
	old := strings.SplitAfter(before, "\n")
	var out strings.Builder
	next := 0 // index in old of the next line not yet copied
	lines := strings.SplitAfter(diff, "\n")
	for i, l := range lines {
		text := l[min(1, len(l)):]
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\\ No newline") {
			text = strings.TrimSuffix(text, "\n")
		}
		switch {
		case l == "" || strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ ") || l[0] == '\\':
		case l[0] == '@':
			from, _ := strconv.Atoi(hunkHeader.FindStringSubmatch(l)[1])
			for ; next < from-1; next++ {
				out.WriteString(old[next])
			}
		case l[0] == '+':
			out.WriteString(text)
		case next >= len(old) || old[next] != text:
			return "", fmt.Errorf("diff line %d %q does not match line %d of the file", i+1, l, next+1)
		case l[0] == ' ':
			out.WriteString(text)
			next++
		default:
			next++
		}
	}
	return out.String() + strings.Join(old[next:], ""), nil
}

// terraformBinary returns REKEY_TERRAFORM, else terraform on PATH, else the CI cache copy.
func terraformBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("REKEY_TERRAFORM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("terraform"); err == nil {
		return p
	}
	const cached = "/root/.cache/rekey-ci/tf-1.5.7/terraform"
	if _, err := os.Stat(cached); err != nil {
		t.Skip("no terraform binary (set REKEY_TERRAFORM); the fmt checks need one")
	}
	return cached
}

func terraformCmd(tf string, src []byte, args ...string) *exec.Cmd {
	cmd := exec.Command(tf, append([]string{"fmt"}, args...)...)
	cmd.Stdin = bytes.NewReader(src)
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+os.DevNull, "CHECKPOINT_DISABLE=1")
	return cmd
}

// terraformFmtClean runs terraform fmt -check -.
func terraformFmtClean(t *testing.T, tf string, src []byte) bool {
	t.Helper()
	err := terraformCmd(tf, src, "-check", "-").Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("terraform fmt -check: %v", err)
	}
	return err == nil
}

// terraformFmt runs terraform fmt -.
func terraformFmt(t *testing.T, tf string, src []byte) []byte {
	t.Helper()
	out, err := terraformCmd(tf, src, "-").Output()
	if err != nil {
		t.Fatalf("terraform fmt: %v", err)
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// workspace writes files into a temporary folder.
func workspace(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), []byte(text))
	}
	return dir
}

var heredocPEM = "<<EOF\n" + testPEM("PUBLIC KEY", "current") + "EOF"

// credentialsHCL is a credentials resource; body goes between client_id and private_key_jwt,
// blocks inside private_key_jwt (one heredoc credential when empty).
func credentialsHCL(name, clientExpr, body, blocks string) string {
	if blocks == "" {
		blocks = credentialHCL("current", heredocPEM)
	}
	return fmt.Sprintf("resource \"auth0_client_credentials\" %q {\n  client_id = %s\n%s\n  private_key_jwt {\n%s  }\n}\n",
		name, clientExpr, body, blocks)
}

func credentialHCL(name, pemExpr string) string {
	return fmt.Sprintf("    credentials {\n      name            = %q\n      credential_type = \"public_key\"\n      pem             = %s\n    }\n", name, pemExpr)
}

func TestFindCredentialsReadsTheResource(t *testing.T) {
	dir := workspace(t, map[string]string{
		"main.tf": credentialsHCL("billing", "auth0_client.billing.client_id", "", "") + "\n" +
			credentialsHCL("other", `"other-id"`, "", ""),
		"mixed.tf": credentialsHCL("mixed", `"mixed-id"`, "", `    credentials {
      name                   = "a"
      credential_type        = "public_key"
      algorithm              = "RS384"
      parse_expiry_from_cert = false
      expires_at             = "2026-01-01T00:00:00Z"
      pem                    = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    }

    credentials {
      name            = "b"
      credential_type = "public_key"
      pem             = file("${path.root}/keys/b.pem")
    }
`),
	})
	w, err := tfrunner.LoadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.FindCredentials("billing-id", resolver(map[string]string{"auth0_client.billing": "billing-id"}))
	if err != nil {
		t.Fatal(err)
	}
	want := tfrunner.CredentialBlock{Name: "current", CredentialType: "public_key", PEM: testPEM("PUBLIC KEY", "current"), Line: 5}
	if r.Address != "auth0_client_credentials.billing" || r.File != filepath.Join(dir, "main.tf") || r.ClientID != "" ||
		r.ClientRef != "auth0_client.billing" || r.PEMStyle != tfrunner.PEMHeredoc || len(r.Credentials) != 1 || r.Credentials[0] != want {
		t.Errorf("FindCredentials = %+v", r)
	}

	r, err = w.FindCredentials("mixed-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.Credentials[0], r.Credentials[1]
	if r.ClientID != "mixed-id" || r.PEMStyle != tfrunner.PEMFile || a.Algorithm != "RS384" || a.ExpiresAt != "2026-01-01T00:00:00Z" ||
		a.ParseExpiryFromCert == nil || *a.ParseExpiryFromCert || a.PEM != "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" ||
		b.PEM != "keys/b.pem" || !b.PEMIsFile || b.ParseExpiryFromCert != nil || b.Line != 14 {
		t.Errorf("FindCredentials = %+v, credentials %+v", r, r.Credentials)
	}
}

func TestFindCredentialsFollowsClientReferences(t *testing.T) {
	state := map[string]string{
		"auth0_client.a":           "id-a",
		"data.auth0_client.b":      "id-b",
		`auth0_client.c["blue"]`:   "id-c",
		"auth0_client.d[0]":        "id-d",
		"auth0_client.e":           "id-e",
		"auth0_client.unreachable": "id-x",
	}
	dir := workspace(t, map[string]string{"main.tf": credentialsHCL("a", "auth0_client.a.id", "", "") +
		credentialsHCL("b", "data.auth0_client.b.client_id", "", "") +
		credentialsHCL("c", `auth0_client.c["blue"].id`, "", "") +
		credentialsHCL("d", "auth0_client.d[0].client_id", "", "") +
		credentialsHCL("e", `"${auth0_client.e.id}"`, "", "") +
		credentialsHCL("g", "auth0_client.unreachable.name", "", "")})
	w, err := tfrunner.LoadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"id-a": "a", "id-b": "b", "id-c": "c", "id-d": "d", "id-e": "e"} {
		r, err := w.FindCredentials(id, resolver(state))
		if err != nil || r.Address != "auth0_client_credentials."+want {
			t.Errorf("FindCredentials(%s) = %v, %v; want auth0_client_credentials.%s", id, r, err, want)
		}
	}
	if _, err := w.FindCredentials("id-x", resolver(state)); !errors.As(err, new(*tfrunner.NotFoundError)) {
		t.Errorf("client_id = auth0_client.x.name must not count as a reference to the client, got %v", err)
	}
}

func TestFindCredentialsPrefersTheRootResourceOverAModuleInput(t *testing.T) {
	dir := workspace(t, map[string]string{
		"main.tf":   credentialsHCL("billing", `"billing-id"`, "", ""),
		"grants.tf": "module \"grants\" {\n  source    = \"./grants\"\n  client_id = \"billing-id\"\n}\n",
	})
	w, err := tfrunner.LoadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := w.FindCredentials("billing-id", nil); err != nil || r.Address != "auth0_client_credentials.billing" {
		t.Errorf("FindCredentials = %v, %v", r, err)
	}
}

func TestFindCredentialsErrors(t *testing.T) {
	state := map[string]string{"auth0_client.billing": "billing-id"}
	pkjWith := func(inner string) string {
		return "resource \"auth0_client_credentials\" \"billing\" {\n  client_id = \"billing-id\"\n\n  private_key_jwt {\n" + inner + "  }\n}\n"
	}
	cases := []struct {
		name  string
		files map[string]string
		check func(t *testing.T, err error)
	}{
		{"dynamic credentials", map[string]string{"main.tf": pkjWith(
			"    dynamic \"credentials\" {\n      for_each = var.keys\n      content {\n        credential_type = \"public_key\"\n        pem = credentials.value\n      }\n    }\n")},
			unsupported("main.tf", 5, `dynamic "credentials" block`, "one credentials block per key")},
		{"dynamic private_key_jwt", map[string]string{"main.tf": "resource \"auth0_client_credentials\" \"billing\" {\n  client_id = \"billing-id\"\n  dynamic \"private_key_jwt\" {\n    for_each = [1]\n    content {}\n  }\n}\n"},
			unsupported("main.tf", 3, `dynamic "private_key_jwt" block`, "write literal blocks")},
		{"for_each", map[string]string{"main.tf": credentialsHCL("billing", `"billing-id"`, "  for_each  = toset([\"x\"])\n", "")},
			unsupported("main.tf", 3, "uses for_each", "the same for every instance", "--manual-edit")},
		{"count", map[string]string{"main.tf": credentialsHCL("billing", `"billing-id"`, "  count = 1\n", "")},
			unsupported("main.tf", 3, "uses count", "the same for every instance", "--manual-edit")},
		{"pem from a variable", map[string]string{"main.tf": credentialsHCL("billing", `"billing-id"`, "", credentialHCL("a", "var.pem"))},
			unsupported("main.tf", 8, "pem = var.pem gives auth0_client_credentials.billing exactly one key", "+    dynamic \"credentials\" {", "+      for_each = var.pems", "Declare var.pems (a list of { name, pem } objects)")},
		{"name from a template", map[string]string{"main.tf": credentialsHCL("billing", `"billing-id"`, "",
			"    credentials {\n      name            = \"${var.env}-key\"\n      credential_type = \"public_key\"\n      pem             = "+heredocPEM+"\n    }\n")},
			unsupported("main.tf", 6, `name = "${var.env}-key" in the credentials block at line 5`, "literal values")},
		{"an override file", map[string]string{"main.tf": credentialsHCL("billing", `"billing-id"`, "", credentialHCL("a", heredocPEM)),
			"billing_override.tf": "resource \"auth0_client_credentials\" \"billing\" {\n  private_key_jwt {\n  }\n}\n"},
			func(t *testing.T, err error) {
				var e *tfrunner.UnsupportedError
				if !errors.As(err, &e) || !strings.HasSuffix(e.File, "billing_override.tf") || e.Line != 2 {
					t.Fatalf("want UnsupportedError at billing_override.tf:2, got %#v", err)
				}
				wantIn(t, err, "it has no credentials block")
			}},
		{"JSON configuration", map[string]string{"main.tf": "terraform {}\n",
			"credentials.tf.json": `{"resource": {"auth0_client_credentials": {"billing": {"client_id": "billing-id"}}}}`},
			func(t *testing.T, err error) {
				var e *tfrunner.UnsupportedError
				if !errors.As(err, &e) || !strings.HasSuffix(e.File, "credentials.tf.json") || e.Line != 1 {
					t.Fatalf("want an UnsupportedError at credentials.tf.json:1, got %#v", err)
				}
				wantIn(t, err, `no "private_key_jwt"`, `"private_key_jwt": [{"credentials": [{…}]}]`)
			}},
		{"credentials as an argument", map[string]string{"main.tf": pkjWith("    credentials = []\n")},
			unsupported("main.tf", 5, "credentials is set as an argument", "literal credentials blocks")},
		{"no private_key_jwt", map[string]string{"main.tf": "resource \"auth0_client_credentials\" \"billing\" {\n  client_id             = \"billing-id\"\n  authentication_method = \"client_secret_post\"\n}\n"},
			unsupported("main.tf", 1, "no private_key_jwt block", "current key")},
		{"module gets the literal id", map[string]string{
			"main.tf":    credentialsHCL("other", `"other-id"`, "", ""),
			"modules.tf": "module \"m2m\" {\n  source = \"./m2m\"\n  clients = {\n    billing = \"billing-id\"\n  }\n}\n"},
			func(t *testing.T, err error) {
				var e *tfrunner.ModuleError
				if !errors.As(err, &e) || e.Module != "m2m" || !strings.HasSuffix(e.File, "modules.tf") || e.Line != 3 || e.ClientID != "billing-id" {
					t.Fatalf("want ModuleError at modules.tf:3, got %#v", err)
				}
				wantIn(t, err, "modules.tf:3: ", `module "m2m"`, "root-module resources only")
			}},
		{"module gets a reference", map[string]string{"main.tf": "module \"billing\" {\n  source    = \"./billing\"\n  client_id = auth0_client.billing.client_id\n}\n"},
			func(t *testing.T, err error) {
				var e *tfrunner.ModuleError
				if !errors.As(err, &e) || e.Module != "billing" || e.Line != 3 {
					t.Fatalf("want ModuleError at line 3, got %#v", err)
				}
			}},
		{"two resources", map[string]string{
			"a.tf": credentialsHCL("one", "auth0_client.billing.id", "", ""),
			"b.tf": "\n" + credentialsHCL("two", `"billing-id"`, "", "")},
			func(t *testing.T, err error) {
				var e *tfrunner.AmbiguousError
				if !errors.As(err, &e) || len(e.Addresses) != 2 || e.Addresses[0] != "auth0_client_credentials.one" ||
					!strings.HasSuffix(e.Locations[0], "a.tf:1") || !strings.HasSuffix(e.Locations[1], "b.tf:2") {
					t.Fatalf("want AmbiguousError for one (a.tf:1) and two (b.tf:2), got %#v", err)
				}
				wantIn(t, err, "auth0_client_credentials.one (", "a.tf:1), auth0_client_credentials.two (", "keep exactly one")
			}},
		{"not found", map[string]string{
			"main.tf":    credentialsHCL("other", `"other-id"`, "", ""),
			"modules.tf": "module \"legacy\" {\n  source = \"./legacy\"\n}\n"},
			func(t *testing.T, err error) {
				var e *tfrunner.NotFoundError
				if !errors.As(err, &e) || e.ClientID != "billing-id" || len(e.Unresolved) != 0 {
					t.Fatalf("want NotFoundError, got %#v", err)
				}
				wantIn(t, err, "no auth0_client_credentials resource for client billing-id in ", "add one (see README) or point --dir at the folder that manages it",
					"did not look inside module.legacy (")
			}},
		{"no .tf files", map[string]string{"notes.txt": "not terraform"},
			func(t *testing.T, err error) {
				if !errors.As(err, new(*tfrunner.NotFoundError)) {
					t.Fatalf("want NotFoundError, got %#v", err)
				}
			}},
		{"references that rekey cannot resolve", map[string]string{"main.tf": credentialsHCL("x", "auth0_client.unknown.id", "", "") +
			credentialsHCL("y", "var.client_id", "", "") +
			credentialsHCL("z", "each.value", "  for_each = var.clients\n", "")},
			func(t *testing.T, err error) {
				var e *tfrunner.NotFoundError
				if !errors.As(err, &e) || len(e.Unresolved) != 3 {
					t.Fatalf("want NotFoundError with 3 unresolved resources, got %#v", err)
				}
				wantIn(t, err, "auth0_client_credentials.x (", "refers to auth0_client.unknown, which Terraform state does not hold",
					"client_id = var.client_id is neither a literal nor a reference", "uses for_each, so rekey cannot tell")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := tfrunner.LoadWorkspace(workspace(t, c.files))
			if err != nil {
				t.Fatal(err)
			}
			r, err := w.FindCredentials("billing-id", resolver(state))
			if err == nil {
				t.Fatalf("FindCredentials = %+v, want an error", r)
			}
			c.check(t, err)
		})
	}
}

func TestFindCredentialsWithoutStateExplainsReferences(t *testing.T) {
	w, err := tfrunner.LoadWorkspace(workspace(t, map[string]string{"main.tf": credentialsHCL("billing", "auth0_client.billing.id", "", "")}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.FindCredentials("billing-id", nil)
	wantIn(t, err, "main.tf:1): client_id refers to auth0_client.billing, whose id is unknown without Terraform state")
}

// unsupported checks for an UnsupportedError at file:line whose message holds each of wants.
func unsupported(file string, line int, wants ...string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var e *tfrunner.UnsupportedError
		if !errors.As(err, &e) || !strings.HasSuffix(e.File, file) || e.Line != line || e.Address != "auth0_client_credentials.billing" {
			t.Fatalf("want UnsupportedError for auth0_client_credentials.billing at %s:%d, got %#v", file, line, err)
		}
		wantIn(t, err, append(wants, fmt.Sprintf("%s:%d: rekey cannot edit auth0_client_credentials.billing safely: ", file, line))...)
	}
}

func wantIn(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error holding %q, got nil", wants)
	}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not hold %q", err, want)
		}
	}
}

func TestLoadWorkspaceReportsSyntaxErrors(t *testing.T) {
	dir := workspace(t, map[string]string{
		"a.tf":          credentialsHCL("ok", `"ok"`, "", ""),
		"b.tf":          "resource \"auth0_client\" \"x\" {\n  name = \"x\"\n\n  app_type = = \"spa\"\n}\n",
		"sub/broken.tf": "{{{",
	})
	_, err := tfrunner.LoadWorkspace(dir)
	var e *tfrunner.SyntaxError
	if !errors.As(err, &e) || e.File != filepath.Join(dir, "b.tf") || e.Line != 4 {
		t.Fatalf("want SyntaxError at b.tf:4, got %#v", err)
	}
	if want := filepath.Join(dir, "b.tf") + ":4: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
}

func TestAddCredentialRefuses(t *testing.T) {
	two := credentialsHCL("billing", `"billing-id"`, "", credentialHCL("a", heredocPEM)+"\n"+credentialHCL("b", heredocPEM))
	withFile := credentialsHCL("billing", `"billing-id"`, "", credentialHCL("a", `file("a.pem")`))
	ok := tfrunner.NewCredentialBlock{Name: "next", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "next")}
	privateKey := testPEM("PRIVATE KEY", "secret")
	cases := []struct {
		name  string
		hcl   string
		files map[string]string
		c     func(tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock
		want  string
	}{
		{"two blocks already", two, nil, nil, "already has 2 credentials blocks"},
		{"no name", "", nil, func(c tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock { c.Name = ""; return c }, "needs a name"},
		{"name taken", "", nil, func(c tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock { c.Name = "current"; return c }, `already has a credential named "current" (line 5)`},
		{"algorithm", "", nil, func(c tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock { c.Algorithm = "ES256"; return c }, `algorithm "ES256" is not one Auth0 accepts`},
		{"private key", "", nil, func(c tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock { c.PEM = privateKey; return c }, "refusing to put a private key into Terraform files"},
		{"not PEM", "", nil, func(c tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock { c.PEM = "MIIB"; return c }, "holds no PEM block"},
		{"two PEM blocks", "", nil, func(c tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock { c.PEM += c.PEM; return c }, "more than one PEM block"},
		{"file style without PEMFile", withFile, nil, nil, "needs PEMFile"},
		{"missing PEM file", withFile, nil, func(c tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock { c.PEMFile = "keys/next.pem"; return c }, "write its public PEM there first"},
		{"private key in PEM file", withFile, map[string]string{"keys/next.pem": privateKey},
			func(c tfrunner.NewCredentialBlock) tfrunner.NewCredentialBlock { c.PEMFile = "keys/next.pem"; return c }, "is a private key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"main.tf": c.hcl}
			if c.hcl == "" {
				files["main.tf"] = credentialsHCL("billing", `"billing-id"`, "", "")
			}
			for name, text := range c.files {
				files[name] = text
			}
			w, r := findIn(t, workspace(t, files), "billing-id", nil)
			nc := ok
			if c.c != nil {
				nc = c.c(nc)
			}
			_, err := w.AddCredential(r, nc)
			wantIn(t, err, c.want)
		})
	}
}

func TestRemoveCredentialRefuses(t *testing.T) {
	two := credentialsHCL("billing", `"billing-id"`, "", credentialHCL("a", heredocPEM)+"\n"+credentialHCL("b", heredocPEM))
	cases := []struct {
		name  string
		hcl   string
		match func(tfrunner.CredentialBlock) bool
		want  string
	}{
		{"the last block", credentialsHCL("billing", `"billing-id"`, "", ""), named("current"), "the client would be left with no key"},
		{"no match", two, named("c"), "no credential of auth0_client_credentials.billing"},
		{"two matches", two, func(tfrunner.CredentialBlock) bool { return true }, "2 credentials of auth0_client_credentials.billing match the one to remove (lines 5, 18)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, r := findIn(t, workspace(t, map[string]string{"main.tf": c.hcl}), "billing-id", nil)
			_, err := w.RemoveCredential(r, c.match)
			wantIn(t, err, c.want)
		})
	}
	w, r := findIn(t, workspace(t, map[string]string{"main.tf": credentialsHCL("billing", `"billing-id"`, "", "")}), "billing-id", nil)
	if _, err := w.RemoveCredential(r, named("current")); !errors.Is(err, tfrunner.ErrLastCredential) {
		t.Errorf("removing the last block: want ErrLastCredential, got %v", err)
	}
}

func TestEditRefusesAShapeItCannotSplice(t *testing.T) {
	inline := credentialsHCL("billing", `"billing-id"`, "", strings.Replace(credentialHCL("a", heredocPEM), "credentials {", "/* legacy */ credentials {", 1)+
		"\n"+credentialHCL("b", heredocPEM))
	w, r := findIn(t, workspace(t, map[string]string{"main.tf": inline}), "billing-id", nil)
	_, err := w.RemoveCredential(r, named("a"))
	unsupported("main.tf", 5, "shares a line with a /* */ comment")(t, err)
}

func TestEditWrite(t *testing.T) {
	dir := workspace(t, map[string]string{"main.tf": credentialsHCL("billing", `"billing-id"`, "", "")})
	path := filepath.Join(dir, "main.tf")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	w, r := findIn(t, dir, "billing-id", nil)
	e, err := w.AddCredential(r, tfrunner.NewCredentialBlock{Name: "next", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "next")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); !bytes.Equal(got, e.After) {
		t.Errorf("the file holds\n%s\nwant\n%s", got, e.After)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("mode after Write = %v, %v; want 0640", info.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("the folder holds %v, %v; want main.tf only", entries, err)
	}
}

func TestEditWriteRefusesAChangedFile(t *testing.T) {
	dir := workspace(t, map[string]string{"main.tf": credentialsHCL("billing", `"billing-id"`, "", "")})
	w, r := findIn(t, dir, "billing-id", nil)
	e, err := w.AddCredential(r, tfrunner.NewCredentialBlock{Name: "next", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "next")})
	if err != nil {
		t.Fatal(err)
	}
	meanwhile := append(bytes.Clone(e.Before), "# edited meanwhile\n"...)
	writeFile(t, e.File, meanwhile)
	err = e.Write()
	if !errors.Is(err, tfrunner.ErrFileChanged) {
		t.Fatalf("Write = %v, want ErrFileChanged", err)
	}
	wantIn(t, err, "main.tf was edited after rekey read it")
	if got := readFile(t, e.File); !bytes.Equal(got, meanwhile) {
		t.Error("Write changed a file it refused to write")
	}
}

func TestEditWriteFollowsSymlinks(t *testing.T) {
	dir := workspace(t, map[string]string{"shared/creds.tf": credentialsHCL("billing", `"billing-id"`, "", "")})
	link := filepath.Join(dir, "main.tf")
	if err := os.Symlink(filepath.Join("shared", "creds.tf"), link); err != nil {
		t.Fatal(err)
	}
	w, r := findIn(t, dir, "billing-id", nil)
	e, err := w.AddCredential(r, tfrunner.NewCredentialBlock{Name: "next", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "next")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("main.tf is no longer a symlink: %v, %v", info, err)
	}
	if got := readFile(t, filepath.Join(dir, "shared", "creds.tf")); !bytes.Equal(got, e.After) {
		t.Error("the symlink's target does not hold the edit")
	}
}

func TestUnifiedDiff(t *testing.T) {
	if d := tfrunner.UnifiedDiff("main.tf", []byte("a\n"), []byte("a\n")); d != "" {
		t.Errorf("diff of equal files = %q, want empty", d)
	}
	// A block added after one that ends the same way is shown whole, not starting inside it.
	block := func(name string) string { return "  b {\n    name = \"" + name + "\"\n    x = 1\n  }\n" }
	before := "a {\n" + block("one") + "}\n"
	after := "a {\n" + block("one") + "\n" + block("two") + "}\n"
	want := "--- a/main.tf\n+++ b/main.tf\n@@ -3,4 +3,9 @@\n     name = \"one\"\n     x = 1\n   }\n+\n+  b {\n+    name = \"two\"\n+    x = 1\n+  }\n }\n"
	if d := tfrunner.UnifiedDiff("main.tf", []byte(before), []byte(after)); d != want {
		t.Errorf("UnifiedDiff =\n%s\nwant\n%s", d, want)
	}
}
