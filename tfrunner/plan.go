package tfrunner

import (
	"fmt"
	"slices"

	tfjson "github.com/hashicorp/terraform-json"

	"rekey/keys"
)

// PlanSummary is what a saved plan will do, read from `terraform show -json`.
type PlanSummary struct {
	Changes     []ResourceChange   // resources the plan creates, updates, replaces or deletes
	Credentials *CredentialsChange // the credentials resource the rotation targets; nil if untouched
}

// ResourceChange is one resource's planned action.
type ResourceChange struct {
	Address string
	Type    string
	Actions tfjson.Actions
}

// Action is a short word for the change: create, update, delete or replace.
func (c ResourceChange) Action() string {
	switch {
	case c.Actions.Replace():
		return "replace"
	case c.Actions.Create():
		return "create"
	case c.Actions.Delete():
		return "delete"
	default:
		return "update"
	}
}

// CredentialsChange is the planned change to one auth0_client_credentials resource's
// private_key_jwt credentials, matched by their identity (name, type, algorithm and pem).
type CredentialsChange struct {
	Address string
	Added   []PlannedCredential
	Removed []PlannedCredential
	Kept    []PlannedCredential
	// Altered lists kept credentials whose other attributes (expiry, parse_expiry_from_cert) change.
	Altered []PlannedCredential
	After   int // credentials after the apply
}

// PlannedCredential is a credential as the plan shows it; its kid is computed from the pem.
type PlannedCredential struct {
	ID        string // cred_…; empty for one not yet created
	Name      string
	Algorithm string
	KID       string
	pem       string
	rest      map[string]any // the other configurable attributes, for detecting alterations
}

// configurable credential attributes that are not part of a credential's identity.
var alterableAttributes = []string{"expires_at", "parse_expiry_from_cert"}

// ReadPlan summarises a saved plan; credentialsAddress names the resource whose credentials
// are described in detail.
func ReadPlan(plan *tfjson.Plan, credentialsAddress string) (PlanSummary, error) {
	var s PlanSummary
	for _, rc := range plan.ResourceChanges {
		if rc.Change == nil || rc.Change.Actions.NoOp() || rc.Change.Actions.Read() {
			continue
		}
		s.Changes = append(s.Changes, ResourceChange{Address: rc.Address, Type: rc.Type, Actions: rc.Change.Actions})
		if rc.Address != credentialsAddress {
			continue
		}
		cc, err := readCredentialsChange(rc)
		if err != nil {
			return s, err
		}
		s.Credentials = cc
	}
	return s, nil
}

func readCredentialsChange(rc *tfjson.ResourceChange) (*CredentialsChange, error) {
	before, err := plannedCredentials(rc.Change.Before, nil)
	if err != nil {
		return nil, fmt.Errorf("%s before: %w", rc.Address, err)
	}
	after, err := plannedCredentials(rc.Change.After, rc.Change.AfterUnknown)
	if err != nil {
		return nil, fmt.Errorf("%s after: %w", rc.Address, err)
	}
	cc := &CredentialsChange{Address: rc.Address, After: len(after)}
	for _, b := range before {
		i := slices.IndexFunc(after, b.sameIdentity)
		if i < 0 {
			cc.Removed = append(cc.Removed, b)
			continue
		}
		cc.Kept = append(cc.Kept, b)
		if !b.sameAttributes(after[i]) {
			cc.Altered = append(cc.Altered, b)
		}
	}
	for _, a := range after {
		if !slices.ContainsFunc(before, a.sameIdentity) {
			cc.Added = append(cc.Added, a)
		}
	}
	return cc, nil
}

func (c PlannedCredential) sameIdentity(o PlannedCredential) bool {
	return c.Name == o.Name && c.Algorithm == o.Algorithm && c.pem == o.pem
}

func (c PlannedCredential) sameAttributes(o PlannedCredential) bool {
	for _, k := range alterableAttributes {
		if c.rest[k] != o.rest[k] {
			return false
		}
	}
	return true
}

// unknownValue stands for an attribute whose value is known only after the apply; it equals
// no real value, so a kept credential whose attribute turns unknown counts as altered.
type unknownValue struct{}

// plannedCredentials reads private_key_jwt[0].credentials from a before or after value, with
// the matching after_unknown value (nil for before).
func plannedCredentials(value, unknown any) ([]PlannedCredential, error) {
	items := credentialItems(value)
	unknownItems := credentialItems(unknown)
	var out []PlannedCredential
	for i, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a credentials entry is not an object")
		}
		c := PlannedCredential{
			ID: str(m["id"]), Name: str(m["name"]), Algorithm: str(m["algorithm"]), pem: str(m["pem"]),
			KID: str(m["key_id"]), rest: map[string]any{},
		}
		if c.Algorithm == "" {
			c.Algorithm = "RS256"
		}
		if pub, err := keys.ParsePublic([]byte(c.pem)); pub.Key != nil {
			c.KID = keys.Thumbprint(pub.Key)
		} else if c.KID == "" {
			return nil, fmt.Errorf("credential %q: pem is not a public key or certificate: %w", c.Name, err)
		}
		var unknownAttrs map[string]any
		if i < len(unknownItems) {
			unknownAttrs, _ = unknownItems[i].(map[string]any)
		}
		for _, k := range alterableAttributes {
			c.rest[k] = m[k]
			if unknownAttrs[k] == true {
				c.rest[k] = unknownValue{}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// credentialItems returns the private_key_jwt[0].credentials list of a resource value.
func credentialItems(value any) []any {
	obj, _ := value.(map[string]any)
	blocks, _ := obj["private_key_jwt"].([]any)
	if len(blocks) == 0 {
		return nil
	}
	block, _ := blocks[0].(map[string]any)
	items, _ := block["credentials"].([]any)
	return items
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
