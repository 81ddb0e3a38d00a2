package sandbox

import (
	"fmt"
	"net/http"
	"regexp"
	"time"
)

func (m *managementAPI) listCredentials(r *http.Request) (int, any, error) {
	creds, err := m.tenant.Credentials(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	views := make([]map[string]any, 0, len(creds))
	for _, cr := range creds {
		views = append(views, credentialView(cr))
	}
	return http.StatusOK, views, nil
}

var kidPattern = regexp.MustCompile(`^[0-9a-zA-Z\-_]{10,64}$`)

func (m *managementAPI) createCredential(r *http.Request) (int, any, error) {
	var body struct {
		CredentialType      string  `json:"credential_type"`
		Name                string  `json:"name"`
		PEM                 string  `json:"pem"`
		Alg                 string  `json:"alg"`
		ParseExpiryFromCert bool    `json:"parse_expiry_from_cert"`
		ExpiresAt           *string `json:"expires_at"`
		KID                 string  `json:"kid"`
	}
	if err := decodeStrict(r, &body); err != nil {
		return 0, nil, err
	}
	switch {
	case body.CredentialType == "":
		return 0, nil, badRequest("Payload validation error: 'Missing required property: credential_type'.", "invalid_body")
	case body.CredentialType != "public_key":
		return 0, nil, badRequest(fmt.Sprintf("The sandbox supports credential_type public_key only (the type Private Key JWT uses), not %q.", body.CredentialType), "invalid_body")
	case body.PEM == "":
		return 0, nil, badRequest("Payload validation error: 'Missing required property: pem'.", "invalid_body")
	case body.KID != "" && !kidPattern.MatchString(body.KID):
		return 0, nil, badRequest("Payload validation error: 'String does not match pattern ^[0-9a-zA-Z-_]{10,64}$' on property kid.", "invalid_body")
	}
	in := NewCredential{Name: body.Name, PEM: body.PEM, Alg: body.Alg, ParseExpiryFromCert: body.ParseExpiryFromCert, KID: body.KID}
	if body.ExpiresAt != nil {
		at, err := time.Parse(time.RFC3339, *body.ExpiresAt)
		if err != nil {
			return 0, nil, badRequest("Payload validation error: 'Object didn't pass validation for format date-time' on property expires_at.", "invalid_body")
		}
		in.ExpiresAt = &at
	}
	cr, err := m.tenant.CreateCredential(r.PathValue("id"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, credentialView(cr), nil
}

func (m *managementAPI) getCredential(r *http.Request) (int, any, error) {
	cr, err := m.tenant.Credential(r.PathValue("id"), r.PathValue("cred"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, credentialView(cr), nil
}

func (m *managementAPI) patchCredential(r *http.Request) (int, any, error) {
	var body struct {
		ExpiresAt *string `json:"expires_at"`
	}
	if err := decodeStrict(r, &body); err != nil {
		return 0, nil, err
	}
	if body.ExpiresAt == nil {
		return 0, nil, badRequest("Payload validation error: expires_at (a date-time) is the only property that can be changed, and it is required.", "invalid_body")
	}
	at, err := time.Parse(time.RFC3339, *body.ExpiresAt)
	if err != nil {
		return 0, nil, badRequest("Payload validation error: 'Object didn't pass validation for format date-time' on property expires_at.", "invalid_body")
	}
	cr, err := m.tenant.SetCredentialExpiry(r.PathValue("id"), r.PathValue("cred"), at)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, credentialView(cr), nil
}

func (m *managementAPI) deleteCredential(r *http.Request) (int, any, error) {
	return noContent(m.tenant.DeleteCredential(r.PathValue("id"), r.PathValue("cred")))
}

// credentialView renders a credential without its pem, with Auth0's millisecond timestamps.
func credentialView(cr Credential) map[string]any {
	v := map[string]any{
		"id": cr.ID, "credential_type": cr.CredentialType, "kid": cr.KID, "alg": cr.Alg,
		"created_at": cr.CreatedAt.UTC().Format(timeFormat), "updated_at": cr.UpdatedAt.UTC().Format(timeFormat),
	}
	if cr.Name != "" {
		v["name"] = cr.Name
	}
	if cr.ExpiresAt != nil {
		v["expires_at"] = cr.ExpiresAt.UTC().Format(timeFormat)
	}
	return v
}
