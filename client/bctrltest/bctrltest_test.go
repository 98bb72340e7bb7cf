package bctrltest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"go.uber.org/goleak"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
	"github.com/bctrlhq/sdk-go/gen"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// uuidOf returns a fixed UUID for a test's invocation name. The fake keeps
// ids as given, and the spec says an invocation id is a UUID, so tests whose
// bodies get validates use these.
func uuidOf(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String()
}

// response is what a test reads back from the fake.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is a bctrl-style JSON error.
type errorBody struct {
	Code      string  `json:"code"`
	Error     *string `json:"error"`
	Message   *string `json:"message"`
	RequestID string  `json:"requestId"`
}

// newClient returns an HTTP client whose connections are closed when the
// test ends, so that goleak sees no idle connection goroutines.
func newClient(t *testing.T, keepAlive bool) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: !keepAlive}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// do sends GET url with auth as the Authorization header (none if empty).
// Every 200 it receives is validated against the spec.
func do(t *testing.T, c *http.Client, ctx context.Context, method, url, auth string) (response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// get fetches invocation id with the server's key and fails the test on a
// transport error. A 200 must validate against the spec.
func get(t *testing.T, c *http.Client, srv *bctrltest.Server, id string) response {
	t.Helper()
	r, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/v1/invocations/"+id, "Bearer "+srv.APIKey())
	if err != nil {
		t.Fatalf("GET %s: %v", id, err)
	}
	if r.status == http.StatusOK {
		mustValidate(t, r)
	}
	return r
}

func mustValidate(t *testing.T, r response) {
	t.Helper()
	if err := spectest.ValidateInvocation(t, r.status, r.header, r.body); err != nil {
		t.Fatalf("response does not match the spec: %v\nbody: %s", err, r.body)
	}
}

func decodeInvocation(t *testing.T, r response) gen.Invocation {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body: %s", r.status, r.body)
	}
	var inv gen.Invocation
	if err := json.Unmarshal(r.body, &inv); err != nil {
		t.Fatalf("decode invocation: %v", err)
	}
	return inv
}

func decodeError(t *testing.T, r response) errorBody {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("decode error body %s: %v", r.body, err)
	}
	if e.RequestID == "" || e.RequestID != r.header.Get("X-Request-Id") {
		t.Errorf("requestId = %q, x-request-id = %q; want equal and non-empty", e.RequestID, r.header.Get("X-Request-Id"))
	}
	return e
}

func status(t *testing.T, r response) string {
	t.Helper()
	return string(decodeInvocation(t, r).Status)
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t, bctrltest.WithAPIKey("sk-test"))
	id := uuidOf("auth")
	srv.Add(bctrltest.NewInvocation(id))
	c := newClient(t, true)

	tests := []struct {
		name       string
		auth       string
		wantStatus int
		wantCode   string
	}{
		{"missing header", "", http.StatusUnauthorized, "auth.required"},
		{"other scheme", "Basic c2stdGVzdDo=", http.StatusUnauthorized, "auth.required"},
		{"empty token", "Bearer ", http.StatusUnauthorized, "auth.required"},
		{"wrong key", "Bearer sk-other", http.StatusUnauthorized, "auth.invalid"},
		{"default key is not accepted", "Bearer " + bctrltest.DefaultAPIKey, http.StatusUnauthorized, "auth.invalid"},
		{"right key", "Bearer sk-test", http.StatusOK, ""},
		{"scheme is case-insensitive", "bearer sk-test", http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/v1/invocations/"+id, tt.auth)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body: %s", r.status, tt.wantStatus, r.body)
			}
			if !strings.HasPrefix(r.header.Get("X-Request-Id"), "req_") {
				t.Errorf("x-request-id = %q, want a req_ id", r.header.Get("X-Request-Id"))
			}
			if tt.wantStatus == http.StatusOK {
				mustValidate(t, r)
				return
			}
			e := decodeError(t, r)
			if e.Code != tt.wantCode {
				t.Errorf("code = %q, want %q", e.Code, tt.wantCode)
			}
			if e.Error == nil || *e.Error == "" || e.Message != nil {
				t.Errorf("auth errors carry their text in \"error\"; got %s", r.body)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t)
	c := newClient(t, true)

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"unknown invocation", http.MethodGet, "/v1/invocations/nope", http.StatusNotFound, "invocation.not_found", "message"},
		{"unknown route", http.MethodGet, "/v1/runs/x", http.StatusNotFound, "route.not_found", "error"},
		{"empty id", http.MethodGet, "/v1/invocations/", http.StatusNotFound, "route.not_found", "error"},
		{"method not in spec", http.MethodPost, "/v1/invocations/nope", http.StatusMethodNotAllowed, "method.not_allowed", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := do(t, c, t.Context(), tt.method, srv.URL+tt.path, "Bearer "+srv.APIKey())
			if err != nil {
				t.Fatal(err)
			}
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body: %s", r.status, tt.wantStatus, r.body)
			}
			e := decodeError(t, r)
			if e.Code != tt.wantCode {
				t.Errorf("code = %q, want %q", e.Code, tt.wantCode)
			}
			var text *string
			switch tt.wantField {
			case "message":
				text = e.Message
			case "error":
				text = e.Error
			}
			if text == nil || *text == "" {
				t.Errorf("want the text in %q; body: %s", tt.wantField, r.body)
			}
		})
	}
}

