package spectest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-json-experiment/json/jsontext"
)

// randomBodies is how many bodies TestRandomBodies generates.
const randomBodies = 2000

// TestRandomBodies generates randomBodies bodies and checks that each is
// strict JSON (RFC 7493: UTF-8, no duplicate names) that the spec accepts,
// with integers that are integral and within int64, and that the run
// covered every case Random promises, at every path where the schema
// allows it. The cases are read back from the bodies, not reported by the
// generator, so a generator that stops producing one fails here.
func TestRandomBodies(t *testing.T) {
	t.Parallel()
	g := NewRandom(t, RandomOptions{})
	c := newChecker(t, g)
	rng := rand.New(rand.NewPCG(2026, 11))
	const batch = 100
	for range randomBodies / batch {
		bodies := make([][]byte, batch)
		for i := range bodies {
			bodies[i] = g.Body(rng)
		}
		for i, err := range ValidateInvocations(t, bodies) {
			if err != nil {
				t.Fatalf("body does not validate: %v\n%s", err, snippet(bodies[i]))
			}
			c.body(bodies[i])
			if c.unknown {
				t.Fatalf("body has an enum value outside the spec without BeyondSpec:\n%s", snippet(bodies[i]))
			}
		}
	}
	c.report(nil)
}

// TestRandomBeyondSpec checks that BeyondSpec writes unknown values into
// every string enum (not into the property that tells a union's members
// apart), and that the spec rejects exactly the bodies that hold one: the
// validator checks enums, and BeyondSpec changes nothing else.
func TestRandomBeyondSpec(t *testing.T) {
	t.Parallel()
	g := NewRandom(t, RandomOptions{BeyondSpec: true, LargeEvery: -1})
	c := newChecker(t, g)
	c.beyond = true
	rng := rand.New(rand.NewPCG(7, 7))
	bodies := make([][]byte, 100)
	for i := range bodies {
		bodies[i] = g.Body(rng)
	}
	rejected := 0
	for i, err := range ValidateInvocations(t, bodies) {
		c.body(bodies[i])
		if c.unknown != (err != nil) {
			t.Fatalf("body with an unknown enum value: %v; validator error: %v\n%s", c.unknown, err, snippet(bodies[i]))
		}
		if err != nil {
			rejected++
		}
	}
	if rejected == 0 || rejected == len(bodies) {
		t.Errorf("the spec rejected %d of %d bodies; want some, not all", rejected, len(bodies))
	}
	// Too few bodies to cover the rest; TestRandomBodies covers it.
	c.report(func(kase string) bool { return kase == unknownEnum })
}

// snippet returns the start of a body for a failure message: a body with
// a large array runs to hundreds of kilobytes.
func snippet(b []byte) string {
	const n = 4000
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("%s... (%d bytes)", b[:n], len(b))
}

func TestRandomDeterministic(t *testing.T) {
	t.Parallel()
	g := NewRandom(t, RandomOptions{})
	body := func(seed uint64) []byte { return g.Body(rand.New(rand.NewPCG(seed, 0))) }
	if a, b := body(1), body(1); !bytes.Equal(a, b) {
		t.Errorf("the same seed gave two bodies:\n%s\n%s", a, b)
	}
	if a, b := body(1), body(2); bytes.Equal(a, b) {
		t.Errorf("seeds 1 and 2 gave the same body:\n%s", a)
	}
}

