package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
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

// Layout is how the sandbox's workspace declares the clients' credentials.
type Layout string

// The layouts: each is one way teams write their credentials, and rekey edits each where the
// keys are declared.
const (
	// LayoutLiteral gives each client its own auth0_client_credentials resource with literal
	// credentials blocks and heredoc PEMs, as the rotation guide does.
	LayoutLiteral Layout = "literal"
	// LayoutFile is LayoutLiteral with each PEM in a file: pem = file("${path.module}/keys/….pem").
	LayoutFile Layout = "file"
	// LayoutForEach declares every client's keys in a map in locals, and one
	// auth0_client_credentials resource with for_each over it and a dynamic credentials block.
	LayoutForEach Layout = "for_each"
	// LayoutCount declares the clients and their keys as a list in locals, and one
	// auth0_client_credentials resource with count over it and a dynamic credentials block.
	LayoutCount Layout = "count"
	// LayoutDynamic gives each client a resource whose dynamic credentials block iterates a
	// variable set in terraform.tfvars: the name and PEM file of each key.
	LayoutDynamic Layout = "dynamic"
	// LayoutModule manages each client's credentials in a local module, called with for_each
	// over a map in locals that passes each client its keys (pem = trimspace(file(…))).
	LayoutModule Layout = "module"
	// LayoutJSON writes the workspace in Terraform's JSON syntax (main.tf.json), a resource per
	// client with a credentials list, as generated configurations do.
	LayoutJSON Layout = "json"
	// LayoutComputed is LayoutForEach with the keys filtered by a for expression: rekey cannot
	// trace that to the data, so the operator makes each edit (--manual-edit).
	LayoutComputed Layout = "computed"
)

// Layouts are the layouts ParseLayout accepts.
var Layouts = []Layout{LayoutLiteral, LayoutFile, LayoutForEach, LayoutCount, LayoutDynamic, LayoutModule, LayoutJSON, LayoutComputed}

// ParseLayout reads a --layout value.
func ParseLayout(s string) (Layout, error) {
	if l := Layout(s); slices.Contains(Layouts, l) {
		return l, nil
	}
	return "", fmt.Errorf("layout %q: choose one of %s", s, LayoutNames())
}

// LayoutNames lists the layouts for messages and help: "literal, file, …".
func LayoutNames() string {
	names := make([]string, len(Layouts))
	for i, l := range Layouts {
		names[i] = string(l)
	}
	return strings.Join(names, ", ")
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

{{- /* literal and file: ordinary HCL, as a team would write it by hand following the rotation
guide: one auth0_client and one auth0_client_credentials each. */ -}}
{{- define "literal"}}{{template "blocks" .}}{{end}}
{{- define "file"}}{{template "blocks" .}}{{end}}
{{- define "blocks"}}# The sandbox's clients and their Private Key JWT credentials, managed by Terraform.
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
{{- if .PEMFile}}
      pem                    = file("${path.module}/{{.PEMFile}}")
{{- else}}
      pem                    = <<EOF
{{.PEM}}EOF
{{- end}}
    }
  }
}
{{end}}{{end}}

{{- /* dynamic: a resource per client, its keys a variable that terraform.tfvars sets. */ -}}
{{- define "dynamic"}}# The sandbox's clients and their Private Key JWT credentials, managed by Terraform: each
# client's keys are a variable, set in terraform.tfvars.
{{template "provider"}}
{{- range .}}{{template "client" .}}
variable "{{.Resource}}_keys" {
  description = "The public keys of {{.Name}}: a name and a PEM file each."
  type = list(object({
    name                   = string
    pem_file               = string
    parse_expiry_from_cert = bool
  }))
}

resource "auth0_client_credentials" "{{.Resource}}" {
  client_id = auth0_client.{{.Resource}}.id

  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = var.{{.Resource}}_keys
      iterator = key
      content {
        name                   = key.value.name
        credential_type        = "public_key"
        algorithm              = "RS256"
        parse_expiry_from_cert = key.value.parse_expiry_from_cert
        pem                    = file(key.value.pem_file)
      }
    }
  }
}
{{end}}{{end}}

{{- define "dynamic.tfvars"}}# The public keys of each client.
{{- range .}}
{{.Resource}}_keys = [
  { name = "{{.CredentialName}}", pem_file = "{{.PEMFile}}", parse_expiry_from_cert = {{.ParseExpiry}} },
]
{{- end}}
{{end}}

{{- /* module: a local module manages the credentials, one instance per client. */ -}}
{{- define "module"}}{{template "keys map" .}}
module "m2m" {
  source   = "./modules/m2m"
  for_each = local.credentials

  client_id = each.value.client_id
  keys      = each.value.keys
}
{{end}}

{{- define "module.m2m"}}# One client's Private Key JWT credentials: every key in var.keys is attached.
terraform {
  required_providers {
    auth0 = {
      source = "auth0/auth0"
    }
  }
}

variable "client_id" {
  description = "The client whose credentials these are."
  type        = string
}

variable "keys" {
  description = "The client's public keys."
  type = list(object({
    name                   = string
    parse_expiry_from_cert = bool
    pem                    = string
  }))
}

resource "auth0_client_credentials" "this" {
  client_id = var.client_id

{{template "keys block" "var.keys"}}}
{{end}}

{{- /* for_each: the keys are data in locals, the resource one instance per client, its
credentials a dynamic block. */ -}}
{{- define "for_each"}}{{template "keys map" .}}{{template "all" "each.value.keys"}}{{end}}

