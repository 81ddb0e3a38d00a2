package provider

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"rekey/tfrunner"
)

// Serve runs the provider as a Terraform plugin until Terraform stops it. The version, and
// with it the behaviour, comes from the executable's name in the mirror. ctx is unused: the
// plugin server runs until Terraform ends it.
func Serve(_ context.Context) error {
	newProvider := New(versionFromExecutable(os.Args[0]))
	var opts []tf6server.ServeOpt
	if DebugRequested() {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	return tf6server.Serve(tfrunner.ProviderSource, func() tfprotov6.ProviderServer {
		return legacyTypeSystem{providerserver.NewProtocol6(newProvider())()}
	}, opts...)
}

// DebugRequested reports whether this executable was started as the stand-in provider in
// debug mode, as the real provider is (tfrunner.ProviderDebugEnv): by its name in the mirror,
// so that the variable never turns the rekey command itself into a provider.
func DebugRequested() bool {
	on, _ := strconv.ParseBool(os.Getenv(tfrunner.ProviderDebugEnv))
	return on && strings.HasPrefix(filepath.Base(os.Args[0]), "terraform-provider-auth0")
}

// legacyTypeSystem marks plans and apply results as coming from the legacy type system, as
// every resource of the real provider (terraform-plugin-sdk v2) does. Terraform then accepts,
// with a log warning, what it accepts from the real provider: a planned value that is not the
// configured one (algorithm's default, parse_expiry_from_cert's null) and a stored value that
// is not the planned one (false for that null, expires_at with milliseconds), which is the
// state and plan shape the stand-in reproduces.
type legacyTypeSystem struct {
	tfprotov6.ProviderServer
}

// PlanResourceChange plans through the framework and flags the result as legacy.
func (s legacyTypeSystem) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp, err := s.ProviderServer.PlanResourceChange(ctx, req)
	if resp != nil {
		resp.UnsafeToUseLegacyTypeSystem = true //nolint:staticcheck // the real provider's SDK sets it; see legacyTypeSystem
	}
	return resp, err
}

// ApplyResourceChange applies through the framework and flags the result as legacy.
func (s legacyTypeSystem) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp, err := s.ProviderServer.ApplyResourceChange(ctx, req)
	if resp != nil {
		resp.UnsafeToUseLegacyTypeSystem = true //nolint:staticcheck // as in PlanResourceChange
	}
	return resp, err
}
