package bctrltest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// TestInMemory checks the in-process server: no listener, the same answers
// as over the network, faults as transport errors, and every wait on the
// bubble's fake clock.
func TestInMemory(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := bctrltest.NewServer(t, bctrltest.InMemory(), bctrltest.WithBasePath("/api"))
		if want := "http://bctrltest.localhost/api"; srv.URL != want {
			t.Errorf("URL = %q, want %q", srv.URL, want)
		}
		id := uuidOf("in-memory")
		inv := bctrltest.NewInvocation(id)
		srv.Script(id, inv, bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil)))
		c := srv.HTTPClient()

		for _, want := range []string{"queued", "succeeded"} {
			if got := status(t, get(t, c, srv, id)); got != want {
				t.Errorf("status = %q, want %q", got, want)
			}
		}
		if r := get(t, c, srv, "nope"); r.status != http.StatusNotFound || decodeError(t, r).Code != "invocation.not_found" {
			t.Errorf("unknown id: %d %s", r.status, r.body)
		}

		// Latency runs on the bubble's clock: exactly as long as asked, in
		// no real time.
		srv.Fault(id, bctrltest.Fault{Latency: time.Hour, Times: 1})
		start := time.Now()
		get(t, c, srv, id)
		if d := time.Since(start); d != time.Hour {
			t.Errorf("a 1h latency took %v of fake time, want 1h", d)
		}

		// A dropped connection is a transport error.
		srv.Fault(id, bctrltest.Fault{Drop: true, Times: 1})
		if _, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/v1/invocations/"+id, "Bearer "+srv.APIKey()); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Drop: err = %v, want io.ErrUnexpectedEOF", err)
		}

		// A hung request ends with its context, after the deadline's fake
		// time.
		srv.Fault(id, bctrltest.Fault{Hang: true, Times: 1})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		start = time.Now()
		if _, err := do(t, c, ctx, http.MethodGet, srv.URL+"/v1/invocations/"+id, "Bearer "+srv.APIKey()); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Hang: err = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("Hang released after %v, want the 30s deadline", d)
		}

		// Only the server's host is served.
		if _, err := do(t, c, t.Context(), http.MethodGet, "http://example.com/api/v1/invocations/"+id, "Bearer "+srv.APIKey()); err == nil || !strings.Contains(err.Error(), "serves only http://bctrltest.localhost") {
			t.Errorf("another host: err = %v, want a refusal", err)
		}

		if n := srv.RequestCount(id); n != 5 {
			t.Errorf("RequestCount = %d, want 5", n)
		}
		srv.Close()
		if _, err := do(t, c, t.Context(), http.MethodGet, srv.URL+"/v1/invocations/"+id, "Bearer "+srv.APIKey()); err == nil || !strings.Contains(err.Error(), "server closed") {
			t.Errorf("after Close: err = %v, want server closed", err)
		}
	})
}

// TestHTTPClientOfListeningServer checks that HTTPClient serves a listening
// server in-process too, at its own URL.
func TestHTTPClientOfListeningServer(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t)
	id := uuidOf("listening")
	srv.Add(bctrltest.NewInvocation(id))
	if got := status(t, get(t, srv.HTTPClient(), srv, id)); got != "queued" {
		t.Errorf("status = %q, want queued", got)
	}
}

func TestStartRefusesInMemory(t *testing.T) {
	t.Parallel()
	srv, err := bctrltest.Start("127.0.0.1:0", bctrltest.InMemory())
	if err == nil {
		srv.Close()
		t.Fatal("Start(InMemory()) succeeded, want an error")
	}
}

// TestRequestLimit: WithRequestLimit keeps the last n requests, for
// Requests and RequestCount, however many arrive.
func TestRequestLimit(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t, bctrltest.InMemory(), bctrltest.WithRequestLimit(10))
	a, b := uuidOf("limit-a"), uuidOf("limit-b")
	srv.Add(bctrltest.NewInvocation(a))
	srv.Add(bctrltest.NewInvocation(b))
	c := srv.HTTPClient()
	for range 25 {
		get(t, c, srv, a)
	}
	for range 4 {
		get(t, c, srv, b)
	}
	reqs := srv.Requests()
	if len(reqs) != 10 || reqs[9].ID != b || reqs[5].ID != a {
		t.Fatalf("kept %d requests (%v ...); want the last 10: 6 for a, then 4 for b", len(reqs), reqs[0].ID)
	}
	if n, m := srv.RequestCount(a), srv.RequestCount(b); n != 6 || m != 4 {
		t.Errorf("RequestCount = %d, %d; want 6, 4 within the limit", n, m)
	}
	if _, err := bctrltest.Start("127.0.0.1:0", bctrltest.WithRequestLimit(0)); err == nil {
		t.Error("WithRequestLimit(0) accepted")
	}
}
