package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// authenticationMethods are the values of authentication_method.
var authenticationMethods = []string{
	"none", "client_secret_post", "client_secret_basic", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth",
}

// credentialAlgorithms are the algorithms Auth0 accepts for a credential.
var credentialAlgorithms = []string{"RS256", "RS384", "PS256"}

// credentialsSchemaVersion is the real provider's auth0_client_credentials schema version
// since 1.47, when credentials became a set.
const credentialsSchemaVersion = 1

// credentialsSchema is the real provider's auth0_client_credentials schema (v1.54.1), with
// the same attributes and flags, so that state and plans have its shape. Only private_key_jwt
// and the client secret methods are implemented; see ValidateConfig.
func credentialsSchema() schema.Schema {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	return schema.Schema{
		Description: "The authentication method and credentials of an Auth0 client.",
		Version:     credentialsSchemaVersion,
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep},
			"client_id": schema.StringAttribute{
				Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Description: "The ID of the client for which to configure the authentication method.",
			},
			"authentication_method": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: keep, Validators: []validator.String{stringvalidator.OneOf(authenticationMethods...)},
				Description: "Configure the method to use when making requests to any endpoint that requires this client to authenticate.",
			},
			"client_secret": schema.StringAttribute{
				Optional: true, Computed: true, Sensitive: true, PlanModifiers: keep,
				Description: "Secret for the client when using client_secret_post or client_secret_basic authentication method.",
			},
			"client_secret_wo": schema.StringAttribute{
				Optional: true, WriteOnly: true, Sensitive: true,
				Description: "Secret for the client when using client_secret_post or client_secret_basic authentication method (write-only).",
			},
			"client_secret_wo_version": schema.Int64Attribute{Optional: true, Description: "Version counter for client_secret_wo."},
		},
		Blocks: map[string]schema.Block{
			"private_key_jwt": schema.ListNestedBlock{
				Validators:  []validator.List{listvalidator.SizeAtMost(1)},
				Description: "Defines private_key_jwt client authentication method.",
				NestedObject: schema.NestedBlockObject{Blocks: map[string]schema.Block{
					"credentials": schema.SetNestedBlock{
						Validators:   []validator.Set{setvalidator.IsRequired(), setvalidator.SizeAtMost(2)},
						Description:  "Client credentials available for use when Private Key JWT is in use as the client authentication method. A maximum of 2 client credentials can be set.",
						NestedObject: schema.NestedBlockObject{Attributes: credentialAttributes()},
					},
				}},
			},
			"tls_client_auth":             tlsClientAuthBlock(),
			"self_signed_tls_client_auth": selfSignedTLSClientAuthBlock(),
			"signed_request_object":       signedRequestObjectBlock(),
		},
	}
}

// credentialAttributes are the attributes of a private_key_jwt credential. As in the real
// provider, algorithm and parse_expiry_from_cert are optional but not computed: ModifyPlan
// plans algorithm's default RS256 as the SDK does.
func credentialAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"id":     schema.StringAttribute{Computed: true, Description: "The ID of the client credential."},
		"name":   schema.StringAttribute{Optional: true, Description: "Friendly name for a credential."},
		"key_id": schema.StringAttribute{Computed: true, Description: "The key identifier of the credential, generated on creation."},
		"credential_type": schema.StringAttribute{
			Required: true, Validators: []validator.String{stringvalidator.OneOf("public_key")},
			Description: "Credential type. Supported types: public_key.",
		},
		"pem": schema.StringAttribute{Required: true, Description: "PEM-formatted public key (SPKI and PKCS1) or X509 certificate. Must be JSON escaped."},
		"algorithm": schema.StringAttribute{
			Optional: true, Validators: []validator.String{stringvalidator.OneOf(credentialAlgorithms...)},
			Description: "Algorithm which will be used with the credential. Defaults to RS256.",
		},
		"parse_expiry_from_cert": schema.BoolAttribute{Optional: true, Description: "Parse expiry from x509 certificate. If true, attempts to parse the expiry date from the provided PEM."},
		"created_at":             schema.StringAttribute{Computed: true, Description: "The ISO 8601 formatted date the credential was created."},
		"updated_at":             schema.StringAttribute{Computed: true, Description: "The ISO 8601 formatted date the credential was updated."},
		"expires_at": schema.StringAttribute{
			Optional: true, Computed: true, Validators: []validator.String{rfc3339{}},
			Description: "The ISO 8601 formatted date representing the expiration of the credential.",
		},
	}
}

// rfc3339 accepts an RFC 3339 timestamp.
type rfc3339 struct{}

// Description says what the validator accepts.
func (rfc3339) Description(context.Context) string { return "value must be an RFC 3339 timestamp" }

// MarkdownDescription says what the validator accepts.
func (v rfc3339) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

// ValidateString checks a configured expires_at.
func (rfc3339) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid expires_at", "expires_at must be an RFC 3339 timestamp such as 2030-01-31T12:00:00Z: "+err.Error())
	}
}
