package sysconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"rekey/internal/jsonsplice"
)

// jsonDoc is a JSON system config: its bytes, where the credentials array lies in them, and
// the bytes of each loaded entry, so that a new array can be spliced in.
type jsonDoc struct {
	data       []byte
	start, end int // byte span of the credentials array value in data
	elems      map[string]jsonElem
	layout     jsonsplice.Layout
}

// jsonElem is a loaded entry and its exact bytes.
type jsonElem struct {
	entry Entry
	raw   []byte
}

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
	spans, err := jsonsplice.Elements(arr)
	if err != nil {
		return nil, nil, err
	}
	if len(spans) == 0 {
		return nil, nil, errors.New(`the "credentials" list is empty; list at least the current credential`)
	}
	doc := &jsonDoc{data: data, start: start, end: end, elems: map[string]jsonElem{}}
	entries := make([]Entry, len(spans))
	where := make([]string, len(spans))
	for i, s := range spans {
		where[i] = jsonsplice.Position(data, start+s.Start)
		raw := arr[s.Start:s.End]
		if entries[i], err = decodeJSONEntry(raw); err != nil {
			return nil, nil, fmt.Errorf("credentials[%d] (%s): %w", i, where[i], err)
		}
		doc.elems[entries[i].KID] = jsonElem{entry: entries[i], raw: raw}
	}
	if err := checkEntries(entries, where); err != nil {
		return nil, nil, err
	}
	doc.layout = jsonsplice.DetectLayout(arr, spans)
	return entries, doc, nil
}

// checkJSON reports a syntax error with its line and column, or a top level that is not an object.
func checkJSON(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("not valid JSON at %s: %v; fix the syntax (a .yaml or .yml name is read as YAML)", jsonsplice.Position(data, int(syn.Offset)-1), syn)
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
	value, found, dup, err := jsonsplice.Lookup(data, "credentials")
	switch {
	case err != nil:
		return 0, 0, err
	case dup != nil:
		return 0, 0, fmt.Errorf(`"credentials" appears twice (second at %s); keep one list`, jsonsplice.Position(data, dup.Start))
	case !found:
		return 0, 0, errors.New(`no "credentials" list; add "credentials": [{"kid": "…", "alg": "RS256", "private_key_file": "…"}]`)
	case data[value.Start] != '[':
		return 0, 0, fmt.Errorf(`"credentials" (%s) is not a list; write it as [{"kid": "…", "alg": "RS256", "private_key_file": "…"}, …]`, jsonsplice.Position(data, value.Start))
	}
	return value.Start, value.End, nil
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

// render splices a credentials array listing entries into the file's bytes. Loaded entries
// keep their bytes; new ones are laid out like the first loaded entry.
func (d *jsonDoc) render(entries []Entry) ([]byte, error) {
	var b bytes.Buffer
	b.Write(d.data[:d.start])
	b.WriteString("[" + d.layout.Open)
	for i, e := range entries {
		if i > 0 {
			b.WriteString(d.layout.Sep)
		}
		if el, ok := d.elems[e.KID]; ok && el.entry == e {
			b.Write(el.raw)
		} else {
			var fields []jsonsplice.Field
			for _, f := range e.fields() {
				fields = append(fields, jsonsplice.Field{Name: f.name, JSON: jsonsplice.String(*f.dst)})
			}
			d.layout.WriteObject(&b, fields)
		}
	}
	b.WriteString(d.layout.Close + "]")
	b.Write(d.data[d.end:])
	return b.Bytes(), nil
}
