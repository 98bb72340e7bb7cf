package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// The tests in this file cover what the client tells its user about the
// HTTP exchanges behind a call: request ids and ResponseInfo, transport
// middleware, OpenTelemetry spans and metrics, and slog records, and that
// none of it carries the API key.

// obsID is the invocation the tests in this file read.
const obsID = "0b5e7a1e-0000-4000-8000-00000000a001"

// obsTemplate is the route every attempt span names.
const obsTemplate = "/v1/invocations/{id}"

// obsServer starts a fake API mounted under /api, so that a client that
// drops the base path fails loudly.
func obsServer(t *testing.T, opts ...bctrltest.Option) *bctrltest.Server {
	t.Helper()
	return bctrltest.NewServer(t, append([]bctrltest.Option{bctrltest.WithBasePath("/api")}, opts...)...)
}

// obsClient returns a client of srv with tiny retry backoffs; opts come
// last and override the defaults given here.
func obsClient(t *testing.T, srv *bctrltest.Server, opts ...client.Option) *client.Client {
	t.Helper()
	base := []client.Option{
		client.WithBaseURL(srv.URL),
		client.WithAPIKey(srv.APIKey()),
		client.WithRetryBackoff(time.Millisecond, 2*time.Millisecond),
	}
	c, err := client.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

// obsPoll keeps Waits fast.
var obsPoll = client.WithPollInterval(time.Millisecond, 5*time.Millisecond)

// obsReqID is the X-Request-Id bctrltest sends with its n-th answer.
func obsReqID(n int) string { return fmt.Sprintf("req_%08d", n) }

// obsFault503 is one 503 answer.
var obsFault503 = bctrltest.Fault{Status: http.StatusServiceUnavailable, Times: 1}

func TestObserveRequestID(t *testing.T) {
	t.Parallel()

	t.Run("Get after a retry", func(t *testing.T) {
		t.Parallel()
		srv := obsServer(t)
		srv.Add(bctrltest.NewInvocation(obsID))
		srv.Fault(obsID, obsFault503)
		c := obsClient(t, srv)

		var info client.ResponseInfo
		inv, err := c.Invocations.Get(client.WithResponseInfo(t.Context(), &info), obsID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if got, want := inv.RequestID(), obsReqID(2); got != want {
			t.Errorf("RequestID() = %q, want %q (the answer after the 503)", got, want)
		}
		resp := inv.Response()
		obsCheckInfo(t, "inv.Response()", resp, http.StatusOK, obsReqID(2), 2)
		obsCheckInfo(t, "WithResponseInfo", info, http.StatusOK, obsReqID(2), 2)
		if got := resp.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Response().Header Content-Type = %q, want application/json", got)
		}
	})

	t.Run("failing Get", func(t *testing.T) {
		t.Parallel()
		srv := obsServer(t)
		c := obsClient(t, srv)

		var info client.ResponseInfo
		_, err := c.Invocations.Get(client.WithResponseInfo(t.Context(), &info), obsID)
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
			t.Fatalf("Get of an unknown id: err = %v, want an *APIError with status 404", err)
		}
		obsCheckInfo(t, "WithResponseInfo", info, http.StatusNotFound, obsReqID(1), 1)
		if apiErr.RequestID != info.RequestID {
			t.Errorf("APIError.RequestID = %q, ResponseInfo.RequestID = %q; want the same", apiErr.RequestID, info.RequestID)
		}
	})

	t.Run("Raw", func(t *testing.T) {
		t.Parallel()
		srv := obsServer(t)
		srv.Add(bctrltest.NewInvocation(obsID))
		srv.Fault(obsID, obsFault503)
		c := obsClient(t, srv)

		var info client.ResponseInfo
		resp, err := c.Raw().GetInvocationWithResponse(client.WithResponseInfo(t.Context(), &info), obsID, nil)
		if err != nil {
			t.Fatalf("GetInvocationWithResponse: %v", err)
		}
		if resp.StatusCode() != http.StatusOK || resp.JSON200 == nil {
			t.Fatalf("GetInvocationWithResponse: status %d, JSON200 %v; want 200 and a body", resp.StatusCode(), resp.JSON200)
		}
		obsCheckInfo(t, "WithResponseInfo", info, http.StatusOK, obsReqID(2), 2)
		if got := resp.HTTPResponse.Header.Get("X-Request-Id"); got != info.RequestID {
			t.Errorf("response X-Request-Id = %q, ResponseInfo.RequestID = %q; want the same", got, info.RequestID)
		}
	})

	t.Run("Raw 404", func(t *testing.T) {
		t.Parallel()
		srv := obsServer(t)
		c := obsClient(t, srv)

		var info client.ResponseInfo
		resp, err := c.Raw().GetInvocationWithResponse(client.WithResponseInfo(t.Context(), &info), obsID, nil)
		if err != nil {
			t.Fatalf("GetInvocationWithResponse: %v", err)
		}
		if resp.StatusCode() != http.StatusNotFound {
			t.Fatalf("GetInvocationWithResponse: status %d, want 404", resp.StatusCode())
		}
		obsCheckInfo(t, "WithResponseInfo", info, http.StatusNotFound, obsReqID(1), 1)
	})

	t.Run("Wait holds the last poll", func(t *testing.T) {
		t.Parallel()
		srv := obsServer(t)
		inv := bctrltest.NewInvocation(obsID)
		srv.Script(obsID, inv, bctrltest.Running(inv, 1, 1, "step"), bctrltest.Succeeded(inv))
		c := obsClient(t, srv)

		var info client.ResponseInfo
		got, err := c.Invocations.Wait(client.WithResponseInfo(t.Context(), &info), obsID, obsPoll)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		obsCheckInfo(t, "WithResponseInfo", info, http.StatusOK, obsReqID(3), 1)
		if got.RequestID() != obsReqID(3) {
			t.Errorf("Wait's invocation RequestID() = %q, want %q", got.RequestID(), obsReqID(3))
		}
	})
}

