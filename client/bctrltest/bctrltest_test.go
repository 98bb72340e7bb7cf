package bctrltest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
	"github.com/bctrlhq/sdk-go/gen"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
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
	srv.Add(bctrltest.NewInvocation("inv-1"))
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
			r, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/v1/invocations/inv-1", tt.auth)
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
	inv := bctrltest.NewInvocation("inv-script")
	srv.Script("inv-script",
		inv,
		bctrltest.Running(inv, 1, 2, "opening page"),
		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil), bctrltest.OKStep(1, "page.title", "Shop")),
	)

	// A rejected request does not advance the script.
	r, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/v1/invocations/inv-script", "Bearer wrong")
	if err != nil || r.status != http.StatusUnauthorized {
		t.Fatalf("unauthorized GET: status %d, err %v", r.status, err)
	}

	var got []string
	for range 5 {
		got = append(got, status(t, get(t, c, srv, "inv-script")))
	}
	want := []string{"queued", "running", "succeeded", "succeeded", "succeeded"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses per poll (-want +got):\n%s", diff)
	}
	if n := srv.RequestCount("inv-script"); n != 6 {
		t.Errorf("RequestCount = %d, want 6", n)
	}

	// Set replaces the script.
	srv.Set(bctrltest.Cancelled(inv))
	if got := status(t, get(t, c, srv, "inv-script")); got != "cancelled" {
		t.Errorf("after Set: status = %q, want cancelled", got)
	}
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := bctrltest.NewServer(t, bctrltest.WithClock(clock.Now))
	c := newClient(t, true)
	inv := bctrltest.NewInvocation("inv-timed")
	clock.Add(time.Hour) // Advance counts from when it is called, not from server start.
	srv.Advance("inv-timed", 10*time.Second,
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
		if got := status(t, get(t, c, srv, "inv-timed")); got != s.want {
			t.Errorf("poll %d: status = %q, want %q", i, got, s.want)
		}
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
			srv.Add(bctrltest.NewInvocation("inv-f"))
			srv.Fault("inv-f", tt.fault)
			// No keep-alive: net/http would transparently retry a dropped
			// request on a reused connection.
			c := newClient(t, false)
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			r, err := do(t, c, ctx, http.MethodGet, srv.URL+"/v1/invocations/inv-f", "Bearer "+srv.APIKey())
			if tt.fault.Latency > 0 && time.Since(start) < tt.fault.Latency {
				t.Errorf("answered after %v, want at least %v", time.Since(start), tt.fault.Latency)
			}
			tt.check(t, r, err)
			if n := srv.RequestCount("inv-f"); n != 1 {
				t.Errorf("RequestCount = %d, want 1", n)
			}
		})
	}
}

func TestFaultOrderAndScope(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t)
	srv.Add(bctrltest.NewInvocation("a"))
	srv.Add(bctrltest.NewInvocation("b"))
	srv.Fault("a", bctrltest.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	srv.Fault("", bctrltest.Fault{Status: http.StatusTooManyRequests, Times: 1})
	c := newClient(t, true)

	polls := []struct {
		id   string
		want int
	}{
		{"b", http.StatusTooManyRequests}, // the id-less fault matches any request
		{"a", http.StatusServiceUnavailable},
		{"a", http.StatusServiceUnavailable},
		{"a", http.StatusOK},
		{"b", http.StatusOK},
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
	srv.Add(bctrltest.NewInvocation("inv-log"))
	c := newClient(t, true)

	get(t, c, srv, "inv-log")
	clock.Add(time.Minute)
	get(t, c, srv, bctrltest.UUIDFor("inv-log").String())
	get(t, c, srv, "other")

	reqs := srv.Requests()
	type row struct{ Method, Path, ID, Auth string }
	var got []row
	for _, r := range reqs {
		got = append(got, row{r.Method, r.Path, r.ID, r.Header.Get("Authorization")})
	}
	uuid := bctrltest.UUIDFor("inv-log").String()
	want := []row{
		{"GET", "/api/v1/invocations/inv-log", "inv-log", "Bearer [redacted]"},
		{"GET", "/api/v1/invocations/" + uuid, uuid, "Bearer [redacted]"},
		{"GET", "/api/v1/invocations/other", "other", "Bearer [redacted]"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request log (-want +got):\n%s", diff)
	}
	if len(reqs) == 3 && !reqs[1].At.Equal(reqs[0].At.Add(time.Minute)) {
		t.Errorf("At = %v then %v, want one minute apart on the injected clock", reqs[0].At, reqs[1].At)
	}
	if n := srv.RequestCount("inv-log"); n != 2 {
		t.Errorf("RequestCount(inv-log) = %d, want 2 (an id and its UUID are the same invocation)", n)
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
	srv.Add(bctrltest.NewInvocation("inv-b"))
	c := newClient(t, true)

	if !strings.HasSuffix(srv.URL, "/api/v2") {
		t.Fatalf("URL = %q, want it to end with /api/v2", srv.URL)
	}
	if got := status(t, get(t, c, srv, "inv-b")); got != "queued" {
		t.Errorf("status = %q, want queued", got)
	}
	// A client that drops the prefix gets a 404.
	root := strings.TrimSuffix(srv.URL, "/api/v2")
	r, err := do(t, c, t.Context(), http.MethodGet, root+"/v1/invocations/inv-b", "Bearer "+srv.APIKey())
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusNotFound || decodeError(t, r).Code != "route.not_found" {
		t.Errorf("GET without the base path: status %d body %s, want 404 route.not_found", r.status, r.body)
	}
}

func TestBuildersValidate(t *testing.T) {
	t.Parallel()
	base := bctrltest.NewInvocation("inv-build")
	diag := bctrltest.NewDiagnostic("unknown-call",
		bctrltest.Fix("Use page.click", "bctrl fix --call page.click"),
		bctrltest.Fix("Read the docs", ""),
	)
	failed := bctrltest.WithDiagnostic(
		bctrltest.ErrStep(1, "page.clik", "UNKNOWN_CALL", "unknown call page.clik", "did you mean page.click?"), diag)

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
		{"failed", bctrltest.Failed(bctrltest.Running(base, 1, 2, ""), "step 1 failed", bctrltest.OKStep(0, "page.goto", nil), failed), "failed"},
		{"failed plain step", bctrltest.Failed(base, "boom", bctrltest.ErrStep(0, "page.goto", "TIMEOUT", "timed out", "")), "failed"},
		{"cancelled", bctrltest.Cancelled(base), "cancelled"},
		{"timed out", bctrltest.TimedOut(base, bctrltest.OKStep(0, "page.goto", nil)), "timed_out"},
	}
	srv := bctrltest.NewServer(t)
	c := newClient(t, true)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := fmt.Sprintf("inv-build-%d", i)
			tt.inv.ID = bctrltest.UUIDFor(id)
			srv.Add(tt.inv)
			r := get(t, c, srv, id) // validates against the spec
			if got := status(t, r); got != tt.wantStatus {
				t.Errorf("status = %q, want %q", got, tt.wantStatus)
			}
		})
	}
}

