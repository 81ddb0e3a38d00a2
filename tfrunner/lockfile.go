package tfrunner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// LockedProviderVersion reads the version of provider source (e.g. ProviderSource) that
// `terraform init` selected, from dir/.terraform.lock.hcl. It is nil when the lock file or the
// provider is absent.
func LockedProviderVersion(dir, source string) (*version.Version, error) {
	lock, err := readLock(dir, source)
	if err != nil || lock.version == "" {
		return nil, err
	}
	return version.NewVersion(lock.version)
}

// lockedProvider is a provider's entry in the lock file.
type lockedProvider struct {
	version string   // "" when the provider is absent
	hashes  []string // "h1:…" and "zh:…"
}

// readLock reads provider source's entry in dir/.terraform.lock.hcl (none: a zero entry).
func readLock(dir, source string) (lockedProvider, error) {
	path := filepath.Join(dir, ".terraform.lock.hcl")
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return lockedProvider{}, nil
	} else if err != nil {
		return lockedProvider{}, err
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return lockedProvider{}, fmt.Errorf("read %s: %w", path, diags)
	}
	for _, block := range file.Body.(*hclsyntax.Body).Blocks {
		if block.Type != "provider" || len(block.Labels) != 1 || block.Labels[0] != source {
			continue
		}
		attr, ok := block.Body.Attributes["version"]
		if !ok {
			return lockedProvider{}, fmt.Errorf("%s: provider %q has no version", path, source)
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() || !v.Type().Equals(cty.String) {
			return lockedProvider{}, fmt.Errorf("%s: provider %q: version is not a string", path, source)
		}
		lock := lockedProvider{version: v.AsString()}
		if attr, ok := block.Body.Attributes["hashes"]; ok {
			if hv, diags := attr.Expr.Value(nil); !diags.HasErrors() && hv.CanIterateElements() {
				for it := hv.ElementIterator(); it.Next(); {
					if _, h := it.Element(); h.Type().Equals(cty.String) && h.IsKnown() && !h.IsNull() {
						lock.hashes = append(lock.hashes, h.AsString())
					}
				}
			}
		}
		return lock, nil
	}
	return lockedProvider{}, nil
}
