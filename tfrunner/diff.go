package tfrunner

import (
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// UnifiedDiff returns the unified diff from before to after, labelled a/NAME and b/NAME; it is
// "" when they are equal.
func UnifiedDiff(name string, before, after []byte) string {
	old := string(before)
	edits := udiff.Lines(old, string(after))
	for i := range edits {
		lo, hi := 0, len(old)
		if i > 0 {
			lo = edits[i-1].End
		}
		if i+1 < len(edits) {
			hi = edits[i+1].Start
		}
		edits[i] = diffSlide(old, edits[i], lo, hi)
	}
	d, err := udiff.ToUnified("a/"+name, "b/"+name, old, edits, udiff.DefaultContextLines)
	if err != nil {
		// Sliding keeps edits whole-line and in order; if udiff still objects, its own diff is right too.
		return udiff.Unified("a/"+name, "b/"+name, old, string(after))
	}
	return d
}

// diffSlide moves a pure insertion or deletion of whole lines, within [lo, hi) of old, along the
// positions where it is the same change, to the lowest one of the best rank: whole blocks
// (balanced braces) first, then ending on a blank line. Without it, a block added after a block
// with the same last lines shows up starting inside its neighbour, as if that had changed.
func diffSlide(old string, e udiff.Edit, lo, hi int) udiff.Edit {
	if (e.Start == e.End) == (e.New == "") {
		return e // a replacement: nothing to slide
	}
	for up, ok := diffShift(old, e, false, lo, hi); ok; up, ok = diffShift(old, e, false, lo, hi) {
		e = up
	}
	best, bestRank := e, -1
	for ok := true; ok; e, ok = diffShift(old, e, true, lo, hi) {
		if rank := diffRank(diffChanged(old, e)); rank >= bestRank {
			best, bestRank = e, rank
		}
	}
	return best
}

// diffRank scores changed lines: 2 when their braces balance (whole blocks), plus 1 when the
// last line is blank.
func diffRank(text string) int {
	rank := 0
	if diffBalanced(text) {
		rank += 2
	}
	if strings.TrimSpace(diffLastLine(text)) == "" {
		rank++
	}
	return rank
}

// diffBalanced says whether every brace the lines close was opened in them, and all are closed.
func diffBalanced(text string) bool {
	depth := 0
	for _, line := range strings.SplitAfter(text, "\n") {
		if depth += strings.Count(line, "{") - strings.Count(line, "}"); depth < 0 {
			return false
		}
	}
	return depth == 0
}

// diffShift moves an insertion or deletion one line down (or up) when the line it would take in
// equals the one it would give out.
func diffShift(old string, e udiff.Edit, down bool, lo, hi int) (udiff.Edit, bool) {
	text := diffChanged(old, e)
	if down {
		line := diffFirstLine(old[e.End:])
		if line == "" || line != diffFirstLine(text) || e.End+len(line) > hi {
			return e, false
		}
		e.Start, e.End = e.Start+len(line), e.End+len(line)
		if e.New != "" {
			e.New = e.New[len(line):] + line
		}
		return e, true
	}
	line := diffLastLine(old[:e.Start])
	if line == "" || line != diffLastLine(text) || e.Start-len(line) < lo {
		return e, false
	}
	e.Start, e.End = e.Start-len(line), e.End-len(line)
	if e.New != "" {
		e.New = line + e.New[:len(e.New)-len(line)]
	}
	return e, true
}

// diffChanged is the text an edit inserts or deletes.
func diffChanged(old string, e udiff.Edit) string {
	if e.New != "" {
		return e.New
	}
	return old[e.Start:e.End]
}

// diffFirstLine returns s's first line with its newline; "" when s has no complete line.
func diffFirstLine(s string) string {
	i := strings.IndexByte(s, '\n')
	return s[:i+1]
}

// diffLastLine returns the last line of s, which ends in a newline; "" when s is empty or does
// not end in one.
func diffLastLine(s string) string {
	if !strings.HasSuffix(s, "\n") {
		return ""
	}
	return s[strings.LastIndexByte(s[:len(s)-1], '\n')+1:]
}
