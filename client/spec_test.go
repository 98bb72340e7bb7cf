package client_test

// Contract tests between the client layer and the vendored openapi.yaml.
// They are what a spec bump runs into first (scripts/drill.sh rehearses
// that), and they are driven by the spec, never by a list of today's names:
//
//   - spec_test.go (this file): enums. A new status fails
//     TestStatusEnumClassified until it is classified; a new step error
//     code passes untouched.
//   - contract_model_test.go: every property of the GET
//     /v1/invocations/{id} body reaches users as a typed, filled Go field
//     (TestEveryPropertyReachesUsers), timestamps are time.Time
//     (TestTimestampsAreTimes), and both JSON packages decode the model
//     alike.
//   - contract_raw_test.go: every operation is callable through Raw with
//     the client's auth and retries.
//
// The spec is read as oapi-codegen reads it (spectest.LoadGenerated: the
// overlay applied), and paired with the Go types by reflection (specSites).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

const clientPkg = "github.com/bctrlhq/sdk-go/client"

// TestStatusEnumClassified fails, naming the value, for every status in the
// spec that client/invocation.go does not classify. Classifying a status is
// a decision (does Wait stop on it? is it a success?), so a spec bump that
// adds one must not pass silently. The statuses are the enum of every
// property whose Go type is client.Status.
func TestStatusEnumClassified(t *testing.T) {
	t.Parallel()
	for _, v := range specEnum(t, reflect.TypeFor[client.Status]()) {
		if !client.Status(v).Known() {
			t.Errorf("spec status %q is not classified: add a Status constant for it and an entry in statusClass "+
				"in client/invocation.go saying whether it is terminal (Wait stops) and whether it is a success", v)
		}
	}
}

// TestStatusConstantsInSpec fails for a Status constant that the spec does
// not list (one written by hand ahead of the spec, or left behind), and for
// one that is not Known. The constants are found by type-checking the
// package, so one added to client/ is checked without editing this test.
func TestStatusConstantsInSpec(t *testing.T) {
	t.Parallel()
	enum := specEnum(t, reflect.TypeFor[client.Status]())
	consts := spectest.Constants(t, clientPkg, "Status")
	checkConstantsInSpec(t, "Status", consts, enum)
	for name, v := range consts {
		if !client.Status(v).Known() {
			t.Errorf("client.%s (%q).Known() = false, want true", name, v)
		}
	}
}

// TestStepErrorCodesRoundTrip checks that every step error code in the spec
// reaches the caller unchanged: a failing step with that code decodes to a
// StepFailure whose Error.Code is the code, and Valid. StepErrorCode is the
// generated type, so a code the spec adds passes after `make generate`
// without a client edit.
func TestStepErrorCodesRoundTrip(t *testing.T) {
	t.Parallel()
	codes := specEnum(t, reflect.TypeFor[client.StepErrorCode]())
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			body := failedWithCode(t, code)
			if err := spectest.ValidateInvocation(t, http.StatusOK, nil, body); err != nil {
				t.Fatalf("test body with code %q does not validate against the spec: %v", code, err)
			}
			inv := specGet(t, body)
			failed := inv.FailedSteps()
			if len(failed) != 1 {
				t.Fatalf("FailedSteps() has %d steps, want 1", len(failed))
			}
			got := failed[0].Error.Code
			if got != client.StepErrorCode(code) {
				t.Errorf("Error.Code = %q, want %q", got, code)
			}
			if !got.Valid() {
				t.Errorf("Error.Code %q: Valid() = false, want true for a code the spec lists", got)
			}
		})
	}
}

// TestStepErrorCodeConstantsInSpec fails for a StepErrorCode constant that
// the spec does not list: the API will never send it, so code that switches
// on it is dead.
func TestStepErrorCodeConstantsInSpec(t *testing.T) {
	t.Parallel()
	enum := specEnum(t, reflect.TypeFor[client.StepErrorCode]())
	consts := spectest.Constants(t, clientPkg, "StepErrorCode")
	checkConstantsInSpec(t, "StepErrorCode", consts, enum)
	for name, v := range consts {
		if !client.StepErrorCode(v).Valid() {
			t.Errorf("client.%s (%q).Valid() = false, want true", name, v)
		}
	}
}

