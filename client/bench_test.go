package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/gen"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// benchKey is the API key the benchmarks send.
const benchKey = "bench-key"

// benchCase is one body BenchmarkDecode decodes:
// spectest.Steps(steps, failEvery). (Get over loopback, against ogen and
// the others, is in the benchmarks module: make bench-compare.)
type benchCase struct{ steps, failEvery int }

// decodeCases are the bodies BenchmarkDecode decodes.
var decodeCases = []benchCase{{1, 0}, {1000, 7}}

// BenchmarkDecode compares, without HTTP and for the same bytes, three
// decodes and walks of every step: baseline (encoding/json into the
// hand-written mirror, spectest.HandInvocation), sdk (decodeInvocation,
// then Success/Failure) and generated (encoding/json into gen.Invocation,
// then the generated As... methods).
func BenchmarkDecode(b *testing.B) {
	for _, bc := range decodeCases {
		body := spectest.Steps(bc.steps, bc.failEvery)
		want := wantCounts(bc.steps, bc.failEvery)
		b.Run(fmt.Sprintf("steps=%d", bc.steps), func(b *testing.B) {
			b.Run("impl=baseline", func(b *testing.B) {
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					inv := new(spectest.HandInvocation)
					if err := json.Unmarshal(body, inv); err != nil {
						b.Fatal(err)
					}
					want.check(b, walkBaseline(inv))
				}
				reportCPU(b, start)
			})
			b.Run("impl=sdk", func(b *testing.B) {
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					inv, err := decodeInvocation(body, testDecoder)
					if err != nil {
						b.Fatal(err)
					}
					want.check(b, walkSDK(b, inv))
				}
				reportCPU(b, start)
			})
			b.Run("impl=generated", func(b *testing.B) {
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					var inv gen.Invocation
					if err := json.Unmarshal(body, &inv); err != nil {
						b.Fatal(err)
					}
					want.check(b, walkGenerated(b, &inv))
				}
				reportCPU(b, start)
			})
		})
	}
}

