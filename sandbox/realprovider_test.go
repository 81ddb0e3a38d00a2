package sandbox_test

// The REAL auth0 Terraform provider (terraform-provider-auth0, $REKEY_AUTH0_PROVIDER) manages
// a whole machine-to-machine workspace on a running sandbox, through real Terraform.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/hashicorp/terraform-exec/tfexec"

	"rekey/sandbox"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

// m2mTemplate is a machine-to-machine workspace as a team writes it: an API with its scopes,
// a client with the usual settings, its private_key_jwt credential and its grant.
var m2mTemplate = template.Must(template.New("main.tf").Parse(`terraform {
  required_providers {
    auth0 = {
      source  = "auth0/auth0"
      version = "{{.Version}}"
    }
  }
}

provider "auth0" {}

resource "auth0_resource_server" "orders" {
  name                 = "Orders API"
  identifier           = "{{.Audience}}"
  signing_alg          = "RS256"
  token_lifetime       = 3600
  allow_offline_access = false
}

resource "auth0_resource_server_scopes" "orders" {
  resource_server_identifier = auth0_resource_server.orders.identifier
  scopes {
    name        = "read:orders"
    description = "Read orders"
  }
  scopes {
    name        = "write:orders"
    description = "Write orders"
  }
}

resource "auth0_client" "worker" {
  name                 = "orders-worker"
  description          = "{{.Description}}"
  app_type             = "non_interactive"
  grant_types          = ["client_credentials"]
  is_first_party       = true
  oidc_conformant      = true
  custom_login_page_on = false
  callbacks            = []
  organization_usage   = "deny"
  client_metadata = {
    team = "orders"
  }

  jwt_configuration {
    alg                 = "RS256"
    lifetime_in_seconds = 3600
  }

  refresh_token {
    rotation_type   = "non-rotating"
    expiration_type = "non-expiring"
  }
}

resource "auth0_client_credentials" "worker" {
  client_id             = auth0_client.worker.id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "current"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = file("${path.module}/worker.pub.pem")
    }
  }
}

resource "auth0_client_grant" "worker" {
  client_id = auth0_client.worker.id
  audience  = auth0_resource_server.orders.identifier
  scopes    = [{{range $i, $s := .Scopes}}{{if $i}}, {{end}}"{{$s}}"{{end}}]
}
`))

// m2mConfig is what changes between applies of the workspace.
type m2mConfig struct {
	Version, Audience, Description string
	Scopes                         []string
}

func TestRealProviderMachineToMachineWorkspace(t *testing.T) {
	ctx := context.Background()
	provider, err := sandbox.RealProvider(tftest.RealProvider(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, manifest, err := sandbox.Setup(ctx, filepath.Join(dir, "sandbox"), sandbox.SetupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cliConfig, err := tfrunner.InstallMirror(filepath.Join(dir, "provider"), provider.Path, provider.Version)
	if err != nil {
		t.Fatal(err)
	}
	env := manifest.TerraformEnv()
	env["TF_CLI_CONFIG_FILE"] = cliConfig
	w := newM2MWorkspace(t, filepath.Join(dir, "workspace"), tftest.Terraform(t), env)
	key := sdkKey(t, 3)
	w.write("worker.pub.pem", sdkPublicPEM(t, key))
	cfg := m2mConfig{Version: provider.Version, Audience: "https://orders.example.com/", Description: "Reads orders", Scopes: []string{"read:orders"}}
	tn := srv.Tenant()

	w.apply(cfg)
	clientID := w.stateID("auth0_client.worker")
	c, err := tn.Client(clientID)
	if err != nil || c.Properties["description"] != "Reads orders" || c.PrivateKeyJWT == nil || len(*c.PrivateKeyJWT) != 1 || c.TokenEndpointAuthMethod != nil {
		t.Fatalf("client after apply: %+v, %v", c, err)
	}
	auth := sdkAuth(t, srv, clientID, sdkPrivatePEM(t, key))
	if ts, err := sdkLogin(auth, cfg.Audience); err != nil || ts.Scope != "read:orders" {
		t.Fatalf("token for the workspace's client: %+v, %v", ts, err)
	}

	cfg.Description, cfg.Scopes = "Reads and writes orders", []string{"read:orders", "write:orders"}
	w.apply(cfg)
	if c, _ := tn.Client(clientID); c.Properties["description"] != cfg.Description {
		t.Errorf("description after update = %v", c.Properties["description"])
	}
	if ts, err := sdkLogin(auth, cfg.Audience); err != nil || ts.Scope != "read:orders write:orders" {
		t.Errorf("token after the grant's update: %+v, %v", ts, err)
	}

	if err := w.tf.StateRm(ctx, "auth0_client.worker"); err != nil {
		t.Fatal(err)
	}
	if err := w.tf.Import(ctx, "auth0_client.worker", clientID); err != nil {
		t.Fatalf("import the client: %v", err)
	}
	w.planIsClean("after importing the client")

	if err := w.tf.Destroy(ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if _, err := tn.Client(clientID); err == nil {
		t.Error("the client survived destroy")
	}
	if rs, err := tn.ResourceServer(cfg.Audience); err == nil {
		t.Errorf("the resource server survived destroy: %+v", rs)
	}
	if g := tn.Grants(clientID, ""); len(g) != 0 {
		t.Errorf("grants survived destroy: %+v", g)
	}
}

// m2mWorkspace runs Terraform in one workspace folder.
type m2mWorkspace struct {
	t      *testing.T
	dir    string
	tf     *tfexec.Terraform
	inited bool
}

func newM2MWorkspace(t *testing.T, dir string, binary tfrunner.Binary, env map[string]string) *m2mWorkspace {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(dir, binary.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tf.SetEnv(tfrunner.Environment(os.Environ(), env)); err != nil {
		t.Fatal(err)
	}
	return &m2mWorkspace{t: t, dir: dir, tf: tf}
}

func (w *m2mWorkspace) write(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// apply writes the configuration (initialising the workspace the first time), applies it,
// and checks that a plan then has no changes.
func (w *m2mWorkspace) apply(cfg m2mConfig) {
	w.t.Helper()
	var b strings.Builder
	if err := m2mTemplate.Execute(&b, cfg); err != nil {
		w.t.Fatal(err)
	}
	w.write("main.tf", b.String())
	if !w.inited {
		if err := w.tf.Init(context.Background()); err != nil {
			w.t.Fatalf("terraform init: %v", err)
		}
		w.inited = true
	}
	if err := w.tf.Apply(context.Background()); err != nil {
		w.t.Fatalf("apply (%s): %v", cfg.Description, err)
	}
	w.planIsClean(fmt.Sprintf("after applying %q", cfg.Description))
}

// planIsClean fails the test when terraform plan has changes.
func (w *m2mWorkspace) planIsClean(when string) {
	w.t.Helper()
	var out strings.Builder
	w.tf.SetStdout(&out)
	defer w.tf.SetStdout(nil)
	changes, err := w.tf.Plan(context.Background())
	if err != nil {
		w.t.Fatalf("plan %s: %v", when, err)
	}
	if changes {
		w.t.Errorf("plan %s has changes:\n%s", when, out.String())
	}
}

// stateID returns the id of a resource in the workspace's state.
func (w *m2mWorkspace) stateID(address string) string {
	w.t.Helper()
	state, err := w.tf.Show(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range state.Values.RootModule.Resources {
		if r.Address == address {
			id, _ := r.AttributeValues["id"].(string)
			return id
		}
	}
	w.t.Fatalf("%s is not in the state", address)
	return ""
}