// TestRandomKeywords generates values for schemas that use the keywords
// Random honours beyond today's spec, as a spec bump might, and validates
// each against its schema with kin-openapi.
func TestRandomKeywords(t *testing.T) {
	t.Parallel()
	obj := func(props map[string]*openapi3.Schema, required ...string) *openapi3.Schema {
		s := openapi3.NewObjectSchema()
		for name, p := range props {
			s.WithProperty(name, p)
		}
		s.Required = required
		return s
	}
	tests := []struct {
		name   string
		schema *openapi3.Schema
		check  func(v any) error
	}{
		{"minItems and maxItems", &openapi3.Schema{Type: &openapi3.Types{"array"}, MinItems: 2, MaxItems: new(uint64(3)),
			Items: openapi3.NewIntegerSchema().NewRef()}, nil},
		{"maxItems 0", &openapi3.Schema{Type: &openapi3.Types{"array"}, MaxItems: new(uint64(0)), Items: openapi3.NewStringSchema().NewRef()}, nil},
		{"integer bounds", &openapi3.Schema{Type: &openapi3.Types{"integer"}, Min: new(5.0), Max: new(7.0)}, nil},
		{"exclusive integer bounds", &openapi3.Schema{Type: &openapi3.Types{"integer"},
			ExclusiveMin: openapi3.ExclusiveBound{Value: new(-1.0)}, ExclusiveMax: openapi3.ExclusiveBound{Value: new(1.0)}}, nil},
		{"int32", openapi3.NewInt32Schema(), func(v any) error {
			if n, _ := v.(json.Number).Float64(); n < math.MinInt32 || n > math.MaxInt32 {
				return fmt.Errorf("%v is outside int32", v)
			}
			return nil
		}},
		{"number bounds", &openapi3.Schema{Type: &openapi3.Types{"number"}, Min: new(-0.5), Max: new(1e10)}, nil},
		{"float", &openapi3.Schema{Type: &openapi3.Types{"number"}, Format: "float"}, func(v any) error {
			if n, _ := v.(json.Number).Float64(); math.Abs(n) > math.MaxFloat32 {
				return fmt.Errorf("%v is beyond float32", v)
			}
			return nil
		}},
		{"string length", &openapi3.Schema{Type: &openapi3.Types{"string"}, MinLength: 3, MaxLength: new(uint64(5))}, nil},
		{"string or integer", &openapi3.Schema{Type: &openapi3.Types{"string", "integer"}}, nil},
		{"nullable enum", &openapi3.Schema{Enum: []any{"a", 1.0, true, nil}}, nil},
		{"const", &openapi3.Schema{Const: "fixed"}, nil},
		{"type null", obj(map[string]*openapi3.Schema{"n": {Type: &openapi3.Types{"null"}}}, "n"), nil},
		{"formats", obj(map[string]*openapi3.Schema{
			"dt":    {Type: &openapi3.Types{"string"}, Format: "date-time"},
			"d":     {Type: &openapi3.Types{"string"}, Format: "date"},
			"email": {Type: &openapi3.Types{"string"}, Format: "email"},
			"byte":  {Type: &openapi3.Types{"string"}, Format: "byte"},
			"ipv4":  {Type: &openapi3.Types{"string"}, Format: "ipv4"},
			"ipv6":  {Type: &openapi3.Types{"string"}, Format: "ipv6"},
		}, "dt", "d", "email", "byte", "ipv4", "ipv6"), nil},
		{"no additional properties", func() *openapi3.Schema {
			s := obj(map[string]*openapi3.Schema{"a": openapi3.NewStringSchema()})
			no := false
			s.AdditionalProperties.Has = &no
			return s
		}(), func(v any) error {
			for k := range v.(map[string]any) {
				if k != "a" {
					return fmt.Errorf("extra property %q", k)
				}
			}
			return nil
		}},
		{"typed additional properties", func() *openapi3.Schema {
			s := obj(map[string]*openapi3.Schema{"a": openapi3.NewStringSchema()})
			s.AdditionalProperties.Schema = openapi3.NewBoolSchema().NewRef()
			return s
		}(), nil},
	}
	opts := append([]openapi3.SchemaValidationOption{openapi3.EnableJSONSchema2020()}, formatOptions...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := newRandom(tt.schema.NewRef(), RandomOptions{LargeEvery: 3})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for range 100 {
				body := g.Body(rng)
				dec := json.NewDecoder(bytes.NewReader(body))
				dec.UseNumber()
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("%s: %v", body, err)
				}
				if err := tt.schema.VisitJSON(v, opts...); err != nil {
					t.Fatalf("%s does not validate: %v", body, err)
				}
				if tt.check != nil {
					if err := tt.check(v); err != nil {
						t.Fatalf("%s: %v", body, err)
					}
				}
			}
		})
	}
}

