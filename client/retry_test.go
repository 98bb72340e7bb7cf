package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

var retryableStatuses = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// failFirst returns a handler that answers the first n requests with
// status, and the running fixture after that.
func failFirst(t *testing.T, h *hits, n, status int) http.HandlerFunc {
	running := atStep(t, 1)
	return func(w http.ResponseWriter, r *http.Request) {
		if h.record() <= n {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"code":"test.status","error":"status %d"}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(running)
	}
}

func TestRetryableStatuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     []client.Option
		attempts int
	}{
		{"default retries", nil, client.DefaultMaxRetries + 1},
		{"no retries", []client.Option{client.WithMaxRetries(0)}, 1},
		{"one retry", []client.Option{client.WithMaxRetries(1)}, 2},
	}
	for _, status := range retryableStatuses {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%d %s", status, tc.name), func(t *testing.T) {
				t.Parallel()
				var h hits
				c, _ := setup(t, failFirst(t, &h, 1000, status), tc.opts...)
				_, err := c.Invocations.Get(t.Context(), waitID)
				var apiErr *client.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
					t.Fatalf("err = %v, want an *APIError with status %d once retries are exhausted", err, status)
				}
				if n := h.count(); n != tc.attempts {
					t.Errorf("attempts = %d, want %d", n, tc.attempts)
				}
			})
		}
		t.Run(fmt.Sprintf("%d then success", status), func(t *testing.T) {
			t.Parallel()
			var h hits
			c, _ := setup(t, failFirst(t, &h, 2, status))
			inv, err := c.Invocations.Get(t.Context(), waitID)
			if err != nil || inv.Status != client.StatusRunning {
				t.Fatalf("Get = %v, %v; want the invocation after two retries", inv, err)
			}
			if n := h.count(); n != 3 {
				t.Errorf("attempts = %d, want 3", n)
			}
		})
	}
}

func TestOther4xxAreNotRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status   int
		sentinel error
	}{
		{http.StatusBadRequest, nil},
		{http.StatusUnauthorized, client.ErrUnauthorized},
		{http.StatusForbidden, client.ErrForbidden},
		{http.StatusNotFound, client.ErrNotFound},
		{http.StatusConflict, nil},
		{http.StatusGone, nil},
		{http.StatusUnprocessableEntity, nil},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			t.Parallel()
			var h hits
			c, _ := setup(t, failFirst(t, &h, 1000, tc.status), client.WithMaxRetries(5))
			_, err := c.Invocations.Get(t.Context(), waitID)
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status {
				t.Fatalf("err = %v, want an *APIError with status %d", err, tc.status)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.sentinel)
			}
			if n := h.count(); n != 1 {
				t.Errorf("attempts = %d, want 1: a %d is never retried", n, tc.status)
			}
		})
	}
}

// hangUp is a handler that takes the connection and closes it without an
// answer, the way a crashing backend or a dropped connection looks.
func hangUp(h *hits, after int, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.record() > after {
			next(w, r)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
	}
}

func TestRetryConnectionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     []client.Option
		hangUps  int
		attempts int
		ok       bool
	}{
		{"default retries", nil, 1000, client.DefaultMaxRetries + 1, false},
		{"no retries", []client.Option{client.WithMaxRetries(0)}, 1000, 1, false},
		{"two retries", []client.Option{client.WithMaxRetries(2)}, 1000, 3, false},
		{"recovers", nil, 2, 3, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			c, _ := setup(t, hangUp(&h, tc.hangUps, serveJSON(200, atStep(t, 1))), tc.opts...)
			inv, err := c.Invocations.Get(t.Context(), waitID)
			if n := h.count(); n != tc.attempts {
				t.Errorf("attempts = %d, want %d", n, tc.attempts)
			}
			if tc.ok {
				if err != nil || inv.Status != client.StatusRunning {
					t.Fatalf("Get = %v, %v; want the invocation", inv, err)
				}
				return
			}
			var apiErr *client.APIError
			if err == nil || errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want a connection error", err)
			}
			if tc.attempts > 1 && !strings.Contains(err.Error(), fmt.Sprintf("after %d attempts", tc.attempts)) {
				t.Errorf("err = %q, want it to say how many attempts were made", err)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	// Uncapped, the first two would wait an hour; the upper bounds are
	// loose because the machine may be busy.
	cases := []struct {
		name           string
		status         int
		retryAfter     func() string
		limit          time.Duration
		minGap, maxGap time.Duration
	}{
		{"seconds, capped", 503, func() string { return "3600" }, 150 * time.Millisecond, 150 * time.Millisecond, 5 * time.Second},
		{"HTTP date, capped", 429, func() string { return time.Now().Add(time.Hour).UTC().Format(http.TimeFormat) }, 150 * time.Millisecond, 150 * time.Millisecond, 5 * time.Second},
		// Backoff is 1-2 ms: a delay near the 5 s cap would mean a
		// Retry-After was read where there is none to honour.
		{"no header", 503, func() string { return "" }, 5 * time.Second, 0, 2 * time.Second},
		{"date in the past", 503, func() string { return time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat) }, 5 * time.Second, 0, 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			running := atStep(t, 1)
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if h.record() == 1 {
					if v := tc.retryAfter(); v != "" {
						w.Header().Set("Retry-After", v)
					}
					http.Error(w, "later", tc.status)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write(running)
			}, client.WithRetryAfterCap(tc.limit))
			if _, err := c.Invocations.Get(t.Context(), waitID); err != nil {
				t.Fatalf("Get: %v", err)
			}
			g := h.gaps()
			if len(g) != 1 {
				t.Fatalf("%d attempts, want 2", len(g)+1)
			}
			if g[0] < tc.minGap || g[0] > tc.maxGap {
				t.Errorf("delay before the retry = %v, want between %v and %v", g[0], tc.minGap, tc.maxGap)
			}
		})
	}
}

// TestRetryWaitIsCancellable ends the context while a retry waits out a
// Retry-After of an hour (capped at the default 30 s).
func TestRetryWaitIsCancellable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		start func(t *testing.T) (context.Context, func())
		want  error
	}{
		{"cancel", func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancel(t.Context())
			t.Cleanup(cancel)
			return ctx, func() { time.AfterFunc(20*time.Millisecond, cancel) }
		}, context.Canceled},
		{"deadline", func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			t.Cleanup(cancel)
			return ctx, func() {}
		}, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, trigger := tc.start(t)
			var h hits
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if h.record() == 1 {
					trigger()
				}
				w.Header().Set("Retry-After", "3600")
				http.Error(w, "later", http.StatusServiceUnavailable)
			})
			start := time.Now()
			_, err := c.Invocations.Get(ctx, waitID)
			if elapsed := time.Since(start); elapsed > 3*time.Second { // 30 s if not cancellable
				t.Errorf("Get returned after %v, want promptly after the context ended", elapsed)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "503") {
				t.Errorf("err = %q, want it to name the last error (503)", err)
			}
			if n := h.count(); n != 1 {
				t.Errorf("attempts = %d, want 1", n)
			}
		})
	}
}

// trackedBody records whether a response body was read to the end and
// closed.
type trackedBody struct {
	io.ReadCloser
	eof, closed atomic.Bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *trackedBody) Close() error {
	b.closed.Store(true)
	return b.ReadCloser.Close()
}

// bodyTracker is a Doer that tracks every response body it hands out.
type bodyTracker struct {
	next   client.Doer
	mu     sync.Mutex
	bodies []*trackedBody
}

func (d *bodyTracker) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.next.Do(req)
	if err != nil {
		return nil, err
	}
	b := &trackedBody{ReadCloser: resp.Body}
	d.mu.Lock()
	d.bodies = append(d.bodies, b)
	d.mu.Unlock()
	resp.Body = b
	return resp, nil
}

