package inventory_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rekey/inventory"
	"rekey/keys"
	"rekey/sandbox"
	"rekey/tenant"
)

// world is a sandbox tenant of machine clients, every other one a private_key_jwt client with
// one attached credential, and rekey's connection to it, counting credential-pool requests.
type world struct {
	srv    *sandbox.Server
	tn     *sandbox.Tenant
	conn   *tenant.Tenant
	pools  atomic.Int64 // GET /api/v2/clients/{id}/credentials sent
	sent   atomic.Int64 // every Management API request
	secret string       // the management client's
}

func newWorld(t testing.TB, clients int, limits sandbox.RateLimits) *world {
	t.Helper()
	tn, err := sandbox.NewTenant(sandbox.DefaultPoolCap)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.Start(sandbox.Options{Tenant: tn, RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	mgmt := tn.AddClient(sandbox.ManagementClientName, "non_interactive", []string{"client_credentials"})
	if _, err := tn.AddGrant(mgmt.ID, srv.ManagementAudience(), []string{"read:clients", "read:client_credentials"}); err != nil {
		t.Fatal(err)
	}
	w := &world{srv: srv, tn: tn, secret: mgmt.Secret}
	pem := newPEM(t)
	for i := range clients {
		w.addClient(t, fmt.Sprintf("service-%05d", i), i%2 == 0, pem)
	}
	hc := srv.HTTPClient()
	base := hc.Transport
	hc.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/credentials") {
			w.pools.Add(1)
		}
		if strings.HasPrefix(r.URL.Path, "/api/v2/") {
			w.sent.Add(1)
		}
		return base.RoundTrip(r)
	})
	t.Cleanup(hc.CloseIdleConnections)
	if w.conn, err = tenant.Connect(tenant.Config{Domain: srv.Domain(), ClientID: mgmt.ID, ClientSecret: mgmt.Secret, HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	return w
}

// newPEM is a new public key.
func newPEM(t testing.TB) string {
	t.Helper()
	key, err := keys.Generate(keys.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := keys.PublicPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem)
}

// addClient adds a machine client, with one attached credential when pkjwt.
func (w *world) addClient(t testing.TB, name string, pkjwt bool, pem string) string {
	t.Helper()
	c := w.tn.AddClient(name, "non_interactive", []string{"client_credentials"})
	if pkjwt {
		w.attachNew(t, c.ID, pem)
	}
	return c.ID
}

// attachNew creates a credential for a client and attaches it alone.
func (w *world) attachNew(t testing.TB, clientID, pem string) {
	t.Helper()
	cr, err := w.tn.CreateCredential(clientID, sandbox.NewCredential{Name: "current", PEM: pem})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{cr.ID}
	if _, err := w.tn.UpdateClient(clientID, sandbox.ClientPatch{TokenEndpointAuthMethodSet: true, AuthMethodsSet: true, PrivateKeyJWT: &ids}); err != nil {
		t.Fatal(err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// drain reads a load to its end.
func drain(t testing.TB, ld *inventory.Load) []inventory.Update {
	t.Helper()
	var out []inventory.Update
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case u, ok := <-ld.Updates():
			if !ok {
				return out
			}
			out = append(out, u)
		case <-timeout:
			t.Fatalf("the load did not end; %d updates so far", len(out))
		}
	}
}

func TestLoadStagesThenCache(t *testing.T) {
	w := newWorld(t, 40, sandbox.RateLimits{})
	want, err := w.conn.Clients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cache, err := inventory.OpenCache(t.TempDir(), w.srv.Domain())
	if err != nil {
		t.Fatal(err)
	}
	loader := inventory.Loader{Source: w.conn, Cache: cache}

	t.Run("first load: listed, then pools, nothing cached", func(t *testing.T) {
		w.pools.Store(0)
		ups := drain(t, loader.Start(context.Background()))
		listed, final := ups[0], ups[len(ups)-1]
		if !listed.CachedAt.IsZero() || len(listed.Clients) != len(want) || listed.ToLoad != 20 {
			t.Fatalf("first update: %d clients, cached at %v, %d to load; want the %d listed clients, 20 pools to load", len(listed.Clients), listed.CachedAt, listed.ToLoad, len(want))
		}
		for _, c := range listed.Clients {
			if c.AuthMethod == "private_key_jwt" && (c.Credentials != nil || c.AttachedCount() != 1) {
				t.Fatalf("listed %s: pool %v, %d attached; want an unread pool and 1 attached id", c.Name, c.Credentials, c.AttachedCount())
			}
		}
		pools := 0
		for _, u := range ups[1:] {
			pools += len(u.Pools)
		}
		if !final.Final || final.Err != nil || pools != 20 || final.Loaded != 20 || w.pools.Load() != 20 {
			t.Fatalf("final %+v after %d pools in updates, %d requested; want 20", final, pools, w.pools.Load())
		}
		assertSameClients(t, final.Clients, want)
	})

	t.Run("the cache file holds no secret and only its owner reads it", func(t *testing.T) {
		info, err := os.Stat(cache.Path())
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("cache mode %v, want 0600", info.Mode().Perm())
		}
		data, _ := os.ReadFile(cache.Path())
		for _, secret := range []string{"BEGIN", w.secret} {
			if strings.Contains(string(data), secret) {
				t.Errorf("the cache holds %q", secret)
			}
		}
	})

	t.Run("next load: the cached list at once, then every pool read again", func(t *testing.T) {
		w.pools.Store(0)
		ups := drain(t, loader.Start(context.Background()))
		cached, listed, final := ups[0], ups[1], ups[len(ups)-1]
		if cached.CachedAt.IsZero() || time.Since(cached.CachedAt) > time.Minute {
			t.Fatalf("first update cached at %v, want the cache's time", cached.CachedAt)
		}
		assertSameClients(t, cached.Clients, want)
		for _, c := range listed.Clients {
			if !c.PoolKnown() {
				t.Fatalf("listed %s without its cached pool", c.Name)
			}
		}
		if listed.ToLoad != 20 || w.pools.Load() != 20 {
			t.Fatalf("refreshed %d of %d pools, want all 20", w.pools.Load(), listed.ToLoad)
		}
		assertSameClients(t, final.Clients, want)
	})

	t.Run("trusting the cache reads only the pools it cannot vouch for", func(t *testing.T) {
		pem := newPEM(t)
		added := w.addClient(t, "service-new", true, pem)
		changed := want[slices.IndexFunc(want, func(c tenant.Client) bool { return c.AuthMethod == "private_key_jwt" })].ID
		w.attachNew(t, changed, pem) // a new credential attached: the cached pool no longer covers it
		want, err := w.conn.Clients(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		w.pools.Store(0)
		trusting := loader
		trusting.TrustCache = true
		ups := drain(t, trusting.Start(context.Background()))
		if got := ups[1].ToLoad; got != 2 || w.pools.Load() != 2 {
			t.Fatalf("read %d pools (%d planned), want 2: %s and %s", w.pools.Load(), got, added, changed)
		}
		assertSameClients(t, ups[len(ups)-1].Clients, want)
	})
}

// assertSameClients compares the lists by id, name, attached kids and credential ids.
func assertSameClients(t *testing.T, got, want []tenant.Client) {
	t.Helper()
	summary := func(cs []tenant.Client) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			var ids []string
			for _, cr := range c.Credentials {
				ids = append(ids, fmt.Sprintf("%s:%s:%v", cr.ID, cr.KID, cr.Attached))
			}
			out[i] = fmt.Sprintf("%s %s %s %v", c.ID, c.Name, c.AuthMethod, ids)
		}
		slices.Sort(out)
		return out
	}
	if g, w := summary(got), summary(want); !slices.Equal(g, w) {
		t.Fatalf("clients differ:\ngot  %q\nwant %q", g, w)
	}
}

