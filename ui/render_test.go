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

func TestDiffStylesLinesByTheirHunk(t *testing.T) {
	st := NewStyles(trueColour(), false, true)
	diff := strings.Join([]string{
		"--- a/main.tf",
		"+++ b/main.tf",
		"@@ -1,4 +1,2 @@",
		"   credentials {",
		"-    pem = <<-EOT",
		"------BEGIN CERTIFICATE-----",
		"-----END CERTIFICATE-----",
		"+  }",
		"--- a/systems/billing.json",
		"+++ b/systems/billing.json",
		"@@ -3 +3 @@",
		"-    \"private_key_file\": \"keys/" + strings.Repeat("x", 60) + ".pem\"",
		"+++counter",
	}, "\n")
	got := renderDiffish(st, diff, 40)
	want := []string{
		st.DiffFile.Render("--- a/main.tf"),
		st.DiffFile.Render("+++ b/main.tf"),
		st.DiffHunk.Render("@@ -1,4 +1,2 @@"),
		st.Text.Render("   credentials {"),
		st.DiffDel.Render("-    pem = <<-EOT"),
		st.DiffDel.Render("------BEGIN CERTIFICATE-----"), // a removal, not a file header
		st.DiffDel.Render("-----END CERTIFICATE-----"),
		st.DiffAdd.Render("+  }"),
		st.DiffFile.Render("--- a/systems/billing.json"), // the hunk is over: a header again
		st.DiffFile.Render("+++ b/systems/billing.json"),
		st.DiffHunk.Render("@@ -3 +3 @@"),
		st.DiffDel.Render(`-    "private_key_file": "keys/xxxxxxxxx`), // wrapped: the marker repeats
		st.DiffDel.Render("-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
		st.DiffDel.Render("-xxxxxxxxxxxx.pem\""),
		st.DiffAdd.Render("+++counter"),
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
}
