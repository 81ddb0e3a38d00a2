package sysconfig_test

import (
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rekey/sysconfig"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// entryC is the new key the tests stage.
var entryC = sysconfig.Entry{KID: "kidC", Alg: "RS384", PrivateKeyFile: "keys/c.pem"}

// copyInput copies testdata/name into a new temporary folder and returns its path there.
func copyInput(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func load(t *testing.T, path string) *sysconfig.File {
	t.Helper()
	f, err := sysconfig.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return f
}

func kids(f *sysconfig.File) []string {
	var out []string
	for _, e := range f.Entries() {
		out = append(out, e.KID)
	}
	return out
}

// Operation sequences of a rotation, applied to the first entry "kidA" and the new "kidC".
var operations = []struct {
	name string
	do   func(*sysconfig.File) error
	want []string // kids after the operation, given a file listing only kidA (kidB follows if listed)
}{
	{"stage", func(f *sysconfig.File) error { return f.Stage(entryC) }, []string{"kidA", "kidC"}},
	{"promote", func(f *sysconfig.File) error {
		return errors.Join(f.Stage(entryC), f.Promote("kidC"))
	}, []string{"kidC", "kidA"}},
	{"rotate", func(f *sysconfig.File) error {
		return errors.Join(f.Stage(entryC), f.Promote("kidC"), f.Remove("kidA"))
	}, []string{"kidC"}},
}

func TestEditGolden(t *testing.T) {
	for _, input := range []string{"compact.json", "indented.json", "sandbox.json", "comments.yaml"} {
		for _, op := range operations {
			t.Run(input+"/"+op.name, func(t *testing.T) {
				path := copyInput(t, input)
				f := load(t, path)
				rest := kids(f)[1:] // kidB in indented.json
				if err := op.do(f); err != nil {
					t.Fatal(err)
				}
				want := append(slices.Clone(op.want), rest...)
				if got := kids(f); !slices.Equal(got, want) {
					t.Fatalf("pending kids = %v, want %v", got, want)
				}
				if f.Diff() == "" {
					t.Error("Diff is empty with a pending change")
				}
				if err := f.Save(); err != nil {
					t.Fatal(err)
				}
				if d := f.Diff(); d != "" {
					t.Errorf("Diff after Save = %q, want none", d)
				}
				if got := kids(load(t, path)); !slices.Equal(got, want) {
					t.Fatalf("kids read back = %v, want %v", got, want)
				}
				checkGolden(t, path, filepath.Join("testdata", input+"."+op.name+".golden"))
			})
		}
	}
}

func checkGolden(t *testing.T, path, golden string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", path, golden, got, want)
	}
}

// Everything outside the credentials array keeps its bytes, and so do untouched entries.
func TestJSONPreservesBytes(t *testing.T) {
	path := copyInput(t, "indented.json")
	before, _ := os.ReadFile(path)
	f := load(t, path)
	if err := errors.Join(f.Stage(entryC), f.Promote("kidC"), f.Remove("kidA")); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	head := `"credentials": [`
	tail := "\n    ],\n    \"log_level\":   \"info\"\n}\n"
	for _, data := range [][]byte{before, after} {
		if !strings.Contains(string(data), tail) {
			t.Fatalf("no %q in\n%s", tail, data)
		}
	}
	prefix := func(b []byte) string { return string(b[:strings.Index(string(b), head)]) }
	suffix := func(b []byte) string { return string(b[strings.LastIndex(string(b), tail):]) }
	if prefix(before) != prefix(after) || suffix(before) != suffix(after) {
		t.Errorf("bytes outside the credentials array changed:\n%s", after)
	}
	kidB := `        {
            "note": "old fallback",
            "kid": "kidB",
            "alg": "PS256",
            "private_key_file": "/etc/keys/b.pem",
            "labels": {"team": "payments", "tier": 1}
        }`
	if !strings.Contains(string(after), kidB) {
		t.Errorf("the kidB entry lost its bytes:\n%s", after)
	}
}

// A rotation of the sandbox's one-entry file gives what json.MarshalIndent would write.
func TestJSONNewEntryMatchesIndentation(t *testing.T) {
	path := copyInput(t, "sandbox.json")
	f := load(t, path)
	if err := errors.Join(f.Stage(entryC), f.Promote("kidC"), f.Remove("kidA")); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(map[string][]sysconfig.Entry{"credentials": {entryC}}, "", "  ")
	got, _ := os.ReadFile(path)
	if string(got) != string(want)+"\n" {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestYAMLKeepsCommentsAndKeys(t *testing.T) {
	path := copyInput(t, "comments.yaml")
	f := load(t, path)
	if err := errors.Join(f.Stage(entryC), f.Promote("kidC")); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	for _, want := range []string{
		"# Billing service credentials (managed by rekey)", "# current key", "# relative to this file",
		"note: rotated 2026-01-10", "service: billing", "domain: example.eu.auth0.com # tenant",
		"audience: https://api.example.com/",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("lost %q:\n%s", want, got)
		}
	}
}

func TestYAMLFlowStyleAndYML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc.yml")
	in := "credentials: [{kid: kidA, alg: RS256, private_key_file: a.pem}]\nother: 1\n"
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	f := load(t, path)
	if err := f.Stage(sysconfig.Entry{KID: "12345", Alg: "PS256", PrivateKeyFile: "c.pem"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "credentials: [{kid: kidA, alg: RS256, private_key_file: a.pem}, {kid: \"12345\", alg: PS256, private_key_file: c.pem}]\nother: 1\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLoad(t *testing.T) {
	f := load(t, copyInput(t, "indented.json"))
	want := []sysconfig.Entry{
		{KID: "kidA", Alg: "RS256", PrivateKeyFile: "keys/a.pem"},
		{KID: "kidB", Alg: "PS256", PrivateKeyFile: "/etc/keys/b.pem"},
	}
	if got := f.Entries(); !slices.Equal(got, want) {
		t.Errorf("Entries = %+v, want %+v", got, want)
	}
	f.Entries()[0].KID = "changed"
	if f.Entries()[0].KID != "kidA" {
		t.Error("Entries returned the File's own slice")
	}
}

func TestKeyPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "svc"), 0o700); err != nil {
		t.Fatal(err)
	}
	data := `{"credentials":[{"kid":"a","alg":"RS256","private_key_file":"../keys/a.pem"},{"kid":"b","alg":"RS256","private_key_file":"/abs/./b.pem"}]}`
	if err := os.WriteFile(filepath.Join(dir, "svc", "sys.json"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	f := load(t, filepath.Join("svc", "sys.json")) // a relative path to the file itself
	t.Chdir(os.TempDir())                          // KeyPath must not depend on the working folder
	e := f.Entries()
	if got, want := f.KeyPath(e[0]), filepath.Join(dir, "keys", "a.pem"); got != want {
		t.Errorf("KeyPath(relative) = %s, want %s", got, want)
	}
	if got := f.KeyPath(e[1]); got != "/abs/b.pem" {
		t.Errorf("KeyPath(absolute) = %s, want /abs/b.pem", got)
	}
	if f.Path() != filepath.Join("svc", "sys.json") {
		t.Errorf("Path = %s", f.Path())
	}
}

func TestLoadErrors(t *testing.T) {
	const ok = `"kid":"a","alg":"RS256","private_key_file":"a.pem"`
	cases := []struct {
		name, file, data string
		want             []string // substrings of the message
	}{
		{"not json", "s.json", "{\n  \"credentials\": [\n    {\"kid\": \"a\",}\n  ]\n}", []string{"not valid JSON at line 3, column 17"}},
		{"truncated", "s.json", `{"credentials": [`, []string{"not valid JSON", "line 1"}},
		{"top level list", "s.json", `[]`, []string{"top level is not a JSON object"}},
		{"no list", "s.json", `{"keys": []}`, []string{`no "credentials" list`}},
		{"not a list", "s.json", `{"credentials": {"kid": "a"}}`, []string{`"credentials" (line 1, column 17) is not a list`}},
		{"empty list", "s.json", `{"credentials": []}`, []string{"empty"}},
		{"twice", "s.json", `{"credentials": [{` + ok + `}], "credentials": [{` + ok + `}]}`, []string{"appears twice"}},
		{"entry not object", "s.json", `{"credentials": ["a.pem"]}`, []string{"credentials[0] (line 1, column 18): not an object"}},
		{"kid not string", "s.json", `{"credentials": [{"kid": 7, "alg": "RS256", "private_key_file": "a"}]}`, []string{`"kid" is 7, not a string`}},
		{"no kid", "s.json", `{"credentials": [{"alg": "RS256", "private_key_file": "a"}]}`, []string{`credentials[0]`, `missing "kid"`}},
		{"no alg", "s.json", `{"credentials": [{"kid": "a", "private_key_file": "a"}]}`, []string{`missing "alg"`}},
		{"no key file", "s.json", "{\"credentials\": [\n{" + ok + "},\n {\"kid\": \"b\", \"alg\": \"RS256\"}]}", []string{`credentials[1] (line 3, column 2)`, `missing "private_key_file"`}},
		{"duplicate kid", "s.json", `{"credentials": [{` + ok + `}, {` + ok + `}]}`, []string{"credentials[1]", "kid a is already listed as credentials[0]"}},
		{"bad alg", "s.json", `{"credentials": [{"kid":"a","alg":"ES256","private_key_file":"a"}]}`, []string{`alg "ES256"`, "RS256, RS384, PS256"}},
		{"yaml syntax", "s.yaml", "credentials:\n  - kid: a\n    alg: [RS256\n", []string{"not valid YAML", "line 2"}},
		{"yaml empty", "s.yaml", "", []string{"empty"}},
		{"yaml comment only", "s.yaml", "# nothing\n", []string{"credentials"}},
		{"yaml two documents", "s.yml", "credentials: []\n---\nx: 1\n", []string{"second YAML document starts at line 2"}},
		{"yaml no list", "s.yaml", "service: x\n", []string{`no "credentials" list`}},
		{"yaml not a list", "s.yaml", "credentials: a.pem\n", []string{`"credentials" (line 1, column 14) is not a list`}},
		{"yaml entry not mapping", "s.yaml", "credentials:\n  - a.pem\n", []string{"credentials[0] (line 2, column 5): not a mapping"}},
		{"yaml kid not scalar", "s.yaml", "credentials:\n  - kid: [a]\n    alg: RS256\n    private_key_file: a\n", []string{`"kid" (line 2) is not a string`}},
		{"yaml null alg", "s.yaml", "credentials:\n  - kid: a\n    alg: ~\n    private_key_file: a\n", []string{`missing "alg"`}},
		{"yaml duplicate kid", "s.yaml", "credentials:\n  - {kid: a, alg: RS256, private_key_file: a}\n  - {kid: a, alg: RS256, private_key_file: b}\n", []string{"credentials[1] (line 3, column 5)", "already listed"}},
		{"yaml bad alg", "s.yaml", "credentials:\n  - {kid: a, alg: HS256, private_key_file: a}\n", []string{`alg "HS256"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.file)
			if err := os.WriteFile(path, []byte(c.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := sysconfig.Load(path)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, want := range append(c.want, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.json")
	_, err := sysconfig.Load(path)
	var pe *os.PathError
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v is not a wrapped *os.PathError for a missing file", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
}

func TestOperationErrors(t *testing.T) {
	f := load(t, copyInput(t, "indented.json"))
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"stage listed kid", f.Stage(sysconfig.Entry{KID: "kidB", Alg: "RS256", PrivateKeyFile: "x"}), "already lists kid kidB"},
		{"stage without file", f.Stage(sysconfig.Entry{KID: "kidD", Alg: "RS256"}), `missing "private_key_file"`},
		{"stage bad alg", f.Stage(sysconfig.Entry{KID: "kidD", Alg: "RS512", PrivateKeyFile: "x"}), `alg "RS512"`},
		{"promote unknown", f.Promote("kidZ"), "does not list kid kidZ (listed: kidA, kidB)"},
		{"remove unknown", f.Remove("kidZ"), "does not list kid kidZ"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
	if got := kids(f); !slices.Equal(got, []string{"kidA", "kidB"}) {
		t.Errorf("failed operations changed the list: %v", got)
	}
	if err := f.Remove("kidB"); err != nil {
		t.Fatal(err)
	}
	err := f.Remove("kidA")
	if err == nil || !strings.Contains(err.Error(), "never remove the last credential") {
		t.Errorf("Remove of the last entry: %v", err)
	}
	if got := kids(f); !slices.Equal(got, []string{"kidA"}) {
		t.Errorf("kids = %v, want [kidA]", got)
	}
}

func TestPromoteOrder(t *testing.T) {
	f := load(t, copyInput(t, "indented.json"))
	if err := f.Stage(entryC); err != nil {
		t.Fatal(err)
	}
	if err := f.Promote("kidB"); err != nil {
		t.Fatal(err)
	}
	if got := kids(f); !slices.Equal(got, []string{"kidB", "kidA", "kidC"}) {
		t.Errorf("after Promote(kidB): %v", got)
	}
	if err := f.Promote("kidB"); err != nil {
		t.Fatal(err)
	}
	if got := kids(f); !slices.Equal(got, []string{"kidB", "kidA", "kidC"}) {
		t.Errorf("Promote of the first entry changed the order: %v", got)
	}
}

func TestSaveRefusesChangedFile(t *testing.T) {
	for _, input := range []string{"indented.json", "comments.yaml"} {
		t.Run(input, func(t *testing.T) {
			path := copyInput(t, input)
			f := load(t, path)
			if err := f.Stage(entryC); err != nil {
				t.Fatal(err)
			}
			edited := []byte("{\"credentials\": [{\"kid\": \"theirs\", \"alg\": \"RS256\", \"private_key_file\": \"t.pem\"}]}\n")
			if err := os.WriteFile(path, edited, 0o600); err != nil {
				t.Fatal(err)
			}
			err := f.Save()
			if !errors.Is(err, sysconfig.ErrChanged) {
				t.Fatalf("Save = %v, want ErrChanged", err)
			}
			if got, _ := os.ReadFile(path); string(got) != string(edited) {
				t.Errorf("Save overwrote the other edit:\n%s", got)
			}
		})
	}
}

func TestSaveKeepsModeAndLeavesNoTemp(t *testing.T) {
	path := copyInput(t, "sandbox.json")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	stageAndSave(t, path, entryC)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", info.Mode().Perm())
	}
	names, _ := os.ReadDir(filepath.Dir(path))
	if len(names) != 1 {
		t.Errorf("folder holds %d files after Save, want only the config", len(names))
	}
}

// After Save the File is the saved file: further changes and saves work.
func TestSaveTwice(t *testing.T) {
	path := copyInput(t, "compact.json")
	f := stageAndSave(t, path, entryC)
	if err := f.Promote("kidC"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatalf("second Save: %v", err)
	}
	if got := kids(load(t, path)); !slices.Equal(got, []string{"kidC", "kidA"}) {
		t.Errorf("kids = %v", got)
	}
}

func TestSaveWithoutChangeDoesNotWrite(t *testing.T) {
	path := copyInput(t, "compact.json")
	f := load(t, path)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Errorf("Save without a change: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Save without a change wrote the file")
	}
}

func TestSaveFollowsSymlink(t *testing.T) {
	target := copyInput(t, "sandbox.json")
	link := filepath.Join(t.TempDir(), "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	stageAndSave(t, link, entryC)
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", info, err)
	}
	if got := kids(load(t, target)); !slices.Equal(got, []string{"kidA", "kidC"}) {
		t.Errorf("target kids = %v", got)
	}
}

func TestDiff(t *testing.T) {
	f := load(t, copyInput(t, "sandbox.json"))
	if d := f.Diff(); d != "" {
		t.Errorf("Diff without a change = %q", d)
	}
	if err := f.Stage(entryC); err != nil {
		t.Fatal(err)
	}
	d := f.Diff()
	for _, want := range []string{"--- a/sandbox.json", "+++ b/sandbox.json", "\n+    },\n+    {\n", `+      "kid": "kidC",`, ` "kid": "kidA",`} {
		if !strings.Contains(d, want) {
			t.Errorf("Diff lacks %q:\n%s", want, d)
		}
	}
}

func TestSnippet(t *testing.T) {
	got := sysconfig.Snippet([]sysconfig.Entry{{KID: "kidA", Alg: "RS256", PrivateKeyFile: "/keys/<a>&.pem"}})
	want := `{
  "credentials": [
    {
      "kid": "kidA",
      "alg": "RS256",
      "private_key_file": "/keys/<a>&.pem"
    }
  ]
}
`
	if got != want {
		t.Errorf("Snippet =\n%s\nwant\n%s", got, want)
	}
	path := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(path, []byte(got), 0o600); err != nil {
		t.Fatal(err)
	}
	if f := load(t, path); f.Entries()[0].PrivateKeyFile != "/keys/<a>&.pem" {
		t.Errorf("Snippet does not load back: %+v", f.Entries())
	}
}

func TestJSONLayouts(t *testing.T) {
	const a = `"kid": "kidA", "alg": "RS256", "private_key_file": "a"`
	cases := []layoutCase{
		{"one line with spaces",
			`{"credentials": [{` + a + `}]}`,
			`{"credentials": [{` + a + `}, {"kid": "kidC", "alg": "RS384", "private_key_file": "keys/c.pem"}]}`},
		{"padded one line",
			`{"credentials": [ { ` + a + ` } ]}`,
			`{"credentials": [ { ` + a + ` }, { "kid": "kidC", "alg": "RS384", "private_key_file": "keys/c.pem" } ]}`},
		{"entries one per line",
			"{\"credentials\": [\n  {" + a + "}\n]}",
			"{\"credentials\": [\n  {" + a + "},\n  {\"kid\": \"kidC\", \"alg\": \"RS384\", \"private_key_file\": \"keys/c.pem\"}\n]}"},
		{"tabs and CRLF",
			"{\r\n\t\"credentials\": [\r\n\t\t{\r\n\t\t\t\"kid\": \"kidA\",\r\n\t\t\t\"alg\": \"RS256\",\r\n\t\t\t\"private_key_file\": \"a\"\r\n\t\t}\r\n\t]\r\n}\r\n",
			"{\r\n\t\"credentials\": [\r\n\t\t{\r\n\t\t\t\"kid\": \"kidA\",\r\n\t\t\t\"alg\": \"RS256\",\r\n\t\t\t\"private_key_file\": \"a\"\r\n\t\t},\r\n\t\t{\r\n\t\t\t\"kid\": \"kidC\",\r\n\t\t\t\"alg\": \"RS384\",\r\n\t\t\t\"private_key_file\": \"keys/c.pem\"\r\n\t\t}\r\n\t]\r\n}\r\n"},
	}
	checkLayouts(t, "s.json", cases)
}

// TestYAMLPreservesBytes: a rotation changes only the credentials list of a YAML file; the
// bytes around it (comment spacing, quoting, a document marker, blank lines) stay as they were.
func TestYAMLPreservesBytes(t *testing.T) {
	head := "---\n# service   config  (spacing kept)\nservice:   'billing'    #  two spaces\n\ncredentials:   # the list\n"
	tail := "\n# after the list\nauth0:\n    domain:    example.eu.auth0.com   # tenant\n    audience: \"https://api.example.com/\"\n"
	in := head + "  - kid: kidA\n    alg: RS256\n    private_key_file: keys/a.pem   # current\n" + tail
	path := filepath.Join(t.TempDir(), "svc.yaml")
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, op := range operations {
		f := load(t, path)
		if err := op.do(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Save(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(got), head) || !strings.HasSuffix(string(got), tail) {
			t.Errorf("%s changed bytes outside the credentials list:\n%s", op.name, got)
		}
		if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestYAMLLayouts(t *testing.T) {
	const a = "kid: kidA\n    alg: RS256\n    private_key_file: a.pem\n"
	cases := []layoutCase{
		{"comments between items move with the item below",
			"credentials:\n  # A\n  - " + a + "\n  # B\n  - kid: kidB\n    alg: RS256\n    private_key_file: b.pem\nx: 1\n",
			"credentials:\n  # A\n  - " + a + "  - kid: kidC\n    alg: RS384\n    private_key_file: keys/c.pem\n\n  # B\n  - kid: kidB\n    alg: RS256\n    private_key_file: b.pem\nx: 1\n"},
		{"indentless list",
			"credentials:\n- kid: kidA\n  alg: RS256\n  private_key_file: a.pem\nx: 1\n",
			"credentials:\n- kid: kidA\n  alg: RS256\n  private_key_file: a.pem\n- kid: kidC\n  alg: RS384\n  private_key_file: keys/c.pem\nx: 1\n"},
		{"four spaces after the dash",
			"credentials:\n    -   kid: kidA\n        alg: RS256\n        private_key_file: a.pem\n",
			"credentials:\n    -   kid: kidA\n        alg: RS256\n        private_key_file: a.pem\n    -   kid: kidC\n        alg: RS384\n        private_key_file: keys/c.pem\n"},
		{"entry on the line after its dash",
			"credentials:\n  -\n    kid: kidA\n    alg: RS256\n    private_key_file: a.pem\n",
			"credentials:\n  -\n    kid: kidA\n    alg: RS256\n    private_key_file: a.pem\n  - kid: kidC\n    alg: RS384\n    private_key_file: keys/c.pem\n"},
		{"flow entries in a block list, no final line end",
			"credentials:\n  - {kid: kidA, alg: RS256, private_key_file: a.pem}",
			"credentials:\n  - {kid: kidA, alg: RS256, private_key_file: a.pem}\n  - {kid: kidC, alg: RS384, private_key_file: keys/c.pem}"},
		{"flow list over lines with quotes and comments",
			"credentials: [   # keys\n  {kid: kidA, alg: RS256, private_key_file: 'it''s {a}.pem'},\n  {kid: kidB, alg: RS256, private_key_file: \"b]\\\".pem\"}  # B\n]\n",
			"credentials: [   # keys\n  {kid: kidA, alg: RS256, private_key_file: 'it''s {a}.pem'},\n  {kid: kidC, alg: RS384, private_key_file: keys/c.pem},\n  {kid: kidB, alg: RS256, private_key_file: \"b]\\\".pem\"}  # B\n]\n"},
		{"CRLF",
			"credentials:\r\n  - kid: kidA\r\n    alg: RS256\r\n    private_key_file: a.pem\r\nx: 1\r\n",
			"credentials:\r\n  - kid: kidA\r\n    alg: RS256\r\n    private_key_file: a.pem\r\n  - kid: kidC\r\n    alg: RS384\r\n    private_key_file: keys/c.pem\r\nx: 1\r\n"},
		{"non-ASCII before a flow list",
			"naïve: é\ncredentials: [{kid: kidA, alg: RS256, private_key_file: ü.pem}]\n",
			"naïve: é\ncredentials: [{kid: kidA, alg: RS256, private_key_file: ü.pem}, {kid: kidC, alg: RS384, private_key_file: keys/c.pem}]\n"},
	}
	checkLayouts(t, "s.yaml", cases)
}

// TestYAMLNewEntryQuoting: a new entry's values are quoted where YAML needs it, so the file
// reads back with the same values.
func TestYAMLNewEntryQuoting(t *testing.T) {
	path := copyInput(t, "comments.yaml")
	f := load(t, path)
	odd := sysconfig.Entry{KID: "123", Alg: "PS256", PrivateKeyFile: "/keys/#1: a, {b} " + strings.Repeat("long/", 30) + "k.pem"}
	if err := f.Stage(odd); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if got := load(t, path).Entries()[1]; got != odd {
		t.Errorf("read back %+v, want %+v", got, odd)
	}
}

// layoutCase is a file's bytes before and after staging entryC.
type layoutCase struct{ name, in, want string }

// checkLayouts writes each case's input to a file named name, stages entryC and compares.
func checkLayouts(t *testing.T, name string, cases []layoutCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, []byte(c.in), 0o600); err != nil {
				t.Fatal(err)
			}
			stageAndSave(t, path, entryC)
			if got, _ := os.ReadFile(path); string(got) != c.want {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

// stageAndSave loads the file at path, stages e and saves.
func stageAndSave(t *testing.T, path string, e sysconfig.Entry) *sysconfig.File {
	t.Helper()
	f := load(t, path)
	if err := f.Stage(e); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestKeyPathAsWritten(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newKey := filepath.Join(filepath.Dir(dir), "keys", "new.pem")
	relative, err := sysconfig.Load(write("relative.json", `{"credentials": [{"kid": "a", "alg": "RS256", "private_key_file": "keys/a.pem"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := relative.KeyPathAsWritten(newKey), filepath.Join("..", "keys", "new.pem"); got != want {
		t.Errorf("beside relative paths: %q, want %q", got, want)
	}
	if got := relative.KeyPath(sysconfig.Entry{PrivateKeyFile: relative.KeyPathAsWritten(newKey)}); got != newKey {
		t.Errorf("the relative path reads back as %q, want %q", got, newKey)
	}
	absolute, err := sysconfig.Load(write("absolute.json", `{"credentials": [{"kid": "a", "alg": "RS256", "private_key_file": "keys/a.pem"}, {"kid": "b", "alg": "RS256", "private_key_file": "/etc/keys/b.pem"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := absolute.KeyPathAsWritten(newKey); got != newKey {
		t.Errorf("beside an absolute path: %q, want it absolute", got)
	}
}
