package temporal

import (
	"errors"
	"fmt"
	"iter"
	"time"

	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Defaults of the workflow helpers.
const (
	// DefaultTimeout bounds a whole wait, every attempt included: the
	// activity's schedule-to-close timeout (and WaitInvocation's
	// start-to-close timeout too).
	DefaultTimeout = time.Hour
	// DefaultHeartbeatTimeout is WaitInvocation's heartbeat timeout: a
	// worker that dies mid-wait is noticed within it, and the wait resumes
	// on another worker from the last heartbeat.
	DefaultHeartbeatTimeout = 30 * time.Second
	// MaxFanOut is how many ids WaitInvocations takes. Temporal allows
	// 2,000 pending activities per workflow; for more ids, start child
	// workflows of up to MaxFanOut ids each.
	MaxFanOut = 1000
)

// WaitOption configures WaitInvocation and WaitInvocations.
type WaitOption func(*waitOptions) error

type waitOptions struct {
	poll      time.Duration // > 0: PollInvocation every poll
	timeout   time.Duration
	taskQueue string
	edit      func(*workflow.ActivityOptions)
}

// WithPollActivity waits with PollInvocation, one poll per activity
// attempt, every interval (a retry policy with BackoffCoefficient 1),
// instead of one long WaitInvocation activity. Use it for infrequent
// polls (every 10 s or more), or when every poll of every worker must pass
// one rate: run its workers on a dedicated task queue (WithTaskQueue) with
// worker.Options.TaskQueueActivitiesPerSecond.
func WithPollActivity(interval time.Duration) WaitOption {
	return func(o *waitOptions) error {
		if interval < time.Second {
			return fmt.Errorf("bctrl temporal: WithPollActivity: interval %v is under 1 s: poll that often with WaitInvocation", interval)
		}
		o.poll = interval
		return nil
	}
}

// WithTimeout bounds the whole wait (default DefaultTimeout).
func WithTimeout(d time.Duration) WaitOption {
	return func(o *waitOptions) error {
		if d <= 0 {
			return fmt.Errorf("bctrl temporal: WithTimeout: %v is not positive", d)
		}
		o.timeout = d
		return nil
	}
}

// WithTaskQueue runs the activities on task queue q rather than the
// workflow's.
func WithTaskQueue(q string) WaitOption {
	return func(o *waitOptions) error {
		if q == "" {
			return errors.New("bctrl temporal: WithTaskQueue: empty name")
		}
		o.taskQueue = q
		return nil
	}
}

// WithActivityOptions lets edit change the activity options the helper
// chose (timeouts, retry policy) before the activity is scheduled.
func WithActivityOptions(edit func(*workflow.ActivityOptions)) WaitOption {
	return func(o *waitOptions) error {
		if edit == nil {
			return errors.New("bctrl temporal: WithActivityOptions: nil function")
		}
		o.edit = edit
		return nil
	}
}

// activity returns the activity name and context the options select.
func activityOf(ctx workflow.Context, opts []WaitOption) (string, workflow.Context, error) {
	o := waitOptions{timeout: DefaultTimeout}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return "", nil, err
		}
	}
	name := WaitInvocationName
	ao := workflow.ActivityOptions{
		TaskQueue: o.taskQueue,
		// Both: a start-to-close timeout alone bounds one attempt, and the
		// retry policy (no attempt limit) would start the wait over forever.
		ScheduleToCloseTimeout: o.timeout,
		StartToCloseTimeout:    o.timeout,
		HeartbeatTimeout:       DefaultHeartbeatTimeout,
		WaitForCancellation:    true,
		RetryPolicy: &sdktemporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: NonRetryableErrorTypes,
		},
	}
	if o.poll > 0 {
		name = PollInvocationName
		ao.StartToCloseTimeout = time.Minute // one Get, with the client's retries
		ao.HeartbeatTimeout = 0
		ao.RetryPolicy = &sdktemporal.RetryPolicy{
			InitialInterval:        o.poll,
			BackoffCoefficient:     1,
			MaximumInterval:        o.poll,
			NonRetryableErrorTypes: NonRetryableErrorTypes,
		}
	}
	if o.edit != nil {
		o.edit(&ao)
	}
	return name, workflow.WithActivityOptions(ctx, ao), nil
}

// WaitInvocation waits from a workflow for invocation id to end, with the
// WaitInvocation activity (or PollInvocation, WithPollActivity). It
// returns the Result and nil when the invocation succeeded. Otherwise the
// error is the activity's (errors.As a *temporal.ApplicationError, whose
// Type() is one of the ErrType constants) and the Result is the one its
// details carry when the invocation ended, or one with only ID set.
func WaitInvocation(ctx workflow.Context, id string, opts ...WaitOption) (*Result, error) {
	name, actx, err := activityOf(ctx, opts)
	if err != nil {
		return &Result{ID: id}, err
	}
	return get(ctx, id, workflow.ExecuteActivity(actx, name, id))
}

// get waits for the future of an activity waiting on id.
func get(ctx workflow.Context, id string, f workflow.Future) (*Result, error) {
	var r Result
	if err := f.Get(ctx, &r); err != nil {
		return ResultOf(id, err), err
	}
	return &r, nil
}

// ResultOf returns the Result an activity's error carries in its details
// (an invocation that ended without succeeding), or one with only ID set.
func ResultOf(id string, err error) *Result {
	var appErr *sdktemporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() {
		var r Result
		if appErr.Details(&r) == nil && r.ID != "" {
			return &r
		}
	}
	return &Result{ID: id}
}

// WaitInvocations waits from a workflow for many invocations at once, one
// activity each, and yields each Result as its invocation ends, in the
// order they end, with the error WaitInvocation would return. Duplicate
// ids are waited for and yielded once. More than MaxFanOut ids, or an
// invalid option, is yielded as one error before any activity starts.
// Breaking out of the loop cancels the activities still running.
func WaitInvocations(ctx workflow.Context, ids []string, opts ...WaitOption) iter.Seq2[*Result, error] {
	return func(yield func(*Result, error) bool) {
		if len(ids) > MaxFanOut {
			yield(nil, fmt.Errorf("bctrl temporal: WaitInvocations: %d ids, more than %d: split them over child workflows", len(ids), MaxFanOut))
			return
		}
		ctx, cancel := workflow.WithCancel(ctx)
		defer cancel()
		name, actx, err := activityOf(ctx, opts)
		if err != nil {
			yield(nil, err)
			return
		}
		sel := workflow.NewSelector(ctx)
		var (
			res     *Result
			resErr  error
			pending int
		)
		seen := make(map[string]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			pending++
			sel.AddFuture(workflow.ExecuteActivity(actx, name, id), func(f workflow.Future) {
				res, resErr = get(ctx, id, f)
			})
		}
		for ; pending > 0; pending-- {
			sel.Select(ctx)
			if !yield(res, resErr) {
				return
			}
		}
	}
}
