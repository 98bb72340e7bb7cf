package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

const waitID = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"

// bounded returns the test's context with a deadline, so that a Wait that
// never ends fails the test instead of hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fastPoll keeps Wait tests quick: no test sleeps for a real poll interval.
var fastPoll = client.WithPollInterval(time.Millisecond, 5*time.Millisecond)

// hits records when each request reached a test server, so tests count
// requests and measure the gaps between them on the server side.
type hits struct {
	mu sync.Mutex
	at []time.Time
}

// record notes a request and returns how many have arrived, this one
// included.
func (h *hits) record() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.at = append(h.at, time.Now())
	return len(h.at)
}

func (h *hits) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.at)
}

// gaps returns the time between consecutive requests.
func (h *hits) gaps() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	var g []time.Duration
	for i := 1; i < len(h.at); i++ {
		g = append(g, h.at[i].Sub(h.at[i-1]))
	}
	return g
}

// sequence returns a handler that answers the n-th request with bodies[n-1],
// and with the last body once they run out.
func sequence(h *hits, bodies ...[]byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := h.record()
		w.Header().Set("Content-Type", "application/json")
		w.Write(forID(r, bodies[min(n, len(bodies))-1]))
	}
}

// atStep returns the running fixture with its progress at step.
func atStep(t *testing.T, step int) []byte {
	t.Helper()
	return fixtureWith(t, "running", func(m map[string]any) {
		m["progress"].(map[string]any)["step"] = step
	})
}

// withStatus returns the running fixture with another status, finished or
// not.
func withStatus(t *testing.T, status string, finished bool) []byte {
	t.Helper()
	return fixtureWith(t, "running", func(m map[string]any) {
		m["status"] = status
		if finished {
			m["finishedAt"] = "2026-11-27T08:01:20.000Z"
		}
	})
}

