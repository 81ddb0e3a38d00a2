package tfrunner

import (
	"fmt"
	"slices"
	"strings"
	"time"

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
// private_key_jwt credentials. Credentials are matched by identity (name, algorithm and the
// key's kid), never by their position in the set.
type CredentialsChange struct {
	Address string
	Added   []PlannedCredential
	Removed []PlannedCredential
	Kept    []PlannedCredential
	// Altered lists kept credentials whose expiry or parse_expiry_from_cert really changes.
	Altered []Alteration
	After   int // credentials after the apply
}

// PlannedCredential is a credential as the plan shows it; its kid is computed from the pem.
type PlannedCredential struct {
	ID          string // cred_…; empty for one not yet created
	Name        string
	Algorithm   string // RS256 when the plan leaves it empty, the provider's default
	KID         string
	ParseExpiry bool // parse_expiry_from_cert; null and false mean the same to the provider
	Expiry      PlannedExpiry
	pem         string // as the plan has it; the provider matches kept credentials by this text
}

// Alteration is a kept credential before and after a plan that really changes it.
type Alteration struct{ Before, After PlannedCredential }

// Describe says what changes, e.g. "expires_at 2030-01-01T00:00:00Z → none".
func (a Alteration) Describe() string {
	var parts []string
	if a.Before.ParseExpiry != a.After.ParseExpiry {
		parts = append(parts, fmt.Sprintf("parse_expiry_from_cert %t → %t", a.Before.ParseExpiry, a.After.ParseExpiry))
	}
	if a.After.Expiry.changedFrom(a.Before.Expiry) {
		parts = append(parts, fmt.Sprintf("expires_at %s → %s", a.Before.Expiry, a.After.Expiry))
	}
	return strings.Join(parts, ", ")
}

// parseFlagCatchUp reports whether the only change is parse_expiry_from_cert going from false
// (or null) to true, with the same pem text (or none in the state, where the provider matches
// by kid) and expiry: what an apply interrupted while reading back leaves in the state of a
// certificate credential configured with the flag.
func (a Alteration) parseFlagCatchUp() bool {
	samePEM := a.Before.pem == a.After.pem || a.Before.pem == ""
	return !a.Before.ParseExpiry && a.After.ParseExpiry && samePEM && !a.After.Expiry.changedFrom(a.Before.Expiry)
}

// PlannedExpiry is a credential's expires_at in a plan: none, a known instant, or unknown
// until the apply. The providers write "no expiry" as null or "", and instants with or without
// milliseconds; those are representation details, not changes.
type PlannedExpiry struct {
	Unknown bool
	At      time.Time // zero: no expiry
}

// String is the expiry as RFC 3339, "none" or "(known after apply)".
func (x PlannedExpiry) String() string {
	switch {
	case x.Unknown:
		return "(known after apply)"
	case x.At.IsZero():
		return "none"
	}
	return x.At.UTC().Format(time.RFC3339)
}

// changedFrom reports whether x, planned after, really changes the expiry before: an expiry
// known after the apply only is not a change (the provider recomputes a set element's
// computed attributes when the set changes; a configured expiry would be known at plan time).
func (x PlannedExpiry) changedFrom(before PlannedExpiry) bool {
	if x.Unknown || before.Unknown {
		return false
	}
	return !x.At.Equal(before.At)
}

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
			cc.Altered = append(cc.Altered, Alteration{Before: b, After: after[i]})
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
	return c.Name == o.Name && c.Algorithm == o.Algorithm && c.KID == o.KID
}

// sameAttributes reports whether after, the same credential planned after the apply, keeps
// c's parse_expiry_from_cert and expiry.
func (c PlannedCredential) sameAttributes(after PlannedCredential) bool {
	return c.ParseExpiry == after.ParseExpiry && !after.Expiry.changedFrom(c.Expiry)
}

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
			ID: str(m["id"]), Name: str(m["name"]), Algorithm: str(m["algorithm"]), KID: str(m["key_id"]),
			ParseExpiry: m["parse_expiry_from_cert"] == true, pem: str(m["pem"]),
		}
		if c.Algorithm == "" {
			c.Algorithm = "RS256"
		}
		if pub, err := keys.ParsePublic([]byte(str(m["pem"]))); pub.Key != nil {
			c.KID = keys.Thumbprint(pub.Key)
		} else if c.KID == "" {
			return nil, fmt.Errorf("credential %q: pem is not a public key or certificate: %w", c.Name, err)
		}
		var unknownAttrs map[string]any
		if i < len(unknownItems) {
			unknownAttrs, _ = unknownItems[i].(map[string]any)
		}
		expiry, err := plannedExpiry(m["expires_at"], unknownAttrs["expires_at"] == true)
		if err != nil {
			return nil, fmt.Errorf("credential %q: %w", c.Name, err)
		}
		c.Expiry = expiry
		out = append(out, c)
	}
	return out, nil
}

// plannedExpiry reads an expires_at value: null or "" is no expiry.
func plannedExpiry(value any, unknown bool) (PlannedExpiry, error) {
	s := str(value)
	if unknown || s == "" {
		return PlannedExpiry{Unknown: unknown}, nil
	}
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return PlannedExpiry{}, fmt.Errorf("expires_at %q is not an RFC 3339 time: %w", s, err)
	}
	return PlannedExpiry{At: at}, nil
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
