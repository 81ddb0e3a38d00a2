package provider

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// stored is a credential as the state records it.
func stored(id, name, pem string) credentialModel {
	return credentialModel{
		ID: types.StringValue(id), Name: types.StringValue(name), KeyID: types.StringValue("kid-" + id),
		CredentialType: types.StringValue("public_key"), PEM: types.StringValue(pem), Algorithm: types.StringValue("RS256"),
		ParseExpiryFromCert: types.BoolValue(false), ExpiresAt: types.StringValue(""),
		CreatedAt: types.StringValue("2026-01-01T00:00:00.000Z"), UpdatedAt: types.StringValue("2026-01-01T00:00:00.000Z"),
	}
}

// fromConfig is a credential as a configuration block declares it: name, type and pem.
func fromConfig(name, pem string) credentialModel {
	return credentialModel{
		Name: types.StringValue(name), CredentialType: types.StringValue("public_key"), PEM: types.StringValue(pem),
		ID: types.StringNull(), KeyID: types.StringNull(), Algorithm: types.StringNull(), ParseExpiryFromCert: types.BoolNull(),
		ExpiresAt: types.StringNull(), CreatedAt: types.StringNull(), UpdatedAt: types.StringNull(),
	}
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
	a, b := stored("cred_a", "A", "pem A"), stored("cred_b", "B", "pem B")
	c, d := fromConfig("C", "pem C"), fromConfig("D", "pem D")
	renamedA := fromConfig("A renamed", "pem A")
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
	k := newKey(t, "K", false)
	a, b := stored("cred_a", "A", "pem A"), stored("cred_b", "B", "pem B")
	b.ExpiresAt = types.StringValue("2030-01-01T00:00:00.000Z")
	imported := stored("cred_k", "K", "")
	imported.KeyID = types.StringValue(k.kid())
	plannedAgain := func(c credentialModel, expiresAt string) credentialModel {
		p := newCredentialPlan(fromConfig(c.Name.ValueString(), c.PEM.ValueString()))
		if expiresAt != "" {
			p.ExpiresAt = types.StringValue(expiresAt)
		}
		return p
	}
	tests := []struct {
		name                      string
		planned, prior            []credentialModel
		add, remove, keep, expire string
		wantPEM                   string // of the first kept credential, when set
	}{
		{"kept by id, one added, one removed", []credentialModel{a, newCredentialPlan(fromConfig("C", "pem C"))}, []credentialModel{a, b}, "C", "B", "A", "", ""},
		{"a set element planned again is the same credential", []credentialModel{plannedAgain(a, ""), plannedAgain(b, "")}, []credentialModel{a, b}, "", "", "A,B", "", ""},
		{"a new expiry is a change of the same credential", []credentialModel{plannedAgain(b, "2031-01-01T00:00:00Z")}, []credentialModel{b}, "", "", "B", "B", ""},
		{"the same instant in another spelling is no change", []credentialModel{plannedAgain(b, "2030-01-01T01:00:00+01:00")}, []credentialModel{b}, "", "", "B", "", ""},
		{"a rename is a removal and an addition", []credentialModel{plannedAgain(fromConfig("A renamed", "pem A"), "")}, []credentialModel{a}, "A renamed", "A", "", "", ""},
		{"a state without the pem matches by kid and takes the pem", []credentialModel{plannedAgain(fromConfig("K", k.pem), "")}, []credentialModel{imported}, "", "", "K", "", k.pem},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := diffCredentials(tt.planned, tt.prior)
			got := []string{names(d.additions), names(d.removals), names(d.kept), names(d.expiries)}
			if want := []string{tt.add, tt.remove, tt.keep, tt.expire}; !slices.Equal(got, want) {
				t.Errorf("add, remove, keep, expire = %q, want %q", got, want)
			}
			if tt.wantPEM != "" && d.kept[0].PEM.ValueString() != tt.wantPEM {
				t.Errorf("kept pem = %q, want the planned one", d.kept[0].PEM.ValueString())
			}
		})
	}
}

func names(creds []credentialModel) string {
	var out []string
	for _, c := range creds {
		out = append(out, c.Name.ValueString())
	}
	return strings.Join(out, ",")
}
