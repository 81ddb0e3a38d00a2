package ui

import (
	"testing"
	"time"
)

func TestSparkline(t *testing.T) {
	m := NewStyles(nil, true, false).Mark // ASCII levels _.-=+*#@
	ms := func(n int) sample { return sample{latency: time.Duration(n) * time.Millisecond, ok: true} }
	cases := []struct {
		name    string
		samples []sample
		width   int
		want    string
	}{
		{"empty", nil, 10, ""},
		{"scaled to the maximum", []sample{ms(0), ms(50), ms(100)}, 10, "_+@"},
		{"steady", []sample{ms(40), ms(40)}, 10, "@@"},
		{"failures", []sample{ms(100), {ok: false}, ms(100)}, 10, "@x@"},
		{"only the last width", []sample{ms(100), ms(0), ms(100)}, 2, "_@"},
	}
	for _, c := range cases {
		if got := sparkline(c.samples, c.width, m); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestAddSampleKeepsTheLatest(t *testing.T) {
	var list []sample
	for i := range maxSamples + 5 {
		list = addSample(list, sample{latency: time.Duration(i)})
	}
	if len(list) != maxSamples || list[0].latency != 5 || list[len(list)-1].latency != maxSamples+4 {
		t.Fatalf("kept %d samples from %v to %v", len(list), list[0].latency, list[len(list)-1].latency)
	}
}
