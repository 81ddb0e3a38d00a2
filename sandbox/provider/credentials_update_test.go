package provider

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// cred is a credential model for tests: a state credential when id is set, else a planned one.
func cred(id, name, pem string) credentialModel {
	c := credentialModel{
		Name: types.StringValue(name), CredentialType: types.StringValue("public_key"), PEM: types.StringValue(pem),
		ParseExpiryFromCert: types.BoolNull(), ExpiresAt: types.StringUnknown(), Algorithm: types.StringUnknown(),
		ID: types.StringUnknown(), KeyID: types.StringUnknown(), CreatedAt: types.StringUnknown(), UpdatedAt: types.StringUnknown(),
	}
	if id != "" {
		c.ID, c.KeyID, c.Algorithm = types.StringValue(id), types.StringValue("kid-"+id), types.StringValue("RS256")
		c.CreatedAt, c.UpdatedAt = types.StringValue("2026-01-01T00:00:00.000Z"), types.StringValue("2026-01-01T00:00:00.000Z")
		c.ExpiresAt = types.StringNull()
	}
	return c
}

// order renders steps as "+name" (create+attach) and "-name" (detach+delete).
func order(steps []step) string {
	var out []string
	for _, s := range steps {
		sign := "-"
		if s.add {
			sign = "+"
		}
		out = append(out, sign+s.cred.Name.ValueString())
	}
	return strings.Join(out, " ")
}

func TestPlanRotation(t *testing.T) {
	a, b := cred("cred_a", "A", "pem A"), cred("cred_b", "B", "pem B")
	c, d := cred("", "C", "pem C"), cred("", "D", "pem D")
	renamedA := cred("", "A renamed", "pem A")
	tests := []struct {
		name           string
		add, remove    []credentialModel
		attached, pool int
		want           string
	}{
		{"add one", []credentialModel{c}, nil, 1, 1, "+C"},
		{"remove one", nil, []credentialModel{a}, 2, 2, "-A"},
		{"replace with room: create first", []credentialModel{c}, []credentialModel{a}, 1, 1, "+C -A"},
		// The recorded FullRotation order: PATCH [B]; DELETE A; POST C; PATCH [B,C]; PATCH [C]; DELETE B; POST D; PATCH [C,D].
		{"swap two for two: delete first", []credentialModel{c, d}, []credentialModel{a, b}, 2, 2, "-A +C -B +D"},
		{"same key (rename): delete first", []credentialModel{renamedA}, []credentialModel{a}, 1, 1, "-A +A renamed"},
		{"full pool: delete first", []credentialModel{c}, []credentialModel{a}, 1, 4, "-A +C"},
		{"unpaired removals before unpaired additions", []credentialModel{c, d}, []credentialModel{a}, 1, 1, "+C -A +D"},
		{"more removals than additions", []credentialModel{c}, []credentialModel{a, b}, 2, 2, "-A +C -B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := order(planRotation(tt.add, tt.remove, tt.attached, tt.pool)); got != tt.want {
				t.Errorf("order = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDiffCredentials(t *testing.T) {
	a, b := cred("cred_a", "A", "pem A"), cred("cred_b", "B", "pem B")
	keptA := a
	newExpiry := b
	newExpiry.ExpiresAt = types.StringValue("2030-01-01T00:00:00Z")
	sameExpiry := a
	sameExpiry.ExpiresAt = types.StringValue("2030-01-01T01:00:00+01:00")
	a.ExpiresAt = types.StringValue("2030-01-01T00:00:00Z")
	c := cred("", "C", "pem C")

	add, remove, expiries := diffCredentials([]credentialModel{keptA, c}, []credentialModel{a, b})
	if names(add) != "C" || names(remove) != "B" || names(expiries) != "" {
		t.Errorf("diff = add %q remove %q expiries %q, want C, B and none", names(add), names(remove), names(expiries))
	}
	_, _, expiries = diffCredentials([]credentialModel{sameExpiry, newExpiry}, []credentialModel{a, b})
	if names(expiries) != "B" {
		t.Errorf("expiry changes = %q, want only B (A's new spelling is the same instant)", names(expiries))
	}
}

func names(creds []credentialModel) string {
	var out []string
	for _, c := range creds {
		out = append(out, c.Name.ValueString())
	}
	return strings.Join(out, ",")
}

func TestMatchPrior(t *testing.T) {
	a, b := cred("cred_a", "A", "pem A"), cred("cred_b", "B", "pem B")
	b.ExpiresAt = types.StringValue("2030-01-01T00:00:00Z")
	plannedA := cred("", "A", "pem A")
	plannedA.Algorithm = types.StringValue("RS256") // written out in the configuration
	plannedC := cred("", "C", "pem C")
	plannedC.ParseExpiryFromCert = types.BoolValue(false)

	planned, changed := matchPrior([]credentialModel{plannedA, plannedC}, []credentialModel{a, b})
	if !changed {
		t.Error("adding C and dropping B is not reported as a change")
	}
	if got := planned[0]; !got.ID.Equal(a.ID) || !got.KeyID.Equal(a.KeyID) || !got.UpdatedAt.Equal(a.UpdatedAt) || !got.ExpiresAt.Equal(a.ExpiresAt) {
		t.Errorf("surviving credential planned as %+v, want the values of %+v", got, a)
	}
	if got := planned[1]; !got.ID.IsUnknown() || got.Algorithm.ValueString() != "RS256" || !got.ExpiresAt.IsNull() {
		t.Errorf("new credential planned as %+v, want unknown id, algorithm RS256 and no expiry", got)
	}

	renamed := cred("", "A renamed", "pem A")
	if planned, _ := matchPrior([]credentialModel{renamed}, []credentialModel{a}); !planned[0].ID.IsUnknown() {
		t.Error("a renamed credential kept its id; v1.55 treats a rename as remove and add")
	}

	expiring := cred("", "B", "pem B")
	expiring.ExpiresAt = types.StringValue("2031-06-01T00:00:00Z")
	planned, changed = matchPrior([]credentialModel{expiring}, []credentialModel{b})
	if changed || !planned[0].ID.Equal(b.ID) || !planned[0].UpdatedAt.IsUnknown() {
		t.Errorf("expiry change planned as %+v (changed %v), want B's id, updated_at unknown, no replacement", planned[0], changed)
	}

	flipped := cred("", "A", "pem A")
	flipped.ParseExpiryFromCert = types.BoolValue(true)
	if _, changed := matchPrior([]credentialModel{flipped}, []credentialModel{a}); !changed {
		t.Error("changing parse_expiry_from_cert is not a change provider ≤ 1.46 must replace for")
	}
	if _, changed := matchPrior([]credentialModel{plannedA}, []credentialModel{a}); changed {
		t.Error("an unchanged credential is reported as changed")
	}
	if slices.ContainsFunc(planned, func(c credentialModel) bool { return c.Algorithm.IsUnknown() }) {
		t.Error("a planned algorithm is unknown")
	}
}
