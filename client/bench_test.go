package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// benchID is the invocation id every benchmark asks for. The servers below
// answer any id with the same bytes.
const benchID = "5e0c0001-03e8-4001-83e8-0000000003e8"

// benchKey is the API key the benchmarks send.
const benchKey = "bench-key"

// serveBytes starts a loopback server that answers every request with body,
// as the API does: 200, application/json and a Content-Length.
func serveBytes(b *testing.B, body []byte) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchTransport returns a transport configured like the SDK's default one
// for the baseline and generated paths, closed when the benchmark ends.
func benchTransport(b *testing.B) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	b.Cleanup(tr.CloseIdleConnections)
	return tr
}

// BenchmarkGet compares, over loopback and for the same bytes, three ways
// to fetch an invocation and tell its ok steps from its failed ones:
//
//   - baseline: net/http and encoding/json into gen.Invocation, no step
//     discrimination (a floor, not a usable API);
//   - sdk: Client.Invocations.Get, then Success/Failure on every step;
//   - generated: gen.ClientWithResponses, then per step the generated As
//     methods (success first; failure when "ok" is false).
//
// Run it as `make bench`; BENCHMARKS.md records the results.
func BenchmarkGet(b *testing.B) {
	for _, sz := range benchSizes {
		body := spectest.Steps(sz.steps, sz.failEvery)
		want := wantCounts(sz.steps, sz.failEvery)
		b.Run(fmt.Sprintf("steps=%d", sz.steps), func(b *testing.B) {
			srv := serveBytes(b, body)
			b.Run("impl=baseline", func(b *testing.B) {
				hc := &http.Client{Transport: benchTransport(b)}
				url := srv.URL + "/v1/invocations/" + benchID
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("Authorization", "Bearer "+benchKey)
					resp, err := hc.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					var inv gen.Invocation
					err = json.NewDecoder(resp.Body).Decode(&inv)
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err != nil {
						b.Fatal(err)
					}
					if inv.Result == nil || len(inv.Result.Steps) != sz.steps {
						b.Fatalf("decoded %v, want %d steps", inv.Result, sz.steps)
					}
				}
			})
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := New(WithAPIKey(benchKey), WithBaseURL(srv.URL))
				if err != nil {
					b.Fatal(err)
				}
				if tr, ok := c.cfg.httpClient.(*http.Client).Transport.(*http.Transport); ok {
					b.Cleanup(tr.CloseIdleConnections)
				}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					inv, err := c.Invocations.Get(b.Context(), benchID)
					if err != nil {
						b.Fatal(err)
					}
					want.check(b, walkSDK(b, inv))
				}
			})
			b.Run("impl=generated", func(b *testing.B) {
				gc, err := gen.NewClientWithResponses(srv.URL,
					gen.WithHTTPClient(&http.Client{Transport: benchTransport(b)}))
				if err != nil {
					b.Fatal(err)
				}
				params := &gen.GetInvocationParams{Authorization: "Bearer " + benchKey}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					resp, err := gc.GetInvocationWithResponse(b.Context(), benchID, params)
					if err != nil {
						b.Fatal(err)
					}
					if resp.JSON200 == nil {
						b.Fatalf("status %d, no JSON body", resp.StatusCode())
					}
					want.check(b, walkGenerated(b, resp.JSON200))
				}
			})
		})
	}
}

// BenchmarkDecode is BenchmarkGet without HTTP: the same three decodes of
// the same bytes, so the cost of decoding can be told from the cost of the
// transport and the SDK's request path.
func BenchmarkDecode(b *testing.B) {
	for _, sz := range benchSizes {
		body := spectest.Steps(sz.steps, sz.failEvery)
		want := wantCounts(sz.steps, sz.failEvery)
		b.Run(fmt.Sprintf("steps=%d", sz.steps), func(b *testing.B) {
			b.Run("impl=baseline", func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					var inv gen.Invocation
					if err := json.Unmarshal(body, &inv); err != nil {
						b.Fatal(err)
					}
					if inv.Result == nil || len(inv.Result.Steps) != sz.steps {
						b.Fatalf("decoded %v, want %d steps", inv.Result, sz.steps)
					}
				}
			})
			b.Run("impl=sdk", func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					inv, err := decodeInvocation(body)
					if err != nil {
						b.Fatal(err)
					}
					want.check(b, walkSDK(b, inv))
				}
			})
			b.Run("impl=generated", func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					var inv gen.Invocation
					if err := json.Unmarshal(body, &inv); err != nil {
						b.Fatal(err)
					}
					want.check(b, walkGenerated(b, &inv))
				}
			})
		})
	}
}

// benchSizes are the bodies the benchmarks decode: spectest.Steps(steps,
// failEvery).
var benchSizes = []struct{ steps, failEvery int }{{1, 0}, {1000, 7}}

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

// walkSDK visits every step through Success and Failure.
func walkSDK(b *testing.B, inv *Invocation) stepCounts {
	var c stepCounts
	steps := inv.Steps()
	for i := range steps {
		st := &steps[i]
		if s, ok := st.Success(); ok {
			c.ok++
			c.sum += 1 + s.Index + len(s.Result())
		} else if f, ok := st.Failure(); ok {
			c.failed++
			c.sum += 1 + f.Index + len(f.Error.Code)
		} else {
			b.Fatal(st.Err())
		}
	}
	return c
}

// walkGenerated visits every step the naive way the generated code allows:
// decode it as a success, and again as a failure when "ok" is false.
func walkGenerated(b *testing.B, inv *gen.Invocation) stepCounts {
	var c stepCounts
	if inv == nil || inv.Result == nil {
		b.Fatal("no result")
	}
	for _, st := range inv.Result.Steps {
		if s, err := st.AsV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems0(); err == nil && s.Ok {
			c.ok++
			c.sum += 1 + s.Index + len(s.Call)
			continue
		}
		f, err := st.AsV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems1()
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
	for i := 0; i < b.N; i++ {
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