// obsCheckInfo compares info with the status, request id and attempts
// wanted, and checks that its Header is the response's.
func obsCheckInfo(t *testing.T, what string, info client.ResponseInfo, status int, requestID string, attempts int) {
	t.Helper()
	got := info
	got.Header = nil
	want := client.ResponseInfo{StatusCode: status, RequestID: requestID, Attempts: attempts}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: ResponseInfo mismatch (-want +got):\n%s", what, diff)
	}
	if h := info.Header.Get("X-Request-Id"); h != requestID {
		t.Errorf("%s: Header X-Request-Id = %q, want %q", what, h, requestID)
	}
}

// obsHop is one request a middleware or transport saw.
type obsHop struct {
	Host   string
	Auth   bool // an Authorization header was present
	Status int  // 0 if no response
}

// obsHops records the requests a middleware sees; it is safe for concurrent
// use.
type obsHops struct {
	mu   sync.Mutex
	hops []obsHop
}

func (l *obsHops) middleware(next http.RoundTripper) http.RoundTripper {
	return obsRoundTrip(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		h := obsHop{Host: req.URL.Host, Auth: req.Header.Get("Authorization") != ""}
		if resp != nil {
			h.Status = resp.StatusCode
		}
		l.mu.Lock()
		l.hops = append(l.hops, h)
		l.mu.Unlock()
		return resp, err
	})
}

func (l *obsHops) get() []obsHop {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.hops)
}

// obsRoundTrip adapts a function to http.RoundTripper.
type obsRoundTrip func(*http.Request) (*http.Response, error)

func (f obsRoundTrip) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// obsRedirector answers every request with a 307 to the same path on target.
func obsRedirector(t *testing.T, target string) *httptest.Server {
	t.Helper()
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(rs.Close)
	return rs
}

// obsHost returns the host:port of URL u.
func obsHost(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

func TestObserveMiddleware(t *testing.T) {
	t.Parallel()

	t.Run("sees every attempt", func(t *testing.T) {
		t.Parallel()
		srv := obsServer(t)
		srv.Add(bctrltest.NewInvocation(obsID))
		srv.Fault(obsID, bctrltest.Fault{Status: http.StatusServiceUnavailable, Times: 2})
		var log obsHops
		c := obsClient(t, srv, client.WithMiddleware(log.middleware))

		if _, err := c.Invocations.Get(t.Context(), obsID); err != nil {
			t.Fatalf("Get: %v", err)
		}
		host := obsHost(t, srv.URL)
		want := []obsHop{{host, true, 503}, {host, true, 503}, {host, true, 200}}
		if diff := cmp.Diff(want, log.get()); diff != "" {
			t.Errorf("middleware saw (-want +got):\n%s", diff)
		}
	})

	t.Run("order", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		var trail []string
		mark := func(name string) client.Middleware {
			return func(next http.RoundTripper) http.RoundTripper {
				return obsRoundTrip(func(req *http.Request) (*http.Response, error) {
					mu.Lock()
					trail = append(trail, name+" in")
					mu.Unlock()
					resp, err := next.RoundTrip(req)
					mu.Lock()
					trail = append(trail, name+" out")
					mu.Unlock()
					return resp, err
				})
			}
		}
		srv := obsServer(t)
		srv.Add(bctrltest.NewInvocation(obsID))
		// One option with two middlewares, then a second option: all three
		// apply, the first given outermost.
		c := obsClient(t, srv, client.WithMiddleware(mark("a"), mark("b")), client.WithMiddleware(mark("c")))
		if _, err := c.Invocations.Get(t.Context(), obsID); err != nil {
			t.Fatalf("Get: %v", err)
		}
		want := []string{"a in", "b in", "c in", "c out", "b out", "a out"}
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff(want, trail); diff != "" {
			t.Errorf("middleware order (-want +got):\n%s", diff)
		}
	})

	// With WithHTTPClient the middleware wraps the user's Doer: it sees
	// each attempt, retries included, and the Doer still sends them.
	t.Run("WithHTTPClient", func(t *testing.T) {
		t.Parallel()
		srv := obsServer(t)
		srv.Add(bctrltest.NewInvocation(obsID))
		srv.Fault(obsID, obsFault503)
		var sent obsHops // what the user's transport sends
		doer := &http.Client{Transport: sent.middleware(http.DefaultTransport.(*http.Transport).Clone()), Timeout: 10 * time.Second}
		t.Cleanup(doer.CloseIdleConnections)
		var log obsHops
		c := obsClient(t, srv, client.WithHTTPClient(doer), client.WithMiddleware(log.middleware))

		if _, err := c.Invocations.Get(t.Context(), obsID); err != nil {
			t.Fatalf("Get: %v", err)
		}
		host := obsHost(t, srv.URL)
		want := []obsHop{{host, true, 503}, {host, true, 200}}
		if diff := cmp.Diff(want, log.get()); diff != "" {
			t.Errorf("middleware saw (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, sent.get()); diff != "" {
			t.Errorf("the Doer's transport sent (-want +got):\n%s", diff)
		}
	})

	// Both servers listen on 127.0.0.1, on different ports: net/http keeps
	// the Authorization header on such a redirect; the SDK's redirect rule
	// must drop it even though middleware wraps the transport, and also
	// when the Doer is a user's plain *http.Client (no CheckRedirect of its
	// own).
	for _, tc := range []struct {
		name string
		doer bool // WithHTTPClient(a plain *http.Client)
	}{
		{"no Authorization across hosts", false},
		{"WithHTTPClient no Authorization across hosts", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := bctrltest.NewServer(t)
			target.Add(bctrltest.NewInvocation(obsID))
			first := obsRedirector(t, target.URL)
			var log obsHops
			opts := []client.Option{client.WithBaseURL(first.URL), client.WithAPIKey(target.APIKey()),
				client.WithMiddleware(log.middleware)}
			if tc.doer {
				doer := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 10 * time.Second}
				t.Cleanup(doer.CloseIdleConnections)
				opts = append(opts, client.WithHTTPClient(doer))
			}
			c, err := client.New(opts...)
			if err != nil {
				t.Fatal(err)
			}

			_, err = c.Invocations.Get(t.Context(), obsID)
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
				t.Errorf("Get through a cross-host redirect: err = %v, want a 401 *APIError (the key must not follow)", err)
			}
			reqs := target.Requests()
			if len(reqs) != 1 {
				t.Fatalf("redirect target got %d requests, want 1", len(reqs))
			}
			if got := reqs[0].Header.Get("Authorization"); got != "" {
				t.Errorf("redirect target received Authorization %q, want none", got)
			}
			// Around the SDK's transport, the middleware sees both hops, the
			// second as sent, without the header. Around a user's Doer, the
			// redirect happens inside the Doer: one attempt, as the SDK sent it.
			want := []obsHop{{obsHost(t, first.URL), true, 307}, {obsHost(t, target.URL), false, 401}}
			if tc.doer {
				want = []obsHop{{obsHost(t, first.URL), true, 401}}
			}
			if diff := cmp.Diff(want, log.get()); diff != "" {
				t.Errorf("middleware saw (-want +got):\n%s", diff)
			}
		})
	}

}

