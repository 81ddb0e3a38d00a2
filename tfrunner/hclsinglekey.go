package tfrunner

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// singleKeyFix says how to make a credentials block whose pem reads one value (var.public_key,
// each.value.pem) hold a list of keys: the smallest change, as a diff of the block, and the
// value its callers pass instead, which keeps today's key so the plan shows no change.
func singleKeyFix(src hclSrc, b *hclsyntax.Block, pem *hclsyntax.Attribute) string {
	start, end := src.lineStart(b.TypeRange.Start.Byte), src.lineEnd(b.CloseBraceRange.End.Byte)
	outer, _ := src.indentAt(b.TypeRange.Start.Byte)
	eol := src.eolAt(start)
	value := src.text(pem.Expr.Range())
	keys := pluralOf(value)
	name := `"current"`
	if attr, ok := b.Body.Attributes["name"]; ok {
		name = src.text(attr.Expr.Range())
	}
	var block strings.Builder
	block.WriteString("dynamic \"credentials\" {\n  for_each = " + keys + "\n  content {\n")
	for _, attr := range hclAttributes(b.Body) {
		v := src.text(attr.Expr.Range())
		switch attr.Name {
		case "name":
			v = "credentials.value.name"
		case "pem":
			v = "credentials.value.pem"
		}
		block.WriteString("    " + attr.Name + " = " + v + "\n")
	}
	block.WriteString("  }\n}\n")
	lines := strings.SplitAfter(strings.TrimSuffix(string(hclwrite.Format([]byte(block.String()))), "\n"), "\n")
	for i, line := range lines {
		lines[i] = outer + strings.TrimSuffix(line, "\n") + eol
	}
	diff := UnifiedDiff("credentials block", src[start:end], []byte(strings.Join(lines, "")))
	return fmt.Sprintf("Make it hold a list of keys, then run rekey again:\n%s"+
		"Declare %s (a list of { name, pem } objects) and set it to today's key alone, [{ name = %s, pem = <today's value of %s> }], so the plan shows no change; rekey then adds and removes keys there. "+
		"Or rotate with --manual-edit and make each edit yourself", diff, keys, name, value)
}

// pluralOf names the list that replaces a single value: var.public_key → var.public_keys.
func pluralOf(expr string) string {
	if strings.HasSuffix(expr, "s") || strings.ContainsAny(expr, "()[] ") {
		return "local.credential_keys"
	}
	return expr + "s"
}
