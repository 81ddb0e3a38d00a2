package provider

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"rekey/tfrunner/tftest"
)

// realVersion is the release of the real provider the stand-in is compared with.
const realVersion = "1.54.1"

// credentialsAddress is the resource every shape workspace manages.
const credentialsAddress = "auth0_client_credentials.app"

// shapeCase is a pair of credentials of one kind: the one a workspace starts with and the
// one added next to it (or removed from beside it).
type shapeCase struct {
	name          string
	current, next func(t *testing.T) testKey
}

// keyOf returns a maker of keys named name, shaped by with.
func keyOf(name string, asCert bool, with func(*testKey)) func(t *testing.T) testKey {
	return func(t *testing.T) testKey {
		k := newKey(t, name, asCert)
		if with != nil {
			with(&k)
		}
		return k
	}
}

// expiring sets an explicit expires_at.
func expiring(at string) func(*testKey) { return func(k *testKey) { k.expiresAt = at } }

// writtenOut writes out algorithm as the sandbox's workspace does.
func writtenOut(k *testKey) { k.algorithm = "RS256" }

var shapeCases = []shapeCase{
	{"certificate with parse_expiry_from_cert = true", keyOf("Current", true, nil), keyOf("Next", true, nil)},
	{"certificate with parse_expiry_from_cert = true and algorithm", keyOf("Current", true, writtenOut), keyOf("Next", true, writtenOut)},
	{"public key, parse_expiry_from_cert omitted", keyOf("Current", false, nil), keyOf("Next", false, nil)},
	{"public key, parse_expiry_from_cert = false",
		keyOf("Current", false, func(k *testKey) { k.parseExpiry = "false" }), keyOf("Next", false, func(k *testKey) { k.parseExpiry = "false" })},
	{"public key, expires_at without milliseconds", keyOf("Current", false, expiring("2030-01-01T00:00:00Z")), keyOf("Next", false, expiring("2030-06-01T00:00:00Z"))},
	{"public key, expires_at with milliseconds", keyOf("Current", false, expiring("2030-01-01T00:00:00.000Z")), keyOf("Next", false, expiring("2030-06-01T00:00:00.000Z"))},
	{"public keys without names", keyOf("", false, nil), keyOf("", false, nil)},
}

// TestShapeMatchesRealProvider runs the same workspaces with the stand-in and with the real
// provider against one sandbox, each on clients the sandbox seeded itself, and compares what
// rekey reads: the state after a create, a plan of the unchanged configuration, the plan that
// adds a credential and the plan that removes one. Then each provider takes over a workspace
// the other wrote (terraform init -upgrade to the other version): it must decode the state,
// plan exactly as on its own state, and refresh the state into its own shape.
func TestShapeMatchesRealProvider(t *testing.T) {
	h := newHarness(t)
	h.mirror(t, tftest.RealProvider(t), realVersion)
	for _, sc := range shapeCases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			current, next := sc.current(t), sc.next(t)
			standIn, real := h.observe(t, DefaultVersion, current, next), h.observe(t, realVersion, current, next)
			for _, part := range observedParts {
				if got, want := standIn.parts[part], real.parts[part]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s differs:\nstand-in %s\nreal     %s", part, show(got), show(want))
				}
			}
			takeOver(t, standIn, real, current, next)
			takeOver(t, real, standIn, current, next)
		})
	}
}

// The parts of an observation, in the order they are observed.
const (
	stateOfOne  = "state after create"
	planOfOne   = "plan of the unchanged configuration"
	planAdding  = "plan adding a credential"
	stateOfTwo  = "state with two credentials"
	planOfTwo   = "plan of two unchanged credentials"
	planRemoval = "plan removing a credential"
)

var observedParts = []string{stateOfOne, planOfOne, planAdding, stateOfTwo, planOfTwo, planRemoval}

// observation is what rekey would read from one provider's workspaces, made comparable,
// by part; two is the workspace that was created with both credentials.
type observation struct {
	parts map[string]any
	two   *shapeSpace
}

// observe runs the shape workspaces with the provider at version.
func (h *harness) observe(t *testing.T, version string, current, next testKey) observation {
	t.Helper()
	o := observation{parts: map[string]any{}}
	one := h.shapeWorkspace(t, version, current)
	o.parts[stateOfOne] = comparableState(one.stateOf(t, credentialsAddress))
	o.parts[planOfOne] = one.credentialsPlan(t)
	one.write(t, credentialsConfig(version, one.clientID, current, next))
	o.parts[planAdding] = one.credentialsPlan(t)

	o.two = h.shapeWorkspace(t, version, current, next)
	o.parts[stateOfTwo] = comparableState(o.two.stateOf(t, credentialsAddress))
	o.parts[planOfTwo] = o.two.credentialsPlan(t)
	o.two.write(t, credentialsConfig(version, o.two.clientID, current))
	o.parts[planRemoval] = o.two.credentialsPlan(t)
	return o
}

// shapeWorkspace is a workspace that applied creds on a new client of the sandbox with the
// provider at version.
func (h *harness) shapeWorkspace(t *testing.T, version string, creds ...testKey) *shapeSpace {
	t.Helper()
	client := h.tenant.AddClient("shape-"+version, "non_interactive", []string{"client_credentials"})
	w := &shapeSpace{workspace: h.workspace(t), clientID: client.ID, version: version}
	w.create(t, credentialsConfig(version, client.ID, creds...))
	return w
}

