// Package sandboxtest gives tests the auth0 Terraform provider a sandbox workspace runs: the
// real one, obtained as rekey obtains it, or the stand-in where a test needs what only the
// stand-in can show (the replace-on-change hazard of provider 1.46).
package sandboxtest

import (
	"context"
	"testing"

	"rekey/sandbox"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

// RealProvider returns the real auth0 provider as `rekey sandbox` would choose it
// ($REKEY_AUTH0_PROVIDER, else the public registry); a test fails, never skips, without one.
func RealProvider(t testing.TB) sandbox.Provider {
	t.Helper()
	p, err := sandbox.ChooseProvider(context.Background(), "", tftest.Rekey(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind == sandbox.ProviderStandIn {
		t.Fatalf("this test runs the real auth0 provider and none was found: set %s to a terraform-provider-auth0_vX.Y.Z binary (scripts/test builds one), or let Terraform reach the public registry", sandbox.ProviderEnv)
	}
	return p
}

// StandIn returns rekey's stand-in provider, served by the rekey binary the tests built.
func StandIn(t testing.TB) sandbox.Provider {
	t.Helper()
	return sandbox.Provider{Kind: sandbox.ProviderStandIn, Version: tfrunner.StandInProviderVersion, Path: tftest.Rekey(t)}
}

// Terraform returns sandbox Terraform options with the Terraform binary for tests and the real
// provider.
func Terraform(t testing.TB) *sandbox.TerraformOptions {
	t.Helper()
	return &sandbox.TerraformOptions{Binary: tftest.Terraform(t), Provider: RealProvider(t)}
}
