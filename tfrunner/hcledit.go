package tfrunner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Edits splice bytes at the positions hclsyntax reports instead of re-serialising an hclwrite
// tree: hclwrite can only append to a body and cannot drop the blank line next to a removed
// block, while splicing keeps every byte outside the changed block exactly as it was. hclwrite
// builds and formats the new block itself, and every edit is re-parsed and checked before it is
// returned (the kept blocks byte-identical and in order).

// PEMStyle says how the credentials blocks of a resource give their PEM.
type PEMStyle int

const (
	// PEMHeredoc means the PEM text is written inline as a heredoc (pem = <<EOF … EOF).
	PEMHeredoc PEMStyle = iota
	// PEMFile means the PEM is read from a file (pem = file("path")).
	PEMFile
)

// Workspace is the parsed set of .tf and .tfvars files of one folder.
type Workspace struct {
	dir        string
	files      []*hclFile
	json       []string   // .tf.json files that mention auth0_client_credentials
	tfvars     []*hclFile // terraform.tfvars, then *.auto.tfvars in name order: later ones win
	tfvarsJSON []string   // terraform.tfvars.json and *.auto.tfvars.json, which rekey does not edit
	modules    *moduleCache
}

// moduleCache holds the local modules a workspace's module calls read, by folder.
type moduleCache struct{ byDir map[string]*Workspace }

// CredentialsResource is one auth0_client_credentials resource and its private_key_jwt credentials.
type CredentialsResource struct {
	Address     string            // e.g. auth0_client_credentials.billing
	File        string            // path of the .tf file that declares it
	ClientID    string            // literal client_id, or "" when it is a reference
	ClientRef   string            // e.g. auth0_client.billing when client_id = auth0_client.billing.id, else ""
	Credentials []CredentialBlock // the credentials blocks in file order
	PEMStyle    PEMStyle          // how the last block gives its PEM: the style new blocks use
	instance    bool              // found by its state address (Workspace.Credentials): edits find it so again
}

// CredentialBlock is one credentials block inside private_key_jwt, with its literal values.
type CredentialBlock struct {
	Name                string // "" when not set
	CredentialType      string // public_key for Private Key JWT
	Algorithm           string // as written; "" means the provider's default, RS256
	PEM                 string // PEM text, or the file() path (relative to the workspace) when PEMIsFile
	PEMIsFile           bool   // pem = file("path")
	ParseExpiryFromCert *bool  // nil when not set
	ExpiresAt           string // RFC 3339, "" when not set
	Line                int    // line of the block's "credentials" keyword
}

// NewCredentialBlock describes the credentials block AddCredential appends.
type NewCredentialBlock struct {
	Name                string // required, and unlike the names of the other blocks
	Algorithm           string // RS256, RS384 or PS256
	PEM                 string // public key or certificate PEM text, written as a heredoc (PEMHeredoc)
	PEMFile             string // file that holds that PEM, relative to the workspace or absolute (PEMFile)
	ParseExpiryFromCert *bool  // let Auth0 take the expiry from the certificate; nil leaves it out
	ExpiresAt           string // explicit expiry as the provider writes it (…T12:00:00.000Z); "" for none
}

// Edit is the new content of one .tf file; nothing is written until Write.
type Edit struct {
	File   string // path of the file
	Before []byte // the content the edit was made from
	After  []byte // the edited content
	Diff   string // unified diff from Before to After, labelled a/NAME and b/NAME
}

// SyntaxError is a .tf file that does not parse.
type SyntaxError struct {
	File string // path of the file
	Line int    // line of the first error
	Msg  string // HCL's description of it
}

// Error gives file:line: message.
func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// NotFoundError means no root-module auth0_client_credentials resource manages the client.
type NotFoundError struct {
	ClientID   string   // the client looked for
	Dir        string   // the folder searched
	Unresolved []string // resources whose client rekey could not tell, each with the reason
	Modules    []string // module calls, which rekey does not search
}