func TestBodiesAreDrainedAndClosed(t *testing.T) {
	t.Parallel()
	// Far more than one read of the connection, and within what is read
	// of an error body (64 KiB).
	big := strings.Repeat("x", 48<<10)
	huge := strings.Repeat("x", 1<<20)
	cases := []struct {
		name    string
		status  int
		body    string
		bodies  int  // responses the Get reads
		drained bool // read to the end, so the connection can be reused
		wantErr bool
	}{
		{"retried 503s", http.StatusServiceUnavailable, big, client.DefaultMaxRetries + 1, true, true},
		{"404", http.StatusNotFound, big, 1, true, true},
		{"200", http.StatusOK, "", 1, true, false},
		// An error body past what the client reads is dropped with its
		// connection, not drained: but it is closed all the same.
		{"404 of 1 MiB", http.StatusNotFound, huge, 1, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			running := atStep(t, 1)
			tracker := &bodyTracker{} // next is set once the server exists
			c, ts := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.status == http.StatusOK {
					w.Header().Set("Content-Type", "application/json")
					w.Write(running)
					return
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}, client.WithHTTPClient(tracker))
			tracker.next = ts.Client()
			_, err := c.Invocations.Get(t.Context(), waitID)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Get err = %v, want error %v", err, tc.wantErr)
			}
			var apiErr *client.APIError
			if tc.wantErr && (!errors.As(err, &apiErr) || apiErr.StatusCode != tc.status) {
				t.Errorf("Get err = %v, want an *APIError with status %d", err, tc.status)
			}
			tracker.mu.Lock()
			defer tracker.mu.Unlock()
			if len(tracker.bodies) != tc.bodies {
				t.Fatalf("%d responses, want %d", len(tracker.bodies), tc.bodies)
			}
			for i, b := range tracker.bodies {
				if !b.closed.Load() || (tc.drained && !b.eof.Load()) {
					t.Errorf("response %d: read to the end %v, closed %v; want closed, and read to the end: %v", i, b.eof.Load(), b.closed.Load(), tc.drained)
				}
			}
		})
	}
}

// TestResponseTooLarge checks WithMaxResponseBytes on successful answers:
// a body over the cap fails with ErrResponseTooLarge, is not retried, and
// stops a Wait at once.
func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	running := atStep(t, 1)
	big := append([]byte(`{"pad":"`+strings.Repeat("x", 8<<10)+`",`), running[1:]...)
	cases := []struct {
		name          string
		body          []byte
		contentLength bool // send a Content-Length header
		limit         int64
		ok            bool
	}{
		{"over the cap, chunked", big, false, 4 << 10, false},
		{"over the cap, with Content-Length", big, true, 4 << 10, false},
		{"one byte over", running, true, int64(len(running)) - 1, false},
		{"one byte over, chunked", running, false, int64(len(running)) - 1, false},
		{"exactly the cap", running, true, int64(len(running)), true},
		{"exactly the cap, chunked", running, false, int64(len(running)), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				h.record()
				w.Header().Set("Content-Type", "application/json")
				if tc.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
				}
				w.WriteHeader(http.StatusOK)
				w.Write(tc.body[:len(tc.body)/2])
				w.(http.Flusher).Flush() // no Content-Length unless set above
				w.Write(tc.body[len(tc.body)/2:])
			}, client.WithMaxResponseBytes(tc.limit))
			inv, err := c.Invocations.Get(t.Context(), waitID)
			if tc.ok {
				if err != nil || inv.Status != client.StatusRunning {
					t.Fatalf("Get = %v, %v; want the invocation", inv, err)
				}
				return
			}
			if !errors.Is(err, client.ErrResponseTooLarge) {
				t.Fatalf("err = %v, want ErrResponseTooLarge", err)
			}
			if n := h.count(); n != 1 {
				t.Errorf("attempts = %d, want 1: a body over the cap is not retried", n)
			}
			h = hits{}
			_, err = c.Invocations.Wait(bounded(t), waitID, fastPoll)
			var we *client.WaitError
			if !errors.Is(err, client.ErrResponseTooLarge) || !errors.As(err, &we) {
				t.Errorf("Wait err = %v, want a *WaitError matching ErrResponseTooLarge", err)
			}
			if n := h.count(); n != 1 {
				t.Errorf("Wait made %d requests, want 1", n)
			}
		})
	}
}

// TestLargeErrorBodies checks that an error answer with a body over
// WithMaxResponseBytes is still reported as what it is, an *APIError with
// its status and a capped body, not as ErrResponseTooLarge: only a little
// of an error body is read at all.
func TestLargeErrorBodies(t *testing.T) {
	t.Parallel()
	big := `{"code":"x","error":"no such invocation","pad":"` + strings.Repeat("x", 8<<10) + `"}`
	cases := []struct {
		status   int
		sentinel error
		attempts int
	}{
		{http.StatusNotFound, client.ErrNotFound, 1},
		{http.StatusServiceUnavailable, nil, client.DefaultMaxRetries + 1},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			t.Parallel()
			var h hits
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				h.record()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, big)
			}, client.WithMaxResponseBytes(4<<10))
			_, err := c.Invocations.Get(t.Context(), waitID)
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || errors.Is(err, client.ErrResponseTooLarge) {
				t.Fatalf("err = %v, want an *APIError with status %d, not ErrResponseTooLarge", err, tc.status)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.sentinel)
			}
			if len(apiErr.Body) != 4<<10 || !strings.HasPrefix(big, string(apiErr.Body)) {
				t.Errorf("Body is %d bytes, want the first 4096 of the answer", len(apiErr.Body))
			}
			if n := h.count(); n != tc.attempts {
				t.Errorf("attempts = %d, want %d", n, tc.attempts)
			}
		})
	}
}

