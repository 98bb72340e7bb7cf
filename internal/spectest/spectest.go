// Package spectest holds test helpers shared by the module's packages: it
// loads the vendored OpenAPI spec once, validates GET /v1/invocations/{id}
// responses against it, and serves the JSON fixtures under
// testdata/invocations.
//
// It is only meant to be imported from _test.go files.
package spectest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// modulePath is the module whose root Root looks for.
const modulePath = "github.com/bctrlhq/sdk-go"

// Root returns the module root: the nearest directory, walking up from the
// working directory, that holds a go.mod declaring github.com/bctrlhq/sdk-go.
func Root(t testing.TB) string {
	t.Helper()
	root, err := rootOnce()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var rootOnce = sync.OnceValues(findRoot)

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("spectest: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && moduleLine(data) == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("spectest: no go.mod for module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// moduleLine returns the module path declared in a go.mod file, or "".
func moduleLine(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// Load returns openapi.yaml from the module root, loaded and validated with
// kin-openapi. The document is loaded once per process and shared, so
// callers must not modify it.
func Load(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := loadOnce()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

var loadOnce = sync.OnceValues(func() (*openapi3.T, error) {
	root, err := rootOnce()
	if err != nil {
		return nil, err
	}
	return loadSpec(filepath.Join(root, "openapi.yaml"))
})

// loadSpec loads and validates a fresh copy of the spec at path.
func loadSpec(path string) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("spectest: load %s: %w", path, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("spectest: %s declares openapi %q, want 3.1 or later", path, doc.OpenAPI)
	}
	// Validate adds openapi3.IsOpenAPI31OrLater itself for a 3.1 document.
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("spectest: validate %s: %w", path, err)
	}
	return doc, nil
}

// Enum returns the string enum values of the single component schema whose
// name ends with schemaSuffix, for example "JsonSchemaStatus". It fails the
// test when no schema or more than one matches, or when the schema has no
// enum or a non-string value.
func Enum(t testing.TB, schemaSuffix string) []string {
	t.Helper()
	doc := Load(t)
	var names []string
	for name := range doc.Components.Schemas {
		if strings.HasSuffix(name, schemaSuffix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	switch len(names) {
	case 0:
		t.Fatalf("spectest: no component schema ends with %q", schemaSuffix)
	case 1:
	default:
		t.Fatalf("spectest: suffix %q is ambiguous: %s", schemaSuffix, strings.Join(names, ", "))
	}
	schema := doc.Components.Schemas[names[0]].Value
	if schema == nil || len(schema.Enum) == 0 {
		t.Fatalf("spectest: schema %s has no enum", names[0])
	}
	values := make([]string, 0, len(schema.Enum))
	for _, v := range schema.Enum {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("spectest: schema %s has non-string enum value %#v", names[0], v)
		}
		values = append(values, s)
	}
	return values
}
