package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptDoer answers each attempt with the next status of its script (the
// last one repeats) and records what it was sent. It runs in-process.
type scriptDoer struct {
	mu       sync.Mutex
	statuses []int
	sent     []*http.Request
	bodies   []string
}

func (d *scriptDoer) Do(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	d.sent = append(d.sent, req)
	d.bodies = append(d.bodies, string(body))
	status := d.statuses[min(len(d.sent), len(d.statuses))-1]
	return &http.Response{StatusCode: status, Status: http.StatusText(status),
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(`{"ok":true}`)),
		Request: req}, nil
}

func newScriptClient(t *testing.T, d *scriptDoer, opts ...Option) *Client {
	t.Helper()
	c, err := New(append([]Option{WithAPIKey("sk-pipeline-key"), WithBaseURL("http://127.0.0.1:1/api"),
		WithHTTPClient(d), WithRetryBackoff(time.Microsecond, time.Microsecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIdempotentMethodsAreRetried pins the POST-safety rule on the
// executor: GET, PUT and DELETE are idempotent and retried after a 500;
// POST and PATCH are not, unless the call carries WithIdempotencyKey or
// the server provably did not process them (503).
func TestIdempotentMethodsAreRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method   string
		first    int
		opts     []Option
		attempts int
	}{
		{http.MethodGet, 500, nil, 2},
		{http.MethodPut, 500, nil, 2},
		{http.MethodDelete, 500, nil, 2},
		{http.MethodPost, 500, nil, 1},
		{http.MethodPatch, 500, nil, 1},
		{http.MethodPost, 500, []Option{WithIdempotencyKey("create-42")}, 2},
		{http.MethodPatch, 502, []Option{WithIdempotencyKey("edit-42")}, 2},
		{http.MethodPost, 503, nil, 2},
		{http.MethodPost, 429, nil, 2},
	} {
		name := tc.method + "/" + http.StatusText(tc.first)
		if tc.opts != nil {
			name += "/idempotency-key"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := &scriptDoer{statuses: []int{tc.first, 204}}
			c := newScriptClient(t, d)
			var info ResponseInfo
			op := &operation{ID: "op", Span: "bctrl.op", Method: tc.method, Route: "/v1/things/{id}",
				Path: []string{"t-1"}, Body: map[string]int{"n": 1}}
			err := c.invokeNoBody(t.Context(), op, append(tc.opts, WithResponseInto(&info)))
			if len(d.sent) != tc.attempts || info.Attempts != tc.attempts {
				t.Fatalf("%d attempts (info %d), want %d", len(d.sent), info.Attempts, tc.attempts)
			}
			if tc.attempts == 2 && err != nil {
				t.Errorf("err = %v after a retry, want nil", err)
			}
			if tc.attempts == 1 && err == nil {
				t.Error("err = nil for a 500 not retried")
			}
			for i, b := range d.bodies {
				if b != `{"n":1}` {
					t.Errorf("attempt %d sent body %q, want the marshalled body each time", i+1, b)
				}
			}
			if tc.opts != nil && d.sent[0].Header.Get("Idempotency-Key") == "" {
				t.Error("Idempotency-Key not sent")
			}
		})
	}
}

// TestOperationRequest checks what the executor builds from an operation:
// path values escaped as one segment each, query, declared headers,
// credentials and a JSON body.
func TestOperationRequest(t *testing.T) {
	t.Parallel()
	d := &scriptDoer{statuses: []int{200}}
	c := newScriptClient(t, d, WithHeader("X-Team", "blue"))
	op := &operation{ID: "op", Span: "bctrl.op", Method: http.MethodPost, Route: "/v1/a/{x}/b/{y}",
		Path: []string{"x/1", "y 2"}, Query: url.Values{"q": {"1"}}, Header: http.Header{"X-Declared": {"d"}},
		Body: struct{ N int }{3}}
	got, err := invokeJSON[map[string]bool](t.Context(), c, op, nil)
	if err != nil || !(*got)["ok"] {
		t.Fatalf("invokeJSON = %v, %v", got, err)
	}
	req := d.sent[0]
	if p := req.URL.EscapedPath(); p != "/api/v1/a/x%2F1/b/y%202" {
		t.Errorf("path = %q", p)
	}
	for h, want := range map[string]string{"X-Declared": "d", "X-Team": "blue", "Content-Type": "application/json",
		"Authorization": "Bearer sk-pipeline-key", "Accept": "application/json"} {
		if v := req.Header.Get(h); v != want {
			t.Errorf("%s = %q, want %q", h, v, want)
		}
	}
	if req.URL.RawQuery != "q=1" || d.bodies[0] != `{"N":3}` {
		t.Errorf("query %q, body %q", req.URL.RawQuery, d.bodies[0])
	}

	// Bad input is an error before anything is sent, never a panic.
	for _, bad := range []*operation{
		{ID: "op", Method: http.MethodGet, Route: "/v1/a/{x}", Path: nil},
		{ID: "op", Method: http.MethodGet, Route: "/v1/a/{x}", Path: []string{"1", "2"}},
		{ID: "op", Method: http.MethodGet, Route: "/v1/a/{x", Path: []string{"1"}},
		{ID: "op", Method: http.MethodGet, Route: "/v1/a/{x}", Path: []string{".."}},
		{ID: "op", Method: http.MethodPost, Route: "/v1/a", Body: make(chan int)},
		{ID: "op", Method: http.MethodGet, Route: "/v1/a", Header: http.Header{"X-Team": {"declared"}}},
	} {
		n := len(d.sent)
		if err := c.invokeNoBody(t.Context(), bad, nil); err == nil || !strings.HasPrefix(err.Error(), "bctrl: ") {
			t.Errorf("%+v: err = %v, want a bctrl: error", bad, err)
		}
		if len(d.sent) != n {
			t.Errorf("%+v: a request was sent", bad)
		}
	}
}

// TestCallConfigIsACopy: a call's options change neither the client nor
// another call, and a call without options costs no copy.
func TestCallConfigIsACopy(t *testing.T) {
	t.Parallel()
	c := newScriptClient(t, &scriptDoer{statuses: []int{200}}, WithHeader("X-A", "1"))
	if cfg, err := c.callConfig(nil, false); err != nil || cfg != c.cfg {
		t.Fatalf("no options: got a copy (%v)", err)
	}
	cfg, err := c.callConfig([]Option{WithHeader("X-A", "2"), WithMaxRetries(0)}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.header.Values("X-A"); len(got) != 2 || cfg.maxRetries != 0 {
		t.Errorf("call: header %q, retries %d", got, cfg.maxRetries)
	}
	if got := c.cfg.header.Values("X-A"); len(got) != 1 || c.cfg.maxRetries != DefaultMaxRetries {
		t.Errorf("client changed by a call: header %q, retries %d", got, c.cfg.maxRetries)
	}
	if _, err := c.callConfig([]Option{WithMaxRetries(1)}, true); err == nil {
		t.Error("WaitAll's request options accepted WithMaxRetries")
	}
}

// TestExecuteNeedsNoContextWiring: the executor returns the attempts and
// the headers it saw as values; nothing comes back through the context.
func TestExecuteNeedsNoContextWiring(t *testing.T) {
	t.Parallel()
	d := &scriptDoer{statuses: []int{503, 200}}
	c := newScriptClient(t, d)
	req, err := c.newRequest(c.cfg, &operation{Method: http.MethodGet, Route: "/v1/x"})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.execute(context.Background(), call{cfg: c.cfg, req: req})
	if err != nil || ex.attempts != 2 || ex.info.Attempts != 2 || ex.resp.StatusCode != 200 || !bytes.Equal(ex.body, []byte(`{"ok":true}`)) {
		t.Fatalf("execute = %+v, %v", ex, err)
	}
	ex, err = c.execute(context.Background(), call{cfg: c.cfg, req: req, once: true})
	if err != nil || ex.attempts != 1 {
		t.Fatalf("once: %+v, %v", ex, err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// keptHeaderDoer answers with one header map it keeps, and changes it
// after the call, as a caching Doer may.
type keptHeaderDoer struct{ h http.Header }

func (d *keptHeaderDoer) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: d.h,
		Body: io.NopCloser(strings.NewReader(`{"ok":true}`)), Request: req}, nil
}

// TestResponseInfoHeaderIsACopy: the headers a ResponseInfo carries are
// checked and then owned by the SDK's user, never the Doer's map itself,
// which the Doer may change after the check (to hold the key, say).
func TestResponseInfoHeaderIsACopy(t *testing.T) {
	t.Parallel()
	d := &keptHeaderDoer{h: http.Header{"Content-Type": {"application/json"}, "X-Cache": {"hit"}}}
	c, err := New(WithAPIKey("sk-pipeline-key"), WithBaseURL("http://127.0.0.1:1/api"), WithHTTPClient(d))
	if err != nil {
		t.Fatal(err)
	}
	var info ResponseInfo
	op := &operation{ID: "op", Span: "bctrl.op", Method: http.MethodGet, Route: "/v1/a"}
	if _, err := invokeJSON[map[string]bool](t.Context(), c, op, []Option{WithResponseInto(&info)}); err != nil {
		t.Fatal(err)
	}
	d.h.Set("X-Cache", "sk-pipeline-key")
	if got := info.Header.Get("X-Cache"); got != "hit" {
		t.Errorf("ResponseInfo.Header follows the Doer's map: X-Cache = %q after the Doer changed it", got)
	}
}
