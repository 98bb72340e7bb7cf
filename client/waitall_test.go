package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bctrlhq/sdk-go/apitype"
	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
	"github.com/bctrlhq/sdk-go/gen"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

// fakeAPI is an in-process bctrl API for tests in fake time: an
// http.RoundTripper that answers GET /v1/invocations/{id} with the state
// each invocation is in at the bubble's time.Now, with no socket, so that
// testing/synctest can advance the clock. Its invocations are fixed when it
// is built; it records when each request arrived.
type fakeAPI struct {
	start time.Time
	invs  map[string]*fakeInvocation
	// fault, if set, may answer a request for id at d (since start) with
	// an error status and a Retry-After ("" for none) instead.
	fault func(id string, d time.Duration) (status int, retryAfter string)
	// retryAfterOK, if set, is a Retry-After header on every 200.
	retryAfterOK func(d time.Duration) string

	mu    sync.Mutex
	reqs  []time.Duration            // arrival of each request, since start
	polls map[string][]time.Duration // arrival of each request, by id
}

// fakeInvocation is one invocation of a fakeAPI: its states, when each
// begins, and the body of each, rendered once.
type fakeInvocation struct {
	id     string
	begins []time.Duration // begins[0] = 0; the last state is terminal
	bodies [][]byte
	status []client.Status
}

// endsAt is when the invocation's final state can first be served.
func (fi *fakeInvocation) endsAt() time.Duration { return fi.begins[len(fi.begins)-1] }

// final is the invocation's final status.
func (fi *fakeInvocation) final() client.Status { return fi.status[len(fi.status)-1] }

// plan is how one invocation of a scenario runs: how long each state before
// the end lasts (queued, then running step 1 of n-1, 2 of n-1, ...) and how
// it ends. A missing invocation is answered with a 404.
type plan struct {
	durations []time.Duration
	final     client.Status
	missing   bool
	noTimes   bool // no startedAt or lastHeartbeatAt in any state (both nullable)
	// steps is the total its progress announces; 0 for one per state
	// after the first. An invocation cut short keeps the total it had.
	steps int
}

// newFakeAPI builds the fake's invocations from plans, started at the
// bubble's now. The heartbeat of a running state is when it began, as
// bctrltest's builders have it.
func newFakeAPI(t *testing.T, plans []plan) (*fakeAPI, []string) {
	t.Helper()
	f := &fakeAPI{start: time.Now(), invs: make(map[string]*fakeInvocation, len(plans)), polls: make(map[string][]time.Duration)}
	ids := make([]string, len(plans))
	for i, p := range plans {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		ids[i] = id
		if p.missing {
			continue
		}
		fi := &fakeInvocation{id: id}
		base := bctrltest.NewInvocation(id)
		base.CreatedAt = apitype.At(f.start.Add(-time.Second))
		total := len(p.durations) - 1
		if p.steps > 0 {
			total = p.steps
		}
		base.StepCount = max(total, 1)
		var at time.Duration
		for j, d := range p.durations {
			inv := base
			if j > 0 {
				inv = bctrltest.Running(base, j, total, "step "+strconv.Itoa(j))
				inv.StartedAt = apitype.At(f.start.Add(p.durations[0]))
				inv.LastHeartbeatAt = apitype.At(f.start.Add(at))
			}
			fi.add(t, at, inv, p.noTimes)
			at += d
		}
		var end gen.Invocation
		switch p.final {
		case client.StatusSucceeded:
			end = bctrltest.Succeeded(base, bctrltest.OKStep(0, "page.goto", nil))
		case client.StatusFailed:
			end = bctrltest.Failed(base, "page crashed", bctrltest.ErrStep(0, "page.goto", "TIMEOUT", "navigation timed out", ""))
		case client.StatusCancelled:
			end = bctrltest.Cancelled(base)
		case client.StatusTimedOut:
			end = bctrltest.TimedOut(base, bctrltest.ErrStep(0, "page.goto", "TIMEOUT", "navigation timed out", ""))
		case "archived": // a status this SDK does not know, finished
			end = bctrltest.Succeeded(base)
			end.Status = "archived"
		default:
			t.Fatalf("plan %d: final status %q", i, p.final)
		}
		if len(p.durations) > 1 {
			end.StartedAt = apitype.At(f.start.Add(p.durations[0]))
		}
		end.FinishedAt = apitype.At(f.start.Add(at))
		end.LastHeartbeatAt = end.FinishedAt
		fi.add(t, at, end, p.noTimes)
		f.invs[id] = fi
	}
	return f, ids
}

