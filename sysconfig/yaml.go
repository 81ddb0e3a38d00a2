package sysconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// span is a byte range [start, end).
type span struct{ start, end int }

// yamlDoc is a YAML system config: its bytes, where the credentials list's items lie in them,
// and the bytes of each loaded entry, so that a new list can be spliced in and every byte
// outside it stays as it was.
type yamlDoc struct {
	data       []byte
	start, end int // byte span of the items in data
	items      map[string]yamlItem
	sep        string             // between two items of a flow list: as found, or ", "; "" in a block list
	eol        string             // the line end that ends every item of a block list; "" in a flow list
	newItem    func(Entry) []byte // a new entry laid out like the loaded ones
}

// yamlItem is a loaded entry and its exact bytes (in a block list, with the comment lines
// before it and its line end).
type yamlItem struct {
	entry Entry
	raw   []byte
}

// parseYAML reads a single-document YAML system config.
func parseYAML(data []byte) ([]Entry, document, error) {
	root, err := decodeYAML(data)
	if err != nil {
		return nil, nil, err
	}
	key, seq, err := credentialsNode(root)
	if err != nil {
		return nil, nil, err
	}
	entries := make([]Entry, len(seq.Content))
	where := make([]string, len(seq.Content))
	for i, item := range seq.Content {
		where[i] = fmt.Sprintf("line %d, column %d", item.Line, item.Column)
		if entries[i], err = decodeYAMLEntry(item); err != nil {
			return nil, nil, fmt.Errorf("credentials[%d] (%s): %w", i, where[i], err)
		}
	}
	if err := checkEntries(entries, where); err != nil {
		return nil, nil, err
	}
	var spans []span
	var doc *yamlDoc
	if seq.Style&yaml.FlowStyle != 0 {
		doc, spans, err = flowList(data, seq)
	} else {
		doc, spans, err = blockList(data, key, seq)
	}
	if err != nil {
		return nil, nil, err
	}
	doc.items = map[string]yamlItem{}
	for i, s := range spans {
		doc.items[entries[i].KID] = yamlItem{entry: entries[i], raw: data[s.start:s.end]}
	}
	return entries, doc, nil
}

// decodeYAML parses data into a document node, refusing several documents.
func decodeYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root, next yaml.Node
	err := dec.Decode(&root)
	if errors.Is(err, io.EOF) {
		return nil, errors.New(`the file is empty; write a "credentials:" list`)
	}
	if err != nil {
		return nil, fmt.Errorf("not valid YAML (%v); fix the syntax (a name other than .yaml or .yml is read as JSON)", err)
	}
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("a second YAML document starts at line %d; keep the system config in one document", next.Line)
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("not valid YAML after the first document (%v); fix the syntax", err)
	}
	return &root, nil
}

// credentialsNode finds the top-level "credentials" key and its sequence.
func credentialsNode(root *yaml.Node) (key, seq *yaml.Node, err error) {
	if len(root.Content) == 0 {
		return nil, nil, errors.New(`the file holds no YAML value; write a "credentials:" list`)
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, nil, errors.New(`the top level is not a mapping; write "credentials:" as a top-level key`)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "credentials" {
			continue
		}
		if key != nil {
			return nil, nil, fmt.Errorf(`"credentials" appears twice (second at line %d); keep one list`, top.Content[i].Line)
		}
		key, seq = top.Content[i], top.Content[i+1]
	}
	switch {
	case key == nil:
		return nil, nil, errors.New(`no "credentials" list; add "credentials:" with entries "- {kid: …, alg: RS256, private_key_file: …}"`)
	case seq.Kind != yaml.SequenceNode:
		return nil, nil, fmt.Errorf(`"credentials" (line %d, column %d) is not a list; write its entries as "- kid: …"`, seq.Line, seq.Column)
	case len(seq.Content) == 0:
		return nil, nil, errors.New(`the "credentials" list is empty; list at least the current credential`)
	}
	return key, seq, nil
}

