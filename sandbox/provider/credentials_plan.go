package provider

import (
	"context"
	"hash/crc32"
	"slices"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// ModifyPlan plans the private_key_jwt credentials as the real provider does (see
// planCredentialSet) and, for provider ≤ 1.46, a replacement on any credential change other
// than expires_at.
func (r *credentialsResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var block types.List
	if req.Plan.Raw.IsNull() || req.Config.GetAttribute(ctx, path.Root("private_key_jwt"), &block).HasError() || block.IsUnknown() {
		return // a destroy, or a private_key_jwt block known only after the apply
	}
	var config, plan, state credentialsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	update := !req.State.Raw.IsNull()
	if update {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	configured, hasBlock, known, diags := config.credentials(ctx)
	resp.Diagnostics.Append(diags...)
	prior, _, _, diags := state.credentials(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() || !known {
		return
	}
	plan, diags = plan.withCredentials(ctx, planCredentialSet(configured, prior, update), hasBlock)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	if r.legacy && update && identitiesChanged(configured, prior) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("private_key_jwt"))
	}
}

// planCredentialSet is the planned credentials set as Terraform and terraform-plugin-sdk
// plan the real provider's TypeSet. Terraform first proposes each configured element with the
// expiry of a prior one it matches (see proposed). The SDK then identifies the proposed
// elements by the real provider's hash (type, pem, algorithm, name and expires_at; setHash):
// if they hash as the prior ones do, nothing changes, not even parse_expiry_from_cert.
// Otherwise an element whose hash is in state keeps its state values, with the configured
// name and parse_expiry_from_cert, and any other is new, its computed values unknown until
// the apply. So an element whose stored expiry its block does not bring into the hash (a
// certificate's parsed expiry when the block leaves out algorithm, name or
// parse_expiry_from_cert; an expires_at written without milliseconds) is planned removed and
// added again on every plan, as with the real provider.
func planCredentialSet(configured, prior []credentialModel, update bool) []credentialModel {
	used := make([]bool, len(prior))
	planned := make([]credentialModel, 0, len(configured))
	changed := len(configured) != len(prior)
	for _, c := range proposed(configured, prior) {
		j := firstUnused(c, prior, used, sameHash)
		if j < 0 {
			planned = append(planned, newCredentialPlan(c))
			changed = true
			continue
		}
		used[j] = true
		kept := prior[j]
		kept.Name, kept.ParseExpiryFromCert = c.Name, c.ParseExpiryFromCert
		planned = append(planned, kept)
	}
	if update && !changed {
		return prior
	}
	return planned
}

// proposed is the configured elements as Terraform proposes them to the provider: one whose
// configurable attributes are exactly a prior element's (name, type, pem, algorithm and
// parse_expiry_from_cert as stored, none left out, and no expires_at) takes that element's
// computed values, of which only expires_at counts in the hash.
func proposed(configured, prior []credentialModel) []credentialModel {
	used := make([]bool, len(prior))
	out := slices.Clone(configured)
	for i, c := range out {
		if j := firstUnused(c, prior, used, sameConfigurable); j >= 0 {
			used[j] = true
			out[i].ExpiresAt = prior[j].ExpiresAt
		}
	}
	return out
}

// sameConfigurable reports whether Terraform matches the configured element c to the prior
// element p: every attribute that is not computed is equal, a null only to a null, and c has
// no expires_at (which the prior side of the comparison leaves out as computed).
func sameConfigurable(c, p credentialModel) bool {
	return c.ExpiresAt.IsNull() && c.Name.Equal(p.Name) && c.CredentialType.Equal(p.CredentialType) &&
		c.PEM.Equal(p.PEM) && c.Algorithm.Equal(p.Algorithm) && c.ParseExpiryFromCert.Equal(p.ParseExpiryFromCert)
}

// newCredentialPlan is the plan of a credential to create: algorithm defaults to RS256, name
// to "", and id, key_id, the timestamps and (unless configured) expires_at are known after
// the apply.
func newCredentialPlan(c credentialModel) credentialModel {
	c.ID, c.KeyID = types.StringUnknown(), types.StringUnknown()
	c.CreatedAt, c.UpdatedAt = types.StringUnknown(), types.StringUnknown()
	c.Algorithm = types.StringValue(c.algorithm())
	if c.Name.IsNull() {
		c.Name = types.StringValue("")
	}
	if c.ExpiresAt.IsNull() {
		c.ExpiresAt = types.StringUnknown()
	}
	return c
}

// firstUnused returns the index of the first element of prior that is not used yet and
// matches c, or -1.
func firstUnused(c credentialModel, prior []credentialModel, used []bool, match func(c, p credentialModel) bool) int {
	for j, p := range prior {
		if !used[j] && match(c, p) {
			return j
		}
	}
	return -1
}

// sameHash reports whether two credentials have the same known set hash.
func sameHash(c, p credentialModel) bool {
	h, ok := setHash(c)
	ph, _ := setHash(p)
	return ok && h == ph
}

// setHash is what the real provider's privateKeyJWTCredentialSetHash hashes: type, pem,
// algorithm (RS256 when empty), name and expires_at, concatenated. ok is false while any of
// them is unknown.
func setHash(c credentialModel) (hash string, ok bool) {
	parts := []types.String{c.CredentialType, c.PEM, c.Algorithm, c.Name, c.ExpiresAt}
	if slices.ContainsFunc(parts, types.String.IsUnknown) {
		return "", false
	}
	return hashInput(c), true
}

// sdkSetCode is the code terraform-plugin-sdk files c under in a set, unknown values read as
// "": the decimal CRC-32 of its hash input. The SDK lists a set in the string order of codes.
func sdkSetCode(c credentialModel) string {
	return strconv.Itoa(int(crc32.ChecksumIEEE([]byte(hashInput(c)))))
}

// hashInput is the string the real provider hashes a credential by.
func hashInput(c credentialModel) string {
	return c.CredentialType.ValueString() + c.PEM.ValueString() + c.algorithm() + c.Name.ValueString() + c.ExpiresAt.ValueString()
}

// identitiesChanged reports whether configured credentials differ from prior ones in a way
// provider ≤ 1.46 cannot update in place: a credential added or removed (see
// sameCredential), or its parse_expiry_from_cert changed.
func identitiesChanged(configured, prior []credentialModel) bool {
	if len(configured) != len(prior) {
		return true
	}
	used := make([]bool, len(prior))
	for _, c := range configured {
		j := firstUnused(c, prior, used, sameCredential)
		if j < 0 || c.ParseExpiryFromCert.ValueBool() != prior[j].ParseExpiryFromCert.ValueBool() {
			return true
		}
		used[j] = true
	}
	return false
}