func (fi *fakeInvocation) add(t *testing.T, at time.Duration, inv gen.Invocation, noTimes bool) {
	t.Helper()
	if noTimes {
		inv.StartedAt, inv.LastHeartbeatAt = apitype.Timestamp{}, apitype.Timestamp{}
	}
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	fi.begins = append(fi.begins, at)
	fi.bodies = append(fi.bodies, b)
	fi.status = append(fi.status, client.Status(inv.Status))
}

// RoundTrip answers one request from the fake's state at time.Now.
func (f *fakeAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	now := time.Since(f.start)
	id := path.Base(req.URL.Path)
	f.mu.Lock()
	f.reqs = append(f.reqs, now)
	f.polls[id] = append(f.polls[id], now)
	f.mu.Unlock()
	h := http.Header{"Content-Type": {"application/json"}}
	if f.fault != nil {
		if status, after := f.fault(id, now); status != 0 {
			if after != "" {
				h.Set("Retry-After", after)
			}
			return fakeResponse(req, status, h, []byte(`{"code":"unavailable","error":"try again later"}`)), nil
		}
	}
	fi := f.invs[id]
	if fi == nil {
		return fakeResponse(req, http.StatusNotFound, h, []byte(`{"code":"not_found","error":"no such invocation"}`)), nil
	}
	if f.retryAfterOK != nil {
		if after := f.retryAfterOK(now); after != "" {
			h.Set("Retry-After", after)
		}
	}
	j, _ := slices.BinarySearch(fi.begins, now+1) // the last state begun by now
	return fakeResponse(req, http.StatusOK, h, fi.bodies[j-1]), nil
}

func fakeResponse(req *http.Request, status int, h http.Header, body []byte) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// requests returns how many requests the fake has answered.
func (f *fakeAPI) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// busiestSecond returns the most requests that arrived within any window
// [t, t+1s). x/time/rate, behind WithRateLimit, rounds its delays to the
// nanosecond: 21 tokens of a 20/s limiter can come 999.999999 ms apart, so
// the window is a microsecond short of a second.
func (f *fakeAPI) busiestSecond() int {
	f.mu.Lock()
	reqs := slices.Clone(f.reqs)
	f.mu.Unlock()
	slices.Sort(reqs)
	most, j := 0, 0
	for i := range reqs {
		for reqs[i]-reqs[j] >= time.Second-time.Microsecond {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

// pollsOf returns when each request for id arrived.
func (f *fakeAPI) pollsOf(id string) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.polls[id])
}

// maxGap returns the longest time between two requests for one id.
func (f *fakeAPI) maxGap() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var gap time.Duration
	for _, p := range f.polls {
		for i := 1; i < len(p); i++ {
			gap = max(gap, p[i]-p[i-1])
		}
	}
	return gap
}

