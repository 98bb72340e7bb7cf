// Package e2e runs the temporal module against a real Temporal server,
// in process (go.temporal.io/server/temporaltest), with the SDK talking to
// a bctrltest fake over loopback. It is a module of its own so that the
// server's dependencies never reach those who import the temporal module.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/proto"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
	bctrltemporal "github.com/bctrlhq/sdk-go/temporal"
)

// Params is the input of the Wait workflow.
type Params struct {
	IDs       []string
	Poll      time.Duration // > 0: PollInvocation every Poll
	TaskQueue string        // the activities' task queue; "" for the workflow's
	Heartbeat time.Duration // WaitInvocation's heartbeat timeout; 0 for the default
}

// Outcome is what the workflow learned of one invocation.
type Outcome struct {
	ID      string
	Status  client.Status
	ErrType string // the ApplicationError's type; "" on success
	Failed  int    // failed steps
}

// Wait waits for p.IDs and returns their outcomes in the order they ended.
func Wait(ctx workflow.Context, p Params) ([]Outcome, error) {
	var opts []bctrltemporal.WaitOption
	if p.Poll > 0 {
		opts = append(opts, bctrltemporal.WithPollActivity(p.Poll))
	}
	if p.TaskQueue != "" {
		opts = append(opts, bctrltemporal.WithTaskQueue(p.TaskQueue))
	}
	if p.Heartbeat > 0 {
		opts = append(opts, bctrltemporal.WithActivityOptions(func(o *workflow.ActivityOptions) {
			o.HeartbeatTimeout = p.Heartbeat
			o.RetryPolicy.InitialInterval = 100 * time.Millisecond
		}))
	}
	var out []Outcome
	for r, err := range bctrltemporal.WaitInvocations(ctx, p.IDs, opts...) {
		if r == nil {
			return out, err
		}
		o := Outcome{ID: r.ID, Status: r.Status, Failed: r.FailedStepCount}
		var appErr *sdktemporal.ApplicationError
		if errors.As(err, &appErr) {
			o.ErrType = appErr.Type()
		} else if err != nil {
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

// env is a Temporal server and a bctrl fake whose strings hold the key.
type env struct {
	ts  *temporaltest.TestServer
	tc  tclient.Client
	srv *bctrltest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	start := time.Now()
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	t.Logf("Temporal server up in %v", time.Since(start).Round(time.Millisecond))
	srv := bctrltest.NewServer(t, bctrltest.WithRequestLimit(1<<20))
	return &env{ts: ts, tc: ts.GetDefaultClient(), srv: srv}
}

// activities returns activities whose client polls the fake over loopback,
// calling progress (if not nil) with each observed change.
func (e *env) activities(t *testing.T, progress func(*client.Invocation)) *bctrltemporal.Activities {
	t.Helper()
	c, err := client.New(client.WithAPIKey(e.srv.APIKey()), client.WithBaseURL(e.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	opts := []client.WaitOption{client.WithPollInterval(50*time.Millisecond, 250*time.Millisecond)}
	if progress != nil {
		opts = append(opts, client.WithProgress(progress))
	}
	a, err := bctrltemporal.NewActivities(c, bctrltemporal.WithWaitOptions(opts...))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// worker starts a worker on queue with the workflow and, if a is not nil,
// the activities.
func (e *env) worker(t *testing.T, queue string, a *bctrltemporal.Activities, o worker.Options) worker.Worker {
	t.Helper()
	w := worker.New(e.tc, queue, o)
	w.RegisterWorkflow(Wait)
	if a != nil {
		a.Register(w)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return w
}

// run runs the Wait workflow to completion.
func (e *env) run(t *testing.T, queue string, p Params) ([]Outcome, tclient.WorkflowRun, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	run, err := e.tc.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{TaskQueue: queue}, Wait, p)
	if err != nil {
		t.Fatal(err)
	}
	var out []Outcome
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	return out, run, time.Since(start)
}

// scanHistory fails the test if any event of the run's whole history holds
// the key, and returns how many events it scanned.
func (e *env) scanHistory(t *testing.T, run tclient.WorkflowRun, mustHold string) int {
	t.Helper()
	key := []byte(e.srv.APIKey())
	it := e.tc.GetWorkflowHistory(t.Context(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n, held := 0, false
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if i := strings.Index(string(b), string(key)); i >= 0 {
			t.Fatalf("history event %d (%v) holds the API key", ev.GetEventId(), ev.GetEventType())
		}
		held = held || strings.Contains(string(b), mustHold)
	}
	if !held {
		t.Fatalf("no event holds %q: the scan saw none of the server's strings", mustHold)
	}
	return n
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = uuid.NewString()
	}
	return out
}

// TestFiftyInvocations: a workflow waiting on 50 invocations completes with
// the right outcome for each, and its whole history never holds the key.
func TestFiftyInvocations(t *testing.T) {
	e := newEnv(t)
	key := e.srv.APIKey()
	want := map[string]Outcome{}
	list := ids(50)
	for i, id := range list {
		inv := bctrltest.NewInvocation(id)
		var end bctrltest.Invocation
		o := Outcome{ID: id}
		switch {
		case i%10 == 3:
			end = bctrltest.Failed(inv, "rejected "+key, bctrltest.ErrStep(0, "page.fill", "INVALID_ARGS", "bad "+key, ""))
			o.Status, o.ErrType, o.Failed = client.StatusFailed, bctrltemporal.ErrTypeFailed, 1
		case i%10 == 7:
			end = bctrltest.TimedOut(inv)
			o.Status, o.ErrType = client.StatusTimedOut, bctrltemporal.ErrTypeTimedOut
		case i%25 == 5:
			end = bctrltest.Cancelled(inv)
			o.Status, o.ErrType = client.StatusCancelled, bctrltemporal.ErrTypeCancelled
		default:
			end = bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil))
			o.Status = client.StatusSucceeded
		}
		want[id] = o
		every := time.Duration(100+20*(i%10)) * time.Millisecond
		e.srv.Advance(id, every, inv, bctrltest.Running(inv, 1, 2, "typing "+key), bctrltest.Running(inv, 2, 2, ""), end)
	}
	const queue = "fifty"
	e.worker(t, queue, e.activities(t, nil), worker.Options{})
	out, run, took := e.run(t, queue, Params{IDs: list})
	t.Logf("50 invocations (each ending after 0.3-0.84 s) waited for in %v", took.Round(time.Millisecond))
	if len(out) != len(list) {
		t.Fatalf("%d outcomes, want %d", len(out), len(list))
	}
	for _, o := range out {
		if w := want[o.ID]; o != w {
			t.Errorf("outcome %+v, want %+v", o, w)
		}
	}
	n := e.scanHistory(t, run, "rejected [redacted]")
	t.Logf("history: %d events scanned, none holds the key", n)
}

// TestWorkerStoppedMidWait: a worker stops while its activities wait; a
// second worker resumes them from their heartbeats, and no observed change
// of any invocation is reported twice.
func TestWorkerStoppedMidWait(t *testing.T) {
	e := newEnv(t)
	list := ids(10)
	for _, id := range list {
		inv := bctrltest.NewInvocation(id)
		e.srv.Advance(id, 1500*time.Millisecond, inv, bctrltest.Running(inv, 1, 3, ""), bctrltest.Running(inv, 2, 3, ""),
			bctrltest.Running(inv, 3, 3, ""), bctrltest.Succeeded(inv))
	}
	var (
		mu       sync.Mutex
		reported = map[string]int{} // "id status step" -> times
		byWorker [2]int
	)
	progress := func(w int) func(*client.Invocation) {
		return func(inv *client.Invocation) {
			step := 0
			if inv.Progress != nil && inv.Progress.Step != nil {
				step = *inv.Progress.Step
			}
			mu.Lock()
			reported[fmt.Sprint(inv.ID, " ", inv.Status, " ", step)]++
			byWorker[w]++
			mu.Unlock()
		}
	}
	const wfQueue, actQueue = "resume-wf", "resume-act"
	e.worker(t, wfQueue, nil, worker.Options{})
	first := e.worker(t, actQueue, e.activities(t, progress(0)), worker.Options{})

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	run, err := e.tc.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{TaskQueue: wfQueue}, Wait,
		Params{IDs: list, TaskQueue: actQueue, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Mid-wait: every invocation is running step 1 or 2.
	time.Sleep(2500 * time.Millisecond)
	first.Stop()
	stopped := time.Now()
	mu.Lock()
	before := byWorker[0]
	mu.Unlock()
	e.worker(t, actQueue, e.activities(t, progress(1)), worker.Options{})

	var out []Outcome
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped the first worker %v in (after %d reports); the second finished the wait %v later (%v in all)",
		stopped.Sub(start).Round(time.Millisecond), before, time.Since(stopped).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if len(out) != len(list) {
		t.Fatalf("%d outcomes, want %d", len(out), len(list))
	}
	seen := map[string]bool{}
	for _, o := range out {
		if seen[o.ID] || o.Status != client.StatusSucceeded {
			t.Errorf("outcome %+v (reported before: %v)", o, seen[o.ID])
		}
		seen[o.ID] = true
	}
	mu.Lock()
	defer mu.Unlock()
	if byWorker[1] == 0 {
		t.Fatal("the second worker reported nothing: the wait did not move to it")
	}
	for k, n := range reported {
		if n > 1 {
			t.Errorf("%q reported %d times", k, n)
		}
	}
	if len(reported) != len(list)*5 {
		t.Errorf("%d distinct reports, want %d (queued, running 1-3 and succeeded for each)", len(reported), len(list)*5)
	}
}

// TestPollRateAcrossWorkers: PollInvocation on a task queue limited to 5
// activities/s, served by two workers, sends polls at no more than the
// limit's token bucket admits (5/s sustained, a burst of 5), counted at the
// fake.
func TestPollRateAcrossWorkers(t *testing.T) {
	e := newEnv(t)
	const limit = 5
	list := ids(12)
	for _, id := range list {
		inv := bctrltest.NewInvocation(id)
		e.srv.Advance(id, time.Second, inv, bctrltest.Running(inv, 1, 2, ""), bctrltest.Succeeded(inv))
	}
	const wfQueue, pollQueue = "rate-wf", "rate-polls"
	e.worker(t, wfQueue, nil, worker.Options{})
	for range 2 {
		e.worker(t, pollQueue, e.activities(t, nil), worker.Options{TaskQueueActivitiesPerSecond: limit})
	}
	// Demand: 12 invocations polled every second is 12 polls/s.
	out, _, took := e.run(t, wfQueue, Params{IDs: list, Poll: time.Second, TaskQueue: pollQueue})
	if len(out) != len(list) {
		t.Fatalf("%d outcomes, want %d", len(out), len(list))
	}
	var at []time.Time
	for _, r := range e.srv.Requests() {
		if r.ID != "" {
			at = append(at, r.At)
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	peak := 0
	for i := range at {
		j := i
		for j < len(at) && at[j].Sub(at[i]) < time.Second {
			j++
		}
		peak = max(peak, j-i)
	}
	span := at[len(at)-1].Sub(at[0])
	t.Logf("%d polls in %v (%.1f/s on average), at most %d in any 1 s window; limit %d/s; workflow took %v",
		len(at), span.Round(time.Millisecond), float64(len(at))/span.Seconds(), peak, limit, took.Round(time.Millisecond))
	// The server's limiter is a token bucket of rate limit and a burst of
	// one second's worth: any window of w seconds admits at most
	// limit*w + burst dispatches (a poll's arrival at the fake jitters by
	// its start latency, well under the slack of one burst). Over the whole
	// run that bounds the average rate; within 1 s it bounds the peak.
	const burst = limit
	if peak > limit+burst {
		t.Errorf("%d polls in one 1 s window, over the bucket's bound %d (limit %d/s, burst %d)", peak, limit+burst, limit, burst)
	}
	if bound := float64(limit)*span.Seconds() + burst; float64(len(at)) > bound {
		t.Errorf("%d polls in %v, over the bucket's bound %.1f (limit %d/s, burst %d)", len(at), span, bound, limit, burst)
	}
	// The limit was reached: demand was over it, so the test can fail.
	if peak < limit-1 {
		t.Errorf("at most %d polls in a 1 s window: demand never reached the limit, the test proves nothing", peak)
	}
}
