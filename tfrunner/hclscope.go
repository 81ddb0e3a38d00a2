package tfrunner

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Reading a resource instance where it is configured: rekey follows each.value, var., local.
// and module arguments back to the literal data they read, so that it can edit that data. It
// follows only what it can prove without running Terraform; anything else is an
// UnsupportedError that names the file and line.

// modScope is one module instance: its files, its folder, and where its variables come from.
type modScope struct {
	ws     *Workspace
	rel    string           // the module's folder relative to the root: path.module ("" for the root)
	parent *modScope        // the calling module; nil for the root
	call   *hclsyntax.Block // the module call in parent
	each   *eachOf          // each.* and count.index of the module call
}

// eachOf is what each.key, each.value and count.index mean inside a block with for_each or count.
type eachOf struct {
	meta *hclsyntax.Attribute // the for_each or count argument
	sc   *modScope            // the module it is written in
	key  cty.Value            // the instance key: a string for for_each, a number for count
}

// dataAt is an expression as written in a file, with what its references mean there.
type dataAt struct {
	sc   *modScope
	each *eachOf // nil where each.* means nothing
	file *hclFile
	expr hclsyntax.Expression
}

// where is the expression's file:line.
func (d dataAt) where() string { return fmt.Sprintf("%s:%d", d.file.path, d.expr.Range().Start.Line) }

func (d dataAt) text() string { return d.file.src.text(d.expr.Range()) }

// unsupported is an UnsupportedError at this expression; the instance that reads it fills in
// its Address (instance.read).
func (d dataAt) unsupported(format string, args ...any) error {
	return &UnsupportedError{File: d.file.path, Line: d.expr.Range().Start.Line, Reason: fmt.Sprintf(format, args...)}
}

// instance is the configuration of one resource instance.
type instance struct {
	address string
	sc      *modScope
	top     hclTop
	each    *eachOf // nil without for_each or count
}

// findInstance finds the configuration of the resource instance at a state address such as
// module.m2m["billing"].auth0_client_credentials.this or auth0_client_credentials.all["x"].
func (w *Workspace) findInstance(address string) (instance, error) {
	tr, diags := hclsyntax.ParseTraversalAbs([]byte(address), "", hcl.InitialPos)
	if diags.HasErrors() {
		return instance{}, fmt.Errorf("%q is not a resource address", address)
	}
	sc := &modScope{ws: w}
	steps := splitTraversal(tr)
	for len(steps) >= 2 && steps[0].name == "module" {
		next, err := sc.enter(steps[1])
		if err != nil {
			return instance{}, err
		}
		sc, steps = next, steps[2:]
	}
	if len(steps) != 2 || steps[0].key != cty.NilVal {
		return instance{}, fmt.Errorf("%q is not a managed resource instance address", address)
	}
	tops := sc.ws.topBlocks(func(b *hclsyntax.Block) bool {
		return b.Type == "resource" && slices.Equal(b.Labels, []string{steps[0].name, steps[1].name})
	})
	var overrides []hclTop
	tops = slices.DeleteFunc(tops, func(t hclTop) bool {
		if t.file.isOverride() {
			overrides = append(overrides, t)
		}
		return t.file.isOverride()
	})
	if len(tops) == 1 {
		if o := keysBlock(tops[0], overrides); o != tops[0] {
			return instance{}, &UnsupportedError{Address: address, File: o.file.path, Line: o.block.TypeRange.Start.Line, Reason: fmt.Sprintf(
				"the override file %s sets its private_key_jwt, which wins over %s, and rekey edits overridden keys only in a root-module resource without for_each or count; move the keys out of the override, or rotate with --manual-edit", filepath.Base(o.file.path), filepath.Base(tops[0].file.path))}
		}
	}
	if len(tops) != 1 {
		return instance{}, fmt.Errorf("no resource block declares %s in %s; run rekey where the Terraform configuration that manages it is", address, sc.ws.dir)
	}
	in := instance{address: address, sc: sc, top: tops[0]}
	var err error
	in.each, err = sc.eachFor(tops[0].block, steps[1].key, address)
	return in, err
}

// traversalStep is one name of an address with its instance key, if any.
type traversalStep struct {
	name string
	key  cty.Value // cty.NilVal when there is none
}

func splitTraversal(tr hcl.Traversal) []traversalStep {
	var out []traversalStep
	for _, s := range tr {
		switch s := s.(type) {
		case hcl.TraverseRoot:
			out = append(out, traversalStep{name: s.Name})
		case hcl.TraverseAttr:
			out = append(out, traversalStep{name: s.Name})
		case hcl.TraverseIndex:
			if len(out) > 0 {
				out[len(out)-1].key = s.Key
			}
		}
	}
	return out
}

