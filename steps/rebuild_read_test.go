package steps

import (
	"errors"
	"testing"
	"time"

	"rekey/sysconfig"
	"rekey/tenant"
	"rekey/tfrunner"
)

// worldOf builds a world for read: the pool in creation order (attached ones marked with a
// trailing "+"), rekey's key files, the system config (nil: none), the HCL's kids and the
// kids the state records.
func worldOf(pool []string, keyFiles []string, listed []string, declared []string, applied []string) world {
	w := world{client: "billing-worker", keyFiles: map[string]string{}, declared: map[string]tfrunner.CredentialBlock{}, res: &tfrunner.CredentialsResource{Address: "auth0_client_credentials.billing"}}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range pool {
		kid, attached := p, false
		if p[len(p)-1] == '+' {
			kid, attached = p[:len(p)-1], true
		}
		c := tenant.Credential{ID: "cred_" + kid, KID: kid, Alg: "RS256", Attached: attached, CreatedAt: created.Add(time.Duration(i) * time.Hour)}
		w.pool = append(w.pool, c)
		if attached {
			w.attached = append(w.attached, c)
		}
	}
	for _, kid := range keyFiles {
		w.keyFiles[kid] = "/keys/billing-worker-" + kid + ".pem"
	}
	if listed != nil {
		w.listed = []sysconfig.Entry{}
		for _, kid := range listed {
			w.listed = append(w.listed, sysconfig.Entry{KID: kid, Alg: "RS256", PrivateKeyFile: kid + ".pem"})
		}
	}
	for _, kid := range declared {
		w.declared[kid] = tfrunner.CredentialBlock{Name: kid}
	}
	for _, kid := range applied {
		w.applied = append(w.applied, "cred_"+kid)
	}
	return w
}

func list(kids ...string) []string { return append([]string{}, kids...) }

