package tfrunner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-version"
	tfjson "github.com/hashicorp/terraform-json"
)

// Intent is the one credential change a rotation step means to make.
type Intent struct {
	Credentials string   // address of the auth0_client_credentials resource
	Client      string   // address of its auth0_client resource, when the workspace manages it
	AddKID      string   // attach: the kid of the one credential to add
	RemoveKID   string   // retire: the kid of the one credential to remove
	AcceptOther []string // addresses of other resources whose changes the operator accepted by name
}

// Finding is a reason not to apply a plan. Acceptable findings (changes to other resources)
// may be accepted by the operator by naming the resource; the others always block.
type Finding struct {
	Rule       string
	Address    string
	Message    string
	Acceptable bool
}

// Guard rules.
const (
	RuleReplace         = "replace"
	RuleRename          = "rename"
	RuleTooMany         = "too-many"
	RuleLastKey         = "last-key"
	RuleUnintended      = "unintended"
	RuleAltered         = "altered"
	RuleOtherResources  = "other-resources"
	RuleOtherKeys       = "other-credentials"
	RuleProviderVersion = "provider-version"
)

// MaxAttached is how many private_key_jwt credentials Auth0 lets a client have attached.
const MaxAttached = 2

// safeProvider is the first auth0 provider version that updates credentials in place.
var safeProvider = version.Must(version.NewVersion("1.47.0"))

// ProviderSource is the registry address of the auth0 provider.
const ProviderSource = "registry.terraform.io/auth0/auth0"

// Guard returns the findings that block applying a plan summarised by s for intent in, with
// the auth0 provider at version provider (nil when unknown). No findings means safe to apply.
func Guard(s PlanSummary, in Intent, provider *version.Version) []Finding {
	var out []Finding
	if provider != nil && provider.LessThan(safeProvider) {
		out = append(out, Finding{Rule: RuleProviderVersion, Address: in.Credentials, Message: fmt.Sprintf(
			"auth0 provider %s replaces the whole auth0_client_credentials resource on any credential change: "+
				"every key is deleted before the new set is created, an outage for every service using this client. "+
				"Upgrade the provider to %s or later (version constraint in required_providers, then terraform init -upgrade).", provider, safeProvider)})
	}
	for _, c := range s.Changes {
		switch {
		case (c.Address == in.Credentials || c.Address == in.Client) && slices.Contains(c.Actions, tfjson.ActionDelete):
			out = append(out, Finding{Rule: RuleReplace, Address: c.Address, Message: fmt.Sprintf(
				"the plan would %s %s; that deletes the client's keys (an outage). rekey only applies in-place credential changes.", c.Action(), c.Address)})
		case c.Address != in.Credentials && c.Type == "auth0_client_credentials":
			out = append(out, Finding{Rule: RuleOtherKeys, Address: c.Address, Message: fmt.Sprintf(
				"the plan would also %s %s, another client's credentials: the data the edit changed feeds both, so one client's key would reach another. Give each client its own list of keys, then run rekey again.", c.Action(), c.Address)})
		case c.Address != in.Credentials && !slices.Contains(in.AcceptOther, c.Address):
			out = append(out, Finding{Rule: RuleOtherResources, Address: c.Address, Acceptable: true, Message: fmt.Sprintf(
				"the plan would also %s %s, which this rotation does not change; review it, and accept it by name only if it is expected drift.", c.Action(), c.Address)})
		}
	}
	return append(out, credentialFindings(s.Credentials, in, provider)...)
}

// renameFirstDeletes is the first provider version that, on a rename, detaches and deletes the
// credential before adding it again; earlier versions (1.47–1.54) create the renamed one first,
// which Auth0 refuses for a key the client already has.
var renameFirstDeletes = version.Must(version.NewVersion("1.55.0"))

