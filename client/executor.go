package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The executor sends one call: a request the operation built (or, for
// Raw, the generated client built) and the call's configuration, both
// passed as values. It is the only place that retries, waits for the
// rate limiter and reads bodies; nothing that steers a call travels in a
// context value. Its errors are raw: they cross the boundary at the public
// exits (the operation methods, Wait, Watch, WaitAll, and Raw's Doer).

// call is one execution: what to send and under which configuration.
type call struct {
	cfg   *config       // the client's, or a per-call copy (callConfig)
	req   *http.Request // carries the caller's context; its body is rewound per attempt
	route string        // the path template, for spans; "" when unknown (Raw)
	once  bool          // a WaitAll poll: one attempt, its token taken by the scheduler
	quiet bool          // the operation's span is a no-op: so would the attempts' be
}

// exchange is what the executor returns for a call that got an answer: the
// final response (any status) with its body read, and the call's
// metadata.
type exchange struct {
	resp     *http.Response // the final response; Body is already read and closed
	body     []byte         // its body, capped
	attempts int
	info     ResponseInfo // scrubbed, as the user sees it
}

// header returns the final response's headers as sent, or nil.
func (ex *exchange) header() http.Header {
	if ex.resp == nil {
		return nil
	}
	return ex.resp.Header
}

// outcome is one attempt's result.
type outcome struct {
	resp  *http.Response
	body  []byte
	err   error
	final bool          // no retry can fix err
	after time.Duration // the server's Retry-After, capped
	hasRA bool
}

// execute sends cl with retries: a plain loop over classify's decision.
// It returns an exchange for every call that ends with a response, 2xx or
// not (the caller turns a non-2xx into an *APIError), and an error when
// none arrived (the exchange then has no response, but its attempts).
// The ResponseInfo the caller asked for (WithResponseInto,
// WithResponseInfo) is filled in either way.
func (c *Client) execute(ctx context.Context, cl call) (exchange, error) {
	cfg, req := cl.cfg, cl.req
	maxAttempts := cfg.maxRetries + 1
	if cl.once {
		maxAttempts = 1
	}
	idempotent := isIdempotent(req)
	var (
		bo      *boundedBackOff
		o       outcome
		lastErr error
		n       int
	)
	for n = 1; ; n++ {
		if n > 1 {
			if err := rewind(req, lastErr); err != nil {
				o = outcome{err: err, final: true}
				break
			}
		}
		o = c.attempt(ctx, cl, n)
		if o.err != nil {
			lastErr = o.err
		}
		if n >= maxAttempts || !classify(o, idempotent) {
			break
		}
		if bo == nil {
			// Built on the first retry only: nearly every call succeeds at
			// once, and pays for no backoff state.
			bo = newBoundedBackOff(cfg.retryMin, cfg.retryMax, backoffMultiplier, backoffJitter)
		}
		if o.hasRA {
			bo.atLeast(o.after)
		}
		delay := bo.NextBackOff()
		if o.err == nil {
			lastErr = errors.New("status " + o.resp.Status)
		}
		c.logRetryAt(ctx, cfg, req, n, delay, lastErr)
		if sleep(ctx, delay) != nil {
			o = outcome{err: contextError(ctx), final: true}
			break
		}
	}
	ex := exchange{resp: o.resp, body: o.body, attempts: n}
	ex.info = c.responseInfo(o.resp, n)
	deliver(ctx, cfg, ex.info)
	if o.err == nil {
		if n > 1 && retryableStatus(o.resp.StatusCode) {
			c.logGaveUpAfter(ctx, cfg, req, n, o.resp, nil)
		}
		return ex, nil
	}
	return ex, c.callError(ctx, cfg, req, n, lastErr, o.err)
}

// callError is the error of a call that got no answer it could return.
func (c *Client) callError(ctx context.Context, cfg *config, req *http.Request, n int, lastErr, err error) error {
	where := req.Method + " " + c.cleanPath(req)
	if ctxErr := contextError(ctx); ctxErr != nil {
		if lastErr != nil && !errors.Is(lastErr, ctxErr) && !errors.Is(lastErr, context.Cause(ctx)) {
			return &wrapped{msg: "bctrl: " + where + ": " + inner(ctxErr) + " (after " + attempts(n) + ", last error: " + inner(lastErr) + ")",
				errs: []error{ctxErr}}
		}
		return wrapError(where, ctxErr)
	}
	c.logGaveUpAfter(ctx, cfg, req, n, nil, err)
	if n > 1 {
		where += ": after " + attempts(n)
	}
	return wrapError(where, err)
}

// rewind gives req a fresh body before a retry.
func rewind(req *http.Request, lastErr error) error {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	if req.GetBody == nil {
		return fmt.Errorf("not retried: the request body cannot be rewound (last error: %v)", lastErr)
	}
	body, err := req.GetBody()
	if err != nil {
		return fmt.Errorf("rewinding the request body: %w", err)
	}
	req.Body = body
	return nil
}

// attempt sends the call once. Telemetry wraps it: the attempt's span
// starts before the rate limiter (so a wait for a token shows in the
// trace), and its span, metrics and log record are written from the
// outcome alone.
func (c *Client) attempt(ctx context.Context, cl call, n int) outcome {
	start := time.Now()
	sctx, req, span := c.startAttempt(ctx, cl, n)
	o := c.send(ctx, sctx, cl, req)
	c.endAttempt(span, o.resp, o.err)
	c.countAttempt(ctx, req.Method, n, o.resp, o.err)
	c.logTry(ctx, cl.cfg, req, n, start, o)
	return o
}

// send is one attempt without its telemetry: the rate limiter (taken here,
// and only here), the attempt timeout, the Doer, and the body, read whole
// (up to the cap) and closed, so connections are reused.
func (c *Client) send(ctx, sctx context.Context, cl call, req *http.Request) outcome {
	cfg := cl.cfg
	if !cl.once {
		if err := c.waitLimiter(ctx, cfg, req); err != nil {
			if ctxErr := contextError(ctx); ctxErr != nil {
				return outcome{err: ctxErr, final: true}
			}
			// The limiter refuses to wait when the next token would come
			// after the context's deadline.
			return outcome{err: fmt.Errorf("%w: waiting for the rate limiter (see WithRateLimit): %v", context.DeadlineExceeded, err), final: true}
		}
	}
	actx, cancel := context.WithTimeoutCause(sctx, cfg.attemptTimeout, errAttemptTimeout)
	defer cancel()
	resp, err := c.doer.Do(req.WithContext(actx))
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if ctxErr := contextError(ctx); ctxErr != nil {
			return outcome{err: ctxErr, final: true}
		}
		if context.Cause(actx) == errAttemptTimeout {
			return outcome{err: &attemptTimeoutError{d: cfg.attemptTimeout}}
		}
		return outcome{err: err, final: unfixable(err)}
	}
	// A Doer of the user's own may break the contract net/http keeps; it
	// would do so again, so this is neither retried (unfixable) nor polled
	// through by Wait.
	if err := checkContract(resp); err != nil {
		return outcome{err: err, final: true}
	}
	var body []byte
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// An error body is a few KiB of message at most: read a little of
		// it and drop the rest with the connection.
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyRead))
	} else {
		body, err = readCapped(resp.Body, resp.ContentLength, cfg.maxResponseBytes)
	}
	resp.Body.Close()
	switch {
	case errors.Is(err, ErrResponseTooLarge):
		return outcome{err: err, final: true}
	case err != nil && ctx.Err() != nil:
		return outcome{err: contextError(ctx), final: true}
	case err != nil && context.Cause(actx) == errAttemptTimeout:
		return outcome{err: fmt.Errorf("reading body: %w", &attemptTimeoutError{d: cfg.attemptTimeout})}
	case err != nil:
		return outcome{err: fmt.Errorf("reading body: %w", err)}
	}
	// What follows reads the exchange, never resp.Body or resp.Request:
	// the body is in hand, and the request is the executor's own.
	resp.Body = http.NoBody
	o := outcome{resp: resp, body: body}
	if retryableStatus(resp.StatusCode) {
		o.after, o.hasRA = retryAfter(resp.Header, time.Now(), cfg.retryAfterCap)
	}
	return o
}

