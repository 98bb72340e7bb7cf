package client_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
)

// hostileID is the invocation every hostile-server row asks for.
const hostileID = "inv_hostile"

// hostileResult is what one row's call observed.
type hostileResult struct {
	inv       *client.Invocation
	err       error
	arrivals  []time.Time // when the server saw each request (each connection for TLS)
	elapsed   time.Duration
	heap      heapGrowth // zero unless the row measures the heap
	doerCalls int64      // calls to the row's doer
}

// TestHostile drives the client against servers that lie, stall, flood or
// loop, and checks that each costs about the client's own limits in memory
// (runtime/metrics heap sampling, not timings), is not retried when no
// retry can help, and ends. Rows with maxHeap run one at a time while the
// heap is sampled; the others run in parallel afterwards.
func TestHostile(t *testing.T) {
	const capBytes = 4 << 20 // WithMaxResponseBytes for the body-size rows
	small := client.WithRetryBackoff(time.Millisecond, 2*time.Millisecond)
	waitFor := func(opts ...client.WaitOption) func(context.Context, *client.Client) (*client.Invocation, error) {
		return func(ctx context.Context, c *client.Client) (*client.Invocation, error) {
			return c.Invocations.Wait(ctx, hostileID, opts...)
		}
	}

	tests := []struct {
		name   string
		server func(t *testing.T) *hostileServer
		opts   []client.Option
		call   func(ctx context.Context, c *client.Client) (*client.Invocation, error) // nil: Get
		// doer, when set, is the client's Doer (WithHTTPClient), counted
		// in hostileResult.doerCalls; server is then not needed.
		doer    func(*http.Request) (*http.Response, error)
		maxHeap uint64 // peak heap growth allowed; 0: not measured
		check   func(t *testing.T, r hostileResult)
		// raceSkip, when set, says why the row is skipped under the race
		// detector.
		raceSkip string
	}{
		// Memory rows.
		{
			name:    "1,000,000 empty steps, default steps cap",
			server:  serveBody(emptySteps(1_000_000)),
			maxHeap: 128 << 20,
			check:   wantErrIs(client.ErrResponseTooLarge, 1),
		},
		{
			name:    "1,000,000 empty steps, WithMaxSteps(2_000_000)",
			server:  serveBody(emptySteps(1_000_000)),
			opts:    []client.Option{client.WithMaxSteps(2_000_000)},
			maxHeap: 128 << 20,
			// Measured under -race: a 95 MiB peak, within the bound.
			raceSkip: "decoding 1,000,000 steps takes about 35 s under the race detector",
			check: func(t *testing.T, r hostileResult) {
				// Decoding is allowed; what matters is the heap.
				if r.err == nil && len(r.inv.Steps()) != 1_000_000 {
					t.Errorf("decoded %d steps; want 1,000,000", len(r.inv.Steps()))
				}
			},
		},
		{
			// 32 MiB is the default cap, so the claim is not refused
			// outright; a buffer sized from it would cost 512 MiB.
			name:    "16 responses claim 32 MiB, send 10 bytes and stall",
			server:  serveRaw(stallAfter(10, 32<<20)),
			opts:    []client.Option{client.WithAttemptTimeout(time.Second), client.WithMaxRetries(0)},
			call:    concurrentGets(16),
			maxHeap: 64 << 20,
			check:   wantEachErrIs(16, context.DeadlineExceeded),
		},
		{
			// A small or stalled body holds a small buffer: the chunks a
			// body is read into grow with what has arrived. What remains
			// is net/http's per connection.
			name:    "64 Gets stalled after 10 bytes of a 1,000-byte body",
			server:  serveRaw(stallAfter(10, 1000)),
			opts:    []client.Option{client.WithAttemptTimeout(500 * time.Millisecond), client.WithMaxRetries(0)},
			call:    concurrentGets(64),
			maxHeap: 3 << 20, // 48 KiB a Get; measured 32 KiB, 93 KiB with fixed 64 KiB chunks
			check:   wantEachErrIs(64, context.DeadlineExceeded),
		},
		{
			name:    "gzip bomb inflating to 256 MiB",
			server:  serveGzipBomb(256),
			opts:    []client.Option{client.WithMaxResponseBytes(capBytes)},
			maxHeap: 2 * capBytes,
			check:   wantErrIs(client.ErrResponseTooLarge, 1),
		},
		{
			name:    "endless body",
			server:  serveEndless,
			opts:    []client.Option{client.WithMaxResponseBytes(capBytes)},
			maxHeap: 2 * capBytes,
			check:   wantErrIs(client.ErrResponseTooLarge, 1),
		},
		{
			name:    "40 MiB body with Content-Length",
			server:  serveSized(40<<20, true),
			opts:    []client.Option{client.WithMaxResponseBytes(capBytes)},
			maxHeap: 2 * capBytes,
			check:   wantErrIs(client.ErrResponseTooLarge, 1),
		},
		{
			name:    "40 MiB body, chunked",
			server:  serveSized(40<<20, false),
			opts:    []client.Option{client.WithMaxResponseBytes(capBytes)},
			maxHeap: 2 * capBytes,
			check:   wantErrIs(client.ErrResponseTooLarge, 1),
		},
		{
			name:    "404 whose error is 20 MiB",
			server:  serve404HugeError(20 << 20),
			maxHeap: 8 << 20,
			check:   wantSmallAPIError(http.StatusNotFound),
		},

		// Errors stay small whatever the server sends. Headers that the
		// transport refuses (over its MaxResponseHeaderBytes) fail with a
		// small error, not retried: a server that sends them once sends
		// them again.
		{
			name:   "404 with 9 MiB X-Request-Id, default transport",
			server: serveRaw(respond404HugeHeader(9 << 20)),
			opts:   []client.Option{client.WithMaxRetries(2), small},
			check:  wantSmallAPIErrorOrRefused(http.StatusNotFound),
		},
		{
			// Whatever the default transport's limit, one that refuses.
			name:   "404 with 9 MiB X-Request-Id, transport refusing headers over 64 KiB",
			server: serveRaw(respond404HugeHeader(9 << 20)),
			opts: []client.Option{client.WithMaxRetries(2), small, client.WithHTTPClient(&http.Client{
				Transport: &http.Transport{MaxResponseHeaderBytes: 64 << 10},
			})},
			check: wantSmallErr(1),
		},
		{
			// A transport that takes the header, so that the APIError has
			// to cap it. 2 MiB rather than 9: net/http parses a header
			// line at about 1 s/MiB under the race detector, and the cap
			// does not care about the size.
			name:   "404 with 2 MiB X-Request-Id, transport accepting it",
			server: serveRaw(respond404HugeHeader(2 << 20)),
			opts: []client.Option{client.WithMaxRetries(2), small, client.WithHTTPClient(&http.Client{
				Transport: &http.Transport{MaxResponseHeaderBytes: 4 << 20},
			})},
			check: wantSmallAPIError(http.StatusNotFound),
		},
		{
			name:   "404 whose code, error and requestId are 20 KiB each",
			server: serve404LongFields,
			check:  wantSmallAPIError(http.StatusNotFound),
		},

		// Errors no retry can fix: one request (one connection; for the
		// loop, the 10 requests net/http sends before CheckRedirect stops
		// it, not 4 x 10), and Wait stops at once.
		{
			name:   "untrusted TLS certificate, Get",
			server: serveUntrustedTLS,
			opts:   []client.Option{small},
			check:  wantCertErr,
		},
		{
			name:   "untrusted TLS certificate, Wait",
			server: serveUntrustedTLS,
			opts:   []client.Option{small},
			call:   waitFor(client.WithMaxWait(5*time.Second), client.WithPollInterval(5*time.Millisecond, 5*time.Millisecond)),
			check:  wantCertErr,
		},
		{
			name:   "redirect loop, Get",
			server: serveRedirectLoop,
			opts:   []client.Option{small},
			check:  wantErrIs(client.ErrTooManyRedirects, 10),
		},
		{
			name:   "redirect loop, Wait",
			server: serveRedirectLoop,
			opts:   []client.Option{small},
			call:   waitFor(client.WithMaxWait(5*time.Second), client.WithPollInterval(5*time.Millisecond, 5*time.Millisecond)),
			check:  wantErrIs(client.ErrTooManyRedirects, 10),
		},

		// A server that does not speak TLS, behind an https:// base URL:
		// one connection, not one per retry.
		{
			name:   "https:// base URL pointed at a plain-HTTP server",
			server: servePlainToTLS,
			opts:   []client.Option{small},
			check: func(t *testing.T, r hostileResult) {
				wantSmallErr(1)(t, r)
				if !strings.Contains(fmt.Sprint(r.err), "HTTP response to HTTPS client") {
					t.Errorf("err = %v; want net/http's word for it", r.err)
				}
			},
		},
		{
			name:   "https:// base URL pointed at a server that answers in neither",
			server: serveGarbageToTLS,
			opts:   []client.Option{small},
			check: func(t *testing.T, r hostileResult) {
				wantSmallErr(1)(t, r)
				var rh tls.RecordHeaderError
				if !errors.As(r.err, &rh) {
					t.Errorf("err = %v; want a tls.RecordHeaderError", r.err)
				}
			},
		},

		// A user's Doer breaking net/http's contract is an error, not a
		// panic, and is not retried.
		{
			name:  "a Doer returning (nil, nil)",
			doer:  func(*http.Request) (*http.Response, error) { return nil, nil },
			opts:  []client.Option{small},
			check: wantDoerCalls(1),
		},
		{
			name: "a Doer returning a response with a nil Body",
			doer: func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}, nil
			},
			opts:  []client.Option{small},
			check: wantDoerCalls(1),
		},
		{
			name:  "a Doer returning (nil, nil), Wait",
			doer:  func(*http.Request) (*http.Response, error) { return nil, nil },
			opts:  []client.Option{small},
			call:  waitFor(client.WithMaxWait(5*time.Second), client.WithPollInterval(5*time.Millisecond, 5*time.Millisecond)),
			check: wantDoerCalls(1),
		},

		// An invocation's strings are the user's data, kept as sent; the
		// error describing it is capped.
		{
			name:   "failed invocation whose error.message is 10 MiB, its step's call and hint 1 MiB",
			server: serveBody(hugeFailure),
			call:   waitFor(),
			check: func(t *testing.T, r hostileResult) {
				wantSmallErr(1)(t, r)
				var ie *client.InvocationError
				if !errors.As(r.err, &ie) || len(ie.Err.Message) != 10<<20 {
					t.Errorf("err = %.200v; want an *InvocationError whose invocation keeps the whole message", r.err)
				}
			},
		},
		{
			name:   "invocation finished with a 10 MiB status",
			server: serveBody(hugeStatus),
			call:   waitFor(),
			check: func(t *testing.T, r hostileResult) {
				wantSmallErr(1)(t, r)
				if !errors.Is(r.err, client.ErrUnknownStatus) {
					t.Errorf("err = %.200v; want ErrUnknownStatus", r.err)
				}
				var ie *client.InvocationError
				if errors.As(r.err, &ie) && len(ie.Status) > 1<<10 {
					t.Errorf("InvocationError.Status is %d bytes; want it capped", len(ie.Status))
				}
			},
		},

		// Retry-After never shortens the backoff: with WithRetryBackoff(50ms,
		// 100ms) and 2 retries, the 3 attempts span at least 2 x 50ms.
		{
			name:   "503 with Retry-After: 0",
			server: serveStatus(http.StatusServiceUnavailable, "0"),
			opts:   []client.Option{client.WithMaxRetries(2), client.WithRetryBackoff(50*time.Millisecond, 100*time.Millisecond)},
			check:  wantBackoffKept(http.StatusServiceUnavailable),
		},
		{
			name:   "429 with Retry-After: 0",
			server: serveStatus(http.StatusTooManyRequests, "0"),
			opts:   []client.Option{client.WithMaxRetries(2), client.WithRetryBackoff(50*time.Millisecond, 100*time.Millisecond)},
			check:  wantBackoffKept(http.StatusTooManyRequests),
		},
		{
			name:   "429 with a Retry-After date in the past",
			server: serveStatus(http.StatusTooManyRequests, time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)),
			opts:   []client.Option{client.WithMaxRetries(2), client.WithRetryBackoff(50*time.Millisecond, 100*time.Millisecond)},
			check:  wantBackoffKept(http.StatusTooManyRequests),
		},
		{
			name:   "Wait ends on its max wait after repeated 429s",
			server: serveStatus(http.StatusTooManyRequests, ""),
			opts:   []client.Option{client.WithMaxRetries(0)},
			call:   waitFor(client.WithMaxWait(300*time.Millisecond), client.WithPollInterval(10*time.Millisecond, 20*time.Millisecond)),
			check: func(t *testing.T, r hostileResult) {
				for _, target := range []error{client.ErrWaitTimeout, client.ErrRateLimited} {
					if !errors.Is(r.err, target) {
						t.Errorf("err = %v; want errors.Is %v", r.err, target)
					}
				}
				var apiErr *client.APIError
				if !errors.As(r.err, &apiErr) || apiErr.RequestID != "req-hostile" {
					t.Errorf("err = %v; want an *APIError with request id req-hostile", r.err)
				}
				if len(r.arrivals) < 2 {
					t.Errorf("server saw %d polls; want the wait to poll through the 429s", len(r.arrivals))
				}
			},
		},

		// A body trickling at 1 byte/s is bounded by the attempt timeout
		// times the attempts.
		{
			name:   "body trickling at 1 byte/s",
			server: serveTrickle,
			opts:   []client.Option{client.WithAttemptTimeout(200 * time.Millisecond), client.WithMaxRetries(1), small},
			check: func(t *testing.T, r hostileResult) {
				wantErrIs(context.DeadlineExceeded, 2)(t, r)
				if r.elapsed > 3*time.Second {
					t.Errorf("Get took %v; want about 2 x 200ms", r.elapsed)
				}
			},
		},

		// Deep nesting decodes or fails; it never overflows the stack.
		{
			name:   "10,000 nested arrays in a step result",
			server: serveBody(nestedResult(10_000)),
			check:  wantNestedOrInvalid(10_000),
		},
		{
			name:   "9,990 nested arrays in a step result",
			server: serveBody(nestedResult(9_990)),
			check:  wantNestedOrInvalid(9_990),
		},
		{
			name:   "1,000,000 nested arrays in a step result",
			server: serveBody(nestedResult(1_000_000)),
			check:  wantNestedOrInvalid(1_000_000),
		},

		// A body shorter than its Content-Length fails cleanly, and is
		// retried like any cut connection.
		{
			name:   "Content-Length 1000, 10 bytes sent, connection closed",
			server: serveRaw(closeAfter(10, 1000)),
			opts:   []client.Option{client.WithMaxRetries(1), small},
			check: func(t *testing.T, r hostileResult) {
				wantErrIs(io.ErrUnexpectedEOF, 2)(t, r)
				if errors.Is(r.err, client.ErrResponseTooLarge) {
					t.Errorf("err = %v; a short body is not too large", r.err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.raceSkip != "" && raceDetectorOn() {
				t.Skip(tt.raceSkip)
			}
			if tt.maxHeap == 0 {
				t.Parallel()
			}
			srv := &hostileServer{URL: "https://api.bctrl.ai"}
			if tt.server != nil {
				srv = tt.server(t)
			}
			var (
				r     hostileResult
				calls atomic.Int64
			)
			opts := append([]client.Option{client.WithAPIKey("hostile-key"), client.WithBaseURL(srv.URL)}, tt.opts...)
			if tt.doer != nil {
				opts = append(opts, client.WithHTTPClient(hostileDoer(func(req *http.Request) (*http.Response, error) {
					calls.Add(1)
					return tt.doer(req)
				})))
			}
			c, err := client.New(opts...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			call := tt.call
			if call == nil {
				call = func(ctx context.Context, c *client.Client) (*client.Invocation, error) {
					return c.Invocations.Get(ctx, hostileID)
				}
			}
			run := func() {
				start := time.Now()
				r.inv, r.err = call(t.Context(), c)
				r.elapsed = time.Since(start)
			}
			if tt.maxHeap > 0 {
				r.heap = peakHeapGrowth(t, run)
			} else {
				run()
			}
			r.arrivals = srv.arrivals()
			r.doerCalls = calls.Load()
			t.Logf("%d requests in %v; err (%d bytes): %.200v", len(r.arrivals), r.elapsed.Round(time.Millisecond), len(fmt.Sprint(r.err)), r.err)
			if tt.maxHeap > 0 {
				t.Logf("heap: peak +%.1f MiB, %.1f MiB allocated", mib(r.heap.peak), mib(r.heap.allocs))
				if r.heap.peak >= tt.maxHeap {
					t.Errorf("peak heap growth %.1f MiB; want < %.1f MiB", mib(r.heap.peak), mib(tt.maxHeap))
				}
			}
			tt.check(t, r)
		})
	}
}

// TestHostileConcurrentWaitsCancel starts 2,000 Waits on an invocation that
// never finishes and cancels them all while they sleep between polls: every
// Wait ends with context.Canceled at once rather than at its next poll a
// minute later, and (through TestMain's goleak) no goroutine outlives the
// test. The bounds are fractions of the poll interval, not timings: the
// race detector on two busy cores takes seconds to wake 2,000 goroutines.
func TestHostileConcurrentWaitsCancel(t *testing.T) {
	t.Parallel()
	const (
		n    = 2000
		poll = time.Minute
	)
	body := []byte(`{"id":"` + hostileID + `","status":"running","createdAt":"2025-01-01T00:00:00Z"}`)
	srv := serveBody(func() []byte { return body })(t)
	// A platform running thousands of Waits bounds its connections; so
	// does this test, which would otherwise open 2,000 of them and take
	// twice the CPU under the race detector.
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 64, MaxIdleConnsPerHost: 64}}
	c, err := client.New(client.WithAPIKey("hostile-key"), client.WithBaseURL(srv.URL), client.WithHTTPClient(hc))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var (
		wg       sync.WaitGroup
		errs     = make([]error, n)
		observed = make(chan struct{}, n) // one per Wait, at its first poll
	)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = c.Invocations.Wait(ctx, hostileID, client.WithPollInterval(poll, poll),
				client.WithProgress(func(*client.Invocation) { observed <- struct{}{} }))
		})
	}
	// Cancel once every Wait has seen its first poll, so each is asleep
	// (or about to be) until its next poll.
	for range n {
		select {
		case <-observed:
		case <-time.After(poll / 2):
			t.Fatalf("not every Wait polled within %v", poll/2)
		}
	}
	start := time.Now()
	cancel()
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d Waits ended %v after cancel; the server saw %d requests", n, elapsed.Round(time.Millisecond), len(srv.arrivals()))
	if elapsed > poll/2 {
		t.Errorf("Waits ended %v after cancel; want well under the %v poll interval", elapsed, poll)
	}
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait %d: err = %v; want context.Canceled", i, err)
		}
	}
}

