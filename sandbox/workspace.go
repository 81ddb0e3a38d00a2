package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
	Binary   tfrunner.Binary
	Provider Provider  // the auth0 provider the workspace runs (ChooseProvider)
	Log      io.Writer // Terraform's output lines; nil to discard
	Layout   Layout    // how main.tf declares the credentials; "" is LayoutLiteral
}

// Layout is how the sandbox's main.tf declares the clients' credentials.
type Layout string

// The layouts.
const (
	// LayoutLiteral gives each client its own auth0_client_credentials resource with literal
	// credentials blocks, as the rotation guide does.
	LayoutLiteral Layout = "literal"
	// LayoutForEach declares every client's keys in a map in locals, and one
	// auth0_client_credentials resource with for_each over it and a dynamic credentials block.
	LayoutForEach Layout = "for_each"
)

// Layouts are the layouts ParseLayout accepts.
var Layouts = []Layout{LayoutLiteral, LayoutForEach}

// ParseLayout reads a --layout value.
func ParseLayout(s string) (Layout, error) {
	if l := Layout(s); slices.Contains(Layouts, l) {
		return l, nil
	}
	return "", fmt.Errorf("layout %q: choose %s or %s", s, LayoutLiteral, LayoutForEach)
}

// workspaceTemplates write main.tf in each layout; both declare the provider and each client
// alike.
var workspaceTemplates = template.Must(template.New("parts").Parse(`
{{- define "provider"}}terraform {
  required_providers {
    auth0 = {
      source  = "auth0/auth0"
      version = ">= 1.47.0"
    }
  }
}

provider "auth0" {}
{{end}}

{{- define "client"}}
resource "auth0_client" "{{.Resource}}" {
  name        = "{{.Name}}"
  app_type    = "non_interactive"
  grant_types = ["client_credentials"]

  jwt_configuration {
    alg = "RS256"
  }
}
{{end}}

{{- /* literal: ordinary HCL, as a team would write it by hand following the rotation guide:
one auth0_client and one auth0_client_credentials each. */ -}}
{{- define "literal"}}# The sandbox's clients and their Private Key JWT credentials, managed by Terraform.
{{template "provider"}}
{{- range .}}{{template "client" .}}
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
{{end}}{{end}}

{{- /* for_each: the keys are data in locals, the resource one instance per client, its
credentials a dynamic block. */ -}}
{{- define "for_each"}}# The sandbox's clients and their Private Key JWT credentials, managed by Terraform: the keys
# are data, one auth0_client_credentials instance per client.
{{template "provider"}}
{{- range .}}{{template "client" .}}{{end}}
locals {
  credentials = {
{{- range .}}
    "{{.Name}}" = {
      client_id = auth0_client.{{.Resource}}.id
      keys = [
        {
          name                   = "{{.CredentialName}}"
          parse_expiry_from_cert = {{.ParseExpiry}}
          pem                    = <<EOF
{{.PEM}}EOF
        },
      ]
    }
{{- end}}
  }
}

resource "auth0_client_credentials" "all" {
  for_each  = local.credentials
  client_id = each.value.client_id

  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = each.value.keys
      content {
        name                   = credentials.value.name
        credential_type        = "public_key"
        algorithm              = try(credentials.value.algorithm, "RS256")
        parse_expiry_from_cert = try(credentials.value.parse_expiry_from_cert, null)
        expires_at             = try(credentials.value.expires_at, null)
        pem                    = credentials.value.pem
      }
    }
  }
}
{{end}}`))

// workspaceEntry is one seeded client as the template needs it.
type workspaceEntry struct {
	Resource, Name, CredentialName, PEM string
	ParseExpiry                         bool
}

