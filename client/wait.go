package client

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"math/rand/v2"
	"reflect"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Defaults for Wait and Watch. Browser-agent work takes seconds to minutes:
// the first polls come quickly so short invocations return fast, then back
// off to one poll every 5 s (about 12 requests a minute per waiter) while
// nothing moves, and tighten again whenever progress moves.
const (
	DefaultPollMin = 500 * time.Millisecond
	DefaultPollMax = 5 * time.Second
	DefaultMaxWait = 30 * time.Minute
)

// WaitOption configures Wait and Watch.
type WaitOption func(*waitConfig) error

type waitConfig struct {
	pollMin, pollMax time.Duration
	maxWait          time.Duration
	progress         func(*Invocation)
	budget           float64     // WithPollBudget, for WaitAll; 0 if none
	resume           *Invocation // WithResumeFrom (resume.go); nil if none
	callOpts         []Option    // WithRequestOptions: applied to every poll
	call             *config     // the polls' configuration: the client's with callOpts applied

	// jitterSeed, when seeded, seeds the jitter of Watch's backoff (with
	// the id): tests set it to repeat a run of many Waits exactly.
	jitterSeed uint64
	seeded     bool

	// sleep waits d between polls, or until ctx ends. Tests replace it to
	// see the delays Watch chooses without waiting them out.
	sleep func(ctx context.Context, d time.Duration) error
}

// sleep waits d, or until ctx ends and returns its error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// WithPollInterval sets the bounds of the jittered exponential backoff
// between polls (defaults DefaultPollMin and DefaultPollMax). Polling starts
// at min, grows by 1.5x with ±20% jitter up to max while nothing changes,
// and drops back to min when the status or progress moves; every delay,
// jitter included, stays within [min, max].
func WithPollInterval(minDelay, maxDelay time.Duration) WaitOption {
	return func(c *waitConfig) error {
		if minDelay <= 0 || maxDelay < minDelay {
			return fmt.Errorf("bctrl: WithPollInterval: need 0 < min <= max, got %v, %v", minDelay, maxDelay)
		}
		c.pollMin, c.pollMax = minDelay, maxDelay
		return nil
	}
}

// WithMaxWait bounds the whole wait (default DefaultMaxWait); past it, the
// wait ends with an error matching ErrWaitTimeout. Zero means no bound other
// than the context's.
func WithMaxWait(d time.Duration) WaitOption {
	return func(c *waitConfig) error {
		if d < 0 {
			return fmt.Errorf("bctrl: WithMaxWait: negative duration %v", d)
		}
		c.maxWait = d
		return nil
	}
}

// WithProgress calls fn with each observed change of the invocation's status
// or progress (not on every poll), including the first observation and the
// final state. fn runs on the waiting goroutine; keep it quick.
func WithProgress(fn func(*Invocation)) WaitOption {
	return func(c *waitConfig) error {
		c.progress = fn
		return nil
	}
}

// InvocationError is the error of a Wait whose invocation ended without
// succeeding: failed, cancelled, timed_out, or finished with a status this
// SDK does not know. Invocation, Err and FailedSteps are the invocation as
// decoded, the user's data; Status and Error() are scrubbed of the API key
// and capped, like every string the SDK puts in an error.
type InvocationError struct {
	Invocation  *Invocation    // the final invocation
	Status      Status         // its status, scrubbed and capped (Invocation.Status is as sent)
	Err         *ErrorInfo     // its invocation-level error, if any
	FailedSteps []*StepFailure // its failed steps, in order

	msg string // Error(), set by the boundary
}

// Error describes the outcome, the invocation-level error and the first
// failed step.
func (e *InvocationError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.describe(nil)
}

