package spectest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// RandomOptions tune Random. The zero value asks for the defaults.
type RandomOptions struct {
	// BeyondSpec also writes values the SDK keeps although the spec does
	// not list them: a string enum sometimes gets a value outside its enum
	// (never the property that tells a union's members apart, which would
	// make the item belong to no member). Such bodies are not spec-valid.
	BeyondSpec bool

	// MaxItems bounds the length of an array or map that is not large
	// (default 8).
	MaxItems int

	// LargeEvery makes one array in LargeEvery (on average) large: 200 to
	// 1000 items, at most one such array per body (default 200; negative:
	// never).
	LargeEvery int
}

// Random generates random GET /v1/invocations/{id} 200 bodies from the
// spec as the API publishes it (Load, not LoadGenerated: a timestamp is a
// plain "type: string" there, so it gets arbitrary text). It walks the
// schema, so a property, enum value or union member a spec bump adds is
// generated without an edit here.
//
// What a body holds, wherever the schema allows it:
//   - every optional property present or absent at random, and null where
//     the schema allows it ("type: [X, null]", a oneOf with "type: null",
//     an "any" value); required properties always, in random order;
//   - each enum value (each member of a union, such as a success and a
//     failure step);
//   - strings without a format: arbitrary valid Unicode text: empty,
//     control characters, quotes and backslashes, non-ASCII and astral
//     characters, U+2028, long text, and text that looks like a time but
//     need not be one ("2026-11-27 08:05:00Z", "2016-12-31T23:59:60Z",
//     "quis nisi"), and times in RFC 3339 and its common variants.
//     Strings are written with JSON escapes at random (short, \u with
//     either hex case, surrogate pairs, "\/"), names too;
//   - format uuid: a UUID in lower, upper or mixed case, any version and
//     variant (JSON Schema's "uuid" is RFC 4122's syntax), nil and max;
//     uri: an absolute RFC 3986 URI; date-time, date, email, byte, ipv4
//     and ipv6 a value of that format; any other format arbitrary text;
//   - integers in every JSON spelling of an integral value (25, 25.0,
//     25e0, 2.5E+1, 250e-1, -0 for zero) and boundary values (0, -1,
//     ±2^31, ±2^53, the int64 limits). Beyond ±2^53 a value is written
//     plainly; it is never a fraction and never outside int64 (or the
//     schema's minimum, maximum and int32 format);
//   - numbers: finite float64 values, among them 0, -0, 1e308, 5e-324,
//     the largest float64 and 12345.67;
//   - arrays empty, short (up to MaxItems) or large, within minItems and
//     maxItems; maps (additionalProperties without properties) with 0 to
//     MaxItems entries under arbitrary names;
//   - extra properties on objects that do not forbid them, named at random
//     or after a property some other schema declares; never one whose
//     name matches a declared property of the same object as a Go JSON
//     decoder may match names (see sameName), so "STATUS" never appears
//     beside "status";
//   - "any" values: arbitrary JSON, nested up to three levels, whose
//     numbers all parse as finite float64.
//
// Insignificant whitespace appears at random. Bodies are valid UTF-8 with
// no duplicate names; strings never hold an unpaired surrogate. A schema
// keyword Random cannot honour (pattern, allOf, multipleOf, ...) makes
// NewRandom fail rather than produce invalid bodies.
//
// Body may be called concurrently, each call with its own rng: a Random
// holds nothing that changes.
type Random struct {
	root  *openapi3.SchemaRef
	opts  RandomOptions
	names []string // every property name the spec declares, for extras
}

// Defaults for RandomOptions.
const (
	defaultMaxItems   = 8
	defaultLargeEvery = 200
	largeMin          = 200
	largeMax          = 1000
)