// Checks.

// wantErrIs checks that the call failed with an error matching target,
// after exactly requests requests.
func wantErrIs(target error, requests int) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		if r.err == nil || r.inv != nil {
			t.Fatalf("got %v, %v; want an error", r.inv, r.err)
		}
		if !errors.Is(r.err, target) {
			t.Errorf("err = %v; want errors.Is %v", r.err, target)
		}
		if len(r.arrivals) != requests {
			t.Errorf("server saw %d requests; want %d", len(r.arrivals), requests)
		}
		if n := len(r.err.Error()); n > 4<<10 {
			t.Errorf("error message is %d bytes; want at most 4 KiB", n)
		}
	}
}

// wantEachErrIs checks a concurrentGets result: n errors, each matching
// target.
func wantEachErrIs(n int, target error) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		var errs []error
		if j, ok := r.err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		if len(errs) != n {
			t.Fatalf("got %d errors from %d Gets: %v", len(errs), n, r.err)
		}
		for i, err := range errs {
			if !errors.Is(err, target) {
				t.Errorf("Get %d: err = %v; want errors.Is %v", i, err, target)
			}
		}
		if len(r.arrivals) != n {
			t.Errorf("server saw %d requests; want %d", len(r.arrivals), n)
		}
	}
}

// wantSmallErr checks that the call failed after exactly requests
// requests with a small error.
func wantSmallErr(requests int) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		if r.err == nil {
			t.Fatalf("got %v; want an error", r.inv)
		}
		if n := len(r.err.Error()); n > 4<<10 {
			t.Errorf("error message is %d bytes; want at most 4 KiB", n)
		}
		if len(r.arrivals) != requests {
			t.Errorf("server saw %d requests; want %d", len(r.arrivals), requests)
		}
	}
}