// writeWorkspace writes dir/terraform/main.tf for the seeded clients in layout.
func writeWorkspace(dir string, seeded []seededClient, layout Layout) error {
	var entries []workspaceEntry
	for _, sc := range seeded {
		entries = append(entries, workspaceEntry{
			Resource: strings.ReplaceAll(sc.name, "-", "_"), Name: sc.name, CredentialName: sc.credentialName,
			PEM: sc.pem, ParseExpiry: sc.certDays > 0,
		})
	}
	if layout == "" {
		layout = LayoutLiteral
	}
	var b strings.Builder
	if err := workspaceTemplates.ExecuteTemplate(&b, string(layout), entries); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, terraformDir), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, terraformDir, workspaceFile), []byte(b.String()), 0o644)
}

// terraformEnv is what Terraform needs to reach the sandbox; cliConfig, when set, installs
// the auth0 provider from the sandbox's mirror.
func terraformEnv(domain, caFile string, mgmt ManagementClient, cliConfig string) map[string]string {
	env := map[string]string{
		"AUTH0_DOMAIN": domain, "AUTH0_CLIENT_ID": mgmt.ClientID, "AUTH0_CLIENT_SECRET": mgmt.ClientSecret,
		"SSL_CERT_FILE": caFile,
	}
	if cliConfig != "" {
		env["TF_CLI_CONFIG_FILE"] = cliConfig
	}
	return env
}

// TerraformEnv is the environment Terraform needs in the sandbox's workspace: what the env
// file exports.
func (m *Manifest) TerraformEnv() map[string]string {
	return terraformEnv(m.Domain, m.CAFile, m.Management, m.TerraformCLIConfig)
}

// workspace is the sandbox's Terraform workspace once initialised.
type workspace struct {
	cliConfig string   // TF_CLI_CONFIG_FILE for the provider mirror; "" for the registry
	provider  Provider // with its version, for the registry read from the lock file
}

// runTerraform installs the provider (a filesystem mirror of the real binary or of the
// stand-in; nothing for the registry) and runs `terraform init -upgrade` in the workspace
// (refreshing the lock file's hash when the binary changed); with apply, it then plans to a
// file and applies that plan.
func runTerraform(ctx context.Context, dir string, srv *Server, mgmt ManagementClient, opts TerraformOptions, apply bool) (workspace, error) {
	ws := workspace{provider: opts.Provider}
	if ws.provider.Kind != ProviderRegistry {
		var err error
		if ws.cliConfig, err = tfrunner.InstallMirror(filepath.Join(dir, providerDir), ws.provider.Path, ws.provider.Version); err != nil {
			return ws, fmt.Errorf("sandbox: %w", err)
		}
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
	dirTF := filepath.Join(dir, terraformDir)
	runner, err := tfrunner.New(tfrunner.Config{Dir: dirTF, Binary: opts.Binary, Output: lines, Env: terraformEnv(srv.Domain(), filepath.Join(dir, caFile), mgmt, ws.cliConfig)})
	if err != nil {
		return ws, err
	}
	if err := runner.Init(ctx, true); err != nil {
		return ws, fmt.Errorf("sandbox: terraform init in %s with the %s: %w", dirTF, ws.provider, err)
	}
	if ws.provider.Kind == ProviderRegistry {
		v, err := tfrunner.LockedProviderVersion(dirTF, tfrunner.ProviderSource)
		if err != nil || v == nil {
			return ws, fmt.Errorf("sandbox: terraform init in %s did not lock an auth0 provider: %v", dirTF, err)
		}
		ws.provider.Version = v.String()
	}
	if !apply {
		return ws, nil
	}
	planFile := filepath.Join(dirTF, "seed.tfplan")
	defer os.Remove(planFile)
	if _, err := runner.Plan(ctx, planFile); err != nil {
		return ws, fmt.Errorf("sandbox: terraform plan in %s: %w", dirTF, err)
	}
	if err := runner.Apply(ctx, planFile); err != nil {
		return ws, fmt.Errorf("sandbox: terraform apply in %s: %w", dirTF, err)
	}
	return ws, nil
}
