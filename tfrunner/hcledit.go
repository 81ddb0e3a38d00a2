package tfrunner

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
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

// Workspace is the parsed set of .tf files of one folder.
type Workspace struct {
	dir   string
	files []*hclFile
}

// CredentialsResource is one auth0_client_credentials resource and its private_key_jwt credentials.
type CredentialsResource struct {
	Address     string            // e.g. auth0_client_credentials.billing
	File        string            // path of the .tf file that declares it
	ClientID    string            // literal client_id, or "" when it is a reference
	ClientRef   string            // e.g. auth0_client.billing when client_id = auth0_client.billing.id, else ""
	Credentials []CredentialBlock // the credentials blocks in file order
	PEMStyle    PEMStyle          // how the last block gives its PEM: the style new blocks use
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
	ParseExpiryFromCert bool   // let Auth0 take the expiry from the certificate
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

// LoadWorkspace parses every *.tf file in dir (not in subfolders).
func LoadWorkspace(dir string) (*Workspace, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the Terraform folder: %w", err)
	}
	w := &Workspace{dir: dir}
	for _, e := range entries {
		// Terraform ignores hidden files too; they include Edit.Write's temporary files.
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tf") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		f, err := parseHCLFile(path, src)
		if err != nil {
			return nil, err
		}
		w.files = append(w.files, f)
	}
	return w, nil
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

// FindCredentials returns the auth0_client_credentials resource whose client_id is clientID,
// literally or through a reference to an auth0_client that resolve (state: address → id; may be
// nil) maps to clientID.
func (w *Workspace) FindCredentials(clientID string, resolve func(ref string) (string, bool)) (*CredentialsResource, error) {
	var found []hclTop
	var unresolved []string
	for _, t := range w.topBlocks(isCredentialsResource) {
		switch ok, why := managesClient(t, clientID, resolve); {
		case ok:
			found = append(found, t)
		case why != "":
			unresolved = append(unresolved, fmt.Sprintf("%s (%s): %s", t.address(), t.where(), why))
		}
	}
	switch len(found) {
	case 0:
		return nil, w.missing(clientID, resolve, unresolved)
	case 1:
		r, err := readResource(found[0])
		if err != nil {
			return nil, err
		}
		return r.public, nil
	}
	e := &AmbiguousError{ClientID: clientID}
	for _, t := range found {
		e.Addresses = append(e.Addresses, t.address())
		e.Locations = append(e.Locations, t.where())
	}
	return nil, e
}

// managesClient says whether a credentials resource manages clientID or, when rekey cannot
// tell, why not.
func managesClient(t hclTop, clientID string, resolve func(string) (string, bool)) (bool, string) {
	attr, ok := t.block.Body.Attributes["client_id"]
	if !ok {
		return false, "it has no client_id"
	}
	if id, ok := hclLiteralString(attr.Expr); ok {
		return id == clientID, ""
	}
	if ref := clientRefOf(attr.Expr); ref != "" {
		if resolve == nil {
			return false, fmt.Sprintf("client_id refers to %s, whose id is unknown without Terraform state", ref)
		}
		id, ok := resolve(ref)
		if !ok {
			return false, fmt.Sprintf("client_id refers to %s, which Terraform state does not hold", ref)
		}
		return id == clientID, ""
	}
	if meta := instancesArg(t.block.Body); meta != nil {
		return false, fmt.Sprintf("it uses %s, so rekey cannot tell which clients it manages", meta.Name)
	}
	return false, fmt.Sprintf("client_id = %s is neither a literal nor a reference to an auth0_client", t.file.src.text(attr.Expr.Range()))
}

// instancesArg returns a block's for_each or count argument, or nil.
func instancesArg(body *hclsyntax.Body) *hclsyntax.Attribute {
	if attr, ok := body.Attributes["for_each"]; ok {
		return attr
	}
	return body.Attributes["count"]
}

// missing explains why no resource manages clientID: a module call gets it, or none does.
func (w *Workspace) missing(clientID string, resolve func(string) (string, bool), unresolved []string) error {
	e := &NotFoundError{ClientID: clientID, Dir: w.dir, Unresolved: unresolved}
	for _, t := range w.topBlocks(isModuleCall) {
		for _, attr := range hclAttributes(t.block.Body) {
			if mentionsClient(attr.Expr, clientID, resolve) {
				return &ModuleError{ClientID: clientID, Module: t.block.Labels[0], File: t.file.path, Line: attr.SrcRange.Start.Line}
			}
		}
		e.Modules = append(e.Modules, fmt.Sprintf("module.%s (%s)", t.block.Labels[0], t.where()))
	}
	return e
}

// mentionsClient says whether an expression holds clientID literally or refers to an
// auth0_client that resolve maps to it.
func mentionsClient(expr hclsyntax.Expression, clientID string, resolve func(string) (string, bool)) bool {
	for _, tr := range expr.Variables() {
		if ref := clientRefOfTraversal(tr); ref != "" && resolve != nil {
			if id, ok := resolve(ref); ok && id == clientID {
				return true
			}
		}
	}
	v, ok := hclLiteral(expr)
	if !ok {
		return false
	}
	found := false
	_ = cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		found = found || (v.Type() == cty.String && !v.IsNull() && v.AsString() == clientID)
		return !found, nil
	})
	return found
}

