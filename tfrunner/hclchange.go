package tfrunner

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// credentialEditor edits one instance's credentials where they are declared: literal
// credentials blocks (hclResource) or the data a dynamic block iterates (dataCredentials).
type credentialEditor interface {
	resource() *CredentialsResource
	add(c NewCredentialBlock) (Edit, error)
	remove(match func(CredentialBlock) bool) (Edit, error)
}

// locate finds r again in w and reads it afresh, so edits never trust caller-held values.
func (w *Workspace) locate(r *CredentialsResource) (credentialEditor, error) {
	if r.instance {
		return w.editorFor(r.Address)
	}
	if strings.HasSuffix(r.File, ".tf.json") {
		resources, _ := w.jsonResources()
		for _, j := range resources {
			if j.public.File == r.File && j.public.Address == r.Address {
				return j, nil
			}
		}
	}
	for _, t := range w.topBlocks(isCredentialsResource) {
		if t.file.path == r.File && t.address() == r.Address {
			return readResource(w, t, "", "")
		}
	}
	return nil, fmt.Errorf("%s is not declared in %s of this workspace; load the workspace again and retry", r.Address, r.File)
}

// hclAlgorithms are the credential algorithms Auth0 accepts.
var hclAlgorithms = []string{"RS256", "RS384", "PS256"}

// AddCredential adds a credential for c after r's last one: a credentials block, or an
// element of the data a dynamic block iterates.
func (w *Workspace) AddCredential(r *CredentialsResource, c NewCredentialBlock) (Edit, error) {
	ed, err := w.locate(r)
	if err != nil {
		return Edit{}, err
	}
	return ed.add(c)
}

func (r *hclResource) resource() *CredentialsResource { return r.public }

// add appends a credentials block after the last one of the private_key_jwt block.
func (r *hclResource) add(c NewCredentialBlock) (Edit, error) {
	added, err := r.public.newCredential(c, r.w.dir)
	if err != nil {
		return Edit{}, err
	}
	at, text, err := r.insertion(c, added)
	if err != nil {
		return Edit{}, err
	}
	after := slices.Concat(r.src()[:at], []byte(text), r.src()[at:])
	keep := make([]int, len(r.blocks))
	for i := range keep {
		keep[i] = i
	}
	return r.finish(after, keep, &added)
}

