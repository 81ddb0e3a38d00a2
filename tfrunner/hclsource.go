package tfrunner

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
)

// hclSrc is the source of a .tf file, with line helpers that work on byte offsets.
type hclSrc []byte

func (s hclSrc) text(r hcl.Range) string { return string(s[r.Start.Byte:r.End.Byte]) }

// lineStart returns the offset where the line holding off begins.
func (s hclSrc) lineStart(off int) int { return bytes.LastIndexByte(s[:off], '\n') + 1 }

// lineEnd returns the offset just past the newline that ends the line holding off.
func (s hclSrc) lineEnd(off int) int {
	if i := bytes.IndexByte(s[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(s)
}

// indentAt returns the text between the start of off's line and off, and whether it is only
// spaces and tabs.
func (s hclSrc) indentAt(off int) (string, bool) {
	indent := s[s.lineStart(off):off]
	return string(indent), len(bytes.Trim(indent, " \t")) == 0
}

// eolAt returns the line ending of the line holding off.
func (s hclSrc) eolAt(off int) string {
	if end := s.lineEnd(off); end >= 2 && s[end-2] == '\r' && s[end-1] == '\n' {
		return "\r\n"
	}
	return "\n"
}

// linesAbove moves start up over the whole lines just above it that keep accepts.
func (s hclSrc) linesAbove(start int, keep func([]byte) bool) int {
	for start > 0 {
		prev := s.lineStart(start - 1)
		if !keep(s[prev:start]) {
			break
		}
		start = prev
	}
	return start
}

// linesBelow moves end down over the whole lines just below it that keep accepts.
func (s hclSrc) linesBelow(end int, keep func([]byte) bool) int {
	for end < len(s) {
		next := s.lineEnd(end)
		if !keep(s[end:next]) {
			break
		}
		end = next
	}
	return end
}

func isBlankLine(line []byte) bool { return len(bytes.TrimSpace(line)) == 0 }

func isCommentLine(line []byte) bool {
	t := bytes.TrimSpace(line)
	return bytes.HasPrefix(t, []byte("#")) || bytes.HasPrefix(t, []byte("//"))
}
