package steps_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"rekey/keys"
	"rekey/steps"
	"rekey/tfrunner"
)

// TestEverySeededClientRotatesWithDefaults: through the real auth0 provider, every seeded
// client (certificates of 90, 12 and 3 days with parse_expiry_from_cert = true, and a bare key
// with parse_expiry_from_cert = false) rotates with default options while its service requests
// tokens at 25/s, with no failed request. Each new key is like the old one (a certificate of
// the same validity whose notAfter becomes the expiry, or a bare key with no expiry), and
// terraform plan is clean afterwards.
func TestEverySeededClientRotatesWithDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, mc := range e.m.Clients {
		opts := steps.Options{Client: mc.Name, TerraformDir: e.m.TerraformDir, SystemConfig: mc.SystemConfig, KeyDir: e.opts.KeyDir, Operator: "steps-test"}
		oldCred, err := e.conn.Client(context.Background(), mc.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		old := oldCred.Attached()[0]
		svc := e.startConsumerOf(mc, mc.SystemConfig)
		svc.waitRequests(t, 5)
		start := time.Now()
		r := call(context.Background(), steps.Rotate, opts, e.deps(nil, nil), nil)
		if r.err != nil {
			t.Fatalf("%s: Rotate: %v", mc.Name, r.err)
		}
		stats := svc.Stop()
		t.Logf("%s: %s; consumer %d requests, %d failed", mc.Name, time.Since(start), stats.Requests, stats.Failures)
		assertNoFailures(t, stats, int64(time.Since(start).Seconds()*consumerRate/2))

		c, err := e.conn.Client(context.Background(), mc.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		attached := c.Attached()
		if len(attached) != 1 || attached[0].KID != r.res.NewKID {
			t.Fatalf("%s: attached %+v, want only the new key %s", mc.Name, attached, r.res.NewKID)
		}
		assertLike(t, mc.Name, old.ExpiresAt != nil, old.CreatedAt, old.ExpiresAt, attached[0].CreatedAt, attached[0].ExpiresAt)
		if r.res.NewKey == nil || r.res.NewKey.Bits != 2048 || r.res.NewKey.Alg != old.Alg {
			t.Errorf("%s: new key shape %+v, want the old key's 2048-bit %s", mc.Name, r.res.NewKey, old.Alg)
		}
	}
	runner, err := tfrunner.New(tfrunner.Config{Dir: e.m.TerraformDir, Binary: e.bin, Env: e.m.TerraformEnv()})
	if err != nil {
		t.Fatal(err)
	}
	if changes, err := runner.Plan(context.Background(), filepath.Join(t.TempDir(), "after.tfplan")); err != nil || changes {
		t.Fatalf("terraform plan after the rotations: changes=%v err=%v", changes, err)
	}
	if files := e.newKeyFiles(); len(files) != len(e.m.Clients) {
		t.Errorf("new private keys %v, want one per client", files)
	}
	for _, f := range e.newKeyFiles() {
		if _, err := keys.LoadPrivateKey(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// assertLike checks that a new credential keeps the old one's expiry tracking: an expiry of
// the same length (within a day) when the old one had one, none when it had none.
func assertLike(t *testing.T, name string, hadExpiry bool, oldCreated time.Time, oldExpires *time.Time, created time.Time, expires *time.Time) {
	t.Helper()
	switch {
	case !hadExpiry && expires != nil:
		t.Errorf("%s: the old key had no expiry, the new one expires %s", name, expires)
	case hadExpiry && expires == nil:
		t.Errorf("%s: the old key expired %s, the new one has no expiry: expiry tracking lost", name, oldExpires)
	case hadExpiry:
		oldLife, newLife := oldExpires.Sub(oldCreated), expires.Sub(created)
		if d := (oldLife - newLife).Abs(); d > 26*time.Hour {
			t.Errorf("%s: the old key lived %s, the new one %s", name, oldLife, newLife)
		}
	}
}