// wantDoerCalls checks that the call failed, with a small error, after
// exactly n calls to the row's Doer.
func wantDoerCalls(n int64) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		wantSmallErr(0)(t, r)
		if got := r.doerCalls; got != n {
			t.Errorf("the Doer was called %d times; want %d", got, n)
		}
	}
}

// hostileDoer adapts a function to client.Doer.
type hostileDoer func(*http.Request) (*http.Response, error)

func (f hostileDoer) Do(req *http.Request) (*http.Response, error) { return f(req) }

// wantSmallAPIError checks that the call failed, unretried, with an
// *APIError of the given status whose every string is a few KiB at most.
func wantSmallAPIError(status int) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		wantSmallErr(1)(t, r)
		var e *client.APIError
		if !errors.As(r.err, &e) || e.StatusCode != status {
			t.Fatalf("err = %.200v; want an *APIError with status %d", r.err, status)
		}
		for _, f := range []struct {
			name string
			len  int
			max  int
		}{
			{"Message", len(e.Message), 2 << 10},
			{"Code", len(e.Code), 1 << 10},
			{"RequestID", len(e.RequestID), 1 << 10},
			{"Body", len(e.Body), 4 << 10},
			{"Error()", len(e.Error()), 4 << 10},
			{"Header fields", len(e.Header), 100},
		} {
			if f.len > f.max {
				t.Errorf("APIError.%s is %d long; want at most %d", f.name, f.len, f.max)
			}
		}
		for k, vs := range e.Header {
			for _, v := range vs {
				if len(v) > 2<<10 {
					t.Errorf("APIError.Header[%q] value is %d bytes; want at most 2 KiB", k, len(v))
				}
			}
		}
	}
}