// Error says what was searched and what to do.
func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no auth0_client_credentials resource for client %s in %s; add one (see README) or point --dir at the folder that manages it",
		e.ClientID, e.Dir)
	if len(e.Unresolved) > 0 {
		msg += "; rekey could not tell which client these manage: " + strings.Join(e.Unresolved, "; ")
	}
	if len(e.Modules) > 0 {
		msg += "; rekey edits root-module resources only and did not look inside " + strings.Join(e.Modules, ", ")
	}
	return msg
}

// AmbiguousError means several auth0_client_credentials resources manage the client.
type AmbiguousError struct {
	ClientID  string   // the client looked for
	Addresses []string // the resources' addresses
	Locations []string // where each is declared, as file:line, in the order of Addresses
}

// Error lists the resources and where they are.
func (e *AmbiguousError) Error() string {
	found := make([]string, len(e.Addresses))
	for i, a := range e.Addresses {
		found[i] = a + " (" + e.Locations[i] + ")"
	}
	return fmt.Sprintf("client %s is managed by %d auth0_client_credentials resources: %s; they would fight over its credentials, so keep exactly one and run rekey again",
		e.ClientID, len(found), strings.Join(found, ", "))
}

// ModuleError means the client is handed to a module call, so its credentials are managed there.
type ModuleError struct {
	ClientID string // the client looked for
	Module   string // the module call's name
	File     string // file of the module call
	Line     int    // line of the argument that passes the client
}

// Error says where the client is passed and what to do.
func (e *ModuleError) Error() string {
	return fmt.Sprintf("%s:%d: client %s is passed to module %q, so its credentials are managed inside that module; rekey edits root-module resources only: declare the client's auth0_client_credentials resource in the root module (a moved block keeps its state) and run rekey again",
		e.File, e.Line, e.ClientID, e.Module)
}

// UnsupportedError means the client's resource is written in a way rekey cannot edit safely.
type UnsupportedError struct {
	Address string // the resource's address
	File    string // file that declares it
	Line    int    // line of the construct rekey cannot edit
	Reason  string // what rekey cannot edit, and how to rewrite it
}

// Error says where, what, and how to rewrite it.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s:%d: rekey cannot edit %s safely: %s", e.File, e.Line, e.Address, e.Reason)
}

// ErrFileChanged means a .tf file changed on disk after rekey read it.
var ErrFileChanged = errors.New("file changed on disk since rekey read it")

// ErrLastCredential means an edit would remove a resource's only credentials block.
var ErrLastCredential = errors.New("refusing to remove the last credentials block")

// hclFile is one parsed .tf file.
type hclFile struct {
	path string // the folder joined with the file name
	src  hclSrc
	body *hclsyntax.Body
}

// LoadWorkspace parses every *.tf file in dir (not in subfolders), and the .tfvars files
// Terraform reads by itself.
func LoadWorkspace(dir string) (*Workspace, error) {
	w, err := loadFolder(dir)
	if err == nil {
		w.modules = &moduleCache{byDir: map[string]*Workspace{}}
	}
	return w, err
}

func loadFolder(dir string) (*Workspace, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the Terraform folder: %w", err)
	}
	w := &Workspace{dir: dir}
	for _, e := range entries {
		name := e.Name()
		// Terraform ignores hidden files too; they include Edit.Write's temporary files.
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, ".tf.json"):
			if src, err := os.ReadFile(path); err != nil {
				return nil, fmt.Errorf("read %s: %w", path, err)
			} else if bytes.Contains(src, []byte(`"auth0_client_credentials"`)) {
				w.json = append(w.json, path)
			}
		case name == "terraform.tfvars.json" || strings.HasSuffix(name, ".auto.tfvars.json"):
			w.tfvarsJSON = append(w.tfvarsJSON, path)
		case strings.HasSuffix(name, ".tf"):
			f, err := readHCLFile(path)
			if err != nil {
				return nil, err
			}
			w.files = append(w.files, f)
		case name == "terraform.tfvars" || strings.HasSuffix(name, ".auto.tfvars"):
			f, err := readHCLFile(path)
			if err != nil {
				return nil, err
			}
			w.tfvars = append(w.tfvars, f)
		}
	}
	// terraform.tfvars comes first; os.ReadDir sorts the rest by name, as Terraform does.
	slices.SortStableFunc(w.tfvars, func(a, b *hclFile) int {
		return boolRank(filepath.Base(b.path) == "terraform.tfvars") - boolRank(filepath.Base(a.path) == "terraform.tfvars")
	})
	return w, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func readHCLFile(path string) (*hclFile, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parseHCLFile(path, src)
}