// client returns a client that sends through the fake.
func (f *fakeAPI) client(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	base := []client.Option{client.WithAPIKey("sk-fake-key-0001"), client.WithBaseURL("https://api.bctrl.test"),
		client.WithHTTPClient(&http.Client{Transport: f})}
	c, err := client.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// yielded is one pair WaitAll yielded, and when.
type yielded struct {
	inv *client.Invocation
	err error
	at  time.Duration
}

// collect ranges over seq, noting when each pair came (since start).
func collect(start time.Time, seq iter.Seq2[*client.Invocation, error]) []yielded {
	var out []yielded
	for inv, err := range seq {
		out = append(out, yielded{inv, err, time.Since(start)})
	}
	return out
}

// steps returns a plan of n states of d each, then final.
func steps(n int, d time.Duration, final client.Status) plan {
	p := plan{final: final}
	for range n {
		p.durations = append(p.durations, d)
	}
	return p
}

// TestWaitAllOutcomes checks that each id is yielded once, with what Wait
// returns for it alone: the same status, the same error (type, sentinels,
// message), the invocation never nil.
func TestWaitAllOutcomes(t *testing.T) {
	t.Parallel()
	plans := []plan{
		steps(3, 4*time.Second, client.StatusSucceeded),
		steps(2, 3*time.Second, client.StatusFailed),
		steps(4, 2*time.Second, client.StatusCancelled),
		steps(2, 5*time.Second, client.StatusTimedOut),
		steps(2, 2*time.Second, "archived"),
		{missing: true},
		steps(1, time.Second, client.StatusSucceeded),
	}
	// What Wait returns for each id, each in a bubble of its own.
	type outcome struct {
		inv *client.Invocation
		err error
	}
	want := make([]outcome, len(plans))
	for i := range plans {
		synctest.Test(t, func(t *testing.T) {
			f, ids := newFakeAPI(t, plans)
			inv, err := f.client(t).Invocations.Wait(t.Context(), ids[i])
			want[i] = outcome{inv, err}
		})
	}
	synctest.Test(t, func(t *testing.T) {
		f, ids := newFakeAPI(t, plans)
		c := f.client(t)
		// Duplicates, and two invalid ids.
		batch := append(slices.Clone(ids), ids[0], "", ids[5], "..", "")
		got := collect(f.start, c.Invocations.WaitAll(t.Context(), batch))
		if len(got) != len(ids)+2 {
			t.Fatalf("WaitAll yielded %d pairs, want %d: one per distinct id", len(got), len(ids)+2)
		}
		for k, want := range []string{"", ".."} {
			if g := got[k]; g.inv == nil || g.inv.ID != want || !errors.Is(g.err, client.ErrInvalidID) {
				t.Errorf("pair %d = (%v, %v), want the invalid id %q first, with ErrInvalidID", k, g.inv, g.err, want)
			}
		}
		seen := map[string]bool{}
		for _, g := range got[2:] {
			if g.inv == nil {
				t.Fatalf("yielded a nil invocation (err %v)", g.err)
			}
			i := slices.Index(ids, g.inv.ID)
			if i < 0 || seen[g.inv.ID] {
				t.Fatalf("yielded %q: not in the batch, or twice", g.inv.ID)
			}
			seen[g.inv.ID] = true
			w := want[i]
			if w.inv == nil {
				if g.inv.Status != "" || g.inv.Raw() != nil {
					t.Errorf("%s: yielded %+v, want an invocation carrying just the id: none was observed", g.inv.ID, g.inv)
				}
			} else if g.inv.Status != w.inv.Status || !bytes.Equal(g.inv.Raw(), w.inv.Raw()) {
				t.Errorf("%s: yielded status %s, want %s, as Wait returns", g.inv.ID, g.inv.Status, w.inv.Status)
			}
			if (g.err == nil) != (w.err == nil) || g.err != nil && g.err.Error() != w.err.Error() {
				t.Errorf("%s: err = %v, want %v, as Wait returns", g.inv.ID, g.err, w.err)
			}
			for _, target := range []error{client.ErrNotFound, client.ErrUnknownStatus} {
				if errors.Is(g.err, target) != errors.Is(w.err, target) {
					t.Errorf("%s: errors.Is(err, %v) = %v, not as Wait's", g.inv.ID, target, errors.Is(g.err, target))
				}
			}
			var gi, wi *client.InvocationError
			if errors.As(g.err, &gi) != errors.As(w.err, &wi) || gi != nil && (gi.Invocation != g.inv || len(gi.FailedSteps) != len(wi.FailedSteps)) {
				t.Errorf("%s: err = %#v, want an *InvocationError like Wait's %#v, holding the yielded invocation", g.inv.ID, g.err, w.err)
			}
			var gw *client.WaitError
			if errors.As(g.err, &gw) && (gw.ID != g.inv.ID || gw.Last != nil) {
				t.Errorf("%s: WaitError{ID: %q, Last: %v}, want the id and no invocation (none was observed)", g.inv.ID, gw.ID, gw.Last)
			}
		}
		// In the order they ended: the 404 is seen first, then by end time.
		var order []string
		for _, g := range got[2:] {
			order = append(order, g.inv.ID)
		}
		wantOrder := []string{ids[5], ids[6], ids[4], ids[1], ids[2], ids[3], ids[0]}
		if diff := cmp.Diff(wantOrder, order); diff != "" {
			t.Errorf("order of yields (-want +got):\n%s", diff)
		}
		for _, id := range []string{ids[0], ids[5]} {
			if n := len(f.pollsOf(id)); id == ids[5] && n != 1 {
				t.Errorf("%s (404, listed twice) polled %d times, want once", id, n)
			}
		}
	})
}

// TestWaitAllEndOrder yields 40 invocations ending 6 s apart, in reverse
// order of the ids, and checks they are yielded as they end: without a
// budget each is polled at least every 5 s (DefaultPollMax).
func TestWaitAllEndOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var plans []plan
		for i := range 40 {
			plans = append(plans, plan{durations: []time.Duration{time.Second, time.Duration(240-6*i) * time.Second}, final: client.StatusSucceeded})
		}
		f, ids := newFakeAPI(t, plans)
		got := collect(f.start, f.client(t).Invocations.WaitAll(t.Context(), ids))
		var order []string
		for _, g := range got {
			order = append(order, g.inv.ID)
		}
		want := slices.Clone(ids)
		slices.Reverse(want)
		if diff := cmp.Diff(want, order); diff != "" {
			t.Errorf("order of yields (-want +got):\n%s", diff)
		}
	})
}