// NewRandom prepares a generator over the vendored spec (Load). It fails
// the test when the invocation schema uses a keyword Random cannot honour.
func NewRandom(t testing.TB, opts RandomOptions) *Random {
	t.Helper()
	g, err := newRandom(InvocationSchema(t, Load(t)), opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// newRandom returns a generator of values for root.
func newRandom(root *openapi3.SchemaRef, opts RandomOptions) (*Random, error) {
	if opts.MaxItems <= 0 {
		opts.MaxItems = defaultMaxItems
	}
	if opts.LargeEvery == 0 {
		opts.LargeEvery = defaultLargeEvery
	}
	names := map[string]bool{}
	if err := checkSchema(RootPath, root, map[*openapi3.Schema]bool{}, names); err != nil {
		return nil, err
	}
	g := &Random{root: root, opts: opts}
	for n := range names {
		g.names = append(g.names, n)
	}
	slices.Sort(g.names)
	return g, nil
}

// Body returns one random GET /v1/invocations/{id} 200 body. The body
// depends only on rng's state: the same seed gives the same bytes.
func (g *Random) Body(rng *rand.Rand) []byte {
	w := &writer{g: g, rng: rng, spacey: rng.IntN(4) == 0}
	w.ws()
	w.value(RootPath, g.root, 0, false, "")
	w.ws()
	return w.buf.Bytes()
}

// checkSchema walks the schema at path and returns an error naming the
// first keyword Random cannot honour. It adds every declared property
// name to names.
func checkSchema(path string, ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool, names map[string]bool) error {
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("spectest: Random: %s has an unresolved schema", path)
	}
	s := ref.Value
	if seen[s] {
		return nil
	}
	seen[s] = true
	for _, k := range []struct {
		keyword string
		used    bool
	}{
		{"pattern", s.Pattern != ""},
		{"multipleOf", s.MultipleOf != nil},
		{"not", s.Not != nil},
		{"allOf", len(s.AllOf) > 0},
		{"prefixItems", len(s.PrefixItems) > 0},
		{"contains", s.Contains != nil},
		{"uniqueItems", s.UniqueItems},
		{"patternProperties", len(s.PatternProperties) > 0},
		{"dependentSchemas", len(s.DependentSchemas) > 0},
		{"dependentRequired", len(s.DependentRequired) > 0},
		{"propertyNames", s.PropertyNames != nil},
		{"minProperties", s.MinProps > 0},
		{"maxProperties", s.MaxProps != nil},
		{"if", s.If != nil},
		{"unevaluatedItems", s.UnevaluatedItems.Has != nil || s.UnevaluatedItems.Schema != nil},
		{"unevaluatedProperties", s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil},
		{"discriminator", s.Discriminator != nil},
		{"a false schema", s.Always != nil && !*s.Always},
	} {
		if k.used {
			return fmt.Errorf("spectest: Random: %s uses %s, which Random cannot generate values for", path, k.keyword)
		}
	}
	if members := nonNullMembers(s); members != nil {
		if len(s.OneOf) > 0 && len(s.AnyOf) > 0 {
			return fmt.Errorf("spectest: Random: %s has both oneOf and anyOf", path)
		}
		vs := Variants(s)
		for i, m := range members {
			p := path
			if vs != nil {
				p = MemberPath(path, vs[i].Label)
			}
			if err := checkSchema(p, m, seen, names); err != nil {
				return err
			}
		}
		if len(members) > 0 && (s.Type != nil || len(s.Properties) > 0 || s.Items != nil || len(s.Enum) > 0) {
			return fmt.Errorf("spectest: Random: %s combines oneOf or anyOf with other keywords", path)
		}
		return nil
	}
	if IsAny(s) || len(s.Enum) > 0 || s.Const != nil || s.Type.Is(openapi3.TypeNull) {
		return nil
	}
	for _, typ := range jsonTypes(s) {
		switch typ {
		case openapi3.TypeObject:
			for _, name := range SortedProperties(s) {
				names[name] = true
				if err := checkSchema(PropPath(path, name), s.Properties[name], seen, names); err != nil {
					return err
				}
			}
			if ap := s.AdditionalProperties.Schema; ap != nil {
				if err := checkSchema(MapValuePath(path), ap, seen, names); err != nil {
					return err
				}
			}
		case openapi3.TypeArray:
			if s.MaxItems != nil && s.MinItems > *s.MaxItems {
				return fmt.Errorf("spectest: Random: %s has minItems > maxItems", path)
			}
			if s.Items != nil {
				if err := checkSchema(ItemPath(path), s.Items, seen, names); err != nil {
					return err
				}
			}
		case openapi3.TypeInteger:
			if lo, hi := intBounds(s); lo > hi {
				return fmt.Errorf("spectest: Random: %s allows no integer", path)
			}
		case openapi3.TypeNumber:
			if lo, hi := numBounds(s); !(lo <= hi) {
				return fmt.Errorf("spectest: Random: %s allows no number", path)
			}
		case openapi3.TypeString:
			if s.MaxLength != nil && s.MinLength > *s.MaxLength {
				return fmt.Errorf("spectest: Random: %s has minLength > maxLength", path)
			}
		case openapi3.TypeBoolean:
		default:
			return fmt.Errorf("spectest: Random: %s has type %q, which Random cannot generate", path, typ)
		}
	}
	return nil
}

// jsonTypes returns the JSON types s allows other than null. A schema
// without "type" is an object when it has properties, an array when it has
// items, a string when it has a format or a length.
func jsonTypes(s *openapi3.Schema) []string {
	var out []string
	for _, typ := range s.Type.Slice() {
		if typ != openapi3.TypeNull {
			out = append(out, typ)
		}
	}
	if len(out) == 0 {
		switch {
		case len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil:
			out = []string{openapi3.TypeObject}
		case s.Items != nil:
			out = []string{openapi3.TypeArray}
		case s.Format != "" || s.MinLength > 0 || s.MaxLength != nil:
			out = []string{openapi3.TypeString}
		default:
			out = []string{""}
		}
	}
	return out
}

// nullable reports whether the schema at ref allows null: "type: [X,
// null]", a oneOf (or anyOf) with a "type: null" member, an "any" value,
// an enum holding null, or OpenAPI 3.0's "nullable: true".
func nullable(ref *openapi3.SchemaRef) bool {
	if ref == nil || ref.Value == nil {
		return false
	}
	s := ref.Value
	if s.Type.Includes(openapi3.TypeNull) || s.Nullable || IsAny(s) || slices.Contains(s.Enum, nil) {
		return true
	}
	of := s.OneOf
	if len(of) == 0 {
		of = s.AnyOf
	}
	for _, m := range of {
		if m.Value != nil && (m.Value.Type.Is(openapi3.TypeNull) || nullable(m)) {
			return true
		}
	}
	return false
}

// onlyNull reports whether null is all that s allows.
func onlyNull(s *openapi3.Schema) bool {
	members := nonNullMembers(s)
	return s.Type.Is(openapi3.TypeNull) || (members != nil && len(members) == 0)
}

// sameName reports whether two property names may be taken for one
// another by a Go JSON decoder: encoding/json matches names under Unicode
// case folding ("STATUS", "ſtatus" and "status" are one name), and
// json v2's case-insensitive matching also ignores '-' and '_' ("run_id"
// is "runId").
func sameName(a, b string) bool {
	if strings.ContainsAny(a, "-_") || strings.ContainsAny(b, "-_") {
		a, b = nameDelimiters.Replace(a), nameDelimiters.Replace(b)
	}
	return strings.EqualFold(a, b)
}

// nameDelimiters strips what json v2's case-insensitive matching ignores.
var nameDelimiters = strings.NewReplacer("-", "", "_", "")

// intBounds returns the least and greatest integer s allows: its minimum
// and maximum (exclusive ones too), its int32 format, and int64's range.
func intBounds(s *openapi3.Schema) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if s.Format == "int32" {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	raise := func(f float64, exclusive bool) {
		c := math.Ceil(f)
		if exclusive && c == f {
			c++
		}
		if c >= math.MaxInt64 { // 2^63 and above
			lo, hi = 1, 0
		} else if c > float64(lo) {
			lo = int64(c)
		}
	}
	lower := func(f float64, exclusive bool) {
		c := math.Floor(f)
		if exclusive && c == f {
			c--
		}
		if c < math.MinInt64 {
			lo, hi = 1, 0
		} else if c < float64(hi) {
			hi = int64(c)
		}
	}
	if s.Min != nil {
		raise(*s.Min, s.ExclusiveMin.IsTrue())
	}
	if v := s.ExclusiveMin.Value; v != nil {
		raise(*v, true)
	}
	if s.Max != nil {
		lower(*s.Max, s.ExclusiveMax.IsTrue())
	}
	if v := s.ExclusiveMax.Value; v != nil {
		lower(*v, true)
	}
	return lo, hi
}

// numBounds returns the least and greatest finite float64 s allows.
func numBounds(s *openapi3.Schema) (lo, hi float64) {
	lo, hi = -math.MaxFloat64, math.MaxFloat64
	if s.Format == "float" {
		lo, hi = -math.MaxFloat32, math.MaxFloat32
	}
	if s.Min != nil {
		m := *s.Min
		if s.ExclusiveMin.IsTrue() {
			m = math.Nextafter(m, math.Inf(1))
		}
		lo = max(lo, m)
	}
	if v := s.ExclusiveMin.Value; v != nil {
		lo = max(lo, math.Nextafter(*v, math.Inf(1)))
	}
	if s.Max != nil {
		m := *s.Max
		if s.ExclusiveMax.IsTrue() {
			m = math.Nextafter(m, math.Inf(-1))
		}
		hi = min(hi, m)
	}
	if v := s.ExclusiveMax.Value; v != nil {
		hi = min(hi, math.Nextafter(*v, math.Inf(-1)))
	}
	return lo, hi
}

// writer writes one body.
type writer struct {
	g      *Random
	rng    *rand.Rand
	buf    bytes.Buffer
	spacey bool // insignificant whitespace between tokens
	large  bool // the body's one large array is written
}

// Depth limits: past softDepth optional properties are left out, arrays
// are as short and values null as the schema allows, so a recursive schema
// ends; maxDepth (Sample's) is where Body gives up. An "any" value nests
// up to maxAnyDepth levels.
const (
	softDepth   = 16
	maxAnyDepth = 3
)

// chance reports true with probability 1/n.
func (w *writer) chance(n int) bool { return w.rng.IntN(n) == 0 }

// ws writes insignificant whitespace, sometimes, in a spacey body.
func (w *writer) ws() {
	if !w.spacey || !w.chance(3) {
		return
	}
	for range 1 + w.rng.IntN(3) {
		w.buf.WriteByte(" \t\n\r"[w.rng.IntN(4)])
	}
}

// value writes a value for the schema at ref. fixed is set for the
// property that tells a union's members apart, which always gets its
// member's value; disc names that property when ref is a union's member.
func (w *writer) value(path string, ref *openapi3.SchemaRef, depth int, fixed bool, disc string) {
	if depth > maxDepth {
		panic(fmt.Sprintf("spectest: Random: %s is nested more than %d levels deep: the schema has no finite instance", path, maxDepth))
	}
	s := NonNull(ref).Value
	if IsAny(s) {
		w.anyValue(0)
		return
	}
	if nullable(ref) && (depth > softDepth || w.chance(5) || onlyNull(s)) {
		w.buf.WriteString("null")
		return
	}
	if vs := Variants(s); vs != nil {
		v := vs[w.rng.IntN(len(vs))]
		w.value(MemberPath(path, v.Label), v.Schema, depth+1, false, discriminator(nonNullMembers(s)))
		return
	}
	if s.Const != nil {
		w.literal(s.Const)
		return
	}
	if len(s.Enum) > 0 {
		if w.g.opts.BeyondSpec && !fixed && stringEnum(s.Enum) && w.chance(4) {
			w.str(w.unknownEnum(s.Enum))
			return
		}
		w.literal(s.Enum[w.rng.IntN(len(s.Enum))])
		return
	}
	ts := jsonTypes(s)
	switch ts[w.rng.IntN(len(ts))] {
	case openapi3.TypeObject:
		w.object(path, s, depth, disc)
	case openapi3.TypeArray:
		w.array(path, s, depth)
	case openapi3.TypeString:
		w.str(w.stringValue(s))
	case openapi3.TypeInteger:
		w.integer(s)
	case openapi3.TypeNumber:
		w.number(s)
	case openapi3.TypeBoolean:
		w.buf.WriteString(strconv.FormatBool(w.chance(2)))
	default:
		panic(fmt.Sprintf("spectest: Random: %s has no type Random can generate", path))
	}
}

// stringEnum reports whether every enum value is a string.
func stringEnum(enum []any) bool {
	for _, v := range enum {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return true
}

// literal writes an enum or const value.
func (w *writer) literal(v any) {
	if s, ok := v.(string); ok {
		w.str(s)
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("spectest: Random: enum value %#v: %v", v, err))
	}
	w.buf.Write(data)
}

// unknownEnum returns a string that is not one of enum's values.
func (w *writer) unknownEnum(enum []any) string {
	for {
		var s string
		switch w.rng.IntN(4) {
		case 0:
			s = "paused"
		case 1:
			s = w.text()
		case 2: // a known value in another case: still not the value
			if v, ok := enum[w.rng.IntN(len(enum))].(string); ok {
				s = strings.ToUpper(v) + "_X"
			}
		default:
			s = "unknown_" + strconv.Itoa(w.rng.IntN(1000))
		}
		if !slices.Contains(enum, any(s)) {
			return s
		}
	}
}

// entry is a name and the function that writes its value.
type entry struct {
	name  string
	value func()
}

// object writes an object, or a map when s declares no properties. disc
// is the property that tells s apart from the other members of its union.
func (w *writer) object(path string, s *openapi3.Schema, depth int, disc string) {
	var entries []entry
	taken := map[string]bool{}
	for _, name := range SortedProperties(s) {
		required := slices.Contains(s.Required, name)
		if !required && (depth > softDepth || w.chance(3)) {
			continue
		}
		taken[name] = true
		entries = append(entries, entry{name, func() {
			w.value(PropPath(path, name), s.Properties[name], depth+1, name == disc, "")
		}})
	}
	allowed := s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has
	extra := func() {
		if ap := s.AdditionalProperties.Schema; ap != nil {
			w.value(MapValuePath(path), ap, depth+1, false, "")
		} else {
			w.anyValue(1)
		}
	}
	switch {
	case !allowed || depth > softDepth:
	case len(s.Properties) == 0: // a map
		n := 0
		if !w.chance(4) {
			n = 1 + w.rng.IntN(w.g.opts.MaxItems)
		}
		for range n {
			name := w.name(taken, nil)
			entries = append(entries, entry{name, extra})
		}
	case w.chance(4):
		for range 1 + w.rng.IntN(3) {
			name := w.name(taken, s.Properties)
			entries = append(entries, entry{name, extra})
		}
	}
	w.rng.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	w.buf.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.ws()
		w.str(e.name)
		w.ws()
		w.buf.WriteByte(':')
		w.ws()
		e.value()
		w.ws()
	}
	w.buf.WriteByte('}')
}