// decodeYAMLEntry reads the known fields of one entry; other fields stay in its bytes.
func decodeYAMLEntry(item *yaml.Node) (Entry, error) {
	if item.Kind != yaml.MappingNode {
		return Entry{}, errors.New(`not a mapping; write "- kid: …" with alg and private_key_file under it`)
	}
	var e Entry
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		for _, f := range e.fields() {
			if k.Value != f.name {
				continue
			}
			if v.Kind != yaml.ScalarNode {
				return Entry{}, fmt.Errorf("%q (line %d) is not a string", f.name, v.Line)
			}
			if v.ShortTag() != "!!null" {
				*f.dst = v.Value
			}
		}
	}
	return e, nil
}

// blockList finds the items of a block list ("- kid: …" lines) in data. An item's bytes run
// from the end of the one before (the first: from the line after the "credentials:" key) to
// the end of its own last line that is not blank or a comment, so comments above an item move
// with it, and those after the list stay where they are.
func blockList(data []byte, key, seq *yaml.Node) (*yamlDoc, []span, error) {
	lines := splitLines(data)
	dash := seq.Column - 1 // every item's "-" stands in this column
	starts := make([]int, len(seq.Content))
	for i, item := range seq.Content {
		l, ok := dashLine(lines, item.Line-1, dash)
		if !ok {
			return nil, nil, fmt.Errorf(`credentials[%d] (line %d): cannot find its "-"; write each entry as "- kid: …"`, i, item.Line)
		}
		starts[i] = l
	}
	spans := make([]span, len(starts))
	from := lines[key.Line-1].end // the first item's bytes begin on the key's next line
	for i := range starts {
		next := len(lines)
		if i+1 < len(starts) {
			next = starts[i+1]
		} else {
			next = itemEnd(lines, starts[i], dash)
		}
		last := lastContentLine(lines, starts[i], next)
		spans[i] = span{from, lines[last].end}
		from = spans[i].end
	}
	doc := &yamlDoc{data: data, start: spans[0].start, end: spans[len(spans)-1].end, eol: lineEnd(data)}
	doc.newItem = blockItem(lines[starts[0]], dash, seq.Content[0], doc.eol)
	return doc, spans, nil
}

// line is one line of a file: its bytes [start, end), line end included.
type line struct {
	start, end int
	text       string // without the line end
}

func splitLines(data []byte) []line {
	var out []line
	for start := 0; start < len(data); {
		end := bytes.IndexByte(data[start:], '\n') + start + 1
		if end == start {
			end = len(data)
		}
		out = append(out, line{start, end, strings.TrimRight(string(data[start:end]), "\r\n")})
		start = end
	}
	return out
}

// dashLine is the line, at or above index from, whose column col holds an item's "-" with
// only spaces before it.
func dashLine(lines []line, from, col int) (int, bool) {
	for l := from; l >= 0; l-- {
		t := lines[l].text
		if len(t) > col && t[col] == '-' && strings.TrimLeft(t[:col], " ") == "" {
			return l, true
		}
	}
	return 0, false
}

// itemEnd is the index of the first line after the last item that starts at line first: the
// first line with content no deeper than the items' "-" (a key of the enclosing mapping).
func itemEnd(lines []line, first, dash int) int {
	for l := first + 1; l < len(lines); l++ {
		t := lines[l].text
		if !blankOrComment(t) && len(t)-len(strings.TrimLeft(t, " ")) <= dash {
			return l
		}
	}
	return len(lines)
}

// lastContentLine is the last line in [first, next) that is not blank or a comment; first
// itself always counts, as it holds the item's "-".
func lastContentLine(lines []line, first, next int) int {
	for l := next - 1; l > first; l-- {
		if !blankOrComment(lines[l].text) {
			return l
		}
	}
	return first
}

func blankOrComment(text string) bool {
	t := strings.TrimSpace(text)
	return t == "" || strings.HasPrefix(t, "#")
}