// scripted is a Source (the seam these tests name) whose pool reads wait for start, then take
// the queue one at a time, recording the order.
type scripted struct {
	clients []tenant.Client
	start   chan struct{}
	order   []string
	gone    map[string]bool
	hangAt  int          // when > 0: after this many pools, wait for the load to be cancelled
	read    atomic.Int32 // pools read so far
}

func (s *scripted) ListClients(context.Context) ([]tenant.Client, error) {
	return slices.Clone(s.clients), nil
}

func (s *scripted) LoadPools(ctx context.Context, clients []tenant.Client, queue func() (int, bool), found func(int, []tenant.Credential, bool)) error {
	<-s.start
	for i, ok := queue(); ok; i, ok = queue() {
		if s.hangAt > 0 && len(s.order) == s.hangAt {
			<-ctx.Done()
			return ctx.Err()
		}
		s.order = append(s.order, clients[i].ID)
		s.read.Add(1)
		found(i, []tenant.Credential{}, s.gone[clients[i].ID])
	}
	return ctx.Err()
}

func TestPreferredPoolsAreReadFirst(t *testing.T) {
	src := &scripted{start: make(chan struct{}), gone: map[string]bool{"c03": true}}
	for i := range 6 {
		src.clients = append(src.clients, tenant.Client{ID: fmt.Sprintf("c%02d", i), AuthMethod: "private_key_jwt"})
	}
	ld := inventory.Loader{Source: src, Every: time.Millisecond}.Start(context.Background())
	listed := <-ld.Updates()
	if listed.ToLoad != 6 {
		t.Fatalf("ToLoad %d, want 6", listed.ToLoad)
	}
	ld.Prefer([]string{"c04", "c03", "unknown"})
	close(src.start)
	ups := drain(t, ld)
	if want := []string{"c04", "c03", "c00", "c01", "c02", "c05"}; !slices.Equal(src.order, want) {
		t.Errorf("read order %v, want %v", src.order, want)
	}
	final := ups[len(ups)-1]
	var gone []string
	for _, u := range ups {
		gone = append(gone, u.Gone...)
	}
	if !slices.Equal(gone, []string{"c03"}) || len(final.Clients) != 5 || slices.ContainsFunc(final.Clients, func(c tenant.Client) bool { return c.ID == "c03" }) {
		t.Errorf("gone %v, final %d clients; want c03 gone and left out", gone, len(final.Clients))
	}
}

