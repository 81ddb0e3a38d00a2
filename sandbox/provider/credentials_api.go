package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/auth0/go-auth0/management"
)

// credentialAPI makes the Management API calls that change one client's credentials.
type credentialAPI struct {
	api      *management.Management
	clientID string
}

// credentialRef is a credential in an attached list: only its id, as PATCH requires.
type credentialRef struct {
	ID string `json:"id"`
}

// privateKeyJWTMethod is client_authentication_methods with the private_key_jwt method.
type privateKeyJWTMethod struct {
	PrivateKeyJWT struct {
		Credentials []credentialRef `json:"credentials"`
	} `json:"private_key_jwt"`
}

// authMethodPatch is a client PATCH whose nil fields are sent as JSON null, which
// go-auth0's Client.Update cannot do.
type authMethodPatch struct {
	ClientAuthenticationMethods *privateKeyJWTMethod `json:"client_authentication_methods"`
	TokenEndpointAuthMethod     *string              `json:"token_endpoint_auth_method"`
}

// appType returns the client's app_type; found is false when the client does not exist.
func (a credentialAPI) appType(ctx context.Context) (appType string, found bool, err error) {
	c, err := a.api.Client.Read(ctx, a.clientID, management.IncludeFields("client_id", "app_type"))
	if isNotFound(err) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("read client %s: %w", a.clientID, err)
	}
	return c.GetAppType(), true, nil
}

// create adds c to the client's pool (not attached) and returns it with the API's values.
func (a credentialAPI) create(ctx context.Context, c credentialModel) (credentialModel, error) {
	cred := c.toAPI()
	if err := a.api.Client.CreateCredential(ctx, a.clientID, cred); err != nil {
		return c, fmt.Errorf("create credential %s: %w", describe(c), err)
	}
	return c.withAPI(cred), nil
}

// attach makes ids the client's whole private_key_jwt list.
func (a credentialAPI) attach(ctx context.Context, ids []string) error {
	m := &privateKeyJWTMethod{}
	m.PrivateKeyJWT.Credentials = []credentialRef{}
	for _, id := range ids {
		m.PrivateKeyJWT.Credentials = append(m.PrivateKeyJWT.Credentials, credentialRef{ID: id})
	}
	body := authMethodPatch{ClientAuthenticationMethods: m}
	if err := a.api.Request(ctx, "PATCH", a.api.URI("clients", a.clientID), body); err != nil {
		return fmt.Errorf("attach credentials [%s] to client %s: %w", strings.Join(ids, ", "), a.clientID, err)
	}
	return nil
}

// revert removes client_authentication_methods and sets token_endpoint_auth_method.
func (a credentialAPI) revert(ctx context.Context, method string) error {
	body := authMethodPatch{TokenEndpointAuthMethod: &method}
	if err := a.api.Request(ctx, "PATCH", a.api.URI("clients", a.clientID), body); err != nil {
		return fmt.Errorf("set client %s to %s: %w", a.clientID, method, err)
	}
	return nil
}

// remove deletes a credential from the pool; one that is already gone counts as deleted.
func (a credentialAPI) remove(ctx context.Context, id string) error {
	if err := a.api.Client.DeleteCredential(ctx, a.clientID, id); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete credential %s of client %s: %w", id, a.clientID, err)
	}
	return nil
}

// pool lists every credential of the client, attached or not.
func (a credentialAPI) pool(ctx context.Context) ([]*management.Credential, error) {
	creds, err := a.api.Client.ListCredentials(ctx, a.clientID)
	if err != nil {
		return nil, fmt.Errorf("list credentials of client %s: %w", a.clientID, err)
	}
	return creds, nil
}

// setExpiry changes a credential's expires_at, the only field the API lets a PATCH change.
func (a credentialAPI) setExpiry(ctx context.Context, c credentialModel) (credentialModel, error) {
	at, ok := c.expiry()
	if !ok {
		return c, fmt.Errorf("credential %s: expires_at %q is not an RFC 3339 timestamp", c.ID.ValueString(), c.ExpiresAt.ValueString())
	}
	cred := &management.Credential{ExpiresAt: &at}
	if err := a.api.Client.UpdateCredential(ctx, a.clientID, c.ID.ValueString(), cred); err != nil {
		return c, fmt.Errorf("set expires_at of credential %s: %w", c.ID.ValueString(), err)
	}
	return c.withAPI(cred), nil
}

// defaultAuthMethod is the token_endpoint_auth_method Auth0 gives a client of appType.
func defaultAuthMethod(appType string) string {
	switch appType {
	case "native", "spa":
		return "none"
	case "regular_web", "non_interactive":
		return "client_secret_post"
	default:
		return "client_secret_basic"
	}
}

// describe names a credential in messages by its name or key, never by its whole PEM.
func describe(c credentialModel) string {
	if name := c.Name.ValueString(); name != "" {
		return fmt.Sprintf("%q", name)
	}
	if kid := thumbprintOf(c.PEM.ValueString()); kid != "" {
		return "with kid " + kid
	}
	return "(unnamed)"
}
