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
)

// Tracing uses the OpenTelemetry API only: with no SDK installed (the
// global provider's default) every span is a no-op. The tree:
//
//	bctrl.invocations.wait          one per Wait or Watch: id, polls,
//	│                               retries, final status; an event per
//	│                               observed change
//	└─ bctrl.invocations.get        one per Get (each poll is one)
//	   └─ GET /v1/invocations/{id}  one per HTTP attempt (client span,
//	                                HTTP semantic conventions)
//
// No attribute carries the API key or the Authorization header.

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
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
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
	return tp.Tracer(instrumentationName, trace.WithInstrumentationVersion(Version))
}

// startAttempt starts the client span of one HTTP attempt, following the
// OpenTelemetry HTTP client conventions. When the span records, it returns
// a copy of req carrying the trace context in its headers; otherwise req.
func (c *Client) startAttempt(ctx context.Context, req *http.Request, attempt int) (context.Context, *http.Request, trace.Span) {
	name := req.Method
	var tmpl string
	if r, ok := ctx.Value(callRecordKey{}).(*callRecord); ok && r.urlTemplate != "" {
		tmpl = r.urlTemplate
		name += " " + tmpl
	}
	hasTmpl := tmpl != ""
	ctx, span := c.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient))
	if !span.IsRecording() {
		return ctx, req, span // no SDK installed: build nothing
	}
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(req.Method),
		semconv.URLFull(c.redact.text(redactURL(req.URL), maxErrorString)),
	}
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
	req = req.Clone(ctx) // headers of its own for the trace context
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	return ctx, req, span
}

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
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
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
	m := mp.Meter(instrumentationName, metric.WithInstrumentationVersion(Version))
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