// lineEnd is the file's line end: "\r\n" when its first line has one, else "\n".
func lineEnd(data []byte) string {
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// blockItem lays out new entries like the first item, whose "-" is in column dash of first:
// the same indentation and gap after the "-", and its block or flow style.
func blockItem(first line, dash int, node *yaml.Node, eol string) func(Entry) []byte {
	gap := " "
	if rest := first.text[dash+1:]; strings.TrimSpace(rest) != "" {
		gap = rest[:len(rest)-len(strings.TrimLeft(rest, " "))]
	}
	head := first.text[:dash] + "-" + gap
	body := strings.Repeat(" ", len(head))
	style := node.Style & yaml.FlowStyle
	return func(e Entry) []byte {
		var b strings.Builder
		for i, l := range strings.Split(encodeEntry(e, style), "\n") {
			if i == 0 {
				b.WriteString(head + l + eol)
			} else {
				b.WriteString(body + l + eol)
			}
		}
		return []byte(b.String())
	}
}

// flowList finds the items of a flow list ("[{kid: …}, …]") in data: each "{…}" mapping.
func flowList(data []byte, seq *yaml.Node) (*yamlDoc, []span, error) {
	lines := splitLines(data)
	spans := make([]span, len(seq.Content))
	for i, item := range seq.Content {
		start := offset(lines, item.Line, item.Column)
		end, ok := flowEnd(data, start)
		if !ok {
			return nil, nil, fmt.Errorf(`credentials[%d] (line %d, column %d): cannot find where it ends; write each entry as {kid: …, alg: …, private_key_file: …}`, i, item.Line, item.Column)
		}
		spans[i] = span{start, end}
	}
	doc := &yamlDoc{data: data, start: spans[0].start, end: spans[len(spans)-1].end, sep: ", "}
	if len(spans) > 1 {
		doc.sep = string(data[spans[0].end:spans[1].start])
	}
	doc.newItem = func(e Entry) []byte { return []byte(encodeEntry(e, yaml.FlowStyle)) }
	return doc, spans, nil
}

// offset is the byte offset of 1-based line and column (counted in characters, as yaml.v3
// does).
func offset(lines []line, lineNo, col int) int {
	l := lines[lineNo-1]
	off := l.start
	for range col - 1 {
		_, size := utf8.DecodeRuneInString(l.text[off-l.start:])
		off += size
	}
	return off
}

// flowEnd is the offset just after the flow mapping or sequence that starts at data[start]:
// its closing bracket, skipping quoted strings and comments.
func flowEnd(data []byte, start int) (int, bool) {
	if start >= len(data) || (data[start] != '{' && data[start] != '[') {
		return 0, false
	}
	depth := 0
	for i := start; i < len(data); i++ {
		switch c := data[i]; {
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case c == '"' || c == '\'':
			i = quoteEnd(data, i)
		case c == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t' || data[i-1] == '\n'):
			for i < len(data) && data[i] != '\n' {
				i++
			}
		}
	}
	return 0, false
}

// quoteEnd is the offset of the quote that closes the string opened at data[open]: a double
// quote escapes with a backslash, a single quote by doubling.
func quoteEnd(data []byte, open int) int {
	q := data[open]
	for i := open + 1; i < len(data); i++ {
		switch {
		case q == '"' && data[i] == '\\':
			i++
		case data[i] == q && q == '\'' && i+1 < len(data) && data[i+1] == '\'':
			i++
		case data[i] == q:
			return i
		}
	}
	return len(data)
}

// encodeEntry writes an entry as a YAML mapping in style (block or flow), without a final
// line end; yaml.v3 quotes what needs quoting.
func encodeEntry(e Entry, style yaml.Style) string {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: style}
	for _, f := range e.fields() {
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.name},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: *f.dst})
	}
	out, _ := yaml.Marshal(n) // a mapping of strings always encodes
	return strings.TrimRight(string(out), "\n")
}

// render splices a list of entries into the file's bytes. Loaded entries keep their bytes;
// new ones are laid out like the first loaded entry.
func (d *yamlDoc) render(entries []Entry) ([]byte, error) {
	var list bytes.Buffer
	for i, e := range entries {
		if i > 0 {
			list.WriteString(d.sep)
		}
		if it, ok := d.items[e.KID]; ok && it.entry == e {
			list.Write(it.raw)
		} else {
			list.Write(d.newItem(e))
		}
		if d.eol != "" && !bytes.HasSuffix(list.Bytes(), []byte("\n")) {
			list.WriteString(d.eol) // the file's last line had none; another item may follow
		}
	}
	out := list.Bytes()
	if d.eol != "" && !bytes.HasSuffix(d.data[:d.end], []byte("\n")) {
		out = bytes.TrimSuffix(out, []byte(d.eol))
	}
	return slices.Concat(d.data[:d.start], out, d.data[d.end:]), nil
}