// name returns a new name for an extra property or a map entry, not in
// taken (which it adds it to) and, for an extra property, not the same
// name as any of declared.
func (w *writer) name(taken map[string]bool, declared openapi3.Schemas) string {
	for {
		var n string
		switch {
		case declared != nil && len(w.g.names) > 0 && w.chance(3):
			n = w.g.names[w.rng.IntN(len(w.g.names))] // declared elsewhere
		case w.chance(2):
			n = nameWords[w.rng.IntN(len(nameWords))]
		default:
			n = w.text()
		}
		if taken[n] {
			continue
		}
		clash := false
		for d := range declared {
			if sameName(n, d) {
				clash = true
				break
			}
		}
		if !clash {
			taken[n] = true
			return n
		}
	}
}

// nameWords are names for extra properties and map entries.
var nameWords = []string{
	"", "x", "team", "trigger", "nested", "__proto__", "constructor", "$ref",
	"a.b", "a b", "ключ", "名前", "🔑", "null", "true", "0", "-1", "1e3",
}

// array writes an array.
func (w *writer) array(path string, s *openapi3.Schema, depth int) {
	lo, hi := int(s.MinItems), math.MaxInt
	if s.MaxItems != nil && *s.MaxItems < uint64(math.MaxInt) {
		hi = int(*s.MaxItems)
	}
	var n int
	switch {
	case depth > softDepth:
		n = 0
	case !w.large && w.g.opts.LargeEvery > 0 && w.chance(w.g.opts.LargeEvery):
		w.large = true
		n = largeMin + w.rng.IntN(largeMax-largeMin+1)
	case w.chance(4):
		n = 0
	default:
		n = 1 + w.rng.IntN(w.g.opts.MaxItems)
	}
	n = min(max(n, lo), hi)
	items := s.Items
	w.buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.ws()
		if items == nil {
			w.anyValue(1)
		} else {
			w.value(ItemPath(path), items, depth+1, false, "")
		}
		w.ws()
	}
	w.buf.WriteByte(']')
}