// checkConstantsInSpec checks that every constant is in enum. It fails when
// there are no constants, so the check cannot pass vacuously.
func checkConstantsInSpec(t *testing.T, typeName string, consts map[string]string, enum []string) {
	t.Helper()
	if len(consts) == 0 {
		t.Fatalf("found no constants of type client.%s", typeName)
	}
	for name, v := range consts {
		if !slices.Contains(enum, v) {
			t.Errorf("client.%s = %q is not in the spec's enum %v: remove it or check the spec", name, v, enum)
		}
	}
}

// specEnum returns the string enum values of every spec property whose Go
// field has type typ, in order, without repeats. It fails when no property
// has that type.
func specEnum(t *testing.T, typ reflect.Type) []string {
	t.Helper()
	sites, _ := specSites(t)
	var out []string
	found := false
	for _, s := range sites {
		if s.typ != typ {
			continue
		}
		found = true
		if len(s.schema.Enum) == 0 {
			t.Fatalf("%s has Go type %v but no enum in the spec", s.path, typ)
		}
		for _, v := range s.schema.Enum {
			str, ok := v.(string)
			if !ok {
				t.Fatalf("%s: enum value %#v is not a string", s.path, v)
			}
			if !slices.Contains(out, str) {
				out = append(out, str)
			}
		}
	}
	if !found {
		t.Fatalf("no property of the spec has Go type %v", typ)
	}
	return out
}

