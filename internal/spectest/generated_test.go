package spectest_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// TestLoadGenerated checks that the overlay is applied (the pinned
// operationId and the timestamps' format are there) to a copy: the
// document Load returns is the spec as published.
func TestLoadGenerated(t *testing.T) {
	t.Parallel()
	gen := spectest.LoadGenerated(t)
	pub := spectest.Load(t)
	if got := gen.Paths.Find("/v1/invocations/{id}").Get.OperationID; got != "getInvocation" {
		t.Errorf("LoadGenerated: GET /v1/invocations/{id} operationId = %q, want the overlay's %q", got, "getInvocation")
	}
	if got := pub.Paths.Find("/v1/invocations/{id}").Get.OperationID; got == "getInvocation" {
		t.Errorf("Load: operationId = %q: the overlay leaked into the published spec", got)
	}
	created := func(doc *openapi3.T) any {
		return spectest.InvocationSchema(t, doc).Value.Properties["createdAt"].Value.Extensions["x-go-type"]
	}
	if got := created(gen); got != "apitype.Timestamp" {
		t.Errorf("LoadGenerated: createdAt x-go-type = %v, want apitype.Timestamp", got)
	}
	if got := created(pub); got != nil {
		t.Errorf("Load: createdAt x-go-type = %v, want none", got)
	}
}

func TestGoName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ id, want string }{
		{"getInvocation", "GetInvocation"},
		{"cancel", "Cancel"},
		{"list-invocations", "ListInvocations"},
	} {
		if got := spectest.GoName(t, tt.id); got != tt.want {
			t.Errorf("GoName(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

// TestSample checks that Sample is valid, deterministic, fills every
// property with a non-zero value (but a discriminating false), and fills
// a step of each variant.
func TestSample(t *testing.T) {
	t.Parallel()
	body, values := spectest.Sample(t)
	if err := spectest.ValidateInvocation(t, http.StatusOK, nil, body); err != nil {
		t.Fatalf("Sample does not validate: %v\n%s", err, body)
	}
	if again, _ := spectest.Sample(t); !bytes.Equal(body, again) {
		t.Error("Sample is not deterministic")
	}
	var paths []string
	for path, v := range values {
		paths = append(paths, path)
		switch v {
		case nil, "", 0.0:
			t.Errorf("%s = %#v, want a non-zero value", path, v)
		case false:
			if !strings.HasSuffix(path, "[ok=false].ok") {
				t.Errorf("%s = false, want true", path)
			}
		}
	}
	// Both step variants and the objects inside arrays are filled.
	for _, want := range []string{"[ok=true].", "[ok=false].", "[]."} {
		if !slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("Sample has no value under a path with %q: %v", want, paths)
		}
	}
}

func TestSchemaHelpers(t *testing.T) {
	t.Parallel()
	schema := func(s *openapi3.Schema) *openapi3.SchemaRef { return &openapi3.SchemaRef{Value: s} }
	null := schema(&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNull}})
	str := schema(&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}})
	variant := func(ok bool) *openapi3.SchemaRef {
		return schema(&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{
			"ok":   schema(&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeBoolean}, Enum: []any{ok}}),
			"call": str,
		}})
	}

	if got := spectest.NonNull(schema(&openapi3.Schema{OneOf: openapi3.SchemaRefs{str, null}})); got != str {
		t.Errorf("NonNull(oneOf [string, null]) = %v, want the string schema", got.Value)
	}
	if got := spectest.Type(&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString, openapi3.TypeNull}}); got != "string" {
		t.Errorf("Type([string, null]) = %q, want string", got)
	}
	if !spectest.IsAny(&openapi3.Schema{Description: "Any type"}) || spectest.IsAny(str.Value) {
		t.Error("IsAny: want true for an empty schema only")
	}
	if !spectest.IsTimestamp("pausedAt", str.Value) || spectest.IsTimestamp("format", str.Value) {
		t.Error(`IsTimestamp: want true for a string named "...At" only`)
	}

	union := &openapi3.Schema{OneOf: openapi3.SchemaRefs{variant(true), variant(false)}}
	var labels []string
	for _, v := range spectest.Variants(union) {
		labels = append(labels, v.Label)
	}
	if want := []string{"ok=true", "ok=false"}; !slices.Equal(labels, want) {
		t.Errorf("Variants labels = %v, want %v", labels, want)
	}
	noDisc := &openapi3.Schema{OneOf: openapi3.SchemaRefs{variant(true), variant(true)}}
	labels = nil
	for _, v := range spectest.Variants(noDisc) {
		labels = append(labels, v.Label)
	}
	if want := []string{"oneOf[0]", "oneOf[1]"}; !slices.Equal(labels, want) {
		t.Errorf("Variants labels without a discriminator = %v, want %v", labels, want)
	}
	if vs := spectest.Variants(&openapi3.Schema{OneOf: openapi3.SchemaRefs{str, null}}); vs != nil {
		t.Errorf("Variants(nullable) = %v, want nil", vs)
	}
	if got := spectest.MemberPath("invocation.result.steps[]", "ok=true"); got != "invocation.result.steps[ok=true]" {
		t.Errorf("MemberPath = %q", got)
	}
}

func TestConstants(t *testing.T) {
	t.Parallel()
	got := spectest.Constants(t, "github.com/bctrlhq/sdk-go/gen", "Status")
	if got["StatusQueued"] != "queued" || got["StatusTimedOut"] != "timed_out" {
		t.Errorf("Constants(gen, Status) = %v, missing StatusQueued or StatusTimedOut", got)
	}
	for name := range got {
		if !strings.HasPrefix(name, "Status") {
			t.Errorf("Constants(gen, Status) has %s, of another type", name)
		}
	}
}