// anyValue writes arbitrary JSON nested depth levels deep so far.
func (w *writer) anyValue(depth int) {
	kinds := 7
	if depth >= maxAnyDepth {
		kinds = 5
	}
	switch w.rng.IntN(kinds) {
	case 0:
		w.buf.WriteString("null")
	case 1:
		w.buf.WriteString(strconv.FormatBool(w.chance(2)))
	case 2:
		if w.chance(2) {
			w.integer(&openapi3.Schema{})
		} else if w.chance(4) {
			w.buf.WriteString(anyNumbers[w.rng.IntN(len(anyNumbers))])
		} else {
			w.number(&openapi3.Schema{})
		}
	case 3, 4:
		w.str(w.text())
	case 5:
		n := w.rng.IntN(5)
		w.buf.WriteByte('[')
		for i := range n {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.ws()
			w.anyValue(depth + 1)
			w.ws()
		}
		w.buf.WriteByte(']')
	case 6:
		n := w.rng.IntN(5)
		taken := map[string]bool{}
		w.buf.WriteByte('{')
		for i := range n {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.ws()
			w.str(w.name(taken, nil))
			w.ws()
			w.buf.WriteByte(':')
			w.ws()
			w.anyValue(depth + 1)
			w.ws()
		}
		w.buf.WriteByte('}')
	}
}