// failedWithCode returns the "failed" fixture with its failing step's error
// code replaced by code.
func failedWithCode(t *testing.T, code string) []byte {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(spectest.Fixture(t, "failed"), &body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range body["result"].(map[string]any)["steps"].([]any) {
		step := s.(map[string]any)
		if step["ok"] == false {
			step["error"].(map[string]any)["code"] = code
			n++
		}
	}
	if n != 1 {
		t.Fatalf("failed fixture has %d failing steps, want 1", n)
	}
	out, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// specGet returns what c.Invocations.Get returns for body, served as a 200
// application/json response by a test server.
func specGet(t *testing.T, body []byte) *client.Invocation {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.WithAPIKey("k"), client.WithBaseURL(srv.URL), client.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Invocations.Get(t.Context(), bodyID(t, body))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return inv
}

// A specSite is one property of the spec's GET /v1/invocations/{id} body and
// the Go field it reaches from client.Invocation.
type specSite struct {
	path     string           // "invocation.result.steps[ok=true].call"; see spectest.PropPath
	name     string           // the property's JSON name
	schema   *openapi3.Schema // its schema, nullable wrapper removed
	typ      reflect.Type     // the Go field's type
	access   []specAccessor   // from a client.Invocation to the field
	required bool             // listed in its object's "required"
}

// A specAccessor takes one step from a Go value towards a field: a struct
// field, a pointer's target, a slice's elements, a map's values, or a union
// member. It returns nothing where the value has nothing there (a nil
// pointer, an empty slice, a step of the other variant).
type specAccessor func(reflect.Value) []reflect.Value

// values returns the field's values in root, an addressable
// client.Invocation: one per array item on the way.
func (s specSite) values(root reflect.Value) []reflect.Value {
	vs := []reflect.Value{root}
	for _, step := range s.access {
		var next []reflect.Value
		for _, v := range vs {
			next = append(next, step(v)...)
		}
		vs = next
	}
	return vs
}

// unionAccessors names, for each Go type that holds a union of the spec,
// the method that returns each member, by the member's label (see
// spectest.Variants). The method returns (*Member, bool). A member a spec
// bump adds to a union needs an accessor: TestEveryPropertyReachesUsers
// names it.
var unionAccessors = map[reflect.Type]map[string]string{
	reflect.TypeFor[client.Step](): {"ok=true": "Success", "ok=false": "Failure"},
}

var (
	timeType = reflect.TypeFor[client.Timestamp]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// maxSpecDepth bounds the walk, in case a spec bump brings a recursive
// schema.
const maxSpecDepth = 32

// specSites walks the GET /v1/invocations/{id} 200 schema (as oapi-codegen
// reads it) and client.Invocation together, and returns a site for every
// property that has a Go field, and a problem, by path, for every property
// that has none or whose Go type does not fit its schema:
//
//   - an object is a struct (or a pointer to one); its properties are
//     fields with that JSON name, promoted from embedded structs as
//     encoding/json promotes them (the shallowest wins);
//   - an object with no properties is a map with string keys;
//   - an "any" value is json.RawMessage, and nothing else is;
//   - an array is a slice; a union is a Go type listed in unionAccessors;
//   - a string is a string type or time.Time, an integer an integer type,
//     a number a float, a boolean a bool.
func specSites(t *testing.T) ([]specSite, map[string]string) {
	t.Helper()
	doc := spectest.LoadGenerated(t)
	w := &siteWalker{problems: map[string]string{}}
	w.walk(spectest.RootPath, spectest.InvocationSchema(t, doc), reflect.TypeFor[client.Invocation](), nil, 0)
	return w.sites, w.problems
}

type siteWalker struct {
	sites    []specSite
	problems map[string]string
}

func (w *siteWalker) problem(path, format string, args ...any) {
	w.problems[path] = path + ": " + fmt.Sprintf(format, args...)
}

func (w *siteWalker) walk(path string, ref *openapi3.SchemaRef, typ reflect.Type, acc []specAccessor, depth int) {
	if depth > maxSpecDepth {
		w.problem(path, "nested more than %d levels deep; is the schema recursive?", maxSpecDepth)
		return
	}
	s := spectest.NonNull(ref).Value
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
		acc = append(slices.Clip(acc), derefAccessor)
	}
	switch {
	case spectest.IsAny(s):
		if typ != rawType {
			w.problem(path, "an \"any\" value in the spec must be json.RawMessage in Go (overlay rule 1), not %v", typ)
		}
		return
	case typ == rawType || typ.Kind() == reflect.Interface:
		w.problem(path, "is %s in the spec but untyped %v in Go: only \"any\" values may stay raw", schemaKind(s), typ)
		return
	}
	if vs := spectest.Variants(s); vs != nil {
		w.walkUnion(path, vs, typ, acc, depth)
		return
	}
	kind := typ.Kind()
	switch spectest.Type(s) {
	case openapi3.TypeObject, "":
		if len(s.Properties) == 0 {
			if kind != reflect.Map || typ.Key().Kind() != reflect.String {
				w.problem(path, "is %s in the spec but %v in Go, not a map with string keys", schemaKind(s), typ)
				return
			}
			values := s.AdditionalProperties.Schema
			if values == nil {
				values = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
			}
			w.walk(spectest.MapValuePath(path), values, typ.Elem(), append(slices.Clip(acc), mapValuesAccessor), depth+1)
			return
		}
		if kind != reflect.Struct || typ == timeType {
			w.problem(path, "is an object in the spec but %v in Go, not a struct", typ)
			return
		}
		fields := jsonFields(typ)
		for _, name := range spectest.SortedProperties(s) {
			pp := spectest.PropPath(path, name)
			f, ok := fields[name]
			if !ok {
				w.problem(pp, "no typed Go field: %v has no field with JSON name %q (regenerate, or check the overlay and the types in client/)", typ, name)
				continue
			}
			prop := s.Properties[name]
			st := specSite{
				path:     pp,
				name:     name,
				schema:   spectest.NonNull(prop).Value,
				typ:      f.typ,
				access:   append(slices.Clip(acc), fieldAccessor(f.index)),
				required: slices.Contains(s.Required, name),
			}
			w.sites = append(w.sites, st)
			w.walk(pp, prop, f.typ, st.access, depth+1)
		}
	case openapi3.TypeArray:
		if kind != reflect.Slice && kind != reflect.Array {
			w.problem(path, "is an array in the spec but %v in Go", typ)
			return
		}
		items := s.Items
		if items == nil {
			items = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
		}
		w.walk(spectest.ItemPath(path), items, typ.Elem(), append(slices.Clip(acc), elemsAccessor), depth+1)
	case openapi3.TypeString:
		if kind != reflect.String && typ != timeType {
			w.problem(path, "is a string in the spec but %v in Go", typ)
		}
	case openapi3.TypeInteger:
		if !(kind >= reflect.Int && kind <= reflect.Uint64) {
			w.problem(path, "is an integer in the spec but %v in Go", typ)
		}
	case openapi3.TypeNumber:
		if kind != reflect.Float32 && kind != reflect.Float64 {
			w.problem(path, "is a number in the spec but %v in Go", typ)
		}
	case openapi3.TypeBoolean:
		if kind != reflect.Bool {
			w.problem(path, "is a boolean in the spec but %v in Go", typ)
		}
	default:
		w.problem(path, "has type %v in the spec, which this test does not know", s.Type.Slice())
	}
}

// walkUnion walks each member of a union through the accessor that
// returns it.
func (w *siteWalker) walkUnion(path string, vs []spectest.Variant, typ reflect.Type, acc []specAccessor, depth int) {
	methods, ok := unionAccessors[typ]
	if !ok {
		w.problem(path, "is a union of %d members in the spec but %v in Go, which has no accessors for them (see unionAccessors)", len(vs), typ)
		return
	}
	for _, v := range vs {
		mp := spectest.MemberPath(path, v.Label)
		name, ok := methods[v.Label]
		if !ok {
			w.problem(mp, "no accessor on %v for the union member %s (see unionAccessors)", typ, v.Label)
			continue
		}
		m, ok := reflect.PointerTo(typ).MethodByName(name)
		if !ok || m.Type.NumIn() != 1 || m.Type.NumOut() != 2 || m.Type.Out(1).Kind() != reflect.Bool {
			w.problem(mp, "(*%v).%s is not a method returning (member, bool)", typ, name)
			continue
		}
		w.walk(mp, v.Schema, m.Type.Out(0), append(slices.Clip(acc), memberAccessor(name)), depth+1)
	}
}

func schemaKind(s *openapi3.Schema) string {
	if typ := spectest.Type(s); typ != "" {
		return "a JSON " + typ
	}
	return "typed (" + strings.Join(s.Type.Slice(), ", ") + ")"
}

// goField is a struct field as encoding/json sees it.
type goField struct {
	index []int
	typ   reflect.Type
}

// jsonFields returns the fields encoding/json decodes into for each JSON
// name of struct type typ: fields of embedded structs without a JSON name
// are promoted, and of the fields with one name the shallowest wins (a
// tagged one among equals; none if still tied). Names match exactly, as
// json v2 matches them.
func jsonFields(typ reflect.Type) map[string]goField {
	type candidate struct {
		goField
		depth  int
		tagged bool
	}
	type embedded struct {
		typ   reflect.Type
		index []int
	}
	byName := map[string][]candidate{}
	seen := map[reflect.Type]bool{}
	next := []embedded{{typ, nil}}
	for depth := 0; len(next) > 0; depth++ {
		current := next
		next = nil
		for _, e := range current {
			if seen[e.typ] {
				continue
			}
			seen[e.typ] = true
			for i := range e.typ.NumField() {
				sf := e.typ.Field(i)
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				index := append(slices.Clone(e.index), i)
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
					next = append(next, embedded{ft, index})
					continue
				}
				if !sf.IsExported() {
					continue
				}
				tagged := name != ""
				if !tagged {
					name = sf.Name
				}
				byName[name] = append(byName[name], candidate{goField{index, sf.Type}, depth, tagged})
			}
		}
	}
	out := map[string]goField{}
	for name, cs := range byName {
		top := cs[0].depth
		for _, c := range cs {
			top = min(top, c.depth)
		}
		var shallow, tagged []candidate
		for _, c := range cs {
			if c.depth == top {
				shallow = append(shallow, c)
				if c.tagged {
					tagged = append(tagged, c)
				}
			}
		}
		switch {
		case len(shallow) == 1:
			out[name] = shallow[0].goField
		case len(tagged) == 1:
			out[name] = tagged[0].goField
		}
	}
	return out
}

func fieldAccessor(index []int) specAccessor {
	return func(v reflect.Value) []reflect.Value {
		f, err := v.FieldByIndexErr(index) // fails through a nil embedded pointer
		if err != nil {
			return nil
		}
		return []reflect.Value{f}
	}
}

func derefAccessor(v reflect.Value) []reflect.Value {
	if v.IsNil() {
		return nil
	}
	return []reflect.Value{v.Elem()}
}

func elemsAccessor(v reflect.Value) []reflect.Value {
	out := make([]reflect.Value, v.Len())
	for i := range out {
		out[i] = v.Index(i)
	}
	return out
}

func mapValuesAccessor(v reflect.Value) []reflect.Value {
	var out []reflect.Value
	for it := v.MapRange(); it.Next(); {
		out = append(out, it.Value())
	}
	return out
}

func memberAccessor(method string) specAccessor {
	return func(v reflect.Value) []reflect.Value {
		if !v.CanAddr() { // a map value
			p := reflect.New(v.Type())
			p.Elem().Set(v)
			v = p.Elem()
		}
		out := v.Addr().MethodByName(method).Call(nil)
		if !out[1].Bool() {
			return nil
		}
		return []reflect.Value{out[0]}
	}
}