// TestReadWorld: each state a rotation can leave behind is read as the rotation it is, and
// evidence that does not tell (or disagrees) is refused, never guessed.
func TestReadWorld(t *testing.T) {
	t.Parallel()
	type want struct {
		old, new string
		done     Step
	}
	cases := []struct {
		name    string
		w       world
		lastNew string
		want    *want // nil: no rotation in progress
		unclear bool
	}{
		{name: "staged", w: worldOf(list("O+"), list("N"), list("O", "N"), list("O"), list("O")),
			want: &want{"O", "N", Stage}},
		{name: "staged, the attach edit written", w: worldOf(list("O+"), list("N"), list("O", "N"), list("O", "N"), list("O")),
			want: &want{"O", "N", Stage}},
		{name: "staged, no system config, the attach edit written", w: worldOf(list("O+"), list("N"), nil, list("O", "N"), list("O")),
			want: &want{"O", "N", Stage}},
		{name: "generated only, no system config", w: worldOf(list("O+"), list("N"), nil, list("O"), list("O"))},
		{name: "attach applied, the credential not in the state", w: worldOf(list("O+", "N+"), list("N"), list("O", "N"), list("O", "N"), list("O")),
			want: &want{"O", "N", Stage}},
		{name: "attached", w: worldOf(list("O+", "N+"), list("N"), list("O", "N"), list("O", "N"), list("O", "N")),
			want: &want{"O", "N", Attach}},
		{name: "promoted", w: worldOf(list("O+", "N+"), list("N"), list("N", "O"), list("O", "N"), list("O", "N")),
			want: &want{"O", "N", Attach}},
		{name: "the retire edit written, not applied", w: worldOf(list("O+", "N+"), list("N"), list("N", "O"), list("N"), list("O", "N")),
			want: &want{"O", "N", Attach}},
		{name: "retired, confirm pending", w: worldOf(list("N+"), list("N"), list("N", "O"), list("N"), list("N")),
			want: &want{"O", "N", Retire}},
		{name: "finished", w: worldOf(list("N+"), list("O", "N"), list("N"), list("N"), list("N"))},
		{name: "finished, an older entry kept by hand", w: worldOf(list("N+"), list("N"), list("N", "O"), list("N"), list("N")), lastNew: "N"},
		{name: "after an abort", w: worldOf(list("O+"), list("N"), list("O"), list("O"), list("O"))},
		{name: "both keys rekey's, the last rotation put O in place", w: worldOf(list("O+", "N+"), list("O", "N"), list("O", "N"), list("O", "N"), list("O", "N")), lastNew: "O",
			want: &want{"O", "N", Attach}},
		{name: "both keys rekey's, the tenant's times tell", w: worldOf(list("O+", "N+"), list("O", "N"), list("O", "N"), list("O", "N"), list("O", "N")),
			want: &want{"O", "N", Attach}},
		{name: "staged, or retired: the last rotation put X in place", w: worldOf(list("X+"), list("X", "Z"), list("X", "Z"), list("X"), list("X")), lastNew: "X",
			want: &want{"X", "Z", Stage}},
		{name: "staged, or retired: the last rotation put Z in place", w: worldOf(list("X+"), list("X", "Z"), list("X", "Z"), list("X"), list("X")), lastNew: "Z",
			want: &want{"Z", "X", Retire}},
		{name: "staged, or retired: nothing tells", w: worldOf(list("X+"), list("X", "Z"), list("X", "Z"), list("X"), list("X")), unclear: true},
		{name: "two attached, no key file of rekey's", w: worldOf(list("O+", "N+"), nil, list("O", "N"), list("O", "N"), list("O", "N")), unclear: true},
		{name: "the key file is the older key's", w: worldOf(list("N+", "O+"), list("N"), list("O", "N"), list("O", "N"), list("O", "N")), unclear: true},
		{name: "the key file is the last rotation's key", w: worldOf(list("N+", "O+"), list("N"), list("O", "N"), list("O", "N"), list("O", "N")), lastNew: "N", unclear: true},
		{name: "the system config lists the new key elsewhere", w: worldOf(list("O+", "N+"), list("N"), list("X", "O", "N"), list("O", "N"), list("O", "N")), unclear: true},
		{name: "the system config does not list the new key", w: worldOf(list("O+", "N+"), list("N"), list("O"), list("O", "N"), list("O", "N")), unclear: true},
		{name: "the HCL declares a third key", w: worldOf(list("O+", "N+"), list("N"), list("O", "N"), list("O", "N", "X"), list("O", "N")), unclear: true},
		{name: "staged, the HCL does not declare the attached key", w: worldOf(list("O+"), list("N"), list("O", "N"), list("N"), list("O")), unclear: true},
		{name: "two staged candidates", w: worldOf(list("O+"), list("N", "M"), nil, list("O", "N", "M"), list("O")), unclear: true},
		{name: "three attached", w: worldOf(list("O+", "N+", "M+"), list("N"), nil, list("O", "N", "M"), nil), unclear: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.w.lastNew = c.lastNew
			r, err := c.w.read()
			var u *unclearError
			switch {
			case c.unclear:
				if !errors.As(err, &u) {
					t.Fatalf("read = %+v, %v; want the evidence refused as unclear", r, err)
				}
				t.Logf("refused: %v", err)
			case err != nil:
				t.Fatalf("read: %v", err)
			case c.want == nil && r != nil:
				t.Errorf("read = %+v, want no rotation in progress", r)
			case c.want != nil && (r == nil || r.old != c.want.old || r.new != c.want.new || r.done != c.want.done):
				t.Errorf("read = %+v, want old %s, new %s, done through %s", r, c.want.old, c.want.new, c.want.done)
			}
		})
	}
}

// TestSuggestsRotation: only a world with something of a rotation in it makes rekey read
// Terraform to rebuild a journal.
func TestSuggestsRotation(t *testing.T) {
	t.Parallel()
	calm := worldOf(list("O+"), list("O"), list("O"), nil, nil)
	if calm.suggestsRotation() {
		t.Errorf("one attached key, listed alone, its own key file: nothing suggests a rotation, yet one is looked for")
	}
	for name, w := range map[string]world{
		"two attached":           worldOf(list("O+", "N+"), nil, nil, nil, nil),
		"an unattached key file": worldOf(list("O+"), list("N"), nil, nil, nil),
		"an unattached entry":    worldOf(list("N+"), nil, list("N", "O"), nil, nil),
	} {
		if !w.suggestsRotation() {
			t.Errorf("%s: a possible rotation is not looked for", name)
		}
	}
}
