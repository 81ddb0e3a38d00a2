package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"rekey/internal/atomicfile"
	"rekey/tfrunner"
)

// Folders of the sandbox's Terraform workspace.
const (
	terraformDir  = "terraform"
	providerDir   = "provider" // the filesystem mirror serving this binary as auth0/auth0
	workspaceFile = "main.tf"
)

// TerraformOptions say how the sandbox runs Terraform.
type TerraformOptions struct {
	Binary     tfrunner.Binary
	Executable string    // the binary Terraform launches as the auth0 provider (rekey itself)
	Log        io.Writer // Terraform's output lines; nil to discard
}

// workspaceTemplate is ordinary HCL for the seeded clients, as a team would write it by hand
// following the rotation guide: one auth0_client and one auth0_client_credentials each.
var workspaceTemplate = template.Must(template.New("main.tf").Parse(`# The sandbox's clients and their Private Key JWT credentials, managed by Terraform.
terraform {
  required_providers {
    auth0 = {
      source  = "auth0/auth0"
      version = ">= 1.47.0"
    }
  }
}

provider "auth0" {}
{{range .}}
resource "auth0_client" "{{.Resource}}" {
  name        = "{{.Name}}"
  app_type    = "non_interactive"
  grant_types = ["client_credentials"]

  jwt_configuration {
    alg = "RS256"
  }
}

resource "auth0_client_credentials" "{{.Resource}}" {
  client_id = auth0_client.{{.Resource}}.id

  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name                   = "{{.CredentialName}}"
      credential_type        = "public_key"
      algorithm              = "RS256"
      parse_expiry_from_cert = {{.ParseExpiry}}
      pem                    = <<EOF
{{.PEM}}EOF
    }
  }
}
{{end}}`))

// workspaceEntry is one seeded client as the template needs it.
type workspaceEntry struct {
	Resource, Name, CredentialName, PEM string
	ParseExpiry                         bool
}

// writeWorkspace writes dir/terraform/main.tf for the seeded clients.
func writeWorkspace(dir string, seeded []seededClient) error {
	var entries []workspaceEntry
	for _, sc := range seeded {
		entries = append(entries, workspaceEntry{
			Resource: strings.ReplaceAll(sc.name, "-", "_"), Name: sc.name, CredentialName: sc.credentialName,
			PEM: sc.pem, ParseExpiry: sc.certDays > 0,
		})
	}
	var b strings.Builder
	if err := workspaceTemplate.Execute(&b, entries); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, terraformDir), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, terraformDir, workspaceFile), []byte(b.String()), 0o644)
}

// terraformEnv is what Terraform needs to reach the sandbox through the stand-in provider.
func terraformEnv(domain, caFile string, mgmt ManagementClient, cliConfig string) map[string]string {
	return map[string]string{
		"AUTH0_DOMAIN": domain, "AUTH0_CLIENT_ID": mgmt.ClientID, "AUTH0_CLIENT_SECRET": mgmt.ClientSecret,
		"SSL_CERT_FILE": caFile, "TF_CLI_CONFIG_FILE": cliConfig,
	}
}

// TerraformEnv is the environment Terraform needs in the sandbox's workspace: what the env
// file exports.
func (m *Manifest) TerraformEnv() map[string]string {
	return terraformEnv(m.Domain, m.CAFile, m.Management, m.TerraformCLIConfig)
}

// runTerraform installs the provider mirror for this binary and runs `terraform init
// -upgrade` in the workspace (refreshing the lock file's hash when the binary changed); with
// apply, it then plans to a file and applies that plan. It returns the CLI config's path.
func runTerraform(ctx context.Context, dir string, srv *Server, mgmt ManagementClient, opts TerraformOptions, apply bool) (string, error) {
	cliConfig, err := tfrunner.InstallMirror(filepath.Join(dir, providerDir), opts.Executable)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	lines := make(chan tfrunner.Line)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for l := range lines {
			if opts.Log != nil {
				fmt.Fprintln(opts.Log, l.Text)
			}
		}
	}()
	defer func() { close(lines); <-done }()
	workspace := filepath.Join(dir, terraformDir)
	runner, err := tfrunner.New(tfrunner.Config{Dir: workspace, Binary: opts.Binary, Output: lines, Env: terraformEnv(srv.Domain(), filepath.Join(dir, caFile), mgmt, cliConfig)})
	if err != nil {
		return "", err
	}
	if err := runner.Init(ctx, true); err != nil {
		return "", fmt.Errorf("sandbox: terraform init in %s: %w", workspace, err)
	}
	if !apply {
		return cliConfig, nil
	}
	planFile := filepath.Join(workspace, "seed.tfplan")
	defer os.Remove(planFile)
	if _, err := runner.Plan(ctx, planFile); err != nil {
		return "", fmt.Errorf("sandbox: terraform plan in %s: %w", workspace, err)
	}
	if err := runner.Apply(ctx, planFile); err != nil {
		return "", fmt.Errorf("sandbox: terraform apply in %s: %w", workspace, err)
	}
	return cliConfig, nil
}