// silentListener accepts TCP connections and never answers them.
func silentListener(t *testing.T) (addr string, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 50 * time.Millisecond
	t.Run("no answer", func(t *testing.T) {
		t.Parallel()
		for _, retries := range []int{0, 2} {
			t.Run("retries="+strconv.Itoa(retries), func(t *testing.T) {
				t.Parallel()
				addr, accepted := silentListener(t)
				// The SDK's own HTTP client, so the test covers its wiring.
				c, err := client.New(client.WithAPIKey(testKey), client.WithBaseURL("http://"+addr+pathPrefix),
					client.WithAttemptTimeout(timeout), client.WithMaxRetries(retries),
					client.WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				// The deadline only keeps a regression from hanging the test.
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				start := time.Now()
				_, err = c.Invocations.Get(ctx, waitID)
				elapsed := time.Since(start)
				attempts := retries + 1
				if err == nil || !strings.Contains(err.Error(), "timed out after "+timeout.String()) {
					t.Fatalf("err = %v, want one naming the attempt timeout", err)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want errors.Is context.DeadlineExceeded", err)
				}
				var te interface{ Timeout() bool }
				if !errors.As(err, &te) || !te.Timeout() {
					t.Errorf("err = %v, want a Timeout() error", err)
				}
				if want := time.Duration(attempts) * timeout; elapsed < want || elapsed > want+3*time.Second {
					t.Errorf("Get failed after %v, want about %v", elapsed, want)
				}
				// The kernel accepts a connection before the listener's
				// goroutine counts it: give a loaded machine a moment.
				for deadline := time.Now().Add(2 * time.Second); accepted() < attempts && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
				if n := accepted(); n != attempts {
					t.Errorf("connections = %d, want one per attempt (%d)", n, attempts)
				}
			})
		}
	})
	t.Run("body stalls", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":`))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, client.WithAttemptTimeout(timeout), client.WithMaxRetries(0))
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // against a hang
		defer cancel()
		start := time.Now()
		_, err := c.Invocations.Get(ctx, waitID)
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("Get failed after %v, want about %v", elapsed, timeout)
		}
		if err == nil || !strings.Contains(err.Error(), "reading body") || !strings.Contains(err.Error(), "attempt timed out") {
			t.Fatalf("err = %v, want a timeout while reading the body", err)
		}
	})
}

// TestConnectionReuse sends many sequential Gets, including error answers,
// through one client with its default HTTP client, and counts the TCP
// connections the server saw.
func TestConnectionReuse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		gets    int
		retries int
	}{
		{"1000 gets, retries off", 1000, 0},
		{"100 gets, 503s retried", 100, client.DefaultMaxRetries},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			running := atStep(t, 1)
			var requests, conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := requests.Add(1)
				if !strings.HasPrefix(r.URL.Path, pathPrefix+"/v1/invocations/") {
					http.Error(w, "outside the base path", http.StatusTeapot)
					return
				}
				switch n % 4 {
				case 1:
					w.Header().Set("Content-Type", "application/json")
					w.Write(running)
				case 2:
					http.Error(w, `{"code":"not_found","error":"no such invocation"}`, http.StatusNotFound)
				case 3:
					http.Error(w, strings.Repeat("busy ", 1000), http.StatusServiceUnavailable)
				default:
					http.Error(w, "boom", http.StatusInternalServerError)
				}
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			t.Cleanup(srv.Close)
			c, err := client.New(client.WithAPIKey(testKey), client.WithBaseURL(srv.URL+pathPrefix),
				client.WithMaxRetries(tc.retries), client.WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			var ok, failed int
			for range tc.gets {
				if _, err := c.Invocations.Get(t.Context(), waitID); err == nil {
					ok++
				} else {
					var apiErr *client.APIError
					if !errors.As(err, &apiErr) {
						t.Fatalf("Get: %v, want an *APIError or success", err)
					}
					failed++
				}
			}
			if ok == 0 || failed == 0 {
				t.Fatalf("%d successes and %d API errors, want both", ok, failed)
			}
			t.Logf("%d Gets (%d requests, %d errors): %d TCP connection(s)", tc.gets, requests.Load(), failed, conns.Load())
			// One connection serves them all. net/http itself gives up on
			// reusing a connection whose request write it has not seen
			// finish within 50 ms (maxWriteWaitBeforeConnReuse), which a
			// loaded machine running -race can hit once in a thousand: one
			// extra connection is that, not a body left unread (which
			// costs a connection per error answer, hundreds here).
			if n := conns.Load(); n > 2 {
				t.Errorf("%d Gets opened %d connections, want 1 (2 at worst)", tc.gets, n)
			}
		})
	}
}

