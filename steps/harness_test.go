package steps_test

// The test harness: every test gets its own embedded sandbox tenant, seeded through real
// Terraform with the stand-in auth0 provider (the rekey binary), and drives the real engine
// against it over HTTPS. Nothing a test mutates is shared with another test.
//
// Seams, named where they are used:
//   - promptFunc: a Prompter fake (the wizard's and the terminal's Prompter are UI code);
//     steps.AutoApprove is the real headless one and the default here.
//   - skewClock: Deps.Now, only to make a 30-second propagation timeout pass at once.
//   - Events hooks: a test reacts to the engine's events (e.g. cancels its context right after
//     a step finished), as the wizard does.

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rekey/consumer"
	"rekey/keys"
	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/steps"
	"rekey/sysconfig"
	"rekey/tenant"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

func TestMain(m *testing.M) { tftest.Main(m) }

// clientName is the seeded client the tests rotate.
const clientName = "billing-worker"

// consumerRate is the demo consumer's token requests per second.
const consumerRate = 25

// env is one sandbox tenant with its Terraform workspace, ready for a rotation of
// billing-worker.
type env struct {
	t    testing.TB
	dir  string
	srv  *sandbox.Server
	m    *sandbox.Manifest
	mc   sandbox.ManifestClient
	cfg  tenant.Config
	conn *tenant.Tenant
	bin  tfrunner.Binary
	opts steps.Options
	// oldKID is billing-worker's seeded key; oldKeyFile its private key.
	oldKID, oldKeyFile string
}

// newEnv starts a fresh sandbox in a temporary folder, seeded through Terraform with the real
// auth0 provider.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, sandboxtest.RealProvider(t))
}

// newEnvWith starts a fresh sandbox whose workspace runs provider.
func newEnvWith(t testing.TB, provider sandbox.Provider) *env {
	t.Helper()
	return newEnvIn(t, provider, sandbox.LayoutLiteral)
}

// newEnvIn starts a fresh sandbox whose workspace runs provider and declares the credentials
// in layout.
func newEnvIn(t testing.TB, provider sandbox.Provider, layout sandbox.Layout) *env {
	t.Helper()
	return newEnvSetup(t, provider, sandbox.SetupOptions{Terraform: &sandbox.TerraformOptions{Provider: provider, Layout: layout}})
}

