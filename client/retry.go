package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// The retry policy: which outcomes are worth another attempt (classify),
// and how long to wait before it (boundedBackOff, retryAfter). The
// executor (executor.go) runs the loop.

// Backoff between retries: jittered exponential, as
// github.com/cenkalti/backoff/v5 defaults it.
const (
	backoffMultiplier = backoff.DefaultMultiplier
	backoffJitter     = backoff.DefaultRandomizationFactor
)

// classify decides whether an attempt's outcome is worth another attempt:
// a connection error or a retryable status, unless no retry can fix it.
// A request that is not idempotent is retried only when the server
// provably did not process it.
func classify(o outcome, idempotent bool) bool {
	switch {
	case o.final:
		return false
	case o.err != nil:
		return idempotent || notProcessed(nil, o.err)
	case !retryableStatus(o.resp.StatusCode):
		return false
	}
	return idempotent || notProcessed(o.resp, nil)
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

// unfixable reports whether a transport error is one that no retry can
// fix: the server's certificate does not verify, the server does not
// speak TLS, a user's Doer broke net/http's contract (no response and no
// error, a response with no Body or no Request), a redirect loop, a redirect to a scheme that is not
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
	case errors.Is(err, ErrTooManyRedirects), errors.Is(err, errNoResponse), errors.Is(err, errNoBody),
		errors.Is(err, errNoRequest):
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
	errNoRequest  = errors.New("the HTTP client returned a response with a nil Request (see WithHTTPClient)")
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
