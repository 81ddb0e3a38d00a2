package steps_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rekey/steps"
	"rekey/tenant"
)

// errReached is what stopTenant answers: the options passed their checks and the engine went
// on to look the client up.
var errReached = errors.New("the options were accepted")

// stopTenant is a Tenant that ends every rotation at its first call, so that an options test
// needs no sandbox.
type stopTenant struct{}

func (stopTenant) Client(context.Context, string) (tenant.Client, error) {
	return tenant.Client{}, errReached
}

func (stopTenant) Grants(context.Context, string) ([]tenant.Grant, error) { return nil, errReached }

func (stopTenant) CheckKey(context.Context, string, *rsa.PrivateKey, string, string) tenant.CheckResult {
	return tenant.CheckResult{Err: errReached}
}

// pathWorld is a Terraform folder (an empty main.tf) and a place outside it, in a fresh
// temporary folder.
type pathWorld struct {
	tf, outside string
}

func newPathWorld(t *testing.T) pathWorld {
	t.Helper()
	root := t.TempDir()
	w := pathWorld{tf: filepath.Join(root, "tf"), outside: filepath.Join(root, "outside")}
	for _, d := range []string{w.tf, w.outside} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(w.tf, "main.tf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// rotateWith runs Rotate with only the folders set (and a stopping tenant).
func rotateWith(tfDir, keyDir string) error {
	_, err := steps.Rotate(context.Background(), steps.Options{Client: clientName, TerraformDir: tfDir, KeyDir: keyDir}, steps.Deps{Tenant: stopTenant{}})
	return err
}

// TestKeyFolderNeverInsideTerraformFolder: the key folder is judged where the file system puts
// it. A --key-dir that is a symlink into the Terraform folder (or to it, or through a symlinked
// parent), or one inside the real folder of a --dir given through a symlink, is refused as an
// options error that names the resolved place; so is a --key-dir through a dangling symlink.
// A symlinked key folder that really lies outside is accepted.
func TestKeyFolderNeverInsideTerraformFolder(t *testing.T) {
	t.Parallel()
	refused := map[string]func(t *testing.T, w pathWorld) (tfDir, keyDir string){
		"key-dir symlink into the Terraform folder": func(t *testing.T, w pathWorld) (string, string) {
			return w.tf, symlink(t, filepath.Join(w.tf, "keys"), filepath.Join(w.outside, "keys"))
		},
		"key-dir symlink to the Terraform folder": func(t *testing.T, w pathWorld) (string, string) {
			return w.tf, symlink(t, w.tf, filepath.Join(w.outside, "keys"))
		},
		"key-dir below a symlinked parent, not yet created": func(t *testing.T, w pathWorld) (string, string) {
			return w.tf, filepath.Join(symlink(t, w.tf, filepath.Join(w.outside, "link")), "new", "keys")
		},
		"dir given through a symlink": func(t *testing.T, w pathWorld) (string, string) {
			return symlink(t, w.tf, filepath.Join(w.outside, "tf-link")), filepath.Join(w.tf, "keys")
		},
		"dangling key-dir symlink": func(t *testing.T, w pathWorld) (string, string) {
			return w.tf, symlink(t, filepath.Join(w.tf, "not-yet"), filepath.Join(w.outside, "keys"))
		},
	}
	for name, setup := range refused {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newPathWorld(t)
			tfDir, keyDir := setup(t, w)
			err := rotateWith(tfDir, keyDir)
			var optErr *steps.OptionsError
			if !errors.As(err, &optErr) {
				t.Fatalf("Rotate = %v, want an OptionsError refusing the key folder", err)
			}
			if !strings.Contains(err.Error(), keyDir) {
				t.Errorf("the refusal does not name the key folder %s: %v", keyDir, err)
			}
			if entries, _ := os.ReadDir(w.tf); len(entries) != 1 {
				t.Errorf("the refused rotation wrote into the Terraform folder: %v", entries)
			}
		})
	}
	t.Run("symlink to a folder outside", func(t *testing.T) {
		t.Parallel()
		w := newPathWorld(t)
		keyDir := symlink(t, w.outside, filepath.Join(t.TempDir(), "keys"))
		if err := rotateWith(w.tf, keyDir); !errors.Is(err, errReached) {
			t.Errorf("Rotate = %v, want the options accepted", err)
		}
	})
}