// anyNumbers are number spellings only "any" values get: integers beyond
// int64 and other values no integer or float64 field is written with. All
// parse as finite float64.
var anyNumbers = []string{
	"123456789012345678901234567890", "-18446744073709551616", "1e300", "1E-300",
	"0.1e-5", "1.000000000000000000001", "-0.0e-0", "9007199254740993",
}

// integerBoundaries are the boundary values integers are drawn from.
var integerBoundaries = []int64{
	0, -1, 1,
	math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1,
	1 << 53, -1 << 53, 1<<53 - 1, -(1<<53 - 1), 1<<53 + 1,
	math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
}

// integer writes a random integer that s allows in a random spelling.
func (w *writer) integer(s *openapi3.Schema) {
	lo, hi := intBounds(s)
	var v int64
	switch r := w.rng.IntN(20); {
	case r < 3:
		v = 0
	case r < 9:
		v = w.rng.Int64N(111) - 10
	case r < 13:
		v = integerBoundaries[w.rng.IntN(len(integerBoundaries))]
	case r < 16:
		v = int64(int32(w.rng.Uint32()))
	case r < 18:
		v = w.rng.Int64N(1<<54+1) - 1<<53
	default:
		v = int64(w.rng.Uint64())
	}
	if v < lo || v > hi {
		span := uint64(hi) - uint64(lo)
		if span == math.MaxUint64 {
			v = int64(w.rng.Uint64())
		} else {
			v = lo + int64(w.rng.Uint64N(span+1))
		}
	}
	w.buf.WriteString(w.spellInteger(v))
}

