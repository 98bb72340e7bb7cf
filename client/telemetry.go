package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing uses the OpenTelemetry API only: with no SDK installed (the
// global provider's default) every span is a no-op. The tree:
//
//	bctrl.invocations.wait          one per Wait or Watch: id, polls,
//	│                               retries, final status; an event per
//	│                               observed change
//	└─ bctrl.invocations.get        one per Get (each poll is one)
//	   └─ GET /v1/invocations/{id}  one per HTTP attempt (client span,
//	                                HTTP semantic conventions); off with
//	                                WithHTTPSpans(false)
//
// Every attempt carries the trace context in its headers, written by the
// configured propagator (WithPropagator; the global one by default). No
// attribute carries the API key or the Authorization header.

// instrumentationName names the SDK's tracer.
const instrumentationName = "github.com/bctrlhq/sdk-go/client"

// Attribute keys of the SDK's own spans.
const (
	attrInvocationID     = attribute.Key("bctrl.invocation.id")
	attrInvocationStatus = attribute.Key("bctrl.invocation.status")
	attrRequestID        = attribute.Key("bctrl.request_id")
	attrPolls            = attribute.Key("bctrl.wait.polls")
	attrRetries          = attribute.Key("bctrl.wait.retries")
	attrProgressStep     = attribute.Key("bctrl.progress.step")
	attrProgressTotal    = attribute.Key("bctrl.progress.total_steps")
)

// WithTracerProvider sets the OpenTelemetry tracer provider the client's
// spans go to. The default is the global provider (otel.GetTracerProvider),
// which records nothing until an SDK is installed.
//
// Scope: client-only (see Option).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
		if err := c.clientOnly("WithTracerProvider"); err != nil {
			return err
		}
		if tp == nil {
			return errors.New("bctrl: WithTracerProvider: nil provider")
		}
		c.tracerProvider = tp
		return nil
	}
}

func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(instrumentationName, trace.WithInstrumentationVersion(Version()))
}

// WithPropagator sets the OpenTelemetry propagator that writes the trace
// context (and whatever else it carries, such as W3C baggage or B3
// headers) into the headers of every HTTP attempt. The default is the
// global propagator, otel.GetTextMapPropagator, read at each attempt: it
// propagates nothing until a program calls otel.SetTextMapPropagator, as
// OpenTelemetry's own instrumentation does. Propagation does not need
// tracing: baggage goes out with a no-op tracer provider too.
//
// Scope: client-only (see Option).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) error {
		if err := c.clientOnly("WithPropagator"); err != nil {
			return err
		}
		if p == nil {
			return errors.New("bctrl: WithPropagator: nil propagator")
		}
		c.propagator = p
		return nil
	}
}

// WithHTTPSpans turns the SDK's client span per HTTP attempt on (the
// default) or off. Turn it off when the transport is instrumented already,
// for example with otelhttp.NewTransport in WithMiddleware, so that each
// attempt has one client span, not two: the transport's spans then sit
// under the SDK's bctrl.invocations.get span. The wait and get spans, the
// metrics and the propagation of the trace context are unchanged.
//
// Scope: client-only (see Option).
func WithHTTPSpans(enabled bool) Option {
	return func(c *config) error {
		if err := c.clientOnly("WithHTTPSpans"); err != nil {
			return err
		}
		c.noHTTPSpans = !enabled
		return nil
	}
}

// startAttempt starts the client span of one HTTP attempt of cl, following
// the OpenTelemetry HTTP client conventions, unless WithHTTPSpans(false)
// turned it off. It returns the request to send, carrying what the
// propagator injects for the attempt's context (a copy of cl.req if there
// is anything to inject, cl.req itself otherwise).
func (c *Client) startAttempt(ctx context.Context, cl call, attempt int) (context.Context, *http.Request, trace.Span) {
	var span trace.Span = noop.Span{}
	if !c.cfg.noHTTPSpans && !cl.quiet {
		ctx, span = c.startAttemptSpan(ctx, cl.req, cl.route, attempt)
	}
	return ctx, c.inject(ctx, cl.req), span
}

// startAttemptSpan starts the client span of an attempt, and builds its
// attributes only when it records.
func (c *Client) startAttemptSpan(ctx context.Context, req *http.Request, tmpl string, attempt int) (context.Context, trace.Span) {
	name := req.Method
	if tmpl != "" {
		name += " " + tmpl
	}
	hasTmpl := tmpl != ""
	ctx, span := c.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient))
	if !span.IsRecording() {
		return ctx, span // no SDK installed: build nothing
	}
	attrs := make([]attribute.KeyValue, 0, 6) // one allocation, set in one call
	attrs = append(attrs,
		semconv.HTTPRequestMethodKey.String(req.Method),
		semconv.URLFull(c.redact.text(redactURL(req.URL), maxErrorString)))
	if hasTmpl {
		attrs = append(attrs, semconv.URLTemplate(tmpl))
	}
	host, port := req.URL.Hostname(), req.URL.Port()
	attrs = append(attrs, semconv.ServerAddress(host))
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	} else if req.URL.Scheme == "https" {
		attrs = append(attrs, semconv.ServerPort(443))
	} else {
		attrs = append(attrs, semconv.ServerPort(80))
	}
	if attempt > 1 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(attempt-1))
	}
	span.SetAttributes(attrs...)
	return ctx, span
}