// wantSmallAPIErrorOrRefused is wantSmallAPIError when the transport took
// the response, and wantSmallErr(1) when it refused it.
func wantSmallAPIErrorOrRefused(status int) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		var e *client.APIError
		if errors.As(r.err, &e) {
			wantSmallAPIError(status)(t, r)
			return
		}
		wantSmallErr(1)(t, r)
	}
}

// wantCertErr checks that an untrusted certificate fails the call at once:
// one connection, a certificate error, and (for Wait) no polling until the
// maximum wait.
func wantCertErr(t *testing.T, r hostileResult) {
	t.Helper()
	wantSmallErr(1)(t, r)
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	if !errors.As(r.err, &certErr) && !errors.As(r.err, &authErr) {
		t.Errorf("err = %v; want a certificate verification error", r.err)
	}
	if errors.Is(r.err, client.ErrWaitTimeout) {
		t.Errorf("err = %v; want the Wait stopped at once, not at its max wait", r.err)
	}
}

// wantBackoffKept checks that three attempts answered with status were
// spaced by the retry backoff (at least 50ms each), not by the server's
// Retry-After of zero.
func wantBackoffKept(status int) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		var e *client.APIError
		if !errors.As(r.err, &e) || e.StatusCode != status {
			t.Fatalf("err = %v; want an *APIError with status %d", r.err, status)
		}
		if len(r.arrivals) != 3 {
			t.Fatalf("server saw %d requests; want 3", len(r.arrivals))
		}
		var gaps []time.Duration
		for i := 1; i < len(r.arrivals); i++ {
			gaps = append(gaps, r.arrivals[i].Sub(r.arrivals[i-1]))
		}
		t.Logf("gaps between attempts: %v", gaps)
		for _, g := range gaps {
			// The backoff draws each delay from [50ms, 100ms]; 45ms allows
			// for clock granularity only.
			if g < 45*time.Millisecond {
				t.Errorf("attempts %v apart; want at least the 50ms minimum backoff", g)
			}
		}
	}
}

