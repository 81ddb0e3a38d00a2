package tfrunner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"rekey/internal/jsonsplice"
)

// Credentials in .tf.json files: rekey reads an auth0_client_credentials resource of Terraform's
// JSON syntax ("resource" → "auth0_client_credentials" → NAME → "private_key_jwt" →
// "credentials": [ … ]) and adds or removes one object of that array, laid out like its
// siblings; every other byte stays.

// jsonResource is an auth0_client_credentials resource of a .tf.json file.
type jsonResource struct {
	public     *CredentialsResource
	w          *Workspace
	src        []byte
	line       int               // line of the resource's name
	arr        jsonsplice.Span   // the credentials array in src
	elems      []jsonsplice.Span // its objects, in src
	filePrefix string            // "${path.module}/" when the last pem's file() path starts so
	broken     error             // why rekey cannot edit it, when it cannot
}

// jsonResources reads the auth0_client_credentials resources of the workspace's .tf.json
// files. A resource rekey cannot edit has broken set; a file it cannot read is an error.
func (w *Workspace) jsonResources() ([]*jsonResource, []error) {
	var out []*jsonResource
	var errs []error
	for _, path := range w.json {
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", path, err))
			continue
		}
		names, err := jsonPath(src, 0, "resource", "auth0_client_credentials")
		if err != nil {
			errs = append(errs, &UnsupportedError{Address: "auth0_client_credentials", File: path, Line: 1, Reason: err.Error()})
			continue
		}
		members, _ := jsonsplice.Members(src[names.Start:names.End])
		for _, m := range members {
			r, err := readJSONResource(w, path, src, m.Key, shift(m.Value, names.Start))
			r.broken = err
			out = append(out, r)
		}
	}
	return out, errs
}