// inject returns req carrying the headers the configured propagator (the
// global one by default) writes for ctx. The request is copied before its
// first header is set, so the caller's is never changed and a propagator
// that injects nothing (the global default) costs no copy.
func (c *Client) inject(ctx context.Context, req *http.Request) *http.Request {
	p := c.cfg.propagator
	if p == nil {
		p = otel.GetTextMapPropagator()
	}
	carrier := &requestCarrier{ctx: ctx, req: req}
	p.Inject(ctx, carrier)
	return carrier.req
}

// requestCarrier is a propagation.TextMapCarrier over a request's headers
// that copies the request on its first Set.
type requestCarrier struct {
	ctx    context.Context
	req    *http.Request
	cloned bool
}

func (r *requestCarrier) Get(key string) string { return r.req.Header.Get(key) }

func (r *requestCarrier) Set(key, value string) {
	if !r.cloned {
		r.req, r.cloned = r.req.Clone(r.ctx), true
	}
	r.req.Header.Set(key, value)
}

func (r *requestCarrier) Keys() []string { return propagation.HeaderCarrier(r.req.Header).Keys() }

// endAttempt records an attempt's outcome on its span and ends it.
func (c *Client) endAttempt(span trace.Span, resp *http.Response, err error) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if resp != nil {
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
		if id := c.requestID(resp); id != "" {
			span.SetAttributes(attrRequestID.String(id))
		}
		if resp.StatusCode >= 400 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
			span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
		}
	}
	if err != nil && resp == nil {
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		span.SetStatus(codes.Error, c.redact.text(err.Error(), maxErrorString))
	}
	span.End()
}

// errorType is the error.type of a transport error: "timeout",
// "response_too_large", "too_many_redirects", or "_OTHER".
func errorType(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	switch {
	case errors.Is(err, ErrResponseTooLarge):
		return "response_too_large"
	case errors.Is(err, ErrTooManyRedirects):
		return "too_many_redirects"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// endSpan records err, if any, on span, scrubbed of the key and capped,
// and ends the span.
func (c *Client) endSpan(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, c.redact.text(err.Error(), maxErrorString))
	}
	span.End()
}

// WithMeterProvider sets the OpenTelemetry meter provider for the client's
// metrics. The default is the global provider (otel.GetMeterProvider),
// which records nothing until an SDK is installed. The instruments:
//
//	bctrl.client.attempts   counter: HTTP attempts, by method and status code
//	                        (error.type when no response arrived)
//	bctrl.client.retries    counter: attempts that were retries
//	bctrl.wait.duration     histogram (s): whole Waits and Watches, by
//	                        outcome (succeeded, failed, ..., error)
//
// Scope: client-only (see Option).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if err := c.clientOnly("WithMeterProvider"); err != nil {
			return err
		}
		if mp == nil {
			return errors.New("bctrl: WithMeterProvider: nil provider")
		}
		c.meterProvider = mp
		return nil
	}
}

// instruments are the client's metrics. Instrument creation does not fail
// for a valid name; if a provider returns an error anyway, the no-op
// instrument it also returns is used.
type instruments struct {
	attempts     metric.Int64Counter
	retries      metric.Int64Counter
	waitDuration metric.Float64Histogram
}

func newInstruments(mp metric.MeterProvider) instruments {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(instrumentationName, metric.WithInstrumentationVersion(Version()))
	var in instruments
	in.attempts, _ = m.Int64Counter("bctrl.client.attempts",
		metric.WithDescription("HTTP attempts sent to the bctrl API, retries included"), metric.WithUnit("{attempt}"))
	in.retries, _ = m.Int64Counter("bctrl.client.retries",
		metric.WithDescription("HTTP attempts that retried an earlier one"), metric.WithUnit("{attempt}"))
	in.waitDuration, _ = m.Float64Histogram("bctrl.wait.duration",
		metric.WithDescription("Duration of whole Waits and Watches"), metric.WithUnit("s"))
	return in
}

// countAttempt records one attempt in the metrics.
func (c *Client) countAttempt(ctx context.Context, method string, n int, resp *http.Response, err error) {
	if !c.metrics.attempts.Enabled(ctx) && !c.metrics.retries.Enabled(ctx) {
		return // no SDK installed: build nothing
	}
	attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method)}
	if resp != nil {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(resp.StatusCode))
	} else if err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(err)))
	}
	set := metric.WithAttributes(attrs...)
	c.metrics.attempts.Add(ctx, 1, set)
	if n > 1 {
		c.metrics.retries.Add(ctx, 1, set)
	}
}
