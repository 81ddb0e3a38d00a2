package tfrunner

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
)

// Line is one line of Terraform output, for display as it happens.
type Line struct {
	Text   string
	Stderr bool
}

// diagnostic is one warning or error Terraform reported in its JSON output.
type diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Address  string `json:"address"`
}

// jsonMessage is one line of Terraform's machine-readable UI output (plan -json, apply -json).
type jsonMessage struct {
	Message    string      `json:"@message"`
	Type       string      `json:"type"`
	Diagnostic *diagnostic `json:"diagnostic"`
}

// lineWriter is a goroutine-safe io.Writer that cuts what Terraform writes into lines, sends
// each to the output channel (dropping them once ctx is done, so a reader that stopped never
// blocks Terraform), and keeps the diagnostics of JSON output for error classification.
type lineWriter struct {
	ctx    context.Context
	out    chan<- Line
	stderr bool
	json   bool

	mu          sync.Mutex
	partial     []byte
	diagnostics []diagnostic
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.emit(string(bytes.TrimRight(w.partial[:i], "\r")))
		w.partial = w.partial[i+1:]
	}
}

// flush emits a last line that had no newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.emit(string(w.partial))
		w.partial = nil
	}
}

func (w *lineWriter) emit(text string) {
	if w.json {
		var m jsonMessage
		if json.Unmarshal([]byte(text), &m) == nil {
			if m.Diagnostic != nil {
				w.diagnostics = append(w.diagnostics, *m.Diagnostic)
			}
			text = m.Message
		}
	}
	if w.out == nil {
		return
	}
	select {
	case w.out <- Line{Text: text, Stderr: w.stderr}:
	case <-w.ctx.Done():
	}
}

// errors returns the error diagnostics collected so far.
func (w *lineWriter) errors() []diagnostic {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []diagnostic
	for _, d := range w.diagnostics {
		if d.Severity == "error" {
			out = append(out, d)
		}
	}
	return out
}
