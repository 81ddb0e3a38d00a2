package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// readState returns the resource's state as the tenant has it (facts §4.3): the client, and
// each credential attached to its private_key_jwt method. owned are the credentials the state
// or the change being applied holds; once the state has a private_key_jwt block, an attached
// credential it does not own is left out with a warning (v1.55); an import, and the legacy
// provider, record every attached credential. Each credential's pem and
// parse_expiry_from_cert, which the API never returns, come from recorded, the plan or state
// being written (see recordedAs). found is false when the client does not exist.
func (r *credentialsResource) readState(ctx context.Context, clientID string, owned, recorded []credentialModel, block bool) (m credentialsModel, found bool, diags diag.Diagnostics) {
	c, err := r.api.Client.Read(ctx, clientID)
	if isNotFound(err) {
		return m, false, nil
	} else if err != nil {
		diags.AddError("Failed to read the client's credentials", fmt.Sprintf("read client %s: %v", clientID, err))
		return m, false, diags
	}
	m = credentialsModel{
		ID: types.StringValue(clientID), ClientID: types.StringValue(clientID), ClientSecret: types.StringValue(c.GetClientSecret()),
		ClientSecretWO: types.StringNull(), ClientSecretWOVersion: types.Int64Null(),
		TLSClientAuth: noCredentials("tls_client_auth"), SelfSignedTLSClientAuth: noCredentials("self_signed_tls_client_auth"),
		SignedRequestObject: noCredentials("signed_request_object"),
	}
	method := c.GetTokenEndpointAuthMethod()
	if method == "" {
		method = defaultAuthMethod(c.GetAppType())
	}
	var creds []credentialModel
	if pk := c.GetClientAuthenticationMethods().GetPrivateKeyJWT(); pk != nil {
		method = "private_key_jwt"
		ownedOnly := block && !r.legacy
		for _, ref := range pk.GetCredentials() {
			isOwned := slices.ContainsFunc(owned, func(o credentialModel) bool { return o.ID.ValueString() == ref.GetID() })
			if ownedOnly && !isOwned {
				diags.AddWarning("Credential not managed by this resource",
					fmt.Sprintf("Credential %s is attached to client %s but is not in this resource's state; it is left out.", ref.GetID(), clientID))
				continue
			}
			cred, err := r.api.Client.GetCredential(ctx, clientID, ref.GetID())
			if isNotFound(err) {
				continue
			} else if err != nil {
				diags.AddError("Failed to read a credential", fmt.Sprintf("read credential %s of client %s: %v", ref.GetID(), clientID, err))
				return m, false, diags
			}
			creds = append(creds, recordedAs(recorded, cred.GetID(), cred.GetName()).withAPI(cred))
		}
		block = true
	}
	m.AuthenticationMethod = types.StringValue(method)
	m, d := m.withCredentials(ctx, creds, block)
	diags.Append(d...)
	return m, true, diags
}

// noCredentials is an empty block of the schema's block name: the other credential methods,
// which the stand-in never configures, as the real provider records them.
func noCredentials(name string) types.List {
	return types.ListValueMust(credentialsSchema().Blocks[name].Type().(types.ListType).ElemType, []attr.Value{})
}

// recordedAs is the credential of recorded the real provider takes an API credential's pem
// and parse_expiry_from_cert from: the one with its id, or else the first with its name in
// the SDK's set order. So two new credentials without a name both take the first one's pem,
// and the kid check of withAPI then drops the other's, as with the real provider.
func recordedAs(recorded []credentialModel, id, name string) credentialModel {
	if i := slices.IndexFunc(recorded, func(c credentialModel) bool { return c.ID.ValueString() == id }); i >= 0 {
		return recorded[i]
	}
	byName := slices.SortedFunc(slices.Values(recorded), func(a, b credentialModel) int { return strings.Compare(sdkSetCode(a), sdkSetCode(b)) })
	if i := slices.IndexFunc(byName, func(c credentialModel) bool { return c.Name.ValueString() == name }); i >= 0 {
		return byName[i]
	}
	return credentialModel{}
}