// obsAttrs turns attributes into a map for cmp.Diff.
func obsAttrs(kvs []attribute.KeyValue) map[string]any {
	if len(kvs) == 0 {
		return nil
	}
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// obsSpanTree renders spans as a tree indented by parent, each with its kind,
// status and attributes, and its events below it.
func obsSpanTree(spans tracetest.SpanStubs) string {
	ids := make(map[trace.SpanID]bool)
	for _, s := range spans {
		ids[s.SpanContext.SpanID()] = true
	}
	children := make(map[trace.SpanID][]tracetest.SpanStub)
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if p := s.Parent.SpanID(); s.Parent.IsValid() && ids[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	byStart := func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) }
	var b strings.Builder
	var walk func(s tracetest.SpanStub, depth int)
	walk = func(s tracetest.SpanStub, depth int) {
		indent := strings.Repeat("    ", depth)
		fmt.Fprintf(&b, "%s%s  (%s", indent, s.Name, s.SpanKind)
		if s.Status.Code != codes.Unset {
			fmt.Fprintf(&b, ", status %s %q", s.Status.Code, s.Status.Description)
		}
		b.WriteString(")\n")
		for _, kv := range obsSortedAttrs(s.Attributes) {
			fmt.Fprintf(&b, "%s    %s = %s\n", indent, kv.Key, kv.Value.String())
		}
		for _, e := range s.Events {
			fmt.Fprintf(&b, "%s    event %s {", indent, e.Name)
			for i, kv := range obsSortedAttrs(e.Attributes) {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s=%s", kv.Key, kv.Value.String())
			}
			b.WriteString("}\n")
		}
		kids := children[s.SpanContext.SpanID()]
		slices.SortFunc(kids, byStart)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	slices.SortFunc(roots, byStart)
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}

// obsSortedAttrs returns kvs sorted by key.
func obsSortedAttrs(kvs []attribute.KeyValue) []attribute.KeyValue {
	out := slices.Clone(kvs)
	slices.SortFunc(out, func(a, b attribute.KeyValue) int { return strings.Compare(string(a.Key), string(b.Key)) })
	return out
}

func TestObserveTrace(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })

	srv := obsServer(t)
	inv := bctrltest.NewInvocation(obsID)
	srv.Script(obsID, inv,
		bctrltest.Running(inv, 1, 2, "open the page"),
		bctrltest.Running(inv, 2, 2, "click"),
		bctrltest.Succeeded(inv))
	// The poll after step 1 is seen gets a 503 and is retried: the script
	// does not advance on a fault, so the retry sees step 2.
	faultAfterStep1 := client.WithProgress(func(inv *client.Invocation) {
		if p := inv.Progress; p != nil && p.Step != nil && *p.Step == 1 {
			srv.Fault(obsID, obsFault503)
		}
	})
	c := obsClient(t, srv, client.WithTracerProvider(tp), client.WithPropagator(propagation.TraceContext{}))

	ctx, caller := tp.Tracer("test").Start(t.Context(), "caller")
	got, err := c.Invocations.Wait(ctx, obsID, obsPoll, faultAfterStep1)
	caller.End()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got.Status != client.StatusSucceeded {
		t.Fatalf("Wait: status %s, want succeeded", got.Status)
	}

	spans := exp.GetSpans()
	t.Logf("span tree:\n%s", obsSpanTree(spans))

	named := func(name string) tracetest.SpanStubs {
		var out tracetest.SpanStubs
		for _, s := range spans {
			if s.Name == name {
				out = append(out, s)
			}
		}
		slices.SortFunc(out, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
		return out
	}
	waits, gets, attempts := named("bctrl.invocations.wait"), named("bctrl.invocations.get"), named("GET "+obsTemplate)
	if len(waits) != 1 || len(gets) != 4 || len(attempts) != 5 || len(spans) != 1+1+4+5 {
		t.Fatalf("got %d spans: %d wait, %d get, %d attempt; want 11: caller, 1 wait, 4 get (one per poll), 5 attempt (4 polls + 1 retry)",
			len(spans), len(waits), len(gets), len(attempts))
	}
	wait := waits[0]
	traceID := wait.SpanContext.TraceID()
	for _, s := range spans {
		if s.SpanContext.TraceID() != traceID {
			t.Errorf("span %s is in trace %s, want %s (the caller's)", s.Name, s.SpanContext.TraceID(), traceID)
		}
	}

	// The wait span: child of the caller's span, with an event per change.
	if wait.Parent.SpanID() != caller.SpanContext().SpanID() {
		t.Errorf("wait span's parent = %s, want the caller's span %s", wait.Parent.SpanID(), caller.SpanContext().SpanID())
	}
	if wait.Status.Code != codes.Unset {
		t.Errorf("wait span status = %v %q, want unset", wait.Status.Code, wait.Status.Description)
	}
	wantWait := map[string]any{
		"bctrl.invocation.id":     obsID,
		"bctrl.wait.polls":        int64(4),
		"bctrl.wait.retries":      int64(1),
		"bctrl.invocation.status": "succeeded",
	}
	if diff := cmp.Diff(wantWait, obsAttrs(wait.Attributes)); diff != "" {
		t.Errorf("wait span attributes (-want +got):\n%s", diff)
	}
	type event struct {
		Name  string
		Attrs map[string]any
	}
	changed := func(status string, step, total int64) event {
		e := event{"bctrl.invocation.changed", map[string]any{"bctrl.invocation.status": status}}
		if total > 0 {
			e.Attrs["bctrl.progress.step"], e.Attrs["bctrl.progress.total_steps"] = step, total
		}
		return e
	}
	wantEvents := []event{changed("queued", 0, 0), changed("running", 1, 2), changed("running", 2, 2), changed("succeeded", 0, 0)}
	var gotEvents []event
	for _, e := range wait.Events {
		gotEvents = append(gotEvents, event{e.Name, obsAttrs(e.Attributes)})
	}
	if diff := cmp.Diff(wantEvents, gotEvents); diff != "" {
		t.Errorf("wait span events (-want +got):\n%s", diff)
	}

	// One get span per poll, children of the wait span; each names the
	// request id of its last attempt.
	wantGets := []struct {
		status, requestID string
		attempts          int
	}{{"queued", obsReqID(1), 1}, {"running", obsReqID(2), 1}, {"running", obsReqID(4), 2}, {"succeeded", obsReqID(5), 1}}
	for i, g := range gets {
		w := wantGets[i]
		if g.Parent.SpanID() != wait.SpanContext.SpanID() {
			t.Errorf("get span %d: parent %s, want the wait span %s", i+1, g.Parent.SpanID(), wait.SpanContext.SpanID())
		}
		want := map[string]any{"bctrl.invocation.id": obsID, "bctrl.invocation.status": w.status, "bctrl.request_id": w.requestID}
		if diff := cmp.Diff(want, obsAttrs(g.Attributes)); diff != "" {
			t.Errorf("get span %d attributes (-want +got):\n%s", i+1, diff)
		}
		if g.Status.Code != codes.Unset {
			t.Errorf("get span %d status = %v %q, want unset (its retry succeeded)", i+1, g.Status.Code, g.Status.Description)
		}
		n := 0
		for _, a := range attempts {
			if a.Parent.SpanID() == g.SpanContext.SpanID() {
				n++
			}
		}
		if n != w.attempts {
			t.Errorf("get span %d has %d attempt spans, want %d", i+1, n, w.attempts)
		}
	}

	// One client span per attempt, following the HTTP conventions. Server
	// request n is attempt span n: each carries the request id bctrltest
	// answered it with.
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(base.Port())
	if err != nil {
		t.Fatal(err)
	}
	getIDs := make(map[trace.SpanID]bool)
	for _, g := range gets {
		getIDs[g.SpanContext.SpanID()] = true
	}
	reqs := srv.Requests()
	if len(reqs) != len(attempts) {
		t.Fatalf("server got %d requests, want one per attempt span (%d)", len(reqs), len(attempts))
	}
	for i, a := range attempts {
		n := i + 1
		want := map[string]any{
			"http.request.method":       "GET",
			"server.address":            base.Hostname(),
			"server.port":               int64(port),
			"url.full":                  srv.URL + "/v1/invocations/" + obsID,
			"url.template":              obsTemplate,
			"http.response.status_code": int64(200),
			"bctrl.request_id":          obsReqID(n),
		}
		wantStatus := sdktrace.Status{Code: codes.Unset}
		switch n {
		case 3:
			want["http.response.status_code"] = int64(503)
			want["error.type"] = "503"
			wantStatus = sdktrace.Status{Code: codes.Error, Description: "Service Unavailable"}
		case 4:
			want["http.request.resend_count"] = int64(1)
		}
		if diff := cmp.Diff(want, obsAttrs(a.Attributes)); diff != "" {
			t.Errorf("attempt span %d attributes (-want +got):\n%s", n, diff)
		}
		if a.Status != wantStatus {
			t.Errorf("attempt span %d status = %+v, want %+v", n, a.Status, wantStatus)
		}
		if a.SpanKind != trace.SpanKindClient {
			t.Errorf("attempt span %d kind = %v, want client", n, a.SpanKind)
		}
		if !getIDs[a.Parent.SpanID()] {
			t.Errorf("attempt span %d: parent %s is not a get span", n, a.Parent.SpanID())
		}
		// The trace context went out with the attempt, naming its span.
		wantTP := fmt.Sprintf("00-%s-%s-01", traceID, a.SpanContext.SpanID())
		if got := reqs[i].Header.Get("Traceparent"); got != wantTP {
			t.Errorf("request %d traceparent = %q, want %q", n, got, wantTP)
		}
	}
}

