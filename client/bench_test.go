package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// benchID is the invocation id every benchmark asks for. The servers below
// answer any id with the same bytes.
const benchID = "5e0c0001-03e8-4001-83e8-0000000003e8"

// benchKey is the API key the benchmarks send.
const benchKey = "bench-key"

// serveBytes starts a loopback server that answers every request with
// body, as the API does: 200, application/json and, unless chunked, a
// Content-Length. A chunked response has none, so the client cannot size
// its buffer from it.
func serveBytes(b *testing.B, body []byte, chunked bool) *httptest.Server {
	b.Helper()
	// Under the id asked for (the same length): Get refuses an answer for
	// another invocation.
	var own struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &own); err != nil || len(own.ID) != len(benchID) {
		b.Fatalf("benchmark body has no UUID id: %v", err)
	}
	body = bytes.ReplaceAll(body, []byte(`"`+own.ID+`"`), []byte(`"`+benchID+`"`))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
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

// closeIdleAtCleanup is an option that leaves the SDK's default transport
// in place and closes its idle connections when the benchmark ends.
func closeIdleAtCleanup(b *testing.B) Option {
	return WithMiddleware(func(next http.RoundTripper) http.RoundTripper {
		if tr, ok := next.(*http.Transport); ok {
			b.Cleanup(tr.CloseIdleConnections)
		}
		return next
	})
}

// benchCase is one body the benchmarks fetch or decode:
// spectest.Steps(steps, failEvery), served with a Content-Length or, when
// chunked, without one.
type benchCase struct {
	steps, failEvery int
	chunked          bool
}

func (bc benchCase) name() string {
	transfer := "length"
	if bc.chunked {
		transfer = "chunked"
	}
	return fmt.Sprintf("steps=%d/body=%s", bc.steps, transfer)
}

// getCases are the bodies BenchmarkGet fetches. The API sends a
// Content-Length; the chunked case checks that the SDK does not depend on
// it.
var getCases = []benchCase{{1, 0, false}, {1000, 7, false}, {1000, 7, true}}

// decodeCases are the bodies BenchmarkDecode decodes.
var decodeCases = []benchCase{{1, 0, false}, {1000, 7, false}}

// BenchmarkGet compares, over loopback and for the same bytes, three ways
// to fetch an invocation and read every step as a success or a failure:
//
//   - baseline: what a careful hand-written client does with net/http and
//     encoding/json: one json.Decoder pass over the response body into a
//     hand-written struct of the whole schema (baselineInvocation), whose
//     steps are one flattened struct with every field of both variants;
//   - sdk: Client.Invocations.Get, then Success/Failure on every step;
//   - generated: gen.ClientWithResponses, then per step the generated
//     AsStepSuccess, and AsStepFailure when "ok" is false.
//
// Each reads a field of every step. Run it as `make bench`; BENCHMARKS.md
// records the results.
func BenchmarkGet(b *testing.B) {
	for _, bc := range getCases {
		body := spectest.Steps(bc.steps, bc.failEvery)
		want := wantCounts(bc.steps, bc.failEvery)
		b.Run(bc.name(), func(b *testing.B) {
			srv := serveBytes(b, body, bc.chunked)
			url := srv.URL + "/v1/invocations/" + benchID
			b.Run("impl=baseline", func(b *testing.B) {
				hc := &http.Client{Transport: benchTransport(b), Timeout: time.Minute}
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					want.check(b, walkBaseline(getBaseline(b, hc, url)))
				}
				reportCPU(b, start)
			})
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := New(WithAPIKey(benchKey), WithBaseURL(srv.URL), closeIdleAtCleanup(b))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					inv, err := c.Invocations.Get(b.Context(), benchID)
					if err != nil {
						b.Fatal(err)
					}
					want.check(b, walkSDK(b, inv))
				}
				reportCPU(b, start)
			})
			b.Run("impl=generated", func(b *testing.B) {
				gc, err := gen.NewClientWithResponses(srv.URL,
					gen.WithHTTPClient(&http.Client{Transport: benchTransport(b), Timeout: time.Minute}))
				if err != nil {
					b.Fatal(err)
				}
				params := &gen.GetInvocationParams{Authorization: "Bearer " + benchKey}
				b.ReportAllocs()
				start := cpuTime()
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
				reportCPU(b, start)
			})
		})
	}
}

// getBaseline is the baseline's Get: one request, one encoding/json pass
// over the body, the body drained and closed.
func getBaseline(b *testing.B, hc *http.Client, url string) *baselineInvocation {
	req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+benchKey)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
	inv := new(baselineInvocation)
	err = json.NewDecoder(resp.Body).Decode(inv)
	io.Copy(io.Discard, resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return inv
}