// spellInteger returns one of the JSON spellings of v. Beyond ±2^53, where
// a float64 no longer holds every integer, it is always the plain one.
func (w *writer) spellInteger(v int64) string {
	plain := strconv.FormatInt(v, 10)
	if v > 1<<53 || v < -1<<53 || w.chance(3) {
		return plain
	}
	sign, digits := "", plain
	if v < 0 {
		sign, digits = "-", plain[1:]
	}
	if v == 0 && w.chance(2) {
		sign = "-"
	}
	e := func() string { return []string{"e", "E"}[w.rng.IntN(2)] }
	plus := func() string { return []string{"", "+"}[w.rng.IntN(2)] }
	zeros := func(n int) string { return strings.Repeat("0", n) }
	switch w.rng.IntN(5) {
	case 0: // -0 for zero, else plain
		return sign + digits
	case 1: // 25.0
		return sign + digits + "." + zeros(1+w.rng.IntN(3))
	case 2: // 25e0, 25E+0; trailing zeros moved into the exponent: 100 as 1e2
		trimmed := strings.TrimRight(digits, "0")
		if trimmed == "" { // zero: any exponent
			return sign + "0" + e() + plus() + strconv.Itoa(w.rng.IntN(400))
		}
		k := w.rng.IntN(len(digits) - len(trimmed) + 1)
		return sign + digits[:len(digits)-k] + e() + plus() + strconv.Itoa(k)
	case 3: // 250e-1, 100e-2; 0e-3
		k := 1 + w.rng.IntN(3)
		if v == 0 {
			return sign + "0" + e() + "-" + strconv.Itoa(k)
		}
		return sign + digits + zeros(k) + e() + "-" + strconv.Itoa(k)
	default: // 2.50e1, 0.25E+2
		if w.chance(3) {
			return sign + "0." + digits + zeros(w.rng.IntN(2)) + e() + plus() + strconv.Itoa(len(digits))
		}
		p := 1 + w.rng.IntN(len(digits))
		frac := digits[p:] + zeros(w.rng.IntN(2))
		if frac == "" {
			frac = "0"
		}
		return sign + digits[:p] + "." + frac + e() + plus() + strconv.Itoa(len(digits)-p)
	}
}

// specialNumbers are the float64 values numbers are often drawn from.
var specialNumbers = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 12345.67, -12345.67, 1.0 / 3,
	1e308, -1e308, math.MaxFloat64, -math.MaxFloat64,
	5e-324, -5e-324, 2.2250738585072014e-308, 9007199254740993,
	math.MaxFloat32, 1e-45,
}

