package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// The fake's states advance on every poll (Script), and the client polls
// every few milliseconds: the activities run on real time in Temporal's
// test environments, so the intervals are tiny rather than fake.
var fastPoll = client.WithPollInterval(2*time.Millisecond, 5*time.Millisecond)

// setup returns a fake API and activities polling it.
func setup(t *testing.T, opts ...Option) (*bctrltest.Server, *Activities) {
	t.Helper()
	srv := bctrltest.NewServer(t, bctrltest.WithAPIKey("sk-test-0123456789abcdef"))
	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL),
		client.WithHTTPClient(srv.HTTPClient()), client.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewActivities(c, append([]Option{WithWaitOptions(fastPoll)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, a
}

func activityEnv(a *Activities) *testsuite.TestActivityEnvironment {
	return activityEnvWith(a, nil)
}

// activityEnvWith is activityEnv with each heartbeat's details (as the
// activity passed them, before Temporal's throttling) handed to beat.
func activityEnvWith(a *Activities, beat func(details []any)) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	if beat != nil {
		env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&beats{f: beat}}})
	}
	a.Register(env)
	return env
}

// beats is a worker interceptor that sees every RecordHeartbeat call.
type beats struct {
	interceptor.WorkerInterceptorBase
	f func([]any)
}

func (b *beats) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &beatsIn{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, f: b.f}
}

type beatsIn struct {
	interceptor.ActivityInboundInterceptorBase
	f func([]any)
}

func (b *beatsIn) Init(out interceptor.ActivityOutboundInterceptor) error {
	return b.Next.Init(&beatsOut{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: out}, f: b.f})
}

type beatsOut struct {
	interceptor.ActivityOutboundInterceptorBase
	f func([]any)
}

func (b *beatsOut) RecordHeartbeat(ctx context.Context, details ...any) {
	b.f(details)
	b.Next.RecordHeartbeat(ctx, details...)
}

// succeed runs WaitInvocation for id, which must succeed, and returns its
// Result.
func succeed(t *testing.T, a *Activities, id string) Result {
	t.Helper()
	val, err := activityEnv(a).ExecuteActivity(WaitInvocationName, id)
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := val.Get(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// failedSteps returns n failed steps with the message msg.
func failedSteps(n int, msg string) []bctrltest.Step {
	steps := make([]bctrltest.Step, n)
	for i := range steps {
		steps[i] = bctrltest.ErrStep(i, "page.click", "TIMEOUT", msg, "retry")
	}
	return steps
}

func TestWaitInvocationSucceeded(t *testing.T) {
	t.Parallel()
	srv, a := setup(t)
	inv := bctrltest.NewInvocation("inv-1")
	srv.Script("inv-1", inv, bctrltest.Running(inv, 1, 2, "opening"),
		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil)))
	r := succeed(t, a, "inv-1")
	if r.ID != "inv-1" || r.Status != client.StatusSucceeded || r.RequestID == "" || r.FailedStepCount != 0 || r.Invocation != nil {
		t.Fatalf("result %+v", r)
	}
	if n := srv.RequestCount("inv-1"); n != 3 {
		t.Fatalf("%d polls, want 3", n)
	}
}

func TestOutcomesAreNonRetryableWithDetails(t *testing.T) {
	t.Parallel()
	inv := bctrltest.NewInvocation("inv-1")
	for _, tc := range []struct {
		state     bctrltest.Invocation
		typ       string
		failed    int
		activity  string
		wantSteps int
	}{
		{bctrltest.Failed(inv, "boom", failedSteps(40, strings.Repeat("x", 5000))...), ErrTypeFailed, 40, WaitInvocationName, MaxFailedSteps},
		// 1 KiB of control characters is 6 KiB of JSON escapes: 16 such
		// steps would pass MaxResultBytes, so fewer are kept.
		{bctrltest.Failed(inv, "boom", failedSteps(40, strings.Repeat("\x01", 5000))...), ErrTypeFailed, 40, WaitInvocationName, MaxFailedSteps / 2},
		{bctrltest.Failed(inv, "boom", failedSteps(3, "no such element")...), ErrTypeFailed, 3, PollInvocationName, 3},
		{bctrltest.TimedOut(inv), ErrTypeTimedOut, 0, WaitInvocationName, 0},
		{bctrltest.Cancelled(inv), ErrTypeCancelled, 0, PollInvocationName, 0},
		{bctrltest.WithStatus(bctrltest.Succeeded(inv), "vanished"), ErrTypeUnknownStatus, 0, WaitInvocationName, 0},
	} {
		t.Run(fmt.Sprintf("%s/%s/%d", tc.typ, tc.activity, tc.wantSteps), func(t *testing.T) {
			t.Parallel()
			srv, a := setup(t)
			srv.Set(tc.state)
			_, err := activityEnv(a).ExecuteActivity(tc.activity, "inv-1")
			var appErr *sdktemporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != tc.typ || !appErr.NonRetryable() {
				t.Fatalf("err = %v; want a non-retryable ApplicationError of type %s", err, tc.typ)
			}
			r := ResultOf("", err)
			if r.ID != "inv-1" || r.FailedStepCount != tc.failed || len(r.FailedSteps) != tc.wantSteps {
				t.Fatalf("details %+v: want %d failed steps, %d kept", r, tc.failed, tc.wantSteps)
			}
			b, _ := json.Marshal(r)
			if len(b) > MaxResultBytes {
				t.Fatalf("details are %d bytes, over %d", len(b), MaxResultBytes)
			}
		})
	}
}

