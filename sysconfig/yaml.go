package sysconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// yamlDoc is a YAML system config as a node tree; render re-encodes the whole tree, so comments
// and other keys stay but the layout is yaml.v3's.
type yamlDoc struct {
	root   *yaml.Node // the document node
	seq    *yaml.Node // the credentials sequence inside root
	items  map[string]yamlItem
	indent int
	style  yaml.Style // of the first entry, for new ones (block or flow)
}

// yamlItem is a loaded entry and its node, which holds its unknown fields and comments.
type yamlItem struct {
	entry Entry
	node  *yaml.Node
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
	doc := &yamlDoc{root: root, seq: seq, items: map[string]yamlItem{}, indent: yamlIndent(key, seq)}
	entries := make([]Entry, len(seq.Content))
	where := make([]string, len(seq.Content))
	for i, item := range seq.Content {
		where[i] = fmt.Sprintf("line %d, column %d", item.Line, item.Column)
		if entries[i], err = decodeYAMLEntry(item); err != nil {
			return nil, nil, fmt.Errorf("credentials[%d] (%s): %w", i, where[i], err)
		}
		doc.items[entries[i].KID] = yamlItem{entry: entries[i], node: item}
	}
	if err := checkEntries(entries, where); err != nil {
		return nil, nil, err
	}
	doc.style = seq.Content[0].Style & yaml.FlowStyle
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

// yamlIndent guesses the file's indentation from how far the list is indented under its key.
func yamlIndent(key, seq *yaml.Node) int {
	if d := seq.Column - key.Column; d >= 2 && d <= 8 && seq.Style&yaml.FlowStyle == 0 {
		return d
	}
	return 2
}

// decodeYAMLEntry reads the known fields of one entry; other fields stay in its node.
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

// render encodes the document with the credentials sequence listing entries.
func (d *yamlDoc) render(entries []Entry) ([]byte, error) {
	d.seq.Content = make([]*yaml.Node, len(entries))
	for i, e := range entries {
		if it, ok := d.items[e.KID]; ok && it.entry == e {
			d.seq.Content[i] = it.node
		} else {
			d.seq.Content[i] = d.newItem(e)
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(d.indent)
	if err := enc.Encode(d.root); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return b.Bytes(), nil
}

// newItem is a mapping node for a new entry, in the style of the loaded ones.
func (d *yamlDoc) newItem(e Entry) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: d.style}
	for _, f := range e.fields() {
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.name},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: *f.dst})
	}
	return n
}