// obsLogs is a slog.Handler that keeps every record, at every level.
type obsLogs struct {
	mu    *sync.Mutex
	recs  *[]slog.Record
	attrs []slog.Attr
}

func newObsLogs() *obsLogs {
	return &obsLogs{mu: new(sync.Mutex), recs: new([]slog.Record)}
}

func (h *obsLogs) Enabled(context.Context, slog.Level) bool { return true }

func (h *obsLogs) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.recs = append(*h.recs, r)
	return nil
}

func (h *obsLogs) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(slices.Clip(h.attrs), as...)
	return &c
}

func (h *obsLogs) WithGroup(string) slog.Handler { return h }

func (h *obsLogs) records() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(*h.recs)
}

// obsRecordAttrs returns a record's attributes by key, resolved.
func obsRecordAttrs(r slog.Record) map[string]slog.Value {
	m := make(map[string]slog.Value)
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.Resolve()
		return true
	})
	return m
}

// obsText is one string the client handed to the tracer, the meter
// or the logger, and where it went.
type obsText struct{ Where, Text string }

// obsTexts returns every string the client handed to the tracer, the
// meter and the logger.
func obsTexts(t *testing.T, spans []sdktrace.ReadOnlySpan, reader sdkmetric.Reader, logs *obsLogs) []obsText {
	t.Helper()
	var texts []obsText
	add := func(where, s string) { texts = append(texts, obsText{where, s}) }
	addAttrs := func(where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			add(where+" attribute "+string(kv.Key), kv.Value.String())
		}
	}
	for _, s := range spans {
		where := "span " + s.Name()
		add(where+" name", s.Name())
		add(where+" status", s.Status().Description)
		addAttrs(where, s.Attributes())
		for _, e := range s.Events() {
			add(where+" event", e.Name)
			addAttrs(where+" event "+e.Name, e.Attributes)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			add("metric name", m.Name)
			for _, set := range obsMetricSets(m) {
				addAttrs("metric "+m.Name, set.ToSlice())
			}
		}
	}
	for _, r := range logs.records() {
		where := "log " + r.Level.String() + " " + strconv.Quote(r.Message)
		add(where, r.Message)
		for k, v := range obsRecordAttrs(r) {
			add(where+" "+k, v.String())
		}
	}
	return texts
}

