package tfrunner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// PinnedVersion is the Terraform release rekey installs when none is found.
const PinnedVersion = "1.5.7"

// minVersion is the oldest Terraform rekey supports (saved plans as JSON, import blocks).
var minVersion = version.Must(version.NewVersion("1.5.0"))

// Binary is a Terraform (or OpenTofu) executable and its version.
type Binary struct {
	Path    string
	Version *version.Version
}

// FindOptions say where to look for Terraform and how to install it.
type FindOptions struct {
	Explicit string    // --terraform PATH; when set, nothing else is tried
	CacheDir string    // where an installed Terraform lives; default: the user cache folder
	Log      io.Writer // progress of an install; may be nil
}

// ErrNoTerraform means no usable Terraform was found and none could be installed.
var ErrNoTerraform = errors.New("no usable Terraform")

// FindBinary returns the Terraform to use: --terraform PATH, else terraform then tofu on PATH,
// else one installed earlier in the cache, else the pinned release installed into the cache —
// downloaded with hc-install, or, where that is not reachable, built from the Go module proxy.
func FindBinary(ctx context.Context, opts FindOptions) (Binary, error) {
	if opts.Explicit != "" {
		return checkBinary(ctx, opts.Explicit)
	}
	for _, name := range []string{"terraform", "tofu"} {
		if path, err := exec.LookPath(name); err == nil {
			return checkBinary(ctx, path)
		}
	}
	dir, err := installDir(opts.CacheDir)
	if err != nil {
		return Binary{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binary{}, fmt.Errorf("%w: create %s: %v", ErrNoTerraform, dir, err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return Binary{}, err
	}
	defer unlock()
	cached := filepath.Join(dir, "terraform")
	if _, err := os.Stat(cached); err == nil {
		return checkBinary(ctx, cached)
	}
	return install(ctx, dir, opts.Log)
}

// lockDir holds an exclusive lock on dir until the returned func is called, so that two rekey
// processes (or test packages) do not install into the same folder at once.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: lock %s: %v", ErrNoTerraform, dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: lock %s: %v", ErrNoTerraform, dir, err)
	}
	return func() { f.Close() }, nil
}

// installDir is CACHE/rekey/terraform/VERSION.
func installDir(cacheDir string) (string, error) {
	if cacheDir == "" {
		var err error
		if cacheDir, err = os.UserCacheDir(); err != nil {
			return "", fmt.Errorf("%w: no user cache folder to install it into (%v); install Terraform %s or later and put it on PATH, or pass --terraform PATH", ErrNoTerraform, err, minVersion)
		}
	}
	return filepath.Join(cacheDir, "rekey", "terraform", PinnedVersion), nil
}

// install puts the pinned Terraform into dir: from the HashiCorp releases site, or by building
// it with the Go toolchain when that site cannot be reached.
func install(ctx context.Context, dir string, log io.Writer) (Binary, error) {
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "Terraform not found; installing Terraform %s into %s\n", PinnedVersion, dir)
	downloadCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	installer := &releases.ExactVersion{Product: product.Terraform, Version: version.Must(version.NewVersion(PinnedVersion)), InstallDir: dir}
	path, downloadErr := installer.Install(downloadCtx)
	if downloadErr == nil {
		return checkBinary(ctx, path)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return Binary{}, fmt.Errorf("%w: download failed (%v) and no Go toolchain to build it; install Terraform %s or later and put it on PATH, or pass --terraform PATH", ErrNoTerraform, downloadErr, minVersion)
	}
	fmt.Fprintf(log, "Download failed (%v); building Terraform %s with go install (2–3 minutes, once)\n", downloadErr, PinnedVersion)
	cmd := exec.CommandContext(ctx, goBin, "install", "github.com/hashicorp/terraform@v"+PinnedVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return Binary{}, fmt.Errorf("%w: download failed (%v) and go install failed (%v); install Terraform %s or later and put it on PATH, or pass --terraform PATH", ErrNoTerraform, downloadErr, err, minVersion)
	}
	return checkBinary(ctx, filepath.Join(dir, "terraform"))
}

// checkBinary asks the executable for its version and refuses one older than 1.5.
func checkBinary(ctx context.Context, path string) (Binary, error) {
	tf, err := tfexec.NewTerraform(os.TempDir(), path)
	if err != nil {
		return Binary{}, fmt.Errorf("%w: %s: %v", ErrNoTerraform, path, err)
	}
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		return Binary{}, fmt.Errorf("%w: %s does not run as Terraform (%v)", ErrNoTerraform, path, err)
	}
	if v.LessThan(minVersion) {
		return Binary{}, fmt.Errorf("%w: %s is Terraform %s; rekey needs %s or later", ErrNoTerraform, path, v, minVersion)
	}
	return Binary{Path: path, Version: v}, nil
}
