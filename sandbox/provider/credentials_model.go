package provider

import (
	"context"
	"time"

	"github.com/auth0/go-auth0/management"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"rekey/keys"
)

// Timestamp formats of the real provider's state.
const (
	stampFormat  = "2006-01-02T15:04:05.000Z07:00" // created_at, updated_at
	expiryFormat = time.RFC3339                    // expires_at
)

// credentialsModel is the state of an auth0_client_credentials resource.
type credentialsModel struct {
	ID                   types.String         `tfsdk:"id"`
	ClientID             types.String         `tfsdk:"client_id"`
	AuthenticationMethod types.String         `tfsdk:"authentication_method"`
	PrivateKeyJWT        []privateKeyJWTModel `tfsdk:"private_key_jwt"`
}

// privateKeyJWTModel is the private_key_jwt block; its set may be unknown while planning.
type privateKeyJWTModel struct {
	Credentials types.Set `tfsdk:"credentials"`
}

// credentialModel is one element of private_key_jwt.credentials.
type credentialModel struct {
	ID                  types.String `tfsdk:"id"`
	Name                types.String `tfsdk:"name"`
	KeyID               types.String `tfsdk:"key_id"`
	CredentialType      types.String `tfsdk:"credential_type"`
	PEM                 types.String `tfsdk:"pem"`
	Algorithm           types.String `tfsdk:"algorithm"`
	ParseExpiryFromCert types.Bool   `tfsdk:"parse_expiry_from_cert"`
	CreatedAt           types.String `tfsdk:"created_at"`
	UpdatedAt           types.String `tfsdk:"updated_at"`
	ExpiresAt           types.String `tfsdk:"expires_at"`
}

// credentialType is the object type of a credentialModel.
var credentialType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"id": types.StringType, "name": types.StringType, "key_id": types.StringType,
	"credential_type": types.StringType, "pem": types.StringType, "algorithm": types.StringType,
	"parse_expiry_from_cert": types.BoolType, "created_at": types.StringType,
	"updated_at": types.StringType, "expires_at": types.StringType,
}}

// credentials returns the private_key_jwt credentials, whether the block is present, and
// whether the set is known.
func (m credentialsModel) credentials(ctx context.Context) (creds []credentialModel, block, known bool, diags diag.Diagnostics) {
	if len(m.PrivateKeyJWT) == 0 {
		return nil, false, true, nil
	}
	set := m.PrivateKeyJWT[0].Credentials
	if set.IsUnknown() {
		return nil, true, false, nil
	}
	diags = set.ElementsAs(ctx, &creds, false)
	return creds, true, true, diags
}

// withCredentials returns m with the private_key_jwt block holding creds, or without the
// block when block is false.
func (m credentialsModel) withCredentials(ctx context.Context, creds []credentialModel, block bool) (credentialsModel, diag.Diagnostics) {
	if !block {
		m.PrivateKeyJWT = nil
		return m, nil
	}
	if creds == nil {
		creds = []credentialModel{}
	}
	set, diags := types.SetValueFrom(ctx, credentialType, creds)
	m.PrivateKeyJWT = []privateKeyJWTModel{{Credentials: set}}
	return m, diags
}

// algorithm is the credential's algorithm with the provider's default.
func (c credentialModel) algorithm() string {
	if c.Algorithm.IsNull() || c.Algorithm.IsUnknown() {
		return "RS256"
	}
	return c.Algorithm.ValueString()
}

// identity is what makes two credentials the same in provider v1.55: type, key, algorithm
// and name. ok is false while any of them is unknown.
func (c credentialModel) identity() (id string, ok bool) {
	if c.CredentialType.IsUnknown() || c.PEM.IsUnknown() || c.Name.IsUnknown() {
		return "", false
	}
	return c.CredentialType.ValueString() + "\x00" + c.PEM.ValueString() + "\x00" + c.algorithm() + "\x00" + c.Name.ValueString(), true
}

// expiry parses expires_at; ok is false when it is unknown, null or not RFC 3339.
func (c credentialModel) expiry() (time.Time, bool) {
	if c.ExpiresAt.IsNull() || c.ExpiresAt.IsUnknown() {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, c.ExpiresAt.ValueString())
	return t, err == nil
}

// toAPI is the body that creates the credential.
func (c credentialModel) toAPI() *management.Credential {
	alg := c.algorithm()
	cred := &management.Credential{
		CredentialType: c.CredentialType.ValueStringPointer(),
		PEM:            c.PEM.ValueStringPointer(),
		Algorithm:      &alg,
	}
	if name := c.Name.ValueString(); name != "" {
		cred.Name = &name
	}
	if !c.ParseExpiryFromCert.IsNull() && !c.ParseExpiryFromCert.IsUnknown() {
		cred.ParseExpiryFromCert = c.ParseExpiryFromCert.ValueBoolPointer()
	}
	if at, ok := c.expiry(); ok {
		cred.ExpiresAt = &at
	}
	return cred
}

// withAPI is c (whose pem, parse_expiry_from_cert and spelling of name and expires_at are
// kept, since the API does not return them as written) updated from the API's credential.
// The pem is dropped when its key is not the one the API reports, which shows an
// out-of-band key change as drift.
func (c credentialModel) withAPI(cred *management.Credential) credentialModel {
	c.ID = types.StringValue(cred.GetID())
	c.KeyID = types.StringValue(cred.GetKeyID())
	c.CredentialType = types.StringValue(cred.GetCredentialType())
	c.Algorithm = types.StringValue(cred.GetAlgorithm())
	c.Name = keepSpelling(c.Name, cred.GetName(), func(a, b string) bool { return a == b })
	c.CreatedAt = types.StringValue(cred.GetCreatedAt().Format(stampFormat))
	c.UpdatedAt = types.StringValue(cred.GetUpdatedAt().Format(stampFormat))
	expires := ""
	if cred.ExpiresAt != nil {
		expires = cred.GetExpiresAt().UTC().Format(expiryFormat)
	}
	c.ExpiresAt = keepSpelling(c.ExpiresAt, expires, sameInstant)
	if c.PEM.IsUnknown() || !sameKey(c.PEM.ValueString(), cred.GetKeyID()) {
		c.PEM = types.StringNull()
	}
	if c.ParseExpiryFromCert.IsUnknown() {
		c.ParseExpiryFromCert = types.BoolNull()
	}
	return c
}

// keepSpelling returns known when it says the same as api (null counting as ""), so that a
// configured value survives in the form it was written; otherwise api, or null for "".
func keepSpelling(known types.String, api string, same func(a, b string) bool) types.String {
	if !known.IsUnknown() && same(known.ValueString(), api) {
		return known
	}
	if api == "" {
		return types.StringNull()
	}
	return types.StringValue(api)
}

// sameInstant reports whether two RFC 3339 timestamps (or two empty strings) are equal.
func sameInstant(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	x, errA := time.Parse(time.RFC3339, a)
	y, errB := time.Parse(time.RFC3339, b)
	return errA == nil && errB == nil && x.Equal(y)
}

// sameKey reports whether pemData holds the public key whose RFC 7638 thumbprint is kid
// (an expired certificate still holds its key).
func sameKey(pemData, kid string) bool {
	t := thumbprintOf(pemData)
	return t != "" && t == kid
}

// thumbprintOf is the kid Auth0 gives the key in pemData, or "" when it holds none.
func thumbprintOf(pemData string) string {
	pub, _ := keys.ParsePublic([]byte(pemData))
	if pub.Key == nil {
		return ""
	}
	return keys.Thumbprint(pub.Key)
}
