package temporal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/bctrlhq/sdk-go/apitype"
	"github.com/bctrlhq/sdk-go/client"
)

// The names the activities are registered under. They are stable: a
// workflow history names them, so they never change.
const (
	WaitInvocationName = "bctrl.WaitInvocation"
	PollInvocationName = "bctrl.PollInvocation"
)

// Activities waits on bctrl invocations from Temporal activities. Build it
// with NewActivities and register it on a worker with Register.
type Activities struct {
	c        *client.Client
	invMax   int
	waitOpts []client.WaitOption
}

// Option configures NewActivities.
type Option func(*Activities) error

// WithInvocationJSON includes the invocation's JSON, as the API sent it
// with the key scrubbed, in each Result (Result.Invocation) when it is at
// most maxBytes long (at most MaxInvocationBytes, under Temporal's 2 MB
// payload limit); a longer one sets Result.InvocationOmitted instead. By
// default Results hold a summary only.
func WithInvocationJSON(maxBytes int) Option {
	return func(a *Activities) error {
		if maxBytes <= 0 || maxBytes > MaxInvocationBytes {
			return fmt.Errorf("bctrl temporal: WithInvocationJSON: need 0 < maxBytes <= %d, got %d", MaxInvocationBytes, maxBytes)
		}
		a.invMax = maxBytes
		return nil
	}
}

// WithWaitOptions passes options to the Watch of WaitInvocation, such as
// client.WithPollInterval. WaitInvocation sets WithMaxWait(0) (the
// activity's timeouts bound the wait) and WithResumeFrom itself, after
// these.
func WithWaitOptions(opts ...client.WaitOption) Option {
	return func(a *Activities) error {
		a.waitOpts = append(a.waitOpts, opts...)
		return nil
	}
}

// NewActivities returns the activities, polling with c.
func NewActivities(c *client.Client, opts ...Option) (*Activities, error) {
	if c == nil {
		return nil, errors.New("bctrl temporal: NewActivities: nil client")
	}
	a := &Activities{c: c}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Registry is where Register registers the activities: a worker.Worker,
// or a testsuite environment.
type Registry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// Register registers WaitInvocation and PollInvocation on r (a worker)
// under WaitInvocationName and PollInvocationName.
func (a *Activities) Register(r Registry) {
	r.RegisterActivityWithOptions(a.WaitInvocation, activity.RegisterOptions{Name: WaitInvocationName})
	r.RegisterActivityWithOptions(a.PollInvocation, activity.RegisterOptions{Name: PollInvocationName})
}

// checkpointVersion is the version of the heartbeat details. A detail of
// another version is ignored: the attempt starts afresh, which costs one
// report of an unchanged state, never a wrong one.
const checkpointVersion = 1

// checkpoint is WaitInvocation's heartbeat detail: the last observation,
// as much of it as WithResumeFrom needs.
type checkpoint struct {
	V                 int               `json:"v"`
	ID                string            `json:"id"`
	Status            client.Status     `json:"status"`
	Progress          *client.Progress  `json:"progress,omitempty"`
	CreatedAt         apitype.Timestamp `json:"createdAt,omitzero"`
	StartedAt         apitype.Timestamp `json:"startedAt,omitzero"`
	CancelRequestedAt apitype.Timestamp `json:"cancelRequestedAt,omitzero"`
}

func newCheckpoint(s scrubber, inv *client.Invocation) *checkpoint {
	cp := &checkpoint{V: checkpointVersion, ID: text(s, inv.ID), Status: client.Status(text(s, string(inv.Status))),
		CreatedAt: inv.CreatedAt, StartedAt: inv.StartedAt, CancelRequestedAt: inv.CancelRequestedAt}
	if p := inv.Progress; p != nil {
		cp.Progress = &client.Progress{Step: p.Step, TotalSteps: p.TotalSteps,
			Message: text(s, p.Message), CurrentCall: text(s, p.CurrentCall), LastEventType: text(s, p.LastEventType)}
	}
	return cp
}

// invocation is the observation cp records, for WithResumeFrom.
func (cp *checkpoint) invocation() *client.Invocation {
	inv := &client.Invocation{Status: cp.Status}
	inv.ID, inv.Progress = cp.ID, cp.Progress
	inv.CreatedAt, inv.StartedAt, inv.CancelRequestedAt = cp.CreatedAt, cp.StartedAt, cp.CancelRequestedAt
	return inv
}

// resumeFrom returns the observation the previous attempt's last heartbeat
// recorded, or nil if there is none usable.
func resumeFrom(ctx context.Context, id string) *client.Invocation {
	if !activity.HasHeartbeatDetails(ctx) {
		return nil
	}
	var cp checkpoint
	if err := activity.GetHeartbeatDetails(ctx, &cp); err != nil || cp.V != checkpointVersion || cp.ID != id {
		return nil
	}
	return cp.invocation()
}

// heartbeater records the checkpoint on every change, and again at least
// every half heartbeat timeout while nothing changes, so a live attempt is
// never taken for a dead one.
type heartbeater struct {
	a   *Activities
	ctx context.Context

	mu sync.Mutex
	cp *checkpoint // nil before the first observation
}

func (h *heartbeater) record(cp *checkpoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cp != nil {
		h.cp = cp
	}
	if h.cp == nil {
		activity.RecordHeartbeat(h.ctx)
		return
	}
	clean, err := boundary(h.a.c, h.cp)
	if err != nil {
		activity.RecordHeartbeat(h.ctx) // alive, with no details rather than unscrubbed ones
		return
	}
	activity.RecordHeartbeat(h.ctx, clean)
}

// every heartbeats every d until stop is closed.
func (h *heartbeater) every(d time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			h.record(nil)
		}
	}
}