// eachFor is what each.* means in block's instance key, or nil when block has no for_each or
// count (and then key must be absent).
func (sc *modScope) eachFor(block *hclsyntax.Block, key cty.Value, address string) (*eachOf, error) {
	meta := instancesArg(block.Body)
	switch {
	case meta == nil && key == cty.NilVal:
		return nil, nil
	case meta == nil || key == cty.NilVal:
		return nil, fmt.Errorf("%s: the instance key does not match %s:%d; run terraform plan, then rekey again", address, sc.fileOf(block.Range()).path, block.TypeRange.Start.Line)
	}
	return &eachOf{meta: meta, sc: sc, key: key}, nil
}

// enter is the scope of the local module that a module call (with its instance key) runs.
func (sc *modScope) enter(step traversalStep) (*modScope, error) {
	calls := sc.ws.topBlocks(func(b *hclsyntax.Block) bool { return isModuleCall(b) && b.Labels[0] == step.name })
	if len(calls) != 1 {
		return nil, fmt.Errorf("no module %q is called in %s", step.name, sc.ws.dir)
	}
	call := calls[0]
	source, ok := "", false
	if attr, has := call.block.Body.Attributes["source"]; has {
		source, ok = hclLiteralString(attr.Expr)
	}
	if !ok || !strings.HasPrefix(source, "./") && !strings.HasPrefix(source, "../") {
		return nil, &UnsupportedError{File: call.file.path, Line: call.block.TypeRange.Start.Line, Reason: fmt.Sprintf(
			"its source %q is not a local folder, so rekey cannot edit the module; pass the keys in as data the root module holds, or rotate with --manual-edit", source)}
	}
	ws, err := sc.ws.module(filepath.Join(sc.ws.dir, source))
	if err != nil {
		return nil, err
	}
	next := &modScope{ws: ws, rel: filepath.ToSlash(filepath.Join(sc.rel, source)), parent: sc, call: call.block}
	next.each, err = sc.eachFor(call.block, step.key, "module."+step.name)
	return next, err
}

// fileOf is the file of this module that holds r.
func (sc *modScope) fileOf(r hcl.Range) *hclFile {
	for _, f := range slices.Concat(sc.ws.files, sc.ws.tfvars) {
		if f.path == r.Filename {
			return f
		}
	}
	return nil
}

// follow resolves references (local., var., each.value, module arguments, indexing) in an
// expression written in sc until it reaches what is written literally; other expressions are
// returned as they are.
func (sc *modScope) follow(each *eachOf, expr hclsyntax.Expression) (dataAt, error) {
	here := dataAt{sc: sc, each: each, file: sc.fileOf(expr.Range()), expr: expr}
	switch x := expr.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return sc.traversal(here, x.Traversal)
	case *hclsyntax.RelativeTraversalExpr:
		d, err := sc.follow(each, x.Source)
		if err != nil {
			return d, err
		}
		return d.descend(x.Traversal)
	case *hclsyntax.IndexExpr:
		d, err := sc.follow(each, x.Collection)
		if err != nil {
			return d, err
		}
		key, err := sc.keyOf(each, x.Key)
		if err != nil {
			return d, err
		}
		return d.index(key)
	case *hclsyntax.FunctionCallExpr:
		if (x.Name == "tolist" || x.Name == "tomap") && len(x.Args) == 1 {
			return sc.follow(each, x.Args[0])
		}
	}
	return here, nil
}

// traversal follows local.NAME…, var.NAME… and each.value….
func (sc *modScope) traversal(here dataAt, tr hcl.Traversal) (dataAt, error) {
	name := ""
	if len(tr) > 1 {
		if a, ok := tr[1].(hcl.TraverseAttr); ok {
			name = a.Name
		}
	}
	var d dataAt
	var err error
	switch root := tr.RootName(); {
	case root == "local" && name != "":
		d, err = sc.local(name, here)
	case root == "var" && name != "":
		d, err = sc.variable(name, here)
	case root == "each" && name == "value" && here.each != nil:
		if d, err = here.each.sc.follow(nil, here.each.meta.Expr); err == nil {
			d, err = d.index(here.each.key)
		}
	default:
		return here, nil
	}
	if err != nil {
		return d, err
	}
	return d.descend(tr[2:])
}

// local follows local.name to its definition.
func (sc *modScope) local(name string, from dataAt) (dataAt, error) {
	for _, t := range sc.ws.topBlocks(func(b *hclsyntax.Block) bool { return b.Type == "locals" }) {
		if attr, ok := t.block.Body.Attributes[name]; ok {
			return sc.follow(nil, attr.Expr)
		}
	}
	return from, from.unsupported("local.%s is not defined in any locals block of %s", name, sc.ws.dir)
}