// renameEffect says what the provider at version v does to a credential renamed in place.
func renameEffect(v *version.Version) string {
	switch {
	case v == nil:
		return "depending on the provider version, the apply either fails halfway (1.47–1.54 create the renamed credential first, and Auth0 refuses a key the client already has) or detaches and recreates it, leaving services on that key without a credential (1.55 and later)"
	case v.LessThan(renameFirstDeletes):
		return fmt.Sprintf("provider %s creates the renamed credential first, which Auth0 refuses (400: credentials contains public keys that already exist in client), so the apply fails halfway", v)
	}
	return fmt.Sprintf("provider %s detaches and deletes it before adding it again, leaving services on that key without a credential", v)
}

// parseFlagStateOnly are the provider versions whose update, as read in the v1.54.1 source,
// keeps a credential whose parse_expiry_from_cert goes from false to true with the same pem
// and algorithm: nothing is sent to Auth0 and the state takes the configured flag. Other
// versions are not known to, so there the change stays a finding.
var parseFlagStateOnly = version.MustConstraints(version.NewConstraint(">= 1.54.0, < 1.55.0"))

// credentialFindings checks that exactly the intended credential is added or removed, that no
// surviving credential changes, and that the client keeps between one and two credentials.
func credentialFindings(cc *CredentialsChange, in Intent, provider *version.Version) []Finding {
	if cc == nil {
		return []Finding{{Rule: RuleUnintended, Address: in.Credentials, Message: "the plan does not change the credentials of " + in.Credentials + "; the HCL edit did not take effect."}}
	}
	finding := func(rule, format string, args ...any) Finding {
		return Finding{Rule: rule, Address: cc.Address, Message: fmt.Sprintf(format, args...)}
	}
	var out []Finding
	for _, r := range cc.Removed {
		if slices.ContainsFunc(cc.Added, func(a PlannedCredential) bool { return a.KID == r.KID }) {
			out = append(out, finding(RuleRename,
				"credential %q (kid %s) would be renamed or changed while keeping its key: %s. Keep surviving credentials byte-identical.", r.Name, r.KID, renameEffect(provider)))
		}
	}
	for _, a := range cc.Altered {
		if a.parseFlagCatchUp() && provider != nil && parseFlagStateOnly.Check(provider) {
			continue
		}
		out = append(out, finding(RuleAltered, "surviving credential %q (kid %s) would change (%s); a rotation step changes nothing but the one credential it adds or removes.", a.Before.Name, a.Before.KID, a.Describe()))
	}
	if cc.After > MaxAttached {
		out = append(out, finding(RuleTooMany, "the plan leaves %d credentials; Auth0 allows %d attached at once. Retire the old key before adding another.", cc.After, MaxAttached))
	}
	if cc.After == 0 {
		out = append(out, finding(RuleLastKey, "the plan removes the last credential; the client could no longer authenticate. rekey never removes the last key."))
	}
	// A resumed step's own change may already be in the state (an apply that failed after
	// making it): then the plan must neither make it again nor anything else.
	wantAdd, wantRemove := kidList(in.AddKID), kidList(in.RemoveKID)
	if slices.ContainsFunc(cc.Kept, func(c PlannedCredential) bool { return c.KID == in.AddKID }) {
		wantAdd = nil
	}
	if !slices.ContainsFunc(slices.Concat(cc.Kept, cc.Removed), func(c PlannedCredential) bool { return c.KID == in.RemoveKID }) {
		wantRemove = nil
	}
	if want, got := wantAdd, kids(cc.Added); !slices.Equal(want, got) {
		out = append(out, finding(RuleUnintended, "the plan adds credentials %s; this step adds exactly %s.", describe(got), describe(want)))
	}
	if want, got := wantRemove, kids(cc.Removed); !slices.Equal(want, got) {
		out = append(out, finding(RuleUnintended, "the plan removes credentials %s; this step removes exactly %s.", describe(got), describe(want)))
	}
	return out
}

func kidList(kid string) []string {
	if kid == "" {
		return nil
	}
	return []string{kid}
}

func kids(cs []PlannedCredential) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.KID)
	}
	slices.Sort(out)
	return out
}

func describe(kids []string) string {
	if len(kids) == 0 {
		return "none"
	}
	return "[" + strings.Join(kids, ", ") + "]"
}
