package client

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/bctrlhq/sdk-go/gen"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// boundedTypes are the collection types decode bounds (newDecodeState);
// TestEveryCollectionIsBounded keeps the list in step with the model.
var boundedTypes = append([]reflect.Type{
	reflect.TypeFor[[]Step](),
	reflect.TypeFor[[]gen.RequestStep](),
	reflect.TypeFor[[]gen.Fix](),
	reflect.TypeFor[[]stdjson.RawMessage](),
	reflect.TypeFor[[]string](),
	reflect.TypeFor[map[string]stdjson.RawMessage](),
}, generatedBoundedTypes...) // the generated results' (zz_operations.gen.go)

// TestEveryCollectionIsBounded walks the model from Invocation and names
// every slice or map type that decode does not bound: a spec bump that
// adds an array of a new type must add it to newDecodeState's list (and
// here), or a hostile body could pad it without limit.
func TestEveryCollectionIsBounded(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		switch typ.Kind() {
		case reflect.Pointer:
			walk(typ.Elem(), path)
		case reflect.Struct:
			// The visible fields: those of an embedded generated struct
			// that a field of the outer type shadows are never decoded
			// (a page's Data of client.Invocation shadows gen's).
			for _, f := range reflect.VisibleFields(typ) {
				if f.IsExported() && !f.Anonymous {
					walk(f.Type, path+"."+f.Name)
				}
			}
		case reflect.Slice, reflect.Map:
			if typ == reflect.TypeFor[stdjson.RawMessage]() {
				return // a raw value, not a collection
			}
			found := false
			for _, b := range boundedTypes {
				found = found || b == typ
			}
			if !found {
				t.Errorf("%s is a %v, which decode does not bound: add it to newDecodeState (client/decode.go)", path, typ)
			}
			walk(typ.Elem(), path+"[]")
		}
	}
	// gen.Result.Steps is shadowed by Result.Steps ([]Step) and never
	// decoded.
	seen[reflect.TypeFor[[]gen.Step]()] = true
	walk(reflect.TypeFor[Invocation](), "Invocation")
	walk(reflect.TypeFor[StepFailure](), "StepFailure")
	for _, r := range generatedResults { // what generated methods decode
		walk(r, r.Name())
	}
}

// TestHostileCollectionsAreBounded pads each collection of the model with
// tiny elements, in a body under the size cap: decode refuses it with
// ErrResponseTooLarge instead of allocating tens of times the body.
func TestHostileCollectionsAreBounded(t *testing.T) {
	base := `{"id":"x","status":"running","createdAt":"2026-01-01T00:00:00Z",`
	const n = 400_000
	for _, tt := range []struct {
		name string
		body string
	}{
		{"request.steps of {}", base + `"request":{"runtimeId":"r","steps":[` + strings.Repeat(`{},`, n) + `{}]}}`},
		{"metadata keys", base + `"metadata":{` + manyKeys(n) + `}}`},
		{"request args", base + `"request":{"runtimeId":"r","steps":[{"call":"c","args":[` + strings.Repeat(`0,`, n) + `0]}]}}`},
		{"result.steps of {}", base + `"result":{"mode":"fail-fast","ok":true,"runtimeId":"r","steps":[` + strings.Repeat(`{},`, n) + `{}]}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := decodeInvocation(body, testDecoder)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrResponseTooLarge) {
				t.Fatalf("decode of a %d-byte padded body: %v; want ErrResponseTooLarge", len(body), err)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			limit := uint64(8*len(body) + 1<<20)
			t.Logf("%d-byte body: %d bytes allocated before refusing (limit %d)", len(body), allocated, limit)
			if allocated > limit {
				t.Errorf("allocated %d bytes for a %d-byte body, over 8x + 1 MiB", allocated, len(body))
			}
		})
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i%3))
		b.WriteString(itoa(i))
		b.WriteString(`":0`)
	}
	return b.String()
}

func itoa(i int) string { return fmtInt(i) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}

func TestBoundedSliceKeepsValues(t *testing.T) {
	inv, err := decodeInvocation([]byte(`{"id":"x","status":"running","createdAt":"t","request":{"runtimeId":"r","steps":[{"call":"a","args":[1,"2",{"3":3}]},{"call":"b","args":[]},{"call":"c"}]},"metadata":{"a":1,"b":"x"}}`), testDecoder)
	if err != nil {
		t.Fatal(err)
	}
	steps := inv.Request.Steps
	if len(steps) != 3 || steps[0].Call != "a" || len(steps[0].Args) != 3 || string(steps[0].Args[2]) != `{"3":3}` ||
		steps[1].Args == nil || len(steps[1].Args) != 0 || steps[2].Args != nil || string(inv.Metadata["b"]) != `"x"` {
		t.Errorf("decoded %+v, metadata %v", steps, inv.Metadata)
	}
}

// TestLargeRealBodiesFitTheBudget: the memory budget refuses padding, not
// large real invocations.
func TestLargeRealBodiesFitTheBudget(t *testing.T) {
	for _, n := range []int{1, 10_000, 50_000} {
		body := spectest.Steps(n, 7)
		if _, err := decodeInvocation(body, testDecoder); err != nil {
			t.Errorf("%d steps (%d bytes): %v", n, len(body), err)
		}
	}
}

// TestRawDecodeMemory measures what the generated client's decode (Raw's
// JSON200: encoding/json into gen.Invocation) costs on the padded bodies
// decode refuses: it has no budget, so its bound is the body cap times the
// multiple measured here, which the README states (at most 200x).
func TestRawDecodeMemory(t *testing.T) {
	body := []byte(`{"id":"x","status":"running","createdAt":"t","request":{"runtimeId":"r","steps":[` +
		strings.Repeat(`{},`, 200_000) + `{}]}}`)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var inv gen.Invocation
	if err := stdjson.Unmarshal(body, &inv); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(body))
	t.Logf("encoding/json into gen.Invocation: %.0fx the %d-byte body", ratio, len(body))
	if ratio > 200 {
		t.Errorf("Raw's decode allocated %.0fx the body; the README says at most 200x", ratio)
	}
}

// TestModelErrorsAreCapped: the errors the model's own methods build
// (Step.Err, DecodeResult) carry a step's call capped, whatever its size.
func TestModelErrorsAreCapped(t *testing.T) {
	huge := strings.Repeat("c", 1<<20)
	inv, err := decodeInvocation([]byte(`{"id":"x","status":"running","createdAt":"t","result":{"mode":"fail-fast","ok":true,"runtimeId":"r","steps":[`+
		`{"index":0,"call":"`+huge+`","ok":"yes"},{"index":1,"call":"`+huge+`","ok":true,"resolved":{},"result":null}]}}`), testDecoder)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := inv.Steps()[1].Success()
	for name, err := range map[string]error{"Err": inv.Steps()[0].Err(), "DecodeResult": s.DecodeResult(new(any))} {
		if err == nil || len(err.Error()) > 2*maxErrorToken {
			t.Errorf("%s: %d-byte error, want it capped", name, len(fmt.Sprint(err)))
		}
	}
}
