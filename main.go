// Command rekey rotates Auth0 Private Key JWT client credentials with zero downtime through
// Terraform; its commands are in package cli.
package main

import (
	"context"
	"fmt"
	"os"

	"rekey/cli"
	"rekey/sandbox/provider"
)

func main() {
	// Terraform launches the rekey binary itself as the sandbox's auth0 provider plugin.
	if os.Getenv("TF_PLUGIN_MAGIC_COOKIE") != "" || provider.DebugRequested() {
		if err := provider.Serve(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