// Both activities report an outcome with the same message: the
// invocation's error and its first failed step included.
func TestOutcomeMessagesAgree(t *testing.T) {
	t.Parallel()
	srv, a := setup(t)
	srv.Set(bctrltest.Failed(bctrltest.NewInvocation("inv-1"), "boom", failedSteps(2, "no such element")...))
	var msgs []string
	for _, name := range []string{WaitInvocationName, PollInvocationName} {
		_, err := activityEnv(a).ExecuteActivity(name, "inv-1")
		var appErr *sdktemporal.ApplicationError
		if !errors.As(err, &appErr) {
			t.Fatalf("%s: err = %v, want an ApplicationError", name, err)
		}
		msgs = append(msgs, appErr.Message())
	}
	if msgs[0] != msgs[1] || !strings.Contains(msgs[1], "no such element") {
		t.Fatalf("messages differ or lack the failed step:\nwait: %s\npoll: %s", msgs[0], msgs[1])
	}
}

func TestPollErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fault     *bctrltest.Fault
		register  bool
		typ       string
		retryable bool
	}{
		{"not ended", nil, true, ErrTypeNotEnded, true},
		{"503", &bctrltest.Fault{Status: 503}, true, ErrTypeTransient, true},
		{"404", nil, false, ErrTypeNotFound, false},
		{"401", &bctrltest.Fault{Status: 401}, true, ErrTypeUnauthorized, false},
		{"400", &bctrltest.Fault{Status: 400}, true, ErrTypeInvalid, false},
		{"malformed", &bctrltest.Fault{Malformed: true}, true, ErrTypeInvalid, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, a := setup(t)
			if tc.register {
				srv.Set(bctrltest.Running(bctrltest.NewInvocation("inv-1"), 1, 2, ""))
			}
			if tc.fault != nil {
				srv.Fault("inv-1", *tc.fault)
			}
			_, err := activityEnv(a).ExecuteActivity(PollInvocationName, "inv-1")
			var appErr *sdktemporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != tc.typ || appErr.NonRetryable() == tc.retryable {
				t.Fatalf("err = %v; want an ApplicationError of type %s, retryable %v", err, tc.typ, tc.retryable)
			}
		})
	}
}

// heartbeats runs WaitInvocation with the given heartbeat details of an
// earlier attempt (nil: none) and returns the progress steps of the
// heartbeats it recorded (0 for a state without progress).
func heartbeats(t *testing.T, earlier *checkpoint) []int {
	t.Helper()
	srv, a := setup(t)
	inv := bctrltest.NewInvocation("inv-1")
	srv.Script("inv-1", bctrltest.Running(inv, 2, 3, ""), bctrltest.Running(inv, 2, 3, ""),
		bctrltest.Running(inv, 3, 3, ""), bctrltest.Succeeded(inv))
	var (
		mu    sync.Mutex
		steps []int
	)
	env := activityEnvWith(a, func(details []any) {
		if len(details) != 1 {
			t.Errorf("heartbeat with %d details, want 1", len(details))
			return
		}
		cp, ok := details[0].(*checkpoint)
		if !ok || cp.V != checkpointVersion {
			t.Errorf("heartbeat details %#v, want a checkpoint of version %d", details[0], checkpointVersion)
			return
		}
		s := 0
		if cp.Status != client.StatusSucceeded && cp.Progress != nil && cp.Progress.Step != nil {
			s = *cp.Progress.Step
		}
		mu.Lock()
		steps = append(steps, s)
		mu.Unlock()
	})
	if earlier != nil {
		env.SetHeartbeatDetails(earlier)
	}
	if _, err := env.ExecuteActivity(WaitInvocationName, "inv-1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return steps
}

// The second attempt's first poll carries the first's state: the state the
// earlier attempt heartbeated is not reported again. A checkpoint of
// another version or invocation is ignored.
func TestHeartbeatDetailsResumeASecondAttempt(t *testing.T) {
	t.Parallel()
	two, three := 2, 3
	at2 := &checkpoint{V: checkpointVersion, ID: "inv-1", Status: client.StatusRunning,
		Progress: &client.Progress{Step: &two, TotalSteps: &three, LastEventType: "step.started"}}
	future := *at2
	future.V = checkpointVersion + 1
	other := *at2
	other.ID = "inv-2"
	for _, tc := range []struct {
		name    string
		earlier *checkpoint
		want    string
	}{
		{"first attempt", nil, "[2 3 0]"},
		{"resumed at step 2", at2, "[3 0]"},
		{"another version", &future, "[2 3 0]"},
		{"another invocation", &other, "[2 3 0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fmt.Sprint(heartbeats(t, tc.earlier)); got != tc.want {
				t.Fatalf("heartbeats at steps %s, want %s", got, tc.want)
			}
		})
	}
}