// describe is Error with every string from the server scrubbed by r (a
// nil r only caps them).
func (e *InvocationError) describe(r *redactor) string {
	var b strings.Builder
	id := ""
	if e.Invocation != nil {
		id = e.Invocation.ID
	}
	id = r.text(id, maxErrorToken)
	if status := r.text(string(e.Status), maxErrorToken); e.Status.Known() {
		fmt.Fprintf(&b, "bctrl: invocation %s ended %s", id, status)
	} else {
		fmt.Fprintf(&b, "bctrl: invocation %s finished with status %q, which this SDK does not know", id, status)
	}
	if e.Err != nil {
		b.WriteString(": ")
		if e.Err.Code != "" {
			b.WriteString(r.text(e.Err.Code, maxErrorToken) + ": ")
		}
		b.WriteString(r.text(e.Err.Message, maxErrorString))
	}
	if n := len(e.FailedSteps); n > 0 && e.FailedSteps[0] != nil {
		f := e.FailedSteps[0]
		fmt.Fprintf(&b, "; step %d (%s) failed: %s: %s", f.Index, r.text(f.Call, maxErrorToken),
			r.text(string(f.Error.Code), maxErrorToken), r.text(f.Error.Message, maxErrorString))
		if f.Error.Hint != "" {
			b.WriteString(" (hint: " + r.text(f.Error.Hint, maxErrorString) + ")")
		}
		if n > 1 {
			fmt.Fprintf(&b, " (and %d more failed steps)", n-1)
		}
	}
	return r.text(b.String(), maxErrorMessage)
}

// Is makes errors.Is(err, ErrUnknownStatus) work.
func (e *InvocationError) Is(target error) bool {
	return target == ErrUnknownStatus && !e.Status.Known()
}

func newInvocationError(inv *Invocation) *InvocationError {
	return &InvocationError{Invocation: inv, Status: inv.Status, Err: inv.Error, FailedSteps: inv.FailedSteps()}
}

// WaitError is the error of a Wait or Watch that stopped before the
// invocation ended: the context was cancelled or its deadline passed, the
// maximum wait ran out, or a poll failed in a way that retrying cannot fix
// (404, 401, 403, an invalid response). Last is the last invocation observed,
// if any. ID and Error() are scrubbed of the API key and capped.
type WaitError struct {
	ID   string
	Last *Invocation
	Err  error // context.Canceled, context.DeadlineExceeded, ErrWaitTimeout, or the poll's error

	msg string // Error(), set by the boundary
}

// Error implements error.
func (e *WaitError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.describe(nil)
}

// describe is Error with the id and the last status scrubbed by r (a nil
// r only caps them). e.Err has crossed the boundary already.
func (e *WaitError) describe(r *redactor) string {
	msg := "bctrl: wait for invocation " + r.text(e.ID, maxErrorString) + ": " + inner(e.Err)
	if e.Last != nil {
		msg += "; last status " + r.text(string(e.Last.Status), maxErrorToken)
		if p := e.Last.Progress; p != nil && p.Step != nil && p.TotalSteps != nil {
			msg += fmt.Sprintf(" (step %d/%d)", *p.Step, *p.TotalSteps)
		}
	}
	return r.text(msg, maxErrorMessage)
}

// Unwrap returns the cause.
func (e *WaitError) Unwrap() error { return e.Err }

// Wait polls the invocation until it ends and returns it. It returns
// (inv, nil) when the invocation succeeded; (inv, *InvocationError) when it
// failed, was cancelled or timed out; and (last, *WaitError) when the wait
// stopped first: errors.Is the context's error, ErrWaitTimeout, or the
// fatal poll error (404, 401, 403 stop at once). Transient poll failures
// (after Get's own retries) are polled through until the wait's bounds.
// A Retry-After header on a poll response lengthens the next poll's delay
// to what it asks, bounded by WithRetryAfterCap; it never shortens it.
func (s *InvocationsService) Wait(ctx context.Context, id string, opts ...WaitOption) (*Invocation, error) {
	var last *Invocation
	for inv, err := range s.Watch(ctx, id, opts...) {
		if inv != nil {
			last = inv
		}
		if err != nil {
			return last, err
		}
	}
	return last, nil
}