func TestScript(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t)
	c := newClient(t, true)
	id := uuidOf("script")
	inv := bctrltest.NewInvocation(id)
	srv.Script(id,
		inv,
		bctrltest.Running(inv, 1, 2, "opening page"),
		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil), bctrltest.OKStep(1, "page.title", "Shop")),
	)

	// A rejected request does not advance the script.
	r, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/v1/invocations/"+id, "Bearer wrong")
	if err != nil || r.status != http.StatusUnauthorized {
		t.Fatalf("unauthorized GET: status %d, err %v", r.status, err)
	}

	var got []string
	for range 5 {
		got = append(got, status(t, get(t, c, srv, id)))
	}
	want := []string{"queued", "running", "succeeded", "succeeded", "succeeded"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses per poll (-want +got):\n%s", diff)
	}
	if n := srv.RequestCount(id); n != 6 {
		t.Errorf("RequestCount = %d, want 6", n)
	}

	// Set replaces the script.
	srv.Set(bctrltest.Cancelled(inv))
	if got := status(t, get(t, c, srv, id)); got != "cancelled" {
		t.Errorf("after Set: status = %q, want cancelled", got)
	}

	// Remove forgets it: 404, as for an id never registered; removing it
	// again does nothing.
	srv.Remove(id)
	srv.Remove(id)
	if r := get(t, c, srv, id); r.status != http.StatusNotFound || decodeError(t, r).Code != "invocation.not_found" {
		t.Errorf("after Remove: status %d, body %s; want 404 invocation.not_found", r.status, r.body)
	}
	srv.Add(inv) // Add accepts the id again
	if got := status(t, get(t, c, srv, id)); got != "queued" {
		t.Errorf("Add after Remove: status = %q, want queued", got)
	}
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := bctrltest.NewServer(t, bctrltest.WithClock(clock.Now))
	c := newClient(t, true)
	id := uuidOf("timed")
	inv := bctrltest.NewInvocation(id)
	clock.Add(time.Hour) // Advance counts from when it is called, not from server start.
	srv.Advance(id, 10*time.Second,
		inv,
		bctrltest.Running(inv, 1, 1, "working"),
		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil)),
	)

	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "queued"},
		{0, "queued"}, // polling alone does not advance time
		{9 * time.Second, "queued"},
		{time.Second, "running"},
		{10 * time.Second, "succeeded"},
		{time.Hour, "succeeded"},
	}
	for i, s := range steps {
		clock.Add(s.advance)
		if got := status(t, get(t, c, srv, id)); got != s.want {
			t.Errorf("poll %d: status = %q, want %q", i, got, s.want)
		}
	}
}