// obsMetricSets returns the attribute sets of m's data points.
func obsMetricSets(m metricdata.Metrics) []attribute.Set {
	var out []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}

// obsTelemetry is a tracer provider, a meter provider and a logger that
// capture everything they receive.
type obsTelemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	logs   *obsLogs
	opts   []client.Option
}

func newObsTelemetry(t *testing.T) *obsTelemetry {
	t.Helper()
	tel := &obsTelemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), logs: newObsLogs()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	tel.opts = []client.Option{client.WithTracerProvider(tp), client.WithMeterProvider(mp), client.WithLogger(slog.New(tel.logs))}
	return tel
}

// checkNoSecret fails the test for every telemetry string that contains
// one of secrets, reporting each place once.
func (tel *obsTelemetry) checkNoSecret(t *testing.T, secrets ...string) {
	t.Helper()
	texts := obsTexts(t, tel.spans.Ended(), tel.reader, tel.logs)
	if len(texts) == 0 {
		t.Fatal("no telemetry captured")
	}
	leaks := make(map[obsText]int)
	for _, x := range texts {
		for _, s := range secrets {
			if strings.Contains(x.Text, s) {
				leaks[x]++
			}
		}
	}
	for _, x := range slices.SortedFunc(maps.Keys(leaks), func(a, b obsText) int {
		return strings.Compare(a.Where+a.Text, b.Where+b.Text)
	}) {
		t.Errorf("%s carries a secret (%d times): %q", x.Where, leaks[x], x.Text)
	}
}

