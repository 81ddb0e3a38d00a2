package sysconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// jsonDoc is a JSON system config: its bytes, where the credentials array lies in them, and
// the bytes of each loaded entry, so that a new array can be spliced in.
type jsonDoc struct {
	data       []byte
	start, end int // byte span of the credentials array value in data
	elems      map[string]jsonElem
	layout     jsonLayout
}

// jsonElem is a loaded entry and its exact bytes.
type jsonElem struct {
	entry Entry
	raw   []byte
}

// jsonLayout is the whitespace the file uses in the credentials array and in its entries.
type jsonLayout struct {
	open, sep, close           string // after '[', between entries (comma included), before ']'
	fopen, colon, fsep, fclose string // the same inside an entry, and around a key's ':'
}

// span is a byte range [start, end).
type span struct{ start, end int }

// parseJSON reads a JSON system config.
func parseJSON(data []byte) ([]Entry, document, error) {
	if err := checkJSON(data); err != nil {
		return nil, nil, err
	}
	start, end, err := credentialsSpan(data)
	if err != nil {
		return nil, nil, err
	}
	arr := data[start:end]
	spans, err := elementSpans(arr)
	if err != nil {
		return nil, nil, err
	}
	doc := &jsonDoc{data: data, start: start, end: end, elems: map[string]jsonElem{}}
	entries := make([]Entry, len(spans))
	where := make([]string, len(spans))
	for i, s := range spans {
		where[i] = position(data, start+s.start)
		raw := arr[s.start:s.end]
		if entries[i], err = decodeJSONEntry(raw); err != nil {
			return nil, nil, fmt.Errorf("credentials[%d] (%s): %w", i, where[i], err)
		}
		doc.elems[entries[i].KID] = jsonElem{entry: entries[i], raw: raw}
	}
	if err := checkEntries(entries, where); err != nil {
		return nil, nil, err
	}
	doc.layout = detectLayout(arr, spans)
	return entries, doc, nil
}

// checkJSON reports a syntax error with its line and column, or a top level that is not an object.
func checkJSON(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("not valid JSON at %s: %v; fix the syntax (a .yaml or .yml name is read as YAML)", position(data, int(syn.Offset)-1), syn)
	}
	if err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return errors.New(`the top level is not a JSON object; write {"credentials": [...]}`)
	}
	return nil
}

// credentialsSpan finds the value of the top-level "credentials" key in a valid JSON object.
func credentialsSpan(data []byte) (start, end int, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return 0, 0, err
	}
	start = -1
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return 0, 0, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, 0, err
		}
		if key != "credentials" {
			continue
		}
		valueEnd := int(dec.InputOffset())
		if start >= 0 {
			return 0, 0, fmt.Errorf(`"credentials" appears twice (second at %s); keep one list`, position(data, valueEnd-len(raw)))
		}
		start, end = valueEnd-len(raw), valueEnd
	}
	if start < 0 {
		return 0, 0, errors.New(`no "credentials" list; add "credentials": [{"kid": "…", "alg": "RS256", "private_key_file": "…"}]`)
	}
	if data[start] != '[' {
		return 0, 0, fmt.Errorf(`"credentials" (%s) is not a list; write it as [{"kid": "…", "alg": "RS256", "private_key_file": "…"}, …]`, position(data, start))
	}
	return start, end, nil
}

// elementSpans returns where each element of a valid JSON array lies in it.
func elementSpans(arr []byte) ([]span, error) {
	dec := json.NewDecoder(bytes.NewReader(arr))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var spans []span
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		spans = append(spans, span{end - len(raw), end})
	}
	if len(spans) == 0 {
		return nil, errors.New(`the "credentials" list is empty; list at least the current credential`)
	}
	return spans, nil
}

// decodeJSONEntry reads the known fields of one entry; other fields are left in its bytes.
func decodeJSONEntry(raw []byte) (Entry, error) {
	var fields map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		return Entry{}, errors.New(`not an object; write {"kid": "…", "alg": "RS256", "private_key_file": "…"}`)
	}
	var e Entry
	for _, f := range e.fields() {
		v, ok := fields[f.name]
		if ok && json.Unmarshal(v, f.dst) != nil {
			return Entry{}, fmt.Errorf("%q is %s, not a string", f.name, v)
		}
	}
	return e, nil
}

// detectLayout reads the array's whitespace and that of its first entry.
func detectLayout(arr []byte, spans []span) jsonLayout {
	first, last := spans[0], spans[len(spans)-1]
	l := jsonLayout{open: string(arr[1:first.start]), close: string(arr[last.end : len(arr)-1])}
	l.fopen, l.colon, l.fsep, l.fclose = objectLayout(arr[first.start:first.end])
	switch {
	case len(spans) > 1:
		l.sep = string(arr[first.end:spans[1].start])
	case strings.Contains(l.open, "\n") || strings.Contains(l.fsep, "\n"):
		l.sep = "," + l.open // one entry per line
	default:
		l.sep = l.fsep // all on one line: separate entries as the entry separates its fields
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

// render splices a credentials array listing entries into the file's bytes. Loaded entries
// keep their bytes; new ones are laid out like the first loaded entry.
func (d *jsonDoc) render(entries []Entry) ([]byte, error) {
	var b bytes.Buffer
	b.Write(d.data[:d.start])
	b.WriteString("[" + d.layout.open)
	for i, e := range entries {
		if i > 0 {
			b.WriteString(d.layout.sep)
		}
		if el, ok := d.elems[e.KID]; ok && el.entry == e {
			b.Write(el.raw)
		} else {
			d.layout.writeEntry(&b, e)
		}
	}
	b.WriteString(d.layout.close + "]")
	b.Write(d.data[d.end:])
	return b.Bytes(), nil
}

// writeEntry writes a new entry as an object with the layout's whitespace.
func (l jsonLayout) writeEntry(b *bytes.Buffer, e Entry) {
	b.WriteString("{" + l.fopen)
	for i, f := range e.fields() {
		if i > 0 {
			b.WriteString(l.fsep)
		}
		b.WriteString(jsonString(f.name) + l.colon + jsonString(*f.dst))
	}
	b.WriteString(l.fclose + "}")
}

// jsonString quotes s as a JSON string without HTML escaping.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// position is the 1-based "line L, column C" of byte offset off in data.
func position(data []byte, off int) string {
	off = max(0, min(off, len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := off - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}