// TestAdvanceStampNow serves each state with the times its timeline went
// through on the server's clock: started when the first running state
// became current, a heartbeat when the current state did, finished when
// the end did (however late it is asked for), and nothing in the future.
// Advance without it keeps the builders' stamps.
func TestAdvanceStampNow(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := bctrltest.NewServer(t, bctrltest.WithClock(clock.Now))
	c := newClient(t, true)
	id, plain := uuidOf("stamped"), uuidOf("builder stamps")
	inv := bctrltest.NewInvocation(id)
	states := []bctrltest.Invocation{
		inv,
		bctrltest.Running(inv, 1, 2, "opening page"),
		bctrltest.Running(inv, 2, 2, "clicking"),
		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil), bctrltest.OKStep(1, "page.click", nil)),
	}
	t0 := clock.Now()
	srv.AdvanceWith(id, 10*time.Second, states, bctrltest.StampNow())
	srv.Advance(plain, 10*time.Second, states...)

	at := func(d time.Duration) string { return t0.Add(d).UTC().Format(time.RFC3339Nano) }
	text := func(ts client.Timestamp) string {
		if ts.IsZero() {
			return "-"
		}
		return ts.UTC().Format(time.RFC3339Nano)
	}
	for _, tt := range []struct {
		clock                              time.Duration
		status                             string
		started, heartbeat, finished, took string
	}{
		{5 * time.Second, "queued", "-", "-", "-", "-"},
		{15 * time.Second, "running", at(10 * time.Second), at(10 * time.Second), "-", "-"},
		{29 * time.Second, "running", at(10 * time.Second), at(20 * time.Second), "-", "-"},
		{31 * time.Second, "succeeded", at(10 * time.Second), at(30 * time.Second), at(30 * time.Second), "20000"},
		{time.Hour, "succeeded", at(10 * time.Second), at(30 * time.Second), at(30 * time.Second), "20000"},
	} {
		clock.Add(tt.clock - clock.Now().Sub(t0))
		got := decodeInvocation(t, get(t, c, srv, id))
		took := "-"
		if got.DurationMs != nil {
			took = fmt.Sprint(*got.DurationMs)
		}
		if string(got.Status) != tt.status || text(got.CreatedAt) != at(0) || text(got.StartedAt) != tt.started ||
			text(got.LastHeartbeatAt) != tt.heartbeat || text(got.FinishedAt) != tt.finished || took != tt.took {
			t.Errorf("at +%v: %s created %s started %s heartbeat %s finished %s took %s; want %s created %s started %s heartbeat %s finished %s took %s",
				tt.clock, got.Status, text(got.CreatedAt), text(got.StartedAt), text(got.LastHeartbeatAt), text(got.FinishedAt), took,
				tt.status, at(0), tt.started, tt.heartbeat, tt.finished, tt.took)
		}
		for _, ts := range []client.Timestamp{got.CreatedAt, got.StartedAt, got.LastHeartbeatAt, got.FinishedAt} {
			if ts.After(clock.Now()) {
				t.Errorf("at +%v: a stamp %v is later than the server's clock", tt.clock, ts)
			}
		}
		if b := decodeInvocation(t, get(t, c, srv, plain)); !b.CreatedAt.Time.Equal(inv.CreatedAt.Time) {
			t.Errorf("Advance without StampNow: created %v, want the builders' %v", b.CreatedAt, inv.CreatedAt)
		}
	}

	cancelled := bctrltest.NewInvocation(uuidOf("cancelled"))
	clock.Add(time.Minute)
	t1 := clock.Now()
	srv.AdvanceWith(cancelled.ID, time.Second, []bctrltest.Invocation{cancelled, bctrltest.Running(cancelled, 1, 1, ""), bctrltest.Cancelled(cancelled)}, bctrltest.StampNow())
	clock.Add(time.Minute)
	got := decodeInvocation(t, get(t, c, srv, cancelled.ID))
	if want := t1.Add(2 * time.Second); got.Status != "cancelled" || !got.FinishedAt.Time.Equal(want) || !got.CancelRequestedAt.Time.Equal(want) || !got.StartedAt.Time.Equal(t1.Add(time.Second)) {
		t.Errorf("cancelled: %s started %v cancel requested %v finished %v; want started %v, the other two %v",
			got.Status, got.StartedAt, got.CancelRequestedAt, got.FinishedAt, t1.Add(time.Second), want)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault bctrltest.Fault
		check func(t *testing.T, r response, err error)
	}{
		{
			name:  "status with retry-after",
			fault: bctrltest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"},
			check: func(t *testing.T, r response, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
					t.Fatalf("status %d, Retry-After %q; want 429 and \"2\"", r.status, r.header.Get("Retry-After"))
				}
				if e := decodeError(t, r); e.Code == "" || e.Error == nil {
					t.Errorf("want a bctrl-style error body, got %s", r.body)
				}
			},
		},
		{
			name:  "custom body",
			fault: bctrltest.Fault{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>", ContentType: "text/html"},
			check: func(t *testing.T, r response, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if r.status != http.StatusBadGateway || r.header.Get("Content-Type") != "text/html" || string(r.body) != "<html>bad gateway</html>" {
					t.Fatalf("got %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
				}
				if r.header.Get("X-Request-Id") == "" {
					t.Error("faulted response has no x-request-id")
				}
			},
		},
		{
			name:  "malformed",
			fault: bctrltest.Fault{Malformed: true},
			check: func(t *testing.T, r response, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if r.status != http.StatusOK || json.Valid(r.body) {
					t.Fatalf("want 200 with invalid JSON, got %d %s", r.status, r.body)
				}
				if err := spectest.ValidateInvocation(t, r.status, r.header, r.body); err == nil {
					t.Error("the spec validator accepts the malformed body")
				}
			},
		},
		{
			name:  "latency then normal answer",
			fault: bctrltest.Fault{Latency: 50 * time.Millisecond},
			check: func(t *testing.T, r response, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if r.status != http.StatusOK {
					t.Fatalf("status = %d, want 200", r.status)
				}
				mustValidate(t, r)
			},
		},
		{
			name:  "drop",
			fault: bctrltest.Fault{Drop: true},
			check: func(t *testing.T, r response, err error) {
				if err == nil {
					t.Fatalf("want a transport error, got status %d", r.status)
				}
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("want a closed connection, got a timeout: %v", err)
				}
			},
		},
		{
			name:  "hang until the request times out",
			fault: bctrltest.Fault{Hang: true},
			check: func(t *testing.T, r response, err error) {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want context.DeadlineExceeded", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := bctrltest.NewServer(t)
			id := uuidOf("fault")
			srv.Add(bctrltest.NewInvocation(id))
			srv.Fault(id, tt.fault)
			// No keep-alive: net/http would transparently retry a dropped
			// request on a reused connection.
			c := newClient(t, false)
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			r, err := do(t, c, ctx, http.MethodGet, srv.URL+"/v1/invocations/"+id, "Bearer "+srv.APIKey())
			if tt.fault.Latency > 0 && time.Since(start) < tt.fault.Latency {
				t.Errorf("answered after %v, want at least %v", time.Since(start), tt.fault.Latency)
			}
			tt.check(t, r, err)
			if n := srv.RequestCount(id); n != 1 {
				t.Errorf("RequestCount = %d, want 1", n)
			}
		})
	}
}

func TestFaultOrderAndScope(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t)
	a, b := uuidOf("a"), uuidOf("b")
	srv.Add(bctrltest.NewInvocation(a))
	srv.Add(bctrltest.NewInvocation(b))
	srv.Fault(a, bctrltest.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	srv.Fault("", bctrltest.Fault{Status: http.StatusTooManyRequests, Times: 1})
	c := newClient(t, true)

	polls := []struct {
		id   string
		want int
	}{
		{b, http.StatusTooManyRequests}, // the id-less fault matches any request
		{a, http.StatusServiceUnavailable},
		{a, http.StatusServiceUnavailable},
		{a, http.StatusOK},
		{b, http.StatusOK},
	}
	for i, p := range polls {
		if got := get(t, c, srv, p.id).status; got != p.want {
			t.Errorf("poll %d (%s): status = %d, want %d", i, p.id, got, p.want)
		}
	}
}