func TestObserveNoSecret(t *testing.T) {
	t.Parallel()
	const (
		key      = "sk_live_OBSERVE_7q3ZrX9pLw2KdJ"
		wrongKey = "sk_live_WRONGKEY_m4Tn8VbQ1sXe"
		downID   = "0b5e7a1e-0000-4000-8000-00000000a002"
		waitID   = "0b5e7a1e-0000-4000-8000-00000000a003"
	)
	srv := obsServer(t, bctrltest.WithAPIKey(key))
	srv.Add(bctrltest.NewInvocation(obsID))
	srv.Fault(obsID, obsFault503)
	srv.Add(bctrltest.NewInvocation(downID))
	srv.Fault(downID, bctrltest.Fault{Status: http.StatusServiceUnavailable}) // every time
	inv := bctrltest.NewInvocation(waitID)
	srv.Script(waitID, inv, bctrltest.Running(inv, 1, 1, "working"), bctrltest.Succeeded(inv))

	tel := newObsTelemetry(t)
	opts := slices.Concat(tel.opts, []client.Option{client.WithMaxRetries(1)})
	c := obsClient(t, srv, opts...)
	wrong := obsClient(t, srv, slices.Concat(opts, []client.Option{client.WithAPIKey(wrongKey)})...)
	ctx := t.Context()

	// 2 attempts, 1 retry.
	if _, err := c.Invocations.Get(ctx, obsID); err != nil {
		t.Fatalf("Get: %v", err)
	}
	// 1 attempt.
	var apiErr *client.APIError
	if _, err := wrong.Invocations.Get(ctx, obsID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Get with the wrong key: err = %v, want a 401 *APIError", err)
	}
	// 2 attempts, 1 retry.
	if _, err := c.Invocations.Get(ctx, downID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Get of an unavailable invocation: err = %v, want a 503 *APIError", err)
	}
	// 3 attempts, 3 changes.
	if _, err := c.Invocations.Wait(ctx, waitID, obsPoll); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	// 1 attempt.
	if resp, err := c.Raw().GetInvocationWithResponse(ctx, obsID, nil); err != nil || resp.StatusCode() != http.StatusOK {
		t.Fatalf("GetInvocationWithResponse: %v", err)
	}
	const wantAttempts, wantRetries, wantChanges = 9, 2, 3
	if n := len(srv.Requests()); n != wantAttempts {
		t.Fatalf("server got %d requests, want %d", n, wantAttempts)
	}

	tel.checkNoSecret(t, key, wrongKey, "Bearer")

	// Every record is at Debug, except the Get of downID, whose retries all
	// failed: one warning.
	var debug, retries, changes, warn []slog.Record
	for _, r := range tel.logs.records() {
		switch {
		case r.Level == slog.LevelDebug && r.Message == "bctrl: http attempt":
			debug = append(debug, r)
		case r.Level == slog.LevelDebug && r.Message == "bctrl: retrying request":
			retries = append(retries, r)
		case r.Level == slog.LevelDebug && r.Message == "bctrl: invocation changed":
			changes = append(changes, r)
		case r.Level == slog.LevelWarn && r.Message == "bctrl: request failed after retries":
			warn = append(warn, r)
		default:
			t.Errorf("unexpected %s record %q", r.Level, r.Message)
		}
	}
	if len(warn) != 1 || obsRecordAttrs(warn[0])["status"].Int64() != http.StatusServiceUnavailable {
		t.Errorf("warnings %v, want one, for the 503 of %s", warn, downID)
	}

	// One debug record per attempt, naming the request id it got: together
	// they name every request the server answered, once.
	if len(debug) != wantAttempts {
		t.Errorf("%d debug records, want one per attempt (%d)", len(debug), wantAttempts)
	}
	var gotIDs, wantIDs []string
	for i := range wantAttempts {
		wantIDs = append(wantIDs, obsReqID(i+1))
	}
	for _, r := range debug {
		a := obsRecordAttrs(r)
		for _, k := range []string{"method", "path", "status", "attempt", "duration", "request_id"} {
			if _, ok := a[k]; !ok {
				t.Errorf("debug record %q %v lacks %q", r.Message, a, k)
			}
		}
		if a["method"].String() != "GET" || !strings.HasPrefix(a["path"].String(), "/api/v1/invocations/") {
			t.Errorf("debug record method %v path %v, want GET /api/v1/invocations/...", a["method"], a["path"])
		}
		if d := a["duration"]; d.Kind() != slog.KindDuration || d.Duration() <= 0 {
			t.Errorf("debug record duration = %v, want a positive time.Duration", d)
		}
		gotIDs = append(gotIDs, a["request_id"].String())
	}
	sort.Strings(gotIDs)
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("request ids of the debug records (-want +got):\n%s", diff)
	}

	// One record per retry, with its reason and delay.
	if len(retries) != wantRetries {
		t.Errorf("%d retry records, want one per retry (%d)", len(retries), wantRetries)
	}
	for _, r := range retries {
		a := obsRecordAttrs(r)
		if reason := a["reason"]; reason.Kind() != slog.KindString || !strings.Contains(reason.String(), "503") {
			t.Errorf("warning %q reason = %v, want the 503 that caused the retry", r.Message, reason)
		}
		if d := a["delay"]; d.Kind() != slog.KindDuration || d.Duration() < time.Millisecond || d.Duration() > 2*time.Millisecond {
			t.Errorf("warning %q delay = %v, want a time.Duration within the backoff [1ms, 2ms]", r.Message, d)
		}
	}

	// One record per observed change of the Wait.
	if len(changes) != wantChanges {
		t.Errorf("%d change records, want one per observed change (%d)", len(changes), wantChanges)
	}
	var statuses []string
	for _, r := range changes {
		a := obsRecordAttrs(r)
		if a["id"].String() != waitID || a["request_id"].String() == "" {
			t.Errorf("change record %q: id %v, request_id %v; want %s and a request id", r.Message, a["id"], a["request_id"], waitID)
		}
		statuses = append(statuses, a["status"].String())
	}
	if diff := cmp.Diff([]string{"queued", "running", "succeeded"}, statuses); diff != "" {
		t.Errorf("statuses of the change records (-want +got):\n%s", diff)
	}
}

