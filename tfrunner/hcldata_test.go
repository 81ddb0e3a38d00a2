package tfrunner_test

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"rekey/tfrunner"
)

// layoutCase rotates one client's key in a workspace of testdata/hcldata: add the new key,
// then remove the old one, each edit compared with its golden diff (want-add.diff,
// want-remove.diff) and read back through Credentials.
type layoutCase struct {
	dir      string
	client   string
	address  string // the instance the Terraform state records for the client
	old      string // the current credential's name
	style    tfrunner.PEMStyle
	wantFile string // the file the keys are declared in, relative to the workspace
}

var layoutCases = []layoutCase{
	{dir: "for_each_locals", client: "billing-id", address: `auth0_client_credentials.all["billing"]`, old: "billing-a", style: tfrunner.PEMHeredoc, wantFile: "main.tf"},
	{dir: "dynamic_tfvars", client: "billing-id", address: "auth0_client_credentials.billing", old: "billing-a", style: tfrunner.PEMFile, wantFile: "terraform.tfvars"},
	{dir: "module_for_each", client: "billing-id", address: `module.m2m["billing"].auth0_client_credentials.this`, old: "billing-a", style: tfrunner.PEMFile, wantFile: "main.tf"},
	{dir: "module_argument", client: "billing-id", address: "module.billing.auth0_client_credentials.this", old: "billing-a", style: tfrunner.PEMFile, wantFile: "main.tf"},
	{dir: "count_default", client: "billing-id", address: "auth0_client_credentials.this[0]", old: "billing-a", style: tfrunner.PEMHeredoc, wantFile: "main.tf"},
	{dir: "override", client: "billing-id", address: "auth0_client_credentials.billing", old: "billing-a", style: tfrunner.PEMHeredoc, wantFile: "keys_override.tf"},
	{dir: "tf_json", client: "billing-id", address: "auth0_client_credentials.billing", old: "billing-a", style: tfrunner.PEMHeredoc, wantFile: "main.tf.json"},
	{dir: "tf_json_file", client: "billing-id", address: "auth0_client_credentials.billing", old: "billing-a", style: tfrunner.PEMFile, wantFile: "credentials.tf.json"},
}

func TestLayoutsRotateGolden(t *testing.T) {
	for _, c := range layoutCases {
		t.Run(c.dir, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "hcldata", c.dir))); err != nil {
				t.Fatal(err)
			}
			state := stateWith(c.address, c.client)
			res := credentialsIn(t, dir, c.client, state)
			if res.Address != c.address || len(res.Credentials) != 1 || res.Credentials[0].Name != c.old || res.PEMStyle != c.style {
				t.Fatalf("Credentials = %s with %+v (style %v), want %s with %s only (style %v)", res.Address, res.Credentials, res.PEMStyle, c.address, c.old, c.style)
			}
			if got := relTo(t, dir, res.File); got != c.wantFile {
				t.Errorf("the keys are declared in %s, want %s", got, c.wantFile)
			}
			add := tfrunner.NewCredentialBlock{Name: "billing-b", Algorithm: "RS256", PEM: testPEM("PUBLIC KEY", "billing-b")}
			if res.Credentials[0].ParseExpiryFromCert != nil {
				add.ParseExpiryFromCert = new(false)
			}
			if c.style == tfrunner.PEMFile {
				add.PEMFile = path.Join(path.Dir(res.Credentials[0].PEM), "billing-b.pem")
				writeFile(t, filepath.Join(dir, add.PEMFile), []byte(add.PEM))
			}
			edit := rotateEdit(t, dir, c, state, func(w *tfrunner.Workspace, r *tfrunner.CredentialsResource) (tfrunner.Edit, error) {
				return w.AddCredential(r, add)
			}, "want-add.diff")
			res = credentialsIn(t, dir, c.client, state)
			if len(res.Credentials) != 2 || res.Credentials[1].Name != "billing-b" {
				t.Fatalf("after the add, Credentials = %+v, want %s then billing-b", res.Credentials, c.old)
			}
			rotateEdit(t, dir, c, state, func(w *tfrunner.Workspace, r *tfrunner.CredentialsResource) (tfrunner.Edit, error) {
				return w.RemoveCredential(r, named(c.old))
			}, "want-remove.diff")
			res = credentialsIn(t, dir, c.client, state)
			if len(res.Credentials) != 1 || res.Credentials[0].Name != "billing-b" {
				t.Fatalf("after the removal, Credentials = %+v, want billing-b only", res.Credentials)
			}
			checkFmtKept(t, edit)
		})
	}
}