// hclClientRef matches the address part of a reference to a client: auth0_client.NAME or
// data.auth0_client.NAME, with an optional instance key.
var hclClientRef = regexp.MustCompile(`^(data\.)?auth0_client\.[A-Za-z_][A-Za-z0-9_-]*(\[[^\]]+\])?$`)

// clientRefOf returns "auth0_client.NAME" when expr is auth0_client.NAME.id (or .client_id,
// possibly inside "${…}"), else "".
func clientRefOf(expr hclsyntax.Expression) string {
	if wrap, ok := expr.(*hclsyntax.TemplateWrapExpr); ok {
		expr = wrap.Wrapped
	}
	if st, ok := expr.(*hclsyntax.ScopeTraversalExpr); ok {
		return clientRefOfTraversal(st.Traversal)
	}
	return ""
}

func clientRefOfTraversal(tr hcl.Traversal) string {
	last, ok := tr[len(tr)-1].(hcl.TraverseAttr)
	if !ok || (last.Name != "id" && last.Name != "client_id") {
		return ""
	}
	var b strings.Builder
	for _, step := range tr[:len(tr)-1] {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			b.WriteString("[" + instanceKey(s.Key) + "]")
		default:
			return ""
		}
	}
	if !hclClientRef.MatchString(b.String()) {
		return ""
	}
	return b.String()
}

// instanceKey writes an instance key as Terraform addresses do: [0], ["name"].
func instanceKey(k cty.Value) string {
	switch {
	case !k.IsKnown() || k.IsNull():
		return ""
	case k.Type() == cty.String:
		return strconv.Quote(k.AsString())
	case k.Type() == cty.Number:
		return k.AsBigFloat().Text('f', -1)
	}
	return ""
}

// hclAttributes returns a body's attributes in file order.
func hclAttributes(body *hclsyntax.Body) []*hclsyntax.Attribute {
	attrs := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		attrs = append(attrs, a)
	}
	slices.SortFunc(attrs, func(a, b *hclsyntax.Attribute) int { return a.SrcRange.Start.Byte - b.SrcRange.Start.Byte })
	return attrs
}

// hclLiteral evaluates an expression that needs no variables and no functions.
func hclLiteral(expr hclsyntax.Expression) (cty.Value, bool) {
	if len(expr.Variables()) > 0 {
		return cty.NilVal, false
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return cty.NilVal, false
	}
	return v, true
}

func hclLiteralOf(expr hclsyntax.Expression, ty cty.Type) (cty.Value, bool) {
	v, ok := hclLiteral(expr)
	if !ok {
		return cty.NilVal, false
	}
	v, err := convert.Convert(v, ty)
	return v, err == nil
}

