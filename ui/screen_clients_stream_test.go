package ui

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"rekey/inventory"
	"rekey/tenant"
)

// gatedSource is the inventory.Source these tests name: its client pages wait for listGate
// (when set) and each pool read waits for a value on step, so the test sees every stage.
type gatedSource struct {
	listed   []tenant.Client // as pages give them: pools unread
	pools    map[string][]tenant.Credential
	listGate chan struct{}
	step     chan struct{}

	mu   sync.Mutex
	read []string // client ids in the order their pools were read
}

// newGatedSource lists clients with their pools held back.
func newGatedSource(clients []tenant.Client) *gatedSource {
	src := &gatedSource{pools: map[string][]tenant.Credential{}, step: make(chan struct{})}
	for _, c := range clients {
		src.pools[c.ID] = c.Credentials
		for _, cr := range c.Attached() {
			c.AttachedIDs = append(c.AttachedIDs, cr.ID)
		}
		c.Credentials = nil
		src.listed = append(src.listed, c)
	}
	return src
}

func (g *gatedSource) ListClients(ctx context.Context) ([]tenant.Client, error) {
	if g.listGate != nil {
		select {
		case <-g.listGate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return slices.Clone(g.listed), nil
}

func (g *gatedSource) LoadPools(ctx context.Context, clients []tenant.Client, queue func() (int, bool), found func(int, []tenant.Credential, bool)) error {
	for {
		select {
		case <-g.step:
		case <-ctx.Done():
			return ctx.Err()
		}
		i, ok := queue()
		if !ok {
			return nil
		}
		g.mu.Lock()
		g.read = append(g.read, clients[i].ID)
		g.mu.Unlock()
		found(i, g.pools[clients[i].ID], false)
	}
}

func (g *gatedSource) readSoFar() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.read)
}

func TestClientsUsableWhileCredentialsStream(t *testing.T) {
	src := newGatedSource(manyClients(200))
	h := startHarness(t, Backend{Inventory: inventory.Loader{Source: src}}, 100, 24)
	h.waitFor("the listed clients", func() bool { return h.m.clients.listed })
	checkFrame(t, h.m.View(), 100, 24, "200 clients", "credentials 0/200", "Service 00000 Billing")
	if row := lineWith(h.text(), "Service 00000 Billing"); !strings.Contains(row, " 1 ") || !strings.Contains(row, "…") {
		t.Errorf("a row whose pool is unread shows its attached count and a pending expiry, got %q", row)
	}

	h.press("end") // the last page is in view: its pools come first
	src.step <- struct{}{}
	h.waitFor("a pool", func() bool { return len(src.readSoFar()) == 1 })
	inView := visibleNames(h.m.clients)[h.m.clients.offset:]
	first := src.readSoFar()[0]
	if !slices.ContainsFunc(h.m.clients.visible[h.m.clients.offset:], func(i int32) bool { return h.m.clients.list.rows[i].client.ID == first }) {
		t.Errorf("first pool read %s, want one of the rows in view %v", first, inView)
	}

	h.press("/")
	h.typeText("00007 ")
	if got := visibleNames(h.m.clients); len(got) != 1 || got[0] != "Service 00007 Ledger" {
		t.Errorf("filtering while loading: %v", got)
	}
	h.press("esc", "s") // sort by expiry while most pools are unread
	close(src.step)
	h.waitFor("every pool", func() bool { return !h.m.clients.loading })
	text := h.text()
	if strings.Contains(text, "credentials ") || strings.Contains(text, "…") {
		t.Errorf("after the load the progress and pending badges should be gone:\n%s", text)
	}
	want := h.m.clients.list.byExpiry
	rebuilt := buildClientList(manyClients(200), nil)
	for i := range want {
		if h.m.clients.list.rows[want[i]].client.ID != rebuilt.rows[rebuilt.byExpiry[i]].client.ID {
			t.Fatalf("expiry order after streaming differs from a list loaded whole at row %d", i)
		}
	}
}

func TestClientsStartFromTheCache(t *testing.T) {
	cache, err := inventory.OpenCache(t.TempDir(), "tenant.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.Save(manyClients(30), testNow.Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	src := newGatedSource(manyClients(31))
	src.listGate = make(chan struct{})
	h := startHarness(t, Backend{Inventory: inventory.Loader{Source: src, Cache: cache}}, 100, 24)
	h.waitFor("the cached clients", func() bool { return len(h.m.clients.list.rows) == 30 })
	checkFrame(t, h.m.View(), 100, 24, "30 clients", "cached 3h ago", "refreshing")
	if strings.Contains(h.text(), "…") {
		t.Errorf("cached pools should show their expiry:\n%s", h.text())
	}

	close(src.listGate)
	h.waitFor("the live list", func() bool { return h.m.clients.listed })
	checkFrame(t, h.m.View(), 100, 24, "31 clients", "credentials 0/31")
	if strings.Contains(h.text(), "cached") {
		t.Errorf("the live list is not marked cached:\n%s", h.text())
	}
	// The 30 cached pools show at once and are read again after the new client's.
	close(src.step)
	h.waitFor("every pool", func() bool { return !h.m.clients.loading })
	if read := src.readSoFar(); len(read) != 31 || read[0] != manyClients(31)[30].ID {
		t.Errorf("pools read %d, first %v; want all 31, the uncached one first", len(read), read[:1])
	}
}

// lineWith returns the first line of text containing s.
func lineWith(text, s string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
