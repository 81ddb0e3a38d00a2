package tfrunner

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestInstallMirror(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(t.TempDir(), "rekey")
	if err := os.WriteFile(exe, []byte("binary one"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgFile, err := InstallMirror(dir, exe, "1.55.0", "1.46.0")
	if err != nil {
		t.Fatal(err)
	}
	mirror := filepath.Join(dir, "mirror")
	plugin := func(v string) string {
		return filepath.Join(mirror, "registry.terraform.io", "auth0", "auth0", v, runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-auth0_v"+v)
	}
	for _, v := range []string{"1.55.0", "1.46.0"} {
		checkPlugin(t, plugin(v), "binary one")
	}
	if cfgFile != filepath.Join(dir, "terraformrc") {
		t.Errorf("CLI config file = %s, want %s", cfgFile, filepath.Join(dir, "terraformrc"))
	}
	cfg, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`path    = "` + mirror + `"`,
		`include = ["registry.terraform.io/auth0/auth0"]`,
		`exclude = ["registry.terraform.io/auth0/auth0"]`,
	} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("CLI config lacks %s:\n%s", want, cfg)
		}
	}

	// An identical copy is left alone; a changed binary of the same size replaces it.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(plugin("1.55.0"), old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := InstallMirror(dir, exe, "1.55.0"); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(plugin("1.55.0")); !info.ModTime().Equal(old) {
		t.Errorf("an unchanged binary was copied again (mtime %v, want %v)", info.ModTime(), old)
	}
	if err := os.WriteFile(exe, []byte("binary two"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := InstallMirror(dir, exe, "1.55.0"); err != nil {
		t.Fatal(err)
	}
	checkPlugin(t, plugin("1.55.0"), "binary two")
}

func TestInstallMirrorDefaultsAndErrors(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "rekey")
	os.WriteFile(exe, []byte("x"), 0o700)
	if _, err := InstallMirror(dir, exe); err != nil {
		t.Fatal(err)
	}
	checkPlugin(t, filepath.Join(dir, "mirror", ProviderSource, StandInProviderVersion, runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-auth0_v"+StandInProviderVersion), "x")
	if _, err := InstallMirror(dir, exe, "latest"); err == nil {
		t.Error("InstallMirror accepted version \"latest\"")
	}
	if _, err := InstallMirror(dir, filepath.Join(dir, "missing")); err == nil {
		t.Error("InstallMirror accepted a missing executable")
	}
}

func TestHCLString(t *testing.T) {
	got := hclString(`/tmp/a "b"\c/${x}/%{y}`)
	want := `"/tmp/a \"b\"\\c/$${x}/%%{y}"`
	if got != want {
		t.Errorf("hclString = %s, want %s", got, want)
	}
}

func checkPlugin(t *testing.T, path, content string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if string(data) != content || info.Mode().Perm() != 0o755 {
		t.Errorf("%s = %q mode %v, want %q mode 0755", path, data, info.Mode().Perm(), content)
	}
}