// Watch polls the invocation and yields each observed change of status or
// progress (the first observation included) with a nil error, until the
// invocation ends. If the invocation ends without succeeding, or the watch
// stops first, Watch yields one last pair: the last invocation seen (nil if
// none) and the error Wait would return. Breaking out of the loop stops
// polling at once.
func (s *InvocationsService) Watch(ctx context.Context, id string, opts ...WaitOption) iter.Seq2[*Invocation, error] {
	return func(yield func(*Invocation, error) bool) {
		cfg, err := s.client.waitConfig(opts, false)
		if err == nil {
			err = checkID(id)
		}
		if err != nil {
			yield(nil, s.client.boundary(err))
			return
		}
		callCfg, op := cfg.call, invocationsGetOp(id)
		if err := cfg.checkResume(id); err != nil { // resume.go
			yield(nil, s.client.boundary(err))
			return
		}
		if cfg.maxWait > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, cfg.maxWait, fmt.Errorf("%w after %v", ErrWaitTimeout, cfg.maxWait))
			defer cancel()
		}
		poll := newBoundedBackOff(cfg.pollMin, cfg.pollMax, 1.5, 0.2)
		if cfg.seeded {
			h := fnv.New64a()
			h.Write([]byte(id))
			poll.seed(rand.New(rand.NewPCG(cfg.jitterSeed, h.Sum64())).Float64)
		}
		resumeBackOff(poll, cfg.resume, time.Now()) // resume.go; nothing without WithResumeFrom

		// One span for the whole wait; each poll's Get span is its child.
		ctx, span := s.client.tracer.Start(ctx, "bctrl.invocations.wait",
			trace.WithAttributes(attrInvocationID.String(s.client.redact.text(id, maxErrorToken))))
		var (
			last           *Invocation
			lastErr        error
			endErr         error
			polls, retries int
		)
		last = cfg.resume // WithResumeFrom: already observed, not yielded again
		began := time.Now()
		defer func() {
			span.SetAttributes(attrPolls.Int(polls), attrRetries.Int(retries))
			if last != nil {
				span.SetAttributes(attrInvocationStatus.String(s.client.redact.text(string(last.Status), maxErrorToken)))
			}
			s.client.metrics.waitDuration.Record(ctx, time.Since(began).Seconds(),
				metric.WithAttributes(attribute.String("bctrl.wait.outcome", outcomeLabel(last, endErr))))
			s.client.endSpan(span, endErr)
		}()
		// Every error Watch yields crosses the boundary here.
		emit := func(inv *Invocation, err error) bool {
			if err != nil {
				endErr = err
				err = s.client.boundary(err)
			}
			return yield(inv, err)
		}
		stop := func(err error) {
			emit(last, &WaitError{ID: id, Last: last, Err: err})
		}
		for {
			inv, ex, err := s.client.getInvocation(ctx, callCfg, op, id, false)
			polls++
			retries += max(ex.attempts-1, 0)
			switch {
			case err == nil:
				// A poll that succeeded counts even if the context ended
				// just after it: a finished invocation is reported as such.
				lastErr = nil
				// A success is always yielded (new unless WithResumeFrom
				// observed it already), so Wait returns it.
				changed := hasChanged(last, inv) || inv.Status.IsSuccess()
				last = inv
				if changed {
					poll.Reset()
					s.observed(ctx, span, inv)
					if cfg.progress != nil {
						cfg.progress(inv)
					}
					if !emit(inv, nil) {
						return
					}
				}
				if inv.Status.IsSuccess() {
					return
				}
				if inv.Ended() {
					emit(inv, newInvocationError(inv))
					return
				}
			case ctx.Err() != nil:
				stop(waitCause(ctx, lastErr))
				return
			case !IsTransient(err):
				stop(err)
				return
			default:
				lastErr = err
			}

			// A Retry-After can lengthen the next delay (up to its cap) but
			// not shorten it: "Retry-After: 0" on every answer must not turn
			// the wait into a busy loop. Retries use the same rule.
			if after, ok := retryAfter(ex.header(), time.Now(), callCfg.retryAfterCap); ok {
				poll.atLeast(after)
			}
			if cfg.sleep(ctx, poll.NextBackOff()) != nil {
				stop(waitCause(ctx, lastErr))
				return
			}
		}
	}
}