// newEnvSetup starts a fresh sandbox as opts say, its workspace running provider with the
// tests' Terraform.
func newEnvSetup(t testing.TB, provider sandbox.Provider, opts sandbox.SetupOptions) *env {
	t.Helper()
	dir := t.TempDir()
	bin := tftest.Terraform(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts.Terraform.Binary, opts.Terraform.Provider = bin, provider
	srv, m, err := sandbox.Setup(ctx, dir, opts)
	if err != nil {
		t.Fatalf("sandbox.Setup: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := tenant.Config{Domain: m.Domain, ClientID: m.Management.ClientID, ClientSecret: m.Management.ClientSecret, HTTPClient: srv.HTTPClient()}
	conn, err := tenant.Connect(cfg)
	if err != nil {
		t.Fatalf("tenant.Connect: %v", err)
	}
	e := &env{t: t, dir: dir, srv: srv, m: m, cfg: cfg, conn: conn, bin: bin}
	for _, c := range m.Clients {
		if c.Name == clientName {
			e.mc = c
		}
	}
	if e.mc.ClientID == "" || len(e.mc.Credentials) != 1 {
		t.Fatalf("the sandbox manifest has no single-credential %s: %+v", clientName, m.Clients)
	}
	e.oldKID, e.oldKeyFile = e.mc.Credentials[0].KID, e.mc.Credentials[0].PrivateKeyFile
	if e.oldKeyFile == "" {
		t.Fatalf("the manifest does not know %s's private key", clientName)
	}
	e.opts = steps.Options{
		Client: clientName, TerraformDir: m.TerraformDir, SystemConfig: e.mc.SystemConfig,
		KeyDir: filepath.Join(dir, "keys-new"), Operator: "steps-test",
		// The smallest key Auth0 accepts keeps generation fast; the size is not under test.
		Bits: 2048,
	}
	return e
}

// deps are the engine's real parts over this sandbox, with p as the Prompter (AutoApprove when
// nil) and the events sent to events.
func (e *env) deps(p steps.Prompter, events chan<- steps.Event) steps.Deps {
	if p == nil {
		p = steps.AutoApprove{}
	}
	return steps.Deps{
		Tenant:    steps.TenantAPI{Conn: e.conn, Config: e.cfg},
		Terraform: tfrunner.Config{Binary: e.bin, Env: e.m.TerraformEnv()},
		Prompter:  p,
		Usage:     e.srv.Tenant(),
		Events:    events,
	}
}

// run is one call of the engine and what it reported.
type run struct {
	res    steps.Result
	err    error
	events []steps.Event
}

// engineFunc is steps.Rotate or steps.Abort.
type engineFunc func(context.Context, steps.Options, steps.Deps) (steps.Result, error)

// call runs fn with deps, draining its events through an unbuffered channel: hook (if any) sees
// each event before the engine can send the next one, so a hook that cancels the context
// right after StepFinished runs before the next step is announced.
func call(ctx context.Context, fn engineFunc, opts steps.Options, deps steps.Deps, hook func(steps.Event)) run {
	ch := make(chan steps.Event)
	deps.Events = ch
	var events []steps.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			events = append(events, ev)
			if hook != nil {
				hook(ev)
			}
		}
	}()
	res, err := fn(ctx, opts, deps)
	close(ch)
	<-done
	return run{res: res, err: err, events: events}
}

// rotate runs steps.Rotate with this env's options and AutoApprove.
func (e *env) rotate(ctx context.Context, hook func(steps.Event)) run {
	e.t.Helper()
	return call(ctx, steps.Rotate, e.opts, e.deps(nil, nil), hook)
}

// stopAfter returns a context and an event hook that cancels it right after step s finished.
func stopAfter(s steps.Step) (context.Context, func(steps.Event), context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	return ctx, func(ev steps.Event) {
		if ev.Kind == steps.StepFinished && ev.Step == s {
			cancel()
		}
	}, cancel
}

// promptFunc is a test Prompter (a seam standing in for the wizard's screens).
type promptFunc func(ctx context.Context, q steps.Question) (steps.Answer, error)

func (f promptFunc) Ask(ctx context.Context, q steps.Question) (steps.Answer, error) {
	return f(ctx, q)
}

// skewClock is Deps.Now running ahead of the wall clock by a growing skew; a test advances it
// to make the engine's propagation timeout pass without waiting 30 seconds.
type skewClock struct{ skew atomic.Int64 }

func (c *skewClock) now() time.Time          { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c *skewClock) advance(d time.Duration) { c.skew.Add(int64(d)) }

// --- the consumer -------------------------------------------------------------------------

// runningConsumer is a demo consumer requesting tokens from a system config.
type runningConsumer struct {
	stats consumer.Stats
	stop  func()
	done  chan struct{}
	once  sync.Once
}

// startConsumer starts a consumer of billing-worker's tokens from the system config at path,
// at consumerRate a second, until Stop or the end of the test.
func (e *env) startConsumer(path string) *runningConsumer {
	e.t.Helper()
	return e.startConsumerOf(e.mc, path)
}

// startConsumerOf starts a consumer of mc's tokens from the system config at path.
func (e *env) startConsumerOf(mc sandbox.ManifestClient, path string) *runningConsumer {
	e.t.Helper()
	ts, err := consumer.New(consumer.Config{SystemConfig: path, Domain: e.m.Domain, ClientID: mc.ClientID, Audience: mc.Audience, HTTPClient: e.srv.HTTPClient()})
	if err != nil {
		e.t.Fatalf("consumer.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &runningConsumer{stop: cancel, done: make(chan struct{})}
	go func() { defer close(c.done); consumer.Run(ctx, ts, consumerRate, &c.stats) }()
	e.t.Cleanup(func() { c.Stop() })
	return c
}

// Stop ends the consumer and returns its final counts.
func (c *runningConsumer) Stop() *consumer.Stats {
	c.once.Do(func() { c.stop(); <-c.done })
	return c.stats.Snapshot()
}

// waitRequests waits until the consumer completed at least n requests (or a few seconds).
func (c *runningConsumer) waitRequests(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.stats.Snapshot().Requests < n {
		if time.Now().After(deadline) {
			t.Fatalf("the consumer made %d requests in 5s, want %d", c.stats.Snapshot().Requests, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertNoFailures fails the test when the consumer saw a failed token request.
func assertNoFailures(t *testing.T, s *consumer.Stats, minRequests int64) {
	t.Helper()
	if s.Failures != 0 {
		t.Errorf("the consumer saw %d failed token requests out of %d (last: %s); a rotation must cause no downtime", s.Failures, s.Requests, s.LastError)
	}
	if s.Requests < minRequests {
		t.Errorf("the consumer completed only %d token requests, want at least %d", s.Requests, minRequests)
	}
}

// --- reading the world --------------------------------------------------------------------

// attachedKIDs are the kids of billing-worker's credentials attached in the sandbox tenant.
func (e *env) attachedKIDs() []string {
	e.t.Helper()
	c, err := e.srv.Tenant().Client(e.mc.ClientID)
	if err != nil {
		e.t.Fatalf("tenant client: %v", err)
	}
	var out []string
	if c.PrivateKeyJWT == nil {
		return nil
	}
	for _, id := range *c.PrivateKeyJWT {
		for _, cr := range c.Credentials {
			if cr.ID == id {
				out = append(out, cr.KID)
			}
		}
	}
	sort.Strings(out)
	return out
}

// credentialID is the tenant id of billing-worker's credential with kid.
func (e *env) credentialID(kid string) string {
	e.t.Helper()
	c, err := e.srv.Tenant().Client(e.mc.ClientID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, cr := range c.Credentials {
		if cr.KID == kid {
			return cr.ID
		}
	}
	e.t.Fatalf("no credential with kid %s", kid)
	return ""
}

// systemKIDs lists the kids of a system config in order.
func systemKIDs(t *testing.T, path string) []string {
	t.Helper()
	f, err := sysconfig.Load(path)
	if err != nil {
		t.Fatalf("load system config: %v", err)
	}
	var out []string
	for _, en := range f.Entries() {
		out = append(out, en.KID)
	}
	return out
}

// mainTF is the workspace's main.tf.
func (e *env) mainTF() string { return filepath.Join(e.m.TerraformDir, "main.tf") }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkKey runs a live token exchange with the private key in file.
func (e *env) checkKey(t *testing.T, file string) tenant.CheckResult {
	t.Helper()
	key, err := keys.LoadPrivateKey(file)
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return e.check(key)
}

func (e *env) check(key *rsa.PrivateKey) tenant.CheckResult {
	return tenant.CheckKey(context.Background(), e.cfg, e.mc.ClientID, key, "RS256", e.mc.Audience)
}

// newKeyFiles lists the private key files the engine generated.
func (e *env) newKeyFiles() []string {
	files, _ := filepath.Glob(filepath.Join(e.opts.KeyDir, "*.pem"))
	return files
}

// auditRecords reads the audit log of the workspace (none when it does not exist).
func (e *env) auditRecords() []steps.AuditRecord {
	e.t.Helper()
	data, err := os.ReadFile(steps.AuditPath(e.m.TerraformDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		e.t.Fatal(err)
	}
	var out []steps.AuditRecord
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var r steps.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			e.t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// journal is billing-worker's journal in progress, or nil.
func (e *env) journal() *steps.Journal {
	e.t.Helper()
	j, err := steps.LoadJournal(e.m.TerraformDir, e.mc.ClientID)
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

// archivedJournals reads the journals of finished rotations in .rekey/done.
func (e *env) archivedJournals() []steps.Journal {
	e.t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.m.TerraformDir, ".rekey", "done", "*.json"))
	var out []steps.Journal
	for _, f := range files {
		var j steps.Journal
		if err := json.Unmarshal(readFile(e.t, f), &j); err != nil {
			e.t.Fatalf("%s: %v", f, err)
		}
		out = append(out, j)
	}
	return out
}

// stepStatus is the status a Result reports for step s.
func stepStatus(r steps.Result, s steps.Step) string {
	for _, sr := range r.Steps {
		if sr.Step == s.String() {
			return sr.Status
		}
	}
	return ""
}

// snapshot is everything a refused rotation must leave as it was.
type snapshot struct {
	files    map[string]string // .tf, .tfstate, the system config, .terraform.lock.hcl
	attached []string
	pool     []string // credential ids in the client's pool
	newKeys  []string
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	s := snapshot{files: map[string]string{}, attached: e.attachedKIDs(), newKeys: e.newKeyFiles()}
	paths, _ := filepath.Glob(filepath.Join(e.m.TerraformDir, "*"))
	paths = append(paths, e.mc.SystemConfig)
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			s.files[p] = string(readFile(e.t, p))
		}
	}
	c, _ := e.srv.Tenant().Client(e.mc.ClientID)
	for _, cr := range c.Credentials {
		s.pool = append(s.pool, cr.ID)
	}
	return s
}

// assertUnchanged fails when anything in before changed.
func (e *env) assertUnchanged(t *testing.T, before snapshot) {
	t.Helper()
	after := e.snapshot()
	for p, data := range before.files {
		if after.files[p] != data {
			t.Errorf("%s changed", p)
		}
	}
	for p := range after.files {
		if _, ok := before.files[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
	if !slices.Equal(before.attached, after.attached) {
		t.Errorf("attached kids changed: %v -> %v", before.attached, after.attached)
	}
	if !slices.Equal(before.pool, after.pool) {
		t.Errorf("credential pool changed: %v -> %v", before.pool, after.pool)
	}
	if !slices.Equal(before.newKeys, after.newKeys) {
		t.Errorf("new private key files: %v -> %v", before.newKeys, after.newKeys)
	}
}

// pemBodyLines are the base64 lines of a PEM file's body (the key material).
func pemBodyLines(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "-----") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// containsSecret reports which base64 line of secret (a private key's PEM body, or the body
// joined) occurs in text.
func containsSecret(text []byte, body []string) (string, bool) {
	joined := strings.Join(body, "")
	if bytes.Contains(text, []byte(joined)) {
		return "the whole body", true
	}
	for _, line := range body {
		// Short last lines could match by chance; every full 64-character line is key material.
		if len(line) >= 40 && bytes.Contains(text, []byte(line)) {
			return line, true
		}
	}
	return "", false
}
