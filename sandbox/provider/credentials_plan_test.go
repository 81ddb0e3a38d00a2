package provider

import (
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestPlanCredentialSet(t *testing.T) {
	a := stored("cred_a", "A", "pem A")
	cert := stored("cred_s", "S", "cert S")
	cert.ParseExpiryFromCert, cert.ExpiresAt = types.BoolValue(true), types.StringValue("2030-01-01T00:00:00.000Z")
	certConfig := fromConfig("S", "cert S")
	certConfig.ParseExpiryFromCert = types.BoolValue(true)
	flagged := fromConfig("A", "pem A")
	flagged.ParseExpiryFromCert = types.BoolValue(false)
	expiring := fromConfig("E", "pem E")
	expiring.ExpiresAt = types.StringValue("2031-01-01T00:00:00Z")

	t.Run("an unchanged set is planned as the state", func(t *testing.T) {
		if got := planCredentialSet([]credentialModel{fromConfig("A", "pem A")}, []credentialModel{a}, true); !reflect.DeepEqual(got, []credentialModel{a}) {
			t.Errorf("planned %+v, want the state %+v", got, a)
		}
	})
	t.Run("a kept element has its state values and the configured flags", func(t *testing.T) {
		got := planCredentialSet([]credentialModel{fromConfig("A", "pem A"), fromConfig("C", "pem C")}, []credentialModel{a}, true)
		want := a
		want.ParseExpiryFromCert = types.BoolNull()
		if !reflect.DeepEqual(got[0], want) {
			t.Errorf("kept %+v, want %+v", got[0], want)
		}
		if got := planCredentialSet([]credentialModel{flagged, fromConfig("C", "pem C")}, []credentialModel{a}, true); !got[0].ParseExpiryFromCert.Equal(types.BoolValue(false)) || !got[0].ID.Equal(a.ID) {
			t.Errorf("kept %+v, want parse_expiry_from_cert false as configured and the state's id", got[0])
		}
	})
	t.Run("a new element is known after the apply, with algorithm and name defaults", func(t *testing.T) {
		got := planCredentialSet([]credentialModel{fromConfig("", "pem C"), expiring}, nil, false)
		c, e := got[0], got[1]
		if !c.ID.IsUnknown() || !c.KeyID.IsUnknown() || !c.CreatedAt.IsUnknown() || !c.UpdatedAt.IsUnknown() || !c.ExpiresAt.IsUnknown() {
			t.Errorf("new credential %+v: want id, key_id, timestamps and expires_at unknown", c)
		}
		if c.Algorithm.ValueString() != "RS256" || !c.Name.Equal(types.StringValue("")) || !c.ParseExpiryFromCert.IsNull() {
			t.Errorf("new credential %+v: want algorithm RS256, name \"\" and parse_expiry_from_cert null", c)
		}
		if !e.ExpiresAt.Equal(expiring.ExpiresAt) {
			t.Errorf("new credential expires_at = %v, want the configured %v", e.ExpiresAt, expiring.ExpiresAt)
		}
	})
	t.Run("a parsed expiry the block does not bring into the hash plans the element again", func(t *testing.T) {
		got := planCredentialSet([]credentialModel{certConfig}, []credentialModel{cert}, true)
		if !got[0].ID.IsUnknown() || !got[0].ExpiresAt.IsUnknown() {
			t.Errorf("certificate planned as %+v, want a new element (unknown id and expires_at)", got[0])
		}
	})
	t.Run("a block written out in full matches its element and keeps the parsed expiry", func(t *testing.T) {
		full := certConfig
		full.Algorithm = types.StringValue("RS256")
		if got := planCredentialSet([]credentialModel{full}, []credentialModel{cert}, true); !reflect.DeepEqual(got, []credentialModel{cert}) {
			t.Errorf("planned %+v, want the state", got)
		}
		got := planCredentialSet([]credentialModel{full, fromConfig("C", "pem C")}, []credentialModel{cert}, true)
		if !got[0].ID.Equal(cert.ID) || !got[0].ExpiresAt.Equal(cert.ExpiresAt) {
			t.Errorf("kept certificate planned as %+v, want its id and expiry", got[0])
		}
	})
	t.Run("parse_expiry_from_cert is not in the hash: flipping it alone changes nothing", func(t *testing.T) {
		flipped := fromConfig("A", "pem A")
		flipped.ParseExpiryFromCert = types.BoolValue(true)
		if got := planCredentialSet([]credentialModel{flipped}, []credentialModel{a}, true); !reflect.DeepEqual(got, []credentialModel{a}) {
			t.Errorf("planned %+v, want the state", got)
		}
		got := planCredentialSet([]credentialModel{flipped, fromConfig("C", "pem C")}, []credentialModel{a}, true)
		if !got[0].ParseExpiryFromCert.ValueBool() || !got[0].ID.Equal(a.ID) {
			t.Errorf("kept %+v in a changed set, want a's element with parse_expiry_from_cert true as configured", got[0])
		}
	})
}

func TestIdentitiesChanged(t *testing.T) {
	a := stored("cred_a", "A", "pem A")
	expiring := fromConfig("A", "pem A")
	expiring.ExpiresAt = types.StringValue("2031-01-01T00:00:00Z")
	flipped := fromConfig("A", "pem A")
	flipped.ParseExpiryFromCert = types.BoolValue(true)
	tests := []struct {
		name       string
		configured []credentialModel
		want       bool
	}{
		{"unchanged", []credentialModel{fromConfig("A", "pem A")}, false},
		{"a new expires_at only", []credentialModel{expiring}, false},
		{"parse_expiry_from_cert flipped", []credentialModel{flipped}, true},
		{"renamed", []credentialModel{fromConfig("B", "pem A")}, true},
		{"added", []credentialModel{fromConfig("A", "pem A"), fromConfig("B", "pem B")}, true},
		{"removed", nil, true},
	}
	for _, tt := range tests {
		if got := identitiesChanged(tt.configured, []credentialModel{a}); got != tt.want {
			t.Errorf("%s: identitiesChanged = %v, want %v", tt.name, got, tt.want)
		}
	}
}
