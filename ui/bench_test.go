package ui

import (
	"context"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
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
	m.Update(loadClientsCmd(context.Background(), clientsBackend(manyClients(10000)), m.clients.gen, testNow.Local)())
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
	m.Update(loadClientsCmd(context.Background(), clientsBackend(manyClients(10000)), m.clients.gen, testNow.Local)())
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}
