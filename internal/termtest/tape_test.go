package termtest

import (
	"strings"
	"testing"
	"time"
)

func TestParseTape(t *testing.T) {
	tape, err := ParseTape(strings.NewReader(`# a demo
Output demo.gif
Set FontSize 14
Set Shell "bash"
Hide
Type "rekey --sandbox"
Enter
Show
Wait+Screen@60s /billing-worker/
Down 3
Ctrl+C
Sleep 500ms
Wait /\$ $/
Type@80ms 'x'
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Output", "Set", "Set", "Hide", "Type", "Enter", "Show", "Wait", "Down", "Ctrl+C", "Sleep", "Wait", "Type"}
	if len(tape) != len(want) {
		t.Fatalf("%d commands, want %d: %+v", len(tape), len(want), tape)
	}
	for i, c := range tape {
		if c.Name != want[i] {
			t.Errorf("command %d is %s, want %s", i, c.Name, want[i])
		}
	}
	if w := tape[7]; w.Scope != "Screen" || w.Time != 60*time.Second || w.Text != "billing-worker" || w.Line != 9 {
		t.Errorf("Wait+Screen: %+v", w)
	}
	if w := tape[11]; w.Scope != "Line" || w.Time != 15*time.Second {
		t.Errorf("plain Wait: %+v", w)
	}
	if tape[8].Count != 3 || tape[4].Text != "rekey --sandbox" || tape[12].Time != 80*time.Millisecond || tape[10].Time != 500*time.Millisecond {
		t.Errorf("counts, texts, times: %+v", tape)
	}
	if Setting(tape, "Shell") != "bash" || Setting(tape, "FontSize") != "14" {
		t.Error("settings not read")
	}
}

func TestParseTapeErrors(t *testing.T) {
	for _, bad := range []string{"Type rekey", "Wait billing", "Sleep soon", "Down many", "Frobnicate", "Wait /(/"} {
		if _, err := ParseTape(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestReplayInTmux(t *testing.T) {
	tm := Start(t, 80, 24, nil, "bash --norc --noprofile")
	tape, err := ParseTape(strings.NewReader(`Type "echo hello-$((6*7))"
Enter
Wait+Screen@5s /hello-42/
`))
	if err != nil {
		t.Fatal(err)
	}
	Replay(tm, tape)
	if !strings.Contains(tm.Screen(), "hello-42") {
		t.Fatal("replayed keystrokes did not reach the shell")
	}
	tm.Type("exit 3")
	tm.Keys("Enter")
	if status := tm.WaitExit(5 * time.Second); status != 3 {
		t.Fatalf("exit status %d, want 3", status)
	}
}
