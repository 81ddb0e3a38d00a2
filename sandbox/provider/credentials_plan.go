package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// ModifyPlan settles the computed values of planned credentials. Terraform carries a set
// element's computed values forward only when every configured attribute equals the one in
// state; otherwise (a new expires_at, say) the framework marks them all unknown, and the
// credential would be planned, and applied, as deleted and created again. Here a planned
// credential that is the same credential as one in state (same type, pem, algorithm and
// name) keeps that one's id, key_id and timestamps, so that only its expires_at changes.
// It also plans algorithm's default RS256, no expiry for a new credential without one, and,
// for provider ≤ 1.46, a replacement on any credential change other than expires_at.
func (r *credentialsResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var block types.List
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("private_key_jwt"), &block)...)
	if resp.Diagnostics.HasError() || block.IsUnknown() {
		return
	}
	var plan, state credentialsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	planned, hasBlock, known, diags := plan.credentials(ctx)
	resp.Diagnostics.Append(diags...)
	prior, _, _, diags := state.credentials(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() || !known {
		return
	}
	planned, changed := matchPrior(planned, prior)
	plan, diags = plan.withCredentials(ctx, planned, hasBlock)
	resp.Diagnostics.Append(diags...)
	if plan.AuthenticationMethod.IsUnknown() {
		switch {
		case hasBlock:
			plan.AuthenticationMethod = types.StringValue("private_key_jwt")
		case !req.State.Raw.IsNull() && state.AuthenticationMethod.ValueString() != "private_key_jwt":
			plan.AuthenticationMethod = state.AuthenticationMethod
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	if r.legacy && !req.State.Raw.IsNull() && changed {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("private_key_jwt"))
	}
}

// matchPrior completes planned credentials from prior ones (see ModifyPlan) and reports
// whether the set changed in a way provider ≤ 1.46 could not update in place: a credential
// added or removed, or parse_expiry_from_cert changed.
func matchPrior(planned, prior []credentialModel) ([]credentialModel, bool) {
	used := make([]bool, len(prior))
	changed := len(planned) != len(prior)
	for i, p := range planned {
		p.Algorithm = types.StringValue(p.algorithm())
		j := findSame(p, prior, used)
		if j < 0 {
			changed = true
			planned[i] = newCredentialPlan(p)
			continue
		}
		used[j] = true
		s := prior[j]
		p.ID, p.KeyID, p.CreatedAt, p.UpdatedAt = s.ID, s.KeyID, s.CreatedAt, s.UpdatedAt
		if p.ExpiresAt.IsUnknown() {
			p.ExpiresAt = s.ExpiresAt
		} else if !sameInstant(p.ExpiresAt.ValueString(), s.ExpiresAt.ValueString()) {
			p.UpdatedAt = types.StringUnknown()
		}
		if p.ParseExpiryFromCert.ValueBool() != s.ParseExpiryFromCert.ValueBool() {
			changed = true
		}
		planned[i] = p
	}
	return planned, changed
}

// findSame returns the index of the first unused credential in prior that is the same
// credential as p, or -1.
func findSame(p credentialModel, prior []credentialModel, used []bool) int {
	id, ok := p.identity()
	if !ok {
		return -1
	}
	for j, s := range prior {
		if sid, _ := s.identity(); !used[j] && sid == id {
			return j
		}
	}
	return -1
}

// newCredentialPlan is the plan of a credential to create: its computed values are known
// after apply, except expires_at, which stays empty unless configured or read from a
// certificate.
func newCredentialPlan(p credentialModel) credentialModel {
	p.ID, p.KeyID = types.StringUnknown(), types.StringUnknown()
	p.CreatedAt, p.UpdatedAt = types.StringUnknown(), types.StringUnknown()
	if p.ExpiresAt.IsUnknown() && !p.ParseExpiryFromCert.IsUnknown() && !p.ParseExpiryFromCert.ValueBool() {
		p.ExpiresAt = types.StringNull()
	}
	return p
}
