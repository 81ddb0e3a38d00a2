package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"rekey/inventory"
	"rekey/steps"
	"rekey/tenant"
)

// complete is a Backend.Inventory of a fixed list.
func complete(list func(context.Context) ([]tenant.Client, error)) inventory.Loader {
	return inventory.Loader{Source: fixedSource(list)}
}

// fixedSource is an inventory.Source (the seam these tests name) whose list comes with every
// pool known: a load of it reads no pool.
type fixedSource func(ctx context.Context) ([]tenant.Client, error)

// ListClients returns the list, with the pools of private_key_jwt clients that lack one empty.
func (f fixedSource) ListClients(ctx context.Context) ([]tenant.Client, error) {
	clients, err := f(ctx)
	for i, c := range clients {
		if !c.PoolKnown() {
			clients[i].Credentials = []tenant.Credential{}
		}
	}
	return clients, err
}

// LoadPools has nothing to read.
func (fixedSource) LoadPools(context.Context, []tenant.Client, func() (int, bool), func(int, []tenant.Credential, bool)) error {
	return nil
}

// manyClients makes n private_key_jwt clients with varied names and expiries.
func manyClients(n int) []tenant.Client {
	out := make([]tenant.Client, n)
	for i := range out {
		exp := testNow.Add(time.Duration((i*7919)%400-20) * 24 * time.Hour)
		out[i] = tenant.Client{
			ID: fmt.Sprintf("cl_%029d", i), Name: fmt.Sprintf("Service %05d %s", i, []string{"Billing", "Reports", "Gateway", "Ledger"}[i%4]),
			AuthMethod:  "private_key_jwt",
			Credentials: []tenant.Credential{{ID: fmt.Sprintf("cred_%d", i), KID: fmt.Sprintf("kid%d", i), Alg: "RS256", ExpiresAt: &exp, Attached: true}},
		}
	}
	return out
}

// clientsBackend is a backend that lists clients and nothing else.
func clientsBackend(clients []tenant.Client) Backend {
	return Backend{Inventory: complete(func(context.Context) ([]tenant.Client, error) { return clients, nil })}
}

func visibleNames(s *clientsScreen) []string {
	var out []string
	for _, i := range s.visible {
		out = append(out, s.list.rows[i].client.Name)
	}
	return out
}

func TestClientsFilterAsYouType(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f.backend, 80, 24)
	s := h.m.clients
	if got := len(s.visible); got != 3 {
		t.Fatalf("%d clients visible, want 3", got)
	}
	h.press("/")
	if !s.capturing() {
		t.Fatal("/ did not focus the filter")
	}
	h.typeText("BILL") // case-insensitive, on the name
	if got := visibleNames(s); len(got) != 1 || got[0] != "billing-service" {
		t.Fatalf("filter BILL shows %v", got)
	}
	h.press("backspace", "backspace", "backspace", "backspace")
	h.typeText("web0000") // on the client id
	if got := visibleNames(s); len(got) != 1 || got[0] != "Web Portal" {
		t.Fatalf("filter web0000 shows %v", got)
	}
	// q is text while filtering, not quit.
	h.typeText("q")
	if h.m.quitting {
		t.Fatal("q quit while typing a filter")
	}
	if !strings.Contains(h.text(), `No client matches "web0000q"`) {
		t.Errorf("no-match message missing:\n%s", h.text())
	}
	h.press("esc")
	if s.capturing() || s.filter.Value() != "" || len(s.visible) != 3 {
		t.Fatalf("esc: capturing=%v filter=%q visible=%d, want cleared", s.capturing(), s.filter.Value(), len(s.visible))
	}
}

func TestClientsFilterNarrowsAndWidens(t *testing.T) {
	h := newHarness(t, clientsBackend(manyClients(200)), 80, 24)
	s := h.m.clients
	h.press("/")
	h.typeText("ledger")
	if got := len(s.visible); got != 50 {
		t.Fatalf("ledger: %d visible, want 50", got)
	}
	h.typeText(" ") // "ledger " matches nothing: names end with the word
	if got := len(s.visible); got != 0 {
		t.Fatalf("'ledger ': %d visible, want 0", got)
	}
	h.press("backspace") // widening must search everything again, not the narrowed set
	if got := len(s.visible); got != 50 {
		t.Fatalf("after backspace: %d visible, want 50", got)
	}
	for _, n := range visibleNames(s) {
		if !strings.HasSuffix(n, "Ledger") {
			t.Fatalf("%q matched ledger", n)
		}
	}
}

