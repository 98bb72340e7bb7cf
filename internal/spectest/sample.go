package spectest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
)

// sampleEpoch is the first timestamp Sample writes; each later one is a
// minute and a second further, so no two timestamps are equal.
var sampleEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Sample returns a GET /v1/invocations/{id} 200 body built from the spec
// alone, with every property of every object filled with a non-zero value
// that fits its schema, so that a property a spec bump adds is in it
// without an edit here. It also returns the value it wrote at each
// property's path (see PropPath), as encoding/json decodes it into an any.
//
// Values follow the schema (the spec as LoadGenerated returns it):
//   - an enum's first value; a string with format date-time, or named
//     "...At", an RFC 3339 time; uuid a UUID derived from the path; uri an
//     absolute URL; any other string the property's path;
//   - integers 1, 2, 3, ... in walk order, numbers n+0.5, booleans true;
//   - an "any" value an object {"sample": path};
//   - one item per array, except that an array of a union gets one item
//     per member (a success and a failure step); one entry per map;
//   - a nullable property its non-null value; a union elsewhere its first
//     member.
//
// The body is deterministic. Sample does not validate it; ValidateInvocation
// does.
func Sample(t testing.TB) (body []byte, values map[string]any) {
	t.Helper()
	doc := LoadGenerated(t)
	b := &sampler{values: map[string]any{}}
	v := b.value(RootPath, "", InvocationSchema(t, doc), 0)
	if b.err != nil {
		t.Fatal(b.err)
	}
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	// Record the values as they come back from JSON (numbers as float64).
	for path, v := range b.values {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		b.values[path] = out
	}
	return body, b.values
}

type sampler struct {
	n      int
	values map[string]any
	err    error
}

// maxDepth bounds the walk, in case a spec bump brings a recursive schema.
const maxDepth = 32

// value returns a sample value for ref, whose property name is name ("" for
// array items, map values and the root).
func (b *sampler) value(path, name string, ref *openapi3.SchemaRef, depth int) any {
	if depth > maxDepth {
		if b.err == nil {
			b.err = fmt.Errorf("spectest: Sample: %s is nested more than %d levels deep; is the schema recursive?", path, maxDepth)
		}
		return nil
	}
	s := NonNull(ref).Value
	if s == nil {
		return nil
	}
	if IsAny(s) {
		return map[string]any{"sample": path}
	}
	if vs := Variants(s); vs != nil {
		return b.value(MemberPath(path, vs[0].Label), name, vs[0].Schema, depth+1)
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Const != nil {
		return s.Const
	}
	switch Type(s) {
	case openapi3.TypeObject, "":
		if len(s.Properties) > 0 {
			obj := map[string]any{}
			for _, p := range SortedProperties(s) {
				pp := PropPath(path, p)
				v := b.value(pp, p, s.Properties[p], depth+1)
				obj[p] = v
				b.values[pp] = v
			}
			return obj
		}
		vp := MapValuePath(path)
		if ap := s.AdditionalProperties.Schema; ap != nil {
			return map[string]any{"sample": b.value(vp, "", ap, depth+1)}
		}
		return map[string]any{"sample": map[string]any{"sample": vp}}
	case openapi3.TypeArray:
		ip := ItemPath(path)
		if s.Items == nil {
			return []any{map[string]any{"sample": ip}}
		}
		if vs := Variants(NonNull(s.Items).Value); vs != nil {
			items := make([]any, 0, len(vs))
			for _, v := range vs {
				items = append(items, b.value(MemberPath(ip, v.Label), "", v.Schema, depth+1))
			}
			return items
		}
		return []any{b.value(ip, "", s.Items, depth+1)}
	case openapi3.TypeString:
		b.n++
		switch {
		case IsTimestamp(name, s):
			return sampleEpoch.Add(time.Duration(b.n) * (time.Minute + time.Second)).Format(time.RFC3339)
		case s.Format == "uuid":
			return uuid.NewSHA1(uuid.NameSpaceURL, []byte(path)).String()
		case s.Format == "uri" || s.Format == "url":
			return "https://example.com/" + url.PathEscape(path)
		}
		return path
	case openapi3.TypeInteger:
		b.n++
		return b.n
	case openapi3.TypeNumber:
		b.n++
		return float64(b.n) + 0.5
	case openapi3.TypeBoolean:
		return true
	}
	if b.err == nil {
		b.err = fmt.Errorf("spectest: Sample: %s has type %s, which Sample cannot fill", path, strings.Join(s.Type.Slice(), ", "))
	}
	return nil
}