// number writes a random finite float64 that s allows.
func (w *writer) number(s *openapi3.Schema) {
	lo, hi := numBounds(s)
	var f float64
	switch r := w.rng.IntN(10); {
	case r < 4:
		f = specialNumbers[w.rng.IntN(len(specialNumbers))]
	case r < 7:
		f = w.rng.NormFloat64() * math.Pow(10, float64(w.rng.IntN(41)-20))
	case r < 8:
		f = float64(w.rng.Int64N(2001) - 1000)
	default:
		f = math.Float64frombits(w.rng.Uint64())
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < lo || f > hi {
		switch {
		case w.chance(3):
			f = lo
		case w.chance(2):
			f = hi
		default: // halves, so that hi-lo cannot overflow
			mid, half := lo/2+hi/2, hi/2-lo/2
			f = min(max(mid+(2*w.rng.Float64()-1)*half, lo), hi)
		}
	}
	formats := []byte{'g', 'e', 'E', 'f', 'G'}
	fmtc := formats[w.rng.IntN(len(formats))]
	if fmtc == 'f' && (math.Abs(f) > 1e30 || (f != 0 && math.Abs(f) < 1e-30)) && !w.chance(8) {
		fmtc = 'g' // a few 300-digit spellings, not many
	}
	w.buf.WriteString(strconv.FormatFloat(f, fmtc, -1, 64))
}

// stringValue returns a random string that s allows.
func (w *writer) stringValue(s *openapi3.Schema) string {
	gen := w.text
	switch s.Format {
	case "uuid":
		gen = w.uuid
	case "uri", "url":
		gen = w.uri
	case "date-time":
		gen = func() string { return w.randomTime().Format(dateTimeLayouts[w.rng.IntN(len(dateTimeLayouts))]) }
	case "date":
		gen = func() string { return w.randomTime().Format(time.DateOnly) }
	case "email":
		gen = func() string { return emails[w.rng.IntN(len(emails))] }
	case "byte":
		gen = func() string { return base64.StdEncoding.EncodeToString(w.bytes(w.rng.IntN(40))) }
	case "ipv4":
		gen = func() string { return netip.AddrFrom4([4]byte(w.bytes(4))).String() }
	case "ipv6":
		gen = func() string { return netip.AddrFrom16([16]byte(w.bytes(16))).String() }
	}
	var v string
	for range 20 {
		v = gen()
		n := uint64(utf8.RuneCountInString(v))
		if n >= s.MinLength && (s.MaxLength == nil || n <= *s.MaxLength) {
			return v
		}
	}
	// Random text rarely fits tight bounds: cut or pad the last try.
	r := []rune(v)
	if s.MaxLength != nil && uint64(len(r)) > *s.MaxLength {
		r = r[:*s.MaxLength]
	}
	for uint64(len(r)) < s.MinLength {
		r = append(r, 'x')
	}
	return string(r)
}

// dateTimeLayouts are RFC 3339 layouts for format date-time. kin-openapi's
// date-time check wants an upper-case T and Z, which RFC 3339 does not.
var dateTimeLayouts = []string{time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05.000-07:00"}

// textTimeLayouts are the time layouts of text: RFC 3339's and those of
// its variants that servers send.
var textTimeLayouts = []string{
	time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02 15:04:05Z07:00",
	"2006-01-02t15:04:05z07:00", "2006-01-02T15:04:05", time.RFC1123,
}

// emails are values for format email.
var emails = []string{"user@example.com", "a.b+tag@sub.example.org", "\"quoted user\"@example.com", "x@[127.0.0.1]"}

// bytes returns n random bytes.
func (w *writer) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(w.rng.Uint32())
	}
	return b
}

// randomTime returns a time between years 0000 and 9999 in a random
// offset.
func (w *writer) randomTime() time.Time {
	sec := w.rng.Int64N(253402300800) - 62167219200
	t := time.Unix(sec, w.rng.Int64N(1e9)).UTC()
	return t.In(time.FixedZone("", (w.rng.IntN(57)-28)*15*60))
}

// uuid returns a UUID: usually RFC 9562's layout with a random version,
// sometimes any version and variant digits, nil or max; in lower, upper
// or mixed case.
func (w *writer) uuid() string {
	b := w.bytes(16)
	switch w.rng.IntN(10) {
	case 0:
		b = make([]byte, 16)
	case 1:
		b = bytes.Repeat([]byte{0xff}, 16)
	case 2, 3: // any version and variant
	default:
		b[6] = b[6]&0x0f | byte(1+w.rng.IntN(8))<<4
		b[8] = b[8]&0x3f | 0x80
	}
	s := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	switch w.rng.IntN(3) {
	case 0:
		return s
	case 1:
		return strings.ToUpper(s)
	}
	r := []byte(s)
	for i := range r {
		if w.chance(2) {
			r[i] = strings.ToUpper(string(r[i]))[0]
		}
	}
	return string(r)
}