func TestClientsSortCyclesNameAndExpiry(t *testing.T) {
	clients := manyClients(50)
	h := newHarness(t, clientsBackend(clients), 80, 24)
	s := h.m.clients
	names := visibleNames(s)
	for i := 1; i < len(names); i++ {
		if strings.ToLower(names[i-1]) > strings.ToLower(names[i]) {
			t.Fatalf("by name: %q before %q", names[i-1], names[i])
		}
	}
	h.press("down", "down")
	selected := s.list.rows[s.visible[s.cursor]].client.ID
	h.press("s")
	if s.sort != sortByExpiry {
		t.Fatal("s did not sort by expiry")
	}
	for i := 1; i < len(s.visible); i++ {
		a, b := s.list.rows[s.visible[i-1]], s.list.rows[s.visible[i]]
		if a.expiry.After(b.expiry) {
			t.Fatalf("by expiry: %s (%s) before %s (%s)", a.client.Name, a.expiry, b.client.Name, b.expiry)
		}
	}
	if got := s.list.rows[s.visible[s.cursor]].client.ID; got != selected {
		t.Errorf("the selection moved from %s to %s when sorting", selected, got)
	}
	if !strings.Contains(h.text(), "sorted by soonest expiry") {
		t.Errorf("sort not shown:\n%s", h.text())
	}
	h.press("s")
	if s.sort != sortByName {
		t.Fatal("s did not cycle back to name")
	}
}

func TestClientsExpirySortPutsNoExpiryLast(t *testing.T) {
	exp := testNow.Add(400 * 24 * time.Hour)
	list := buildClientList([]tenant.Client{
		{ID: "a", Name: "a-secret", AuthMethod: "client_secret_post"},
		{ID: "b", Name: "b-noexp", AuthMethod: "private_key_jwt", Credentials: []tenant.Credential{{KID: "k", Attached: true}}},
		{ID: "c", Name: "c-exp", AuthMethod: "private_key_jwt", Credentials: []tenant.Credential{{KID: "k", Attached: true, ExpiresAt: &exp}}},
	}, nil)
	var got []string
	for _, i := range list.byExpiry {
		got = append(got, list.rows[i].client.ID)
	}
	if strings.Join(got, "") != "cba" {
		t.Fatalf("expiry order %v, want c (expires), b (no expiry), a (not private_key_jwt)", got)
	}
}

func TestClientsBadgesAndMarkers(t *testing.T) {
	ago := testNow.Add(-time.Hour)
	week := testNow.Add(5 * 24 * time.Hour)
	month := testNow.Add(20 * 24 * time.Hour)
	later := testNow.Add(200 * 24 * time.Hour)
	pk := func(id string, exp *time.Time) tenant.Client {
		return tenant.Client{ID: id, Name: id, AuthMethod: "private_key_jwt", Credentials: []tenant.Credential{{KID: id, Attached: true, ExpiresAt: exp}}}
	}
	clients := []tenant.Client{pk("expired", &ago), pk("week", &week), pk("month", &month), pk("later", &later), pk("none", nil),
		{ID: "secret", Name: "secret", AuthMethod: "client_secret_post"}}
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, ".rekey"), 0o700))
	must(t, os.WriteFile(journalFile(dir, "week"), []byte("{}"), 0o600))
	b := clientsBackend(clients)
	b.Options = func(c tenant.Client) steps.Options { return steps.Options{TerraformDir: dir} }
	h := newHarness(t, b, 80, 24)
	st := h.m.c.st
	want := map[string]struct {
		text  string
		style lipgloss.Style
	}{
		"expired": {"expired", st.Expired}, "week": {"in 5d", st.Soon}, "month": {"in 20d", st.Later},
		"later": {"in 200d", st.Fine}, "none": {"no expiry", st.Dim}, "secret": {"n/a", st.Dim},
	}
	for i := range h.m.clients.list.rows {
		r := &h.m.clients.list.rows[i]
		text, style := expiryBadge(st, r, testNow)
		w := want[r.client.ID]
		if text != w.text || style.GetForeground() != w.style.GetForeground() || style.GetBold() != w.style.GetBold() {
			t.Errorf("%s: badge %q, want %q (style %v)", r.client.ID, text, w.text, w.style)
		}
		if r.inProgress != (r.client.ID == "week") {
			t.Errorf("%s: in progress = %v", r.client.ID, r.inProgress)
		}
	}
	screen := h.text()
	for _, line := range strings.Split(screen, "\n") {
		if strings.Contains(line, "week ") && !strings.HasSuffix(strings.TrimRight(line, " "), st.Mark.InProgress) {
			t.Errorf("the row with a journal lacks the in-progress marker: %q", line)
		}
	}
	if !strings.Contains(screen, "1 rotation in progress") {
		t.Errorf("legend missing:\n%s", screen)
	}
}

func TestClientsColoursDifferByUrgency(t *testing.T) {
	st := NewStyles(nil, false, true)
	if st.Expired.GetForeground() == st.Fine.GetForeground() || st.Soon.GetForeground() == st.Fine.GetForeground() ||
		st.Later.GetForeground() == st.Fine.GetForeground() || st.Dim.GetForeground() == st.Fine.GetForeground() {
		t.Fatal("expiry badges share a colour")
	}
}

