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
	path := filepath.Join(dir, ".terraform.lock.hcl")
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("read %s: %w", path, diags)
	}
	for _, block := range file.Body.(*hclsyntax.Body).Blocks {
		if block.Type != "provider" || len(block.Labels) != 1 || block.Labels[0] != source {
			continue
		}
		attr, ok := block.Body.Attributes["version"]
		if !ok {
			return nil, fmt.Errorf("%s: provider %q has no version", path, source)
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() || !v.Type().Equals(cty.String) {
			return nil, fmt.Errorf("%s: provider %q: version is not a string", path, source)
		}
		return version.NewVersion(v.AsString())
	}
	return nil, nil
}