// BenchmarkDecode is BenchmarkGet without HTTP: the same three decodes and
// walks of the same bytes, so the cost of decoding can be told from the
// cost of the transport and the request path.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range decodeCases {
		body := spectest.Steps(bc.steps, bc.failEvery)
		want := wantCounts(bc.steps, bc.failEvery)
		b.Run(fmt.Sprintf("steps=%d", bc.steps), func(b *testing.B) {
			b.Run("impl=baseline", func(b *testing.B) {
				b.ReportAllocs()
				start := cpuTime()
				for b.Loop() {
					inv := new(baselineInvocation)
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

// baselineInvocation and the types below mirror the whole invocation schema
// of openapi.yaml by hand, as a client without the SDK would write it, with
// one flattened step type holding every field of both variants. They exist
// only as the benchmarks' yardstick: the SDK itself never copies the
// schema.
type baselineInvocation struct {
	ArtifactCount     int                        `json:"artifactCount"`
	CancelRequestedAt time.Time                  `json:"cancelRequestedAt"`
	Connector         string                     `json:"connector"`
	CorrelationID     string                     `json:"correlationId"`
	CreatedAt         time.Time                  `json:"createdAt"`
	DurationMs        int                        `json:"durationMs"`
	EntryCall         string                     `json:"entryCall"`
	Error             *baselineErrorInfo         `json:"error"`
	ExecutionMode     string                     `json:"executionMode"`
	FinishedAt        time.Time                  `json:"finishedAt"`
	ID                string                     `json:"id"`
	LastHeartbeatAt   time.Time                  `json:"lastHeartbeatAt"`
	Metadata          map[string]json.RawMessage `json:"metadata"`
	Progress          *baselineProgress          `json:"progress"`
	Request           *baselineRequest           `json:"request"`
	Result            *baselineResult            `json:"result"`
	RunID             string                     `json:"runId"`
	RuntimeID         string                     `json:"runtimeId"`
	RuntimeKind       string                     `json:"runtimeKind"`
	SequenceNo        int                        `json:"sequenceNo"`
	SpaceID           string                     `json:"spaceId"`
	StartedAt         time.Time                  `json:"startedAt"`
	Status            string                     `json:"status"`
	StepCount         int                        `json:"stepCount"`
}

type baselineErrorInfo struct {
	Code    string                     `json:"code"`
	Details map[string]json.RawMessage `json:"details"`
	Message string                     `json:"message"`
}

type baselineProgress struct {
	CurrentCall   string `json:"currentCall"`
	LastEventType string `json:"lastEventType"`
	Message       string `json:"message"`
	Step          int    `json:"step"`
	TotalSteps    int    `json:"totalSteps"`
}

type baselineRequest struct {
	IdempotencyKey string `json:"idempotencyKey"`
	Mode           string `json:"mode"`
	RuntimeID      string `json:"runtimeId"`
	Steps          []struct {
		Args    []json.RawMessage `json:"args"`
		Bind    string            `json:"bind"`
		Call    string            `json:"call"`
		Options *struct {
			DryRun    bool `json:"dryRun"`
			TimeoutMs int  `json:"timeoutMs"`
		} `json:"options"`
		Ref string `json:"ref"`
	} `json:"steps"`
}

type baselineResult struct {
	Mode      string         `json:"mode"`
	OK        bool           `json:"ok"`
	RuntimeID string         `json:"runtimeId"`
	Steps     []baselineStep `json:"steps"`
}

// baselineStep is both step variants in one struct: ok tells which fields
// are meaningful.
type baselineStep struct {
	Index    int                `json:"index"`
	OK       bool               `json:"ok"`
	Call     string             `json:"call"`
	Resolved *baselineResolved  `json:"resolved"`
	Binding  *baselineBinding   `json:"binding"`
	Result   json.RawMessage    `json:"result"`
	Error    *baselineStepError `json:"error"`
}

type baselineResolved struct {
	Call      string `json:"call"`
	ContextID string `json:"contextId"`
	HandleID  string `json:"handleId"`
	Method    string `json:"method"`
	PageID    string `json:"pageId"`
	Ref       string `json:"ref"`
	RuntimeID string `json:"runtimeId"`
	Target    string `json:"target"`
}

type baselineBinding struct {
	Alias string `json:"alias"`
	ID    string `json:"id"`
	Type  string `json:"type"`
}

type baselineStepError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Hint       string `json:"hint"`
	Diagnostic *struct {
		Call     string   `json:"call"`
		Category string   `json:"category"`
		Closest  []string `json:"closest"`
		Code     string   `json:"code"`
		DocsURL  string   `json:"docsUrl"`
		Driver   string   `json:"driver"`
		Expected string   `json:"expected"`
		Fixes    []struct {
			Command string `json:"command"`
			Example string `json:"example"`
			Title   string `json:"title"`
		} `json:"fixes"`
		ID       string `json:"id"`
		Received string `json:"received"`
	} `json:"diagnostic"`
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
func walkBaseline(inv *baselineInvocation) stepCounts {
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
