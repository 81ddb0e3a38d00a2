package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// unsupportedArguments are the real provider's arguments the stand-in does not implement.
var unsupportedArguments = []string{
	"client_secret", "client_secret_wo", "client_secret_wo_version",
	"tls_client_auth", "self_signed_tls_client_auth", "signed_request_object",
}

// ValidateConfig rejects what the stand-in does not implement (a client secret, the mTLS
// methods, signed request objects) and an authentication_method that contradicts a
// private_key_jwt block.
func (r *credentialsResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	for _, name := range unsupportedArguments {
		var v attr.Value
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), &v)...)
		if configured(v) {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Unsupported argument",
				fmt.Sprintf("The sandbox's stand-in provider does not implement %s: it supports private_key_jwt, and the client secret methods with the client's current secret.", name))
		}
	}
	var method types.String
	var block types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("authentication_method"), &method)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("private_key_jwt"), &block)...)
	if method.IsNull() || method.IsUnknown() || block.IsUnknown() {
		return
	}
	if m := method.ValueString(); len(block.Elements()) > 0 && m != "private_key_jwt" {
		resp.Diagnostics.AddAttributeError(path.Root("authentication_method"), "Conflicting authentication method",
			fmt.Sprintf("A private_key_jwt block needs authentication_method = \"private_key_jwt\", not %q.", m))
	}
}

// configured reports whether a configuration value is set: not null and, for a block, not empty.
func configured(v attr.Value) bool {
	if v == nil || v.IsNull() {
		return false
	}
	if list, ok := v.(types.List); ok && !list.IsUnknown() {
		return len(list.Elements()) > 0
	}
	return true
}