// TestWaitAllContextEnds cancels the context while some invocations still
// run: those that ended were yielded as they ended, the rest at once with
// a *WaitError matching the context's error and its cause, their last
// invocation with it; then WaitAll returns and polls no more.
func TestWaitAllContextEnds(t *testing.T) {
	t.Parallel()
	errStop := errors.New("operator stopped the batch")
	for _, tc := range []struct {
		name   string
		stop   func(context.Context) (context.Context, func())
		target []error
	}{
		{"cancelled", func(ctx context.Context) (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(ctx)
			return ctx, func() { cancel(errStop) }
		}, []error{context.Canceled, errStop}},
		{"deadline", func(ctx context.Context) (context.Context, func()) {
			ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
			context.AfterFunc(ctx, cancel)
			return ctx, func() {}
		}, []error{context.DeadlineExceeded}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				plans := []plan{
					steps(2, 5*time.Second, client.StatusSucceeded),
					steps(3, 60*time.Second, client.StatusSucceeded),
					steps(2, 10*time.Second, client.StatusFailed),
					steps(4, 60*time.Second, client.StatusSucceeded),
				}
				f, ids := newFakeAPI(t, plans)
				ctx, stop := tc.stop(t.Context())
				time.AfterFunc(45*time.Second, stop)
				got := collect(f.start, f.client(t).Invocations.WaitAll(ctx, ids))
				stoppedAt := time.Since(f.start)
				if len(got) != len(ids) {
					t.Fatalf("yielded %d pairs, want %d", len(got), len(ids))
				}
				for k, id := range []string{ids[0], ids[2]} {
					if got[k].inv.ID != id || got[k].at > 45*time.Second {
						t.Errorf("pair %d: %s at %v, want %s, which ended before the context", k, got[k].inv.ID, got[k].at, id)
					}
				}
				for k, id := range []string{ids[1], ids[3]} {
					g := got[2+k]
					var we *client.WaitError
					if g.inv.ID != id || !errors.As(g.err, &we) || we.Last != g.inv || g.inv.Status.IsTerminal() {
						t.Fatalf("pair %d = (%s %s, %v), want %s with a *WaitError holding its last invocation, not ended", 2+k, g.inv.ID, g.inv.Status, g.err, id)
					}
					for _, target := range tc.target {
						if !errors.Is(g.err, target) {
							t.Errorf("%s: err = %v, want errors.Is %v", id, g.err, target)
						}
					}
					if g.at != 45*time.Second {
						t.Errorf("%s yielded at %v, want at once when the context ended (45s)", id, g.at)
					}
				}
				n := f.requests()
				time.Sleep(10 * time.Minute)
				if f.requests() != n || stoppedAt != 45*time.Second {
					t.Errorf("%d requests after WaitAll returned at %v, want none", f.requests()-n, stoppedAt)
				}
			})
		})
	}
}