// readJSONResource reads the resource NAME whose body lies at body in src; on an error, the
// resource returned still has its address and what its client_id says.
func readJSONResource(w *Workspace, path string, src []byte, name string, body jsonsplice.Span) (*jsonResource, error) {
	line, _ := jsonsplice.LineCol(src, body.Start)
	r := &jsonResource{w: w, src: src, line: line, public: &CredentialsResource{Address: "auth0_client_credentials." + name, File: path}}
	obj, err := oneObject(src, body)
	if err != nil {
		return r, r.unsupported(line, "its body %s", err)
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(src[obj.Start:obj.End], &fields)
	for _, meta := range []string{"for_each", "count"} {
		if _, ok := fields[meta]; ok {
			return r, r.unsupported(line, "it uses %s, and its credentials are the same for every instance; give this client its own resource, or rotate with --manual-edit", meta)
		}
	}
	var clientID string
	if json.Unmarshal(fields["client_id"], &clientID) == nil {
		if expr, isTemplate := jsonTemplate(clientID); expr != nil {
			r.public.ClientRef = clientRefOf(expr)
		} else if !isTemplate {
			r.public.ClientID = clientID
		}
	}
	arr, err := jsonPath(src, obj.Start, "private_key_jwt", "credentials")
	if err != nil {
		return r, r.unsupported(line, "%s; write \"private_key_jwt\": [{\"credentials\": [{…}]}] with one object per key", err)
	}
	if src[arr.Start] != '[' {
		return r, r.unsupported(line, "its credentials are not a list; write \"credentials\": [{…}] with one object per key")
	}
	r.arr = arr
	elems, _ := jsonsplice.Elements(src[arr.Start:arr.End])
	for _, e := range elems {
		r.elems = append(r.elems, shift(e, arr.Start))
	}
	if len(r.elems) == 0 {
		return r, r.unsupported(line, "its credentials list is empty; write the client's current key there first")
	}
	for _, e := range r.elems {
		if err := r.readCredential(e); err != nil {
			return r, err
		}
	}
	return r, nil
}

// readCredential reads one object of the credentials array into r.public.
func (r *jsonResource) readCredential(e jsonsplice.Span) error {
	line, _ := jsonsplice.LineCol(r.src, e.Start)
	var values map[string]any
	if r.src[e.Start] != '{' || json.Unmarshal(r.src[e.Start:e.End], &values) != nil {
		return r.unsupported(line, "a credential is not an object")
	}
	c := CredentialBlock{Line: line}
	for key, v := range values {
		if key == "parse_expiry_from_cert" {
			b, ok := v.(bool)
			if !ok {
				return r.unsupported(line, "parse_expiry_from_cert is not true or false")
			}
			c.ParseExpiryFromCert = &b
			continue
		}
		s, ok := v.(string)
		if _, isTemplate := jsonTemplate(s); !ok || isTemplate && key != "pem" {
			return r.unsupported(line, "%s is not a literal string", key)
		}
		if err := c.set(key, cty.StringVal(s)); err != nil {
			return r.unsupported(line, "%s %s", key, err)
		}
	}
	if expr, isTemplate := jsonTemplate(c.PEM); isTemplate {
		ok := expr != nil
		if ok {
			c.PEM, c.PEMIsFile, r.filePrefix, ok = readPEM(expr)
		}
		if !ok || !c.PEMIsFile {
			return r.unsupported(line, "its pem is an expression rekey cannot read; write the PEM text or \"${file(\\\"path\\\")}\"")
		}
		c.PEM = rootPath(r.filePrefix, "", c.PEM)
	}
	r.public.Credentials = append(r.public.Credentials, c)
	r.public.PEMStyle = PEMHeredoc
	if c.PEMIsFile {
		r.public.PEMStyle = PEMFile
	}
	return nil
}

func (r *jsonResource) unsupported(line int, format string, args ...any) error {
	return &UnsupportedError{Address: r.public.Address, File: r.public.File, Line: line, Reason: fmt.Sprintf(format, args...)}
}

func (r *jsonResource) resource() *CredentialsResource { return r.public }

// add appends an object for c after the last one, laid out like the first.
func (r *jsonResource) add(c NewCredentialBlock) (Edit, error) {
	added, err := r.public.newCredential(c, r.w.dir)
	if err != nil {
		return Edit{}, err
	}
	arr := r.src[r.arr.Start:r.arr.End]
	var rel []jsonsplice.Span
	for _, e := range r.elems {
		rel = append(rel, shift(e, -r.arr.Start))
	}
	layout := jsonsplice.DetectLayout(arr, rel)
	fields := []jsonsplice.Field{
		{Name: "name", JSON: jsonsplice.String(added.Name)},
		{Name: "credential_type", JSON: jsonsplice.String(added.CredentialType)},
		{Name: "algorithm", JSON: jsonsplice.String(added.Algorithm)},
	}
	if p := added.ParseExpiryFromCert; p != nil {
		fields = append(fields, jsonsplice.Field{Name: "parse_expiry_from_cert", JSON: fmt.Sprint(*p)})
	}
	if added.ExpiresAt != "" {
		fields = append(fields, jsonsplice.Field{Name: "expires_at", JSON: jsonsplice.String(added.ExpiresAt)})
	}
	pem := strings.NewReplacer("${", "$${", "%{", "%%{").Replace(added.PEM)
	if added.PEMIsFile {
		pem = `${file("` + r.filePrefix + escapeTemplate(writtenPath(r.filePrefix, "", added.PEM)) + `")}`
	}
	fields = append(fields, jsonsplice.Field{Name: "pem", JSON: jsonsplice.String(pem)})
	var b bytes.Buffer
	b.WriteString(layout.Sep)
	layout.WriteObject(&b, fields)
	at := r.elems[len(r.elems)-1].End
	return r.finish(slices.Concat(r.src[:at], b.Bytes(), r.src[at:]), len(r.elems), &added)
}

// remove drops the one object match selects, with the separator before it (after it, for the
// first).
func (r *jsonResource) remove(match func(CredentialBlock) bool) (Edit, error) {
	if len(r.elems) == 1 {
		return Edit{}, fmt.Errorf("%w of %s (%s:%d): the client would be left with no key; add its new credential first", ErrLastCredential, r.public.Address, r.public.File, r.line)
	}
	i, err := r.public.only(match)
	if err != nil {
		return Edit{}, err
	}
	start, end := r.elems[i].Start, r.elems[i].End
	if i > 0 {
		start = r.elems[i-1].End
	} else {
		end = r.elems[1].Start
	}
	keep := slices.Delete(slices.Clone(r.public.Credentials), i, i+1)
	got, err := r.reread(slices.Concat(r.src[:start], r.src[end:]))
	if err != nil {
		return Edit{}, err
	}
	return r.check(got, keep, nil)
}

// finish checks an added object: the edited file reads back as the kept credentials, then added.
func (r *jsonResource) finish(after []byte, kept int, added *CredentialBlock) (Edit, error) {
	got, err := r.reread(after)
	if err != nil {
		return Edit{}, err
	}
	return r.check(got, r.public.Credentials[:kept], added)
}

// reread reads the resource from the edited bytes.
func (r *jsonResource) reread(after []byte) (*jsonResource, error) {
	if !json.Valid(after) {
		return nil, fmt.Errorf("internal error: the edited %s is not valid JSON, nothing was written", r.public.File)
	}
	name := strings.TrimPrefix(r.public.Address, "auth0_client_credentials.")
	names, err := jsonPath(after, 0, "resource", "auth0_client_credentials")
	if err == nil {
		var body jsonsplice.Span
		var found bool
		if body, found, _, err = jsonsplice.Lookup(after[names.Start:names.End], name); err == nil && found {
			got, err := readJSONResource(r.w, r.public.File, after, name, shift(body, names.Start))
			if err == nil {
				return got, nil
			}
		}
	}
	return nil, fmt.Errorf("internal error: the edited %s does not read back (%v), nothing was written", r.public.File, err)
}

// check compares what the edited file reads back as with keep, then added, and returns the Edit.
func (r *jsonResource) check(got *jsonResource, keep []CredentialBlock, added *CredentialBlock) (Edit, error) {
	want := slices.Clone(keep)
	if added != nil {
		want = append(want, *added)
	}
	if !slices.EqualFunc(want, got.public.Credentials, sameCredential) {
		return Edit{}, fmt.Errorf("internal error: editing %s would change credentials it must keep, nothing was written", r.public.Address)
	}
	return Edit{File: r.public.File, Before: r.src, After: got.src, Diff: UnifiedDiff(r.w.relName(r.public.File), r.src, got.src)}, nil
}

// jsonPath follows keys from the object at start in src (a valid JSON document); an array of
// one object on the way is that object, as in Terraform's JSON syntax for a block.
func jsonPath(src []byte, start int, keys ...string) (jsonsplice.Span, error) {
	at := jsonsplice.Span{Start: start, End: len(src)}
	if start > 0 {
		var raw json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(src[start:]))
		if err := dec.Decode(&raw); err != nil {
			return at, err
		}
		at.End = start + int(dec.InputOffset())
	}
	for _, key := range keys {
		obj, err := oneObject(src, at)
		if err != nil {
			return at, fmt.Errorf("%q's parent %s", key, err)
		}
		value, found, dup, err := jsonsplice.Lookup(src[obj.Start:obj.End], key)
		switch {
		case err != nil:
			return at, err
		case !found:
			return at, fmt.Errorf("no %q", key)
		case dup != nil:
			return at, fmt.Errorf("%q appears twice", key)
		}
		at = shift(value, obj.Start)
	}
	return at, nil
}