func TestFaultForeverOnUnknownRoute(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t)
	srv.Fault("", bctrltest.Fault{Status: http.StatusInternalServerError})
	c := newClient(t, true)
	for i := range 3 {
		r, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/anything", "")
		if err != nil {
			t.Fatal(err)
		}
		if r.status != http.StatusInternalServerError {
			t.Fatalf("request %d: status = %d, want 500", i, r.status)
		}
	}
}

func TestHangReleasedByClose(t *testing.T) {
	t.Parallel()
	srv, err := bctrltest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.Fault("", bctrltest.Fault{Hang: true})
	c := newClient(t, false)

	done := make(chan error, 1)
	go func() {
		_, err := do(t, c, context.Background(), http.MethodGet, srv.URL+"/v1/invocations/x", "Bearer "+srv.APIKey())
		done <- err
	}()
	// Wait until the request is being held.
	for srv.RequestCount("x") == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("hung request got a response, want a transport error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
	<-closed
}

func TestRequests(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := bctrltest.NewServer(t, bctrltest.WithClock(clock.Now), bctrltest.WithBasePath("/api"))
	id := uuidOf("log")
	srv.Add(bctrltest.NewInvocation(id))
	c := newClient(t, true)

	get(t, c, srv, id)
	clock.Add(time.Minute)
	get(t, c, srv, id)
	get(t, c, srv, "other")

	reqs := srv.Requests()
	type row struct{ Method, Path, ID, Auth string }
	var got []row
	for _, r := range reqs {
		got = append(got, row{r.Method, r.Path, r.ID, r.Header.Get("Authorization")})
	}
	want := []row{
		{"GET", "/api/v1/invocations/" + id, id, "Bearer [redacted]"},
		{"GET", "/api/v1/invocations/" + id, id, "Bearer [redacted]"},
		{"GET", "/api/v1/invocations/other", "other", "Bearer [redacted]"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request log (-want +got):\n%s", diff)
	}
	if len(reqs) == 3 && !reqs[1].At.Equal(reqs[0].At.Add(time.Minute)) {
		t.Errorf("At = %v then %v, want one minute apart on the injected clock", reqs[0].At, reqs[1].At)
	}
	for _, rc := range []struct {
		id   string
		want int
	}{{id, 2}, {"other", 1}, {strings.ToUpper(id), 0}, {"", 0}} {
		if n := srv.RequestCount(rc.id); n != rc.want {
			t.Errorf("RequestCount(%q) = %d, want %d", rc.id, n, rc.want)
		}
	}

	// The log is a copy.
	reqs[0].Header.Set("Authorization", "leak")
	if got := srv.Requests()[0].Header.Get("Authorization"); got != "Bearer [redacted]" {
		t.Errorf("Requests shares headers with the caller: %q", got)
	}
}

func TestBasePath(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t, bctrltest.WithBasePath("/api/v2/"))
	id := uuidOf("base-path")
	srv.Add(bctrltest.NewInvocation(id))
	c := newClient(t, true)

	if !strings.HasSuffix(srv.URL, "/api/v2") {
		t.Fatalf("URL = %q, want it to end with /api/v2", srv.URL)
	}
	if got := status(t, get(t, c, srv, id)); got != "queued" {
		t.Errorf("status = %q, want queued", got)
	}
	// A client that drops the prefix gets a 404.
	root := strings.TrimSuffix(srv.URL, "/api/v2")
	r, err := do(t, c, t.Context(), http.MethodGet, root+"/v1/invocations/"+id, "Bearer "+srv.APIKey())
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusNotFound || decodeError(t, r).Code != "route.not_found" {
		t.Errorf("GET without the base path: status %d body %s, want 404 route.not_found", r.status, r.body)
	}
}

// TestIDsKept checks that the fake keeps the ids users give, UUIDs or not:
// a GET finds the invocation registered under exactly the id in its path.
// These bodies are not validated: the spec says ids are UUIDs.
func TestIDsKept(t *testing.T) {
	t.Parallel()
	if got := bctrltest.NewInvocation("inv-1").ID; got != "inv-1" {
		t.Errorf(`NewInvocation("inv-1").ID = %q, want "inv-1"`, got)
	}
	srv := bctrltest.NewServer(t)
	c := newClient(t, true)
	srv.Add(bctrltest.NewInvocation("inv-1"))
	anon := bctrltest.NewInvocation("not used")
	anon.ID = "" // Script and Advance give it the id they register
	srv.Script("order 42/a", anon, bctrltest.Running(anon, 1, 2, ""))
	srv.Advance("inv-advance", time.Hour, anon)

	tests := []struct {
		name   string
		path   string
		wantID string // "" for a 404
	}{
		{"Add", "inv-1", "inv-1"},
		{"ids are case-sensitive", "INV-1", ""},
		{"Script, escaped in the path", url.PathEscape("order 42/a"), "order 42/a"},
		{"Advance", "inv-advance", "inv-advance"},
		{"the id the state was built with is not registered", "not%20used", ""},
	}
	for _, tt := range tests {
		r, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/v1/invocations/"+tt.path, "Bearer "+srv.APIKey())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.wantID == "" {
			if r.status != http.StatusNotFound || decodeError(t, r).Code != "invocation.not_found" {
				t.Errorf("%s: GET %s: status %d body %s, want 404 invocation.not_found", tt.name, tt.path, r.status, r.body)
			}
			continue
		}
		if got := decodeInvocation(t, r).ID; got != tt.wantID {
			t.Errorf("%s: GET %s: id = %q, want %q", tt.name, tt.path, got, tt.wantID)
		}
		if n := srv.RequestCount(tt.wantID); n != 1 {
			t.Errorf("%s: RequestCount(%q) = %d, want 1", tt.name, tt.wantID, n)
		}
	}
}

