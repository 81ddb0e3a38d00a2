package ui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"rekey/steps"
)

// updateGolden reports -update, the flag teatest registers for its golden files.
func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// stable makes a frame the same on every run: temporary paths read TMP, the fixture's random
// kids (and their prefixes) read OLD… and NEW…, sparklines (as long as the checks so far) ▁▂▃.
func stable(frame string, f *fixture) string {
	frame = regexp.MustCompile(regexp.QuoteMeta(os.TempDir())+`/[^/\s]+/\d+`).ReplaceAllString(frame, "TMP")
	for kid, name := range map[string]string{f.oldKID: "OLD", f.newKID: "NEW"} {
		placeholder := name + strings.Repeat("x", len(kid)-len(name))
		for n := len(kid); n >= 6; n-- {
			frame = strings.ReplaceAll(frame, kid[:n], placeholder[:n])
		}
	}
	return regexp.MustCompile(`[▁▂▃▄▅▆▇█]+`).ReplaceAllString(frame, "▁▂▃")
}

// TestScreensGolden renders each screen of a rotation with NO_COLOR at 80×24 and 140×40 and
// compares it with testdata/screens (go test ./ui -run ScreensGolden -update rewrites them),
// so that a layout change is seen in review before a demo shows it. Temporary paths read TMP.
func TestScreensGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {140, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			f := newFixture(t)
			f.backend.Sandbox = true
			e := newScriptedEngine(f)
			h := newHarness(t, f.backend, size[0], size[1], WithNoColor(true), e.install())
			frames := [][2]string{{"clients", h.m.View()}}
			h.update(openClientMsg{client: f.client})
			h.waitFor("the workspace", func() bool { return h.m.client.ws != nil })
			frames = append(frames, [2]string{"client", h.m.View()})
			h.press("r")
			frames = append(frames, [2]string{"form", h.m.View()})
			h.press("enter")
			h.waitQuestion(steps.Attach)
			frames = append(frames, [2]string{"attach", h.m.View()})
			h.press("y")
			h.waitQuestion(steps.Retire)
			frames = append(frames, [2]string{"retire", h.m.View()})
			h.typeText(f.client.Name)
			h.press("enter")
			h.waitFor("the done screen", func() bool { return h.m.screen == screenDone })
			frames = append(frames, [2]string{"done", h.m.View()})
			for _, fr := range frames {
				got := stable(fr[1], f) + "\n"
				path := filepath.Join("testdata", "screens", fmt.Sprintf("%s-%dx%d.txt", fr[0], size[0], size[1]))
				if updateGolden() {
					must(t, os.MkdirAll(filepath.Dir(path), 0o755))
					must(t, os.WriteFile(path, []byte(got), 0o644))
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test ./ui -run ScreensGolden -update writes it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from %s:\n%s", fr[0], path, got)
				}
			}
		})
	}
}
