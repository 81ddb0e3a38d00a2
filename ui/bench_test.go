package ui

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"rekey/inventory"
	"rekey/sandbox"
	"rekey/steps"
	"rekey/tenant"
)

// BenchmarkFilterKeystroke10k measures one filter keystroke on 10,000 clients, from the key
// message to the rendered frame (Update, then View). The keystrokes alternate between typing
// and deleting a character after "s" (which every client's name matches), so each one scans
// all 10,000 rows. Target: well under a 16 ms frame.
func BenchmarkFilterKeystroke10k(b *testing.B) {
	m := NewModel(func(context.Context, func(string)) (Backend, error) { return Backend{}, nil }, testOptions()...).(*model)
	b.Cleanup(m.c.stop)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(preparedMsg{backend: clientsBackend(manyClients(10000))})
	loadAll(m)
	m.Update(keyPress("/"))
	m.Update(keyPress("s"))
	if len(m.clients.visible) != 10000 {
		b.Fatalf("%d visible, want 10000", len(m.clients.visible))
	}
	keys := []tea.KeyMsg{keyPress("e"), keyPress("backspace")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.Update(keys[i%2])
		_ = m.View()
	}
}

// BenchmarkFrame10k is one frame of the 10,000-client list without a keystroke.
func BenchmarkFrame10k(b *testing.B) {
	m := NewModel(func(context.Context, func(string)) (Backend, error) { return Backend{}, nil }, testOptions()...).(*model)
	b.Cleanup(m.c.stop)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(preparedMsg{backend: clientsBackend(manyClients(10000))})
	loadAll(m)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// loadAll feeds the clients screen its load's updates until the load ends, as the program
// would.
func loadAll(m *model) {
	for {
		msg := waitInventoryCmd(m.clients.inv, m.c.backend, m.clients.gen, m.c.cfg.now)().(inventoryMsg)
		m.Update(msg)
		if msg.closed {
			return
		}
	}
}

// BenchmarkFirstClientList measures, on a running sandbox tenant, the time from a prepared
// backend to the first interactive client list: listing every client with its credentials
// over HTTPS through go-auth0, then the first frame. Target: ≤ 1 s.
func BenchmarkFirstClientList(b *testing.B) {
	ctx := context.Background()
	srv, man, err := sandbox.Setup(ctx, b.TempDir(), sandbox.SetupOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	cfg := tenant.Config{Domain: man.Domain, ClientID: man.Management.ClientID, ClientSecret: man.Management.ClientSecret, HTTPClient: srv.HTTPClient()}
	conn, err := tenant.Connect(cfg)
	if err != nil {
		b.Fatal(err)
	}
	tfDir := b.TempDir()
	backend := Backend{Inventory: inventory.Loader{Source: conn}, Tenant: steps.TenantAPI{Conn: conn, Config: cfg},
		Options: func(c tenant.Client) steps.Options { return steps.Options{Client: c.ID, TerraformDir: tfDir} }}
	for b.Loop() {
		m := NewModel(func(context.Context, func(string)) (Backend, error) { return backend, nil }, testOptions()...).(*model)
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		m.Update(preparedMsg{backend: backend})
		loadAll(m)
		if view := m.View(); !strings.Contains(view, "billing-worker") {
			b.Fatalf("no client list:\n%s", view)
		}
		m.c.stop()
	}
}