// TestWaitAllContextDone yields every id with the context's error, and
// sends nothing, when the context has ended before the loop starts.
func TestWaitAllContextDone(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, ids := newFakeAPI(t, steady(rand.New(rand.NewPCG(1, 2)), 50))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		got := collect(f.start, f.client(t).Invocations.WaitAll(ctx, ids))
		for i, g := range got {
			var we *client.WaitError
			if g.inv.ID != ids[i] || !errors.As(g.err, &we) || !errors.Is(g.err, context.Canceled) {
				t.Errorf("pair %d = (%s, %v), want %s with a *WaitError matching context.Canceled", i, g.inv.ID, g.err, ids[i])
			}
		}
		if len(got) != len(ids) || f.requests() != 0 {
			t.Errorf("yielded %d, sent %d requests; want %d and none", len(got), f.requests(), len(ids))
		}
	})
}

// TestWaitAllMaxWait bounds each invocation's wait: those still running
// after it are yielded with ErrWaitTimeout (not the context's error) and
// their last invocation; the others as they end.
func TestWaitAllMaxWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		plans := []plan{steps(2, 10*time.Second, client.StatusSucceeded), steps(3, time.Minute, client.StatusSucceeded)}
		f, ids := newFakeAPI(t, plans)
		got := collect(f.start, f.client(t).Invocations.WaitAll(t.Context(), ids, client.WithMaxWait(90*time.Second)))
		if len(got) != 2 || got[0].err != nil || got[0].inv.ID != ids[0] {
			t.Fatalf("yielded %v, want %s succeeded first", got, ids[0])
		}
		g := got[1]
		var we *client.WaitError
		if !errors.Is(g.err, client.ErrWaitTimeout) || errors.Is(g.err, context.DeadlineExceeded) || !errors.As(g.err, &we) || we.Last != g.inv {
			t.Errorf("err = %v, want a *WaitError matching ErrWaitTimeout only, with the last invocation", g.err)
		}
		if g.at != 90*time.Second || g.inv.Status != client.StatusRunning {
			t.Errorf("%s yielded %s at %v, want running at the maximum wait (90s)", g.inv.ID, g.inv.Status, g.at)
		}
	})
}

// TestWaitAllBreak breaks out of the loop: polling stops at once and no
// goroutine outlives the loop, whether the caller breaks on the first
// invalid id, on the first end, or while polls are in flight.
func TestWaitAllBreak(t *testing.T) {
	// Not parallel: goleak sees every goroutine of the process.
	for _, tc := range []struct {
		name    string
		ids     func(ids []string) []string
		breakOn int
	}{
		{"on an invalid id", func(ids []string) []string { return append([]string{""}, ids...) }, 0},
		{"on the first end", func(ids []string) []string { return ids }, 0},
		{"on the fifth end", func(ids []string) []string { return ids }, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var plans []plan
				for i := range 100 {
					plans = append(plans, steps(3, time.Duration(2+i%7)*time.Second, client.StatusSucceeded))
				}
				f, ids := newFakeAPI(t, plans)
				c := f.client(t)
				k := 0
				for range c.Invocations.WaitAll(t.Context(), tc.ids(ids)) {
					if k == tc.breakOn {
						break
					}
					k++
				}
				n := f.requests()
				time.Sleep(time.Hour)
				if m := f.requests(); m != n {
					t.Errorf("%d requests after breaking out, want none", m-n)
				}
			})
			goleak.VerifyNone(t)
		})
	}
}

