package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// retryableStatus reports whether a response status is worth retrying.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryingDoer is the Doer the generated client sends through. Each attempt
// waits for the client's rate limiter, runs under the attempt timeout, and
// reads the whole body (up to the cap) before the attempt ends, so bodies
// are always drained and closed and connections are reused. Connection
// errors and retryable statuses are retried with jittered exponential
// backoff (github.com/cenkalti/backoff/v5), honouring Retry-After up to a
// cap.
type retryingDoer struct{ c *Client }

// retryableResponse marks a response with a retryable status; it carries the
// server's Retry-After when there is one.
type retryableResponse struct {
	resp     *http.Response
	after    time.Duration
	hasAfter bool
}

func (e *retryableResponse) Error() string { return "status " + e.resp.Status }

// Do sends req with retries. For the SDK's own calls (whose context
// carries a callRecord) it returns errors raw: Get and Watch decide on them
// and pass them through the boundary at their exit. For a call through
// Raw(), Do is the exit, and its error crosses the boundary here.
func (d *retryingDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.do(req)
	if _, own := req.Context().Value(callRecordKey{}).(*callRecord); !own {
		err = d.c.boundary(err)
	}
	return resp, err
}

func (d *retryingDoer) do(req *http.Request) (*http.Response, error) {
	c := d.c
	ctx := req.Context()
	// The first attempt is made before any retry state is built: nearly
	// every call succeeds at once, and pays for no backoff machinery.
	firstResp, firstErr := d.attempt(ctx, req, 1)
	if firstErr == nil {
		c.record(ctx, firstResp, 1)
		return firstResp, nil
	}
	var lastErr error
	attempt := 0
	idempotent := isIdempotent(req)
	bo := newBoundedBackOff(c.cfg.retryMin, c.cfg.retryMax, backoff.DefaultMultiplier, backoff.DefaultRandomizationFactor)
	op := func() (*http.Response, error) {
		attempt++
		if attempt > 1 && req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, backoff.Permanent(fmt.Errorf("not retried: the request body cannot be rewound (last error: %v)", lastErr))
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, backoff.Permanent(fmt.Errorf("rewinding the request body: %w", err))
			}
			req.Body = body
		}
		var resp *http.Response
		var err error
		if attempt == 1 {
			resp, err = firstResp, firstErr
		} else {
			resp, err = d.attempt(ctx, req, attempt)
		}
		var rr *retryableResponse
		if errors.As(err, &rr) && rr.hasAfter {
			bo.atLeast(rr.after)
		}
		if err != nil {
			lastErr = err
			var perm *backoff.PermanentError
			if !idempotent && !errors.As(err, &perm) && !notProcessed(resp, err) {
				return resp, backoff.Permanent(err)
			}
		}
		return resp, err
	}
	resp, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(bo),
		backoff.WithMaxTries(c.maxAttempts(ctx)),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, next time.Duration) {
			c.logRetryAt(ctx, req, attempt, next, err)
		}))
	if err == nil {
		c.record(ctx, resp, attempt)
		return resp, nil
	}
	var rr *retryableResponse
	if errors.As(err, &rr) {
		// Retries exhausted on a retryable status: hand the last response
		// back so the caller builds an APIError from it.
		c.record(ctx, rr.resp, attempt)
		c.logGaveUpAfter(ctx, req, attempt, rr.resp, nil)
		return rr.resp, nil
	}
	c.record(ctx, nil, attempt)
	// backoff.Retry returns the last error still wrapped when it stops on
	// the attempt count rather than on the permanent mark.
	var perm *backoff.PermanentError
	if errors.As(err, &perm) {
		err = perm.Err
	}
	where := req.Method + " " + c.cleanPath(req)
	if ctxErr := contextError(ctx); ctxErr != nil {
		if lastErr != nil && !errors.Is(lastErr, ctxErr) && !errors.Is(lastErr, context.Cause(ctx)) {
			return nil, fmt.Errorf("bctrl: %s: %w (after %s, last error: %v)", where, ctxErr, attempts(attempt), lastErr)
		}
		return nil, fmt.Errorf("bctrl: %s: %w", where, ctxErr)
	}
	c.logGaveUpAfter(ctx, req, attempt, nil, err)
	if attempt > 1 {
		return nil, fmt.Errorf("bctrl: %s: after %s: %w", where, attempts(attempt), err)
	}
	return nil, fmt.Errorf("bctrl: %s: %w", where, err)
}

