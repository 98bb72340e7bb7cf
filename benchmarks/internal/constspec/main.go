// Command constspec copies an OpenAPI 3.1 document from standard input to
// standard output with every one-value boolean enum written as a const:
//
//	ok: {type: boolean, enum: [true]}   becomes   ok: {type: boolean, const: true}
//
// The two are the same schema in OpenAPI 3.1 (JSON Schema 2020-12), but
// ogen refuses the enum form as a discriminator of the step union
// ("type-based discrimination with same jxType") and accepts the const
// form. gen-ogen.sh runs it on a scratch copy of ../openapi.yaml, which is
// never edited. It fails when it finds nothing to rewrite, so that a spec
// whose steps change shape is looked at rather than silently passed on.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

func main() {
	n, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "constspec:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "constspec: %d boolean enum(s) written as const\n", n)
}

// run copies the document from in to out with its one-value boolean enums
// written as consts, and returns how many it rewrote.
func run(in io.Reader, out io.Writer) (int, error) {
	src, err := io.ReadAll(in)
	if err != nil {
		return 0, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return 0, err
	}
	n := rewrite(&doc)
	if n == 0 {
		return 0, fmt.Errorf("no one-value boolean enum found: the spec changed; check whether ogen still needs this rewrite")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return 0, err
	}
	if err := enc.Close(); err != nil {
		return 0, err
	}
	_, err = out.Write(buf.Bytes())
	return n, err
}

// rewrite turns, anywhere under n, a mapping holding "type: boolean" and
// an "enum" of exactly one boolean into the same mapping with "const:
// <that boolean>", and returns how many it rewrote.
func rewrite(n *yaml.Node) int {
	count := 0
	if n.Kind == yaml.MappingNode && isBooleanType(n) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if key.Value == "enum" && val.Kind == yaml.SequenceNode && len(val.Content) == 1 &&
				val.Content[0].Kind == yaml.ScalarNode && val.Content[0].Tag == "!!bool" {
				key.Value = "const"
				n.Content[i+1] = val.Content[0]
				count++
			}
		}
	}
	for _, c := range n.Content {
		count += rewrite(c)
	}
	return count
}

// isBooleanType reports whether mapping m says "type: boolean".
func isBooleanType(m *yaml.Node) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "type" && m.Content[i+1].Kind == yaml.ScalarNode && m.Content[i+1].Value == "boolean" {
			return true
		}
	}
	return false
}