// repeat returns n copies of b.
func repeat(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestWaitOutcomes(t *testing.T) {
	t.Parallel()
	type want struct {
		status    client.Status
		polls     int
		errCode   string // the InvocationError's Err.Code; "" for success
		failed    []int  // indexes of the InvocationError's FailedSteps
		isUnknown bool   // errors.Is(err, client.ErrUnknownStatus)
	}
	cases := []struct {
		name   string
		bodies [][]byte
		want   want
	}{
		{"succeeded", [][]byte{spectest.Fixture(t, "queued"), atStep(t, 1), spectest.Fixture(t, "succeeded")},
			want{status: client.StatusSucceeded, polls: 3}},
		{"failed", [][]byte{atStep(t, 1), spectest.Fixture(t, "failed")},
			want{status: client.StatusFailed, polls: 2, errCode: "STEP_FAILED", failed: []int{2}}},
		{"cancelled", [][]byte{atStep(t, 1), spectest.Fixture(t, "cancelled")},
			want{status: client.StatusCancelled, polls: 2, errCode: "CANCELLED"}},
		{"timed out", [][]byte{atStep(t, 1), spectest.Fixture(t, "timed_out")},
			want{status: client.StatusTimedOut, polls: 2, errCode: "TIMEOUT", failed: []int{0}}},
		{"unknown status, finished", [][]byte{atStep(t, 1), withStatus(t, "archived", true)},
			want{status: "archived", polls: 2, isUnknown: true}},
		{"unknown status keeps polling until finished", append(repeat(withStatus(t, "paused", false), 3), spectest.Fixture(t, "succeeded")),
			want{status: client.StatusSucceeded, polls: 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			c, _ := setup(t, sequence(&h, tc.bodies...))
			inv, err := c.Invocations.Wait(bounded(t), waitID, fastPoll)
			if inv == nil {
				t.Fatalf("Wait returned no invocation (err %v)", err)
			}
			if inv.Status != tc.want.status {
				t.Errorf("status = %q, want %q", inv.Status, tc.want.status)
			}
			if n := h.count(); n != tc.want.polls {
				t.Errorf("polls = %d, want %d", n, tc.want.polls)
			}
			if tc.want.status.IsSuccess() {
				if err != nil {
					t.Fatalf("Wait: %v", err)
				}
				return
			}
			var ie *client.InvocationError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want an *InvocationError", err, err)
			}
			if ie.Invocation != inv || ie.Status != tc.want.status {
				t.Errorf("InvocationError{Invocation: %p, Status: %q}, want {%p, %q}", ie.Invocation, ie.Status, inv, tc.want.status)
			}
			if got := errors.Is(err, client.ErrUnknownStatus); got != tc.want.isUnknown {
				t.Errorf("errors.Is(err, ErrUnknownStatus) = %v, want %v", got, tc.want.isUnknown)
			}
			var code string
			if ie.Err != nil {
				code = ie.Err.Code
			}
			if code != tc.want.errCode {
				t.Errorf("Err.Code = %q, want %q", code, tc.want.errCode)
			}
			var failed []int
			for _, f := range ie.FailedSteps {
				failed = append(failed, f.Index)
			}
			if diff := cmp.Diff(tc.want.failed, failed); diff != "" {
				t.Errorf("FailedSteps indexes (-want +got):\n%s", diff)
			}
			// The message names the invocation and its status, its error
			// and its first failed step.
			want := []string{inv.ID, string(inv.Status)}
			if ie.Err != nil {
				want = append(want, client.ErrorInfoText(ie.Err))
			}
			if len(ie.FailedSteps) > 0 {
				f := ie.FailedSteps[0]
				want = append(want, fmt.Sprintf("step %d (%s) failed: %s", f.Index, f.Call, client.StepErrorText(&f.Error)))
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// observation is what a test keeps of one observed invocation.
type observation struct {
	Status client.Status
	Step   int
}

func observe(inv *client.Invocation) observation {
	o := observation{Status: inv.Status}
	if inv.Progress != nil && inv.Progress.Step != nil {
		o.Step = *inv.Progress.Step
	}
	return o
}

func TestWaitProgressOnChangeOnly(t *testing.T) {
	t.Parallel()
	var bodies [][]byte
	bodies = append(bodies, repeat(spectest.Fixture(t, "queued"), 3)...)
	bodies = append(bodies, repeat(atStep(t, 1), 3)...)
	bodies = append(bodies, repeat(atStep(t, 2), 2)...)
	bodies = append(bodies, spectest.Fixture(t, "succeeded"))
	var h hits
	c, _ := setup(t, sequence(&h, bodies...))

	var got []observation
	_, err := c.Invocations.Wait(bounded(t), waitID, fastPoll,
		client.WithProgress(func(inv *client.Invocation) { got = append(got, observe(inv)) }))
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if n := h.count(); n != len(bodies) {
		t.Errorf("polls = %d, want %d", n, len(bodies))
	}
	want := []observation{{client.StatusQueued, 0}, {client.StatusRunning, 1}, {client.StatusRunning, 2}, {client.StatusSucceeded, 4}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress calls for %d polls (-want +got):\n%s", len(bodies), diff)
	}
}

// TestWaitBacksOffAndTightens serves an invocation that does not move for
// eleven polls, then moves on every poll, and measures the gaps between polls
// on the server: they grow towards the maximum while nothing moves and drop
// back to the minimum once progress moves.
func TestWaitBacksOffAndTightens(t *testing.T) {
	t.Parallel()
	const minPoll, maxPoll = 2 * time.Millisecond, 60 * time.Millisecond
	const still, moving = 11, 6
	bodies := repeat(atStep(t, 1), still)
	for i := range moving {
		bodies = append(bodies, atStep(t, 2+i))
	}
	bodies = append(bodies, spectest.Fixture(t, "succeeded"))
	var h hits
	c, _ := setup(t, sequence(&h, bodies...))
	if _, err := c.Invocations.Wait(bounded(t), waitID, client.WithPollInterval(minPoll, maxPoll)); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	g := h.gaps()
	if len(g) != len(bodies)-1 {
		t.Fatalf("%d polls, want %d", len(g)+1, len(bodies))
	}
	t.Logf("gaps between polls: %v", g)
	// Ten unchanged polls take the delay from 2 ms to the 60 ms maximum
	// (1.5x a poll, jitter ±20%, clamped); timers never fire early.
	if last := g[still-1]; last < maxPoll/2 {
		t.Errorf("gap after %d unchanged polls = %v, want at least %v: polling did not back off", still, last, maxPoll/2)
	}
	// Once progress moves on every poll, each delay is the minimum again.
	movingGaps := slices.Clone(g[still : still+moving-1])
	slices.Sort(movingGaps)
	if median := movingGaps[len(movingGaps)/2]; median > g[still-1]/2 {
		t.Errorf("median gap while progress moves = %v, want under half the backed-off gap %v: polling did not tighten", median, g[still-1])
	}
}

func TestWaitPollIntervalBounds(t *testing.T) {
	t.Parallel()
	// With min == max, jitter has no room: every gap is at least min.
	const interval = 15 * time.Millisecond
	cases := []struct {
		name   string
		bodies [][]byte
	}{
		{"nothing moves", append(repeat(atStep(t, 1), 5), spectest.Fixture(t, "succeeded"))},
		{"progress moves", [][]byte{atStep(t, 1), atStep(t, 2), atStep(t, 3), atStep(t, 4), atStep(t, 5), spectest.Fixture(t, "succeeded")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			c, _ := setup(t, sequence(&h, tc.bodies...))
			if _, err := c.Invocations.Wait(bounded(t), waitID, client.WithPollInterval(interval, interval)); err != nil {
				t.Fatalf("Wait: %v", err)
			}
			g := h.gaps()
			if len(g) != len(tc.bodies)-1 {
				t.Fatalf("%d polls, want %d", len(g)+1, len(tc.bodies))
			}
			for i, d := range g {
				if d < interval {
					t.Errorf("gap %d = %v, below the minimum poll interval %v", i, d, interval)
				}
			}
		})
	}
}

func TestWaitMaxWait(t *testing.T) {
	t.Parallel()
	var h hits
	c, _ := setup(t, sequence(&h, atStep(t, 1)))
	// Long enough for several 1-5 ms polls on a loaded machine.
	const maxWait = 200 * time.Millisecond
	start := time.Now()
	inv, err := c.Invocations.Wait(bounded(t), waitID, fastPoll, client.WithMaxWait(maxWait))
	elapsed := time.Since(start)
	if !errors.Is(err, client.ErrWaitTimeout) {
		t.Fatalf("err = %v, want ErrWaitTimeout", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v matches context.DeadlineExceeded, but the caller's context did not end", err)
	}
	var we *client.WaitError
	if !errors.As(err, &we) || we.ID != waitID || we.Last == nil || we.Last.Status != client.StatusRunning {
		t.Fatalf("err = %#v, want a *WaitError for %s with the last running invocation", err, waitID)
	}
	if inv != we.Last {
		t.Errorf("Wait returned %p, want the last observed invocation %p", inv, we.Last)
	}
	if elapsed < maxWait || elapsed > 3*time.Second {
		t.Errorf("Wait took %v, want about %v", elapsed, maxWait)
	}
	if h.count() < 2 {
		t.Errorf("polls = %d, want several before the maximum wait", h.count())
	}
}

var errStopped = errors.New("caller stopped waiting")

// TestWaitContextEnds ends the caller's context while Wait sleeps between
// two polls of 10 s, or while a poll hangs, and checks that Wait returns at
// once with the context's error and the last observed invocation.
func TestWaitContextEnds(t *testing.T) {
	t.Parallel()
	after := func(d time.Duration, f func()) func() { return func() { time.AfterFunc(d, f) } }
	cases := []struct {
		name string
		hang bool // polls after the first hang until the client gives up
		// start returns the wait's context and a trigger, called once the
		// first poll is observed.
		start func(t *testing.T) (context.Context, func())
		want  []error
	}{
		{"cancelled while sleeping", false, func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancel(t.Context())
			t.Cleanup(cancel)
			return ctx, after(20*time.Millisecond, cancel)
		}, []error{context.Canceled}},
		{"deadline while sleeping", false, func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			t.Cleanup(cancel)
			return ctx, func() {}
		}, []error{context.DeadlineExceeded}},
		{"cancelled with a cause", false, func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(t.Context())
			t.Cleanup(func() { cancel(nil) })
			return ctx, after(20*time.Millisecond, func() { cancel(errStopped) })
		}, []error{context.Canceled, errStopped}},
		{"cancelled during a hung poll", true, func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancel(t.Context())
			t.Cleanup(cancel)
			return ctx, after(20*time.Millisecond, cancel)
		}, []error{context.Canceled}},
		{"deadline during a hung poll", true, func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			t.Cleanup(cancel)
			return ctx, func() {}
		}, []error{context.DeadlineExceeded}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			running := atStep(t, 1)
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if h.record() > 1 && tc.hang {
					<-r.Context().Done()
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write(running)
			})
			ctx, trigger := tc.start(t)
			var once sync.Once
			poll := client.WithPollInterval(10*time.Second, 10*time.Second)
			if tc.hang {
				poll = fastPoll
			}
			start := time.Now()
			inv, err := c.Invocations.Wait(ctx, waitID, poll,
				client.WithProgress(func(*client.Invocation) { once.Do(trigger) }))
			// Without a prompt return: 10 s (poll) or 30 s (attempt timeout).
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("Wait returned %v after it started, want promptly after the context ended", elapsed)
			}
			for _, target := range tc.want {
				if !errors.Is(err, target) {
					t.Errorf("err = %v, want errors.Is %v", err, target)
				}
			}
			var we *client.WaitError
			if !errors.As(err, &we) {
				t.Fatalf("err = %v (%T), want a *WaitError", err, err)
			}
			if we.Last == nil || we.Last.Status != client.StatusRunning || we.Last != inv {
				t.Errorf("WaitError.Last = %v, returned %p; want the running invocation, returned too", we.Last, inv)
			}
		})
	}
}

