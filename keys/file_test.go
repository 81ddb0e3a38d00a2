package keys

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// checkMode fails unless path has exactly the permission bits want.
func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s mode = %#o, want %#o", path, got, want)
	}
}

func TestWritePrivateKey(t *testing.T) {
	k := testKey()
	root := t.TempDir()
	dir := filepath.Join(root, "new", "sub")
	path := filepath.Join(dir, "private.pem")
	if err := WritePrivateKey(path, k); err != nil {
		t.Fatal(err)
	}
	checkMode(t, path, 0o600)
	checkMode(t, dir, 0o700)
	checkMode(t, filepath.Join(root, "new"), 0o700)

	got, err := LoadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(k) {
		t.Fatal("loaded key differs from written key")
	}

	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = WritePrivateKey(path, otherKey())
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second write = %v, want ErrExists", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("existing key file was modified")
	}
	checkMode(t, path, 0o600)
}

func TestWriteFileExclusiveMode(t *testing.T) {
	// 0666 survives only if the umask is overridden, proving the exact mode is set.
	for _, perm := range []fs.FileMode{0o644, 0o666, 0o600} {
		path := filepath.Join(t.TempDir(), "f")
		if err := WriteFileExclusive(path, []byte("data"), perm); err != nil {
			t.Fatal(err)
		}
		checkMode(t, path, perm)
		if got, _ := os.ReadFile(path); string(got) != "data" {
			t.Fatalf("content = %q", got)
		}
	}
}

func TestWriteFileExclusiveRefuses(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{target, link, dangling, dir} {
		if err := WriteFileExclusive(path, []byte("new"), 0o600); !errors.Is(err, ErrExists) {
			t.Errorf("WriteFileExclusive(%s) = %v, want ErrExists", path, err)
		}
	}
	if got, _ := os.ReadFile(target); string(got) != "keep" {
		t.Errorf("symlink target changed to %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dangling symlink target was created: %v", err)
	}

	// A parent that is a file is an ordinary error, not ErrExists.
	err := WriteFileExclusive(filepath.Join(target, "child"), []byte("x"), 0o600)
	if err == nil || errors.Is(err, ErrExists) {
		t.Errorf("write under a file = %v, want a non-ErrExists error", err)
	}
}

func TestLoadPrivateKeyErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	_, err := LoadPrivateKey(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadPrivateKey(bad)
	if !errors.Is(err, ErrNotPEM) || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v", err)
	}
}
