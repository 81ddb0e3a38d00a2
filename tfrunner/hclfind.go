package tfrunner

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// FindCredentials returns the auth0_client_credentials resource whose client_id is clientID,
// literally or through a reference to an auth0_client that resolve (state: address → id; may be
// nil) maps to clientID.
func (w *Workspace) FindCredentials(clientID string, resolve func(ref string) (string, bool)) (*CredentialsResource, error) {
	var found, overrides []hclTop
	var unresolved []string
	for _, t := range w.topBlocks(isCredentialsResource) {
		if t.file.isOverride() {
			overrides = append(overrides, t)
			continue
		}
		switch ok, why := managesClient(t, clientID, resolve); {
		case ok:
			found = append(found, t)
		case why != "":
			unresolved = append(unresolved, fmt.Sprintf("%s (%s): %s", t.address(), t.where(), why))
		}
	}
	jsonFound, unreadable := w.jsonManaging(clientID, resolve)
	unresolved = append(unresolved, unreadable...)
	if len(found)+len(jsonFound) == 1 && len(jsonFound) == 1 && jsonFound[0].broken != nil {
		return nil, jsonFound[0].broken
	}
	switch len(found) + len(jsonFound) {
	case 0:
		return nil, w.missing(clientID, resolve, unresolved)
	case 1:
		if len(jsonFound) == 1 {
			return jsonFound[0].public, nil
		}
		r, err := readResource(w, keysBlock(found[0], overrides), "", "")
		if err != nil {
			return nil, err
		}
		r.public.ClientID, r.public.ClientRef = clientOf(found[0])
		return r.public, nil
	}
	e := &AmbiguousError{ClientID: clientID}
	for _, t := range found {
		e.Addresses = append(e.Addresses, t.address())
		e.Locations = append(e.Locations, t.where())
	}
	for _, r := range jsonFound {
		e.Addresses = append(e.Addresses, r.public.Address)
		e.Locations = append(e.Locations, fmt.Sprintf("%s:%d", r.public.File, r.line))
	}
	return nil, e
}

// jsonManaging returns the .tf.json resources that manage clientID, and why others could not
// be read.
func (w *Workspace) jsonManaging(clientID string, resolve func(string) (string, bool)) ([]*jsonResource, []string) {
	resources, errs := w.jsonResources()
	var found []*jsonResource
	for _, r := range resources {
		id, ok := r.public.ClientID, r.public.ClientID != ""
		if r.public.ClientRef != "" && resolve != nil {
			id, ok = resolve(r.public.ClientRef)
		}
		if ok && id == clientID {
			found = append(found, r)
		}
	}
	var unreadable []string
	for _, err := range errs {
		unreadable = append(unreadable, err.Error())
	}
	for _, r := range resources {
		if r.broken != nil && r.public.ClientID == "" && r.public.ClientRef == "" {
			unreadable = append(unreadable, r.broken.Error())
		}
	}
	return found, unreadable
}

// keysBlock is the block whose private_key_jwt Terraform uses for the resource base declares:
// the last override block (override.tf, *_override.tf) of the same address that sets it, in
// Terraform's order (file name, then position), else base itself. rekey edits the keys there.
func keysBlock(base hclTop, overrides []hclTop) hclTop {
	wins := base
	for _, o := range overrides {
		setsKeys := slices.ContainsFunc(o.block.Body.Blocks, func(b *hclsyntax.Block) bool {
			return b.Type == "private_key_jwt" || b.Type == "dynamic" && slices.Equal(b.Labels, []string{"private_key_jwt"})
		}) || o.block.Body.Attributes["private_key_jwt"] != nil
		if o.address() == base.address() && setsKeys {
			wins = o
		}
	}
	return wins
}