// TestKeyFolderWritableByOthers: an existing key folder that its group or others may write to,
// or one held by a folder they may write to without the sticky bit, is refused with what to
// run; a private one, or one rekey will create, is accepted.
func TestKeyFolderWritableByOthers(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		w := newPathWorld(t)
		keyDir := filepath.Join(w.outside, "keys")
		if err := os.Mkdir(keyDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(keyDir, mode); err != nil {
			t.Fatal(err)
		}
		err := rotateWith(w.tf, keyDir)
		var optErr *steps.OptionsError
		if !errors.As(err, &optErr) || !strings.Contains(err.Error(), "chmod 700 "+keyDir) {
			t.Errorf("mode %04o: Rotate = %v, want an OptionsError saying to chmod 700 the folder", mode, err)
		}
		if info, _ := os.Stat(keyDir); info.Mode().Perm() != mode {
			t.Errorf("mode %04o: the refusal changed the folder's mode to %04o", mode, info.Mode().Perm())
		}
	}
	// The test's folders belong to its own primary group, so a group-writable one is allowed.
	for mode, refused := range map[os.FileMode]bool{0o777: true, 0o707: true, 0o775: false, 0o777 | os.ModeSticky: false, 0o755: false} {
		w := newPathWorld(t)
		if err := os.Chmod(w.outside, mode); err != nil {
			t.Fatal(err)
		}
		keyDir := filepath.Join(w.outside, "keys")
		err := rotateWith(w.tf, keyDir)
		var optErr *steps.OptionsError
		if got := errors.As(err, &optErr) && strings.Contains(err.Error(), "chmod go-w "+w.outside); got != refused {
			t.Errorf("parent folder mode %v: Rotate = %v, want refused=%v", mode, err, refused)
		}
		if _, err := os.Stat(keyDir); err == nil && refused {
			t.Errorf("parent folder mode %v: the refusal created the key folder", mode)
		}
	}
	// A folder of another group that the group may write to is refused (this needs root's chown).
	w := newPathWorld(t)
	if err := os.Chown(w.outside, -1, os.Getgid()+1); err != nil {
		t.Fatalf("give the parent folder another group: %v", err)
	}
	if err := os.Chmod(w.outside, 0o775); err != nil {
		t.Fatal(err)
	}
	if err := rotateWith(w.tf, filepath.Join(w.outside, "keys")); err == nil || !strings.Contains(err.Error(), "chmod go-w "+w.outside) {
		t.Errorf("a parent folder of another group, group-writable: Rotate = %v, want it refused", err)
	}
	w = newPathWorld(t)
	if err := rotateWith(w.tf, w.outside); !errors.Is(err, errReached) {
		t.Errorf("a 0700 key folder: Rotate = %v, want the options accepted", err)
	}
	if err := rotateWith(w.tf, filepath.Join(w.outside, "new")); !errors.Is(err, errReached) {
		t.Errorf("a key folder yet to be created: Rotate = %v, want the options accepted", err)
	}
}

// TestTerraformFolderWithoutConfiguration: a --dir that holds no .tf or .tf.json file is
// refused as an options error before rekey writes anything there.
func TestTerraformFolderWithoutConfiguration(t *testing.T) {
	w := newPathWorld(t)
	err := rotateWith(w.outside, filepath.Join(w.tf, "..", "keys"))
	var optErr *steps.OptionsError
	if !errors.As(err, &optErr) || !strings.Contains(err.Error(), "holds no Terraform configuration") {
		t.Fatalf("Rotate = %v, want an OptionsError", err)
	}
	if entries, _ := os.ReadDir(w.outside); len(entries) != 0 {
		t.Errorf("the refusal wrote into the folder: %v", entries)
	}
}