// wantNestedOrInvalid checks that a step result nested depth arrays deep
// either decodes to exactly that depth or fails as an invalid response.
func wantNestedOrInvalid(depth int) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		if r.err != nil {
			if !errors.Is(r.err, client.ErrInvalidResponse) {
				t.Errorf("err = %.300v; want ErrInvalidResponse", r.err)
			}
			return
		}
		steps := r.inv.Steps()
		if len(steps) != 1 {
			t.Fatalf("decoded %d steps; want 1", len(steps))
		}
		s, ok := steps[0].Success()
		if !ok {
			t.Fatalf("step is not a success: %v", steps[0].Err())
		}
		v, err := client.ResultAs[any](s)
		if err != nil {
			t.Logf("result decoded to an error: %.200v", err)
			return
		}
		got := 0
		for a, ok := v.([]any); ok; a, ok = v.([]any) {
			got++
			if len(a) == 0 {
				break
			}
			v = a[0]
		}
		if got != depth {
			t.Errorf("result decoded %d arrays deep; want %d", got, depth)
		}
	}
}

// Calls.

// concurrentGets returns a call that runs n Gets at once and joins their
// errors (a Get that succeeds counts as an error).
func concurrentGets(n int) func(ctx context.Context, c *client.Client) (*client.Invocation, error) {
	return func(ctx context.Context, c *client.Client) (*client.Invocation, error) {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				inv, err := c.Invocations.Get(ctx, hostileID)
				if err == nil {
					err = fmt.Errorf("Get %d unexpectedly returned invocation %s", i, inv.ID)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		return nil, errors.Join(errs...)
	}
}

// Servers.

// hostileServer records when it saw each request.
type hostileServer struct {
	URL string
	mu  sync.Mutex
	at  []time.Time
}

func (s *hostileServer) hit() {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
}

func (s *hostileServer) arrivals() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.at...)
}

