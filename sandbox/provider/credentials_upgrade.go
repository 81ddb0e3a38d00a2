package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// UpgradeState upgrades a version 0 state to version 1: the stand-in's own from before it
// took the real provider's version, or the real provider's from ≤ 1.46. Both read as the
// current schema (JSON does not tell a list from a set, attributes the current schema lacks
// are ignored and those the old state lacks read as null); their representation of absent
// values and timestamps becomes the real provider's.
func (r *credentialsResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	current := credentialsSchema()
	return map[int64]resource.StateUpgrader{0: {PriorSchema: &current, StateUpgrader: upgradeFromV0}}
}

// upgradeFromV0 rewrites a version 0 state read as the current schema in version 1's shape.
func upgradeFromV0(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	var m credentialsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	creds, block, _, diags := m.credentials(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	for i, c := range creds {
		creds[i] = c.inV1Shape()
	}
	for name, list := range map[string]*types.List{
		"tls_client_auth": &m.TLSClientAuth, "self_signed_tls_client_auth": &m.SelfSignedTLSClientAuth, "signed_request_object": &m.SignedRequestObject,
	} {
		if list.IsNull() {
			*list = noCredentials(name)
		}
	}
	m, diags = m.withCredentials(ctx, creds, block)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// inV1Shape is a stored credential as the real provider records it: "" for no name, pem or
// expiry, false for no parse_expiry_from_cert, and timestamps with milliseconds.
func (c credentialModel) inV1Shape() credentialModel {
	for _, s := range []*types.String{&c.Name, &c.PEM, &c.ExpiresAt} {
		if s.IsNull() {
			*s = types.StringValue("")
		}
	}
	for _, s := range []*types.String{&c.CreatedAt, &c.UpdatedAt, &c.ExpiresAt} {
		if t, err := time.Parse(time.RFC3339, s.ValueString()); err == nil {
			*s = types.StringValue(t.Format(stampFormat))
		}
	}
	c.ParseExpiryFromCert = types.BoolValue(c.ParseExpiryFromCert.ValueBool())
	return c
}
