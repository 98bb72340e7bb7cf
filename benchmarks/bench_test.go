package benchmarks

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// sizes are the step counts BenchmarkGet fetches, each from the body
// spectest.Steps(n, failEvery).
var sizes = []int{1, 100, 1000, 10000}

// failEvery makes every 7th step a failure with a diagnostic; the others
// are successes with a ~300 byte result object.
const failEvery = 7

// BenchmarkGet fetches, over loopback and for the same bytes, an
// invocation of 1, 100, 1,000 and 10,000 steps and reads every step's
// variant, with each impl (see impls): BenchmarkGet/steps=N/impl=NAME.
// Besides ns/op, B/op and allocs/op it reports cpu-ns/op, the process's
// CPU time per op (client, loopback server and garbage collector
// together), which moves much less than wall time when other processes
// take the cores.
//
// Run it as `make bench`, which runs every impl once per round, for
// several rounds, and compares them with benchstat.
func BenchmarkGet(b *testing.B) {
	// Every body is made first and stays live to the end, so that every
	// size and impl runs with the same live heap (about 5.7 MB). The
	// collector paces itself by the live heap: with only the current body
	// live, an impl that allocates a few MB per op triggers a collection
	// and returns pages to the OS nearly every op, and the comparison
	// would then depend on which sizes happened to run before.
	bodies := make([][]byte, len(sizes))
	for i, n := range sizes {
		bodies[i] = spectest.Steps(n, failEvery)
	}
	for i, n := range sizes {
		body := bodies[i]
		want := wantCounts(n, failEvery)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			srv := serve(b, body)
			for _, im := range impls {
				b.Run("impl="+im.name, func(b *testing.B) {
					get := im.newGetter(b, srv.URL)
					ctx := b.Context()
					b.ReportAllocs()
					start := cpuTime()
					for b.Loop() {
						got, err := get(ctx)
						if err != nil {
							b.Fatal(err)
						}
						if err := im.check(got, want); err != nil {
							b.Fatal(err)
						}
					}
					reportCPU(b, start)
				})
			}
		})
	}
	runtime.KeepAlive(bodies)
}

// reportCPU reports the process CPU time per op since start as
// cpu-ns/op, which benchstat shows as cpu-sec/op. It reports nothing
// where the system cannot tell (cpuTime returns -1).
func reportCPU(b *testing.B, start time.Duration) {
	end := cpuTime()
	if start < 0 || end < 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
}
