package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// A new operation is three steps: describe the call (an operation value),
// execute it, decode its answer. Get is the model:
//
//	return s.client.invokeInvocation(ctx, &operation{ID: "getInvocation", Span: "bctrl.invocations.get",
//		Method: http.MethodGet, Route: "/v1/invocations/{id}", Path: []string{id}}, id, opts)

// operation is one API call as a generated method describes it.
type operation struct {
	ID     string      // the spec's operationId, e.g. "getInvocation"
	Span   string      // span name, e.g. "bctrl.invocations.get"
	Method string      // http.MethodGet, http.MethodPost, ...
	Route  string      // the path template as the spec writes it, e.g. "/v1/invocations/{id}" (span/metric route)
	Path   []string    // values of the template's {parameters}, in order; each checked with checkID and sent path-escaped as one segment
	Query  url.Values  // query parameters; nil for none
	Header http.Header // header parameters the operation declares; nil for none
	Body   any         // JSON request body, marshalled by the executor; nil for none
}

// invokeInvocation runs op, whose 2xx body is an invocation, and returns
// its error through the public exit. When id is not "", the body must be
// that invocation's.
func (c *Client) invokeInvocation(ctx context.Context, op *operation, id string, opts []Option) (*Invocation, error) {
	cfg, err := c.callConfig(opts, false)
	if err != nil {
		return nil, c.boundary(err)
	}
	inv, _, err := c.getInvocation(ctx, cfg, op, id, false)
	return inv, c.boundary(err)
}

// invokeJSON runs op, whose 2xx body is JSON decoded into a T with the
// SDK's bounded decoder and the call's limits, and returns its error
// through the public exit.
func invokeJSON[T any](ctx context.Context, c *Client, op *operation, opts []Option) (*T, error) {
	cfg, err := c.callConfig(opts, false)
	if err != nil {
		return nil, c.boundary(err)
	}
	ctx, span := c.tracer.Start(ctx, op.Span)
	ex, err := c.run(ctx, cfg, op, false)
	var v *T
	if err == nil {
		v = new(T)
		if err = decodeBody(&ex, func(body []byte) error { return c.decodersFor(cfg).unmarshal(body, v) }); err != nil {
			v = nil
		}
	}
	c.endOperation(span, &ex, err)
	return v, c.boundary(err)
}

// invokeNoBody runs op, which answers a 2xx without a body the SDK reads,
// and returns its error through the public exit.
func (c *Client) invokeNoBody(ctx context.Context, op *operation, opts []Option) error {
	cfg, err := c.callConfig(opts, false)
	if err != nil {
		return c.boundary(err)
	}
	ctx, span := c.tracer.Start(ctx, op.Span)
	ex, err := c.run(ctx, cfg, op, false)
	c.endOperation(span, &ex, err)
	return c.boundary(err)
}

// getInvocation is invokeInvocation inside the boundary: its error is raw,
// and it returns the exchange (headers as sent, attempts) so that Wait
// can honour a Retry-After on a successful poll and count retries. once
// makes it a WaitAll poll.
func (c *Client) getInvocation(ctx context.Context, cfg *config, op *operation, id string, once bool) (inv *Invocation, ex exchange, err error) {
	ctx, span := c.tracer.Start(ctx, op.Span)
	defer func() {
		if span.IsRecording() {
			if id != "" {
				span.SetAttributes(attrInvocationID.String(c.redact.text(id, maxErrorToken)))
			}
			if inv != nil {
				span.SetAttributes(attrInvocationStatus.String(c.redact.text(string(inv.Status), maxErrorToken)))
			}
		}
		c.endOperation(span, &ex, err)
	}()
	ex, err = c.run(ctx, cfg, op, once)
	if err != nil {
		return nil, ex, err
	}
	err = decodeBody(&ex, func(body []byte) (err error) {
		inv, err = decodeInvocation(body, c.decodersFor(cfg))
		if err == nil && id != "" && !sameID(inv.ID, id) {
			// A misrouting proxy or cache: the body is another invocation's.
			err = fmt.Errorf("the response is for invocation %q, not %q", inv.ID, id) // capped at the boundary
		}
		return err
	})
	if err != nil {
		return nil, ex, err
	}
	inv.response = ex.info
	return inv, ex, nil
}

// run builds op's request and executes it. A non-2xx answer is an
// *APIError; the exchange is returned with it when there was one.
func (c *Client) run(ctx context.Context, cfg *config, op *operation, once bool) (exchange, error) {
	req, err := c.newRequest(cfg, op)
	if err != nil {
		return exchange{}, err
	}
	// A no-op span (no OpenTelemetry SDK) has no valid context: the
	// attempts' spans would be no-ops too, and are not started.
	quiet := !trace.SpanFromContext(ctx).SpanContext().IsValid()
	ex, err := c.execute(ctx, call{cfg: cfg, req: req, route: op.Route, once: once, quiet: quiet})
	if err != nil {
		return ex, err
	}
	if s := ex.resp.StatusCode; s < 200 || s > 299 {
		return ex, newAPIError(req, ex.resp, ex.body)
	}
	return ex, nil
}