// TestWaitAllRetryAfter pauses the whole batch on a Retry-After, whether it
// comes with a 429 or a 503 for one id or with a 200, and polls through
// transient failures to the outcome.
func TestWaitAllRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int    // the answer to the first request at 20 s or later
		after  string // its Retry-After
		pause  time.Duration
	}{
		{"429", http.StatusTooManyRequests, "7", 7 * time.Second},
		{"503", http.StatusServiceUnavailable, "7", 7 * time.Second},
		{"200", http.StatusOK, "7", 7 * time.Second},
		{"429 without Retry-After", http.StatusTooManyRequests, "", client.DefaultRetryMinBackoff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				var plans []plan
				for i := range 20 {
					plans = append(plans, steps(4, time.Duration(10+i)*time.Second, client.StatusSucceeded))
				}
				f, ids := newFakeAPI(t, plans)
				var once sync.Once
				first := func(d time.Duration) (hit bool) {
					if d >= 20*time.Second {
						once.Do(func() { hit = true })
					}
					return hit
				}
				if tc.status == http.StatusOK {
					f.retryAfterOK = func(d time.Duration) string {
						if first(d) {
							return tc.after
						}
						return ""
					}
				} else {
					f.fault = func(_ string, d time.Duration) (int, string) {
						if first(d) {
							return tc.status, tc.after
						}
						return 0, ""
					}
				}
				got := collect(f.start, f.client(t).Invocations.WaitAll(t.Context(), ids))
				for _, g := range got {
					if g.err != nil {
						t.Errorf("%s: %v, want success: a transient failure is polled through", g.inv.ID, g.err)
					}
				}
				if len(got) != len(ids) {
					t.Fatalf("yielded %d, want %d", len(got), len(ids))
				}
				f.mu.Lock()
				reqs := slices.Clone(f.reqs)
				f.mu.Unlock()
				slices.Sort(reqs)
				// Polls sent at the same instant were in flight already.
				i := slices.IndexFunc(reqs, func(d time.Duration) bool { return d >= 20*time.Second })
				j := slices.IndexFunc(reqs, func(d time.Duration) bool { return i >= 0 && d > reqs[i] })
				if i < 0 || j < 0 {
					t.Fatal("no request after 20s")
				}
				if gap := reqs[j] - reqs[i]; gap < tc.pause {
					t.Errorf("next request %v after the %d with Retry-After %q at %v, want the whole batch paused for %v", gap, tc.status, tc.after, reqs[i], tc.pause)
				}
			})
		})
	}
}

// TestWaitAllBudget keeps WaitAll within WithPollBudget, within the
// client's rate limit when that is lower, and within the client's limit
// shared with other calls made at the same time.
func TestWaitAllBudget(t *testing.T) {
	// Not parallel with the package's other tests: it keeps both cores
	// busy, and some of them measure real time.
	for _, tc := range []struct {
		name  string
		opts  []client.Option
		wait  []client.WaitOption
		other bool // Gets of another goroutine share the client
		most  int  // requests in any second
	}{
		{"WithPollBudget", nil, []client.WaitOption{client.WithPollBudget(5)}, false, 5},
		{"a lower client limit", []client.Option{client.WithRateLimit(3, 1)}, []client.WaitOption{client.WithPollBudget(10)}, false, 3},
		{"a lower budget", []client.Option{client.WithRateLimit(10, 1)}, []client.WaitOption{client.WithPollBudget(4)}, false, 4},
		{"the limit shared with Gets", []client.Option{client.WithRateLimit(8, 1)}, nil, true, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				plans := steady(rand.New(rand.NewPCG(3, 4)), 60)
				f, ids := newFakeAPI(t, plans)
				c := f.client(t, tc.opts...)
				ctx, cancel := context.WithCancel(t.Context())
				var wg sync.WaitGroup
				if tc.other {
					wg.Go(func() {
						for ctx.Err() == nil {
							c.Invocations.Get(ctx, ids[0])
						}
					})
				}
				got := collect(f.start, c.Invocations.WaitAll(t.Context(), ids, tc.wait...))
				cancel()
				wg.Wait()
				if len(got) != len(ids) {
					t.Errorf("yielded %d, want %d", len(got), len(ids))
				}
				if most := f.busiestSecond(); most > tc.most {
					t.Errorf("%d requests in one second, want at most %d", most, tc.most)
				}
				t.Logf("%d requests, at most %d in a second", f.requests(), f.busiestSecond())
			})
		})
	}
}