func TestBuilderDetails(t *testing.T) {
	t.Parallel()
	inv := bctrltest.NewInvocation("inv-1")
	if inv.ID != bctrltest.UUIDFor("inv-1") || inv.ID.Version() != 5 {
		t.Errorf("ID = %v, want the version 5 UUIDFor(inv-1)", inv.ID)
	}
	if diff := cmp.Diff(inv, bctrltest.NewInvocation("inv-1")); diff != "" {
		t.Errorf("NewInvocation is not deterministic:\n%s", diff)
	}
	ids := map[string]bool{inv.ID.String(): true, inv.RunID.String(): true, inv.RuntimeID.String(): true, inv.SpaceID.String(): true}
	if len(ids) != 4 {
		t.Errorf("id, runId, runtimeId and spaceId are not distinct: %v", ids)
	}
	const real = "0b7f3c1e-5a2d-4e8b-9c61-3f2a7d4e8b10"
	if got := bctrltest.NewInvocation(real).ID.String(); got != real {
		t.Errorf("NewInvocation(uuid).ID = %s, want %s", got, real)
	}

	// Builders do not modify their argument.
	before := bctrltest.NewInvocation("inv-1")
	_ = bctrltest.Failed(bctrltest.Running(inv, 1, 3, "x"), "boom")
	if diff := cmp.Diff(before, inv); diff != "" {
		t.Errorf("builders modified their argument:\n%s", diff)
	}

	done := bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", "ok"))
	s, err := done.Result.Steps[0].AsV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems0()
	if err != nil {
		t.Fatal(err)
	}
	want := gen.ResolvedTarget{Call: "page.goto", Target: "page", Method: "goto", RuntimeID: inv.RuntimeID.String()}
	if diff := cmp.Diff(want, s.Resolved); diff != "" {
		t.Errorf("resolved (-want +got):\n%s", diff)
	}

	step := bctrltest.WithDiagnostic(bctrltest.ErrStep(2, "page.clik", "UNKNOWN_CALL", "unknown", "hint"),
		bctrltest.NewDiagnostic("unknown-call", bctrltest.Fix("Use page.click", "")))
	f, err := step.AsV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems1()
	if err != nil {
		t.Fatal(err)
	}
	d := f.Error.Diagnostic
	if d == nil || d.ID != "unknown-call" || d.Call == nil || *d.Call != "page.clik" || d.Fixes == nil || (*d.Fixes)[0].Title != "Use page.click" {
		t.Errorf("diagnostic not attached as expected: %+v", f.Error)
	}
	if f.Error.Hint == nil || *f.Error.Hint != "hint" || f.Index != 2 {
		t.Errorf("step error = %+v, index %d", f.Error, f.Index)
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
		{"Add without id", func() { srv.Add(gen.Invocation{}) }},
		{"Script without states", func() { srv.Script("x") }},
		{"Advance with zero interval", func() { srv.Advance("x", 0, bctrltest.NewInvocation("x")) }},
		{"WithDiagnostic on an ok step", func() {
			bctrltest.WithDiagnostic(bctrltest.OKStep(0, "a.b", nil), bctrltest.NewDiagnostic("d"))
		}},
		{"negative Times", func() { srv.Fault("", bctrltest.Fault{Times: -1}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			tt.f()
		})
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
	srv.Add(bctrltest.NewInvocation("inv-h"))
	if srv.Handler() == nil {
		t.Fatal("Handler is nil")
	}
	c := newClient(t, true)
	get(t, c, srv, "inv-h")

	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 1 || !strings.Contains(lines[0], "GET /v1/invocations/inv-h -> 200 (req_") {
		t.Errorf("log lines = %q", lines)
	}
}