func TestClientsNavigationAndOpen(t *testing.T) {
	h := newHarness(t, clientsBackend(manyClients(100)), 80, 24)
	s := h.m.clients
	h.press("G")
	if s.cursor != 99 {
		t.Fatalf("G: cursor %d, want 99", s.cursor)
	}
	if !strings.Contains(h.text(), "Service 00099") {
		t.Errorf("the last row is not in view after G:\n%s", h.text())
	}
	h.press("g", "down", "pgdown")
	if s.cursor != 1+s.pageSize() {
		t.Fatalf("cursor %d, want %d", s.cursor, 1+s.pageSize())
	}
	want := s.list.rows[s.visible[s.cursor]].client
	h.press("enter")
	if h.m.screen != screenClient || h.m.client.client.ID != want.ID {
		t.Fatalf("enter opened screen %v, client %+v; want %s", h.m.screen, h.m.client, want.ID)
	}
}

func TestClientsFilterEnterOpensMatch(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f.backend, 80, 24)
	h.press("/")
	h.typeText("report")
	h.press("enter")
	if h.m.screen != screenClient || h.m.client.client.Name != "reports-job" {
		t.Fatalf("enter while filtering opened %v", h.m.screen)
	}
}

func TestClientsReload(t *testing.T) {
	calls := 0
	clients := manyClients(3)
	b := Backend{Inventory: complete(func(context.Context) ([]tenant.Client, error) {
		calls++
		if calls == 2 {
			return nil, fmt.Errorf("tenant unreachable")
		}
		return clients, nil
	})}
	h := newHarness(t, b, 80, 24)
	h.press("r")
	if calls != 2 {
		t.Fatalf("r: %d loads, want 2", calls)
	}
	text := h.text()
	if !strings.Contains(text, "reload failed: tenant unreachable") || !strings.Contains(text, "Service 00001") {
		t.Errorf("a failed reload should keep the list and say why:\n%s", text)
	}
}

func TestClientsLoadError(t *testing.T) {
	b := Backend{Inventory: complete(func(context.Context) ([]tenant.Client, error) { return nil, fmt.Errorf("401 Unauthorized") })}
	h := newHarness(t, b, 80, 24)
	checkFrame(t, h.m.View(), 80, 24, "Could not load the clients", "401 Unauthorized", "r to retry")
}

func TestClientsRenderSizes(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {60, 15}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			f := newFixture(t)
			h := newHarness(t, f.backend, size[0], size[1])
			checkFrame(t, h.m.clients.view(), size[0], size[1], "billing-service", "reports-job", "Web Portal", "in 12d", "EXPIRES")
			checkFrame(t, h.m.View(), size[0], size[1], "rekey", "enter open")
			if size[0] >= 80 {
				checkFrame(t, h.m.clients.view(), size[0], size[1], "cl_billing0000000000000000000001")
			}
		})
	}
}

func TestClientsRendersOnlyTheWindow(t *testing.T) {
	h := newHarness(t, clientsBackend(manyClients(10000)), 80, 24)
	view := h.m.View()
	checkFrame(t, view, 80, 24, "10,000 clients", "Service 00000", "Service 00017")
	if strings.Contains(ansi.Strip(view), "Service 00018") {
		t.Errorf("rows beyond the window were rendered")
	}
	if got := len(strings.Split(view, "\n")); got != 24 {
		t.Errorf("frame has %d lines, want exactly 24", got)
	}
}

func TestClientsColumnsFitTheirContent(t *testing.T) {
	clients := manyClients(3)
	clients[1].Credentials[0].CreatedAt = testNow.Add(-24 * time.Hour)
	h := newHarness(t, clientsBackend(clients), 140, 24)
	text := h.text()
	heading := lineWith(text, "NAME")
	// The name column is as wide as the longest name; the spare width shows when each client
	// was last rotated.
	if !strings.HasPrefix(heading, "  NAME"+strings.Repeat(" ", len("Service 00001 Reports")-len("NAME"))+" CLIENT ID") {
		t.Errorf("heading %q: the name column should fit the longest name", heading)
	}
	if !strings.Contains(heading, "ROTATED") || !strings.Contains(lineWith(text, "Service 00001"), testNow.Add(-24*time.Hour).Local().Format(time.DateOnly)) {
		t.Errorf("no ROTATED column with the attached credential's creation day:\n%s", text)
	}
	narrow := newHarness(t, clientsBackend(clients), 80, 24)
	if strings.Contains(narrow.text(), "ROTATED") {
		t.Errorf("at 80 columns there is no room for ROTATED:\n%s", narrow.text())
	}
}