// rotateEdit makes one edit, compares its diff with the golden file and writes it.
func rotateEdit(t *testing.T, dir string, c layoutCase, state *tfjson.State, edit func(*tfrunner.Workspace, *tfrunner.CredentialsResource) (tfrunner.Edit, error), golden string) tfrunner.Edit {
	t.Helper()
	w, err := tfrunner.LoadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Credentials(c.client, state)
	if err != nil {
		t.Fatal(err)
	}
	e, err := edit(w, res)
	if err != nil {
		t.Fatalf("%s: %v", golden, err)
	}
	checkGolden(t, filepath.Join("testdata", "hcldata", c.dir+"."+golden), []byte(e.Diff))
	if applied, err := applyDiff(e.Diff, string(e.Before)); err != nil || applied != string(e.After) {
		t.Errorf("Edit.Diff does not turn Before into After (%v)", err)
	}
	if err := e.Write(); err != nil {
		t.Fatal(err)
	}
	return e
}

// checkFmtKept checks that an edit of a terraform-fmt-clean file leaves it clean.
func checkFmtKept(t *testing.T, e tfrunner.Edit) {
	t.Helper()
	tf := terraformBinary(t)
	if strings.HasSuffix(e.File, ".tf") && terraformFmtClean(t, tf, e.Before) && !terraformFmtClean(t, tf, e.After) {
		t.Errorf("the input is terraform fmt clean but the result is not:\n%s", tfrunner.UnifiedDiff("main.tf", e.After, terraformFmt(t, tf, e.After)))
	}
}

func credentialsIn(t *testing.T, dir, client string, state *tfjson.State) *tfrunner.CredentialsResource {
	t.Helper()
	w, err := tfrunner.LoadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Credentials(client, state)
	if err != nil {
		t.Fatalf("Credentials: %v", err)
	}
	return res
}

func relTo(t *testing.T, dir, file string) string {
	t.Helper()
	rel, err := filepath.Rel(dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}

// stateWith is a Terraform state holding one auth0_client_credentials instance for client at
// address, in the child module the address names, and client as auth0_client.billing.
func stateWith(address, client string) *tfjson.State {
	r := &tfjson.StateResource{Address: address, Mode: tfjson.ManagedResourceMode, Type: "auth0_client_credentials",
		AttributeValues: map[string]any{"client_id": client}}
	root := &tfjson.StateModule{Resources: []*tfjson.StateResource{{Address: "auth0_client.billing", Mode: tfjson.ManagedResourceMode,
		Type: "auth0_client", AttributeValues: map[string]any{"client_id": client}}}}
	if i := strings.Index(address, ".auth0_client_credentials."); i > 0 {
		root.ChildModules = []*tfjson.StateModule{{Address: address[:i], Resources: []*tfjson.StateResource{r}}}
	} else {
		root.Resources = append(root.Resources, r)
	}
	return &tfjson.State{Values: &tfjson.StateValues{RootModule: root}}
}

// TestLayoutRefusals: a layout rekey cannot edit is refused with the file and line of what
// it cannot edit, and what to do.
func TestLayoutRefusals(t *testing.T) {
	for _, c := range []struct {
		name    string
		files   map[string]string
		address string
		file    string
		line    int
		want    string
	}{
		{name: "tfvars.json", address: "auth0_client_credentials.billing", file: "main.tf", line: 7,
			files: map[string]string{"main.tf": dynamicOver("var.keys", `file(credentials.value.pem_file)`), "terraform.tfvars.json": `{"keys": []}`},
			want:  "terraform.tfvars.json sets var.keys, and rekey does not edit JSON files"},
		{name: "content reads lookup", address: "auth0_client_credentials.billing", file: "main.tf", line: 15,
			files: map[string]string{"main.tf": `locals {
  keys = [{ name = "a", pem = "x" }]
}
` + dynamicOver("local.keys", `lookup(credentials.value, "pem", "")`)},
			want: `pem = lookup(credentials.value, "pem", "") in the content block is an expression rekey cannot trace to one key's data`},
		{name: "keys from a function", address: "auth0_client_credentials.billing", file: "main.tf", line: 7,
			files: map[string]string{"main.tf": dynamicOver(`jsondecode(file("keys.json"))`, "credentials.value.pem")},
			want:  `iterates jsondecode(file("keys.json")), which rekey cannot trace to a literal list or map of keys`},
		{name: "single key in a module", address: "module.billing.auth0_client_credentials.this", file: "modules/one/main.tf", line: 10,
			files: map[string]string{
				"main.tf": `module "billing" {
  source     = "./modules/one"
  public_key = "x"
}
`,
				"modules/one/main.tf": `variable "public_key" {}

resource "auth0_client_credentials" "this" {
  client_id             = "billing-id"
  authentication_method = "private_key_jwt"
  private_key_jwt {
    credentials {
      name            = "current"
      credential_type = "public_key"
      pem             = var.public_key
    }
  }
}
`},
			want: "pem = var.public_key gives module.billing.auth0_client_credentials.this exactly one key"},
		{name: "literal blocks shared by for_each", address: `auth0_client_credentials.all["billing"]`, file: "main.tf", line: 2,
			files: map[string]string{"main.tf": `resource "auth0_client_credentials" "all" {
  for_each              = { billing = "billing-id" }
  client_id             = each.value
  authentication_method = "private_key_jwt"
  private_key_jwt {
    credentials {
      name            = "shared"
      credential_type = "public_key"
      pem             = "x"
    }
  }
}
`},
			want: "its literal credentials blocks are the same for every instance"},
		{name: "remote module", address: "module.m2m.auth0_client_credentials.this", file: "main.tf", line: 1,
			files: map[string]string{"main.tf": `module "m2m" {
  source = "acme/m2m/auth0"
}
`},
			want: `its source "acme/m2m/auth0" is not a local folder`},
		{name: "variable without a value", address: "auth0_client_credentials.billing", file: "main.tf", line: 8,
			files: map[string]string{"main.tf": "variable \"keys\" {}\n" + dynamicOver("var.keys", "credentials.value.pem")},
			want:  "rekey cannot see the value of var.keys"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := workspace(t, c.files)
			w, err := tfrunner.LoadWorkspace(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Credentials("billing-id", stateWith(c.address, "billing-id"))
			var unsupported *tfrunner.UnsupportedError
			if !errors.As(err, &unsupported) {
				t.Fatalf("Credentials: %v, want an UnsupportedError", err)
			}
			if rel := relTo(t, dir, unsupported.File); rel != c.file || unsupported.Line != c.line || unsupported.Address != c.address || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error at %s:%d for %s: %v\nwant at %s:%d for %s, saying %q", rel, unsupported.Line, unsupported.Address, err, c.file, c.line, c.address, c.want)
			}
		})
	}
}

