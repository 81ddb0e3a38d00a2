package provider

import (
	"testing"
	"time"

	"github.com/auth0/go-auth0/management"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestWithAPI(t *testing.T) {
	k := newKey(t, "K", false)
	created := time.Date(2026, 5, 13, 9, 33, 13, 0, time.UTC)
	api := &management.Credential{
		ID: ptr("cred_1"), KeyID: ptr(k.kid()), CredentialType: ptr("public_key"), Algorithm: ptr("RS256"),
		CreatedAt: &created, UpdatedAt: &created,
	}
	planned := newCredentialPlan(fromConfig("", k.pem))

	got := planned.withAPI(api)
	want := credentialModel{
		ID: types.StringValue("cred_1"), Name: types.StringValue(""), KeyID: types.StringValue(k.kid()),
		CredentialType: types.StringValue("public_key"), PEM: types.StringValue(k.pem), Algorithm: types.StringValue("RS256"),
		ParseExpiryFromCert: types.BoolValue(false), CreatedAt: types.StringValue("2026-05-13T09:33:13.000Z"),
		UpdatedAt: types.StringValue("2026-05-13T09:33:13.000Z"), ExpiresAt: types.StringValue(""),
	}
	if got != want {
		t.Errorf("withAPI = %+v\nwant      %+v", got, want)
	}

	api.Name, api.ExpiresAt = ptr("K"), &created
	other := newKey(t, "other", false)
	if got := fromConfig("K", other.pem).withAPI(api); got.ExpiresAt.ValueString() != "2026-05-13T09:33:13.000Z" || got.Name.ValueString() != "K" || got.PEM.ValueString() != "" {
		t.Errorf("withAPI = %+v; want the API's name and expiry, and no pem for another key", got)
	}
}

func TestInV1Shape(t *testing.T) {
	v0 := credentialModel{
		ID: types.StringValue("cred_1"), Name: types.StringNull(), KeyID: types.StringValue("kid"),
		CredentialType: types.StringValue("public_key"), PEM: types.StringNull(), Algorithm: types.StringValue("RS256"),
		ParseExpiryFromCert: types.BoolNull(), CreatedAt: types.StringValue("2026-05-13T09:33:13.000Z"),
		UpdatedAt: types.StringValue("2026-05-13T09:33:13Z"), ExpiresAt: types.StringValue("2030-01-01T01:00:00+01:00"),
	}
	got := v0.inV1Shape()
	want := v0
	want.Name, want.PEM, want.ParseExpiryFromCert = types.StringValue(""), types.StringValue(""), types.BoolValue(false)
	want.UpdatedAt, want.ExpiresAt = types.StringValue("2026-05-13T09:33:13.000Z"), types.StringValue("2030-01-01T01:00:00.000+01:00")
	if got != want {
		t.Errorf("inV1Shape = %+v\nwant        %+v", got, want)
	}
	v0.ExpiresAt = types.StringNull()
	if got := v0.inV1Shape(); got.ExpiresAt.ValueString() != "" || got.ExpiresAt.IsNull() {
		t.Errorf("no expiry upgraded to %v, want \"\"", got.ExpiresAt)
	}
}

func TestRecordedAs(t *testing.T) {
	kept := stored("cred_a", "A", "pem A")
	first, second := newCredentialPlan(fromConfig("", "pem X")), newCredentialPlan(fromConfig("", "pem Y"))
	if sdkSetCode(second) < sdkSetCode(first) {
		first, second = second, first
	}
	recorded := []credentialModel{kept, second, first}
	tests := []struct {
		id, name string
		want     credentialModel
	}{
		{"cred_a", "renamed in the API", kept},
		{"cred_new", "A", kept},
		{"cred_new", "", first},
		{"cred_other", "", first},
		{"cred_new", "unknown", credentialModel{}},
	}
	for _, tt := range tests {
		if got := recordedAs(recorded, tt.id, tt.name); got != tt.want {
			t.Errorf("recordedAs(%s, %q) = %s, want %s", tt.id, tt.name, got.PEM, tt.want.PEM)
		}
	}
}

func ptr[T any](v T) *T { return &v }
