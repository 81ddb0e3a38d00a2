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

// stampFormat is how the real provider writes every credential timestamp (created_at,
// updated_at, expires_at): RFC 3339 with milliseconds.
const stampFormat = "2006-01-02T15:04:05.000Z07:00"

// credentialsModel is the state of an auth0_client_credentials resource. The client secret
// and the other methods' blocks are carried as they are: the stand-in only reads them.
type credentialsModel struct {
	ID                      types.String         `tfsdk:"id"`
	ClientID                types.String         `tfsdk:"client_id"`
	AuthenticationMethod    types.String         `tfsdk:"authentication_method"`
	ClientSecret            types.String         `tfsdk:"client_secret"`
	ClientSecretWO          types.String         `tfsdk:"client_secret_wo"`
	ClientSecretWOVersion   types.Int64          `tfsdk:"client_secret_wo_version"`
	PrivateKeyJWT           []privateKeyJWTModel `tfsdk:"private_key_jwt"`
	TLSClientAuth           types.List           `tfsdk:"tls_client_auth"`
	SelfSignedTLSClientAuth types.List           `tfsdk:"self_signed_tls_client_auth"`
	SignedRequestObject     types.List           `tfsdk:"signed_request_object"`
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
		m.PrivateKeyJWT = []privateKeyJWTModel{}
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

// sameCredential reports whether planned, an element the plan has no id for, is the prior
// credential: the same type, algorithm, name and key (by pem, or by the kid when the state
// lost the pem), as provider v1.55 matches them. Such a pair is kept, not deleted and created
// again; at most its expires_at changes.
func sameCredential(planned, prior credentialModel) bool {
	if planned.CredentialType.IsUnknown() || planned.PEM.IsUnknown() || planned.Name.IsUnknown() || planned.Algorithm.IsUnknown() {
		return false
	}
	pem, priorPEM := planned.PEM.ValueString(), prior.PEM.ValueString()
	keyMatches := pem == priorPEM || (priorPEM == "" && sameKey(pem, prior.KeyID.ValueString()))
	return keyMatches && planned.CredentialType.Equal(prior.CredentialType) &&
		planned.algorithm() == prior.algorithm() && planned.Name.ValueString() == prior.Name.ValueString()
}

// expiry parses expires_at; ok is false when it is unknown, empty or not RFC 3339.
func (c credentialModel) expiry() (time.Time, bool) {
	if c.ExpiresAt.IsUnknown() {
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

// withAPI is the credential as the real provider records it: the API's values, with
// timestamps in milliseconds, "" for no name or no expiry, and c's pem and
// parse_expiry_from_cert (false when unset), which the API never returns. The pem is dropped
// when its key is not the one the API reports, which shows an out-of-band key change as drift.
func (c credentialModel) withAPI(cred *management.Credential) credentialModel {
	expires := ""
	if cred.ExpiresAt != nil {
		expires = cred.GetExpiresAt().Format(stampFormat)
	}
	pem := c.PEM.ValueString()
	if !sameKey(pem, cred.GetKeyID()) {
		pem = ""
	}
	return credentialModel{
		ID:                  types.StringValue(cred.GetID()),
		Name:                types.StringValue(cred.GetName()),
		KeyID:               types.StringValue(cred.GetKeyID()),
		CredentialType:      types.StringValue(cred.GetCredentialType()),
		PEM:                 types.StringValue(pem),
		Algorithm:           types.StringValue(cred.GetAlgorithm()),
		ParseExpiryFromCert: types.BoolValue(c.ParseExpiryFromCert.ValueBool()),
		CreatedAt:           types.StringValue(cred.GetCreatedAt().Format(stampFormat)),
		UpdatedAt:           types.StringValue(cred.GetUpdatedAt().Format(stampFormat)),
		ExpiresAt:           types.StringValue(expires),
	}
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
