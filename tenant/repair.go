package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/auth0/go-auth0/management"
)

// RepairScopes are the Management API scopes RemoveCredential needs on top of rekey's reads.
const RepairScopes = "update:clients delete:client_credentials"

// RemoveCredential detaches the credential credID from the client's private_key_jwt (when
// attached) and deletes it from the client's pool. rekey calls it only for a credential of its
// own that an interrupted Terraform apply left behind, which no Terraform state knows.
func (t *Tenant) RemoveCredential(ctx context.Context, clientID, credID string) error {
	op := fmt.Sprintf("remove credential %s of client %s", credID, clientID)
	c, err := t.Client(ctx, clientID)
	if err != nil {
		return err
	}
	var keep []management.Credential
	detach := false
	for _, cr := range c.Attached() {
		if cr.ID == credID {
			detach = true
			continue
		}
		keep = append(keep, management.Credential{ID: &cr.ID})
	}
	if detach {
		if len(keep) == 0 {
			return fmt.Errorf("%s: it is the client's only attached credential; rekey never removes the last key", op)
		}
		patch := &management.Client{ClientAuthenticationMethods: &management.ClientAuthenticationMethods{
			PrivateKeyJWT: &management.PrivateKeyJWT{Credentials: &keep},
		}}
		if err := t.api.Client.Update(ctx, clientID, patch); err != nil {
			return repairError(t.domain, op, err)
		}
	}
	err = t.api.Client.DeleteCredential(ctx, clientID, credID)
	var me management.Error
	if errors.As(err, &me) && me.Status() == http.StatusNotFound {
		return nil // already gone
	}
	return repairError(t.domain, op, err)
}

// repairError classifies err, naming the scopes a repair needs when the tenant refused it.
func repairError(domain, op string, err error) error {
	if err == nil {
		return nil
	}
	err = classify(domain, op, err)
	if errors.Is(err, ErrUnauthorized) {
		return fmt.Errorf("%w (removing a leftover credential needs the scopes %s)", err, RepairScopes)
	}
	return err
}