func TestBuildersValidate(t *testing.T) {
	t.Parallel()
	base := bctrltest.NewInvocation(uuidOf("build"))
	diag := bctrltest.NewDiagnostic("unknown-call",
		bctrltest.Fix("Use page.click", "bctrl fix --call page.click"),
		bctrltest.Fix("Read the docs", ""),
	)
	failed := bctrltest.WithDiagnostic(
		bctrltest.ErrStep(1, "page.clik", "UNKNOWN_CALL", "unknown call page.clik", "did you mean page.click?"), diag)
	quota := gen.ErrorInfo{
		Code:    "quota.exceeded",
		Message: "runtime quota exceeded",
		Details: map[string]json.RawMessage{"limit": json.RawMessage(`5`), "window": json.RawMessage(`"1h"`)},
	}

	tests := []struct {
		name       string
		inv        gen.Invocation
		wantStatus string
	}{
		{"queued", base, "queued"},
		{"running", bctrltest.Running(base, 2, 5, "clicking"), "running"},
		{"running without message", bctrltest.Running(base, 0, 0, ""), "running"},
		{"succeeded", bctrltest.Succeeded(base, bctrltest.OKStep(0, "page.goto", map[string]any{"url": "https://example.com"}), bctrltest.OKStep(1, "title", "Shop")), "succeeded"},
		{"succeeded without steps", bctrltest.Succeeded(base), "succeeded"},
		{"succeeded after running", bctrltest.Succeeded(bctrltest.Running(base, 4, 4, "x"), bctrltest.OKStep(0, "page.goto", nil)), "succeeded"},
		{"failed", bctrltest.Failed(bctrltest.Running(base, 1, 2, ""), "step 1 failed", bctrltest.OKStep(0, "page.goto", nil), failed), "failed"},
		{"failed plain step", bctrltest.Failed(base, "boom", bctrltest.ErrStep(0, "page.goto", "TIMEOUT", "timed out", "")), "failed"},
		{"failed with a code", bctrltest.FailedWith(base, quota), "failed"},
		{"cancelled", bctrltest.Cancelled(base), "cancelled"},
		{"cancelled while running", bctrltest.Cancelled(bctrltest.Running(base, 3, 5, "")), "cancelled"},
		{"timed out", bctrltest.TimedOut(base, bctrltest.OKStep(0, "page.goto", nil)), "timed_out"},
	}
	srv := bctrltest.NewServer(t)
	c := newClient(t, true)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := uuidOf(fmt.Sprintf("build-%d", i))
			tt.inv.ID = id
			srv.Add(tt.inv)
			r := get(t, c, srv, id) // validates against the spec
			if got := status(t, r); got != tt.wantStatus {
				t.Errorf("status = %q, want %q", got, tt.wantStatus)
			}
		})
	}
}

// TestEncoding checks that encoding/json encodes builder output with every
// field the spec requires, and leaves out the optional fields a state does
// not have (zero times, empty strings, nil objects) rather than sending
// them as "" or null.
func TestEncoding(t *testing.T) {
	t.Parallel()
	schema := spectest.Load(t).Components.Schemas["invocations_get_Response_200"]
	if schema == nil || len(schema.Value.Required) == 0 {
		t.Fatal("spec has no required fields for invocations_get_Response_200")
	}
	required := schema.Value.Required

	base := bctrltest.NewInvocation(uuidOf("encoding"))
	finished := []string{"startedAt", "lastHeartbeatAt", "finishedAt", "durationMs"}
	tests := []struct {
		name  string
		inv   gen.Invocation
		extra []string // the optional fields present
	}{
		{"queued", base, nil},
		{"running", bctrltest.Running(base, 1, 2, "x"), []string{"startedAt", "lastHeartbeatAt", "progress"}},
		{"succeeded", bctrltest.Succeeded(bctrltest.Running(base, 1, 1, ""), bctrltest.OKStep(0, "page.goto", nil)), append(finished, "result")},
		{"failed", bctrltest.Failed(base, "boom", bctrltest.ErrStep(0, "page.goto", "TIMEOUT", "timed out", "")), append(finished, "result", "error")},
		{"timed out", bctrltest.TimedOut(base), append(finished, "result", "error")},
		{"cancelled", bctrltest.Cancelled(bctrltest.Running(base, 1, 2, "x")), append(finished, "cancelRequestedAt")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, err := json.Marshal(tt.inv)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(body, &fields); err != nil {
				t.Fatal(err)
			}
			var got []string
			for k := range fields {
				got = append(got, k)
			}
			want := append(slices.Clone(required), tt.extra...)
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s\nbody: %s", diff, body)
			}
			if err := spectest.ValidateInvocation(t, http.StatusOK, nil, body); err != nil {
				t.Errorf("body does not match the spec: %v\nbody: %s", err, body)
			}
		})
	}
}