func TestInvocationJSON(t *testing.T) {
	t.Parallel()
	inv := bctrltest.NewInvocation("inv-1")
	for _, tc := range []struct {
		name    string
		limit   int
		steps   int
		omitted bool
	}{
		{"fits", 64 << 10, 1, false},
		{"too large", 1 << 10, 40, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, a := setup(t, WithInvocationJSON(tc.limit))
			steps := make([]bctrltest.Step, tc.steps)
			for i := range steps {
				steps[i] = bctrltest.OKStep(i, "page.goto", nil)
			}
			srv.Set(bctrltest.Succeeded(inv, steps...))
			r := succeed(t, a, "inv-1")
			if r.InvocationOmitted != tc.omitted || (len(r.Invocation) > 0) == tc.omitted {
				t.Fatalf("invocation JSON %d bytes, omitted %v; want omitted %v", len(r.Invocation), r.InvocationOmitted, tc.omitted)
			}
		})
	}
}

// nilDoer breaks net/http's contract: no response and no error, which no
// retry can fix.
type nilDoer struct{}

func (nilDoer) Do(*http.Request) (*http.Response, error) { return nil, nil }

// Watch polls through what the client deems transient: an error it stops
// on, of a type this module does not name, is final, not retried.
func TestWaitInvocationStopsOnFinalErrors(t *testing.T) {
	t.Parallel()
	c, err := client.New(client.WithAPIKey("sk-test-0123456789abcdef"), client.WithHTTPClient(nilDoer{}), client.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewActivities(c, WithWaitOptions(fastPoll))
	if err != nil {
		t.Fatal(err)
	}
	_, err = activityEnv(a).ExecuteActivity(WaitInvocationName, "inv-1")
	var appErr *sdktemporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeInvalid || !appErr.NonRetryable() {
		t.Fatalf("err = %v; want a non-retryable ApplicationError of type %s", err, ErrTypeInvalid)
	}
}

// The limit applies to the JSON as written: the boundary re-encodes it, and
// each raw "<" the server sent becomes a six-byte \u003c.
func TestInvocationJSONLimitIsOfWhatIsWritten(t *testing.T) {
	t.Parallel()
	const limit = 8 << 10
	srv, a := setup(t, WithInvocationJSON(limit))
	inv := bctrltest.NewInvocation("inv-1")
	b, err := json.Marshal(bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.textContent", strings.Repeat("<", 4<<10))))
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.ReplaceAll(string(b), `\u003c`, "<")
	if len(raw) > limit {
		t.Fatalf("the body is %d bytes: it must fit the limit as sent", len(raw))
	}
	srv.Set(inv)
	srv.Fault("inv-1", bctrltest.Fault{Status: 200, Body: raw})
	r := succeed(t, a, "inv-1")
	if len(r.Invocation) > limit || !r.InvocationOmitted {
		t.Fatalf("invocation JSON %d bytes, omitted %v; want it omitted, over the %d-byte limit once encoded", len(r.Invocation), r.InvocationOmitted, limit)
	}
}

// An error's details hold the caller's id capped, like every string.
func TestErrorDetailsCapTheID(t *testing.T) {
	t.Parallel()
	_, a := setup(t)
	id := strings.Repeat("i", 5*maxText)
	_, err := activityEnv(a).ExecuteActivity(PollInvocationName, id)
	var appErr *sdktemporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeNotFound {
		t.Fatalf("err = %v; want an ApplicationError of type %s", err, ErrTypeNotFound)
	}
	if r := ResultOf("", err); r.ID == "" || !strings.HasPrefix(id, strings.TrimSuffix(r.ID, "…")) || len(r.ID) > maxText+len("…") {
		t.Fatalf("details hold an id of %d bytes, want a prefix of the id cut to %d", len(r.ID), maxText)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	c, err := client.New(client.WithAPIKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func() error{
		"nil client":              func() error { _, err := NewActivities(nil); return err },
		"invocation JSON 0":       func() error { _, err := NewActivities(c, WithInvocationJSON(0)); return err },
		"invocation JSON 2 MB":    func() error { _, err := NewActivities(c, WithInvocationJSON(2<<20)); return err },
		"poll every 100ms":        func() error { return WithPollActivity(100 * time.Millisecond)(&waitOptions{}) },
		"zero timeout":            func() error { return WithTimeout(0)(&waitOptions{}) },
		"empty task queue":        func() error { return WithTaskQueue("")(&waitOptions{}) },
		"nil activity options fn": func() error { return WithActivityOptions(nil)(&waitOptions{}) },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// An empty id is a non-retryable error of the activity, not a panic.
	_, a := setup(t)
	_, err = activityEnv(a).ExecuteActivity(WaitInvocationName, "")
	var appErr *sdktemporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeInvalid || !appErr.NonRetryable() {
		t.Fatalf("empty id: %v; want a non-retryable %s", err, ErrTypeInvalid)
	}
}