// TestRandomRefuses checks that NewRandom refuses a schema it cannot honour
// rather than producing bodies that do not fit it.
func TestRandomRefuses(t *testing.T) {
	t.Parallel()
	withProp := func(p *openapi3.Schema) *openapi3.SchemaRef {
		return openapi3.NewObjectSchema().WithProperty("p", p).NewRef()
	}
	tests := []struct {
		name   string
		schema *openapi3.SchemaRef
		want   string
	}{
		{"pattern", withProp(openapi3.NewStringSchema().WithPattern("^a+$")), "invocation.p uses pattern"},
		{"allOf", withProp(openapi3.NewAllOfSchema(openapi3.NewStringSchema())), "invocation.p uses allOf"},
		{"empty integer range", withProp(&openapi3.Schema{Type: &openapi3.Types{"integer"}, Min: new(2.5), Max: new(2.9)}), "allows no integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newRandom(tt.schema, RandomOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("newRandom() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSameName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"status", "status", true},
		{"STATUS", "status", true},
		{"ſtatus", "status", true},    // U+017F folds to s
		{"\u212aey", "key", true},     // Kelvin sign folds to k
		{"run_id", "runId", true},     // json v2 ignores _ and -
		{"run-Id", "runid", true},     //
		{"status", "statuses", false}, //
		{"stätus", "status", false},   //
		{"", "", true},                //
		{"runtimeId", "runId", false}, //
		{"__proto__", "proto", true},  //
		{"state", "st-a-t-e-", true},  //
		{"ok", "OK", true},            //
		{"id", "ıd", false},           // dotless i does not fold to i
		{"error", "errors", false},    //
		{"a", strings.Repeat("a", 9), false},
	}
	for _, tt := range tests {
		if got := sameName(tt.a, tt.b); got != tt.want {
			t.Errorf("sameName(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// checker reads generated bodies back against the schema: it fails the
// test on a value Random must never write, and records which cases each
// path has seen.
type checker struct {
	t      *testing.T
	g      *Random
	root   *openapi3.SchemaRef
	beyond bool // unknown enum values are expected
	cases  map[string]map[string]bool
	// declared and extras are every property name the walk met in the
	// schema, and every extra property's name met in a body.
	declared, extras map[string]bool
	unknown          bool // the last body held an enum value outside the spec
}

// unknownEnum is the case of a value outside a string enum.
const unknownEnum = "unknown enum value"

// Paths of cases that are not about one property.
const (
	allIntegers = "(every integer)"
	allStrings  = "(every string without a format)"
	allUUIDs    = "(every uuid)"
	allArrays   = "(every array)"
	allNames    = "(every name)"
	rawJSON     = "(the JSON text)"
)

func newChecker(t *testing.T, g *Random) *checker {
	c := &checker{t: t, g: g, root: g.root, cases: map[string]map[string]bool{},
		declared: map[string]bool{}, extras: map[string]bool{}}
	c.expect(rawJSON, `\u escape beyond ASCII control`, "surrogate pair escape", "short escape",
		"upper-case hex escape", `"\/"`, "whitespace between tokens", "escaped name")
	c.expect(allNames, "empty name", "extra property named after a property declared elsewhere")
	if g.opts.LargeEvery > 0 {
		c.expect(allArrays, "large array")
	}
	return c
}

// expect records that path must see each of cases.
func (c *checker) expect(path string, cases ...string) {
	m := c.cases[path]
	if m == nil {
		m = map[string]bool{}
		c.cases[path] = m
	}
	for _, k := range cases {
		if _, ok := m[k]; !ok {
			m[k] = false
		}
	}
}

// saw records that path saw a case.
func (c *checker) saw(path, kase string) {
	c.expect(path, kase)
	c.cases[path][kase] = true
}

func (c *checker) fail(path, format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("%s: %s", path, fmt.Sprintf(format, args...))
}

// report fails the test for each case expected and never seen, of those
// for which want is true (all of them when want is nil).
func (c *checker) report(want func(kase string) bool) {
	c.t.Helper()
	for name := range c.extras {
		if c.declared[name] {
			c.saw(allNames, "extra property named after a property declared elsewhere")
			break
		}
	}
	var missing []string
	total := 0
	for path, m := range c.cases {
		for k, seen := range m {
			if want != nil && !want(k) {
				continue
			}
			total++
			if !seen {
				missing = append(missing, path+": "+k)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		c.t.Errorf("%d of %d cases never generated:\n\t%s", len(missing), total, strings.Join(missing, "\n\t"))
		return
	}
	c.t.Logf("%d cases, all generated", total)
}

// escapes in the JSON text; (?:^|[^\\])(?:\\\\)* makes sure the backslash
// starts an escape rather than ending one.
var (
	escPrefix     = `(?:^|[^\\])(?:\\\\)*`
	reNonCtrlEsc  = regexp.MustCompile(escPrefix + `\\u(?:00[2-9a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])`)
	reSurrogates  = regexp.MustCompile(escPrefix + `\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}`)
	reShortEsc    = regexp.MustCompile(escPrefix + `\\[bfnrt]`)
	reUpperHexEsc = regexp.MustCompile(escPrefix + `\\u[0-9A-F]{0,3}[A-F]`)
	reSlashEsc    = regexp.MustCompile(escPrefix + `\\/`)
	// A string followed by a colon is a name. Backslashes only occur in
	// strings, so the match cannot start between two strings.
	reEscapedName = regexp.MustCompile(`"(?:[^"\\]|\\.)*\\u[0-9a-fA-F]{4}(?:[^"\\]|\\.)*"\s*:`)
)

// body checks one body and records its cases.
func (c *checker) body(b []byte) {
	c.t.Helper()
	if !jsontext.Value(b).IsValid() {
		c.t.Fatalf("body is not RFC 7493 JSON (invalid UTF-8 or a duplicate name):\n%s", snippet(b))
	}
	for name, re := range map[string]*regexp.Regexp{
		`\u escape beyond ASCII control`: reNonCtrlEsc, "surrogate pair escape": reSurrogates,
		"short escape": reShortEsc, "upper-case hex escape": reUpperHexEsc, `"\/"`: reSlashEsc,
		"escaped name": reEscapedName,
	} {
		if !c.cases[rawJSON][name] && re.Match(b) {
			c.saw(rawJSON, name)
		}
	}
	if bytes.ContainsAny(b, "\n\r\t") { // never raw inside a string
		c.saw(rawJSON, "whitespace between tokens")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		c.t.Fatalf("%v:\n%s", err, snippet(b))
	}
	c.unknown = false
	c.walk(RootPath, c.root, v, false, "")
}

// walk checks v, the value at path, against the schema at ref. fixed and
// disc are as for writer.value.
func (c *checker) walk(path string, ref *openapi3.SchemaRef, v any, fixed bool, disc string) {
	c.t.Helper()
	if v == nil {
		if !nullable(ref) {
			c.fail(path, "null where the schema does not allow it")
		}
		c.saw(path, "null")
		return
	}
	s := NonNull(ref).Value
	if IsAny(s) {
		c.anyValue(path, v, true)
		return
	}
	if vs := Variants(s); vs != nil {
		c.member(path, s, vs, v)
		return
	}
	if s.Const != nil {
		return
	}
	if len(s.Enum) > 0 {
		c.enum(path, s, v, fixed)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		c.object(path, s, v, disc)
	case []any:
		c.array(path, s, v)
	case string:
		c.str(path, s, v)
	case json.Number:
		if slices.Contains(jsonTypes(s), openapi3.TypeNumber) {
			c.number(path, v)
		} else {
			c.integer(path, s, v)
		}
	case bool:
		c.expect(path, "true", "false")
		c.saw(path, strconv.FormatBool(v))
	}
}

// member walks v as the member of a union it says it is.
func (c *checker) member(path string, s *openapi3.Schema, vs []Variant, v any) {
	c.t.Helper()
	for _, m := range vs {
		c.expect(path, "member "+m.Label)
	}
	disc := discriminator(nonNullMembers(s))
	if disc == "" {
		return // no property tells the members apart; the validator judged it
	}
	obj, _ := v.(map[string]any)
	for _, m := range vs {
		want, _ := singleValue(NonNull(m.Schema.Value.Properties[disc]).Value)
		if sameJSON(obj[disc], want) {
			c.saw(path, "member "+m.Label)
			c.walk(MemberPath(path, m.Label), m.Schema, v, false, disc)
			return
		}
	}
	c.fail(path, "%v is no member of the union", v)
}

func (c *checker) enum(path string, s *openapi3.Schema, v any, fixed bool) {
	for _, e := range s.Enum {
		c.expect(path, fmt.Sprintf("enum value %v", e))
	}
	if c.beyond && !fixed && stringEnum(s.Enum) {
		c.expect(path, unknownEnum)
	}
	for _, e := range s.Enum {
		if sameJSON(v, e) {
			c.saw(path, fmt.Sprintf("enum value %v", e))
			return
		}
	}
	if fixed {
		c.fail(path, "the property that tells union members apart has an unknown value %v", v)
	}
	c.saw(path, unknownEnum)
	c.unknown = true
}

// sameJSON reports whether a decoded value equals a value from the spec.
func sameJSON(v, spec any) bool {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		g, ok := spec.(float64)
		return err == nil && ok && f == g
	}
	return v == spec
}

func (c *checker) object(path string, s *openapi3.Schema, obj map[string]any, disc string) {
	c.t.Helper()
	props := SortedProperties(s)
	for _, p := range props {
		c.declared[p] = true
		pp := PropPath(path, p)
		required := slices.Contains(s.Required, p)
		c.expect(pp, "present")
		if !required {
			c.expect(pp, "absent")
		}
		if nullable(s.Properties[p]) {
			c.expect(pp, "null")
		}
		v, ok := obj[p]
		switch {
		case !ok && required:
			c.fail(pp, "required property absent")
		case !ok:
			c.saw(pp, "absent")
		case v == nil:
			c.walk(pp, s.Properties[p], v, false, "")
		default:
			c.saw(pp, "present")
			c.walk(pp, s.Properties[p], v, p == disc, "")
		}
	}
	allowed := s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has
	ap := s.AdditionalProperties.Schema
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range obj {
			if !yield(k) {
				return
			}
		}
	})
	if len(props) == 0 { // a map
		if allowed {
			c.expect(path, "empty map", "non-empty map")
		}
		if len(obj) == 0 {
			c.saw(path, "empty map")
		} else {
			c.saw(path, "non-empty map")
		}
		if ap != nil && nullable(ap) {
			c.expect(MapValuePath(path), "null")
		}
		for _, k := range names {
			c.name(k)
			if ap != nil {
				c.walk(MapValuePath(path), ap, obj[k], false, "")
			} else {
				c.anyValue(MapValuePath(path), obj[k], true)
			}
		}
		return
	}
	if allowed {
		c.expect(path, "extra property")
	}
	for _, k := range names {
		if _, ok := s.Properties[k]; ok {
			continue
		}
		if !allowed {
			c.fail(path, "extra property %q where additionalProperties is false", k)
		}
		for _, p := range props {
			if sameName(k, p) {
				c.fail(path, "extra property %q is the declared %q to a Go JSON decoder", k, p)
			}
		}
		c.saw(path, "extra property")
		c.name(k)
		c.extras[k] = true
		if ap != nil {
			c.walk(MapValuePath(path), ap, obj[k], false, "")
		} else {
			c.anyValue(path, obj[k], false)
		}
	}
}

// name records the cases of a name Random chose.
func (c *checker) name(k string) {
	if k == "" {
		c.saw(allNames, "empty name")
	}
}

func (c *checker) array(path string, s *openapi3.Schema, a []any) {
	c.t.Helper()
	if s.MinItems == 0 {
		c.expect(path, "empty array")
	}
	if s.MaxItems == nil || *s.MaxItems > 0 {
		c.expect(path, "non-empty array")
	}
	switch n := len(a); {
	case n == 0:
		c.saw(path, "empty array")
	case n >= largeMin:
		c.saw(allArrays, "large array")
		if n > largeMax {
			c.fail(path, "%d items, more than a large array's %d", n, largeMax)
		}
		c.saw(path, "non-empty array")
	case n > c.g.opts.MaxItems && n > int(s.MinItems):
		c.fail(path, "%d items: more than MaxItems (%d), fewer than a large array's", n, c.g.opts.MaxItems)
	default:
		c.saw(path, "non-empty array")
	}
	ip := ItemPath(path)
	if s.Items == nil {
		for _, v := range a {
			c.anyValue(ip, v, true)
		}
		return
	}
	if nullable(s.Items) && !IsAny(NonNull(s.Items).Value) {
		c.expect(ip, "null")
	}
	for _, v := range a {
		c.walk(ip, s.Items, v, false, "")
	}
}

var (
	reDateLike   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}`)
	reUUIDLayout = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)
)

func (c *checker) str(path string, s *openapi3.Schema, v string) {
	c.t.Helper()
	switch s.Format {
	case "uuid":
		c.expect(path, "lower-case uuid", "upper-case uuid", "mixed-case uuid")
		c.expect(allUUIDs, "nil uuid", "max uuid", "uuid outside RFC 9562's versions and variant")
		lower, upper := strings.ContainsAny(v, "abcdef"), strings.ContainsAny(v, "ABCDEF")
		switch {
		case lower && upper:
			c.saw(path, "mixed-case uuid")
		case lower:
			c.saw(path, "lower-case uuid")
		case upper:
			c.saw(path, "upper-case uuid")
		}
		switch strings.ToLower(v) {
		case "00000000-0000-0000-0000-000000000000":
			c.saw(allUUIDs, "nil uuid")
		case "ffffffff-ffff-ffff-ffff-ffffffffffff":
			c.saw(allUUIDs, "max uuid")
		default:
			if !reUUIDLayout.MatchString(v) {
				c.saw(allUUIDs, "uuid outside RFC 9562's versions and variant")
			}
		}
	case "":
		if s.MinLength == 0 {
			c.expect(path, "empty string")
		}
		if s.MaxLength == nil {
			c.expect(path, "non-ASCII text", "control character", "text that looks like a date")
			c.expect(allStrings, `"`, `\`, "NUL", "U+2028", "astral character", "1000 characters or more",
				"a leap second", "quis nisi")
		}
		n := 0
		for _, r := range v {
			n++
			switch {
			case r >= utf8.RuneSelf:
				c.saw(path, "non-ASCII text")
				if r > 0xffff {
					c.saw(allStrings, "astral character")
				}
				if r == '\u2028' {
					c.saw(allStrings, "U+2028")
				}
			case r < 0x20:
				c.saw(path, "control character")
				if r == 0 {
					c.saw(allStrings, "NUL")
				}
			case r == '"' || r == '\\':
				c.saw(allStrings, string(r))
			}
		}
		switch {
		case n == 0:
			c.saw(path, "empty string")
		case n >= 1000:
			c.saw(allStrings, "1000 characters or more")
		}
		if reDateLike.MatchString(v) {
			c.saw(path, "text that looks like a date")
		}
		if strings.Contains(v, "23:59:60") {
			c.saw(allStrings, "a leap second")
		}
		if strings.Contains(v, "quis nisi") {
			c.saw(allStrings, "quis nisi")
		}
	}
}

