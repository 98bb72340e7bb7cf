package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/apitype"
)

// sequence starts a server that answers successive polls of inv-1 with the
// fixtures of steps (invocationAt: 0 is succeeded), the last repeating, and
// returns a client for it with a sleep that records the delays without
// waiting them out, and the number of polls so far.
func sequence(t *testing.T, steps ...int) (*Client, WaitOption, *[]time.Duration, *atomic.Int64) {
	t.Helper()
	bodies := make([][]byte, len(steps))
	for i, s := range steps {
		bodies[i] = invocationAt(t, s)
	}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1)), len(bodies)) - 1
		w.Header().Set("Content-Type", "application/json")
		w.Write(bodies[i])
	}))
	t.Cleanup(srv.Close)
	c, err := New(WithAPIKey("k"), WithBaseURL(srv.URL), WithHTTPClient(srv.Client()), WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	delays := new([]time.Duration)
	record := WaitOption(func(c *waitConfig) error {
		c.sleep = func(ctx context.Context, d time.Duration) error {
			*delays = append(*delays, d)
			return ctx.Err()
		}
		return nil
	})
	return c, record, delays, &n
}

// observe returns what Get answers for the fixture at step.
func observe(t *testing.T, step int) *Invocation {
	t.Helper()
	c, _, _, _ := sequence(t, step)
	inv, err := c.Invocations.Get(t.Context(), "inv-1")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// watchSteps lists the progress step of each yielded invocation (0 for
// the succeeded one), and the error, if any, that ended the watch.
func watchSteps(t *testing.T, c *Client, opts ...WaitOption) ([]int, error) {
	t.Helper()
	var got []int
	for inv, err := range c.Invocations.Watch(t.Context(), "inv-1", opts...) {
		if err != nil {
			return got, err
		}
		s := 0 // succeeded
		if !inv.Status.IsSuccess() && inv.Progress != nil && inv.Progress.Step != nil {
			s = *inv.Progress.Step
		}
		got = append(got, s)
	}
	return got, nil
}

func TestResumeDoesNotRepeatTheLastObservation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		resume *Invocation
		want   []int
	}{
		{"fresh", nil, []int{1, 2, 0}},
		{"resumed at step 1", observe(t, 1), []int{2, 0}},
		{"resumed at step 2", observe(t, 2), []int{1, 2, 0}}, // step 1 differs from the checkpoint: reported
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, record, _, _ := sequence(t, 1, 1, 2, 0)
			got, err := watchSteps(t, c, record, WithResumeFrom(tc.resume))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("yielded steps %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("yielded steps %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// A checkpoint of the final state still lets Wait return the invocation.
func TestResumeFromSucceededReturnsIt(t *testing.T) {
	t.Parallel()
	c, record, _, polls := sequence(t, 0)
	last := observe(t, 0)
	var progress int
	inv, err := c.Invocations.Wait(t.Context(), "inv-1", record, WithResumeFrom(last),
		WithProgress(func(*Invocation) { progress++ }))
	if err != nil || inv == nil || inv.Status != StatusSucceeded {
		t.Fatalf("Wait = %v, %v; want the succeeded invocation", inv, err)
	}
	if polls.Load() != 1 || progress != 1 {
		t.Fatalf("%d polls, %d progress calls; want 1 and 1", polls.Load(), progress)
	}
}

// The pace: a checkpoint whose state has been stable for an hour resumes at
// the maximum delay; one that just started resumes near the minimum; a
// change drops back to the minimum either way.
func TestResumeKeepsThePace(t *testing.T) {
	t.Parallel()
	const minPoll, maxPoll = 100 * time.Millisecond, 2 * time.Second
	for _, tc := range []struct {
		name     string
		since    time.Duration // how long before now the checkpoint's state began
		lo, hi   time.Duration // bounds of the first delay
		resumeOn bool
	}{
		{"stable for an hour", time.Hour, maxPoll * 8 / 10, maxPoll, true},
		{"started just now", -time.Minute, minPoll, minPoll * 12 / 10, true}, // in the future: skew, no seed
		{"no resume", 0, minPoll, minPoll * 12 / 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, record, delays, _ := sequence(t, 1, 1, 2, 0)
			opts := []WaitOption{record, WithPollInterval(minPoll, maxPoll)}
			if tc.resumeOn {
				last := observe(t, 1)
				last.StartedAt = apitype.At(time.Now().Add(-tc.since))
				opts = append(opts, WithResumeFrom(last))
			}
			if _, err := c.Invocations.Wait(t.Context(), "inv-1", opts...); err != nil {
				t.Fatal(err)
			}
			d := *delays
			if len(d) != 3 {
				t.Fatalf("delays %v, want 3", d)
			}
			if d[0] < tc.lo || d[0] > tc.hi {
				t.Errorf("first delay %v, want within [%v, %v]", d[0], tc.lo, tc.hi)
			}
			// Poll 3 moved to step 2: back to the minimum.
			if d[2] < minPoll || d[2] > minPoll*12/10 {
				t.Errorf("delay after a change %v, want within [%v, %v]", d[2], minPoll, minPoll*12/10)
			}
		})
	}
}

func TestResumeBadInput(t *testing.T) {
	t.Parallel()
	t.Run("another invocation", func(t *testing.T) {
		t.Parallel()
		c, record, _, polls := sequence(t, 1)
		other := observe(t, 1)
		other.ID = "inv-2"
		inv, err := c.Invocations.Wait(t.Context(), "inv-1", record, WithResumeFrom(other))
		if !errors.Is(err, ErrInvalidID) || inv != nil {
			t.Fatalf("Wait = %v, %v; want ErrInvalidID", inv, err)
		}
		if polls.Load() != 0 {
			t.Fatalf("%d polls, want none", polls.Load())
		}
	})
	t.Run("WaitAll", func(t *testing.T) {
		t.Parallel()
		c, _, _, polls := sequence(t, 0)
		n := 0
		for inv, err := range c.Invocations.WaitAll(t.Context(), []string{"inv-1"}, WithResumeFrom(observe(t, 1))) {
			n++
			if !errors.Is(err, errResumeAll) || inv.ID != "inv-1" {
				t.Fatalf("WaitAll yielded %v, %v; want errResumeAll for inv-1", inv, err)
			}
		}
		if n != 1 || polls.Load() != 0 {
			t.Fatalf("%d yields, %d polls; want 1 and 0", n, polls.Load())
		}
	})
	t.Run("stopped before any poll", func(t *testing.T) {
		t.Parallel()
		c, record, _, _ := sequence(t, 1)
		last := observe(t, 1)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.Invocations.Wait(ctx, "inv-1", record, WithResumeFrom(last))
		var we *WaitError
		if !errors.As(err, &we) || we.Last != last {
			t.Fatalf("Wait error %v; want a WaitError whose Last is the checkpoint", err)
		}
	})
}

// TestResumeIDComparedAsGetDoes: the observation's id matches the id
// waited for as Get matches a body's (a UUID in another letter case is the
// same invocation), and another id is still refused.
func TestResumeIDComparedAsGetDoes(t *testing.T) {
	t.Parallel()
	last := &Invocation{}
	last.ID = "0B5E7A1E-0000-4000-8000-00000000C001"
	cfg := waitConfig{resume: last}
	if err := cfg.checkResume("0b5e7a1e-0000-4000-8000-00000000c001"); err != nil {
		t.Errorf("the same UUID in lower case: %v", err)
	}
	if err := cfg.checkResume("0b5e7a1e-0000-4000-8000-00000000c002"); !errors.Is(err, ErrInvalidID) {
		t.Errorf("another UUID: %v, want ErrInvalidID", err)
	}
}