{{- /* computed: for_each, with the keys filtered by a for expression, which rekey cannot trace
to the data: rekey asks the operator for each edit (--manual-edit). */ -}}
{{- define "computed"}}{{template "keys map" .}}{{template "all" "[for key in each.value.keys : key if !try(key.disabled, false)]"}}{{end}}

{{- define "keys map"}}{{template "data header" .}}
locals {
  credentials = {
{{- range .}}
    "{{.Name}}" = {{template "client keys" .}}
{{- end}}
  }
}
{{end}}

{{- /* count: the clients in a list, one instance each by position. */ -}}
{{- define "count"}}{{template "data header" .}}
locals {
  credentials = [
{{- range .}}
    {{template "client keys" .}},
{{- end}}
  ]
}

resource "auth0_client_credentials" "all" {
  count     = length(local.credentials)
  client_id = local.credentials[count.index].client_id

{{template "keys block" "local.credentials[count.index].keys"}}}
{{end}}

{{- define "keys block"}}  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = {{.}}
      content {
        name                   = credentials.value.name
        credential_type        = "public_key"
        algorithm              = "RS256"
        parse_expiry_from_cert = credentials.value.parse_expiry_from_cert
        pem                    = credentials.value.pem
      }
    }
  }
{{end}}

{{- define "data header"}}# The sandbox's clients and their Private Key JWT credentials, managed by Terraform: the keys
# are data, one instance per client.
{{template "provider"}}
{{- range .}}{{template "client" .}}{{end}}
{{- end}}

{{- define "client keys"}}{
      client_id = auth0_client.{{.Resource}}.id
      keys = [
        {
          name                   = "{{.CredentialName}}"
          parse_expiry_from_cert = {{.ParseExpiry}}
{{- if .PEMFile}}
          pem                    = trimspace(file("${path.module}/{{.PEMFile}}"))
{{- else}}
          pem                    = <<EOF
{{.PEM}}EOF
{{- end}}
        },
      ]
    }
{{- end}}

{{- define "all"}}
resource "auth0_client_credentials" "all" {
  for_each  = local.credentials
  client_id = each.value.client_id

  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = {{.}}
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

// workspaceEntry is one seeded client as the templates need it.
type workspaceEntry struct {
	Resource, Name, CredentialName, PEM string
	PEMFile                             string // keys/NAME.pem, relative to the workspace, in the layouts that read files
	ParseExpiry                         bool
}

// layoutFiles are the files each layout writes besides main.tf, by template name.
var layoutFiles = map[Layout]map[string]string{
	LayoutDynamic: {"terraform.tfvars": "dynamic.tfvars"},
	LayoutModule:  {filepath.Join("modules", "m2m", "main.tf"): "module.m2m"},
}

// writeWorkspace writes dir/terraform for the seeded clients in layout: main.tf, the layout's
// other files, and the public keys the layouts that read files read.
func writeWorkspace(dir string, seeded []seededClient, layout Layout) error {
	if layout == "" {
		layout = LayoutLiteral
	}
	tfDir := filepath.Join(dir, terraformDir)
	files := map[string][]byte{}
	var entries []workspaceEntry
	for _, sc := range seeded {
		e := workspaceEntry{
			Resource: strings.ReplaceAll(sc.name, "-", "_"), Name: sc.name, CredentialName: sc.credentialName,
			PEM: sc.pem, ParseExpiry: sc.certDays > 0,
		}
		if layout == LayoutFile || layout == LayoutDynamic || layout == LayoutModule {
			e.PEMFile = "keys/" + sc.name + ".pem"
			files[filepath.FromSlash(e.PEMFile)] = []byte(sc.pem)
		}
		entries = append(entries, e)
	}
	templates := map[string]string{workspaceFile: string(layout)}
	if layout == LayoutJSON {
		templates = nil
		doc, err := jsonWorkspace(entries)
		if err != nil {
			return err
		}
		files[workspaceFile+".json"] = doc
	}
	maps.Copy(templates, layoutFiles[layout])
	for name, tmpl := range templates {
		var b strings.Builder
		if err := workspaceTemplates.ExecuteTemplate(&b, tmpl, entries); err != nil {
			return err
		}
		files[name] = []byte(b.String())
	}
	for name, data := range files {
		path := filepath.Join(tfDir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := atomicfile.Write(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// jsonWorkspace is the json layout's main.tf.json: the literal layout in Terraform's JSON syntax.
func jsonWorkspace(entries []workspaceEntry) ([]byte, error) {
	type object = map[string]any
	clients, credentials := object{}, object{}
	for _, e := range entries {
		clients[e.Resource] = object{"name": e.Name, "app_type": "non_interactive", "grant_types": []string{"client_credentials"},
			"jwt_configuration": []object{{"alg": "RS256"}}}
		credentials[e.Resource] = object{
			"client_id":             "${auth0_client." + e.Resource + ".id}",
			"authentication_method": "private_key_jwt",
			"private_key_jwt": []object{{"credentials": []object{{
				"name": e.CredentialName, "credential_type": "public_key", "algorithm": "RS256",
				"parse_expiry_from_cert": e.ParseExpiry, "pem": e.PEM,
			}}}},
		}
	}
	doc, err := json.MarshalIndent(object{
		"//":        "The sandbox's clients and their Private Key JWT credentials, managed by Terraform.",
		"terraform": object{"required_providers": object{"auth0": object{"source": "auth0/auth0", "version": ">= 1.47.0"}}},
		"provider":  object{"auth0": object{}},
		"resource":  object{"auth0_client": clients, "auth0_client_credentials": credentials},
	}, "", "  ")
	return append(doc, '\n'), err
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
