package client_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
)

// escapedPrefixes is n bytes of the key's prefixes (all but its last
// byte), each byte escaped with format (`\u%04x`, `%%%02X`), one after the
// other: every unit starts an escape, and each prefix is the longest
// near-match a redactor can be made to follow.
func escapedPrefixes(key, format string, n int) string {
	var one strings.Builder
	for i := range len(key) - 1 {
		fmt.Fprintf(&one, format, key[i])
	}
	p := one.String()
	return strings.Repeat(p, n/len(p)+1)[:n]
}

// cleanText is n bytes of ordinary text, key-free.
func cleanText(n int) string {
	const p = `{"message":"the quick brown fox jumps over the lazy dog; status=running, step 3/7"} `
	return strings.Repeat(p, n/len(p)+1)[:n]
}

// BenchmarkScrubEscapedPrefixes measures Scrub on 1 MiB of escaped key
// prefixes against 1 MiB of clean text, in one run: the hostile text may
// cost at most 5x the clean text's time (x-clean) and allocate at most 2x
// its size (alloc/input). Run with -bench ScrubEscapedPrefixes.
func BenchmarkScrubEscapedPrefixes(b *testing.B) {
	for _, tt := range []struct{ name, key, format string }{
		{"json", leakKey, `\u%04x`}, {"json-special-key", leakKeySpecial, `\u%04x`},
		{"percent", leakKey, `%%%02X`}, {"go-hex", leakKey, `\x%02x`},
	} {
		key := tt.key
		b.Run(tt.name, func(b *testing.B) {
			c, err := client.New(client.WithAPIKey(key), client.WithBaseURL("http://127.0.0.1:1"))
			if err != nil {
				b.Fatal(err)
			}
			const n = 1 << 20
			hostile, clean := escapedPrefixes(key, tt.format, n), cleanText(n)
			if got := c.Scrub(clean); got != clean {
				b.Fatal("clean text changed")
			}
			var hostileTime, cleanTime time.Duration
			var alloc uint64
			var ms runtime.MemStats
			for b.Loop() {
				t0 := time.Now()
				c.Scrub(clean)
				t1 := time.Now()
				runtime.ReadMemStats(&ms)
				before := ms.TotalAlloc
				t2 := time.Now()
				c.Scrub(hostile)
				t3 := time.Now()
				runtime.ReadMemStats(&ms)
				alloc += ms.TotalAlloc - before
				cleanTime += t1.Sub(t0)
				hostileTime += t3.Sub(t2)
			}
			b.ReportMetric(float64(cleanTime.Nanoseconds())/float64(b.N)/n, "clean-ns/byte")
			b.ReportMetric(float64(hostileTime.Nanoseconds())/float64(b.N)/n, "hostile-ns/byte")
			b.ReportMetric(float64(hostileTime)/float64(cleanTime), "x-clean")
			b.ReportMetric(float64(alloc)/float64(b.N)/n, "alloc/input")
		})
	}
}

// TestScrubEscapedPrefixesAllocs bounds what Scrub allocates on 1 MiB of
// escaped key prefixes: at most 2x the text (it measures bytes, not time:
// the time bound is BenchmarkScrubEscapedPrefixes's). Not parallel: it
// reads the process's allocation counter.
func TestScrubEscapedPrefixesAllocs(t *testing.T) {
	for _, key := range []string{leakKey, leakKeySpecial} {
		c, err := client.New(client.WithAPIKey(key), client.WithBaseURL("http://127.0.0.1:1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{`\u%04x`, `%%%02X`, `\x%02x`} {
			const n = 1 << 20
			text := escapedPrefixes(key, format, n)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			c.Scrub(text)
			runtime.ReadMemStats(&ms)
			if got := ms.TotalAlloc - before; got > 2*n {
				t.Errorf("key %q, %s: Scrub of 1 MiB of escaped prefixes allocated %.1fx the text; want at most 2x", key, format, float64(got)/n)
			}
		}
	}
}
