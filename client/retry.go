package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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
// server's Retry-After for the backoff library when there is one.
type retryableResponse struct {
	resp  *http.Response
	after *backoff.RetryAfterError // nil without a usable Retry-After
}

func (e *retryableResponse) Error() string { return "status " + e.resp.Status }
func (e *retryableResponse) Unwrap() error {
	if e.after == nil {
		return nil
	}
	return e.after
}

func (d *retryingDoer) Do(req *http.Request) (*http.Response, error) {
	c := d.c
	ctx := req.Context()
	var lastErr error
	attempt := 0
	op := func() (*http.Response, error) {
		attempt++
		resp, err := d.attempt(ctx, req)
		if err != nil {
			lastErr = err
		}
		return resp, err
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = c.cfg.retryMin, c.cfg.retryMax
	resp, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(c.cfg.maxRetries)+1),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, next time.Duration) {
			if c.cfg.logger != nil {
				c.cfg.logger.DebugContext(ctx, "bctrl: retrying request",
					"method", req.Method, "path", req.URL.EscapedPath(),
					"attempt", attempt, "delay", next, "error", err.Error())
			}
		}))
	if err == nil {
		return resp, nil
	}
	var rr *retryableResponse
	if errors.As(err, &rr) {
		// Retries exhausted on a retryable status: hand the last response
		// back so the caller builds an APIError from it.
		return rr.resp, nil
	}
	where := req.Method + " " + req.URL.EscapedPath()
	if ctxErr := context.Cause(ctx); ctxErr != nil {
		if lastErr != nil && !errors.Is(lastErr, ctxErr) {
			return nil, fmt.Errorf("bctrl: %s: %w (after %d attempts, last error: %v)", where, ctxErr, attempt, lastErr)
		}
		return nil, fmt.Errorf("bctrl: %s: %w", where, ctxErr)
	}
	if attempt > 1 {
		return nil, fmt.Errorf("bctrl: %s: after %d attempts: %w", where, attempt, err)
	}
	return nil, fmt.Errorf("bctrl: %s: %w", where, err)
}

// attempt sends req once and reads its body. Errors wrapped in
// backoff.Permanent are not retried.
func (d *retryingDoer) attempt(ctx context.Context, req *http.Request) (*http.Response, error) {
	c := d.c
	if err := c.limiter.Wait(ctx); err != nil {
		if ctxErr := context.Cause(ctx); ctxErr != nil {
			return nil, backoff.Permanent(ctxErr)
		}
		return nil, backoff.Permanent(fmt.Errorf("rate limiter: %w", err))
	}
	actx, cancel := context.WithTimeoutCause(ctx, c.cfg.attemptTimeout, errAttemptTimeout)
	defer cancel()
	resp, err := c.cfg.httpClient.Do(req.Clone(actx))
	if err != nil {
		if ctx.Err() != nil {
			return nil, backoff.Permanent(context.Cause(ctx))
		}
		if context.Cause(actx) == errAttemptTimeout {
			return nil, fmt.Errorf("%w after %v", errAttemptTimeout, c.cfg.attemptTimeout)
		}
		return nil, err
	}
	body, err := readCapped(resp.Body, c.cfg.maxResponseBytes)
	resp.Body.Close()
	switch {
	case errors.Is(err, ErrResponseTooLarge):
		return nil, backoff.Permanent(err)
	case err != nil && ctx.Err() != nil:
		return nil, backoff.Permanent(context.Cause(ctx))
	case err != nil && context.Cause(actx) == errAttemptTimeout:
		return nil, fmt.Errorf("reading body: %w after %v", errAttemptTimeout, c.cfg.attemptTimeout)
	case err != nil:
		return nil, fmt.Errorf("reading body: %w", err)
	}
	resp.Body = &bufferedBody{Reader: bytes.NewReader(body), b: body}
	if retryableStatus(resp.StatusCode) {
		rr := &retryableResponse{resp: resp}
		if after, ok := retryAfter(resp.Header, time.Now(), c.cfg.retryAfterCap); ok {
			rr.after = &backoff.RetryAfterError{Duration: after}
		}
		return resp, rr
	}
	return resp, nil
}

var errAttemptTimeout = errors.New("attempt timed out")

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
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, limit), true
}

// bufferedBody is a response body already read into memory by the retrying
// Doer; bodyOf takes its bytes without copying.
type bufferedBody struct {
	*bytes.Reader
	b []byte
}

func (*bufferedBody) Close() error { return nil }

// bodyOf returns the bytes of a response body and closes it.
func bodyOf(resp *http.Response, limit int64) ([]byte, error) {
	if bb, ok := resp.Body.(*bufferedBody); ok {
		return bb.b, nil
	}
	defer resp.Body.Close()
	return readCapped(resp.Body, limit)
}

// readCapped reads r to the end, failing with ErrResponseTooLarge past
// limit bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes (see WithMaxResponseBytes)", ErrResponseTooLarge, limit)
	}
	return b, nil
}
