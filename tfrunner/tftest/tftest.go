// Package tftest gives tests the real parts of the Terraform path: the Terraform rekey itself
// would use (PATH, the user cache, or installed there on first use), and a built rekey binary
// for Terraform to launch as the sandbox's provider; each made once per test process.
package tftest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"rekey/tfrunner"
)

var (
	tfOnce   sync.Once
	tfBinary tfrunner.Binary
	tfErr    error
)

// Terraform returns the Terraform binary for tests, installing it on first use if needed; a
// test fails (never skips) when none can be had.
func Terraform(t testing.TB) tfrunner.Binary {
	t.Helper()
	tfOnce.Do(func() {
		tfBinary, tfErr = tfrunner.FindBinary(context.Background(), tfrunner.FindOptions{Log: os.Stderr})
	})
	if tfErr != nil {
		t.Fatalf("Terraform is needed for this test: %v", tfErr)
	}
	return tfBinary
}

var (
	buildOnce sync.Once
	buildDir  string
	rekeyPath string
	buildErr  error
)

// Rekey builds the rekey command once per test process and returns its path: Terraform
// launches it as the sandbox's auth0 provider. Packages that use it run their tests with Main.
func Rekey(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil {
			buildErr = fmt.Errorf("find the module root: %w", err)
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "rekey-test-build-"); buildErr != nil {
			return
		}
		rekeyPath = filepath.Join(buildDir, "rekey")
		cmd := exec.Command("go", "build", "-o", rekeyPath, ".")
		cmd.Dir = strings.TrimSpace(string(root))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build rekey: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return rekeyPath
}

// Main runs a package's tests, then deletes what Rekey built: call it from TestMain. The rekey
// processes the tests start keep their tenant caches in a folder of the run's (REKEY_CACHE_DIR).
func Main(m *testing.M) {
	cacheDir, err := os.MkdirTemp("", "rekey-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("REKEY_CACHE_DIR", cacheDir)
	code := m.Run()
	os.RemoveAll(cacheDir)
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// RealProviderEnv names the variable that holds the path of a real terraform-provider-auth0
// binary, named as in a filesystem mirror (terraform-provider-auth0_vX.Y.Z); it is the
// variable rekey itself reads (sandbox.ProviderEnv), for tests in packages the sandbox imports.
const RealProviderEnv = "REKEY_AUTH0_PROVIDER"

// RealProvider returns the path of the real auth0 provider binary the tests run against; a
// test fails (never skips) when there is none. Elsewhere, sandboxtest.RealProvider also
// accepts the public registry, as rekey does.
func RealProvider(t testing.TB) string {
	t.Helper()
	path := os.Getenv(RealProviderEnv)
	if path == "" {
		t.Fatalf("this test runs the real auth0 provider: set %s to a terraform-provider-auth0_vX.Y.Z binary (scripts/test builds one)", RealProviderEnv)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s: %v", RealProviderEnv, err)
	}
	return path
}
