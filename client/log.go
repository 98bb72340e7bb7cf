package client

import (
	"context"
	"net/http"
	"time"
)

// The client's log records and their levels (WithLogger documents them for
// users). Debug is what a developer reads while debugging: one record per
// HTTP attempt, per retry and per change a Wait observes. Info and above is
// only what needs a human: a request that failed after all its retries
// (Warn) and a rate-limiter wait of slowLimiterWait or more (Info), which
// says WithRateLimit is throttling the program. Values are scrubbed of the
// API key and capped; no body is ever logged.

// slowLimiterWait is how long a request may wait for the rate limiter
// before the wait is logged at Info.
const slowLimiterWait = time.Second

// Messages of the client's log records.
const (
	logAttempt     = "bctrl: http attempt"
	logRetry       = "bctrl: retrying request"
	logGaveUp      = "bctrl: request failed after retries"
	logLimiterWait = "bctrl: rate limiter delayed a request"
	logChanged     = "bctrl: invocation changed"
)

// waitLimiter waits for the rate limiter, logging a wait of
// slowLimiterWait or more.
func (c *Client) waitLimiter(ctx context.Context, cfg *config, req *http.Request) error {
	l := cfg.logger
	if l == nil {
		return c.limiter.Wait(ctx)
	}
	start := time.Now()
	err := c.limiter.Wait(ctx)
	if d := time.Since(start); err == nil && d >= slowLimiterWait {
		l.InfoContext(ctx, logLimiterWait,
			"method", req.Method, "path", c.cleanPath(req), "wait", d,
			"rate", float64(c.limiter.Limit()), "burst", c.limiter.Burst())
	}
	return err
}

// logTry records one HTTP attempt at Debug: its status and request id, or
// its error when no response arrived.
func (c *Client) logTry(ctx context.Context, cfg *config, req *http.Request, n int, start time.Time, o outcome) {
	l := cfg.logger
	if l == nil {
		return
	}
	args := []any{"method", req.Method, "path", c.cleanPath(req), "attempt", n, "duration", time.Since(start)}
	if o.resp != nil {
		args = append(args, "status", o.resp.StatusCode, "request_id", c.requestID(o.resp))
	} else if o.err != nil {
		args = append(args, "error", c.redact.text(o.err.Error(), maxErrorString))
	}
	l.DebugContext(ctx, logAttempt, args...)
}

// logRetryAt records, at Debug, that an attempt failed and is retried
// after delay.
func (c *Client) logRetryAt(ctx context.Context, cfg *config, req *http.Request, attempt int, delay time.Duration, err error) {
	if l := cfg.logger; l != nil {
		l.DebugContext(ctx, logRetry,
			"method", req.Method, "path", c.cleanPath(req),
			"attempt", attempt, "delay", delay,
			"reason", c.redact.text(err.Error(), maxErrorString))
	}
}

// logGaveUpAfter records, at Warn, a request whose retries all failed:
// its last status, or its last error when no response arrived. A request
// that was not retried (a 404, a context that ended) is the caller's to
// report, and is not logged here.
func (c *Client) logGaveUpAfter(ctx context.Context, cfg *config, req *http.Request, attempts int, resp *http.Response, err error) {
	l := cfg.logger
	if l == nil || attempts < 2 {
		return
	}
	args := []any{"method", req.Method, "path", c.cleanPath(req), "attempts", attempts}
	if resp != nil {
		args = append(args, "status", resp.StatusCode, "request_id", c.requestID(resp))
	} else if err != nil {
		args = append(args, "error", c.redact.text(err.Error(), maxErrorString))
	}
	l.WarnContext(ctx, logGaveUp, args...)
}