// checkContract refuses a response net/http would never return.
func checkContract(resp *http.Response) error {
	switch {
	case resp == nil:
		return errNoResponse
	case resp.Body == nil:
		return errNoBody
	case resp.Request == nil:
		resp.Body.Close()
		return errNoRequest
	}
	return nil
}

// responseInfo is the call's metadata as the user sees it: headers and
// request id scrubbed of the key and capped, like an error's.
func (c *Client) responseInfo(resp *http.Response, attempts int) ResponseInfo {
	info := ResponseInfo{Attempts: attempts}
	if resp != nil {
		info.StatusCode = resp.StatusCode
		info.Header = c.cleanHeader(resp.Header)
		info.RequestID = c.requestID(resp)
	}
	return info
}

// cleanHeader is the redactor's capped, scrubbed copy of h, or a plain
// clone of h when that copy would equal it (the common case, which skips
// the redactor's per-value copies). Never h itself: the map came from the
// Doer, which may keep and change it after the check.
func (c *Client) cleanHeader(h http.Header) http.Header {
	if len(h) > maxErrorHeader {
		return c.redact.header(h)
	}
	for k, vs := range h {
		if len(vs) > 8 || c.redact.text(k, maxErrorToken) != k {
			return c.redact.header(h)
		}
		for _, v := range vs {
			if c.redact.text(v, maxErrorString) != v {
				return c.redact.header(h)
			}
		}
	}
	return h.Clone()
}

// deliver writes info where the call asked for it: WithResponseInto, and
// the user's WithResponseInfo context (an input, never the SDK's wiring).
func deliver(ctx context.Context, cfg *config, info ResponseInfo) {
	if cfg.responseInto != nil {
		*cfg.responseInto = info
	}
	if p, ok := ctx.Value(responseInfoKey{}).(*ResponseInfo); ok && p != nil {
		*p = info
	}
}

// bodyReader returns a fresh reader over a request body held in memory.
func bodyReader(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}
