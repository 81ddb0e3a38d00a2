package tfrunner

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Credentials made by a dynamic "credentials" block: the keys are the elements of a literal
// list or map, wherever it is written (locals, a variable's default, a .tfvars file, a module
// call's argument, the for_each map of the resource or of its module). rekey adds or removes
// one element there, copying the last element's shape, and reads the result back through the
// same references before it returns the edit.

// dataCredentials is one instance's dynamic credentials block and the data that feeds it.
type dataCredentials struct {
	w      *Workspace
	in     instance
	public *CredentialsResource
	iter   string     // the iterator's name: credentials, or the block's iterator argument
	args   []binding  // the content block's arguments
	list   dataAt     // the literal list or map the block iterates
	elems  []dataElem // its elements, in file order
}

// dataElem is one element of the list (key: its index) or one item of the map (key: its name).
type dataElem struct {
	key     cty.Value
	keyExpr hclsyntax.Expression // the map item's key as written; nil in a list
	value   hclsyntax.Expression // the element as written
}

// start and end are the element's byte span: a map item from its key.
func (e dataElem) start() int {
	if e.keyExpr != nil {
		return e.keyExpr.Range().Start.Byte
	}
	return e.value.Range().Start.Byte
}

func (e dataElem) end() int { return e.value.Range().End.Byte }

// binding is where one argument of the content block takes its value from.
type binding struct {
	arg      string
	line     int
	constant *cty.Value // the argument is this value for every key
	key      bool       // ITER.key
	whole    bool       // ITER.value: the element itself
	item     string     // ITER.value.ITEM
	fallback *cty.Value // try(ITER.value.ITEM, fallback): the value when an element lacks ITEM
	file     bool       // pem = file(prefix + ITER.value…): the element holds the PEM file's path
	prefix   string     // "" or "${path.module}/"
}