// cpuTime returns the CPU time this process has used, user and system, or
// -1 where /proc/self/stat cannot tell (outside Linux). Unlike ns/op, CPU
// time per op barely moves when other processes take the machine's cores,
// which on a shared machine makes it the steadier measure of work done.
func cpuTime() time.Duration {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks of 1/100 s (USER_HZ).
	_, rest, _ := bytes.Cut(stat, []byte(") "))
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// reportCPU reports the process CPU time per op since start, client and
// loopback server and garbage collector together, as cpu-ns/op. Under
// 100 ms (a short -benchtime) the 10 ms ticks are too coarse, and nothing
// is reported.
func reportCPU(b *testing.B, start time.Duration) {
	end := cpuTime()
	if start < 0 || end < 0 || end-start < 100*time.Millisecond {
		return
	}
	b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
}

// stepCounts counts the steps of each kind a walk saw; sum is a checksum of
// the fields it read, so the walk cannot be optimised away.
type stepCounts struct{ ok, failed, sum int }

func wantCounts(steps, failEvery int) stepCounts {
	failed := 0
	if failEvery > 0 {
		failed = steps / failEvery
	}
	return stepCounts{ok: steps - failed, failed: failed}
}

// check fails the benchmark unless got has want's counts and a non-zero
// checksum.
func (want stepCounts) check(b *testing.B, got stepCounts) {
	if got.ok != want.ok || got.failed != want.failed || got.sum == 0 {
		b.Fatalf("got %d ok and %d failed steps (checksum %d), want %d and %d", got.ok, got.failed, got.sum, want.ok, want.failed)
	}
}

// walkBaseline visits every step of the hand-written struct, telling the
// variants apart by ok.
func walkBaseline(inv *spectest.HandInvocation) stepCounts {
	var c stepCounts
	if inv.Result == nil {
		return c
	}
	for i := range inv.Result.Steps {
		st := &inv.Result.Steps[i]
		if st.OK {
			c.ok++
			c.sum += 1 + st.Index + len(st.Result)
		} else if st.Error != nil {
			c.failed++
			c.sum += 1 + st.Index + len(st.Error.Code)
		}
	}
	return c
}

// walkSDK visits every step through Success and Failure.
func walkSDK(b *testing.B, inv *Invocation) stepCounts {
	var c stepCounts
	steps := inv.Steps()
	for i := range steps {
		st := &steps[i]
		if s, ok := st.Success(); ok {
			c.ok++
			c.sum += 1 + s.Index + len(s.Result)
		} else if f, ok := st.Failure(); ok {
			c.failed++
			c.sum += 1 + f.Index + len(f.Error.Code)
		} else {
			b.Fatal(st.Err())
		}
	}
	return c
}

// walkGenerated visits every step the way the generated code allows:
// decode it as a success, and again as a failure when "ok" is false.
func walkGenerated(b *testing.B, inv *gen.Invocation) stepCounts {
	var c stepCounts
	if inv == nil || inv.Result == nil {
		b.Fatal("no result")
	}
	for _, st := range inv.Result.Steps {
		if s, err := st.AsStepSuccess(); err == nil && s.OK {
			c.ok++
			c.sum += 1 + s.Index + len(s.Result)
			continue
		}
		f, err := st.AsStepFailure()
		if err != nil {
			b.Fatal(err)
		}
		c.failed++
		c.sum += 1 + f.Index + len(f.Error.Code)
	}
	return c
}

// waitScaleN is how many Waits BenchmarkWaitScale runs at once.
const waitScaleN = 10_000

// waitScaleConns caps the connections the shared client opens, so that
// thousands of waiters share a pool instead of exhausting ephemeral ports
// and file descriptors.
const waitScaleConns = 64

// BenchmarkWaitScale runs waitScaleN concurrent Waits through one shared
// client against a loopback server that answers "running" until the
// benchmark opens a gate, then "succeeded". It reports:
//
//   - heap-B/waiter and stack-B/waiter: live heap and goroutine stack
//     growth per waiter while every waiter has polled at least once and is
//     parked (in its poll timer or queued for one of the pool's
//     connections);
//   - goroutines-left: goroutines still running after every Wait returned
//     and the pool's idle connections were closed (0 means no leak);
//   - ns/op: the time for all waitScaleN Waits, gate opening included.
//
// Each iteration is one full run; with -benchtime 1x it runs once.
func BenchmarkWaitScale(b *testing.B) {
	running := spectest.Fixture(b, "running")
	succeeded := spectest.Steps(1, 0)

	var open atomic.Bool
	var polled sync.Map // ids that have been polled at least once
	var firstPolls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if _, seen := polled.LoadOrStore(id, struct{}{}); !seen {
			firstPolls.Add(1)
		}
		body := running
		if open.Load() {
			body = succeeded
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer srv.Close()

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost = waitScaleConns
	tr.MaxIdleConnsPerHost = waitScaleConns
	defer tr.CloseIdleConnections()
	c, err := New(WithAPIKey(benchKey), WithBaseURL(srv.URL),
		WithHTTPClient(&http.Client{Transport: tr}),
		WithAttemptTimeout(time.Minute)) // queueing for a pooled connection counts against it
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, waitScaleN)
	for i := range ids {
		ids[i] = fmt.Sprintf("wait-%05d", i)
	}

	var heapPerWaiter, stackPerWaiter, goroutinesLeft float64
	b.ReportAllocs()
	for b.Loop() {
		open.Store(false)
		polled.Clear()
		firstPolls.Store(0)
		baseGoroutines := runtime.NumGoroutine()
		before := memStats()

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		var wg sync.WaitGroup
		var failures atomic.Int64
		var firstErr atomic.Value
		for _, id := range ids {
			wg.Go(func() {
				inv, err := c.Invocations.Wait(ctx, id, WithPollInterval(time.Millisecond, 20*time.Millisecond))
				if err != nil || inv.Status != StatusSucceeded {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", id, err))
				}
			})
		}
		for firstPolls.Load() < waitScaleN && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		parked := memStats()
		open.Store(true)
		wg.Wait()
		cancel()
		if n := failures.Load(); n > 0 {
			b.Fatalf("%d of %d waits failed; first: %v", n, waitScaleN, firstErr.Load())
		}

		tr.CloseIdleConnections()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > baseGoroutines && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		heapPerWaiter = float64(int64(parked.HeapAlloc)-int64(before.HeapAlloc)) / waitScaleN
		stackPerWaiter = float64(int64(parked.StackInuse)-int64(before.StackInuse)) / waitScaleN
		goroutinesLeft = float64(runtime.NumGoroutine() - baseGoroutines)
	}
	b.ReportMetric(heapPerWaiter, "heap-B/waiter")
	b.ReportMetric(stackPerWaiter, "stack-B/waiter")
	b.ReportMetric(goroutinesLeft, "goroutines-left")
}

// memStats returns the memory statistics right after a full collection, so
// that HeapAlloc counts live objects only.
func memStats() runtime.MemStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}