// Integer spellings.
const (
	spellPlain      = "plain (25)"
	spellNegZero    = "-0"
	spellFraction   = "fraction (25.0)"
	spellExp        = "exponent (25e0)"
	spellNegExp     = "negative exponent (250e-1)"
	spellDecimalExp = "decimal and exponent (2.5e1)"
)

// spelling names how an integer literal is written.
func spelling(lit string) string {
	mant, exp, hasExp := strings.Cut(strings.ToLower(lit), "e")
	switch {
	case hasExp && strings.Contains(mant, "."):
		return spellDecimalExp
	case hasExp && strings.HasPrefix(exp, "-"):
		return spellNegExp
	case hasExp:
		return spellExp
	case strings.Contains(mant, "."):
		return spellFraction
	case lit == "-0":
		return spellNegZero
	}
	return spellPlain
}

func (c *checker) integer(path string, s *openapi3.Schema, lit json.Number) {
	c.t.Helper()
	r, ok := new(big.Rat).SetString(string(lit))
	if !ok {
		c.fail(path, "%s is not a number", lit)
	}
	if !r.IsInt() {
		c.fail(path, "%s is a fraction", lit)
	}
	if !r.Num().IsInt64() {
		c.fail(path, "%s is outside int64", lit)
	}
	n := r.Num().Int64()
	lo, hi := intBounds(s)
	if n < lo || n > hi {
		c.fail(path, "%s is outside the schema's [%d, %d]", lit, lo, hi)
	}
	kind := spelling(string(lit))
	if (n > 1<<53 || n < -1<<53) && kind != spellPlain {
		c.fail(path, "%s is beyond ±2^53 and not written plainly", lit)
	}
	c.expect(path, spellPlain)
	if lo <= 1<<53 && hi >= -1<<53 {
		c.expect(path, spellFraction, spellExp, spellNegExp, spellDecimalExp)
	}
	if lo <= 0 && hi >= 0 {
		c.expect(path, spellNegZero)
	}
	c.saw(path, kind)
	for _, b := range []int64{0, -1, 1 << 31, -1 << 31, 1 << 53, -1 << 53, math.MaxInt64, math.MinInt64} {
		if lo <= b && b <= hi {
			c.expect(allIntegers, strconv.FormatInt(b, 10))
		}
	}
	if _, ok := c.cases[allIntegers][strconv.FormatInt(n, 10)]; ok {
		c.saw(allIntegers, strconv.FormatInt(n, 10))
	}
}

