// Package jsonsplice edits JSON text in place: it finds where a member's value and an array's
// elements lie, and writes new objects with the whitespace of their siblings, so that every
// byte it does not change stays as it was.
package jsonsplice

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Span is a byte range [Start, End).
type Span struct{ Start, End int }

// Member is one key of an object and where its value lies.
type Member struct {
	Key   string
	Value Span
}

// Members returns the keys of obj, the bytes of a valid JSON object, in order, with where each
// value lies in obj.
func Members(obj []byte) ([]Member, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []Member
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		out = append(out, Member{Key: k.(string), Value: Span{end - len(raw), end}})
	}
	return out, nil
}

// Lookup returns where the value of key lies in obj, the bytes of a valid JSON object: found
// is false when the object has no such key; dup, when it has it twice, is the second's span.
func Lookup(obj []byte, key string) (value Span, found bool, dup *Span, err error) {
	members, err := Members(obj)
	for _, m := range members {
		if m.Key != key {
			continue
		}
		if found {
			return value, true, &m.Value, nil
		}
		value, found = m.Value, true
	}
	return value, found, nil, err
}

// Elements returns where each element of arr, the bytes of a valid JSON array, lies in it.
func Elements(arr []byte) ([]Span, error) {
	dec := json.NewDecoder(bytes.NewReader(arr))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var spans []Span
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		spans = append(spans, Span{end - len(raw), end})
	}
	return spans, nil
}

// Layout is the whitespace of an array of objects: around and between its elements, and
// inside an element.
type Layout struct {
	Open, Sep, Close           string // after '[', between elements (comma included), before ']'
	FOpen, Colon, FSep, FClose string // the same inside an element, and around a key's ':'
}

// DetectLayout reads the whitespace of arr (whose elements lie at spans, at least one, the
// first an object with a key) and of its first element.
func DetectLayout(arr []byte, spans []Span) Layout {
	first, last := spans[0], spans[len(spans)-1]
	l := Layout{Open: string(arr[1:first.Start]), Close: string(arr[last.End : len(arr)-1])}
	l.FOpen, l.Colon, l.FSep, l.FClose = objectLayout(arr[first.Start:first.End])
	switch {
	case len(spans) > 1:
		l.Sep = string(arr[first.End:spans[1].Start])
	case bytes.ContainsRune([]byte(l.Open), '\n') || bytes.ContainsRune([]byte(l.FSep), '\n'):
		l.Sep = "," + l.Open // one element per line
	default:
		l.Sep = l.FSep // all on one line: separate elements as an element separates its fields
	}
	return l
}

// objectLayout reads the whitespace of a valid JSON object with at least one key.
func objectLayout(obj []byte) (open, colon, sep, close string) {
	keyStart := skipSpace(obj, 1)
	open = string(obj[1:keyStart])
	dec := json.NewDecoder(bytes.NewReader(obj))
	var raw json.RawMessage
	// obj was decoded before, so these reads cannot fail.
	_, _ = dec.Token() // '{'
	_, _ = dec.Token() // the first key
	keyEnd := int(dec.InputOffset())
	_ = dec.Decode(&raw)
	valueEnd := int(dec.InputOffset())
	colon = string(obj[keyEnd : valueEnd-len(raw)])
	sep = "," + open
	if c := skipSpace(obj, valueEnd); obj[c] == ',' {
		sep = string(obj[valueEnd:skipSpace(obj, c+1)])
	}
	body := bytes.TrimRight(obj[:len(obj)-1], " \t\r\n")
	close = string(obj[len(body) : len(obj)-1])
	return open, colon, sep, close
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// Field is one member of an object WriteObject writes: its name and its value as JSON text.
type Field struct{ Name, JSON string }

// WriteObject writes an object of fields with the layout's whitespace.
func (l Layout) WriteObject(b *bytes.Buffer, fields []Field) {
	b.WriteString("{" + l.FOpen)
	for i, f := range fields {
		if i > 0 {
			b.WriteString(l.FSep)
		}
		b.WriteString(String(f.Name) + l.Colon + f.JSON)
	}
	b.WriteString(l.FClose + "}")
}

// String quotes s as a JSON string without HTML escaping.
func String(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// Position is the 1-based "line L, column C" of byte offset off in data.
func Position(data []byte, off int) string {
	line, col := LineCol(data, off)
	return fmt.Sprintf("line %d, column %d", line, col)
}

// LineCol is the 1-based line and column of byte offset off in data.
func LineCol(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	before := data[:off]
	return bytes.Count(before, []byte("\n")) + 1, off - bytes.LastIndexByte(before, '\n')
}