func TestBuilderDetails(t *testing.T) {
	t.Parallel()
	inv := bctrltest.NewInvocation("inv-1")
	if diff := cmp.Diff(inv, bctrltest.NewInvocation("inv-1")); diff != "" {
		t.Errorf("NewInvocation is not deterministic:\n%s", diff)
	}
	ids := map[string]bool{inv.ID: true, inv.RunID: true, inv.RuntimeID: true, inv.SpaceID: true}
	if len(ids) != 4 {
		t.Errorf("id, runId, runtimeId and spaceId are not distinct: %v", ids)
	}
	other := bctrltest.NewInvocation("inv-2")
	for name, v := range map[string][2]string{
		"runId":     {inv.RunID, other.RunID},
		"runtimeId": {inv.RuntimeID, other.RuntimeID},
		"spaceId":   {inv.SpaceID, other.SpaceID},
	} {
		if u, err := uuid.Parse(v[0]); err != nil || u.Version() != 5 || u.String() != v[0] {
			t.Errorf("%s = %q, want a canonical version 5 UUID", name, v[0])
		}
		if v[0] == v[1] {
			t.Errorf("%s = %q for two ids, want it derived from the id", name, v[0])
		}
	}

	// Builders do not modify their argument.
	before := bctrltest.NewInvocation("inv-1")
	_ = bctrltest.Failed(bctrltest.Running(inv, 1, 3, "x"), "boom")
	if diff := cmp.Diff(before, inv); diff != "" {
		t.Errorf("builders modified their argument:\n%s", diff)
	}

	done := bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", "ok"), bctrltest.OKStep(1, "title", nil))
	wantResolved := []gen.ResolvedTarget{
		{Call: "page.goto", Target: "page", Method: "goto", RuntimeID: inv.RuntimeID},
		{Call: "title", Target: "runtime", Method: "title", RuntimeID: inv.RuntimeID},
	}
	for i, want := range wantResolved {
		s, err := done.Result.Steps[i].AsStepSuccess()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, s.Resolved); diff != "" {
			t.Errorf("step %d: resolved (-want +got):\n%s", i, diff)
		}
	}

	step := bctrltest.WithDiagnostic(bctrltest.ErrStep(2, "page.clik", "UNKNOWN_CALL", "unknown", "hint"),
		bctrltest.NewDiagnostic("unknown-call", bctrltest.Fix("Use page.click", "")))
	f, err := step.AsStepFailure()
	if err != nil {
		t.Fatal(err)
	}
	want := gen.StepFailure{
		Call:  "page.clik",
		Index: 2,
		Error: gen.StepError{
			Code:    gen.StepErrorCodeUNKNOWNCALL,
			Message: "unknown",
			Hint:    "hint",
			Diagnostic: &gen.Diagnostic{
				ID:    "unknown-call",
				Call:  "page.clik",
				Fixes: []gen.Fix{{Title: "Use page.click"}},
			},
		},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("failed step (-want +got):\n%s", diff)
	}
	d := bctrltest.NewDiagnostic("unknown-call")
	d.Call = "page.dblclik"
	f, err = bctrltest.WithDiagnostic(step, d).AsStepFailure()
	if err != nil {
		t.Fatal(err)
	}
	if f.Error.Diagnostic == nil || f.Error.Diagnostic.Call != "page.dblclik" {
		t.Errorf("WithDiagnostic replaced the diagnostic's own call: %+v", f.Error.Diagnostic)
	}
}