// dynamicOver is a credentials resource whose dynamic block iterates keys and takes pem from pem.
func dynamicOver(keys, pem string) string {
	return `resource "auth0_client_credentials" "billing" {
  client_id             = "billing-id"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = ` + keys + `
      content {
        name            = credentials.value.name
        credential_type = "public_key"
        algorithm       = "RS256"
        pem             = ` + pem + `
      }
    }
  }
}
`
}

// TestDataEditsInline: keys written on one line are added and removed on that line, and what
// rekey cannot tell for a new key is refused before anything is written.
func TestDataEditsInline(t *testing.T) {
	pemA, pemB := testPEM("PUBLIC KEY", "a"), testPEM("PUBLIC KEY", "b")
	keys := func(list string) map[string]string {
		return map[string]string{"main.tf": "locals {\n  keys = " + list + "\n}\n\n" + dynamicOver("local.keys", "credentials.value.pem")}
	}
	add := tfrunner.NewCredentialBlock{Name: "b", Algorithm: "RS256", PEM: pemB}
	one := fmt.Sprintf(`[{ name = "a", pem = %q }]`, pemA)
	t.Run("add and remove on one line", func(t *testing.T) {
		dir := workspace(t, keys(one))
		w, res := credentialsOf(t, dir)
		e, err := w.AddCredential(res, add)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`[{ name = "a", pem = %q }, { name = "b", pem = %q }]`, pemA, pemB)
		if !strings.Contains(string(e.After), "  keys = "+want+"\n") {
			t.Fatalf("after the add:\n%s", e.After)
		}
		if err := e.Write(); err != nil {
			t.Fatal(err)
		}
		w, res = credentialsOf(t, dir)
		if e, err = w.RemoveCredential(res, named("a")); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`  keys = [{ name = "b", pem = %q }]`, pemB); !strings.Contains(string(e.After), want+"\n") {
			t.Fatalf("after the removal:\n%s", e.After)
		}
	})
	for name, c := range map[string]struct{ list, want string }{
		"an item the block does not read": {fmt.Sprintf(`[{ name = "a", pem = %q, owner = "x" }]`, pemA),
			"the element at line 2 has owner, which the credentials block does not read"},
		"the last key lacks what the new one needs": {fmt.Sprintf(`[{ pem = %q }]`, pemA), "has no name, and the new key needs name = \"b\""},
	} {
		t.Run(name, func(t *testing.T) {
			w, res := credentialsOf(t, workspace(t, keys(c.list)))
			if _, err := w.AddCredential(res, add); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("AddCredential: %v; want %q", err, c.want)
			}
		})
	}
	t.Run("names from list positions", func(t *testing.T) {
		files := keys(one)
		files["main.tf"] = strings.Replace(files["main.tf"], "credentials.value.name", "\"key-${credentials.key}\"", 1)
		w, err := tfrunner.LoadWorkspace(workspace(t, files))
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Credentials("billing-id", stateWith("auth0_client_credentials.billing", "billing-id"))
		if err == nil || !strings.Contains(err.Error(), `name = "key-${credentials.key}" in the content block is an expression rekey cannot trace`) {
			t.Fatalf("Credentials: %v", err)
		}
	})
}

func credentialsOf(t *testing.T, dir string) (*tfrunner.Workspace, *tfrunner.CredentialsResource) {
	t.Helper()
	w, err := tfrunner.LoadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Credentials("billing-id", stateWith("auth0_client_credentials.billing", "billing-id"))
	if err != nil {
		t.Fatal(err)
	}
	return w, res
}
