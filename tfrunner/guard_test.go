package tfrunner

import (
	"crypto/rsa"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-version"
	tfjson "github.com/hashicorp/terraform-json"

	"rekey/keys"
)

var (
	testKeysOnce sync.Once
	testKeys     []*rsa.PrivateKey
)

// testKey returns the i-th of three RSA keys shared by the guard tests.
func testKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for range 3 {
			k, err := keys.Generate(keys.MinBits)
			if err != nil {
				t.Fatal(err)
			}
			testKeys = append(testKeys, k)
		}
	})
	return testKeys[i]
}

// cred is a credentials element as `terraform show -json` prints it.
func cred(t *testing.T, key int, name, id string) map[string]any {
	t.Helper()
	pem, err := keys.PublicPEM(&testKey(t, key).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"id": id, "name": name, "credential_type": "public_key", "algorithm": "RS256", "pem": string(pem),
		"expires_at": nil, "parse_expiry_from_cert": false}
}

func kidOf(t *testing.T, key int) string { return keys.Thumbprint(&testKey(t, key).PublicKey) }

func credsValue(items ...map[string]any) map[string]any {
	list := make([]any, len(items))
	for i, it := range items {
		list[i] = it
	}
	return map[string]any{"client_id": "abc", "private_key_jwt": []any{map[string]any{"credentials": list}}}
}

const credsAddr = "auth0_client_credentials.billing"

func plan(actions tfjson.Actions, before, after, afterUnknown map[string]any, others ...*tfjson.ResourceChange) *tfjson.Plan {
	rc := &tfjson.ResourceChange{Address: credsAddr, Type: "auth0_client_credentials",
		Change: &tfjson.Change{Actions: actions, Before: before, After: after, AfterUnknown: afterUnknown}}
	return &tfjson.Plan{ResourceChanges: append([]*tfjson.ResourceChange{rc}, others...)}
}

// unknownNew marks the computed attributes of the element at index i as unknown.
func unknownNew(n, i int) map[string]any {
	items := make([]any, n)
	for j := range items {
		items[j] = map[string]any{}
	}
	items[i] = map[string]any{"id": true, "key_id": true, "created_at": true, "updated_at": true, "expires_at": true}
	return map[string]any{"private_key_jwt": []any{map[string]any{"credentials": items}}}
}

func rules(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	slices.Sort(out)
	return out
}

func guard(t *testing.T, p *tfjson.Plan, in Intent, provider string) []Finding {
	t.Helper()
	s, err := ReadPlan(p, credsAddr)
	if err != nil {
		t.Fatal(err)
	}
	var v *version.Version
	if provider != "" {
		v = version.Must(version.NewVersion(provider))
	}
	return Guard(s, in, v)
}

func TestGuardAllowsTheIntendedAttach(t *testing.T) {
	old := cred(t, 0, "current", "cred_A")
	p := plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(old, cred(t, 1, "next", "")), unknownNew(2, 1))
	s, err := ReadPlan(p, credsAddr)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Credentials.Added) != 1 || s.Credentials.Added[0].KID != kidOf(t, 1) || len(s.Credentials.Kept) != 1 || s.Credentials.Kept[0].ID != "cred_A" {
		t.Fatalf("summary: %+v", s.Credentials)
	}
	if fs := Guard(s, Intent{Credentials: credsAddr, AddKID: kidOf(t, 1)}, version.Must(version.NewVersion("1.55.0"))); len(fs) != 0 {
		t.Fatalf("findings for the intended attach: %+v", fs)
	}
}

func TestGuardAllowsTheIntendedRetire(t *testing.T) {
	old, next := cred(t, 0, "current", "cred_A"), cred(t, 1, "next", "cred_B")
	p := plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old, next), credsValue(next), nil)
	if fs := guard(t, p, Intent{Credentials: credsAddr, RemoveKID: kidOf(t, 0)}, "1.55.0"); len(fs) != 0 {
		t.Fatalf("findings for the intended retire: %+v", fs)
	}
}

