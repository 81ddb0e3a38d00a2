package tfrunner_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

// fakeTerraform writes an executable that answers `version -json` as it is told;
// it stands in for old or broken installations, which the real binary cannot.
func fakeTerraform(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "terraform")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindBinaryExplicit(t *testing.T) {
	real := tftest.Terraform(t)
	got, err := tfrunner.FindBinary(context.Background(), tfrunner.FindOptions{Explicit: real.Path})
	if err != nil || got.Path != real.Path || got.Version.String() != real.Version.String() {
		t.Fatalf("explicit real terraform: %+v %v", got, err)
	}
}

func TestFindBinaryRefuses(t *testing.T) {
	cases := []struct {
		name, script, want string
	}{
		{"too old", `echo '{"terraform_version":"1.4.6","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}'`, "rekey needs 1.5.0 or later"},
		{"not terraform", `echo hello; exit 1`, "does not run as Terraform"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tfrunner.FindBinary(context.Background(), tfrunner.FindOptions{Explicit: fakeTerraform(t, c.script)})
			if !errors.Is(err, tfrunner.ErrNoTerraform) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrNoTerraform with %q", err, c.want)
			}
		})
	}
	_, err := tfrunner.FindBinary(context.Background(), tfrunner.FindOptions{Explicit: filepath.Join(t.TempDir(), "missing")})
	if !errors.Is(err, tfrunner.ErrNoTerraform) {
		t.Fatalf("missing explicit binary: %v", err)
	}
}

func TestFindBinaryPrefersPathThenCache(t *testing.T) {
	real := tftest.Terraform(t)
	pathDir := t.TempDir()
	if err := os.Symlink(real.Path, filepath.Join(pathDir, "terraform")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", pathDir)
	got, err := tfrunner.FindBinary(context.Background(), tfrunner.FindOptions{CacheDir: t.TempDir()})
	if err != nil || got.Path != filepath.Join(pathDir, "terraform") {
		t.Fatalf("terraform on PATH: %+v %v", got, err)
	}

	// Nothing on PATH: a Terraform installed earlier in the cache is used without installing.
	cache := t.TempDir()
	cached := filepath.Join(cache, "rekey", "terraform", tfrunner.PinnedVersion)
	if err := os.MkdirAll(cached, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real.Path, filepath.Join(cached, "terraform")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	got, err = tfrunner.FindBinary(context.Background(), tfrunner.FindOptions{CacheDir: cache})
	if err != nil || got.Path != filepath.Join(cached, "terraform") {
		t.Fatalf("terraform in the cache: %+v %v", got, err)
	}
}