// newCredential checks c against the resource and returns the block it must read back as.
func (r *CredentialsResource) newCredential(c NewCredentialBlock, dir string) (CredentialBlock, error) {
	addr := r.Address
	if n := len(r.Credentials); n >= MaxAttached {
		return CredentialBlock{}, fmt.Errorf("%s already has %d credentials blocks, the most private_key_jwt allows; retire one before adding another", addr, n)
	}
	if c.Name == "" {
		return CredentialBlock{}, errors.New("the new credential needs a name")
	}
	for _, old := range r.Credentials {
		if old.Name == c.Name {
			return CredentialBlock{}, fmt.Errorf("%s already has a credential named %q (line %d); give the new one another name, since the provider identifies credentials by name", addr, c.Name, old.Line)
		}
	}
	if !slices.Contains(hclAlgorithms, c.Algorithm) {
		return CredentialBlock{}, fmt.Errorf("algorithm %q is not one Auth0 accepts for credentials (%s)", c.Algorithm, strings.Join(hclAlgorithms, ", "))
	}
	want := CredentialBlock{Name: c.Name, CredentialType: "public_key", Algorithm: c.Algorithm, ParseExpiryFromCert: c.ParseExpiryFromCert, ExpiresAt: c.ExpiresAt}
	if c.ExpiresAt != "" {
		if _, err := time.Parse(time.RFC3339, c.ExpiresAt); err != nil {
			return CredentialBlock{}, fmt.Errorf("the new credential's expires_at %q is not an RFC 3339 time", c.ExpiresAt)
		}
	}
	if r.PEMStyle == PEMHeredoc {
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
		return heredoc(added.PEM), heredocDelimiter(added.PEM)
	}
	path := r.filePrefix + escapeTemplate(writtenPath(r.filePrefix, r.rel, added.PEM))
	file := hclwrite.TokensForFunctionCall("file", hclwrite.Tokens{{Type: hclsyntax.TokenStringLit, Bytes: []byte(`"` + path + `"`)}})
	if r.fileWrap != "" {
		file = hclwrite.TokensForFunctionCall(r.fileWrap, file)
	}
	return file, ""
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
	if c.ParseExpiryFromCert != nil {
		body.SetAttributeValue("parse_expiry_from_cert", cty.BoolVal(*c.ParseExpiryFromCert))
	}
	if c.ExpiresAt != "" {
		body.SetAttributeValue("expires_at", cty.StringVal(c.ExpiresAt))
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

// RemoveCredential removes the one credential of r that match selects; it never removes the
// last one. A credentials block goes with the blank lines next to it, an element of data with
// its separator; comment lines above either stay.
func (w *Workspace) RemoveCredential(r *CredentialsResource, match func(CredentialBlock) bool) (Edit, error) {
	ed, err := w.locate(r)
	if err != nil {
		return Edit{}, err
	}
	return ed.remove(match)
}

func (r *hclResource) remove(match func(CredentialBlock) bool) (Edit, error) {
	if len(r.blocks) == 1 {
		return Edit{}, fmt.Errorf("%w of %s (%s): the client would be left with no key; add its new credential first",
			ErrLastCredential, r.public.Address, r.top.where())
	}
	i, err := r.public.only(match)
	if err != nil {
		return Edit{}, err
	}
	start, end, err := r.removal(i)
	if err != nil {
		return Edit{}, err
	}
	after := slices.Concat(r.src()[:start], r.src()[end:])
	var keep []int
	for j := range r.blocks {
		if j != i {
			keep = append(keep, j)
		}
	}
	return r.finish(after, keep, nil)
}

// only returns the index of the one credential match selects.
func (r *CredentialsResource) only(match func(CredentialBlock) bool) (int, error) {
	var hits []int
	var lines []string
	for i, c := range r.Credentials {
		if match(c) {
			hits = append(hits, i)
			lines = append(lines, strconv.Itoa(c.Line))
		}
	}
	switch len(hits) {
	case 0:
		return 0, fmt.Errorf("no credential of %s (%s) is the one to remove; nothing was changed", r.Address, r.File)
	case 1:
		return hits[0], nil
	}
	return 0, fmt.Errorf("%d credentials of %s match the one to remove (lines %s); rekey removes exactly one and will not guess",
		len(hits), r.Address, strings.Join(lines, ", "))
}

// removal returns the byte span that removing block i drops: its lines and the blank lines
// before it (or, when there are none, after it). Comment lines right above it stay: they are
// the operator's words, and rekey changes nothing it was not asked to.
func (r *hclResource) removal(i int) (int, int, error) {
	s := r.src()
	start, end, err := r.ownLines(r.blocks[i])
	if err != nil {
		return 0, 0, err
	}
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
func (r *hclResource) finish(after []byte, keep []int, added *CredentialBlock) (Edit, error) {
	path := r.top.file.path
	f, err := parseHCLFile(path, after)
	if err != nil {
		return Edit{}, fmt.Errorf("internal error: the edited file does not parse, nothing was written: %w", err)
	}
	got, err := readResource(r.w, hclTop{file: f, index: r.top.index, block: f.body.Blocks[r.top.index]}, r.rel, r.public.Address)
	if err != nil {
		return Edit{}, fmt.Errorf("internal error: the edited resource does not read back, nothing was written: %w", err)
	}
	if !r.keeps(got, keep, added) {
		return Edit{}, fmt.Errorf("internal error: editing %s would change credentials it must keep, nothing was written", r.public.Address)
	}
	before := r.src()
	return Edit{File: path, Before: before, After: after, Diff: UnifiedDiff(r.w.relName(path), before, after)}, nil
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