func TestOKStepResult(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		result any
		want   string
	}{
		{"nil", nil, `null`},
		{"string", "Shop", `"Shop"`},
		{"object", map[string]any{"n": 1}, `{"n":1}`},
		{"raw JSON", json.RawMessage(`[1, 2]`), `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := bctrltest.OKStep(0, "page.eval", tt.result).AsStepSuccess()
			if err != nil {
				t.Fatal(err)
			}
			if string(s.Result) != tt.want || !s.OK {
				t.Errorf("result = %s, ok = %v; want %s, true", s.Result, s.OK, tt.want)
			}
		})
	}

	for _, bad := range []any{make(chan int), json.RawMessage(`{`)} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, `bctrltest: OKStep(3, "page.eval"): encode result`) {
					t.Errorf("OKStep(%T): panic %q, want one that names the step and the encoding error", bad, msg)
				}
			}()
			bctrltest.OKStep(3, "page.eval", bad)
		}()
	}
}

func TestFailedWith(t *testing.T) {
	t.Parallel()
	id := uuidOf("failed-with")
	base := bctrltest.NewInvocation(id)
	details := map[string]json.RawMessage{"limit": json.RawMessage(`5`)}
	inv := bctrltest.FailedWith(base,
		gen.ErrorInfo{Code: "quota.exceeded", Message: "runtime quota exceeded", Details: details},
		bctrltest.ErrStep(0, "page.goto", "CAPABILITY_NOT_AVAILABLE", "no runtime", ""))
	details["limit"] = json.RawMessage(`6`) // the invocation keeps its own copy

	srv := bctrltest.NewServer(t)
	srv.Add(inv)
	got := decodeInvocation(t, get(t, newClient(t, true), srv, id))
	want := &gen.ErrorInfo{
		Code:    "quota.exceeded",
		Message: "runtime quota exceeded",
		Details: map[string]json.RawMessage{"limit": json.RawMessage(`5`)},
	}
	if diff := cmp.Diff(want, got.Error); diff != "" {
		t.Errorf("served error (-want +got):\n%s", diff)
	}
	if got.Status != gen.StatusFailed || got.Result == nil || got.Result.OK || len(got.Result.Steps) != 1 {
		t.Errorf("status %q, result %+v; want failed with one step, not ok", got.Status, got.Result)
	}

	// Failed is the message-only shortcut: no code.
	if diff := cmp.Diff(&gen.ErrorInfo{Message: "boom"}, bctrltest.Failed(base, "boom").Error); diff != "" {
		t.Errorf("Failed error (-want +got):\n%s", diff)
	}
}

// TestTimestampsOrdered checks every builder's stamps, alone and chained:
// createdAt <= startedAt <= lastHeartbeatAt <= finishedAt.
func TestTimestampsOrdered(t *testing.T) {
	t.Parallel()
	base := bctrltest.NewInvocation(uuidOf("times"))
	late := base
	late.CreatedAt = client.Timestamp{Time: time.Date(2026, 5, 1, 8, 30, 0, 123e6, time.UTC)}
	early := base
	early.StartedAt = client.Timestamp{Time: base.CreatedAt.Add(-time.Hour)} // before createdAt: replaced

	tests := []struct {
		name  string
		inv   gen.Invocation
		after gen.Invocation // an earlier state: inv's stamps are not before its heartbeat
	}{
		{name: "queued", inv: base},
		{name: "running", inv: bctrltest.Running(base, 3, 5, "x")},
		{name: "running step 0", inv: bctrltest.Running(base, 0, 0, "")},
		{name: "running negative step", inv: bctrltest.Running(base, -1, 2, "")},
		{name: "succeeded", inv: bctrltest.Succeeded(base, bctrltest.OKStep(0, "a.b", nil), bctrltest.OKStep(1, "a.c", nil))},
		{
			name:  "succeeded after a long run",
			inv:   bctrltest.Succeeded(bctrltest.Running(base, 9, 9, ""), bctrltest.OKStep(0, "a.b", nil)),
			after: bctrltest.Running(base, 9, 9, ""),
		},
		{
			name:  "failed after running",
			inv:   bctrltest.Failed(bctrltest.Running(base, 4, 4, ""), "boom", bctrltest.ErrStep(0, "a.b", "TIMEOUT", "t", "")),
			after: bctrltest.Running(base, 4, 4, ""),
		},
		{name: "timed out", inv: bctrltest.TimedOut(bctrltest.Running(base, 3, 3, ""))},
		{
			name:  "cancelled while running",
			inv:   bctrltest.Cancelled(bctrltest.Running(base, 7, 10, "")),
			after: bctrltest.Running(base, 7, 10, ""),
		},
		{name: "running after cancelled", inv: bctrltest.Running(bctrltest.Cancelled(base), 1, 1, "")},
		{name: "later createdAt", inv: bctrltest.Succeeded(bctrltest.Running(late, 2, 2, ""))},
		{name: "startedAt before createdAt", inv: bctrltest.Running(early, 1, 1, "")},
		{name: "from a zero invocation", inv: bctrltest.Succeeded(gen.Invocation{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := tt.inv
			if inv.CreatedAt.IsZero() {
				t.Fatal("no createdAt")
			}
			stamps := []struct {
				name string
				at   time.Time
			}{
				{"createdAt", inv.CreatedAt.Time},
				{"startedAt", inv.StartedAt.Time},
				{"lastHeartbeatAt", inv.LastHeartbeatAt.Time},
				{"finishedAt", inv.FinishedAt.Time},
			}
			prev := stamps[0]
			for _, s := range stamps[1:] {
				if s.at.IsZero() {
					continue
				}
				if s.at.Before(prev.at) {
					t.Errorf("%s %v is before %s %v", s.name, s.at, prev.name, prev.at)
				}
				prev = s
			}
			if inv.Status != gen.StatusQueued && inv.StartedAt.IsZero() {
				t.Errorf("status %s without startedAt", inv.Status)
			}
			if at := inv.CancelRequestedAt; !at.IsZero() && (at.Before(inv.StartedAt.Time) || at.After(inv.FinishedAt.Time)) {
				t.Errorf("cancelRequestedAt %v is not between startedAt %v and finishedAt %v", at, inv.StartedAt, inv.FinishedAt)
			}
			if !inv.FinishedAt.IsZero() {
				if want := int(inv.FinishedAt.Sub(inv.StartedAt.Time).Milliseconds()); inv.DurationMs == nil || *inv.DurationMs != want {
					t.Errorf("durationMs = %v, want %d", inv.DurationMs, want)
				}
			} else if inv.DurationMs != nil || !inv.CancelRequestedAt.IsZero() {
				t.Errorf("unfinished, with durationMs %v and cancelRequestedAt %v", inv.DurationMs, inv.CancelRequestedAt)
			}
			if hb := tt.after.LastHeartbeatAt; !hb.IsZero() && inv.FinishedAt.Before(hb.Time) {
				t.Errorf("finishedAt %v is before the heartbeat %v of the state it follows", inv.FinishedAt, hb)
			}
		})
	}
}

// TestHeartbeatNeverInFuture checks that the server caps a heartbeat that
// lies after its clock's now, without changing the registered state.
func TestHeartbeatNeverInFuture(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	base := bctrltest.NewInvocation(uuidOf("heartbeat"))
	base.CreatedAt = client.Timestamp{Time: created} // created at the server's now, as a demo does
	running := bctrltest.Running(base, 3, 3, "")     // started at +1s, heartbeat at +4s
	done := bctrltest.Succeeded(running)             // finished, with its heartbeat, at +4s

	const omitted = -1
	tests := []struct {
		name string
		inv  gen.Invocation
		at   time.Duration // the server's now, after created
		want time.Duration // the heartbeat served, after created, or omitted
	}{
		{"queued has none", base, 0, omitted},
		{"before startedAt", running, 500 * time.Millisecond, omitted},
		{"at startedAt", running, time.Second, time.Second},
		{"between startedAt and the heartbeat", running, 2500 * time.Millisecond, 2500 * time.Millisecond},
		{"at the heartbeat", running, 4 * time.Second, 4 * time.Second},
		{"after the heartbeat", running, time.Hour, 4 * time.Second},
		{"finished in the future", done, 2 * time.Second, 2 * time.Second},
		{"finished in the past", done, time.Minute, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{now: created.Add(tt.at)}
			srv := bctrltest.NewServer(t, bctrltest.WithClock(clock.Now))
			srv.Add(tt.inv)
			r := get(t, newClient(t, true), srv, tt.inv.ID) // validates against the spec
			got := decodeInvocation(t, r)
			if tt.want == omitted {
				if bytes.Contains(r.body, []byte(`"lastHeartbeatAt"`)) {
					t.Errorf("served a heartbeat; body: %s", r.body)
				}
			} else if want := created.Add(tt.want); !got.LastHeartbeatAt.Time.Equal(want) {
				t.Errorf("lastHeartbeatAt = %v, want %v", got.LastHeartbeatAt, want)
			}
			if got.LastHeartbeatAt.After(clock.Now()) {
				t.Errorf("lastHeartbeatAt %v is after the server's now %v", got.LastHeartbeatAt, clock.Now())
			}
			if !got.StartedAt.Equal(tt.inv.StartedAt) || !got.FinishedAt.Equal(tt.inv.FinishedAt) {
				t.Errorf("startedAt %v, finishedAt %v; want them served as built", got.StartedAt, got.FinishedAt)
			}

			// The cap applies at serve time: the registered state keeps its
			// heartbeat, served in full once the clock passes it.
			clock.Add(24 * time.Hour)
			if got := decodeInvocation(t, get(t, newClient(t, true), srv, tt.inv.ID)); !got.LastHeartbeatAt.Equal(tt.inv.LastHeartbeatAt) {
				t.Errorf("later: lastHeartbeatAt = %v, want %v as built", got.LastHeartbeatAt, tt.inv.LastHeartbeatAt)
			}
		})
	}
}

func TestMisusePanics(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t)
	srv.Add(bctrltest.NewInvocation("dup"))
	tests := []struct {
		name string
		f    func()
	}{
		{"Add twice", func() { srv.Add(bctrltest.NewInvocation("dup")) }},
		{"Add without id", func() { srv.Add(gen.Invocation{CreatedAt: client.Timestamp{Time: time.Now()}}) }},
		{"Add without createdAt", func() { srv.Add(gen.Invocation{ID: "bare"}) }},
		{"Set without id", func() { srv.Set(gen.Invocation{CreatedAt: client.Timestamp{Time: time.Now()}}) }},
		{"Set without createdAt", func() { srv.Set(gen.Invocation{ID: "bare"}) }},
		{"Script without states", func() { srv.Script("x") }},
		{"Script with a state without createdAt", func() { srv.Script("x", bctrltest.NewInvocation("x"), gen.Invocation{}) }},
		{"Advance with zero interval", func() { srv.Advance("x", 0, bctrltest.NewInvocation("x")) }},
		{"WithDiagnostic on an ok step", func() {
			bctrltest.WithDiagnostic(bctrltest.OKStep(0, "a.b", nil), bctrltest.NewDiagnostic("d"))
		}},
		{"OKStep with a result that cannot be encoded", func() { bctrltest.OKStep(0, "a.b", func() {}) }},
		{"negative Times", func() { srv.Fault("", bctrltest.Fault{Times: -1}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the check below runs after every subtest.
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			tt.f()
		})
	}
	// A panicking Script or Set registers nothing.
	r, err := do(t, newClient(t, true), t.Context(), http.MethodGet, srv.URL+"/v1/invocations/x", "Bearer "+srv.APIKey())
	if err != nil || r.status != http.StatusNotFound {
		t.Errorf("GET x after panicking registrations: status %d, err %v; want 404", r.status, err)
	}
}

func TestStartOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     bctrltest.Option
		wantErr bool
	}{
		{"empty key", bctrltest.WithAPIKey(""), true},
		{"key with space", bctrltest.WithAPIKey("a b"), true},
		{"nil clock", bctrltest.WithClock(nil), true},
		{"relative base path", bctrltest.WithBasePath("api"), true},
		{"pattern in base path", bctrltest.WithBasePath("/{x}"), true},
		{"root base path", bctrltest.WithBasePath("/"), false},
		{"valid", bctrltest.WithAPIKey("k"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := bctrltest.Start("127.0.0.1:0", tt.opt)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Start: err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			srv.Close()
			srv.Close() // idempotent
		})
	}
	if _, err := bctrltest.Start("not-an-address"); err == nil {
		t.Error("Start with a bad address: want an error")
	}
}

func TestHandlerAndLogf(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	srv := bctrltest.NewServer(t, bctrltest.WithLogf(logf))
	id := uuidOf("logf")
	srv.Add(bctrltest.NewInvocation(id))
	if srv.Handler() == nil {
		t.Fatal("Handler is nil")
	}
	c := newClient(t, true)
	get(t, c, srv, id)

	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 1 || !strings.Contains(lines[0], "GET /v1/invocations/"+id+" -> 200 (req_") {
		t.Errorf("log lines = %q", lines)
	}
}
