package spectest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Schema helpers shared by Sample and by the client's contract tests, which
// walk the same schemas and must name each property the same way.
//
// A property's path starts at "invocation" (the GET /v1/invocations/{id}
// 200 body) and names each step down: ".name" for an object property, "[]"
// for an array item, "{}" for a map value, and "[ok=true]" for the member
// of a union whose discriminating property "ok" is true:
//
//	invocation.result.steps[ok=false].error.code

// RootPath is the path of the GET /v1/invocations/{id} 200 body.
const RootPath = "invocation"

// PropPath returns the path of property name of the object at path.
func PropPath(path, name string) string { return path + "." + name }

// ItemPath returns the path of the items of the array at path.
func ItemPath(path string) string { return path + "[]" }

// MapValuePath returns the path of the values of the map at path.
func MapValuePath(path string) string { return path + "{}" }

// MemberPath returns the path of a union's member with the given label. A
// union of array items is named on the array: steps[] becomes
// steps[ok=true].
func MemberPath(path, label string) string {
	if p, ok := strings.CutSuffix(path, "[]"); ok {
		return p + "[" + label + "]"
	}
	return path + "[" + label + "]"
}

// InvocationSchema returns the schema of GET /v1/invocations/{id}'s 200
// application/json response, found by path and method so that a rename of
// the component schema does not matter.
func InvocationSchema(t testing.TB, doc *openapi3.T) *openapi3.SchemaRef {
	t.Helper()
	item := doc.Paths.Find("/v1/invocations/{id}")
	if item == nil || item.Get == nil {
		t.Fatal("spectest: spec has no GET /v1/invocations/{id}")
	}
	resp := item.Get.Responses.Status(http.StatusOK)
	if resp == nil || resp.Value == nil {
		t.Fatal("spectest: GET /v1/invocations/{id} has no 200 response")
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		t.Fatal("spectest: GET /v1/invocations/{id} 200 has no application/json schema")
	}
	return mt.Schema
}

// NonNull returns the schema a nullable wrapper holds: X for
// "oneOf: [X, {type: null}]" (or anyOf), repeatedly. Any other schema is
// returned as it is; a "type: [string, null]" needs no unwrapping (see
// Type).
func NonNull(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	for ref != nil && ref.Value != nil {
		members := nonNullMembers(ref.Value)
		if members == nil || len(members) != 1 {
			return ref
		}
		ref = members[0]
	}
	return ref
}

// nonNullMembers returns the members of s's oneOf (or anyOf) that are not
// "type: null", or nil when s has neither.
func nonNullMembers(s *openapi3.Schema) openapi3.SchemaRefs {
	of := s.OneOf
	if len(of) == 0 {
		of = s.AnyOf
	}
	if len(of) == 0 {
		return nil
	}
	out := openapi3.SchemaRefs{}
	for _, m := range of {
		if m.Value != nil && m.Value.Type.Is(openapi3.TypeNull) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// IsAny reports whether s is an "any" value: a schema with no constraint
// (the spec writes these as {description: Any type}).
func IsAny(s *openapi3.Schema) bool {
	return s.IsEmpty()
}

// Type returns s's JSON type, ignoring "null" ("string" for
// "type: [string, null]"), or "" when s has no type or more than one.
func Type(s *openapi3.Schema) string {
	var types []string
	for _, typ := range s.Type.Slice() {
		if typ != openapi3.TypeNull {
			types = append(types, typ)
		}
	}
	if len(types) != 1 {
		return ""
	}
	return types[0]
}

// IsTimestamp reports whether property name, with schema s, is a point in
// time: a date-time string, or a string whose name ends in "At" (the API's
// naming for timestamps, which the overlay gives the date-time format; a
// new one a spec bump adds has no format until it is listed there).
func IsTimestamp(name string, s *openapi3.Schema) bool {
	return Type(s) == openapi3.TypeString && (s.Format == "date-time" || strings.HasSuffix(name, "At"))
}

// Variant is one member of a union.
type Variant struct {
	// Label names the member by its discriminating property, "ok=true",
	// or by its position, "oneOf[1]", when no property tells the members
	// apart.
	Label  string
	Schema *openapi3.SchemaRef
}

// Variants returns the members of a union, a oneOf (or anyOf) with more
// than one member that is not "type: null", or nil when s is not one.
//
// Members are labelled by their discriminating property: one that every
// member has, each with a single allowed value (enum or const), and the
// values all different; the first such name in sorted order.
func Variants(s *openapi3.Schema) []Variant {
	members := nonNullMembers(s)
	if len(members) < 2 {
		return nil
	}
	disc := discriminator(members)
	out := make([]Variant, len(members))
	for i, m := range members {
		label := fmt.Sprintf("oneOf[%d]", i)
		if disc != "" {
			v, _ := singleValue(NonNull(m.Value.Properties[disc]).Value)
			label = fmt.Sprintf("%s=%v", disc, v)
		}
		out[i] = Variant{Label: label, Schema: m}
	}
	return out
}

// discriminator returns the name of the property that tells members apart,
// or "".
func discriminator(members openapi3.SchemaRefs) string {
	var names []string
	for name := range members[0].Value.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
next:
	for _, name := range names {
		seen := map[any]bool{}
		for _, m := range members {
			p, ok := m.Value.Properties[name]
			if !ok || p.Value == nil {
				continue next
			}
			v, ok := singleValue(NonNull(p).Value)
			if !ok || seen[v] {
				continue next
			}
			seen[v] = true
		}
		return name
	}
	return ""
}

// singleValue returns the one value s allows, from a const or a one-value
// enum.
func singleValue(s *openapi3.Schema) (any, bool) {
	if s == nil {
		return nil, false
	}
	if s.Const != nil {
		return s.Const, true
	}
	if len(s.Enum) == 1 {
		return s.Enum[0], true
	}
	return nil, false
}

// SortedProperties returns the names of s's properties in sorted order.
func SortedProperties(s *openapi3.Schema) []string {
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