// A proxy or a misbehaving server may reflect the request's Authorization
// header in its answer. The SDK scrubs the key from what an APIError
// carries (its body, headers and RequestID); the request id it hands to
// spans, logs and ResponseInfo must be scrubbed the same way.
func TestObserveNoSecretReflected(t *testing.T) {
	t.Parallel()
	const key = "sk_live_REFLECTED_Zk29xQw8PmVn"
	body, err := json.Marshal(bctrltest.Succeeded(bctrltest.NewInvocation(obsID)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		odd := n%2 == 1
		mu.Unlock()
		w.Header().Set("X-Request-Id", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case !strings.HasSuffix(r.URL.Path, "/"+obsID):
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"code":"auth.invalid","error":"invalid api key %s"}`, r.Header.Get("Authorization"))
		case odd:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"code":"unavailable","error":"try again"}`)
		default:
			w.Write(body)
		}
	}))
	t.Cleanup(ts.Close)

	tel := newObsTelemetry(t)
	c, err := client.New(slices.Concat(tel.opts, []client.Option{client.WithBaseURL(ts.URL), client.WithAPIKey(key),
		client.WithRetryBackoff(time.Millisecond, 2*time.Millisecond)})...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var infos []client.ResponseInfo
	call := func(f func(ctx context.Context) error) error {
		var info client.ResponseInfo
		err := f(client.WithResponseInfo(ctx, &info))
		infos = append(infos, info)
		return err
	}
	var got *client.Invocation
	if err := call(func(ctx context.Context) (err error) {
		got, err = c.Invocations.Wait(ctx, obsID, obsPoll)
		return err
	}); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	err = call(func(ctx context.Context) error {
		_, err := c.Invocations.Get(ctx, "0b5e7a1e-0000-4000-8000-00000000dead")
		return err
	})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Get: err = %v, want a 401 *APIError", err)
	}
	if strings.Contains(err.Error(), key) || strings.Contains(apiErr.RequestID, key) {
		t.Errorf("APIError carries the key: %q, RequestID %q", err, apiErr.RequestID)
	}

	tel.checkNoSecret(t, key)
	if strings.Contains(got.RequestID(), key) {
		t.Errorf("Invocation.RequestID() carries the key: %q", got.RequestID())
	}
	for i, info := range infos {
		if strings.Contains(info.RequestID, key) {
			t.Errorf("ResponseInfo %d RequestID carries the key: %q", i+1, info.RequestID)
		}
	}
}

// An id is the user's input: one that holds the key by mistake (arguments
// swapped, a variable mixed up) must not carry it into a span, a metric or
// a log record either.
func TestObserveNoSecretAsID(t *testing.T) {
	t.Parallel()
	const key = "sk_live_ASIDKEY_Hq5Wz3Lm8RtPc"
	srv := obsServer(t, bctrltest.WithAPIKey(key))
	tel := newObsTelemetry(t)
	c := obsClient(t, srv, tel.opts...)
	ctx := t.Context()

	if _, err := c.Invocations.Get(ctx, key); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Get(key): err = %v, want ErrNotFound", err)
	}
	if _, err := c.Invocations.Wait(ctx, key, obsPoll); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Wait(key): err = %v, want ErrNotFound", err)
	}
	if resp, err := c.Raw().GetInvocationWithResponse(ctx, key, nil); err != nil || resp.StatusCode() != http.StatusNotFound {
		t.Errorf("GetInvocationWithResponse(key): %v, want a 404", err)
	}
	if n := srv.RequestCount(key); n != 3 {
		t.Fatalf("server got %d requests for the id, want 3", n)
	}
	tel.checkNoSecret(t, key)
}

// obsPoint is one data point, by its attributes.
type obsPoint struct {
	Attrs map[string]any
	Value int64
}