// serveHandler starts an httptest server that records each request and
// passes it to h.
func serveHandler(t *testing.T, h http.HandlerFunc) *hostileServer {
	t.Helper()
	s := &hostileServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hit()
		h(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// serveBody serves the body build returns as JSON on every request. It
// builds it when the row starts, so that the rows' bodies are not all
// held at once.
func serveBody(build func() []byte) func(t *testing.T) *hostileServer {
	return func(t *testing.T) *hostileServer {
		body := build()
		return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		})
	}
}

// serveStatus answers every request with status, a request id, and
// retryAfter as Retry-After when it is not empty.
func serveStatus(status int, retryAfter string) func(t *testing.T) *hostileServer {
	return func(t *testing.T) *hostileServer {
		return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.Header().Set("X-Request-Id", "req-hostile")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, `{"code":"busy","error":"try again later"}`)
		})
	}
}

// writeFill writes n copies of c to w in chunks, stopping at the first
// write error (the client hung up).
func writeFill(w io.Writer, c byte, n int64) error {
	chunk := bytes.Repeat([]byte{c}, 32<<10)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// serveSized serves n bytes of JSON whitespace, with a Content-Length or
// chunked.
func serveSized(n int64, withLength bool) func(t *testing.T) *hostileServer {
	return func(t *testing.T) *hostileServer {
		return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if withLength {
				w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
			}
			writeFill(w, ' ', n)
		})
	}
}

