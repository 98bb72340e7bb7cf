// temporary: replaced by the request pipeline's executor at merge.
//
// This file is the seam the generated methods (zz_operations.gen.go) call,
// implemented over today's request path (send, the retrying Doer, bodyOf,
// newAPIError, the decoder pool, the boundary). Per-call options are
// accepted and ignored until the pipeline's executor gives them meaning.

package client

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// operation is one API call as a generated method describes it.
type operation struct {
	ID     string      // the spec's operationId, e.g. "getInvocation"
	Span   string      // span name, e.g. "bctrl.invocations.get"
	Method string      // http.MethodGet, http.MethodPost, ...
	Route  string      // the path template as the spec writes it, e.g. "/v1/invocations/{id}"
	Path   []string    // values of the template's {parameters}, in order; each checked with checkID and sent path-escaped as one segment
	Query  url.Values  // query parameters; nil for none
	Header http.Header // header parameters the operation declares (never Authorization); nil for none
	Body   any         // JSON request body, marshalled by the executor; nil for none
}

// invokeInvocation sends op and decodes its 2xx body as an invocation,
// checked to be id's when id != "". Its error has crossed the boundary.
func (c *Client) invokeInvocation(ctx context.Context, op *operation, id string, _ []Option) (*Invocation, error) {
	inv, _, err := c.doInvocation(ctx, op, id)
	return inv, c.boundary(err)
}

// invokeJSON sends op and decodes its 2xx JSON body into a T with the
// client's bounded decoder. Its error has crossed the boundary.
func invokeJSON[T any](ctx context.Context, c *Client, op *operation, _ []Option) (*T, error) {
	v, err := doJSON[T](ctx, c, op)
	return v, c.boundary(err)
}

// invokeNoBody sends op and discards its 2xx body. Its error has crossed
// the boundary.
func (c *Client) invokeNoBody(ctx context.Context, op *operation, _ []Option) error {
	req, rec, err := c.prepare(op)
	if err != nil {
		return c.boundary(err)
	}
	ctx, span := c.tracer.Start(ctx, op.Span)
	_, _, err = c.exchange(ctx, req, rec)
	c.endSpan(span, err)
	return c.boundary(err)
}

// prepare builds op's request and the record the retrying Doer fills in.
func (c *Client) prepare(op *operation) (*http.Request, *callRecord, error) {
	rec := &callRecord{urlTemplate: op.Route}
	req, err := c.operationRequest(op)
	return req, rec, err
}

// exchange sends req, in ctx's span, and returns its 2xx response and body,
// or an *APIError for any other status.
func (c *Client) exchange(ctx context.Context, req *http.Request, rec *callRecord) (*http.Response, []byte, error) {
	req = req.WithContext(context.WithValue(ctx, callRecordKey{}, rec))
	resp, err := c.send(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := bodyOf(resp, c.cfg.maxResponseBytes)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, newAPIError(resp.Request, resp, body)
	}
	return resp, body, nil
}

// doInvocation is invokeInvocation before the boundary, also returning what
// the retrying Doer recorded of the call, for Wait.
func (c *Client) doInvocation(ctx context.Context, op *operation, id string) (inv *Invocation, rec *callRecord, err error) {
	req, rec, err := c.prepare(op)
	if err != nil {
		return nil, rec, err
	}
	ctx, span := c.tracer.Start(ctx, op.Span)
	defer func() {
		if span.IsRecording() {
			if id != "" {
				span.SetAttributes(attrInvocationID.String(c.redact.text(id, maxErrorToken)))
			}
			if rec.info.RequestID != "" {
				span.SetAttributes(attrRequestID.String(rec.info.RequestID))
			}
			if inv != nil {
				span.SetAttributes(attrInvocationStatus.String(c.redact.text(string(inv.Status), maxErrorToken)))
			}
		}
		c.endSpan(span, err)
	}()
	resp, body, err := c.exchange(ctx, req, rec)
	if err != nil {
		return nil, rec, err
	}
	// The content type is checked first: a page labelled text/html is not
	// worth decoding, even when it happens to parse.
	err = checkContentType(resp.Header.Get("Content-Type"))
	if err == nil {
		inv, err = decodeInvocation(body, c.decoders)
	}
	if err == nil && id != "" && !sameID(inv.ID, id) {
		// A misrouting proxy or cache: the body is another invocation's.
		err = fmt.Errorf("the response is for invocation %q, not %q", inv.ID, id) // capped at the boundary
		inv = nil
	}
	if err != nil {
		return nil, rec, newResponseError(resp, rec.info.RequestID, body, err)
	}
	inv.response = rec.info
	return inv, rec, nil
}

// doJSON is invokeJSON before the boundary.
func doJSON[T any](ctx context.Context, c *Client, op *operation) (v *T, err error) {
	req, rec, err := c.prepare(op)
	if err != nil {
		return nil, err
	}
	ctx, span := c.tracer.Start(ctx, op.Span)
	defer func() { c.endSpan(span, err) }()
	resp, body, err := c.exchange(ctx, req, rec)
	if err != nil {
		return nil, err
	}
	err = checkContentType(resp.Header.Get("Content-Type"))
	if err == nil && len(bytes.TrimSpace(body)) == 0 {
		err = errors.New("empty body")
	}
	v = new(T)
	if err == nil {
		err = c.decoders.unmarshal(body, v)
	}
	if err != nil {
		return nil, newResponseError(resp, rec.info.RequestID, body, err)
	}
	return v, nil
}

// operationRequest builds op's request on the base URL, each path value
// checked and escaped as one segment, the body marshalled as JSON.
// The caller gives it its context.
func (c *Client) operationRequest(op *operation) (*http.Request, error) {
	// Two passes: the first checks the values and sizes the path, so that
	// it is built in one allocation, and its escaped form only when a
	// value needs escaping.
	n, escape := len(c.base.Path)+len(op.Route), false
	for _, v := range op.Path {
		if err := checkID(v); err != nil {
			return nil, err
		}
		n += len(v)
		escape = escape || url.PathEscape(v) != v
	}
	if strings.Count(op.Route, "{") != len(op.Path) {
		return nil, fmt.Errorf("bctrl: %s: route %q does not match its %d path values", op.ID, op.Route, len(op.Path))
	}
	var path, raw strings.Builder
	path.Grow(n)
	path.WriteString(c.base.Path)
	if escape {
		raw.Grow(3 * n)
		raw.WriteString(c.base.EscapedPath())
	}
	rest := op.Route
	for _, v := range op.Path {
		open := strings.IndexByte(rest, '{')
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("bctrl: %s: route %q does not match its %d path values", op.ID, op.Route, len(op.Path))
		}
		path.WriteString(rest[:open])
		path.WriteString(v)
		if escape {
			raw.WriteString(rest[:open])
			raw.WriteString(url.PathEscape(v))
		}
		rest = rest[open+end+1:]
	}
	path.WriteString(rest)
	if escape {
		raw.WriteString(rest)
	}
	u := *c.base
	u.Path, u.RawPath = path.String(), raw.String()
	if len(op.Query) > 0 {
		u.RawQuery = op.Query.Encode()
	}
	var body []byte
	if op.Body != nil {
		b, err := stdjson.Marshal(op.Body)
		if err != nil {
			return nil, fmt.Errorf("bctrl: %s: encoding the request body: %w", op.ID, err)
		}
		body = b
	}
	req := &http.Request{Method: op.Method, URL: &u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, 4), Host: u.Host}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range op.Header {
		if http.CanonicalHeaderKey(k) == "Authorization" {
			continue // the client sends its own key
		}
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	return req, nil
}