// TestGuardIgnoresRepresentation: the providers write the same credential differently (null,
// false or "" for absent values; timestamps with or without milliseconds; a set element listed
// anywhere, its computed attributes unknown after a set change). None of it is a change.
func TestGuardIgnoresRepresentation(t *testing.T) {
	old, next := cred(t, 0, "current", "cred_A"), cred(t, 1, "next", "")
	old["parse_expiry_from_cert"], old["expires_at"] = nil, nil
	oldAfter := cred(t, 0, "current", "cred_A")
	oldAfter["parse_expiry_from_cert"], oldAfter["expires_at"] = false, ""
	dated := cred(t, 0, "current", "cred_A")
	dated["expires_at"] = "2030-01-01T00:00:06Z"
	datedAfter := cred(t, 0, "current", "cred_A")
	datedAfter["expires_at"] = "2030-01-01T00:00:06.000Z"
	// The real provider lists the survivor second and marks both elements' computed values unknown.
	bothUnknown := map[string]any{"private_key_jwt": []any{map[string]any{"credentials": []any{
		map[string]any{"id": true, "key_id": true, "created_at": true, "updated_at": true, "expires_at": true},
		map[string]any{"id": true, "key_id": true, "created_at": true, "updated_at": true, "expires_at": true},
	}}}}
	addNext := Intent{Credentials: credsAddr, AddKID: kidOf(t, 1)}
	for name, p := range map[string]*tfjson.Plan{
		"null, false and empty":       plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(oldAfter, next), nil),
		"milliseconds":                plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(dated), credsValue(datedAfter, next), nil),
		"set order, unknown computed": plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(dated), credsValue(next, datedAfter), bothUnknown),
	} {
		t.Run(name, func(t *testing.T) {
			if fs := guard(t, p, addNext, "1.54.1"); len(fs) != 0 {
				t.Fatalf("findings: %+v", fs)
			}
		})
	}
}

