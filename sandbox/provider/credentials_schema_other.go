package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// The blocks below are the real provider's other credential-based methods. The stand-in does
// not implement them (ValidateConfig refuses them); they are declared so that its state and
// plans hold the same attributes as the real provider's, always as empty lists.

// tlsClientAuthBlock is tls_client_auth: CA-based mTLS credentials.
func tlsClientAuthBlock() schema.ListNestedBlock {
	return methodBlock("Defines tls_client_auth client authentication method.", map[string]schema.Attribute{
		"id":              computedString("The ID of the client credential."),
		"name":            optionalString("Friendly name for a credential."),
		"credential_type": schema.StringAttribute{Required: true, Description: "Credential type. Supported types: cert_subject_dn."},
		"subject_dn":      schema.StringAttribute{Optional: true, Computed: true, Description: "Subject Distinguished Name."},
		"pem":             optionalString("PEM-formatted X509 certificate."),
		"created_at":      computedString("The ISO 8601 formatted date the credential was created."),
		"updated_at":      computedString("The ISO 8601 formatted date the credential was updated."),
	})
}

// selfSignedTLSClientAuthBlock is self_signed_tls_client_auth: mTLS with self-signed certificates.
func selfSignedTLSClientAuthBlock() schema.ListNestedBlock {
	return methodBlock("Defines self_signed_tls_client_auth client authentication method.", map[string]schema.Attribute{
		"id":                computedString("The ID of the client credential."),
		"name":              optionalString("Friendly name for a credential."),
		"credential_type":   optionalString("Credential type. Supported types: x509_cert."),
		"pem":               schema.StringAttribute{Required: true, Description: "PEM-formatted X509 certificate."},
		"thumbprint_sha256": computedString("The X509 certificate's SHA256 thumbprint."),
		"created_at":        computedString("The ISO 8601 formatted date the credential was created."),
		"updated_at":        computedString("The ISO 8601 formatted date the credential was updated."),
		"expires_at":        computedString("The ISO 8601 formatted date representing the expiration of the credential."),
	})
}

// signedRequestObjectBlock is signed_request_object: JWT-secured authorization requests.
func signedRequestObjectBlock() schema.ListNestedBlock {
	b := methodBlock("Configuration for JWT-secured Authorization Requests (JAR).", credentialAttributes())
	b.NestedObject.Attributes = map[string]schema.Attribute{
		"required": schema.BoolAttribute{Optional: true, Computed: true, Description: "Require JWT-secured authorization requests."},
	}
	return b
}

// methodBlock is a block of at most one holding a list of credentials with attrs.
func methodBlock(description string, attrs map[string]schema.Attribute) schema.ListNestedBlock {
	return schema.ListNestedBlock{
		Validators:  []validator.List{listvalidator.SizeAtMost(1)},
		Description: description,
		NestedObject: schema.NestedBlockObject{Blocks: map[string]schema.Block{
			"credentials": schema.ListNestedBlock{
				Validators:   []validator.List{listvalidator.IsRequired()},
				NestedObject: schema.NestedBlockObject{Attributes: attrs},
			},
		}},
	}
}

func computedString(description string) schema.StringAttribute {
	return schema.StringAttribute{Computed: true, Description: description}
}

func optionalString(description string) schema.StringAttribute {
	return schema.StringAttribute{Optional: true, Description: description}
}
