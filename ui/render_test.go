package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"rekey/keys"
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
	got := renderDiffish(st, diff, 40, true)
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

func TestDiffFoldsKeyPEMsIntoOneLine(t *testing.T) {
	st := NewStyles(nil, false, false)
	priv, _ := testKeys(t)
	pub, err := keys.PublicPEM(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := keys.SelfSignedCert(priv, "billing-worker", time.Now(), time.Now().AddDate(0, 0, 90))
	if err != nil {
		t.Fatal(err)
	}
	hunk := func(marker, pem string) []string {
		var out []string
		for l := range strings.SplitSeq(strings.TrimSpace(pem), "\n") {
			out = append(out, marker+"    "+l)
		}
		return out
	}
	added, removed := hunk("+", string(pub)), hunk("-", string(cert))
	lines := []string{fmt.Sprintf("@@ -1,%d +1,%d @@", len(removed)+1, len(added)+1)}
	lines = append(lines, "   credentials {")
	lines = append(lines, removed...)
	lines = append(lines, added...)
	diff := strings.Join(lines, "\n")
	kid := shortKID(keys.Thumbprint(&priv.PublicKey))

	folded := renderDiffish(st, diff, 100, false)
	want := []string{
		lines[0], "   credentials {",
		fmt.Sprintf("-    … RSA 2048 certificate, kid %s (%d lines)", kid, len(removed)),
		fmt.Sprintf("+    … RSA 2048 public key, kid %s (%d lines)", kid, len(added)),
	}
	if strings.Join(folded, "\n") != strings.Join(want, "\n") {
		t.Errorf("folded:\n%s\nwant:\n%s", strings.Join(folded, "\n"), strings.Join(want, "\n"))
	}
	if whole := renderDiffish(st, diff, 100, true); len(whole) != len(lines) {
		t.Errorf("expanded: %d lines, want all %d", len(whole), len(lines))
	}
	// A block cut across markers (a PEM edited in place) stays as it is.
	mixed := strings.Join([]string{fmt.Sprintf("@@ -1,%d +1,1 @@", len(removed)), removed[0], "+" + removed[1][1:]}, "\n")
	if got := renderDiffish(st, mixed, 100, false); len(got) != 3 {
		t.Errorf("a PEM split across markers was folded: %q", got)
	}
}

func TestDiffWithoutHunksStylesByMarker(t *testing.T) {
	st := NewStyles(trueColour(), false, true)
	got := renderDiffish(st, "--- main.tf\n+++ main.tf\n-    credentials {\n+  }\nplain", 80, true)
	want := []string{st.DiffFile.Render("--- main.tf"), st.DiffFile.Render("+++ main.tf"), st.DiffDel.Render("-    credentials {"), st.DiffAdd.Render("+  }"), st.Text.Render("plain")}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}