// serveEndless serves JSON whitespace until the client hangs up.
func serveEndless(t *testing.T) *hostileServer {
	return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for r.Context().Err() == nil {
			if writeFill(w, ' ', 1<<20) != nil {
				return
			}
		}
	})
}

// serveGzipBomb serves a gzip-encoded body that inflates to inflated MiB
// of zeros: that many copies of one gzip member holding 1 MiB (about 1 KiB
// each; gzip readers read concatenated members as one stream).
func serveGzipBomb(inflated int) func(t *testing.T) *hostileServer {
	return func(t *testing.T) *hostileServer {
		var member bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
		zw.Write(make([]byte, 1<<20))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		bomb := bytes.Repeat(member.Bytes(), inflated)
		return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(len(bomb)))
			w.Write(bomb)
		})
	}
}

// serve404HugeError answers 404 with a JSON error whose "error" string is
// n bytes.
func serve404HugeError(n int64) func(t *testing.T) *hostileServer {
	return func(t *testing.T) *hostileServer {
		const head, tail = `{"code":"not_found","requestId":"req-hostile","error":"`, `"}`
		return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.FormatInt(int64(len(head))+n+int64(len(tail)), 10))
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, head)
			if writeFill(w, 'x', n) == nil {
				io.WriteString(w, tail)
			}
		})
	}
}

// serve404LongFields answers 404 with a JSON error, small enough to be
// read whole, whose code, error and requestId are 20 KiB each.
func serve404LongFields(t *testing.T) *hostileServer {
	long := func(c string) string { return strings.Repeat(c, 20<<10) }
	body := fmt.Sprintf(`{"code":%q,"error":%q,"requestId":%q}`, long("c"), long("e"), long("r"))
	return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, body)
	})
}

// respond404HugeHeader answers 404 with an X-Request-Id of n bytes. It
// writes the response raw: net/http's server would scan the value for
// newlines, slowly under the race detector.
func respond404HugeHeader(n int) func(conn net.Conn) {
	const body = `{"code":"not_found","error":"no such invocation"}`
	return func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.1 404 Not Found\r\nX-Request-Id: "+strings.Repeat("r", n)+
			"\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	}
}

// serveRedirectLoop redirects every request to itself.
func serveRedirectLoop(t *testing.T) *hostileServer {
	return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
	})
}

// serveTrickle sends the headers and then one byte of the body a second,
// until the client hangs up.
func serveTrickle(t *testing.T) *hostileServer {
	return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			io.WriteString(w, " ")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})
}

// serveUntrustedTLS is an HTTPS server whose certificate the client does
// not trust. The handshake fails before any request, so it records
// connections.
func serveUntrustedTLS(t *testing.T) *hostileServer {
	s := &hostileServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request %s reached the handler through an untrusted certificate", r.URL)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.hit()
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // "TLS handshake error"
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// servePlainToTLS is a plain-HTTP server whose URL says https://, as a
// base URL pointed at the wrong port would. The handshake fails before any
// request, so it records connections.
func servePlainToTLS(t *testing.T) *hostileServer {
	s := &hostileServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request %s reached the handler of a plain server through TLS", r.URL)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.hit()
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	s.URL = "https://" + strings.TrimPrefix(srv.URL, "http://")
	return s
}

// serveGarbageToTLS answers every connection with a line that is neither
// TLS nor HTTP, behind an https:// URL, and records connections.
func serveGarbageToTLS(t *testing.T) *hostileServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &hostileServer{URL: "https://" + ln.Addr().String()}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.hit()
			io.WriteString(conn, "hello, this is not TLS\r\n")
			conn.Close()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return s
}

// serveRaw starts a TCP server that reads each request and lets respond
// write whatever it likes to the connection, lies included. Connections
// are closed when respond returns and when the test ends.
func serveRaw(respond func(conn net.Conn)) func(t *testing.T) *hostileServer {
	return func(t *testing.T) *hostileServer {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := &hostileServer{URL: "http://" + ln.Addr().String()}
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			conns  = map[net.Conn]bool{}
			closed bool
		)
		wg.Go(func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				if closed {
					conn.Close()
				}
				conns[conn] = true
				mu.Unlock()
				wg.Go(func() {
					defer conn.Close()
					br := bufio.NewReader(conn)
					for {
						req, err := http.ReadRequest(br)
						if err != nil {
							return
						}
						io.Copy(io.Discard, req.Body)
						s.hit()
						respond(conn)
					}
				})
			}
		})
		t.Cleanup(func() {
			ln.Close()
			mu.Lock()
			closed = true
			for conn := range conns {
				conn.Close()
			}
			mu.Unlock()
			wg.Wait()
		})
		return s
	}
}