// decodeBody checks a 2xx answer's content type, then decodes its body. A
// failure is a *ResponseError keeping the body.
func decodeBody(ex *exchange, decode func([]byte) error) error {
	// The content type is checked first: a page labelled text/html is not
	// worth decoding, even when it happens to parse.
	err := checkContentType(ex.resp.Header.Get("Content-Type"))
	if err == nil {
		err = decode(ex.body)
	}
	if err != nil {
		return newResponseError(ex.resp, ex.info.RequestID, ex.body, err)
	}
	return nil
}

// endOperation records the request id on an operation's span and ends it
// with err.
func (c *Client) endOperation(span trace.Span, ex *exchange, err error) {
	if ex.info.RequestID != "" && span.IsRecording() {
		span.SetAttributes(attrRequestID.String(ex.info.RequestID))
	}
	c.endSpan(span, err)
}

// decodersFor returns the decoders for the call's step limit: the
// client's, unless a per-call WithMaxSteps changed it.
func (c *Client) decodersFor(cfg *config) *decoderPool {
	if cfg.maxSteps == c.cfg.maxSteps {
		return c.decoders
	}
	return newDecoderPool(cfg.maxSteps)
}

// newRequest builds op's request on the base URL parsed once: each path
// value checked and escaped as one segment, the query, the declared
// headers and the call's own (WithHeader), the client's credentials, and
// the body marshalled once so that a retry can rewind it. The request
// carries no context: the executor gives each attempt its own.
func (c *Client) newRequest(cfg *config, op *operation) (*http.Request, error) {
	path, raw, err := expand(c.basePath, c.baseRawPath, op.Route, op.Path)
	if err != nil {
		return nil, err
	}
	// The request, its URL and its credentials' values in one allocation.
	a := &struct {
		req   http.Request
		u     url.URL
		creds [3]string
	}{u: *c.base}
	a.u.Path, a.u.RawPath = path, raw
	if len(op.Query) > 0 {
		a.u.RawQuery = op.Query.Encode()
	}
	a.req = http.Request{Method: op.Method, URL: &a.u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, 4+len(op.Header)+len(cfg.header)), Host: a.u.Host}
	req := &a.req
	for k, vs := range op.Header {
		req.Header[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}
	for k, vs := range cfg.header {
		if op.Header.Get(k) != "" {
			return nil, fmt.Errorf("bctrl: WithHeader: %s is a parameter of %s: set it there", k, op.ID)
		}
		req.Header[k] = slices.Clone(vs)
	}
	if op.Body != nil {
		b, err := json.Marshal(op.Body)
		if err != nil {
			return nil, fmt.Errorf("bctrl: %s: encoding the request body: %w", op.ID, err)
		}
		req.Body, _ = bodyReader(b)()
		req.GetBody, req.ContentLength = bodyReader(b), int64(len(b))
		req.Header.Set("Content-Type", "application/json")
	}
	if cfg.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", cfg.idempotencyKey)
	}
	setCredentials(cfg, req, &a.creds)
	return req, nil
}

// expand fills route's {parameters} with values, in order, each checked
// with checkID, and returns the path and its escaped form, each after its
// base. Both are built in one string.
func expand(base, rawBase, route string, values []string) (path, raw string, err error) {
	n, size := 0, len(base)+len(rawBase)+2*len(route)
	for rest := route; ; n++ {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", "", fmt.Errorf("bctrl: route %q: unclosed parameter", route)
		}
		if n >= len(values) {
			return "", "", fmt.Errorf("bctrl: route %q: %d path values for more parameters", route, len(values))
		}
		if err := checkID(values[n]); err != nil {
			return "", "", err
		}
		size += 4 * len(values[n]) // the value and its escaped form, at most 3x
		rest = rest[open+end+1:]
	}
	if n != len(values) {
		return "", "", fmt.Errorf("bctrl: route %q: %d path values for %d parameters", route, len(values), n)
	}
	var b strings.Builder
	b.Grow(size)
	write := func(escape func(string) string) {
		rest, i := route, 0
		for {
			open := strings.IndexByte(rest, '{')
			if open < 0 {
				b.WriteString(rest)
				return
			}
			end := strings.IndexByte(rest[open:], '}')
			b.WriteString(rest[:open])
			b.WriteString(escape(values[i]))
			rest, i = rest[open+end+1:], i+1
		}
	}
	b.WriteString(base)
	write(func(s string) string { return s })
	split := b.Len()
	b.WriteString(rawBase)
	write(url.PathEscape)
	s := b.String()
	return s[:split], s[split:], nil
}