// uri returns an absolute URI (RFC 3986: non-ASCII text percent-encoded).
func (w *writer) uri() string {
	switch w.rng.IntN(8) {
	case 0:
		return "urn:uuid:" + w.uuid()
	case 1:
		return "mailto:" + url.PathEscape(w.shortText()) + "@example.com"
	case 2:
		return "data:text/plain;charset=utf-8," + url.PathEscape(w.shortText())
	case 3:
		return "file:///" + url.PathEscape(w.shortText())
	case 4:
		return "x-custom+v1.2-a:" + url.PathEscape(w.shortText())
	}
	schemes := []string{"https", "http", "HTTPS", "ftp"}
	hosts := []string{"example.com", "EXAMPLE.COM", "platform.bctrl.ai", "127.0.0.1", "[::1]", "xn--bcher-kva.example", "localhost", "user:pass@example.com"}
	u := schemes[w.rng.IntN(len(schemes))] + "://" + hosts[w.rng.IntN(len(hosts))]
	if w.chance(3) {
		u += ":" + strconv.Itoa(w.rng.IntN(65536))
	}
	for range w.rng.IntN(4) {
		u += "/" + url.PathEscape(w.shortText())
	}
	if w.chance(3) {
		u += "?" + url.QueryEscape(w.shortText()) + "=" + url.QueryEscape(w.shortText())
	}
	if w.chance(4) {
		u += "#" + url.PathEscape(w.shortText())
	}
	return u
}

// textPieces are the fragments arbitrary text is built from.
var textPieces = []string{
	"quis nisi", "lorem ipsum dolor sit amet", "page.goto", "STEP_FAILED", "x",
	"2026-11-27 08:05:00Z", "2016-12-31T23:59:60Z", "2026-11-27T08:05:00.123456789+14:00",
	"2026-13-45T99:99:99Z", "2026-11-27", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z",
	"2026-11-27t08:05:00z", "Fri, 27 Nov 2026 08:05:00 GMT", "1764230700", "now",
	`"`, `\`, `\"`, `\\\`, `\u0000`, "'", "</script>", "<&>", "/",
	"\x00", "\x01", "\b", "\t", "\n", "\f", "\r", "\x1b", "\x1f", "\x7f",
	"é", "ß", "ſ", "\u212a", "İ", "中文", "العربية", "עִבְרִית", "e\u0301", "\u200b", "\u2028", "\u2029",
	"\ufeff", "\ufffd", "😀", "👩‍👩‍👧", "𝄞", "\U0010ffff", "null", "true", "0", "{}", "[]",
}

// text returns arbitrary text: empty, a few pieces, or long.
func (w *writer) text() string {
	switch r := w.rng.IntN(200); {
	case r < 16:
		return ""
	case r < 17: // long: 1000 to 3000 characters
		var b strings.Builder
		for n, chars := 1000+w.rng.IntN(2001), 0; chars < n; {
			p := textPieces[w.rng.IntN(len(textPieces))]
			b.WriteString(p)
			chars += utf8.RuneCountInString(p)
		}
		return b.String()
	case r < 30: // an RFC 3339 time, as a server would send
		return w.randomTime().Format(textTimeLayouts[w.rng.IntN(len(textTimeLayouts))])
	case r < 44: // random code points (valid: no surrogates)
		var b strings.Builder
		for range 1 + w.rng.IntN(8) {
			c := rune(w.rng.IntN(0x10ffff + 1))
			if !utf8.ValidRune(c) {
				c = 'A'
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return w.shortText()
}

// shortText returns one to three pieces of text.
func (w *writer) shortText() string {
	var b strings.Builder
	for range 1 + w.rng.IntN(3) {
		b.WriteString(textPieces[w.rng.IntN(len(textPieces))])
	}
	return b.String()
}

// str writes s as a JSON string. It escapes what JSON requires (quote,
// backslash, control characters, in the short form or \u with either hex
// case) and, in one string in four, other characters too: \u escapes
// (surrogate pairs beyond the BMP) and "\/".
func (w *writer) str(s string) {
	const hex = "0123456789abcdef0123456789ABCDEF"
	upper := w.rng.IntN(2) * 16
	u := func(r rune) {
		w.buf.WriteString(`\u`)
		for shift := 12; shift >= 0; shift -= 4 {
			w.buf.WriteByte(hex[upper+int(r>>shift)&0xf])
		}
	}
	eager := w.chance(4)
	w.buf.WriteByte('"')
	for _, r := range s {
		switch {
		case eager && w.chance(3):
			if r > 0xffff {
				r1, r2 := surrogates(r)
				u(r1)
				u(r2)
			} else {
				u(r)
			}
		case r == '"':
			w.buf.WriteString(`\"`)
		case r == '\\':
			w.buf.WriteString(`\\`)
		case r == '/' && eager:
			w.buf.WriteString(`\/`)
		case r < 0x20:
			if short, ok := shortEscapes[r]; ok && w.chance(2) {
				w.buf.WriteString(short)
			} else {
				u(r)
			}
		default:
			w.buf.WriteRune(r)
		}
	}
	w.buf.WriteByte('"')
}

var shortEscapes = map[rune]string{'\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}

// surrogates returns the UTF-16 surrogate pair of r, which is beyond the
// Basic Multilingual Plane.
func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