// rawHead is a 200 response's head claiming a body of claim bytes.
func rawHead(claim int64) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.FormatInt(claim, 10) + "\r\n\r\n"
}

// stallAfter claims claim bytes, sends sent of them, and stalls until the
// client hangs up.
func stallAfter(sent int, claim int64) func(conn net.Conn) {
	return func(conn net.Conn) {
		io.WriteString(conn, rawHead(claim)+strings.Repeat(" ", sent))
		io.Copy(io.Discard, conn)
	}
}

// closeAfter claims claim bytes, sends sent of them, and closes the
// connection.
func closeAfter(sent int, claim int64) func(conn net.Conn) {
	return func(conn net.Conn) {
		io.WriteString(conn, rawHead(claim)+strings.Repeat(" ", sent))
		conn.Close()
	}
}

// Bodies.

// invocationAround returns a succeeded invocation whose result's steps
// array is steps.
func invocationAround(steps []byte) []byte {
	const head = `{"id":"` + hostileID + `","status":"succeeded","createdAt":"2025-01-01T00:00:00Z",` +
		`"finishedAt":"2025-01-01T00:00:01Z","result":{"ok":true,"mode":"sync","runtimeId":"rt_1","steps":`
	const tail = `}}`
	b := make([]byte, 0, len(head)+len(steps)+len(tail))
	return append(append(append(b, head...), steps...), tail...)
}

// emptySteps builds an invocation with n empty steps: [{},{},...], 3
// bytes a step.
func emptySteps(n int) func() []byte {
	return func() []byte {
		steps := append([]byte("["), bytes.Repeat([]byte("{},"), n)...)
		steps[len(steps)-1] = ']'
		return invocationAround(steps)
	}
}

// nestedResult builds an invocation with one step whose result is depth
// nested arrays.
func nestedResult(depth int) func() []byte {
	return func() []byte {
		step := `[{"ok":true,"index":0,"call":"page.evaluate","result":` +
			strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}]`
		return invocationAround([]byte(step))
	}
}

// hugeFailure builds a failed invocation whose error.message is 10 MiB,
// and whose failed step's call and hint are 1 MiB.
func hugeFailure() []byte {
	huge, long := strings.Repeat("m", 10<<20), strings.Repeat("c", 1<<20)
	return []byte(`{"id":"` + hostileID + `","status":"failed","createdAt":"2025-01-01T00:00:00Z",` +
		`"finishedAt":"2025-01-01T00:00:01Z","error":{"code":"STEP_FAILED","message":"` + huge + `"},` +
		`"result":{"ok":false,"mode":"fail-fast","runtimeId":"rt_1","steps":[{"index":0,"ok":false,"call":"` + long +
		`","error":{"code":"TIMEOUT","message":"slow","hint":"` + long + `"}}]}}`)
}

// hugeStatus builds an invocation that finished with a 10 MiB status.
func hugeStatus() []byte {
	return []byte(`{"id":"` + hostileID + `","status":"` + strings.Repeat("s", 10<<20) +
		`","createdAt":"2025-01-01T00:00:00Z","finishedAt":"2025-01-01T00:00:01Z"}`)
}

// raceDetectorOn reports whether the test binary was built with -race.
func raceDetectorOn() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// Heap measurement.

// heapGrowth is what a call cost the heap: its peak above the baseline
// (live and not yet swept objects, sampled every millisecond), and the
// bytes it allocated in total.
type heapGrowth struct{ peak, allocs uint64 }

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// heapMeasure serialises heap measurements: the metrics are process-wide.
var heapMeasure sync.Mutex

// peakHeapGrowth runs f and returns how far the heap's objects grew above
// their level after a GC just before f, sampling runtime/metrics every
// millisecond while f runs, and how much f allocated.
func peakHeapGrowth(t *testing.T, f func()) heapGrowth {
	t.Helper()
	heapMeasure.Lock()
	defer heapMeasure.Unlock()
	const objects, allocs = "/memory/classes/heap/objects:bytes", "/gc/heap/allocs:bytes"
	read := func(name string) uint64 {
		s := []metrics.Sample{{Name: name}}
		metrics.Read(s)
		return s[0].Value.Uint64() // panics if the metric is unsupported
	}
	runtime.GC()
	runtime.GC()
	base, allocs0 := read(objects), read(allocs)
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		hi := base
		for {
			hi = max(hi, read(objects))
			select {
			case <-stop:
				peak <- hi
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	hi := max(<-peak, read(objects))
	return heapGrowth{peak: hi - base, allocs: read(allocs) - allocs0}
}
