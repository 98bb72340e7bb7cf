package client_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// randomBodies is how many generated bodies TestRandomBodiesDecode reads.
const randomBodies = 2000

// TestRandomBodiesDecode is the spec's contract, both ways, on bodies no
// one picked by hand: spectest.Random writes random GET /v1/invocations/{id}
// bodies from the vendored spec (every optional property present or
// absent, nulls, arbitrary text where there is no format, integers in
// every JSON spelling, empty and large arrays, extra properties, every enum
// value and step variant). Each is validated against the spec with
// kin-openapi, decoded by the SDK (DecodeInvocation for all, and Get, Wait
// and Watch over HTTP for a share), and re-encoded with encoding/json and
// JSON v2: the re-encodings must validate too, and equal the input up to
// the normalisations the README lists (normalise below).
func TestRandomBodiesDecode(t *testing.T) {
	t.Parallel()
	gen := spectest.NewRandom(t, spectest.RandomOptions{})
	rng := rand.New(rand.NewPCG(13, 2026))
	bodies := make([][]byte, randomBodies)
	for i := range bodies {
		bodies[i] = gen.Body(rng)
	}
	for i, err := range spectest.ValidateInvocations(t, bodies) {
		if err != nil {
			t.Fatalf("generated body %d does not validate, so the test proves nothing: %v\n%s", i, err, bodies[i])
		}
	}
	schema := spectest.InvocationSchema(t, spectest.Load(t))

	var reencoded [][]byte
	var origin []int
	failures := 0
	for i, body := range bodies {
		inv, err := client.DecodeInvocation(body)
		if err != nil {
			failures++
			if failures <= 5 {
				t.Errorf("body %d: DecodeInvocation: %v\n%s", i, err, body)
			}
			continue
		}
		want := normalise(t, mustParse(t, body), schema)
		for name, marshal := range marshalers {
			b, err := marshal(inv)
			if err != nil {
				t.Errorf("body %d: %s: %v", i, name, err)
				continue
			}
			reencoded = append(reencoded, b)
			origin = append(origin, i)
			if got := normalise(t, mustParse(t, b), schema); !reflect.DeepEqual(got, want) {
				failures++
				if failures <= 5 {
					t.Errorf("body %d: %s round trip differs beyond the listed normalisations:\n in: %s\nout: %s\nwant %#v\n got %#v", i, name, body, b, want, got)
				}
			}
		}
	}
	for j, err := range spectest.ValidateInvocations(t, reencoded) {
		if err != nil {
			failures++
			if failures <= 10 {
				t.Errorf("body %d re-encoded does not validate: %v\n in: %s\nout: %s", origin[j], err, bodies[origin[j]], reencoded[j])
			}
		}
	}
	if failures > 0 {
		t.Fatalf("%d failures in %d bodies", failures, len(bodies))
	}

	// Through HTTP: Get, Watch and Wait read the same bodies alike.
	srv := &bodyServer{}
	c, _ := setup(t, srv.serve)
	for i := 0; i < len(bodies); i += 20 {
		body := bodies[i]
		srv.set(body)
		id := bodyID(t, body)
		want, _ := client.DecodeInvocation(body)
		got, err := c.Invocations.Get(t.Context(), id)
		if err != nil {
			t.Fatalf("body %d: Get: %v", i, err)
		}
		if got.Status != want.Status || !bytes.Equal(got.Raw(), body) || len(got.Steps()) != len(want.Steps()) {
			t.Errorf("body %d: Get and DecodeInvocation disagree", i)
		}
		for inv, err := range c.Invocations.Watch(t.Context(), id) {
			if err != nil || inv.Status != want.Status {
				t.Errorf("body %d: Watch = %v, %v", i, inv, err)
			}
			break
		}
		if want.Status.IsTerminal() {
			inv, err := c.Invocations.Wait(t.Context(), id)
			if inv == nil || inv.Status != want.Status || want.Status.IsSuccess() != (err == nil) {
				t.Errorf("body %d: Wait = %v, %v; want status %s", i, inv, err, want.Status)
			}
		}
	}
}

// bodyServer serves one body at a time.
type bodyServer struct {
	mu   sync.Mutex
	body []byte
}

func (s *bodyServer) set(b []byte) { s.mu.Lock(); s.body = b; s.mu.Unlock() }

func (s *bodyServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b := s.body
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(keepIDHeader, "1")
	w.Write(b)
}

func mustParse(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("parse %s: %v", b, err)
	}
	return v
}

// normalise applies, walking a parsed body and its schema, the
// normalisations a re-encoding may make (the README's "Decoding" section):
// unknown properties are dropped; null is dropped, except that a required
// nullable string reads "" (the model's string holds null as ""); an
// optional property whose value is "", [] or {} is dropped (empty means
// absent); numbers are compared by value (1.0 is 1). Raw ("any") values are
// kept as they are, numbers compared by value.
func normalise(t *testing.T, v any, ref *openapi3.SchemaRef) any {
	t.Helper()
	if ref == nil || ref.Value == nil || spectest.IsAny(ref.Value) {
		return canonical(v)
	}
	s := spectest.NonNull(ref).Value
	if variants := spectest.Variants(s); variants != nil {
		obj, _ := v.(map[string]any)
		for _, vr := range variants {
			if matchesVariant(obj, vr.Schema.Value) {
				return normalise(t, v, vr.Schema)
			}
		}
		return canonical(v)
	}
	switch x := v.(type) {
	case map[string]any:
		if len(s.Properties) == 0 {
			out := map[string]any{}
			for k, e := range x {
				out[k] = normalise(t, e, s.AdditionalProperties.Schema)
			}
			return out
		}
		out := map[string]any{}
		for k, e := range x {
			prop, ok := s.Properties[k]
			if !ok {
				continue // unknown: dropped
			}
			required := slices.Contains(s.Required, k)
			if e == nil {
				if required && spectest.Type(prop.Value) == "string" {
					out[k] = ""
				}
				continue
			}
			n := normalise(t, e, prop)
			if !required && isEmpty(n) {
				continue
			}
			out[k] = n
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalise(t, e, s.Items)
		}
		return out
	}
	return canonical(v)
}

// matchesVariant reports whether obj carries the single value variant s
// gives its discriminating property.
func matchesVariant(obj map[string]any, s *openapi3.Schema) bool {
	for name, p := range s.Properties {
		if len(p.Value.Enum) == 1 {
			if obj[name] != p.Value.Enum[0] {
				return false
			}
		}
	}
	return true
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// canonical replaces every number in v by its exact value as a fraction,
// so that 1, 1.0 and 1e0 compare equal.
func canonical(v any) any {
	switch x := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			return fmt.Sprintf("bad number %s", x)
		}
		return r.RatString()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	}
	return v
}