// readDynamic reads a dynamic "credentials" block of in's private_key_jwt.
func readDynamic(w *Workspace, in instance, public *CredentialsResource, dyn *hclsyntax.Block) (*dataCredentials, error) {
	d := &dataCredentials{w: w, in: in, public: public, iter: "credentials"}
	unsupported := func(line int, format string, args ...any) error {
		return &UnsupportedError{Address: in.address, File: in.top.file.path, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	if attr, ok := dyn.Body.Attributes["iterator"]; ok {
		st, isName := attr.Expr.(*hclsyntax.ScopeTraversalExpr)
		if !isName || len(st.Traversal) != 1 {
			return nil, unsupported(attr.SrcRange.Start.Line, "the iterator of the dynamic block is not a name")
		}
		d.iter = st.Traversal.RootName()
	}
	forEach, ok := dyn.Body.Attributes["for_each"]
	if !ok {
		return nil, unsupported(dyn.TypeRange.Start.Line, "the dynamic \"credentials\" block has no for_each")
	}
	contents := slices.DeleteFunc(slices.Clone(dyn.Body.Blocks), func(b *hclsyntax.Block) bool { return b.Type != "content" })
	if len(contents) != 1 || len(contents[0].Body.Blocks) > 0 {
		return nil, unsupported(dyn.TypeRange.Start.Line, "the dynamic \"credentials\" block needs exactly one content block, with arguments only")
	}
	for _, attr := range hclAttributes(contents[0].Body) {
		b, err := d.bind(attr)
		if err != nil {
			return nil, unsupported(attr.SrcRange.Start.Line, "%s", err)
		}
		d.args = append(d.args, b)
	}
	list, err := in.sc.follow(in.each, forEach.Expr)
	if err != nil {
		return nil, err
	}
	d.list = list
	switch x := list.expr.(type) {
	case *hclsyntax.TupleConsExpr:
		for i, e := range x.Exprs {
			d.elems = append(d.elems, dataElem{key: cty.NumberIntVal(int64(i)), value: e})
		}
	case *hclsyntax.ObjectConsExpr:
		for _, item := range x.Items {
			name, ok := objectKey(item.KeyExpr)
			if !ok {
				return nil, list.unsupported("the key %s of the map the dynamic block iterates is not a literal", list.file.src.text(item.KeyExpr.Range()))
			}
			d.elems = append(d.elems, dataElem{key: cty.StringVal(name), keyExpr: item.KeyExpr, value: item.ValueExpr})
		}
	default:
		return nil, list.unsupported("the dynamic \"credentials\" block iterates %s, which rekey cannot trace to a literal list or map of keys; write the keys as one (in locals, a variable default, a .tfvars file or a module argument), or rotate with --manual-edit", list.text())
	}
	if len(d.elems) == 0 {
		return nil, list.unsupported("the list of keys is empty; write the client's current key there first")
	}
	for _, e := range d.elems {
		c, err := d.credential(e)
		if err != nil {
			return nil, err
		}
		public.Credentials = append(public.Credentials, c)
	}
	public.File = list.file.path
	public.PEMStyle = d.pemStyle()
	return d, nil
}

// bind reads one content argument: a constant, ITER.key, ITER.value, ITER.value.ITEM,
// try(ITER.value.ITEM, constant), and for pem file(…) of those, possibly in trimspace or chomp.
func (d *dataCredentials) bind(attr *hclsyntax.Attribute) (binding, error) {
	b := binding{arg: attr.Name, line: attr.SrcRange.Start.Line}
	expr := attr.Expr
	if v, ok := hclConstant(expr); ok {
		b.constant = &v
		return b, nil
	}
	if call, ok := expr.(*hclsyntax.FunctionCallExpr); ok && call.Name == "try" && len(call.Args) == 2 {
		if v, ok := hclConstant(call.Args[1]); ok {
			b.fallback, expr = &v, call.Args[0]
		}
	}
	if attr.Name == "pem" {
		expr = unwrapTrim(expr)
		if call, ok := expr.(*hclsyntax.FunctionCallExpr); ok && call.Name == "file" && len(call.Args) == 1 {
			b.file, expr = true, call.Args[0]
			if tmpl, ok := expr.(*hclsyntax.TemplateExpr); ok && len(tmpl.Parts) == 3 && isPathModule(tmpl.Parts[0]) && isLiteralText(tmpl.Parts[1], "/") {
				b.prefix, expr = "${path.module}/", tmpl.Parts[2]
			}
		}
	}
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if ok && st.Traversal.RootName() == d.iter {
		switch names := traversalNames(st.Traversal); {
		case slices.Equal(names, []string{d.iter, "key"}) && b.fallback == nil:
			b.key = true
			return b, nil
		case slices.Equal(names, []string{d.iter, "value"}):
			b.whole = true
			return b, nil
		case len(names) == 3 && names[1] == "value":
			b.item = names[2]
			return b, nil
		}
	}
	return b, fmt.Errorf("%s = %s in the content block is an expression rekey cannot trace to one key's data; it reads constants, %s.key, %s.value, %s.value.NAME, try(%s.value.NAME, constant), and for pem file() of those",
		attr.Name, d.in.top.file.src.text(attr.Expr.Range()), d.iter, d.iter, d.iter, d.iter)
}

// credential reads the credential one element makes.
func (d *dataCredentials) credential(e dataElem) (CredentialBlock, error) {
	c := CredentialBlock{Line: e.value.Range().Start.Line}
	for _, b := range d.args {
		v, err := d.argValue(e, b)
		switch {
		case err != nil:
		case b.arg == "pem":
			err = d.readPEMArg(&c, b, v)
		case v.constant == nil:
			err = v.at.unsupported("%s = %s in the element at line %d is not a literal value", b.arg, v.at.text(), c.Line)
		default:
			if err = c.set(b.arg, *v.constant); err != nil {
				err = d.list.unsupported("%s of the element at line %d %s", b.arg, c.Line, err)
			}
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

// readPEMArg reads the pem one element gives: a path (b.file), PEM text, or file("path").
func (d *dataCredentials) readPEMArg(c *CredentialBlock, b binding, v argValue) error {
	var text string
	if v.constant != nil && !v.constant.IsNull() && v.constant.Type() == cty.String {
		text = v.constant.AsString()
	}
	switch {
	case b.file && text == "":
		return d.list.unsupported("the pem file path of the element at line %d is not a literal string", c.Line)
	case b.file:
		c.PEM, c.PEMIsFile = rootPath(b.prefix, d.in.sc.rel, text), true
	case text != "":
		c.PEM = text
	default:
		p, isFile, prefix, ok := readPEM(v.at.expr)
		if !ok || !isFile {
			return d.list.unsupported("the pem of the element at line %d is neither PEM text nor file(\"path\")", c.Line)
		}
		c.PEM, c.PEMIsFile = rootPath(prefix, v.at.sc.rel, p), true
	}
	return nil
}

// argValue is an argument's value for one element: a constant, or the expression that gives it.
type argValue struct {
	constant *cty.Value
	at       dataAt
}

func (d *dataCredentials) argValue(e dataElem, b binding) (argValue, error) {
	switch {
	case b.constant != nil:
		return argValue{constant: b.constant}, nil
	case b.key:
		return argValue{constant: &e.key}, nil
	}
	v, err := d.list.sc.follow(d.list.each, e.value)
	if err != nil || b.whole {
		return constantOr(v), err
	}
	obj, ok := v.expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return argValue{}, v.unsupported("the element %s is not an object, and the content block reads %s.value.%s", v.text(), d.iter, b.item)
	}
	for _, item := range obj.Items {
		if name, _ := objectKey(item.KeyExpr); name == b.item {
			at, err := v.sc.follow(v.each, item.ValueExpr)
			return constantOr(at), err
		}
	}
	if b.fallback != nil {
		return argValue{constant: b.fallback}, nil
	}
	// Terraform accepts the configuration (preflight plans it), so a missing item is an
	// optional attribute of the variable's type: null.
	null := cty.NullVal(cty.DynamicPseudoType)
	return argValue{constant: &null}, nil
}

// constantOr is the value of at: a constant when it is one.
func constantOr(at dataAt) argValue {
	if c, ok := hclConstant(at.expr); ok {
		return argValue{constant: &c, at: at}
	}
	return argValue{at: at}
}

// set gives the credential argument arg the value v (null leaves it unset).
func (c *CredentialBlock) set(arg string, v cty.Value) error {
	if v.IsNull() {
		return nil
	}
	if arg == "parse_expiry_from_cert" {
		b, err := convert.Convert(v, cty.Bool)
		if err != nil {
			return fmt.Errorf("is not a bool")
		}
		parse := b.True()
		c.ParseExpiryFromCert = &parse
		return nil
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return fmt.Errorf("is not a string")
	}
	dst := map[string]*string{"name": &c.Name, "credential_type": &c.CredentialType, "algorithm": &c.Algorithm, "expires_at": &c.ExpiresAt, "pem": &c.PEM}[arg]
	if dst != nil {
		*dst = s.AsString()
	}
	return nil
}

// pemStyle is how the last element gives its PEM: new elements follow it.
func (d *dataCredentials) pemStyle() PEMStyle {
	if last := d.public.Credentials[len(d.public.Credentials)-1]; last.PEMIsFile {
		return PEMFile
	}
	return PEMHeredoc
}

func (d *dataCredentials) resource() *CredentialsResource { return d.public }

// add appends an element for c after the last one, in its shape.
func (d *dataCredentials) add(c NewCredentialBlock) (Edit, error) {
	added, err := d.public.newCredential(c, d.w.dir)
	if err != nil {
		return Edit{}, err
	}
	last := d.elems[len(d.elems)-1]
	text, err := d.newElement(last, added)
	if err != nil {
		return Edit{}, err
	}
	src := d.list.file.src
	at, sep, end := d.insertion(last)
	after := slices.Concat(src[:at], []byte(sep+text+end), src[at:])
	keep := make([]int, len(d.elems))
	for i := range keep {
		keep[i] = i
	}
	return d.finish(after, keep, &added)
}

// newElement writes the element for added: the last element's text with the values the
// content block reads replaced.
func (d *dataCredentials) newElement(last dataElem, added CredentialBlock) (string, error) {
	src := d.list.file.src
	type splice struct {
		start, end int
		text       string
	}
	var splices []splice
	var mapKey string
	for _, b := range d.args {
		want, err := d.wanted(b, added)
		if err != nil {
			return "", err
		}
		switch {
		case b.constant != nil:
			if !want.RawEquals(*b.constant) && !(want.IsNull() && b.constant.IsNull()) {
				return "", d.list.unsupported("the content block sets %s = %s for every key, and the new key needs %s; rotate with --manual-edit", b.arg, ctyText(*b.constant), ctyText(want))
			}
		case b.key:
			if last.keyExpr == nil {
				return "", d.list.unsupported("the content block reads %s from %s.key, a position in the list, which shifts when a key is removed; key the data by name (a map), or rotate with --manual-edit", b.arg, d.iter)
			}
			mapKey = want.AsString()
		default:
			old := last.value
			if !b.whole {
				if old, err = d.itemSplice(last, b, want); err != nil {
					return "", err
				}
			}
			if old == nil {
				continue
			}
			text, err := d.valueText(b, old, added)
			if err != nil {
				return "", err
			}
			splices = append(splices, splice{old.Range().Start.Byte, old.Range().End.Byte, text})
		}
	}
	if err := d.checkUnread(last); err != nil {
		return "", err
	}
	start := last.start()
	if last.keyExpr != nil {
		if mapKey == "" {
			mapKey = added.Name
		}
		splices = append(splices, splice{start, last.keyExpr.Range().End.Byte, mapKeyText(mapKey, src.text(last.keyExpr.Range()))})
	}
	slices.SortFunc(splices, func(a, b splice) int { return a.start - b.start })
	var out strings.Builder
	at := start
	for _, s := range splices {
		out.Write(src[at:s.start])
		out.WriteString(s.text)
		at = s.end
	}
	out.Write(src[at:last.end()])
	return out.String(), nil
}

// wanted is the value the new element must give argument b.arg.
func (d *dataCredentials) wanted(b binding, added CredentialBlock) (cty.Value, error) {
	str := func(s string) cty.Value {
		if s == "" {
			return cty.NullVal(cty.String)
		}
		return cty.StringVal(s)
	}
	switch b.arg {
	case "name":
		return str(added.Name), nil
	case "credential_type":
		return str(added.CredentialType), nil
	case "algorithm":
		return str(added.Algorithm), nil
	case "expires_at":
		return str(added.ExpiresAt), nil
	case "parse_expiry_from_cert":
		if added.ParseExpiryFromCert == nil {
			return cty.NullVal(cty.Bool), nil
		}
		return cty.BoolVal(*added.ParseExpiryFromCert), nil
	case "pem":
		return cty.StringVal(added.PEM), nil
	}
	return cty.NilVal, d.list.unsupported("the content block sets %s, which rekey does not know for a new key", b.arg)
}

// itemSplice returns the item value of the last element that b reads, to be replaced; nil
// when the element lacks the item and the fallback gives what the new key needs.
func (d *dataCredentials) itemSplice(last dataElem, b binding, want cty.Value) (hclsyntax.Expression, error) {
	obj, ok := last.value.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil, d.list.unsupported("the last key's element is not written as an object literal, so rekey cannot copy its shape; rotate with --manual-edit")
	}
	for _, item := range obj.Items {
		if name, _ := objectKey(item.KeyExpr); name == b.item {
			if want.IsNull() {
				return nil, d.list.unsupported("the element at line %d sets %s, and the new key has no %s; rotate with --manual-edit", last.value.Range().Start.Line, b.item, b.arg)
			}
			return item.ValueExpr, nil
		}
	}
	if want.IsNull() || b.fallback != nil && want.RawEquals(*b.fallback) {
		return nil, nil
	}
	return nil, d.list.unsupported("the element at line %d has no %s, and the new key needs %s = %s; add %s to that element first, or rotate with --manual-edit",
		last.value.Range().Start.Line, b.item, b.arg, ctyText(want), b.item)
}

// checkUnread refuses an element with an item the content block does not read: rekey cannot
// tell what the new key's value would be.
func (d *dataCredentials) checkUnread(last dataElem) error {
	obj, ok := last.value.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	for _, item := range obj.Items {
		name, _ := objectKey(item.KeyExpr)
		if !slices.ContainsFunc(d.args, func(b binding) bool { return b.item == name }) {
			return d.list.unsupported("the element at line %d has %s, which the credentials block does not read, so rekey cannot tell the new key's; remove it, or rotate with --manual-edit",
				last.value.Range().Start.Line, name)
		}
	}
	return nil
}

// valueText writes the new value of an item (or whole element) in the shape of the old one,
// old: for a path, the same form with the new path; for PEM text, a heredoc; else a literal.
func (d *dataCredentials) valueText(b binding, old hclsyntax.Expression, added CredentialBlock) (string, error) {
	if b.arg != "pem" {
		want, err := d.wanted(b, added)
		return string(hclwrite.TokensForValue(want).Bytes()), err
	}
	src := d.list.file.src
	if b.file {
		if _, ok := hclLiteralString(old); !ok {
			return "", d.list.unsupported("the pem path %s is not a literal string", src.text(old.Range()))
		}
		return quote(writtenPath(b.prefix, d.in.sc.rel, added.PEM)), nil
	}
	if !added.PEMIsFile && strings.HasPrefix(src.text(old.Range()), "<<") {
		return string(heredoc(added.PEM).Bytes()), nil
	}
	if !added.PEMIsFile {
		return quote(added.PEM), nil // a heredoc cannot end inside a one-line object
	}
	lit, prefix, ok := pathLiteral(unwrapTrim(old))
	if !ok {
		return "", d.list.unsupported("the element's pem %s is not file(\"path\"), so rekey cannot write the new key's the same way", src.text(old.Range()))
	}
	written := writtenPath(prefix, d.list.sc.rel, added.PEM)
	r := old.Range()
	return src.text(hcl.Range{Start: r.Start, End: lit.Start}) + escapeTemplate(written) + src.text(hcl.Range{Start: lit.End, End: r.End}), nil
}

// insertion returns where a new element goes after last, what separates them, and what
// follows it: a trailing comma when last has one.
func (d *dataCredentials) insertion(last dataElem) (at int, sep, end string) {
	src := d.list.file.src
	at = last.end()
	indent, ownLine := src.indentAt(last.start())
	rest := src[at:]
	if i := bytes.IndexFunc(rest, func(r rune) bool { return r != ' ' && r != '\t' }); i >= 0 && rest[i] == ',' {
		if ownLine {
			return at + i + 1, src.eolAt(last.start()) + indent, ","
		}
		return at + i + 1, " ", ","
	}
	comma := ","
	if _, isMap := d.list.expr.(*hclsyntax.ObjectConsExpr); isMap {
		comma = ""
	}
	if ownLine {
		return at, comma + src.eolAt(last.start()) + indent, ""
	}
	return at, ", ", ""
}

// remove drops the one element match selects: its whole lines when it has lines of its own
// (comment lines above it stay), else it and its separator.
func (d *dataCredentials) remove(match func(CredentialBlock) bool) (Edit, error) {
	i, err := d.public.only(match)
	if err != nil {
		return Edit{}, err
	}
	if len(d.elems) == 1 {
		return Edit{}, fmt.Errorf("%w of %s (%s): the client would be left with no key; add its new credential first", ErrLastCredential, d.public.Address, d.list.where())
	}
	src := d.list.file.src
	e := d.elems[i]
	start, end := e.start(), e.end()
	rest := src[end:src.lineEnd(end)]
	trailing := bytes.TrimLeft(bytes.TrimSpace(rest), ",")
	if _, own := src.indentAt(start); own && (len(bytes.TrimSpace(trailing)) == 0 || isCommentLine(trailing)) {
		start, end = src.lineStart(start), src.lineEnd(end)
	} else if i > 0 {
		start = d.elems[i-1].end()
	} else {
		end = d.elems[1].start()
	}
	after := slices.Concat(src[:start], src[end:])
	var keep []int
	for j := range d.elems {
		if j != i {
			keep = append(keep, j)
		}
	}
	return d.finish(after, keep, nil)
}

// finish re-reads the instance from the edited file through the same references and checks
// that its credentials are exactly the kept ones, then added, before returning the Edit.
func (d *dataCredentials) finish(after []byte, keep []int, added *CredentialBlock) (Edit, error) {
	path := d.list.file.path
	f, err := parseHCLFile(path, after)
	if err != nil {
		return Edit{}, fmt.Errorf("internal error: the edited file does not parse, nothing was written: %w", err)
	}
	ed, err := d.w.replaced(f).editorFor(d.in.address)
	if err != nil {
		return Edit{}, fmt.Errorf("internal error: the edited %s does not read back, nothing was written: %w", d.public.Address, err)
	}
	var want []CredentialBlock
	for _, i := range keep {
		want = append(want, d.public.Credentials[i])
	}
	got := ed.resource().Credentials
	if added != nil {
		want = append(want, *added)
	}
	if len(got) != len(want) || added != nil && !sameCredential(*added, got[len(got)-1]) ||
		!slices.EqualFunc(want[:len(keep)], got[:len(keep)], sameCredential) {
		return Edit{}, fmt.Errorf("internal error: editing %s would change credentials it must keep, nothing was written", d.public.Address)
	}
	before := d.list.file.src
	return Edit{File: path, Before: before, After: after, Diff: UnifiedDiff(d.w.relName(path), before, after)}, nil
}

// hclConstant evaluates an expression that needs no variables and no functions; null counts.
func hclConstant(expr hclsyntax.Expression) (cty.Value, bool) {
	if len(expr.Variables()) > 0 {
		return cty.NilVal, false
	}
	v, diags := expr.Value(nil)
	return v, !diags.HasErrors() && v.IsWhollyKnown()
}

// unwrapTrim removes a trimspace() or chomp() around expr.
func unwrapTrim(expr hclsyntax.Expression) hclsyntax.Expression {
	if call, ok := expr.(*hclsyntax.FunctionCallExpr); ok && (call.Name == "trimspace" || call.Name == "chomp") && len(call.Args) == 1 {
		return call.Args[0]
	}
	return expr
}

// pathLiteral returns the range of the literal path inside file("path") or
// file("${path.module}/path"), and the prefix written before it.
func pathLiteral(expr hclsyntax.Expression) (hcl.Range, string, bool) {
	call, ok := expr.(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "file" || len(call.Args) != 1 {
		return hcl.Range{}, "", false
	}
	tmpl, ok := call.Args[0].(*hclsyntax.TemplateExpr)
	switch {
	case !ok:
		return hcl.Range{}, "", false
	case len(tmpl.Parts) == 1 && isLiteralText(tmpl.Parts[0], ""):
		return tmpl.Parts[0].Range(), "", true
	case len(tmpl.Parts) == 2 && isPathModule(tmpl.Parts[0]) && isLiteralText(tmpl.Parts[1], "/"):
		r := tmpl.Parts[1].Range()
		r.Start.Byte++ // past the "/"
		return r, "${path.module}/", true
	}
	return hcl.Range{}, "", false
}

func isPathModule(expr hclsyntax.Expression) bool {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	return ok && slices.Equal(traversalNames(st.Traversal), []string{"path", "module"})
}

// isLiteralText says whether expr is literal text that starts with prefix.
func isLiteralText(expr hclsyntax.Expression, prefix string) bool {
	s, ok := hclLiteralString(expr)
	return ok && strings.HasPrefix(s, prefix)
}

func traversalNames(tr hcl.Traversal) []string {
	var out []string
	for i := range tr {
		if i == 0 {
			out = append(out, tr.RootName())
		} else if name := attrName(tr, i); name != "" {
			out = append(out, name)
		} else {
			return nil
		}
	}
	return out
}

// rootPath is a file() path as read from the root folder: prefix "${path.module}/" makes p
// relative to the module's folder rel.
func rootPath(prefix, rel, p string) string {
	if prefix == "${path.module}/" && !path.IsAbs(p) {
		return path.Join(rel, p)
	}
	return p
}

// writtenPath is the inverse of rootPath: how a path read from the root is written with prefix.
func writtenPath(prefix, rel, p string) string {
	p = filepath.ToSlash(p)
	if prefix != "${path.module}/" || path.IsAbs(p) || rel == "" {
		return p
	}
	if r, err := filepath.Rel(rel, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

func quote(s string) string { return string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes()) }

// escapeTemplate writes s as the inside of a quoted template.
func escapeTemplate(s string) string {
	q := quote(s)
	return q[1 : len(q)-1]
}

// mapKeyText writes a map key like old: quoted when old is, or when name is not a bare name.
func mapKeyText(name, old string) string {
	if !strings.HasPrefix(old, `"`) && hclsyntax.ValidIdentifier(name) {
		return name
	}
	return quote(name)
}

// ctyText writes a value as HCL does, null as null.
func ctyText(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return string(hclwrite.TokensForValue(v).Bytes())
}

// heredoc writes PEM text as a heredoc.
func heredoc(text string) hclwrite.Tokens {
	delim := heredocDelimiter(text)
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOHeredoc, Bytes: []byte("<<" + delim + "\n")},
		{Type: hclsyntax.TokenStringLit, Bytes: []byte(strings.NewReplacer("${", "$${", "%{", "%%{").Replace(text))},
		{Type: hclsyntax.TokenCHeredoc, Bytes: []byte(delim)},
	}
}