// waitConfig applies opts to the defaults, then the request options they
// carry (WithRequestOptions) to a copy of the client's configuration:
// WaitAll's refuse WithMaxRetries.
func (c *Client) waitConfig(opts []WaitOption, waitAll bool) (waitConfig, error) {
	cfg := waitConfig{pollMin: DefaultPollMin, pollMax: DefaultPollMax, maxWait: DefaultMaxWait, sleep: sleep}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return cfg, err
		}
	}
	var err error
	cfg.call, err = c.callConfig(cfg.callOpts, waitAll)
	return cfg, err
}

// observed records an observed change of an invocation on the wait's span
// and in the log.
func (s *InvocationsService) observed(ctx context.Context, span trace.Span, inv *Invocation) {
	c := s.client
	status := c.redact.text(string(inv.Status), maxErrorToken)
	attrs := []attribute.KeyValue{attrInvocationStatus.String(status)}
	args := []any{"id", c.redact.text(inv.ID, maxErrorToken), "status", status, "request_id", inv.RequestID()}
	if p := inv.Progress; p != nil {
		if p.Step != nil {
			attrs = append(attrs, attrProgressStep.Int(*p.Step))
			args = append(args, "step", *p.Step)
		}
		if p.TotalSteps != nil {
			attrs = append(attrs, attrProgressTotal.Int(*p.TotalSteps))
			args = append(args, "total_steps", *p.TotalSteps)
		}
	}
	span.AddEvent("bctrl.invocation.changed", trace.WithAttributes(attrs...))
	if l := s.client.cfg.logger; l != nil {
		l.DebugContext(ctx, logChanged, args...)
	}
}

// waitCause is the context's error (ErrWaitTimeout when the maximum wait
// ran out), with the last transient poll error attached when there was one.
func waitCause(ctx context.Context, lastErr error) error {
	cause := context.Cause(ctx)
	if !errors.Is(cause, ErrWaitTimeout) {
		cause = contextError(ctx)
	}
	if lastErr != nil {
		// Both are wrapped: errors.Is(err, ErrWaitTimeout) and
		// errors.Is(err, ErrRateLimited), errors.As(err, &apiErr) all hold.
		return &wrapped{msg: fmt.Sprint(cause) + " (last poll error: " + inner(lastErr) + ")", errs: []error{cause, lastErr}}
	}
	return cause
}

// IsTransient reports whether err, an error of a call or a poll, may go
// away by trying again: a retryable status (408, 429, 5xx) or a network
// error. Everything else is final: other 4xx answers (404, 401, 403), an
// invalid response or id, a body over the limits, and errors no retry can
// fix (a certificate that does not verify, a redirect loop, a Doer that
// broke net/http's contract). Wait and WaitAll poll again through
// transient errors and stop on final ones; code that polls by itself
// (with Get) can decide the same way.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary()
	}
	return !errors.Is(err, ErrInvalidResponse) && !errors.Is(err, ErrInvalidID) &&
		!errors.Is(err, ErrResponseTooLarge) && !unfixable(err)
}

// What Wait, Watch and WaitAll observe of an invocation: whether it
// changed, whether it ended, and the outcome label of a wait.

// hasChanged reports whether inv differs from last, the invocation
// observed before it (nil for none), in status or progress.
func hasChanged(last, inv *Invocation) bool {
	return last == nil || inv.Status != last.Status || !sameProgress(inv.Progress, last.Progress)
}

// outcomeLabel is the bctrl.wait.outcome label of a wait whose last
// observed invocation is last and whose error is err: the final status
// ("unknown_status" for one this SDK does not know: a server's value is no
// metric label), else "error" when it stopped on an error first, else
// "stopped" (the caller broke out of a Watch).
func outcomeLabel(last *Invocation, err error) string {
	switch {
	case last != nil && last.Ended() && last.Status.Known():
		return string(last.Status)
	case last != nil && last.Ended():
		return "unknown_status"
	case err != nil:
		return "error"
	}
	return "stopped"
}

func sameProgress(a, b *Progress) bool {
	if a == nil || b == nil {
		return a == b
	}
	// By value: optional numbers are pointers, which differ between two
	// decodes of the same report.
	return reflect.DeepEqual(a, b)
}