// obsCollect reads the named metric from reader.
func obsCollect(t *testing.T, reader sdkmetric.Reader, name string) (metricdata.Metrics, bool) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// obsCounter returns the points of a cumulative monotonic int64 counter,
// sorted by their attributes.
func obsCounter(t *testing.T, reader sdkmetric.Reader, name string) []obsPoint {
	t.Helper()
	m, ok := obsCollect(t, reader, name)
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok || !sum.IsMonotonic {
		t.Fatalf("metric %s is %T (monotonic %v), want a monotonic int64 sum", name, m.Data, sum.IsMonotonic)
	}
	var out []obsPoint
	for _, p := range sum.DataPoints {
		out = append(out, obsPoint{obsAttrs(p.Attributes.ToSlice()), p.Value})
	}
	slices.SortFunc(out, func(a, b obsPoint) int { return strings.Compare(fmt.Sprint(a.Attrs), fmt.Sprint(b.Attrs)) })
	return out
}

func TestObserveMetrics(t *testing.T) {
	t.Parallel()
	const waitID = "0b5e7a1e-0000-4000-8000-00000000a003"
	srv := obsServer(t)
	srv.Add(bctrltest.NewInvocation(obsID))
	srv.Fault(obsID, obsFault503)
	inv := bctrltest.NewInvocation(waitID)
	srv.Script(waitID, inv, bctrltest.Succeeded(inv))

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	c := obsClient(t, srv, client.WithMeterProvider(mp))

	began := time.Now()
	if _, err := c.Invocations.Get(t.Context(), obsID); err != nil { // 503, then 200
		t.Fatalf("Get: %v", err)
	}
	if _, err := c.Invocations.Wait(t.Context(), waitID, obsPoll); err != nil { // queued, succeeded
		t.Fatalf("Wait: %v", err)
	}
	elapsed := time.Since(began)

	get := func(status int64) map[string]any {
		return map[string]any{"http.request.method": "GET", "http.response.status_code": status}
	}
	wantAttempts := []obsPoint{{get(200), 3}, {get(503), 1}}
	if diff := cmp.Diff(wantAttempts, obsCounter(t, reader, "bctrl.client.attempts")); diff != "" {
		t.Errorf("bctrl.client.attempts (-want +got):\n%s", diff)
	}
	// A retry is counted with the outcome of the retrying attempt.
	wantRetries := []obsPoint{{get(200), 1}}
	if diff := cmp.Diff(wantRetries, obsCounter(t, reader, "bctrl.client.retries")); diff != "" {
		t.Errorf("bctrl.client.retries (-want +got):\n%s", diff)
	}

	m, ok := obsCollect(t, reader, "bctrl.wait.duration")
	if !ok {
		t.Fatal("no metric bctrl.wait.duration")
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok || m.Unit != "s" {
		t.Fatalf("bctrl.wait.duration is %T in %q, want a float64 histogram in s", m.Data, m.Unit)
	}
	if len(h.DataPoints) != 1 {
		t.Fatalf("bctrl.wait.duration has %d data points, want 1", len(h.DataPoints))
	}
	p := h.DataPoints[0]
	if diff := cmp.Diff(map[string]any{"bctrl.wait.outcome": "succeeded"}, obsAttrs(p.Attributes.ToSlice())); diff != "" {
		t.Errorf("bctrl.wait.duration attributes (-want +got):\n%s", diff)
	}
	if p.Count != 1 || p.Sum <= 0 || p.Sum > elapsed.Seconds() {
		t.Errorf("bctrl.wait.duration: count %d, sum %vs; want 1 wait of at most %vs", p.Count, p.Sum, elapsed.Seconds())
	}
}

// The outcome of a wait is its final status, or "error" when it stopped on
// an error first.
func TestObserveMetricsWaitOutcome(t *testing.T) {
	t.Parallel()
	inv := bctrltest.NewInvocation(obsID)
	for _, tc := range []struct {
		name   string
		states []bctrltest.Invocation
		want   string
	}{
		{"succeeded", []bctrltest.Invocation{bctrltest.Succeeded(inv)}, "succeeded"},
		{"failed", []bctrltest.Invocation{bctrltest.Running(inv, 1, 1, ""), bctrltest.Failed(inv, "boom")}, "failed"},
		{"not found", nil, "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := obsServer(t)
			if tc.states != nil {
				srv.Script(obsID, tc.states...)
			}
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			t.Cleanup(func() { mp.Shutdown(context.Background()) })
			c := obsClient(t, srv, client.WithMeterProvider(mp))

			_, err := c.Invocations.Wait(t.Context(), obsID, obsPoll)
			if (err == nil) != (tc.want == "succeeded") {
				t.Fatalf("Wait: err = %v", err)
			}
			m, ok := obsCollect(t, reader, "bctrl.wait.duration")
			if !ok {
				t.Fatal("no metric bctrl.wait.duration")
			}
			var got []string
			for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				v, _ := p.Attributes.Value("bctrl.wait.outcome")
				got = append(got, fmt.Sprintf("%s x%d", v.String(), p.Count))
			}
			if diff := cmp.Diff([]string{tc.want + " x1"}, got); diff != "" {
				t.Errorf("bctrl.wait.duration outcomes (-want +got):\n%s", diff)
			}
		})
	}
}
