package client

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// names returns n object members "<prefix><i>":0, comma-separated.
func names(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + prefix)
		b.WriteString(strconv.Itoa(i))
		b.WriteString(`":0`)
	}
	return b.String()
}

// amplificationBodies are bodies padded where the decoder does not build
// typed values: raw values (a step's result, metadata values), unknown
// members, and invalid UTF-8, whose replacement triples it.
func amplificationBodies(n int) map[string]string {
	head := `{"id":"x","status":"running","createdAt":"2026-01-01T00:00:00Z"`
	step := func(result string) string {
		return head + `,"result":{"mode":"fail-fast","ok":true,"runtimeId":"r","steps":[{"ok":true,"index":0,"call":"c","result":` + result + `}]}}`
	}
	ff := strings.Repeat("\xff", 9*n)
	return map[string]string{
		"names in a step result":          step(`{` + names("a", n) + `}`),
		"names in a metadata value":       head + `,"metadata":{"k":{` + names("a", n) + `}}}`,
		"top-level unknown members":       head + `,` + names("u", n) + `}`,
		"unknown members of a step":       step(`0,` + names("u", n)),
		"unknown member names of \\xff":   head + `,` + names("\xff\xff\xff\xff", n) + `}`,
		"\\xff in a typed string":         head + `,"error":{"code":"c","message":"` + ff + `"}}`,
		"\\xff in many typed strings":     head + `,"request":{"runtimeId":"r","steps":[` + strings.Repeat(`{"call":"`+strings.Repeat("\xff", 64)+`"},`, n/8) + `{}]}}`,
		"\\xff in a raw result":           step(`"` + ff + `"`),
		"\\xff in names of a step result": step(`{` + names("\xff\xff\xff\xff", n) + `}`),
		"nested arrays in a raw result":   step(strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000)),
		"many small objects in a result":  step(`[` + strings.Repeat(`{"a":1,"b":2},`, n/2) + `{}]`),
		// Bodies the charge lets through: decoded, still within the bound.
		"names with long values in a result": step(`{` + strings.ReplaceAll(names("a", n/20), `:0`, `:"`+strings.Repeat("v", 150)+`"`) + `}`),
		"names with long values, unknown":    head + `,` + strings.ReplaceAll(names("a", n/20), `:0`, `:"`+strings.Repeat("v", 150)+`"`) + `}`,
		"sparse \\xff in a typed string":     head + `,"error":{"code":"c","message":"` + strings.Repeat("\xff"+strings.Repeat("é", 10), n) + `"}}`,
	}
}

// TestDecodeAmplificationBounded: every body decodes within 8x its size
// + 1 MiB allocated, or is refused with ErrResponseTooLarge, whatever part
// of it is padded. It measures bytes (runtime.MemStats.TotalAlloc), not
// time; not parallel, so that no other test's allocations count.
func TestDecodeAmplificationBounded(t *testing.T) {
	n := 400_000
	if testing.Short() {
		n = 100_000
	}
	for name, body := range amplificationBodies(n) {
		t.Run(name, func(t *testing.T) {
			b := []byte(body)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := decodeInvocation(b, testDecoder)
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			limit := uint64(8*len(b) + 1<<20)
			t.Logf("%d-byte body: %.1fx allocated (%d bytes), err = %.100v", len(b), float64(allocated)/float64(len(b)), allocated, err)
			if err != nil && !errors.Is(err, ErrResponseTooLarge) {
				t.Errorf("err = %v; want it decoded, or ErrResponseTooLarge", err)
			}
			if err != nil && (strings.Contains(name, "long values") || strings.Contains(name, "sparse")) {
				t.Errorf("err = %v; want a body this light decoded", err)
			}
			if allocated > limit {
				t.Errorf("allocated %d bytes (%.1fx) for a %d-byte body; want at most 8x + 1 MiB", allocated, float64(allocated)/float64(len(b)), len(b))
			}
		})
	}
}

// BenchmarkHiddenCost measures the pass that charges the decoder's hidden
// allocations, per byte of a real invocation body, beside the decode it
// precedes.
func BenchmarkHiddenCost(b *testing.B) {
	body := []byte(`{"id":"x","status":"running","createdAt":"2026-01-01T00:00:00Z","result":{"mode":"fail-fast","ok":true,"runtimeId":"r","steps":[` +
		strings.Repeat(`{"ok":true,"index":0,"call":"page.title","result":{"title":"Example Domain","links":["a","b"]}},`, 999) +
		`{"ok":true,"index":0,"call":"c","result":null}]}}`)
	b.Run("hiddenCost", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			hiddenCost(body)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := decodeInvocation(body, testDecoder); err != nil {
				b.Fatal(err)
			}
		}
	})
}