// oneObject is the object at s: s itself, or the one object of an array.
func oneObject(src []byte, s jsonsplice.Span) (jsonsplice.Span, error) {
	start := s.Start + len(src[s.Start:s.End]) - len(bytes.TrimLeft(src[s.Start:s.End], " \t\r\n"))
	s.Start = start
	if src[s.Start] == '[' {
		elems, err := jsonsplice.Elements(src[s.Start:s.End])
		if err != nil || len(elems) != 1 {
			return s, fmt.Errorf("is a list of %d objects where rekey reads one", len(elems))
		}
		s = shift(elems[0], s.Start)
	}
	if src[s.Start] != '{' {
		return s, fmt.Errorf("is not an object")
	}
	return s, nil
}

func shift(s jsonsplice.Span, by int) jsonsplice.Span {
	return jsonsplice.Span{Start: s.Start + by, End: s.End + by}
}

// jsonTemplate parses a JSON string that holds a template ("${…}") as HCL does, unwrapping a
// lone interpolation; isTemplate is false for literal text, expr nil for a template that does
// not parse.
func jsonTemplate(s string) (hclsyntax.Expression, bool) {
	if !strings.Contains(s, "${") && !strings.Contains(s, "%{") {
		return nil, false
	}
	expr, diags := hclsyntax.ParseTemplate([]byte(s), "", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, true
	}
	if wrap, ok := expr.(*hclsyntax.TemplateWrapExpr); ok {
		return wrap.Wrapped, true
	}
	return expr, true
}