func TestWaitHonoursRetryAfterOnSuccess(t *testing.T) {
	t.Parallel()
	const limit = 60 * time.Millisecond
	// Uncapped, the Retry-After values below would stall a poll for an
	// hour; the upper bound is loose because the machine may be busy.
	cases := []struct {
		name           string
		retryAfter     func() string
		poll           client.WaitOption
		minGap, maxGap time.Duration
	}{
		{"seconds, capped", func() string { return "3600" }, fastPoll, limit, 5 * time.Second},
		{"HTTP date, capped", func() string { return time.Now().Add(time.Hour).UTC().Format(http.TimeFormat) }, fastPoll, limit, 5 * time.Second},
		// Retry-After never shortens the poll delay: "0" on every answer
		// must not turn the wait into a busy loop.
		{"zero does not shorten", func() string { return "0" }, client.WithPollInterval(30*time.Millisecond, 30*time.Millisecond), 30 * time.Millisecond, 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			running, succeeded := atStep(t, 1), spectest.Fixture(t, "succeeded")
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if h.record() == 1 {
					w.Header().Set("Retry-After", tc.retryAfter())
					w.Write(running)
					return
				}
				w.Write(succeeded)
			}, client.WithRetryAfterCap(limit))
			if _, err := c.Invocations.Wait(bounded(t), waitID, tc.poll); err != nil {
				t.Fatalf("Wait: %v", err)
			}
			g := h.gaps()
			if len(g) != 1 {
				t.Fatalf("%d polls, want 2", len(g)+1)
			}
			if g[0] < tc.minGap || g[0] > tc.maxGap {
				t.Errorf("gap after Retry-After %q = %v, want between %v and %v", tc.name, g[0], tc.minGap, tc.maxGap)
			}
		})
	}
}