// sendTimes is a Doer that records when each request is handed to it.
type sendTimes struct {
	next client.Doer
	mu   sync.Mutex
	at   []time.Time
}

func (d *sendTimes) Do(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	d.at = append(d.at, time.Now())
	d.mu.Unlock()
	return d.next.Do(req)
}

// TestRateLimit runs concurrent calls through one client limited to 10
// requests a second with a burst of 1, and checks the rate they were sent
// at. The rate is low so that what the limiter imposes (0.9 s for ten
// requests) stands well clear of how far apart ten unlimited concurrent
// requests leave a loaded machine under -race (around 0.1 s).
func TestRateLimit(t *testing.T) {
	t.Parallel()
	const rps = 10
	cases := []struct {
		name  string
		calls int
		// run makes call i; the server answers an id's first request with
		// "running" and later ones with "succeeded", so a Wait polls twice.
		run      func(t *testing.T, c *client.Client, i int) error
		requests int
	}{
		{"10 gets", 10, func(t *testing.T, c *client.Client, i int) error {
			_, err := c.Invocations.Get(t.Context(), fmt.Sprintf("inv-%d", i))
			return err
		}, 10},
		{"5 waits", 5, func(t *testing.T, c *client.Client, i int) error {
			_, err := c.Invocations.Wait(bounded(t), fmt.Sprintf("inv-%d", i), fastPoll)
			return err
		}, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			running, succeeded := atStep(t, 1), spectest.Fixture(t, "succeeded")
			var h hits
			var mu sync.Mutex
			seen := map[string]bool{}
			// The rate is measured where requests leave the client, after
			// the limiter: arrival times at the server also carry dial and
			// scheduling delays, which on a loaded machine can hold back
			// the first request and make the span look shorter.
			sent := &sendTimes{} // next is set once the server exists
			c, ts := setup(t, func(w http.ResponseWriter, r *http.Request) {
				h.record()
				mu.Lock()
				again := seen[r.URL.Path]
				seen[r.URL.Path] = true
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if again {
					w.Write(succeeded)
					return
				}
				w.Write(running)
			}, client.WithRateLimit(rps, 1), client.WithHTTPClient(sent))
			sent.next = ts.Client()
			var wg sync.WaitGroup
			errs := make([]error, tc.calls)
			for i := range tc.calls {
				wg.Go(func() { errs[i] = tc.run(t, c, i) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if n := h.count(); n != tc.requests {
				t.Fatalf("requests = %d, want %d", n, tc.requests)
			}
			sent.mu.Lock()
			n, span := len(sent.at), sent.at[len(sent.at)-1].Sub(sent.at[0])
			sent.mu.Unlock()
			if n != tc.requests {
				t.Fatalf("requests sent = %d, want %d", n, tc.requests)
			}
			// With a burst of 1, n requests take at least (n-1)/rps.
			want := time.Duration(n-1) * time.Second / rps
			t.Logf("%d requests in %v: %.1f requests/s (limit %d)", n, span, float64(n-1)/span.Seconds(), rps)
			if span < want*9/10 {
				t.Errorf("%d requests took %v, want at least %v at %d requests/s", n, span, want, rps)
			}
		})
	}
	t.Run("deadline before the next token", func(t *testing.T) {
		t.Parallel()
		var h hits
		c, _ := setup(t, failFirst(t, &h, 0, 0), client.WithRateLimit(1, 1))
		if _, err := c.Invocations.Get(t.Context(), waitID); err != nil {
			t.Fatalf("first Get: %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Invocations.Get(ctx, waitID)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want errors.Is context.DeadlineExceeded", err)
		}
		if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
			t.Errorf("Get returned after %v, want at once or at the 20 ms deadline", elapsed)
		}
		if n := h.count(); n != 1 {
			t.Errorf("requests = %d, want 1: the second Get has no token before its deadline", n)
		}
	})
}
