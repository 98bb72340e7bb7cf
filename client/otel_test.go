package client_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// The tests in this file cover OpenTelemetry by the book: the trace context
// and baggage go out through the configured propagator (the global one by
// default), and the SDK's own HTTP spans can be turned off for a transport
// instrumented with otelhttp.

const otelID = "0b5e7a1e-0000-4000-8000-00000000c001"

// otelSetup is an in-memory fake with one invocation, whose first answer is
// a 503, and a client of it with opts.
func otelSetup(t *testing.T, opts ...client.Option) (*bctrltest.Server, *client.Client) {
	t.Helper()
	srv := bctrltest.NewServer(t, bctrltest.InMemory())
	srv.Add(bctrltest.NewInvocation(otelID))
	srv.Fault(otelID, bctrltest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	c, err := client.New(append([]client.Option{
		client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()),
		client.WithRetryBackoff(client.DefaultRetryMinBackoff/100, client.DefaultRetryMinBackoff/100),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// withBaggage returns ctx carrying the baggage member tenant=acme.
func withBaggage(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	m, err := baggage.NewMember("tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := baggage.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return baggage.ContextWithBaggage(ctx, b)
}

// TestPropagatorBaggage checks that a composite propagator given with
// WithPropagator writes both the trace context, naming each attempt's span,
// and the baggage; and that baggage goes out with no tracing SDK at all.
func TestPropagatorBaggage(t *testing.T) {
	t.Parallel()
	composite := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	for _, sdk := range []bool{true, false} {
		t.Run(fmt.Sprintf("tracing SDK %v", sdk), func(t *testing.T) {
			t.Parallel()
			exp := tracetest.NewInMemoryExporter()
			opts := []client.Option{client.WithPropagator(composite)}
			if sdk {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
				t.Cleanup(func() { tp.Shutdown(context.Background()) })
				opts = append(opts, client.WithTracerProvider(tp))
			}
			srv, c := otelSetup(t, opts...)
			if _, err := c.Invocations.Get(withBaggage(t, t.Context()), otelID); err != nil {
				t.Fatal(err)
			}
			var attempts []tracetest.SpanStub
			for _, s := range exp.GetSpans() {
				if s.SpanKind == trace.SpanKindClient {
					attempts = append(attempts, s)
				}
			}
			reqs := srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2 (a 503 and its retry)", len(reqs))
			}
			for i, r := range reqs {
				if got := r.Header.Get("Baggage"); got != "tenant=acme" {
					t.Errorf("request %d: baggage %q, want tenant=acme", i+1, got)
				}
				wantTP := "" // no span, no trace context
				if sdk {
					sc := attempts[i].SpanContext
					wantTP = fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID())
				}
				if got := r.Header.Get("Traceparent"); got != wantTP {
					t.Errorf("request %d: traceparent %q, want %q", i+1, got, wantTP)
				}
			}
		})
	}
}

// TestGlobalPropagatorByDefault sets the global propagator, so it does not
// run in parallel: without WithPropagator the client uses the global one,
// read at each attempt, so one set after New applies too.
func TestGlobalPropagatorByDefault(t *testing.T) {
	srv, c := otelSetup(t)
	otel.SetTextMapPropagator(propagation.Baggage{})
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })
	if _, err := c.Invocations.Get(withBaggage(t, t.Context()), otelID); err != nil {
		t.Fatal(err)
	}
	for i, r := range srv.Requests() {
		if got := r.Header.Get("Baggage"); got != "tenant=acme" {
			t.Errorf("request %d: baggage %q, want tenant=acme from the global propagator", i+1, got)
		}
	}
}

// TestHTTPSpansOffWithOtelhttp is the README's otelhttp recipe: with the
// SDK's HTTP spans off and otelhttp as middleware, each attempt has exactly
// one client span, otelhttp's, under the SDK's get span, and the trace
// context sent names it. With the SDK's spans on, each attempt has two.
func TestHTTPSpansOffWithOtelhttp(t *testing.T) {
	t.Parallel()
	for _, sdkSpans := range []bool{false, true} {
		t.Run(fmt.Sprintf("SDK HTTP spans %v", sdkSpans), func(t *testing.T) {
			t.Parallel()
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
			t.Cleanup(func() { tp.Shutdown(context.Background()) })
			prop := propagation.TraceContext{}
			srv, c := otelSetup(t,
				client.WithTracerProvider(tp),
				client.WithPropagator(prop),
				client.WithHTTPSpans(sdkSpans),
				client.WithMiddleware(func(next http.RoundTripper) http.RoundTripper {
					return otelhttp.NewTransport(next, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))
				}))
			ctx, caller := tp.Tracer("test").Start(t.Context(), "caller")
			_, err := c.Invocations.Get(ctx, otelID)
			caller.End()
			if err != nil {
				t.Fatal(err)
			}
			spans := exp.GetSpans()
			dump := otelTraceDump(spans)
			t.Logf("trace of one Get (a 503, then its retry):\n%s", dump)

			reqs := srv.Requests()
			var clients []tracetest.SpanStub
			var get tracetest.SpanStub
			for _, s := range spans {
				switch {
				case s.SpanKind == trace.SpanKindClient:
					clients = append(clients, s)
				case s.Name == "bctrl.invocations.get":
					get = s
				}
			}
			perAttempt := 1
			if sdkSpans {
				perAttempt = 2
			}
			if len(reqs) != 2 || len(clients) != perAttempt*len(reqs) {
				t.Fatalf("%d client spans for %d attempts, want %d per attempt:\n%s", len(clients), len(reqs), perAttempt, dump)
			}
			if sdkSpans {
				return // the duplicate the option removes
			}
			slices.SortFunc(clients, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
			for i, s := range clients {
				if s.Parent.SpanID() != get.SpanContext.SpanID() {
					t.Errorf("client span %d: parent %s, want the get span %s", i+1, s.Parent.SpanID(), get.SpanContext.SpanID())
				}
				want := fmt.Sprintf("00-%s-%s-01", s.SpanContext.TraceID(), s.SpanContext.SpanID())
				if got := reqs[i].Header.Get("Traceparent"); got != want {
					t.Errorf("request %d: traceparent %q, want %q (otelhttp's span)", i+1, got, want)
				}
			}
		})
	}
}

// otelTraceDump renders spans as a tree of names and kinds, children
// indented under their parent, in start order.
func otelTraceDump(spans tracetest.SpanStubs) string {
	children := map[trace.SpanID][]tracetest.SpanStub{}
	known := map[trace.SpanID]bool{}
	for _, s := range spans {
		known[s.SpanContext.SpanID()] = true
	}
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if known[s.Parent.SpanID()] {
			children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(ss []tracetest.SpanStub, depth int)
	walk = func(ss []tracetest.SpanStub, depth int) {
		slices.SortFunc(ss, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
		for _, s := range ss {
			status := ""
			for _, kv := range s.Attributes {
				if kv.Key == "http.response.status_code" {
					status = fmt.Sprintf(" -> %d", kv.Value.AsInt64())
				}
			}
			fmt.Fprintf(&b, "%s%s [%s]%s\n", strings.Repeat("  ", depth), s.Name, s.SpanKind, status)
			walk(children[s.SpanContext.SpanID()], depth+1)
		}
	}
	walk(roots, 0)
	return b.String()
}