// WaitInvocation waits for invocation id to end, as client's Watch with
// WithMaxWait(0): the activity's own timeouts bound it. It resumes from the
// last heartbeat of a previous attempt (WithResumeFrom), heartbeats on
// every observed change and at least every half heartbeat timeout, and
// stops polling when the activity is cancelled (at its next heartbeat).
//
// A succeeded invocation returns its Result. One that failed, was
// cancelled, timed out or ended with an unknown status fails the activity
// with a non-retryable ApplicationError whose type is ErrTypeFailed,
// ErrTypeCancelled, ErrTypeTimedOut or ErrTypeUnknownStatus and whose
// details are its Result. Watch polls through transient failures, so any
// other error it stops on (404, 401, 403, an invalid response, a TLS or
// redirect failure) is non-retryable too.
func (a *Activities) WaitInvocation(ctx context.Context, id string) (*Result, error) {
	last := resumeFrom(ctx, id)
	h := &heartbeater{a: a, ctx: ctx}
	if last != nil {
		h.cp = newCheckpoint(a.c, last)
	}
	if ht := activity.GetInfo(ctx).HeartbeatTimeout; ht > 0 {
		stop := make(chan struct{})
		defer close(stop)
		go h.every(ht/2, stop)
	}
	opts := append(a.waitOpts[:len(a.waitOpts):len(a.waitOpts)], client.WithMaxWait(0), client.WithResumeFrom(last))
	var final *client.Invocation
	for inv, err := range a.c.Invocations.Watch(ctx, id, opts...) {
		if err != nil {
			return nil, a.failure(ctx, id, err, true)
		}
		final = inv
		h.record(newCheckpoint(a.c, inv))
	}
	if final == nil {
		return nil, a.fail(ErrTypeInvalid, false, "bctrl: wait for invocation "+id+" ended with no observation", a.idOnly(id))
	}
	return a.result(final)
}

// PollInvocation polls invocation id once. If it has not ended, the
// activity fails with a retryable ApplicationError of type ErrTypeNotEnded
// (category benign: expected, not alarming), so that the activity's retry
// policy is the poll interval: with BackoffCoefficient 1 and a dedicated
// task queue whose workers set TaskQueueActivitiesPerSecond, every poll of
// every worker passes one rate the server enforces. An ended invocation is
// reported as WaitInvocation reports it.
func (a *Activities) PollInvocation(ctx context.Context, id string) (*Result, error) {
	inv, err := a.c.Invocations.Get(ctx, id)
	if err != nil {
		return nil, a.failure(ctx, id, err, false)
	}
	switch {
	case inv.Status.IsSuccess():
		return a.result(inv)
	case inv.Ended():
		// The error Watch yields for it, so that both activities say the same.
		return nil, a.outcome(inv, inv.Err().Error())
	}
	return nil, sdktemporal.NewApplicationErrorWithOptions(
		text(a.c, fmt.Sprintf("bctrl: invocation %s is %s", id, inv.Status)), ErrTypeNotEnded,
		sdktemporal.ApplicationErrorOptions{Category: sdktemporal.ApplicationErrorCategoryBenign})
}

// result is the Result of inv, through the boundary.
func (a *Activities) result(inv *client.Invocation) (*Result, error) {
	r := summarize(a.c, inv, a.invMax)
	fit(r)
	clean, err := boundary(a.c, r)
	if err != nil {
		return nil, a.fail(ErrTypeInvalid, false, err.Error(), a.idOnly(inv.ID))
	}
	// The limit is of what is written: the boundary re-encodes the JSON
	// (a raw "<" becomes \u003c, six bytes) and scrubs it.
	if len(clean.Invocation) > a.invMax {
		clean.Invocation, clean.InvocationOmitted = nil, true
	}
	return clean, nil
}

// outcome is the error of an invocation that ended without succeeding.
func (a *Activities) outcome(inv *client.Invocation, msg string) error {
	r, err := a.result(inv)
	if err != nil {
		return err
	}
	return a.fail(outcomeType(inv.Status), false, msg, r)
}

// failure is the activity's error for an error of Get, or of Watch
// (final: see pollErrorType).
func (a *Activities) failure(ctx context.Context, id string, err error, final bool) error {
	var ie *client.InvocationError
	switch {
	case errors.As(err, &ie) && ie.Invocation != nil:
		return a.outcome(ie.Invocation, ie.Error())
	case ctx.Err() != nil:
		// Cancelled, or past the activity's timeout: Temporal reports it.
		return ctx.Err()
	}
	typ, retry := pollErrorType(err, final)
	return a.fail(typ, retry, err.Error(), a.idOnly(id))
}

// idOnly is the Result of an error with no invocation to report: its id,
// through text like every string of a Result.
func (a *Activities) idOnly(id string) *Result { return &Result{ID: text(a.c, id)} }

// fail builds an ApplicationError of type typ; its message and details
// pass the boundary (a Result that does not is left out).
func (a *Activities) fail(typ string, retryable bool, msg string, details *Result) error {
	o := sdktemporal.ApplicationErrorOptions{NonRetryable: !retryable}
	if details != nil {
		if clean, err := boundary(a.c, details); err == nil {
			o.Details = []any{clean}
		}
	}
	return sdktemporal.NewApplicationErrorWithOptions(text(a.c, msg), typ, o)
}
