package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// waitAll is the workflow of these tests: it waits for ids with
// WaitInvocations and returns "id:status" for each, in the order yielded.
func waitAll(ctx workflow.Context, ids []string, poll time.Duration) ([]string, error) {
	var opts []WaitOption
	if poll > 0 {
		opts = append(opts, WithPollActivity(poll))
	}
	var out []string
	for r, err := range WaitInvocations(ctx, ids, opts...) {
		if r == nil {
			return out, err
		}
		out = append(out, fmt.Sprintf("%s:%s", r.ID, r.Status))
	}
	return out, nil
}

func workflowEnv(t *testing.T, a *Activities) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(waitAll)
	a.Register(env)
	return env
}

// runs returns a script that runs n polls and then succeeds.
func runs(id string, n int) []bctrltest.Invocation {
	inv := bctrltest.NewInvocation(id)
	out := []bctrltest.Invocation{}
	for i := range n {
		out = append(out, bctrltest.Running(inv, i+1, n, ""))
	}
	return append(out, bctrltest.Succeeded(inv))
}

func TestWaitInvocationsYieldsAsTheyEnd(t *testing.T) {
	t.Parallel()
	srv, a := setup(t)
	srv.Script("slow", runs("slow", 60)...)
	srv.Script("fast", runs("fast", 0)...)
	srv.Script("mid", runs("mid", 15)...)
	srv.Set(bctrltest.Failed(bctrltest.NewInvocation("bad"), "boom"))
	env := workflowEnv(t, a)
	env.ExecuteWorkflow(waitAll, []string{"slow", "fast", "mid", "fast"}, time.Duration(0))
	var got []string
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	if want := []string{"fast:succeeded", "mid:succeeded", "slow:succeeded"}; !slices.Equal(got, want) {
		t.Fatalf("yielded %v, want %v (in the order they end, the duplicate once)", got, want)
	}
	if n := srv.RequestCount("fast"); n != 1 {
		t.Fatalf("fast polled %d times, want once", n)
	}
}

func TestWaitInvocationsRefusesMoreThanMaxFanOut(t *testing.T) {
	t.Parallel()
	_, a := setup(t)
	env := workflowEnv(t, a)
	var started int
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { started++ })
	ids := make([]string, MaxFanOut+1)
	for i := range ids {
		ids[i] = fmt.Sprint("inv-", i)
	}
	env.ExecuteWorkflow(waitAll, ids, time.Duration(0))
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "more than 1000") || started != 0 {
		t.Fatalf("err = %v after %d activities; want a refusal before any", err, started)
	}
}

// A 503 fails one PollInvocation attempt (the client does not retry here);
// the retry policy polls again, and again while it has not ended.
func TestTransient503IsRetried(t *testing.T) {
	t.Parallel()
	srv, a := setup(t)
	srv.Script("inv-1", runs("inv-1", 1)...)
	srv.Fault("inv-1", bctrltest.Fault{Status: 503, Times: 1})
	env := workflowEnv(t, a)
	env.ExecuteWorkflow(waitAll, []string{"inv-1"}, time.Second)
	var got []string
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"inv-1:succeeded"}) {
		t.Fatalf("got %v", got)
	}
	if n := srv.RequestCount("inv-1"); n != 3 {
		t.Fatalf("%d polls, want 3: the 503, running, succeeded", n)
	}
}

func TestFailedOutcomeReachesTheWorkflow(t *testing.T) {
	t.Parallel()
	srv, a := setup(t)
	srv.Set(bctrltest.Failed(bctrltest.NewInvocation("inv-1"), "boom", failedSteps(2, "no such element")...))
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	a.Register(env)
	var got *Result
	var gotErr error
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		got, gotErr = WaitInvocation(ctx, "inv-1")
		return nil
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var appErr *sdktemporal.ApplicationError
	if !errors.As(gotErr, &appErr) || appErr.Type() != ErrTypeFailed {
		t.Fatalf("err = %v, want an ApplicationError of type %s", gotErr, ErrTypeFailed)
	}
	if got.Status != client.StatusFailed || got.FailedStepCount != 2 || got.Error == nil || got.Error.Message != "boom" {
		t.Fatalf("result %+v", got)
	}
	// One attempt: the outcome is not retried.
	if n := srv.RequestCount("inv-1"); n != 1 {
		t.Fatalf("%d polls, want 1", n)
	}
}