func TestWaitStopsOnFinal4xx(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status   int
		sentinel error
	}{
		{http.StatusNotFound, client.ErrNotFound},
		{http.StatusUnauthorized, client.ErrUnauthorized},
		{http.StatusForbidden, client.ErrForbidden},
		{http.StatusBadRequest, nil},
	}
	for _, tc := range cases {
		for _, afterRunning := range []bool{false, true} {
			for _, retries := range []int{0, client.DefaultMaxRetries} {
				name := http.StatusText(tc.status)
				if afterRunning {
					name += " after a running poll"
				}
				t.Run(name+" retries="+strconv.Itoa(retries), func(t *testing.T) {
					t.Parallel()
					var h hits
					running := atStep(t, 1)
					c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
						if h.record() == 1 && afterRunning {
							w.Header().Set("Content-Type", "application/json")
							w.Write(running)
							return
						}
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(tc.status)
						w.Write([]byte(`{"code":"x","error":"no"}`))
					}, client.WithMaxRetries(retries))
					// The maximum wait only makes a regression fail fast.
					inv, err := c.Invocations.Wait(bounded(t), waitID, fastPoll, client.WithMaxWait(2*time.Second))
					want := 1
					if afterRunning {
						want = 2
					}
					if n := h.count(); n != want {
						t.Errorf("requests = %d, want %d: a %d must stop the wait at once", n, want, tc.status)
					}
					var apiErr *client.APIError
					if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status {
						t.Fatalf("err = %v, want an *APIError with status %d", err, tc.status)
					}
					if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
						t.Errorf("err = %v, want errors.Is %v", err, tc.sentinel)
					}
					var we *client.WaitError
					if !errors.As(err, &we) {
						t.Fatalf("err = %T, want a *WaitError", err)
					}
					if afterRunning != (we.Last != nil) || we.Last != inv {
						t.Errorf("WaitError.Last = %v, returned %v; want the running invocation only after a running poll", we.Last, inv)
					}
				})
			}
		}
	}
}

func TestWaitPollsThroughTransientErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		retries  int
		statuses []int // answers before the invocation is served
	}{
		{"poll again after failed polls", 0, []int{503, 502, 500}},
		{"Get retries inside a poll", client.DefaultMaxRetries, []int{503, 429}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			succeeded := spectest.Fixture(t, "succeeded")
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if n := h.record(); n <= len(tc.statuses) {
					http.Error(w, "try later", tc.statuses[n-1])
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write(succeeded)
			}, client.WithMaxRetries(tc.retries))
			inv, err := c.Invocations.Wait(bounded(t), waitID, fastPoll)
			if err != nil || inv.Status != client.StatusSucceeded {
				t.Fatalf("Wait = %v, %v; want the succeeded invocation", inv, err)
			}
			if n := h.count(); n != len(tc.statuses)+1 {
				t.Errorf("requests = %d, want %d", n, len(tc.statuses)+1)
			}
		})
	}
}

func TestWatchYieldsEachChange(t *testing.T) {
	t.Parallel()
	var bodies [][]byte
	bodies = append(bodies, repeat(spectest.Fixture(t, "queued"), 2)...)
	bodies = append(bodies, repeat(atStep(t, 1), 2)...)
	bodies = append(bodies, atStep(t, 2), spectest.Fixture(t, "failed"))
	var h hits
	c, _ := setup(t, sequence(&h, bodies...))

	type yielded struct {
		Obs observation
		Err bool
	}
	var got []yielded
	for inv, err := range c.Invocations.Watch(bounded(t), waitID, fastPoll) {
		if err != nil {
			var ie *client.InvocationError
			if !errors.As(err, &ie) || ie.Invocation != inv {
				t.Fatalf("Watch yielded (%v, %v), want the failed invocation and its *InvocationError", inv, err)
			}
		}
		got = append(got, yielded{observe(inv), err != nil})
	}
	want := []yielded{
		{observation{client.StatusQueued, 0}, false},
		{observation{client.StatusRunning, 1}, false},
		{observation{client.StatusRunning, 2}, false},
		{observation{client.StatusFailed, 3}, false},
		{observation{client.StatusFailed, 3}, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Watch yielded (-want +got):\n%s", diff)
	}
	if n := h.count(); n != len(bodies) {
		t.Errorf("polls = %d, want %d", n, len(bodies))
	}
}

func TestWatchBreakStopsPolling(t *testing.T) {
	t.Parallel()
	for _, breakAfter := range []int{1, 3} {
		t.Run("break after "+strconv.Itoa(breakAfter), func(t *testing.T) {
			t.Parallel()
			// Progress moves on every poll, so every poll yields.
			var bodies [][]byte
			for i := range 100 {
				bodies = append(bodies, atStep(t, i+1))
			}
			var h hits
			c, _ := setup(t, sequence(&h, bodies...))
			seen := 0
			for _, err := range c.Invocations.Watch(bounded(t), waitID, fastPoll) {
				if err != nil {
					t.Fatalf("Watch: %v", err)
				}
				seen++
				if seen == breakAfter {
					break
				}
			}
			// At 1-5 ms a poll, a watcher that kept polling would make
			// several more requests while we settle.
			time.Sleep(100 * time.Millisecond)
			if n := h.count(); n != breakAfter {
				t.Errorf("requests = %d after breaking out at yield %d, want %d", n, breakAfter, breakAfter)
			}
		})
	}
}

func TestWaitRejectsBadOptions(t *testing.T) {
	t.Parallel()
	cases := map[string]client.WaitOption{
		"zero min poll":    client.WithPollInterval(0, time.Second),
		"max below min":    client.WithPollInterval(2*time.Second, time.Second),
		"negative maxWait": client.WithMaxWait(-time.Second),
	}
	for name, opt := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var h hits
			c, _ := setup(t, sequence(&h, atStep(t, 1)))
			if _, err := c.Invocations.Wait(bounded(t), waitID, opt); err == nil {
				t.Error("Wait accepted an invalid option")
			}
			if n := h.count(); n != 0 {
				t.Errorf("requests = %d, want none for an invalid option", n)
			}
		})
	}
}