// TestWaitAllGapBound checks that no id starves: without a budget no id
// waits longer than the maximum poll interval between two polls; under a
// budget, no longer than the gap bound (4 N/budget) plus the time to poll
// every id once.
func TestWaitAllGapBound(t *testing.T) {
	// Not parallel with the package's other tests: it keeps both cores
	// busy, and some of them measure real time.
	for _, tc := range []struct {
		name   string
		n      int
		opts   []client.Option
		maxGap time.Duration
	}{
		{"no budget", 300, nil, client.DefaultPollMax + 10*time.Millisecond},
		{"budget 20/s", 300, []client.Option{client.WithRateLimit(20, 1)}, 5 * 300 / 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				// Slow invocations: 10 steps of 30-60 s.
				r := rand.New(rand.NewPCG(5, 6))
				var plans []plan
				for range tc.n {
					plans = append(plans, steps(10, time.Duration(30+r.IntN(30))*time.Second, client.StatusSucceeded))
				}
				f, ids := newFakeAPI(t, plans)
				got := collect(f.start, f.client(t, tc.opts...).Invocations.WaitAll(t.Context(), ids, client.WithMaxWait(5*time.Minute)))
				if len(got) != len(ids) {
					t.Errorf("yielded %d, want %d", len(got), len(ids))
				}
				if gap := f.maxGap(); gap > tc.maxGap {
					t.Errorf("longest gap between two polls of one id %v, want at most %v", gap, tc.maxGap)
				} else {
					t.Logf("longest gap between two polls of one id: %v (bound %v), %d requests", gap, tc.maxGap, f.requests())
				}
			})
		})
	}
}

// TestWaitAllProgress calls WithProgress on the loop's goroutine with each
// observed change of every invocation, the first observation included.
func TestWaitAllProgress(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		plans := []plan{steps(3, 20*time.Second, client.StatusSucceeded), steps(2, 30*time.Second, client.StatusSucceeded)}
		f, ids := newFakeAPI(t, plans)
		changes := map[string][]string{} // no lock: the progress function runs on the loop's goroutine
		progress := client.WithProgress(func(inv *client.Invocation) {
			step := 0
			if p := inv.Progress; p != nil && p.Step != nil {
				step = *p.Step
			}
			changes[inv.ID] = append(changes[inv.ID], fmt.Sprintf("%s %d", inv.Status, step))
		})
		for inv := range f.client(t).Invocations.WaitAll(t.Context(), ids, progress) {
			changes[inv.ID] = append(changes[inv.ID], "yielded")
		}
		want := map[string][]string{
			ids[0]: {"queued 0", "running 1", "running 2", "succeeded 0", "yielded"},
			ids[1]: {"queued 0", "running 1", "succeeded 0", "yielded"},
		}
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Errorf("progress calls and yields (-want +got):\n%s", diff)
		}
	})
}