// clientOf reads a resource's client_id: a literal id, or a reference to an auth0_client.
func clientOf(t hclTop) (id, ref string) {
	if attr, ok := t.block.Body.Attributes["client_id"]; ok {
		id, _ = hclLiteralString(attr.Expr)
		ref = clientRefOf(attr.Expr)
	}
	return id, ref
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
	if v, ok := hclConstant(expr); ok && !v.IsNull() {
		return v, true
	}
	return cty.NilVal, false
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

// hclResource is a credentials resource with literal credentials blocks, with what edits
// need beyond CredentialsResource.
type hclResource struct {
	public     *CredentialsResource
	w          *Workspace
	top        hclTop
	rel        string             // the folder of the module that declares it, relative to the root
	blocks     []*hclsyntax.Block // the credentials blocks, in file order
	filePrefix string             // "${path.module}/" when the last block's file() path starts so
	fileWrap   string             // "trimspace" or "chomp" when the last block's file() is wrapped so
}

func (r *hclResource) src() hclSrc { return r.top.file.src }

func (r *hclResource) unsupported(line int, format string, args ...any) error {
	return &UnsupportedError{Address: r.public.Address, File: r.public.File, Line: line, Reason: fmt.Sprintf(format, args...)}
}

// readResource reads a credentials resource declared in the module folder rel, or says why
// rekey cannot edit it safely.
func readResource(w *Workspace, t hclTop, rel, address string) (*hclResource, error) {
	r := &hclResource{w: w, top: t, rel: rel, public: &CredentialsResource{Address: cmp.Or(address, t.address()), File: t.file.path, instance: address != ""}}
	body := t.block.Body
	r.public.ClientID, r.public.ClientRef = clientOf(t)
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
	if attr := instancesArg(body); attr != nil {
		return nil, r.unsupported(attr.SrcRange.Start.Line, "it uses %s, and its literal credentials blocks are the same for every instance, so a key added there is added to every client; feed each instance its own keys (a dynamic \"credentials\" block over each.value's keys, see README), or rotate with --manual-edit", attr.Name)
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
			r.fileWrap = ""
			if call, isCall := attr.Expr.(*hclsyntax.FunctionCallExpr); isCall && (call.Name == "trimspace" || call.Name == "chomp") {
				r.fileWrap = call.Name
			}
			if c.PEMIsFile {
				c.PEM = rootPath(r.filePrefix, r.rel, c.PEM)
			}
			if !ok && len(attr.Expr.Variables()) > 0 {
				return r.unsupported(attr.SrcRange.Start.Line, "pem = %s gives %s exactly one key, so it cannot hold the current key and the new one at once, which a rotation without downtime needs. %s",
					r.src().text(attr.Expr.Range()), r.public.Address, singleKeyFix(r.src(), b, attr))
			}
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
	call, isCall := unwrapTrim(expr).(*hclsyntax.FunctionCallExpr)
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

// Declaration returns where the root module declares the resource instance at address (a
// state or plan address): the resource block, or, for an instance inside a module, the module
// call's block. ok is false when no .tf file declares it.
func (w *Workspace) Declaration(address string) (file string, line int, ok bool) {
	name, inModule := strings.CutPrefix(address, "module.")
	var match func(*hclsyntax.Block) bool
	if inModule {
		call, _, _ := strings.Cut(name, ".")
		call, _, _ = strings.Cut(call, "[")
		match = func(b *hclsyntax.Block) bool { return isModuleCall(b) && b.Labels[0] == call }
	} else {
		resource, _, _ := strings.Cut(address, "[")
		match = func(b *hclsyntax.Block) bool {
			return b.Type == "resource" && len(b.Labels) == 2 && b.Labels[0]+"."+b.Labels[1] == resource
		}
	}
	for _, t := range w.topBlocks(match) {
		return t.file.path, t.block.TypeRange.Start.Line, true
	}
	return "", 0, false
}

// Credentials finds the client's credentials: the root-module resource whose client_id names
// it (FindCredentials), or else the one resource instance the state records for it, read
// where it is configured (a for_each instance, a module, a dynamic block fed by data). The
// error is the more specific of the two.
func (w *Workspace) Credentials(clientID string, state *tfjson.State) (*CredentialsResource, error) {
	r, err := w.FindCredentials(clientID, ClientResolver(state))
	var syntax *SyntaxError
	var ambiguous *AmbiguousError
	if err == nil || errors.As(err, &syntax) || errors.As(err, &ambiguous) {
		return r, err
	}
	addresses := CredentialsAddresses(state, clientID)
	if len(addresses) != 1 {
		return nil, err
	}
	ed, instErr := w.editorFor(addresses[0])
	if instErr != nil {
		return nil, instErr
	}
	return ed.resource(), nil
}

// editorFor reads the resource instance at a state address where it is configured.
func (w *Workspace) editorFor(address string) (credentialEditor, error) {
	ed, err := w.readInstance(address)
	var unsupported *UnsupportedError
	if errors.As(err, &unsupported) && unsupported.Address == "" {
		unsupported.Address = address
	}
	return ed, err
}

func (w *Workspace) readInstance(address string) (credentialEditor, error) {
	in, err := w.findInstance(address)
	if err != nil {
		return nil, err
	}
	var dynamic *hclsyntax.Block
	literal := 0
	for _, pkj := range in.top.block.Body.Blocks {
		for _, b := range pkj.Body.Blocks {
			switch {
			case pkj.Type != "private_key_jwt":
			case b.Type == "dynamic" && slices.Equal(b.Labels, []string{"credentials"}):
				dynamic = b
			case b.Type == "credentials":
				literal++
			}
		}
	}
	if dynamic == nil {
		r, err := readResource(w, in.top, in.sc.rel, address)
		for sc := in.sc; err == nil && sc.parent != nil; sc = sc.parent {
			if sc.each != nil {
				return nil, &UnsupportedError{Address: address, File: sc.parent.fileOf(sc.call.Range()).path, Line: sc.call.TypeRange.Start.Line, Reason: fmt.Sprintf(
					"the module's credentials blocks are literal, the same for every instance of module.%s, so a key added there is added to every client; pass each instance its keys as data (a dynamic \"credentials\" block over a module variable, see README), or rotate with --manual-edit", sc.call.Labels[0])}
			}
		}
		return r, err
	}
	if literal > 0 {
		return nil, &UnsupportedError{Address: address, File: in.top.file.path, Line: dynamic.TypeRange.Start.Line, Reason: "private_key_jwt mixes literal credentials blocks with a dynamic one; keep one kind"}
	}
	public := &CredentialsResource{Address: address, instance: true}
	if attr, ok := in.top.block.Body.Attributes["client_id"]; ok {
		if d, err := in.sc.follow(in.each, attr.Expr); err == nil {
			public.ClientID, _ = hclLiteralString(d.expr)
			if d.sc.parent == nil {
				public.ClientRef = clientRefOf(d.expr)
			}
		}
	}
	return readDynamic(w, in, public, dynamic)
}