func TestCacheKeepsAPoolOnlyWhileItCoversTheSlot(t *testing.T) {
	cache, err := inventory.OpenCache(t.TempDir(), "tenant.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cache.Load(); ok {
		t.Fatal("a missing cache loaded")
	}
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	saved := []tenant.Client{
		{ID: "a", Name: "alpha", AuthMethod: "private_key_jwt", AttachedIDs: []string{"cred1"},
			Credentials: []tenant.Credential{{ID: "cred1", KID: "k1", Attached: true}, {ID: "cred0", KID: "k0"}}},
		{ID: "b", Name: "beta", AuthMethod: "private_key_jwt", AttachedIDs: []string{"cred2"}}, // pool unread
		{ID: "c", Name: "alpha", AuthMethod: "client_secret_post"},
	}
	if err := cache.Save(saved, at); err != nil {
		t.Fatal(err)
	}
	got, ok := cache.Load()
	if !ok || !got.SavedAt.Equal(at) || len(got.Clients) != 3 {
		t.Fatalf("loaded %+v (ok %v)", got, ok)
	}
	if got.Clients[1].Credentials != nil {
		t.Errorf("an unread pool came back as read: %v", got.Clients[1].Credentials)
	}
	if ids := got.IDsNamed("alpha"); !slices.Equal(ids, []string{"a", "c"}) {
		t.Errorf("IDsNamed(alpha) = %v", ids)
	}
	for _, tc := range []struct {
		attached []string
		want     []string // credential ids in order; nil: no pool
	}{
		{[]string{"cred1"}, []string{"cred1", "cred0"}},
		{[]string{"cred0", "cred1"}, []string{"cred0", "cred1"}},
		{[]string{"cred1", "cred9"}, nil}, // attaches a credential the cache never saw
		{nil, []string{"cred0", "cred1"}},
	} {
		pool, ok := got.Pool(tenant.Client{ID: "a", AttachedIDs: tc.attached})
		var ids []string
		for _, cr := range pool {
			ids = append(ids, cr.ID)
		}
		if ok != (tc.want != nil) || !slices.Equal(ids, tc.want) {
			t.Errorf("attached %v: pool %v (ok %v), want %v", tc.attached, ids, ok, tc.want)
		}
	}
	if err := os.WriteFile(cache.Path(), []byte(`{"version": 99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := cache.Load(); ok {
		t.Error("a cache of another version loaded")
	}
	if filepath.Base(cache.Path()) != "tenant.example.com.json" {
		t.Errorf("cache file %s", cache.Path())
	}
}

func TestIDForNameReadsOneClient(t *testing.T) {
	w := newWorld(t, 6, sandbox.RateLimits{})
	dup := w.addClient(t, "service-00001", false, "")
	cache, err := inventory.OpenCache(t.TempDir(), w.srv.Domain())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cache.IDForName(context.Background(), "service-00002", w.conn.ClientByID); ok {
		t.Fatal("resolved a name without a cache")
	}
	drain(t, inventory.Loader{Source: w.conn, Cache: cache}.Start(context.Background()))
	all, err := w.conn.ListClients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := all[slices.IndexFunc(all, func(c tenant.Client) bool { return c.Name == "service-00002" })].ID

	w.sent.Store(0)
	id, ok := cache.IDForName(context.Background(), "service-00002", w.conn.ClientByID)
	if !ok || id != want || w.sent.Load() != 2 {
		t.Errorf("service-00002: %q (ok %v) after %d requests; want %s after reading it and its pool", id, ok, w.sent.Load(), want)
	}
	if _, ok := cache.IDForName(context.Background(), "service-00001", w.conn.ClientByID); ok {
		t.Errorf("resolved a name two clients share (one is %s)", dup)
	}
	if _, err := w.tn.UpdateClient(want, sandbox.ClientPatch{Name: new("renamed")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := cache.IDForName(context.Background(), "service-00002", w.conn.ClientByID); ok {
		t.Error("resolved a name the client no longer has")
	}
}

func TestCancelledLoadSavesWhatItRead(t *testing.T) {
	src := &scripted{start: make(chan struct{}), hangAt: 2}
	for i := range 5 {
		src.clients = append(src.clients, tenant.Client{ID: fmt.Sprintf("c%02d", i), Name: fmt.Sprintf("client %d", i), AuthMethod: "private_key_jwt"})
	}
	cache, err := inventory.OpenCache(t.TempDir(), "tenant.example.com")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ld := inventory.Loader{Source: src, Cache: cache}.Start(ctx)
	<-ld.Updates() // the listed clients
	close(src.start)
	for src.read.Load() < 2 { // the first two pools are read; the load then waits
		time.Sleep(time.Millisecond)
	}
	cancel() // as the wizard does when it quits
	select {
	case <-ld.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the load did not end once cancelled")
	}
	saved, ok := cache.Load()
	if !ok || len(saved.Clients) != 5 {
		t.Fatalf("cache after a cancelled load: %+v (ok %v)", saved, ok)
	}
	var read []string
	for _, c := range saved.Clients {
		if c.Credentials != nil {
			read = append(read, c.ID)
		}
	}
	if !slices.Equal(read, []string{"c00", "c01"}) {
		t.Errorf("saved pools of %v, want the two read: c00, c01", read)
	}
}