func TestGuardFindings(t *testing.T) {
	old, next, third := cred(t, 0, "current", "cred_A"), cred(t, 1, "next", "cred_B"), cred(t, 2, "third", "")
	renamed := cred(t, 1, "current", "")
	expiring := cred(t, 0, "current", "cred_A")
	expiring["expires_at"] = "2030-01-01T00:00:00.000Z"
	parsing := cred(t, 0, "current", "cred_A")
	parsing["parse_expiry_from_cert"] = true
	reformatted := cred(t, 0, "current", "cred_A")
	reformatted["parse_expiry_from_cert"], reformatted["pem"] = true, strings.TrimSpace(old["pem"].(string))
	unread := cred(t, 0, "current", "cred_A") // as a refresh reads it after an interrupted apply lost the state's pem
	unread["pem"], unread["key_id"] = "", kidOf(t, 0)
	nextParsing := cred(t, 1, "next", "cred_B")
	nextParsing["parse_expiry_from_cert"] = true
	ps256 := cred(t, 0, "current", "")
	ps256["algorithm"] = "PS256"
	unknownExpiry := map[string]any{"private_key_jwt": []any{map[string]any{"credentials": []any{map[string]any{"expires_at": true}, map[string]any{}}}}}
	client := &tfjson.ResourceChange{Address: "auth0_client.billing", Type: "auth0_client", Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionDelete, tfjson.ActionCreate}}}
	other := &tfjson.ResourceChange{Address: "auth0_client.other", Type: "auth0_client", Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionUpdate}}}
	otherKeys := &tfjson.ResourceChange{Address: `auth0_client_credentials.all["reporting"]`, Type: "auth0_client_credentials", Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionUpdate}}}
	addNext := Intent{Credentials: credsAddr, Client: "auth0_client.billing", AddKID: kidOf(t, 1)}
	removeOld := Intent{Credentials: credsAddr, RemoveKID: kidOf(t, 0)}

	cases := []struct {
		name     string
		plan     *tfjson.Plan
		intent   Intent
		provider string
		want     []string
	}{
		{"replace of the credentials", plan(tfjson.Actions{tfjson.ActionDelete, tfjson.ActionCreate}, credsValue(old), credsValue(old, next), nil), addNext, "1.55.0", []string{RuleReplace}},
		{"replace of the client", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(old, next), nil, client), addNext, "1.55.0", []string{RuleReplace}},
		{"legacy provider", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(old, next), nil), addNext, "1.46.0", []string{RuleProviderVersion}},
		{"rename while retiring", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old, next), credsValue(renamed), nil), removeOld, "1.55.0", []string{RuleRename, RuleUnintended, RuleUnintended}},
		{"third credential", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old, next), credsValue(old, next, third), nil), Intent{Credentials: credsAddr, AddKID: kidOf(t, 2)}, "1.55.0", []string{RuleTooMany}},
		{"last key", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(), nil), removeOld, "1.55.0", []string{RuleLastKey}},
		{"wrong key added", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(old, third), nil), addNext, "1.55.0", []string{RuleUnintended}},
		{"extra removal", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old, next), credsValue(cred(t, 2, "third", "")), nil), Intent{Credentials: credsAddr, AddKID: kidOf(t, 2)}, "1.55.0", []string{RuleUnintended}},
		{"survivor altered", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(expiring, next), nil), addNext, "1.55.0", []string{RuleAltered}},
		{"survivor expiry unknown", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(old, next), unknownExpiry), addNext, "1.55.0", nil},
		{"survivor expiry removed", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(expiring, next), credsValue(next, old), nil), Intent{Credentials: credsAddr}, "1.55.0", []string{RuleAltered}},
		{"survivor stops parsing its certificate", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(parsing), credsValue(old, next), nil), addNext, "1.55.0", []string{RuleAltered}},
		{"survivor algorithm changed", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(ps256, next), nil), addNext, "1.55.0", []string{RuleRename, RuleUnintended, RuleUnintended}},
		{"survivor catches up with its parse flag on 1.54", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(parsing, next), nil), addNext, "1.54.1", nil},
		{"survivor catches up with its parse flag on 1.55", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(parsing, next), nil), addNext, "1.55.0", []string{RuleAltered}},
		{"survivor's parse flag with other pem text", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(reformatted, next), nil), addNext, "1.54.1", []string{RuleAltered}},
		{"survivor without pem in the state catches up", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(unread), credsValue(parsing, next), nil), addNext, "1.54.1", nil},
		{"attach already in the state", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old, next), credsValue(parsing, next), nil), addNext, "1.54.1", nil},
		{"retire already in the state", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(next), credsValue(nextParsing), nil), removeOld, "1.54.1", nil},
		{"retire already in the state, another key added", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(next), credsValue(next, third), nil), removeOld, "1.54.1", []string{RuleUnintended}},
		{"other resource", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(old, next), nil, other), addNext, "1.55.0", []string{RuleOtherResources}},
		{"another client's credentials, from shared data", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(old, next), nil, otherKeys), Intent{Credentials: credsAddr, AddKID: kidOf(t, 1), AcceptOther: []string{otherKeys.Address}}, "1.55.0", []string{RuleOtherKeys}},
		{"other resource accepted", plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old), credsValue(old, next), nil, other), Intent{Credentials: credsAddr, AddKID: kidOf(t, 1), AcceptOther: []string{"auth0_client.other"}}, "1.55.0", nil},
		{"credentials untouched", &tfjson.Plan{}, addNext, "1.55.0", []string{RuleUnintended}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := guard(t, c.plan, c.intent, c.provider)
			if got := rules(fs); !slices.Equal(got, c.want) {
				t.Fatalf("rules %v, want %v: %+v", got, c.want, fs)
			}
			for _, f := range fs {
				if f.Message == "" || f.Address == "" {
					t.Errorf("finding without message or address: %+v", f)
				}
				if f.Acceptable != (f.Rule == RuleOtherResources) {
					t.Errorf("%s: acceptable = %v", f.Rule, f.Acceptable)
				}
			}
		})
	}
}

// TestGuardRenameSaysWhatTheProviderWouldDo: a rename fails halfway on 1.47–1.54 (create
// first, refused as a duplicate key) and detaches the key on 1.55 (delete first).
func TestGuardRenameSaysWhatTheProviderWouldDo(t *testing.T) {
	old, next := cred(t, 0, "current", "cred_A"), cred(t, 1, "next", "cred_B")
	renamed := cred(t, 1, "current", "")
	p := plan(tfjson.Actions{tfjson.ActionUpdate}, credsValue(old, next), credsValue(renamed), nil)
	for provider, want := range map[string]string{"1.54.1": "already exist in client", "1.55.0": "detaches and deletes it"} {
		fs := guard(t, p, Intent{Credentials: credsAddr, RemoveKID: kidOf(t, 0)}, provider)
		i := slices.IndexFunc(fs, func(f Finding) bool { return f.Rule == RuleRename })
		if i < 0 || !strings.Contains(fs[i].Message, want) {
			t.Errorf("provider %s: rename finding %+v, want one saying %q", provider, fs, want)
		}
	}
}
