package tfrunner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// StandInProviderVersion is the auth0 provider version the sandbox's stand-in provider offers
// unless asked for another.
const StandInProviderVersion = "1.55.0"

var mirrorVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// InstallMirror makes dir/mirror a Terraform filesystem mirror that offers executable as the
// provider registry.terraform.io/auth0/auth0 in each of versions (default StandInProviderVersion), and
// writes dir/terraformrc, a CLI configuration that installs auth0/auth0 from that mirror only.
// It returns the path of dir/terraformrc, the value for TF_CLI_CONFIG_FILE.
//
// Each version gets a copy of executable, not a symlink, so the mirror outlives a temporary
// binary (go run); an existing copy is replaced only when its size or content differs.
// A workspace's .terraform.lock.hcl records the provider's hash: after the binary changes,
// run `terraform init -upgrade` there (or use a fresh workspace) to refresh it.
func InstallMirror(dir, executable string, versions ...string) (cliConfigFile string, err error) {
	if len(versions) == 0 {
		versions = []string{StandInProviderVersion}
	}
	mirror, err := filepath.Abs(filepath.Join(dir, "mirror"))
	if err != nil {
		return "", err
	}
	exe, err := os.ReadFile(executable)
	if err != nil {
		return "", fmt.Errorf("provider mirror: read the provider executable: %w", err)
	}
	for _, v := range versions {
		if !mirrorVersion.MatchString(v) {
			return "", fmt.Errorf("provider mirror: version %q is not of the form 1.55.0", v)
		}
		platform := runtime.GOOS + "_" + runtime.GOARCH
		target := filepath.Join(mirror, ProviderSource, v, platform, "terraform-provider-auth0_v"+v)
		if err := copyIfChanged(target, exe); err != nil {
			return "", fmt.Errorf("provider mirror: %w", err)
		}
	}
	cliConfigFile = filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(cliConfigFile, []byte(cliConfig(mirror)), 0o644); err != nil {
		return "", fmt.Errorf("provider mirror: write CLI configuration: %w", err)
	}
	return filepath.Abs(cliConfigFile)
}

// cliConfig is a Terraform CLI configuration that takes auth0/auth0 from mirror and
// every other provider from its registry.
func cliConfig(mirror string) string {
	return fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %s
    include = [%s]
  }
  direct {
    exclude = [%s]
  }
}
`, hclString(mirror), hclString(ProviderSource), hclString(ProviderSource))
}

// hclString quotes s as an HCL string literal, escaping template sequences too.
func hclString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// copyIfChanged writes data to path with mode 0755 unless path already holds exactly data.
// It writes a temporary file and renames it, so a running copy of the old binary is not
// overwritten in place.
func copyIfChanged(path string, data []byte) error {
	if same, err := sameContent(path, data); err != nil || same {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".provider-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// sameContent reports whether the file at path has exactly data as its content and is
// executable; a missing file is not an error.
func sameContent(path string, data []byte) (bool, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	if info.Size() != int64(len(data)) || info.Mode().Perm() != 0o755 {
		return false, nil
	}
	existing, err := io.ReadAll(f)
	if err != nil {
		return false, err
	}
	return bytes.Equal(existing, data), nil
}
