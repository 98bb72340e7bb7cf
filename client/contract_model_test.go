package client_test

import (
	stdjson "encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// TestEveryPropertyReachesUsers is the promise that a spec bump reaches
// users with `make generate` alone: every property of the GET
// /v1/invocations/{id} body, at any depth (through $refs, arrays, nullable
// wrappers and both step variants), is a typed Go field of what Get
// returns.
//
// First by type (specSites): each property must have a field with its JSON
// name, of a Go type that fits its schema. Then by value: spectest.Sample
// fills every property of the spec with a non-zero value, a test server
// serves it, and each field Get returns must hold that value. The body is
// also decoded with json v2 and encoding/json directly, as users who embed
// Invocation in their own types do.
func TestEveryPropertyReachesUsers(t *testing.T) {
	t.Parallel()
	sites, problems := specSites(t)
	for _, p := range sortedMapValues(problems) {
		t.Error(p)
	}
	if len(sites) == 0 {
		t.Fatal("the spec walk found no properties")
	}

	body, want := spectest.Sample(t)
	if err := spectest.ValidateInvocation(t, http.StatusOK, nil, body); err != nil {
		t.Fatalf("spectest.Sample does not validate against the spec: %v\n%s", err, body)
	}
	// Every property the sample fills must be a site, unless the walk
	// already reported it or a property above it.
	covered := map[string]bool{}
	for _, s := range sites {
		covered[s.path] = true
	}
	for _, path := range sortedMapKeys(want) {
		if !covered[path] && !underProblem(path, problems) {
			t.Errorf("%s: in the spec, but no Go field of client.Invocation reaches it", path)
		}
	}

	decoders := []struct {
		name   string
		decode func(t *testing.T) *client.Invocation
	}{
		{"Get", func(t *testing.T) *client.Invocation { return specGet(t, body) }},
		{"json v2", func(t *testing.T) *client.Invocation {
			var inv client.Invocation
			if err := json.Unmarshal(body, &inv); err != nil {
				t.Fatal(err)
			}
			return &inv
		}},
		{"encoding/json", func(t *testing.T) *client.Invocation {
			var inv client.Invocation
			if err := stdjson.Unmarshal(body, &inv); err != nil {
				t.Fatal(err)
			}
			return &inv
		}},
	}
	for _, d := range decoders {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			root := reflect.ValueOf(d.decode(t)).Elem()
			for _, s := range sites {
				w, ok := want[s.path]
				if !ok {
					t.Errorf("%s: spectest.Sample wrote no value here", s.path)
					continue
				}
				vs := s.values(root)
				if len(vs) == 0 {
					t.Errorf("%s: not decoded: a pointer, slice or step variant on the way to the %v field is empty", s.path, s.typ)
					continue
				}
				for _, v := range vs {
					if v.IsZero() && !isJSONZero(w) {
						t.Errorf("%s: the %v field is zero; the body has %s", s.path, s.typ, jsonText(w))
						continue
					}
					if !comparedWhole(v.Type()) {
						continue // its own properties are compared
					}
					if got := jsonValueOf(t, v); !reflect.DeepEqual(got, w) {
						t.Errorf("%s: the %v field holds %s; the body has %s", s.path, s.typ, jsonText(got), jsonText(w))
					}
				}
			}
		})
	}
}

// TestTimestampsAreTimes checks that every timestamp in the spec (a
// date-time string, or a string property whose name ends in "At") is a
// time.Time in Go. The overlay makes them so, one by one; a timestamp a
// spec bump adds is a string until it is listed there, and this test names
// it.
func TestTimestampsAreTimes(t *testing.T) {
	t.Parallel()
	sites, _ := specSites(t)
	n := 0
	for _, s := range sites {
		if !spectest.IsTimestamp(s.name, s.schema) {
			continue
		}
		n++
		if s.typ != timeType {
			t.Errorf("%s is a timestamp but its Go field is %v, not client.Timestamp: add it to the timestamps "+
				"(rule 3) in oapi-codegen.overlay.yaml and run `make generate`", s.path, s.typ)
		}
	}
	if n == 0 {
		t.Fatal("found no timestamp in the spec; the walk or the spec is broken")
	}
}

// TestEveryFixtureDecodesAlikeInJSONv1AndV2 decodes each fixture, and the
// spec-filled sample, into client.Invocation with json v2 (which the client
// uses) and with encoding/json (which users' own code may use), and wants
// the same result: the generated structs embedded in Invocation, Result and
// StepSuccess must be promoted the same way by both, and the steps
// discriminated the same way.
func TestEveryFixtureDecodesAlikeInJSONv1AndV2(t *testing.T) {
	t.Parallel()
	bodies := map[string][]byte{}
	for _, name := range spectest.FixtureNames(t) {
		bodies[name] = spectest.Fixture(t, name)
	}
	bodies["spectest.Sample"], _ = spectest.Sample(t)
	for _, name := range sortedMapKeys(bodies) {
		body := bodies[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var v1, v2 client.Invocation
			if err := stdjson.Unmarshal(body, &v1); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if err := json.Unmarshal(body, &v2); err != nil {
				t.Fatalf("json v2: %v", err)
			}
			if diff := cmp.Diff(v1, v2, cmp.AllowUnexported(client.Invocation{}, client.Step{})); diff != "" {
				t.Errorf("encoding/json and json v2 decode differently (-v1 +v2):\n%s", diff)
			}
			// The comparison must not be between two empty values.
			if v2.ID == "" || v2.Status == "" || v2.CreatedAt.IsZero() {
				t.Errorf("decoded id %q, status %q, createdAt %v: the embedded fields were not decoded", v2.ID, v2.Status, v2.CreatedAt)
			}
			for i := range v2.Steps() {
				if err := v2.Steps()[i].Err(); err != nil {
					t.Errorf("step %d: %v", i, err)
				}
			}
		})
	}
}

// isJSONZero reports whether v, a JSON value, is what a Go zero value holds:
// a property whose only allowed value is that (a failure's "ok": false) is
// zero in Go too.
func isJSONZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case float64:
		return v == 0
	case string:
		return v == ""
	}
	return false
}

// comparedWhole reports whether a field of type typ is compared whole: anything
// but a struct (other than time.Time) or a slice of them, whose properties
// are sites of their own.
func comparedWhole(typ reflect.Type) bool {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array {
		if typ == rawType {
			return true
		}
		typ = typ.Elem()
	}
	return typ.Kind() != reflect.Struct || typ == timeType
}

// jsonValueOf returns v as encoding/json decodes its encoding into an any.
func jsonValueOf(t *testing.T, v reflect.Value) any {
	t.Helper()
	b, err := stdjson.Marshal(v.Interface())
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := stdjson.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// underProblem reports whether path is, or is below, a path with a problem.
func underProblem(path string, problems map[string]string) bool {
	for p := range problems {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") || strings.HasPrefix(path, p+"{") {
			return true
		}
	}
	return false
}

func jsonText(v any) string {
	b, err := stdjson.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedMapValues(m map[string]string) []string {
	var out []string
	for _, k := range sortedMapKeys(m) {
		out = append(out, m[k])
	}
	return out
}