// module returns the parsed local module in dir, read once.
func (w *Workspace) module(dir string) (*Workspace, error) {
	dir = filepath.Clean(dir)
	if m, ok := w.modules.byDir[dir]; ok {
		return m, nil
	}
	m, err := loadFolder(dir)
	if err != nil {
		return nil, err
	}
	m.modules = w.modules
	w.modules.byDir[dir] = m
	return m, nil
}

// replaced is the workspace with f in place of the file of the same path, in whichever
// folder holds it; w itself is unchanged.
func (w *Workspace) replaced(f *hclFile) *Workspace {
	modules := &moduleCache{byDir: map[string]*Workspace{}}
	for dir, m := range w.modules.byDir {
		modules.byDir[dir] = m.with(f, modules)
	}
	return w.with(f, modules)
}

func (w *Workspace) with(f *hclFile, modules *moduleCache) *Workspace {
	swap := func(files []*hclFile) []*hclFile {
		out := slices.Clone(files)
		for i, old := range out {
			if old.path == f.path {
				out[i] = f
			}
		}
		return out
	}
	c := *w
	c.files, c.tfvars, c.modules = swap(w.files), swap(w.tfvars), modules
	return &c
}

// relName is path relative to the workspace folder, for diffs and messages.
func (w *Workspace) relName(path string) string {
	if rel, err := filepath.Rel(w.dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.Base(path)
}

// jsonSets says whether the JSON .tfvars file at path sets the variable name.
func jsonSets(path, name string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return true // unreadable: Terraform would fail on it, so rekey will not guess past it
	}
	var values map[string]json.RawMessage
	if json.Unmarshal(data, &values) != nil {
		return true
	}
	_, ok := values[name]
	return ok
}

func parseHCLFile(path string, src []byte) (*hclFile, error) {
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		d := diags[slices.IndexFunc(diags, func(d *hcl.Diagnostic) bool { return d.Severity == hcl.DiagError })]
		e := &SyntaxError{File: path, Msg: d.Summary}
		if d.Subject != nil {
			e.Line = d.Subject.Start.Line
		}
		if d.Detail != "" {
			e.Msg += ": " + d.Detail
		}
		return nil, e
	}
	return &hclFile{path: path, src: src, body: f.Body.(*hclsyntax.Body)}, nil
}

// isOverride reports whether the file is an override file (override.tf, *_override.tf), whose
// blocks Terraform merges over the ones of the same address in the other files.
func (f *hclFile) isOverride() bool {
	base := filepath.Base(f.path)
	return base == "override.tf" || strings.HasSuffix(base, "_override.tf")
}

// hclTop is one top-level block of a file and its index among them.
type hclTop struct {
	file  *hclFile
	index int
	block *hclsyntax.Block
}

func (t hclTop) address() string { return strings.Join(t.block.Labels, ".") }

func (t hclTop) where() string {
	return fmt.Sprintf("%s:%d", t.file.path, t.block.TypeRange.Start.Line)
}

func (w *Workspace) topBlocks(keep func(*hclsyntax.Block) bool) []hclTop {
	var out []hclTop
	for _, f := range w.files {
		for i, b := range f.body.Blocks {
			if keep(b) {
				out = append(out, hclTop{file: f, index: i, block: b})
			}
		}
	}
	return out
}

func isCredentialsResource(b *hclsyntax.Block) bool {
	return b.Type == "resource" && len(b.Labels) == 2 && b.Labels[0] == "auth0_client_credentials"
}

func isModuleCall(b *hclsyntax.Block) bool { return b.Type == "module" && len(b.Labels) == 1 }