func hclLiteralString(expr hclsyntax.Expression) (string, bool) {
	v, ok := hclLiteralOf(expr, cty.String)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

// hclResource is a credentials resource with what edits need beyond CredentialsResource.
type hclResource struct {
	public     *CredentialsResource
	top        hclTop
	blocks     []*hclsyntax.Block // the credentials blocks, in file order
	filePrefix string             // "${path.module}/" when the last block's file() path starts so
}

func (r *hclResource) src() hclSrc { return r.top.file.src }

func (r *hclResource) unsupported(line int, format string, args ...any) error {
	return &UnsupportedError{Address: r.public.Address, File: r.public.File, Line: line, Reason: fmt.Sprintf(format, args...)}
}

// readResource reads a credentials resource, or says why rekey cannot edit it safely.
func readResource(t hclTop) (*hclResource, error) {
	r := &hclResource{top: t, public: &CredentialsResource{Address: t.address(), File: t.file.path}}
	body := t.block.Body
	if attr, ok := body.Attributes["client_id"]; ok {
		r.public.ClientID, _ = hclLiteralString(attr.Expr)
		r.public.ClientRef = clientRefOf(attr.Expr)
	}
	if attr := instancesArg(body); attr != nil {
		return nil, r.unsupported(attr.SrcRange.Start.Line, "it uses %s, so one block stands for several resources; give this client its own auth0_client_credentials resource without for_each or count, with literal credentials blocks", attr.Name)
	}
	pkj, err := r.nestedBlocks(body, "private_key_jwt", t.block.TypeRange.Start.Line)
	if err != nil {
		return nil, err
	}
	if len(pkj) > 1 {
		return nil, r.unsupported(pkj[1].TypeRange.Start.Line, "it has %d private_key_jwt blocks where the provider allows one; keep one", len(pkj))
	}
	if r.blocks, err = r.nestedBlocks(pkj[0].Body, "credentials", pkj[0].TypeRange.Start.Line); err != nil {
		return nil, err
	}
	for _, b := range r.blocks {
		if err := r.readCredential(b); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// nestedBlocks returns the literal blocks of one type in a body: at least one, none dynamic.
func (r *hclResource) nestedBlocks(body *hclsyntax.Body, typeName string, parentLine int) ([]*hclsyntax.Block, error) {
	if attr, ok := body.Attributes[typeName]; ok {
		return nil, r.unsupported(attr.SrcRange.Start.Line, "%s is set as an argument (%s = …); write it as literal %s blocks", typeName, typeName, typeName)
	}
	var out []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == "dynamic" && slices.Equal(b.Labels, []string{typeName}) {
			return nil, r.unsupported(b.TypeRange.Start.Line, "its %s comes from a dynamic %q block, which rekey cannot change one key at a time; write literal blocks instead (one credentials block per key)", typeName, typeName)
		}
		if b.Type == typeName {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, r.unsupported(parentLine, "it has no %s block; rekey rotates Private Key JWT credentials, so write the client's current key as a literal credentials block inside private_key_jwt first", typeName)
	}
	return out, nil
}

// readCredential reads one credentials block into r.public.
func (r *hclResource) readCredential(b *hclsyntax.Block) error {
	c := CredentialBlock{Line: b.TypeRange.Start.Line}
	strs := map[string]*string{"name": &c.Name, "credential_type": &c.CredentialType, "algorithm": &c.Algorithm, "expires_at": &c.ExpiresAt}
	for _, attr := range hclAttributes(b.Body) {
		ok := true
		switch dst, isString := strs[attr.Name]; {
		case isString:
			*dst, ok = hclLiteralString(attr.Expr)
		case attr.Name == "parse_expiry_from_cert":
			var v cty.Value
			if v, ok = hclLiteralOf(attr.Expr, cty.Bool); ok {
				parse := v.True()
				c.ParseExpiryFromCert = &parse
			}
		case attr.Name == "pem":
			c.PEM, c.PEMIsFile, r.filePrefix, ok = readPEM(attr.Expr)
		}
		if !ok {
			return r.unsupported(attr.SrcRange.Start.Line, "%s = %s in the credentials block at line %d is an expression rekey cannot read; write the block with literal values (pem as a heredoc or file(\"path\"))",
				attr.Name, r.src().text(attr.Expr.Range()), c.Line)
		}
	}
	r.public.Credentials = append(r.public.Credentials, c)
	r.public.PEMStyle = PEMHeredoc
	if c.PEMIsFile {
		r.public.PEMStyle = PEMFile
	}
	return nil
}

// readPEM reads a pem argument: literal text, or the path of file("path"), with the
// "${path.module}/" prefix the path was written with, if any.
func readPEM(expr hclsyntax.Expression) (value string, isFile bool, prefix string, ok bool) {
	call, isCall := expr.(*hclsyntax.FunctionCallExpr)
	if !isCall {
		value, ok = hclLiteralString(expr)
		return value, false, "", ok
	}
	if call.Name != "file" || len(call.Args) != 1 || call.ExpandFinal {
		return "", false, "", false
	}
	if value, ok = hclLiteralString(call.Args[0]); ok {
		return value, true, "", true
	}
	value, prefix, ok = readModulePath(call.Args[0])
	return value, true, prefix, ok
}

// readModulePath reads "${path.module}/rest" (or path.root) as rest and its prefix; in the
// root module both are the workspace folder.
func readModulePath(expr hclsyntax.Expression) (path, prefix string, ok bool) {
	tmpl, isTmpl := expr.(*hclsyntax.TemplateExpr)
	if !isTmpl || len(tmpl.Parts) < 2 {
		return "", "", false
	}
	head, isTraversal := tmpl.Parts[0].(*hclsyntax.ScopeTraversalExpr)
	if !isTraversal || len(head.Traversal) != 2 || head.Traversal.RootName() != "path" {
		return "", "", false
	}
	dir, _ := head.Traversal[1].(hcl.TraverseAttr)
	var rest strings.Builder
	for _, part := range tmpl.Parts[1:] {
		s, isLiteral := hclLiteralString(part)
		if !isLiteral {
			return "", "", false
		}
		rest.WriteString(s)
	}
	path, isRelative := strings.CutPrefix(rest.String(), "/")
	if (dir.Name != "module" && dir.Name != "root") || !isRelative {
		return "", "", false
	}
	return path, "${path." + dir.Name + "}/", true
}

// locate finds r again in w and reads it afresh, so edits never trust caller-held values.
func (w *Workspace) locate(r *CredentialsResource) (*hclResource, error) {
	for _, t := range w.topBlocks(isCredentialsResource) {
		if t.file.path == r.File && t.address() == r.Address {
			return readResource(t)
		}
	}
	return nil, fmt.Errorf("%s is not declared in %s of this workspace; load the workspace again and retry", r.Address, r.File)
}

// hclAlgorithms are the credential algorithms Auth0 accepts.
var hclAlgorithms = []string{"RS256", "RS384", "PS256"}

// AddCredential appends a credentials block after the last one of r's private_key_jwt.
func (w *Workspace) AddCredential(r *CredentialsResource, c NewCredentialBlock) (Edit, error) {
	res, err := w.locate(r)
	if err != nil {
		return Edit{}, err
	}
	added, err := res.newCredential(c, w.dir)
	if err != nil {
		return Edit{}, err
	}
	at, text, err := res.insertion(c, added)
	if err != nil {
		return Edit{}, err
	}
	after := slices.Concat(res.src()[:at], []byte(text), res.src()[at:])
	keep := make([]int, len(res.blocks))
	for i := range keep {
		keep[i] = i
	}
	return w.finish(res, after, keep, &added)
}

// newCredential checks c against the resource and returns the block it must read back as.
func (r *hclResource) newCredential(c NewCredentialBlock, dir string) (CredentialBlock, error) {
	addr := r.public.Address
	if n := len(r.blocks); n >= MaxAttached {
		return CredentialBlock{}, fmt.Errorf("%s already has %d credentials blocks, the most private_key_jwt allows; retire one before adding another", addr, n)
	}
	if c.Name == "" {
		return CredentialBlock{}, errors.New("the new credential needs a name")
	}
	for _, old := range r.public.Credentials {
		if old.Name == c.Name {
			return CredentialBlock{}, fmt.Errorf("%s already has a credential named %q (line %d); give the new one another name, since the provider identifies credentials by name", addr, c.Name, old.Line)
		}
	}
	if !slices.Contains(hclAlgorithms, c.Algorithm) {
		return CredentialBlock{}, fmt.Errorf("algorithm %q is not one Auth0 accepts for credentials (%s)", c.Algorithm, strings.Join(hclAlgorithms, ", "))
	}
	want := CredentialBlock{Name: c.Name, CredentialType: "public_key", Algorithm: c.Algorithm}
	if c.ParseExpiryFromCert {
		want.ParseExpiryFromCert = &c.ParseExpiryFromCert
	}
	if r.public.PEMStyle == PEMHeredoc {
		want.PEM = strings.ReplaceAll(c.PEM, "\r\n", "\n")
		if !strings.HasSuffix(want.PEM, "\n") {
			want.PEM += "\n" // a heredoc's value ends with a newline
		}
		return want, checkPublicPEM(c.PEM, "the new credential's PEM")
	}
	if c.PEMFile == "" {
		return CredentialBlock{}, fmt.Errorf("%s gives its PEMs with file(), so the new credential needs PEMFile: the file that holds its public PEM", addr)
	}
	want.PEM, want.PEMIsFile = filepath.ToSlash(c.PEMFile), true
	return want, checkPEMFile(dir, c.PEMFile)
}

func checkPEMFile(dir, name string) error {
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the new credential's PEM file (write its public PEM there first): %w", err)
	}
	return checkPublicPEM(string(data), path)
}

// checkPublicPEM accepts exactly one public key or certificate PEM block, and never a private key.
func checkPublicPEM(text, what string) error {
	block, rest := pem.Decode([]byte(text))
	switch {
	case block == nil:
		return fmt.Errorf("%s holds no PEM block", what)
	case strings.Contains(block.Type, "PRIVATE"):
		return fmt.Errorf("%s is a private key; refusing to put a private key into Terraform files: give its public key or certificate", what)
	case !slices.Contains([]string{"PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"}, block.Type):
		return fmt.Errorf("%s is a %q block; give a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", what, block.Type)
	case len(bytes.TrimSpace(rest)) > 0:
		return fmt.Errorf("%s holds more than one PEM block; give exactly one", what)
	}
	return nil
}

// insertion returns where the new block goes (after the last credentials block) and its text,
// indented and with the line endings of that block.
func (r *hclResource) insertion(c NewCredentialBlock, added CredentialBlock) (int, string, error) {
	s := r.src()
	last := r.blocks[len(r.blocks)-1]
	start, end, err := r.ownLines(last)
	if err != nil {
		return 0, "", err
	}
	attrs := hclAttributes(last.Body)
	if len(attrs) == 0 {
		return 0, "", r.unsupported(last.TypeRange.Start.Line, "the credentials block at line %d is empty; give it its credential's arguments", last.TypeRange.Start.Line)
	}
	inner, ok := s.indentAt(attrs[0].SrcRange.Start.Byte)
	if !ok {
		return 0, "", r.unsupported(last.TypeRange.Start.Line, "the credentials block at line %d keeps an argument on its first line; put each argument on its own line", last.TypeRange.Start.Line)
	}
	indent, _ := s.indentAt(last.TypeRange.Start.Byte)
	eol := s.eolAt(start)
	pemExpr, delim := r.pemTokens(added)
	text := renderCredential(c, pemExpr, hclLayout{outer: indent, inner: inner, eol: eol, heredoc: delim})
	// Adding is only possible next to a single block (private_key_jwt holds at most two), so
	// the new block always follows a blank line, as in the rotation guide.
	return end, eol + text, nil
}

// pemTokens is the pem expression of the new block, a heredoc (with its delimiter) or file()
// like its siblings.
func (r *hclResource) pemTokens(added CredentialBlock) (hclwrite.Tokens, string) {
	if !added.PEMIsFile {
		delim := heredocDelimiter(added.PEM)
		return hclwrite.Tokens{
			{Type: hclsyntax.TokenOHeredoc, Bytes: []byte("<<" + delim + "\n")},
			{Type: hclsyntax.TokenStringLit, Bytes: []byte(strings.NewReplacer("${", "$${", "%{", "%%{").Replace(added.PEM))},
			{Type: hclsyntax.TokenCHeredoc, Bytes: []byte(delim)},
		}, delim
	}
	path := hclwrite.TokensForValue(cty.StringVal(added.PEM)).Bytes()
	if r.filePrefix != "" && !filepath.IsAbs(added.PEM) {
		path = slices.Concat([]byte(`"`+r.filePrefix), path[1:])
	}
	return hclwrite.TokensForFunctionCall("file", hclwrite.Tokens{{Type: hclsyntax.TokenStringLit, Bytes: path}}), ""
}

// heredocDelimiter returns EOF, or EOF2, EOF3… when the text holds it.
func heredocDelimiter(text string) string {
	delim := "EOF"
	for n := 2; strings.Contains(text, delim); n++ {
		delim = "EOF" + strconv.Itoa(n)
	}
	return delim
}

// hclLayout is how the new block's lines are indented and ended, and its heredoc delimiter
// ("" for file()).
type hclLayout struct{ outer, inner, eol, heredoc string }

// renderCredential writes the new block with hclwrite, then indents it like its siblings;
// heredoc lines stay as they are.
func renderCredential(c NewCredentialBlock, pemExpr hclwrite.Tokens, in hclLayout) string {
	f := hclwrite.NewEmptyFile()
	body := f.Body().AppendNewBlock("credentials", nil).Body()
	body.SetAttributeValue("name", cty.StringVal(c.Name))
	body.SetAttributeValue("credential_type", cty.StringVal("public_key"))
	body.SetAttributeValue("algorithm", cty.StringVal(c.Algorithm))
	if c.ParseExpiryFromCert {
		body.SetAttributeValue("parse_expiry_from_cert", cty.True)
	}
	body.SetAttributeRaw("pem", pemExpr)

	// File.Bytes formats its tokens, which aligns the arguments as terraform fmt does.
	lines := strings.Split(strings.TrimSuffix(string(f.Bytes()), "\n"), "\n")
	var b strings.Builder
	inHeredoc := false
	for i, line := range lines {
		switch {
		case inHeredoc:
			inHeredoc = line != in.heredoc
		case i == 0 || i == len(lines)-1:
			line = in.outer + line
		default:
			line = in.inner + strings.TrimPrefix(line, "  ")
			// Quoted values end in a quote, so only the pem line can end in "= <<DELIM".
			inHeredoc = in.heredoc != "" && strings.HasSuffix(line, "= <<"+in.heredoc)
		}
		b.WriteString(line + in.eol)
	}
	return b.String()
}

// RemoveCredential removes the one credentials block of r that match selects, with the comment
// lines just above it and one blank line next to it; it never removes the last block.
func (w *Workspace) RemoveCredential(r *CredentialsResource, match func(CredentialBlock) bool) (Edit, error) {
	res, err := w.locate(r)
	if err != nil {
		return Edit{}, err
	}
	if len(res.blocks) == 1 {
		return Edit{}, fmt.Errorf("%w of %s (%s): the client would be left with no key; add its new credential first",
			ErrLastCredential, res.public.Address, res.top.where())
	}
	i, err := res.only(match)
	if err != nil {
		return Edit{}, err
	}
	start, end, err := res.removal(i)
	if err != nil {
		return Edit{}, err
	}
	after := slices.Concat(res.src()[:start], res.src()[end:])
	var keep []int
	for j := range res.blocks {
		if j != i {
			keep = append(keep, j)
		}
	}
	return w.finish(res, after, keep, nil)
}

// only returns the index of the one credential match selects.
func (r *hclResource) only(match func(CredentialBlock) bool) (int, error) {
	var hits []int
	var lines []string
	for i, c := range r.public.Credentials {
		if match(c) {
			hits = append(hits, i)
			lines = append(lines, strconv.Itoa(c.Line))
		}
	}
	switch len(hits) {
	case 0:
		return 0, fmt.Errorf("no credentials block of %s (%s) is the one to remove; nothing was changed", r.public.Address, r.top.where())
	case 1:
		return hits[0], nil
	}
	return 0, fmt.Errorf("%d credentials blocks of %s match the one to remove (lines %s); rekey removes exactly one and will not guess",
		len(hits), r.public.Address, strings.Join(lines, ", "))
}

// removal returns the byte span that removing block i drops: its lines, the comment lines right
// above it, and the blank lines before it (or, when there are none, after it).
func (r *hclResource) removal(i int) (int, int, error) {
	s := r.src()
	start, end, err := r.ownLines(r.blocks[i])
	if err != nil {
		return 0, 0, err
	}
	start = s.linesAbove(start, isCommentLine)
	if above := s.linesAbove(start, isBlankLine); above < start {
		return above, end, nil
	}
	return start, s.linesBelow(end, isBlankLine), nil
}

// ownLines returns the span of the whole lines a block occupies, or an error when it shares a
// line with other code.
func (r *hclResource) ownLines(b *hclsyntax.Block) (int, int, error) {
	s := r.src()
	closeEnd := b.CloseBraceRange.End.Byte
	end := s.lineEnd(closeEnd)
	rest := bytes.TrimSpace(s[closeEnd:end])
	if _, ok := s.indentAt(b.TypeRange.Start.Byte); !ok || (len(rest) > 0 && !isCommentLine(rest)) {
		return 0, 0, r.unsupported(b.TypeRange.Start.Line, "the credentials block at line %d shares a line with a /* */ comment or other code; put it on lines of its own", b.TypeRange.Start.Line)
	}
	return s.lineStart(b.TypeRange.Start.Byte), end, nil
}

// finish re-parses the edited file and checks that the resource reads back as intended — the
// kept blocks byte-identical and in order, the added block as asked — before returning the Edit.
func (w *Workspace) finish(r *hclResource, after []byte, keep []int, added *CredentialBlock) (Edit, error) {
	f, err := parseHCLFile(r.top.file.path, after)
	if err != nil {
		return Edit{}, fmt.Errorf("internal error: the edited file does not parse, nothing was written: %w", err)
	}
	got, err := readResource(hclTop{file: f, index: r.top.index, block: f.body.Blocks[r.top.index]})
	if err != nil {
		return Edit{}, fmt.Errorf("internal error: the edited resource does not read back, nothing was written: %w", err)
	}
	if !r.keeps(got, keep, added) {
		return Edit{}, fmt.Errorf("internal error: editing %s would change credentials it must keep, nothing was written", r.public.Address)
	}
	before := r.src()
	return Edit{File: r.top.file.path, Before: before, After: after, Diff: UnifiedDiff(filepath.Base(r.top.file.path), before, after)}, nil
}

// keeps says whether got holds exactly r's blocks listed in keep, byte for byte, then added.
func (r *hclResource) keeps(got *hclResource, keep []int, added *CredentialBlock) bool {
	want := len(keep)
	if added != nil {
		want++
	}
	if len(got.blocks) != want {
		return false
	}
	for j, i := range keep {
		if r.src().text(r.blocks[i].Range()) != got.src().text(got.blocks[j].Range()) {
			return false
		}
	}
	return added == nil || sameCredential(*added, got.public.Credentials[want-1])
}

// sameCredential says whether a block read back is the one asked for; a heredoc in a CRLF file
// holds CRLF line ends.
func sameCredential(want, got CredentialBlock) bool {
	wantParse, gotParse := want.ParseExpiryFromCert, got.ParseExpiryFromCert
	if (wantParse == nil) != (gotParse == nil) || (wantParse != nil && *wantParse != *gotParse) {
		return false
	}
	got.PEM = strings.ReplaceAll(got.PEM, "\r\n", "\n")
	want.Line, want.ParseExpiryFromCert = got.Line, nil
	got.ParseExpiryFromCert = nil
	return want == got
}

// Write replaces the file with After atomically (temporary file in the same folder, fsync,
// rename), keeping its mode; it refuses when the file no longer holds Before.
func (e Edit) Write() error {
	path, err := filepath.EvalSymlinks(e.File)
	if err != nil {
		return fmt.Errorf("write %s: %w", e.File, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", e.File, err)
	}
	current, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", e.File, err)
	}
	if !bytes.Equal(current, e.Before) {
		return fmt.Errorf("%w: %s was edited after rekey read it, so rekey did not overwrite it; review it and run rekey again", ErrFileChanged, e.File)
	}
	if err := replaceFile(path, e.After, info.Mode().Perm()); err != nil {
		return fmt.Errorf("write %s: %w", e.File, err)
	}
	return nil
}

func replaceFile(path string, data []byte, mode fs.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".rekey-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is done; syncing the folder only makes it durable sooner, so a failure here
	// (some filesystems refuse to sync folders) must not report the write as failed.
	if dir, openErr := os.Open(filepath.Dir(path)); openErr == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return nil
}

// hclSrc is the source of a .tf file, with line helpers that work on byte offsets.
type hclSrc []byte

func (s hclSrc) text(r hcl.Range) string { return string(s[r.Start.Byte:r.End.Byte]) }

// lineStart returns the offset where the line holding off begins.
func (s hclSrc) lineStart(off int) int { return bytes.LastIndexByte(s[:off], '\n') + 1 }

// lineEnd returns the offset just past the newline that ends the line holding off.
func (s hclSrc) lineEnd(off int) int {
	if i := bytes.IndexByte(s[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(s)
}

// indentAt returns the text between the start of off's line and off, and whether it is only
// spaces and tabs.
func (s hclSrc) indentAt(off int) (string, bool) {
	indent := s[s.lineStart(off):off]
	return string(indent), len(bytes.Trim(indent, " \t")) == 0
}

// eolAt returns the line ending of the line holding off.
func (s hclSrc) eolAt(off int) string {
	if end := s.lineEnd(off); end >= 2 && s[end-2] == '\r' && s[end-1] == '\n' {
		return "\r\n"
	}
	return "\n"
}

// linesAbove moves start up over the whole lines just above it that keep accepts.
func (s hclSrc) linesAbove(start int, keep func([]byte) bool) int {
	for start > 0 {
		prev := s.lineStart(start - 1)
		if !keep(s[prev:start]) {
			break
		}
		start = prev
	}
	return start
}

// linesBelow moves end down over the whole lines just below it that keep accepts.
func (s hclSrc) linesBelow(end int, keep func([]byte) bool) int {
	for end < len(s) {
		next := s.lineEnd(end)
		if !keep(s[end:next]) {
			break
		}
		end = next
	}
	return end
}

func isBlankLine(line []byte) bool { return len(bytes.TrimSpace(line)) == 0 }

func isCommentLine(line []byte) bool {
	t := bytes.TrimSpace(line)
	return bytes.HasPrefix(t, []byte("#")) || bytes.HasPrefix(t, []byte("//"))
}