// isIdempotent reports whether req may be sent again after an attempt whose
// outcome is unknown: an idempotent method, or a request carrying an
// Idempotency-Key.
func isIdempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace,
		http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// notProcessed reports whether a failed attempt provably left the server
// untouched, so that even a non-idempotent request may be retried: the
// connection was never made, or the server answered 429 or 503.
func notProcessed(resp *http.Response, err error) bool {
	if resp != nil {
		return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}

// contextError returns nil while ctx is live. Once it is done, it returns
// the context's cause, wrapped so that errors.Is matches ctx.Err() as well
// (context.Canceled or context.DeadlineExceeded) when the cause is a custom
// one set with context.WithCancelCause or context.WithTimeoutCause.
func contextError(ctx context.Context) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	cause := context.Cause(ctx)
	if cause == nil || errors.Is(cause, err) {
		return err
	}
	return fmt.Errorf("%w: %w", err, cause)
}

// attempt sends req once and reads its body. Errors wrapped in
// backoff.Permanent are not retried.
func (d *retryingDoer) attempt(ctx context.Context, req *http.Request, n int) (resp *http.Response, err error) {
	c := d.c
	start := time.Now()
	// The span starts before the rate limiter so that time spent waiting
	// for a token shows in the trace.
	sctx, req, span := c.startAttempt(ctx, req, n)
	defer func() {
		var out *http.Response
		var rr *retryableResponse
		if resp != nil {
			out = resp
		} else if errors.As(err, &rr) {
			out = rr.resp
		}
		c.endAttempt(span, out, err)
		c.countAttempt(ctx, req.Method, n, out, err)
		if c.cfg.logger != nil {
			args := []any{"method", req.Method, "path", c.cleanPath(req), "attempt", n,
				"duration", time.Since(start)}
			if out != nil {
				args = append(args, "status", out.StatusCode, "request_id", c.requestID(out))
			}
			if err != nil && out == nil {
				args = append(args, "error", c.redact.text(err.Error(), maxErrorString))
			}
			c.cfg.logger.DebugContext(ctx, logAttempt, args...)
		}
	}()
	if err := c.waitLimiter(ctx, req); err != nil {
		if ctxErr := contextError(ctx); ctxErr != nil {
			return nil, backoff.Permanent(ctxErr)
		}
		// The limiter refuses to wait when the next token would come after
		// the context's deadline.
		return nil, backoff.Permanent(fmt.Errorf("%w: waiting for the rate limiter (see WithRateLimit): %v", context.DeadlineExceeded, err))
	}
	actx, cancel := context.WithTimeoutCause(sctx, c.cfg.attemptTimeout, errAttemptTimeout)
	defer cancel()
	resp, err = c.doer.Do(req.WithContext(actx))
	if err != nil {
		if ctxErr := contextError(ctx); ctxErr != nil {
			return nil, backoff.Permanent(ctxErr)
		}
		if context.Cause(actx) == errAttemptTimeout {
			return nil, &attemptTimeoutError{d: c.cfg.attemptTimeout}
		}
		if unfixable(err) {
			return nil, backoff.Permanent(err)
		}
		return nil, err
	}
	// A Doer of the user's own may break the contract net/http keeps; it
	// would do so again, so neither is retried (unfixable), nor polled
	// through by Wait.
	if resp == nil {
		return nil, backoff.Permanent(errNoResponse)
	}
	if resp.Body == nil {
		return nil, backoff.Permanent(errNoBody)
	}
	var body []byte
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// An error body is a few KiB of message at most: read a little of
		// it and drop the rest with the connection.
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyRead))
	} else {
		body, err = readCapped(resp.Body, resp.ContentLength, c.cfg.maxResponseBytes)
	}
	resp.Body.Close()
	switch {
	case errors.Is(err, ErrResponseTooLarge):
		return nil, backoff.Permanent(err)
	case err != nil && ctx.Err() != nil:
		return nil, backoff.Permanent(contextError(ctx))
	case err != nil && context.Cause(actx) == errAttemptTimeout:
		return nil, fmt.Errorf("reading body: %w", &attemptTimeoutError{d: c.cfg.attemptTimeout})
	case err != nil:
		return nil, fmt.Errorf("reading body: %w", err)
	}
	resp.Body = &bufferedBody{Reader: bytes.NewReader(body), b: body}
	if retryableStatus(resp.StatusCode) {
		rr := &retryableResponse{resp: resp}
		rr.after, rr.hasAfter = retryAfter(resp.Header, time.Now(), c.cfg.retryAfterCap)
		return resp, rr
	}
	return resp, nil
}