// TestWaitAllRejectsBadOptions yields every id once with the option's
// error, and sends no request.
func TestWaitAllRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]client.WaitOption{
		"zero budget":      client.WithPollBudget(0),
		"negative budget":  client.WithPollBudget(-1),
		"infinite budget":  client.WithPollBudget(math.Inf(1)),
		"NaN budget":       client.WithPollBudget(math.NaN()),
		"negative maxWait": client.WithMaxWait(-time.Second),
		"zero min poll":    client.WithPollInterval(0, time.Second),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f, ids := newFakeAPI(t, []plan{steps(1, time.Second, client.StatusSucceeded), steps(1, time.Second, client.StatusSucceeded)})
				got := collect(f.start, f.client(t).Invocations.WaitAll(t.Context(), append(ids, ids[0]), opt))
				if len(got) != 2 {
					t.Fatalf("yielded %d pairs, want one per id", len(got))
				}
				for i, g := range got {
					if g.inv.ID != ids[i] || g.err == nil || !strings.HasPrefix(g.err.Error(), "bctrl: With") {
						t.Errorf("pair %d = (%s, %v), want %s with the option's error", i, g.inv.ID, g.err, ids[i])
					}
				}
				if n := f.requests(); n != 0 {
					t.Errorf("%d requests, want none", n)
				}
			})
		})
	}
}

// TestWaitAllNoIDs yields nothing and sends nothing.
func TestWaitAllNoIDs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newFakeAPI(t, nil)
		for inv, err := range f.client(t).Invocations.WaitAll(t.Context(), nil) {
			t.Errorf("yielded (%v, %v) for no ids", inv, err)
		}
		if n := f.requests(); n != 0 {
			t.Errorf("%d requests, want none", n)
		}
	})
}

// TestWaitAllScrubsKey: an id that is the API key is scrubbed from the
// *WaitError, as Wait scrubs it; the yielded invocation keeps the id the
// caller gave, to be matched.
func TestWaitAllScrubsKey(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, _ := newFakeAPI(t, nil)
		for inv, err := range f.client(t).Invocations.WaitAll(t.Context(), []string{"sk-fake-key-0001"}) {
			if inv.ID != "sk-fake-key-0001" || !errors.Is(err, client.ErrNotFound) || strings.Contains(err.Error(), "sk-fake-key-0001") {
				t.Errorf("yielded (%q, %v), want the id as given and a 404 error without the key", inv.ID, err)
			}
		}
	})
}

// TestWaitAllOverHTTP waits for a scripted batch over a real socket, with
// bctrltest, outside fake time.
func TestWaitAllOverHTTP(t *testing.T) {
	t.Parallel()
	srv := bctrltest.NewServer(t)
	var ids []string
	for i := range 5 {
		id := fmt.Sprintf("inv-%d", i)
		ids = append(ids, id)
		inv := bctrltest.NewInvocation(id)
		states := []gen.Invocation{inv}
		for s := range i {
			states = append(states, bctrltest.Running(inv, s+1, i, "working"))
		}
		states = append(states, bctrltest.Succeeded(inv))
		srv.Script(id, states...)
	}
	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for inv, err := range c.Invocations.WaitAll(bounded(t), append(ids, "nope"), client.WithPollInterval(time.Millisecond, 5*time.Millisecond)) {
		n++
		if inv.ID == "nope" {
			if !errors.Is(err, client.ErrNotFound) {
				t.Errorf("nope: %v, want ErrNotFound", err)
			}
			continue
		}
		if err != nil || inv.Status != client.StatusSucceeded {
			t.Errorf("%s: (%s, %v), want succeeded", inv.ID, inv.Status, err)
		}
	}
	if n != len(ids)+1 {
		t.Errorf("yielded %d, want %d", n, len(ids)+1)
	}
}

func ExampleInvocationsService_WaitAll() {
	srv, c := exampleServer()
	defer srv.Close()

	ids := []string{"inv-ok", "inv-bad", "inv-missing"}
	for inv, err := range c.Invocations.WaitAll(context.Background(), ids, client.WithPollInterval(10*time.Millisecond, 50*time.Millisecond)) {
		var failed *client.InvocationError
		switch {
		case err == nil:
			fmt.Println(inv.ID, "succeeded")
		case errors.As(err, &failed):
			fmt.Println(inv.ID, "ended", failed.Status)
		case errors.Is(err, client.ErrNotFound):
			fmt.Println(inv.ID, "not found")
		default:
			fmt.Println(inv.ID, err)
		}
	}
	// Unordered output:
	// inv-ok succeeded
	// inv-bad ended failed
	// inv-missing not found
}
