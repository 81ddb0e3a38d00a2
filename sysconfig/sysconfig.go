// Package sysconfig reads and edits the consuming service's credential list, the "system
// config" of Auth0's zero-downtime rotation guide: a JSON or YAML file whose "credentials" list
// names, in order of preference, the private keys the service signs client assertions with.
// The first entry is CURRENT, the second NEXT.
//
//	{"credentials": [{"kid": "…", "alg": "RS256", "private_key_file": "keys/current.pem"}]}
//
// Edits keep what they do not touch. In a JSON or YAML (.yaml, .yml) file only the bytes of the
// credentials list change: untouched entries keep their bytes (unknown fields and comments
// included) and a new entry is laid out like the existing ones. In a YAML block list the
// comment lines above an entry move with it.
package sysconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrChanged reports that the file on disk changed after Load, so saving would lose that edit.
var ErrChanged = errors.New("system config changed on disk since it was loaded")

// algs are the credential algorithms Auth0 accepts for Private Key JWT.
var algs = []string{"RS256", "RS384", "PS256"}

// Entry is one credential of the list.
type Entry struct {
	KID            string `json:"kid"`
	Alg            string `json:"alg"`
	PrivateKeyFile string `json:"private_key_file"`
}

// field is one of an entry's known keys and where its value goes.
type field struct {
	name string
	dst  *string
}

// fields lists e's known keys in file order.
func (e *Entry) fields() []field {
	return []field{{"kid", &e.KID}, {"alg", &e.Alg}, {"private_key_file", &e.PrivateKeyFile}}
}

// File is a loaded system config with its pending, unsaved changes.
type File struct {
	path    string  // as given to Load
	dir     string  // absolute folder of path, for relative key files
	data    []byte  // the bytes loaded (or last saved)
	loaded  []Entry // the entries in data
	entries []Entry // the entries after pending changes
	doc     document
}

// document renders a file's bytes with another credential list.
type document interface {
	render(entries []Entry) ([]byte, error)
}

// Load reads and checks the system config at path; its extension picks YAML (.yaml, .yml) or JSON.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sysconfig: cannot read the system config (check the path, or create the file with a \"credentials\" list): %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sysconfig: %s: %w", path, err)
	}
	entries, doc, err := parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("sysconfig: %s: %w", path, err)
	}
	return &File{path: path, dir: filepath.Dir(abs), data: data, loaded: entries, entries: slices.Clone(entries), doc: doc}, nil
}

// parse reads data in the format path's extension names.
func parse(path string, data []byte) ([]Entry, document, error) {
	if isYAML(path) {
		return parseYAML(data)
	}
	return parseJSON(data)
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// Path returns the path the file was loaded from.
func (f *File) Path() string { return f.path }

// Entries returns the credentials in order of preference, pending changes included.
func (f *File) Entries() []Entry { return slices.Clone(f.entries) }

// KeyPath returns the absolute path of e's private key file.
func (f *File) KeyPath(e Entry) string {
	if filepath.IsAbs(e.PrivateKeyFile) {
		return filepath.Clean(e.PrivateKeyFile)
	}
	return filepath.Join(f.dir, e.PrivateKeyFile)
}

// KeyPathAsWritten is how the file writes the absolute path of a private key file: relative
// to its folder when every entry's path is relative (the file then moves with its keys), else
// absolute.
func (f *File) KeyPathAsWritten(abs string) string {
	if len(f.entries) == 0 || slices.ContainsFunc(f.entries, func(e Entry) bool { return filepath.IsAbs(e.PrivateKeyFile) }) {
		return abs
	}
	rel, err := filepath.Rel(f.dir, abs)
	if err != nil {
		return abs
	}
	return rel
}

// Stage inserts next right after the first entry, as the NEXT credential.
func (f *File) Stage(next Entry) error {
	if err := checkEntry(next); err != nil {
		return fmt.Errorf("sysconfig: cannot stage %q: %w", next.KID, err)
	}
	if f.index(next.KID) >= 0 {
		return fmt.Errorf("sysconfig: %s already lists kid %s; remove it first or stage a new key", f.path, next.KID)
	}
	f.entries = slices.Insert(f.entries, 1, next)
	return nil
}

// Promote moves kid to the front, making it CURRENT; the old current becomes the second entry.
func (f *File) Promote(kid string) error {
	i, err := f.find(kid)
	if err != nil {
		return err
	}
	e := f.entries[i]
	f.entries = slices.Insert(slices.Delete(f.entries, i, i+1), 0, e)
	return nil
}

// Remove drops kid from the list; it refuses to remove the last entry.
func (f *File) Remove(kid string) error {
	i, err := f.find(kid)
	if err != nil {
		return err
	}
	if len(f.entries) == 1 {
		return fmt.Errorf("sysconfig: refusing to remove %s, the last credential in %s; never remove the last credential (stage and promote its successor first)", kid, f.path)
	}
	f.entries = slices.Delete(f.entries, i, i+1)
	return nil
}

func (f *File) index(kid string) int {
	return slices.IndexFunc(f.entries, func(e Entry) bool { return e.KID == kid })
}

func (f *File) find(kid string) (int, error) {
	i := f.index(kid)
	if i < 0 {
		return -1, fmt.Errorf("sysconfig: %s does not list kid %s (listed: %s)", f.path, kid, strings.Join(kids(f.entries), ", "))
	}
	return i, nil
}

func kids(entries []Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.KID
	}
	return out
}

// checkEntry reports a missing field or an algorithm Auth0 does not accept.
func checkEntry(e Entry) error {
	switch {
	case e.KID == "":
		return errors.New(`missing "kid"; every entry needs kid, alg and private_key_file`)
	case e.Alg == "":
		return errors.New(`missing "alg"; every entry needs kid, alg and private_key_file`)
	case e.PrivateKeyFile == "":
		return errors.New(`missing "private_key_file"; every entry needs kid, alg and private_key_file`)
	case !slices.Contains(algs, e.Alg):
		return fmt.Errorf("alg %q is not a Private Key JWT algorithm; use one of %s", e.Alg, strings.Join(algs, ", "))
	}
	return nil
}

// checkEntries checks each entry and that no kid repeats; where[i] locates entry i for messages.
func checkEntries(entries []Entry, where []string) error {
	if len(entries) == 0 {
		return errors.New(`the "credentials" list is empty; list at least the current credential`)
	}
	seen := map[string]int{}
	for i, e := range entries {
		if err := checkEntry(e); err != nil {
			return fmt.Errorf("credentials[%d] (%s): %w", i, where[i], err)
		}
		if j, dup := seen[e.KID]; dup {
			return fmt.Errorf("credentials[%d] (%s): kid %s is already listed as credentials[%d]; list each key once", i, where[i], e.KID, j)
		}
		seen[e.KID] = i
	}
	return nil
}

// Snippet returns the JSON system config listing entries, for an operator to copy by hand.
func Snippet(entries []Entry) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	list := entries
	if list == nil {
		list = []Entry{}
	}
	// Encoding plain strings cannot fail.
	_ = enc.Encode(struct {
		Credentials []Entry `json:"credentials"`
	}{list})
	return buf.String()
}
