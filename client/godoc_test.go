package client_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"regexp"
	"strings"
	"testing"
)

// TestModelGodoc checks that the generated types users read through
// client's aliases are documented in words, from the overlay's
// descriptions, not with oapi-codegen's "X defines model for
// V1InvocationsIdGet..." placeholder; and that the fields of a step
// failure, the type behind client.StepFailure, each have a comment.
func TestModelGodoc(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../gen/bctrl.gen.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := doc.NewFromFiles(fset, []*ast.File{f}, "github.com/bctrlhq/sdk-go/gen")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]*doc.Type{}
	for _, typ := range pkg.Types {
		types[typ.Name] = typ
	}
	sentence := regexp.MustCompile(`^(\w+) (is|are|explains|classifies) `)
	for _, name := range []string{
		"Invocation", "ErrorInfo", "Progress", "Request", "RequestStep", "RequestStepOptions",
		"RequestMode", "ResultMode", "ExecutionMode", "RuntimeKind", "Status", "Result", "Step",
		"StepSuccess", "StepFailure", "StepError", "StepErrorCode", "ResolvedTarget", "Binding",
		"BindingType", "Diagnostic", "DiagnosticCategory", "Fix",
	} {
		typ, ok := types[name]
		if !ok {
			t.Errorf("gen has no type %s", name)
			continue
		}
		text := strings.Join(strings.Fields(typ.Doc), " ")
		if m := sentence.FindStringSubmatch(text); m == nil || m[1] != name || strings.Contains(text, "defines model for") {
			t.Errorf("gen.%s's doc is %q; want a sentence \"%s is ...\" from a description in oapi-codegen.overlay.yaml", name, text, name)
		}
	}
	failure := types["StepFailure"]
	if failure == nil {
		t.Fatal("gen has no type StepFailure")
	}
	st := failure.Decl.Specs[0].(*ast.TypeSpec).Type.(*ast.StructType)
	// The fields the overlay describes; one a spec bump adds has the API's
	// own description, or none, and needs no overlay edit.
	described := map[string]bool{"Call": true, "Error": true, "Index": true, "OK": true}
	for _, field := range st.Fields.List {
		if !described[field.Names[0].Name] {
			continue
		}
		if field.Doc == nil || !strings.HasPrefix(field.Doc.Text(), field.Names[0].Name+" ") {
			t.Errorf("gen.StepFailure.%s has no doc comment starting with its name", field.Names[0].Name)
		}
	}
}
