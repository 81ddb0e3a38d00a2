package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// readState returns the resource's state as the tenant has it (facts §4.3): the client, and
// each credential attached to its private_key_jwt method. owned are the credentials the
// state or the change being applied knows; their pem and parse_expiry_from_cert, which the
// API never returns, are kept. Once the state has a private_key_jwt block, an attached
// credential it does not own is left out with a warning (v1.55); an import, and the legacy
// provider, record every attached credential. found is false when the client does not exist.
func (r *credentialsResource) readState(ctx context.Context, clientID string, owned []credentialModel, block bool) (m credentialsModel, found bool, diags diag.Diagnostics) {
	c, err := r.api.Client.Read(ctx, clientID)
	if isNotFound(err) {
		return m, false, nil
	} else if err != nil {
		diags.AddError("Failed to read the client's credentials", fmt.Sprintf("read client %s: %v", clientID, err))
		return m, false, diags
	}
	m.ID, m.ClientID = types.StringValue(clientID), types.StringValue(clientID)
	method := c.GetTokenEndpointAuthMethod()
	if method == "" {
		method = defaultAuthMethod(c.GetAppType())
	}
	var creds []credentialModel
	if pk := c.GetClientAuthenticationMethods().GetPrivateKeyJWT(); pk != nil {
		method = "private_key_jwt"
		byID := map[string]credentialModel{}
		for _, o := range owned {
			byID[o.ID.ValueString()] = o
		}
		ownedOnly := block && !r.legacy
		for _, ref := range pk.GetCredentials() {
			known, isOwned := byID[ref.GetID()]
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
			creds = append(creds, known.withAPI(cred))
		}
		block = true
	}
	m.AuthenticationMethod = types.StringValue(method)
	m, d := m.withCredentials(ctx, creds, block)
	diags.Append(d...)
	return m, true, diags
}