// unfixable reports whether a transport error is one that no retry can
// fix: the server's certificate does not verify, the server does not
// speak TLS, a user's Doer broke net/http's contract (no response and no
// error, or no Body), a redirect loop, a redirect to a scheme that is not
// http(s) or to an unparsable Location, a malformed URL. Such errors are
// not retried and stop a Wait at once.
func unfixable(err error) bool {
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth),
		errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return true
	case errors.As(err, &recordErr):
		return true // a server that does not speak TLS answering a handshake
	case errors.Is(err, ErrTooManyRedirects), errors.Is(err, errNoResponse), errors.Is(err, errNoBody):
		return true
	}
	msg := err.Error()
	// net/http exposes these only as strings. The second is its
	// tls.RecordHeaderError when the answer to a TLS handshake is HTTP:
	// an https:// base URL pointed at a plain-HTTP server.
	return strings.Contains(msg, "unsupported protocol scheme") ||
		strings.Contains(msg, "server gave HTTP response to HTTPS client") ||
		strings.Contains(msg, "failed to parse Location header") ||
		strings.Contains(msg, "no Host in request URL") ||
		strings.Contains(msg, "server response headers exceeded")
}

// Errors of a Doer that returned what net/http never does.
var (
	errNoResponse = errors.New("the HTTP client returned neither a response nor an error (see WithHTTPClient)")
	errNoBody     = errors.New("the HTTP client returned a response with a nil Body (see WithHTTPClient)")
)

// errAttemptTimeout is the cause of an attempt's context when the attempt
// timeout fires; it tells that apart from the caller's own deadline.
var errAttemptTimeout = errors.New("attempt timed out")

// attemptTimeoutError is the error of an attempt that ran past the attempt
// timeout. Like net/http's timeout errors, it reports Timeout() and matches
// context.DeadlineExceeded.
type attemptTimeoutError struct{ d time.Duration }

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("attempt timed out after %v (see WithAttemptTimeout)", e.d)
}
func (e *attemptTimeoutError) Timeout() bool        { return true }
func (e *attemptTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// boundedBackOff is jittered exponential backoff whose every delay lies
// within [lo, hi]: the jitter of backoff.ExponentialBackOff alone can go
// below the initial interval and above the maximum.
type boundedBackOff struct {
	backoff.ExponentialBackOff
	lo, hi time.Duration
	floor  time.Duration // a server's Retry-After for the next delay only

	// random, when set, draws the jitter (a tests' seeded source) instead
	// of math/rand/v2's global one; jitter is then the randomization
	// factor, and the embedded backoff's is 0.
	random func() float64
	jitter float64
}

func newBoundedBackOff(lo, hi time.Duration, multiplier, jitter float64) *boundedBackOff {
	b := &boundedBackOff{lo: lo, hi: hi}
	b.InitialInterval, b.MaxInterval = lo, hi
	b.Multiplier, b.RandomizationFactor = multiplier, jitter
	b.Reset()
	return b
}

// seed makes the jitter come from random, a function returning values in
// [0, 1).
func (b *boundedBackOff) seed(random func() float64) {
	b.random, b.jitter = random, b.RandomizationFactor
	b.RandomizationFactor = 0
}

// atLeast makes the next delay at least d: a server's Retry-After can
// lengthen a delay (up to the Retry-After cap), never shorten it.
func (b *boundedBackOff) atLeast(d time.Duration) { b.floor = d }

// NextBackOff returns the next delay, clamped to [lo, hi], or the pending
// atLeast floor if that is longer.
func (b *boundedBackOff) NextBackOff() time.Duration {
	d := b.ExponentialBackOff.NextBackOff()
	if b.random != nil {
		d = time.Duration(float64(d) * (1 + b.jitter*(2*b.random()-1)))
	}
	d = max(b.lo, min(d, b.hi))
	d, b.floor = max(d, b.floor), 0
	return d
}

// retryAfter parses a Retry-After header (delay-seconds or HTTP-date) and
// bounds it by limit.
func retryAfter(h http.Header, now time.Time, limit time.Duration) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int64(limit/time.Second)+1)) * time.Second
	} else if errors.Is(err, strconv.ErrRange) && v[0] != '-' && v[0] != '+' {
		d = limit // more seconds than an int64 holds
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, limit), true
}