// shapeSpace is a workspace managing one seeded client's credentials.
type shapeSpace struct {
	*workspace
	clientID, version string
}

// credentialsPlan plans the workspace and returns the credentials resource's change, made
// comparable, or "no changes".
func (w *shapeSpace) credentialsPlan(t *testing.T) any {
	t.Helper()
	changes, changed := w.planFile(t)
	if !changed {
		return "no changes"
	}
	return comparableChange(changes[credentialsAddress])
}

// takeOver hands from's two-credential workspace to the provider of to: after `terraform init
// -upgrade` to's provider decodes the state from's wrote, plans as on its own state, and
// refreshes the state into its own shape.
func takeOver(t *testing.T, from, to observation, current, next testKey) {
	t.Helper()
	w := from.two
	w.write(t, credentialsConfig(to.two.version, w.clientID, current, next))
	w.must(t, "init", "-upgrade")
	who := fmt.Sprintf("auth0 %s on the state auth0 %s wrote", to.two.version, w.version)
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"terraform show -json (the state as written)", comparableState(w.stateOf(t, credentialsAddress)), from.parts[stateOfTwo]},
		{"plan (as on its own state)", w.credentialsPlan(t), to.parts[planOfTwo]},
		{"state after terraform apply -refresh-only (its own)", w.refreshedState(t), to.parts[stateOfTwo]},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %s\n%s\nwant\n%s", who, c.what, show(c.got), show(c.want))
		}
	}
}

// refreshedState refreshes the state and returns the credentials resource, made comparable.
func (w *shapeSpace) refreshedState(t *testing.T) any {
	t.Helper()
	w.must(t, "apply", "-refresh-only", "-auto-approve")
	return comparableState(w.stateOf(t, credentialsAddress))
}

// comparableChange is a plan's change with the run-specific values masked and the
// credentials in a fixed order (see comparable).
func comparableChange(rc resourceChange) map[string]any {
	before, _ := comparable(rc.Change.Before, nil)
	after, afterUnknown := comparable(rc.Change.After, rc.Change.AfterUnknown)
	return map[string]any{"actions": rc.Change.Actions, "before": before, "after": after, "after_unknown": afterUnknown}
}

// comparableState is a state resource's schema version and values, made comparable.
func comparableState(r stateResource) map[string]any {
	values, _ := comparable(r.Values, nil)
	return map[string]any{"schema_version": r.SchemaVersion, "values": values}
}

// comparable returns copies of a resource value and its after_unknown (nil for none) in
// which what differs between two runs of the same workspace is masked: the client's and the
// credentials' ids, and the timestamps of creation and update; pems are shortened to a
// digest. Credentials are sorted by name and pem, as a set has no order (after_unknown's
// entries follow their credentials). Nothing else changes: null, "", false and unknown stay
// apart.
func comparable(value, unknown map[string]any) (map[string]any, map[string]any) {
	value, unknown = deepCopy(value), deepCopy(unknown)
	creds, unknownCreds := credentialList(value), credentialList(unknown)
	order := make([]int, len(creds))
	for i := range order {
		order[i] = i
	}
	sortKey := func(i int) string {
		c, _ := creds[i].(map[string]any)
		return fmt.Sprint(c["name"], "\x00", c["pem"])
	}
	slices.SortStableFunc(order, func(i, j int) int { return strings.Compare(sortKey(i), sortKey(j)) })
	permute(creds, order)
	if len(unknownCreds) == len(creds) {
		permute(unknownCreds, order)
	}
	mask(value)
	return value, unknown
}

// permute reorders items in place so that item i is the former items[order[i]].
func permute(items []any, order []int) {
	was := slices.Clone(items)
	for i, j := range order {
		items[i] = was[j]
	}
}

// mask replaces run-specific values in v in place (see comparable).
func mask(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			s, isString := x.(string)
			switch {
			case isString && s != "" && (k == "id" || k == "client_id"):
				v[k] = "<id>"
			case isString && s != "" && (k == "created_at" || k == "updated_at"):
				v[k] = "<timestamp>"
			case isString && s != "" && k == "pem":
				v[k] = fmt.Sprintf("<pem %x>", sha256.Sum256([]byte(s)))
			default:
				mask(x)
			}
		}
	case []any:
		for _, x := range v {
			mask(x)
		}
	}
}

// credentialList returns private_key_jwt[0].credentials of a resource value, or nil.
func credentialList(obj map[string]any) []any {
	blocks, _ := obj["private_key_jwt"].([]any)
	if len(blocks) == 0 {
		return nil
	}
	block, _ := blocks[0].(map[string]any)
	list, _ := block["credentials"].([]any)
	return list
}

// deepCopy copies a JSON value.
func deepCopy(v map[string]any) map[string]any {
	if v == nil {
		return nil
	}
	data, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

// show renders a compared value for a failure message.
func show(v any) string {
	data, _ := json.MarshalIndent(v, "  ", "  ")
	return string(data)
}