func (c *checker) number(path string, lit json.Number) {
	c.t.Helper()
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil || math.IsInf(f, 0) {
		c.fail(path, "%s is not a finite float64: %v", lit, err)
	}
	c.expect(path, "0", "-0", "integral", "fraction", "1e300 or beyond", "nonzero below 1e-300")
	switch a := math.Abs(f); {
	case f == 0 && math.Signbit(f):
		c.saw(path, "-0")
	case f == 0:
		c.saw(path, "0")
	case a >= 1e300:
		c.saw(path, "1e300 or beyond")
	case a < 1e-300:
		c.saw(path, "nonzero below 1e-300")
	case f == math.Trunc(f):
		c.saw(path, "integral")
	default:
		c.saw(path, "fraction")
	}
}

// anyValue checks an "any" value: every number in it is a finite float64.
// When record is set it records the value's JSON type at path.
func (c *checker) anyValue(path string, v any, record bool) {
	c.t.Helper()
	if record {
		c.expect(path, "null", "boolean", "number", "string", "array", "object")
	}
	kind := ""
	switch v := v.(type) {
	case nil:
		kind = "null"
	case bool:
		kind = "boolean"
	case json.Number:
		kind = "number"
		if f, err := strconv.ParseFloat(string(v), 64); err != nil || math.IsInf(f, 0) {
			c.fail(path, "%s is not a finite float64: %v", v, err)
		}
	case string:
		kind = "string"
	case []any:
		kind = "array"
		for _, x := range v {
			c.anyValue(path, x, false)
		}
	case map[string]any:
		kind = "object"
		for k, x := range v {
			c.name(k)
			c.anyValue(path, x, false)
		}
	}
	if record {
		c.saw(path, kind)
	}
}
