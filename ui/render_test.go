package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWrapTextKeepsHyphenatedWordsWhole(t *testing.T) {
	kid := "xBpPfgb-5plS4N2VgJU28k1VsIsGCvTMyuAZPVvb4vM"
	got := wrapText("The old key "+kid+" was never touched.", 50)
	if !strings.Contains(got, kid) {
		t.Fatalf("the kid was split at its hyphen:\n%s", got)
	}
	for _, l := range strings.Split(got, "\n") {
		if ansi.StringWidth(l) > 50 {
			t.Fatalf("line %q is wider than 50", l)
		}
	}
	if got := wrapText(strings.Repeat("x", 25), 10); got != "xxxxxxxxxx\nxxxxxxxxxx\nxxxxx" {
		t.Fatalf("a word longer than the width: %q", got)
	}
	if got := wrapText("a b\n\nc", 10); got != "a b\n\nc" {
		t.Fatalf("line breaks not kept: %q", got)
	}
	if got := wrapText("    kid aaaa bbbb", 12); got != "    kid aaaa\n    bbbb" {
		t.Fatalf("indentation not kept: %q", got)
	}
}
