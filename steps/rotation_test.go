package steps_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rekey/sandbox"
	"rekey/steps"
	"rekey/sysconfig"
)

// TestRotationZeroDowntime rotates billing-worker while a service requests tokens at 25/s
// from its system config, and proves the rotation end to end: no failed request, both keys
// used, only the new key left attached and working, the old one rejected, the system config
// and the audit log right, and no private key material anywhere rekey writes.
func TestRotationZeroDowntime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	svc.waitRequests(t, 5) // the service is up, on the old key, before the rotation starts

	start := time.Now()
	r := e.rotate(context.Background(), nil)
	elapsed := time.Since(start)
	if r.err != nil {
		t.Fatalf("Rotate: %v", r.err)
	}
	// Keep the service running a moment on the final system config.
	before := svc.stats.Snapshot().Requests
	svc.waitRequests(t, before+5)
	stats := svc.Stop()
	t.Logf("rotation took %s; consumer: %d requests, %d failed, by kid %v", elapsed, stats.Requests, stats.Failures, stats.ByKID)

	// Zero downtime, with enough traffic to mean something (25/s over the whole rotation).
	assertNoFailures(t, stats, int64(elapsed.Seconds()*consumerRate/2))
	newKID := r.res.NewKID
	if stats.ByKID[e.oldKID] == 0 || stats.ByKID[newKID] == 0 {
		t.Errorf("the consumer should have used both keys: by kid %v (old %s, new %s)", stats.ByKID, e.oldKID, newKID)
	}

	// The result.
	if r.res.Status != steps.StatusRotated || r.res.OldKID != e.oldKID || newKID == "" || newKID == e.oldKID {
		t.Errorf("result: status %q old %q new %q; want rotated, old %s, a new kid", r.res.Status, r.res.OldKID, newKID, e.oldKID)
	}
	for _, s := range steps.AllSteps {
		if got := stepStatus(r.res, s); got != "done" {
			t.Errorf("step %s: %q, want done", s, got)
		}
	}

	// The tenant: only the new key is attached; it works, the old one is refused.
	if got := e.attachedKIDs(); !slices.Equal(got, []string{newKID}) {
		t.Errorf("attached kids %v, want only the new %s", got, newKID)
	}
	files := e.newKeyFiles()
	if len(files) != 1 || !strings.Contains(files[0], newKID) {
		t.Fatalf("new private key files %v, want one for %s", files, newKID)
	}
	if info, err := os.Stat(files[0]); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("new private key file mode: %v %v, want 0600", info.Mode(), err)
	}
	if res := e.checkKey(t, files[0]); !res.OK {
		t.Errorf("the new key does not work: %+v", res)
	}
	if res := e.checkKey(t, e.oldKeyFile); res.OK || res.Status != http.StatusUnauthorized || res.Code != "invalid_client" {
		t.Errorf("the old key: %d %s %v, want 401 invalid_client", res.Status, res.Code, res.Err)
	}

	// The system config lists the new key only.
	if got := systemKIDs(t, e.mc.SystemConfig); !slices.Equal(got, []string{newKID}) {
		t.Errorf("system config lists %v, want only %s", got, newKID)
	}

	// The audit log: one record of this rotation.
	recs := e.auditRecords()
	if len(recs) != 1 {
		t.Fatalf("audit log has %d records, want 1: %+v", len(recs), recs)
	}
	rec := recs[0]
	if rec.Outcome != steps.StatusRotated || rec.OldKID != e.oldKID || rec.NewKID != newKID || rec.ClientID != e.mc.ClientID || rec.Operator != "steps-test" {
		t.Errorf("audit record %+v", rec)
	}
	for _, s := range []steps.Step{steps.Attach, steps.Retire} {
		if d := rec.PlanDigests[s.String()]; len(d) != 64 || !isHex(d) {
			t.Errorf("audit plan digest for %s: %q, want a sha256", s, d)
		}
	}
	if len(rec.Checks) == 0 {
		t.Errorf("the audit record lists no token-exchange checks")
	}

	// The journal is archived as rotated, and no journal is left in progress.
	if j := e.journal(); j != nil {
		t.Errorf("a journal is still in progress: %+v", j)
	}
	if !strings.Contains(r.res.Journal, filepath.Join(".rekey", "done")) {
		t.Errorf("result journal %s, want the archive in .rekey/done", r.res.Journal)
	}
	arch := e.archivedJournals()
	if len(arch) != 1 || arch[0].Status != steps.StatusRotated || !arch[0].Verified {
		t.Errorf("archived journals %+v, want one rotated and verified", arch)
	}

	assertNoKeyMaterial(t, e, r.events)
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// assertNoKeyMaterial reads every private key the sandbox and the rotation wrote and checks
// that no part of one appears in the audit log, the journals, the Terraform files and state,
// or the text of the engine's events.
func assertNoKeyMaterial(t *testing.T, e *env, events []steps.Event) {
	t.Helper()
	var keyFiles []string
	for _, glob := range []string{filepath.Join(e.dir, "keys", "*.pem"), filepath.Join(e.opts.KeyDir, "*.pem")} {
		m, _ := filepath.Glob(glob)
		keyFiles = append(keyFiles, m...)
	}
	if len(keyFiles) < 2 {
		t.Fatalf("found %d private key files, want the seeded ones and the new one", len(keyFiles))
	}
	var bodies [][]string
	for _, f := range keyFiles {
		data := readFile(t, f)
		if !strings.Contains(string(data), "PRIVATE KEY") {
			t.Fatalf("%s is not a private key file", f)
		}
		body := pemBodyLines(data)
		if _, found := containsSecret(data, body); !found || len(body) < 10 {
			t.Fatalf("the key material detector does not find %s in itself", f)
		}
		bodies = append(bodies, body)
	}
	// Everything rekey and Terraform wrote in the workspace: .tf files, state (and backups),
	// the lock file, the audit log, journals (in progress and archived), plans left behind.
	var written []string
	err := filepath.WalkDir(e.m.TerraformDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir // the provider plugin cache
		}
		if !d.IsDir() {
			written = append(written, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sawAudit, sawJournal, sawState, sawTF bool
	for _, p := range written {
		switch {
		case strings.HasSuffix(p, "audit.jsonl"):
			sawAudit = true
		case strings.Contains(p, filepath.Join(".rekey", "done")):
			sawJournal = true
		case strings.HasSuffix(p, ".tfstate"):
			sawState = true
		case strings.HasSuffix(p, ".tf"):
			sawTF = true
		}
		data := readFile(t, p)
		for i, body := range bodies {
			if what, found := containsSecret(data, body); found {
				t.Errorf("%s contains private key material of %s (%s)", p, keyFiles[i], what)
			}
		}
	}
	if !sawAudit || !sawJournal || !sawState || !sawTF {
		t.Errorf("expected an audit log, an archived journal, state and .tf files among %v", written)
	}
	var text strings.Builder
	for _, ev := range events {
		fmt.Fprintf(&text, "%s\n", ev.Text)
		if ev.Err != nil {
			fmt.Fprintf(&text, "%s\n", ev.Err)
		}
		if ev.Check != nil {
			fmt.Fprintf(&text, "%+v\n", *ev.Check)
		}
		if ev.Plan != nil {
			fmt.Fprintf(&text, "%+v\n", *ev.Plan)
		}
		for _, f := range ev.Findings {
			fmt.Fprintf(&text, "%s\n", f.Message)
		}
	}
	if text.Len() == 0 {
		t.Fatalf("no event text to check")
	}
	for i, body := range bodies {
		if what, found := containsSecret([]byte(text.String()), body); found {
			t.Errorf("the engine's events show private key material of %s (%s)", keyFiles[i], what)
		}
	}
}

// TestRotationUnderFaults rotates while the Management API is slow and fails 10% of requests
// with 503 and 10% with 429 (the token endpoint the service uses stays healthy): the rotation
// completes, or stops with a resumable journal that a second run (faults off) completes; the
// service sees no failure either way.
func TestRotationUnderFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	svc.waitRequests(t, 5)
	e.srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/", Latency: 20 * time.Millisecond, ErrorRate: 0.1, RateLimited: 0.1}})

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	first := e.rotate(ctx, nil)
	e.srv.SetFaults(nil)
	result := first
	if first.err != nil {
		t.Logf("the first run stopped under faults: %v", first.err)
		// A run stopped in preflight changed nothing and recorded nothing: the next run starts
		// afresh. Any later stop must leave the rotation resumable.
		j := e.journal()
		inPreflight := j == nil && strings.HasPrefix(first.err.Error(), "preflight: ")
		if !inPreflight && (j == nil || j.Status != steps.StatusInProgress) {
			t.Fatalf("after a failed run the journal should be in progress (resumable), got %+v", j)
		}
		result = e.rotate(context.Background(), nil)
		if result.err != nil {
			t.Fatalf("the resumed rotation (faults off) failed: %v", result.err)
		}
	}
	stats := svc.Stop()
	t.Logf("consumer: %d requests, %d failed, by kid %v", stats.Requests, stats.Failures, stats.ByKID)
	assertNoFailures(t, stats, 20)
	if result.res.Status != steps.StatusRotated {
		t.Fatalf("status %q, want rotated", result.res.Status)
	}
	if got := e.attachedKIDs(); !slices.Equal(got, []string{result.res.NewKID}) {
		t.Errorf("attached kids %v, want only the new %s", got, result.res.NewKID)
	}
	if files := e.newKeyFiles(); len(files) != 1 {
		t.Errorf("new private key files %v, want exactly one", files)
	}
	if got := systemKIDs(t, e.mc.SystemConfig); !slices.Equal(got, []string{result.res.NewKID}) {
		t.Errorf("system config lists %v, want only the new key", got)
	}
	if res := e.checkKey(t, e.oldKeyFile); res.OK {
		t.Errorf("the old key still works after the rotation")
	}
}

// TestUsageGateStaleService: a second service instance was never given the new key (it reads
// its own copy of the system config, made before the rotation, listing only the old key) and
// keeps requesting tokens. The retire gate sees the old key still in use after promote and
// stops the rotation with ErrUnsafe before retire changes anything: the old key stays
// attached and neither service fails. Once that instance is stopped (it got the new key), a
// second run completes the rotation.
func TestUsageGateStaleService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stalePath := filepath.Join(filepath.Dir(e.mc.SystemConfig), "stale-"+filepath.Base(e.mc.SystemConfig))
	if err := os.WriteFile(stalePath, readFile(t, e.mc.SystemConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	svc := e.startConsumer(e.mc.SystemConfig)
	stale := e.startConsumer(stalePath)
	svc.waitRequests(t, 5)
	stale.waitRequests(t, 5)

	first := e.rotate(context.Background(), nil)
	if !errors.Is(first.err, steps.ErrUnsafe) {
		t.Fatalf("Rotate with a service still on the old key = %v, want ErrUnsafe from the retire gate", first.err)
	}
	if !strings.Contains(first.err.Error(), e.oldKID) {
		t.Errorf("the refusal does not name the old key %s: %v", e.oldKID, first.err)
	}
	if got := stepStatus(first.res, steps.Promote); got != "done" {
		t.Errorf("promote: %q, want done", got)
	}
	if got := stepStatus(first.res, steps.Retire); got != "failed" {
		t.Errorf("retire: %q, want failed", got)
	}
	newKID := first.res.NewKID
	if got := e.attachedKIDs(); !slices.Equal(got, sortedPair(e.oldKID, newKID)) {
		t.Errorf("attached kids %v, want the old key still attached next to the new one", got)
	}
	if _, ok := auditDigest(e, "retire"); ok {
		t.Errorf("a retire plan was applied")
	}
	staleStats := stale.Stop()
	t.Logf("stale service: %d requests, %d failed, by kid %v", staleStats.Requests, staleStats.Failures, staleStats.ByKID)
	assertNoFailures(t, staleStats, 20)
	if staleStats.ByKID[newKID] != 0 {
		t.Errorf("the stale service used the new key it was never given")
	}

	// The stale instance is gone. Let a usage window pass, then resume.
	time.Sleep(2500 * time.Millisecond)
	second := e.rotate(context.Background(), nil)
	if second.err != nil {
		t.Fatalf("after the stale service stopped, the resumed rotation failed: %v", second.err)
	}
	assertRotatedOnce(t, e, second)
	assertNoFailures(t, svc.Stop(), 40)
}

// TestRotationWithCertificateAndPS256: the new key is a PS256 credential wrapped in a 30-day
// self-signed certificate; the tenant takes its expiry from the certificate, and the service,
// signing with PS256 from the system config, never fails.
func TestRotationWithCertificateAndPS256(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	e.opts.Alg, e.opts.CertDays = "PS256", new(30)
	start := time.Now()
	r := e.rotate(context.Background(), nil)
	if r.err != nil {
		t.Fatalf("Rotate: %v", r.err)
	}
	assertNoFailures(t, svc.Stop(), 20)
	c, err := e.srv.Tenant().Client(e.mc.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.PrivateKeyJWT == nil || len(*c.PrivateKeyJWT) != 1 {
		t.Fatalf("attached %v, want one credential", c.PrivateKeyJWT)
	}
	for _, cr := range c.Credentials {
		if cr.ID != (*c.PrivateKeyJWT)[0] {
			continue
		}
		if cr.KID != r.res.NewKID || cr.Alg != "PS256" {
			t.Errorf("attached credential kid %s alg %s, want %s PS256", cr.KID, cr.Alg, r.res.NewKID)
		}
		want := start.AddDate(0, 0, 30)
		if cr.ExpiresAt == nil || cr.ExpiresAt.Sub(want).Abs() > 2*time.Minute {
			t.Errorf("credential expiry %v, want about %v (the certificate's notAfter)", cr.ExpiresAt, want)
		}
	}
	f, err := sysconfig.Load(e.mc.SystemConfig)
	if err != nil {
		t.Fatal(err)
	}
	if en := f.Entries(); len(en) != 1 || en[0].Alg != "PS256" || en[0].KID != r.res.NewKID {
		t.Errorf("system config entries %+v, want the new PS256 key alone", en)
	}
	if !strings.Contains(string(readFile(t, e.mainTF())), "BEGIN CERTIFICATE") {
		t.Errorf("the HCL does not carry the new certificate")
	}
}

// TestRotationWithoutSystemConfigFile: without a system config file the engine shows each
// change to the service's credential list and waits for the operator to confirm it; the
// operator (a Prompter fake) makes the change by hand each time. The service, reading the
// file the operator edits, never fails; no question shows private key material.
func TestRotationWithoutSystemConfigFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.startConsumer(e.mc.SystemConfig)
	e.opts.SystemConfig = ""
	var staged sysconfig.Entry
	var asked []steps.Step
	var bodies strings.Builder
	edit := func(change func(*sysconfig.File) error) error {
		f, err := sysconfig.Load(e.mc.SystemConfig)
		if err != nil {
			return err
		}
		if err := change(f); err != nil {
			return err
		}
		return f.Save()
	}
	prompter := promptFunc(func(ctx context.Context, q steps.Question) (steps.Answer, error) {
		asked = append(asked, q.Step)
		bodies.WriteString(q.Title + "\n" + q.Body + "\n")
		var err error
		switch q.Step {
		case steps.Stage:
			var snippet struct{ Credentials []sysconfig.Entry }
			if err = json.Unmarshal([]byte(q.Body[strings.Index(q.Body, "{"):]), &snippet); err != nil || len(snippet.Credentials) != 1 {
				return steps.Answer{}, fmt.Errorf("the stage question has no entry to copy: %v\n%s", err, q.Body)
			}
			staged = snippet.Credentials[0]
			err = edit(func(f *sysconfig.File) error { return f.Stage(staged) })
		case steps.Promote:
			if !strings.Contains(q.Body, staged.KID) {
				return steps.Answer{}, fmt.Errorf("the promote question does not name the new key: %s", q.Body)
			}
			err = edit(func(f *sysconfig.File) error { return f.Promote(staged.KID) })
		case steps.Confirm:
			if !strings.Contains(q.Body, e.oldKID) {
				return steps.Answer{}, fmt.Errorf("the confirm question does not name the old key: %s", q.Body)
			}
			err = edit(func(f *sysconfig.File) error { return f.Remove(e.oldKID) })
		}
		if err != nil {
			return steps.Answer{}, err
		}
		return steps.AutoApprove{}.Ask(ctx, q)
	})
	r := call(context.Background(), steps.Rotate, e.opts, e.deps(prompter, nil), nil)
	if r.err != nil {
		t.Fatalf("Rotate: %v", r.err)
	}
	for _, s := range []steps.Step{steps.Stage, steps.Promote, steps.Confirm} {
		if !slices.Contains(asked, s) {
			t.Errorf("the operator was not asked to change the service's configuration at %s (asked at %v)", s, asked)
		}
	}
	if staged.KID != r.res.NewKID {
		t.Errorf("the stage question showed kid %s, the rotation's new key is %s", staged.KID, r.res.NewKID)
	}
	assertRotatedOnce(t, e, r)
	assertNoFailures(t, svc.Stop(), 20)
	for _, f := range append(e.newKeyFiles(), e.oldKeyFile) {
		if what, found := containsSecret([]byte(bodies.String()), pemBodyLines(readFile(t, f))); found {
			t.Errorf("a question shows private key material of %s (%s)", f, what)
		}
	}
}