// The options the helpers choose.
func TestActivityOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []WaitOption
		want func(workflow.ActivityOptions) bool
	}{
		{"wait", nil, func(o workflow.ActivityOptions) bool {
			return o.WaitForCancellation && o.HeartbeatTimeout == DefaultHeartbeatTimeout &&
				o.StartToCloseTimeout == DefaultTimeout && o.ScheduleToCloseTimeout == DefaultTimeout && slices.Equal(o.RetryPolicy.NonRetryableErrorTypes, NonRetryableErrorTypes)
		}},
		{"poll", []WaitOption{WithPollActivity(10 * time.Second), WithTaskQueue("bctrl-polls")}, func(o workflow.ActivityOptions) bool {
			r := o.RetryPolicy
			return o.TaskQueue == "bctrl-polls" && o.ScheduleToCloseTimeout == DefaultTimeout && o.HeartbeatTimeout == 0 &&
				r.BackoffCoefficient == 1 && r.InitialInterval == 10*time.Second && r.MaximumInterval == 10*time.Second
		}},
		{"edited", []WaitOption{WithTimeout(time.Minute), WithActivityOptions(func(o *workflow.ActivityOptions) { o.HeartbeatTimeout = time.Second })},
			func(o workflow.ActivityOptions) bool {
				return o.StartToCloseTimeout == time.Minute && o.ScheduleToCloseTimeout == time.Minute && o.HeartbeatTimeout == time.Second
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			var got workflow.ActivityOptions
			env.ExecuteWorkflow(func(ctx workflow.Context) error {
				_, actx, err := activityOf(ctx, tc.opts)
				if err == nil {
					got = workflow.GetActivityOptions(actx)
				}
				return err
			})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			if !tc.want(got) {
				t.Fatalf("activity options %+v", got)
			}
		})
	}
}

// Cancelling the activity's context stops polling: no poll after the
// activity returns.
func TestCancellationStopsPolling(t *testing.T) {
	t.Parallel()
	srv, a := setup(t)
	srv.Set(bctrltest.Running(bctrltest.NewInvocation("inv-1"), 1, 2, ""))
	ctx, cancel := context.WithCancel(t.Context())
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	a.Register(env)
	go func() {
		for srv.RequestCount("inv-1") < 3 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := env.ExecuteActivity(WaitInvocationName, "inv-1")
	// The test environment reports the context's error as the failure;
	// a server, which requested the cancellation, records it as cancelled.
	if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("err = %v, want the context's cancellation", err)
	}
	n := srv.RequestCount("inv-1")
	time.Sleep(50 * time.Millisecond) // ten poll intervals
	if m := srv.RequestCount("inv-1"); m != n {
		t.Fatalf("%d polls after the activity returned", m-n)
	}
}

// recorder is a data converter that keeps every payload it writes.
type recorder struct {
	converter.DataConverter
	mu       sync.Mutex
	payloads [][]byte
}

func (r *recorder) ToPayload(v any) (*commonpb.Payload, error) {
	p, err := r.DataConverter.ToPayload(v)
	if err == nil {
		r.mu.Lock()
		r.payloads = append(r.payloads, p.GetData())
		r.mu.Unlock()
	}
	return p, err
}

func (r *recorder) ToPayloads(vs ...any) (*commonpb.Payloads, error) {
	ps, err := r.DataConverter.ToPayloads(vs...)
	if err == nil {
		r.mu.Lock()
		for _, p := range ps.GetPayloads() {
			r.payloads = append(r.payloads, p.GetData())
		}
		r.mu.Unlock()
	}
	return ps, err
}

// The server puts the key in every string it can; nothing the module
// writes (inputs, results, heartbeat details, failure messages and
// details) holds it. The e2e test scans a real server's whole history.
func TestTheKeyIsNeverWritten(t *testing.T) {
	t.Parallel()
	srv, a := setup(t, WithInvocationJSON(MaxInvocationBytes))
	key := srv.APIKey()
	inv := bctrltest.NewInvocation("inv-ok")
	srv.Script("inv-ok", bctrltest.Running(inv, 1, 2, "typing "+key), bctrltest.Succeeded(inv,
		bctrltest.OKStep(0, "page.fill", map[string]string{"typed": key})))
	bad := bctrltest.NewInvocation("inv-bad")
	srv.Script("inv-bad", bctrltest.Running(bad, 1, 2, key), bctrltest.FailedWith(bad,
		client.ErrorInfo{Code: "auth." + key, Message: "rejected " + key},
		bctrltest.ErrStep(0, "page.fill", "INVALID_ARGS", "bad key "+key, "try "+key),
		// The key straddles the 1 KiB cut: its first half must not survive it.
		bctrltest.ErrStep(1, "page.fill", "INVALID_ARGS", strings.Repeat("x", maxText-len(key)/2)+key, "")))

	rec := &recorder{DataConverter: converter.GetDefaultDataConverter()}
	env := workflowEnv(t, a)
	env.SetDataConverter(rec)
	var results []*Result
	var errs []string
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		for r, err := range WaitInvocations(ctx, []string{"inv-ok", "inv-bad"}) {
			results = append(results, r)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%v %+v", err, err))
			}
		}
		return nil
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || len(errs) != 1 {
		t.Fatalf("%d results, %d errors; want 2 and 1", len(results), len(errs))
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := strings.Join(errs, "\n")
	for _, p := range rec.payloads {
		seen += "\n" + string(p)
	}
	for _, r := range results {
		b, _ := json.Marshal(r)
		seen += "\n" + string(b)
	}
	if strings.Contains(seen, key) || strings.Contains(seen, key[:len(key)/2]) {
		t.Fatalf("the API key, or its first half, was written:\n%s", seen)
	}
	// The test can fail: the server's strings did reach the payloads.
	if !strings.Contains(seen, "rejected [redacted]") || !strings.Contains(seen, `typing [redacted]`) {
		t.Fatalf("the server's strings are missing from what was written:\n%.2000s", seen)
	}
}
