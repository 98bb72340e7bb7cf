package client

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// fakeDoer answers in-process (no socket, so a synctest bubble can advance
// time): status[i] for the i-th request, the last one repeating.
type fakeDoer struct {
	status []int
	body   string
	n      atomic.Int32
	last   atomic.Pointer[http.Request]
}

func (d *fakeDoer) Do(req *http.Request) (*http.Response, error) {
	i := int(d.n.Add(1)) - 1
	d.last.Store(req)
	st := d.status[min(i, len(d.status)-1)]
	return &http.Response{StatusCode: st, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(d.body)), Request: req}, nil
}

func newOpClient(t *testing.T, d Doer) *Client {
	t.Helper()
	c, err := New(WithAPIKey("sk-test-0123456789abcdef"), WithBaseURL("https://api.example/base"), WithHTTPClient(d))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// PUT and DELETE are idempotent, and retried after a 500; POST and PATCH
// are not (without an Idempotency-Key). A change to that rule fails here.
func TestRetryPolicyByMethod(t *testing.T) {
	for _, tt := range []struct {
		method string
		sent   int32
	}{
		{http.MethodGet, 2},
		{http.MethodPut, 2},
		{http.MethodDelete, 2},
		{http.MethodPost, 1},
		{http.MethodPatch, 1},
	} {
		t.Run(tt.method, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := &fakeDoer{status: []int{500, 204}}
				c := newOpClient(t, d)
				err := c.invokeNoBody(t.Context(), &operation{ID: "op", Span: "bctrl.test.op", Method: tt.method,
					Route: "/v1/things/{id}", Path: []string{"a"}, Body: map[string]int{"n": 1}}, nil)
				if got := d.n.Load(); got != tt.sent {
					t.Errorf("%s after a 500 was sent %d times, want %d (err %v)", tt.method, got, tt.sent, err)
				}
				if tt.sent == 2 && err != nil {
					t.Errorf("%s: %v after a retry that succeeded", tt.method, err)
				}
			})
		})
	}
}

func TestInvokeJSONAndNoBodyErrors(t *testing.T) {
	d := &fakeDoer{status: []int{404}, body: `{"code":"x.not_found","message":"gone sk-test-0123456789abcdef"}`}
	c := newOpClient(t, d)
	_, err := invokeJSON[map[string]int](t.Context(), c, &operation{ID: "op", Span: "s", Method: http.MethodGet, Route: "/v1/x"}, nil)
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "sk-test-0123456789abcdef") {
		t.Errorf("404: %v, want ErrNotFound with the key scrubbed", err)
	}
	d2 := &fakeDoer{status: []int{200}, body: `{"a":1,"b":"no"}`}
	c = newOpClient(t, d2)
	_, err = invokeJSON[map[string]int](t.Context(), c, &operation{ID: "op", Span: "s", Method: http.MethodGet, Route: "/v1/x"}, nil)
	if !errors.Is(err, ErrInvalidResponse) {
		t.Errorf("a body unlike the type: %v, want ErrInvalidResponse", err)
	}
	got, err := invokeJSON[map[string]any](t.Context(), c, &operation{ID: "op", Span: "s", Method: http.MethodGet, Route: "/v1/x"}, nil)
	if err != nil || len(*got) != 2 {
		t.Errorf("invokeJSON = %v, %v", got, err)
	}
}

func TestInvokeInvocationChecksID(t *testing.T) {
	d := &fakeDoer{status: []int{200}, body: `{"id":"other","status":"running","createdAt":"2026-01-01T00:00:00Z"}`}
	c := newOpClient(t, d)
	op := &operation{ID: "cancel", Span: "s", Method: http.MethodPost, Route: "/v1/invocations/{id}/cancel", Path: []string{"inv-1"}}
	if _, err := c.invokeInvocation(t.Context(), op, "inv-1", nil); !errors.Is(err, ErrInvalidResponse) {
		t.Errorf("another invocation's body: %v, want ErrInvalidResponse", err)
	}
	inv, err := c.invokeInvocation(t.Context(), op, "", nil)
	if err != nil || inv.ID != "other" {
		t.Errorf("no id to check: %v, %v", inv, err)
	}
}

func TestParams(t *testing.T) {
	op := &operation{ID: "list"}
	for _, p := range []struct {
		name string
		v    any
		req  bool
	}{{"status", "running", false}, {"limit", 0, false}, {"cursor", "", false}, {"tags", []string{"a", "b"}, false}, {"n", (*int)(nil), false}} {
		if err := op.addQuery(p.name, p.v, p.req, "form", true); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := op.Query.Encode(), "status=running&tags=a&tags=b"; got != want {
		t.Errorf("query %q, want %q (zero optional values not sent)", got, want)
	}
	if err := op.addQuery("must", (*int)(nil), true, "form", true); err == nil {
		t.Error("a nil required parameter: no error")
	}
	if err := op.addHeader("X-Mode", "fast", false, "simple", false); err != nil || op.Header.Get("X-Mode") != "fast" {
		t.Errorf("header: %v %v", op.Header, err)
	}
	c := newOpClient(t, &fakeDoer{status: []int{200}})
	if c.checkParamAuthorization("") != nil || c.checkParamAuthorization("Bearer sk-test-0123456789abcdef") != nil {
		t.Error("an empty or the client's own Authorization parameter was refused")
	}
	if err := c.checkParamAuthorization("Bearer sk-other"); !errors.Is(err, ErrAuthorizationParam) || strings.Contains(err.Error(), "sk-other") {
		t.Errorf("another key: %v, want ErrAuthorizationParam without the value", err)
	}
}

func TestPaging(t *testing.T) {
	if n, err := nextCursor("c1", "c2"); n != "c2" || err != nil {
		t.Errorf("nextCursor = %q, %v", n, err)
	}
	if _, err := nextCursor("c1", "c1"); !errors.Is(err, errCursorLoop) {
		t.Errorf("a repeated cursor: %v, want errCursorLoop", err)
	}
	s := "x"
	if cursorOf(&s) != "x" || cursorOf((*string)(nil)) != "" || cursorOf("y") != "y" {
		t.Error("cursorOf")
	}
	items := []Invocation{{}}
	if err := checkInvocations(items, "data"); !errors.Is(err, ErrInvalidResponse) || !strings.Contains(err.Error(), "data[0]") {
		t.Errorf("an invocation without an id: %v, want ErrInvalidResponse naming data[0]", err)
	}
}