// variable follows var.name to its value: the module call's argument, in the root module a
// .tfvars file (the last that sets it, in Terraform's order), else the variable's default.
func (sc *modScope) variable(name string, from dataAt) (dataAt, error) {
	if sc.parent != nil {
		if attr, ok := sc.call.Body.Attributes[name]; ok {
			return sc.parent.follow(sc.each, attr.Expr)
		}
	} else {
		for _, path := range sc.ws.tfvarsJSON {
			if jsonSets(path, name) {
				return from, from.unsupported("%s sets var.%s, and rekey does not edit JSON files; write the value in a .tfvars file, or rotate with --manual-edit", path, name)
			}
		}
		for i := len(sc.ws.tfvars) - 1; i >= 0; i-- {
			if attr, ok := sc.ws.tfvars[i].body.Attributes[name]; ok {
				return sc.follow(nil, attr.Expr)
			}
		}
	}
	for _, t := range sc.ws.topBlocks(func(b *hclsyntax.Block) bool { return b.Type == "variable" && slices.Equal(b.Labels, []string{name}) }) {
		if attr, ok := t.block.Body.Attributes["default"]; ok {
			return sc.follow(nil, attr.Expr)
		}
	}
	return from, from.unsupported("rekey cannot see the value of var.%s: no default, no module argument, not in terraform.tfvars or *.auto.tfvars (a -var, -var-file or TF_VAR_ value is not read); put the keys in one of those, or rotate with --manual-edit", name)
}

// keyOf evaluates an index key: a literal, each.key, or count.index.
func (sc *modScope) keyOf(each *eachOf, expr hclsyntax.Expression) (cty.Value, error) {
	if v, ok := hclLiteral(expr); ok {
		return v, nil
	}
	if st, ok := expr.(*hclsyntax.ScopeTraversalExpr); ok && each != nil {
		switch st.Traversal.RootName() + "." + attrName(st.Traversal, 1) {
		case "each.key", "count.index":
			return each.key, nil
		}
	}
	d := dataAt{sc: sc, file: sc.fileOf(expr.Range()), expr: expr}
	return cty.NilVal, d.unsupported("the key %s is not a literal, each.key or count.index", d.text())
}

func attrName(tr hcl.Traversal, i int) string {
	if i < len(tr) {
		if a, ok := tr[i].(hcl.TraverseAttr); ok {
			return a.Name
		}
	}
	return ""
}

// descend follows attribute and index steps into literal data.
func (d dataAt) descend(tr hcl.Traversal) (dataAt, error) {
	var err error
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			d, err = d.index(cty.StringVal(s.Name))
		case hcl.TraverseIndex:
			d, err = d.index(s.Key)
		default:
			return d, d.unsupported("rekey follows only .name and [key] into data, not the splat in %s", d.text())
		}
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// index returns the element at key of a literal map, object or list, followed.
func (d dataAt) index(key cty.Value) (dataAt, error) {
	switch x := d.expr.(type) {
	case *hclsyntax.ObjectConsExpr:
		k, err := convert.Convert(key, cty.String)
		if err != nil {
			break
		}
		for _, item := range x.Items {
			if name, ok := objectKey(item.KeyExpr); ok && name == k.AsString() {
				return d.sc.follow(d.each, item.ValueExpr)
			}
		}
		return d, d.unsupported("%s has no element %s", d.text(), instanceKey(key))
	case *hclsyntax.TupleConsExpr:
		k, err := convert.Convert(key, cty.Number)
		if err != nil {
			break
		}
		if i, acc := k.AsBigFloat().Int64(); acc == 0 && i >= 0 && int(i) < len(x.Exprs) {
			return d.sc.follow(d.each, x.Exprs[i])
		}
		return d, d.unsupported("%s has no element %s", d.text(), instanceKey(key))
	}
	return d, d.unsupported("rekey needs a literal map or list to find element %s in, and %s is not one", instanceKey(key), d.text())
}

// objectKey is the name of an object item's key: a bare name or a literal string.
func objectKey(expr hclsyntax.Expression) (string, bool) {
	if k, ok := expr.(*hclsyntax.ObjectConsKeyExpr); ok {
		if !k.ForceNonLiteral {
			if st, ok := k.Wrapped.(*hclsyntax.ScopeTraversalExpr); ok && len(st.Traversal) == 1 {
				return st.Traversal.RootName(), true
			}
		}
		expr = k.Wrapped
	}
	return hclLiteralString(expr)
}
