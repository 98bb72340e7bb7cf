package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// poll is one answer of the test server in TestWatchPollDelays.
type poll struct {
	step       int    // the running invocation's progress step; 0 = succeeded
	status     int    // an error status instead of the invocation, if set
	retryAfter string // a Retry-After header, if set
}

// TestWatchPollDelays records the delays Watch picks between polls, without
// waiting them out, and checks them against the policy: jittered exponential
// growth (1.5x, ±20%) from min to max while nothing moves, back to min when
// the progress moves, every delay within [min, max], and a Retry-After that
// lengthens a delay up to its cap but never shortens it.
func TestWatchPollDelays(t *testing.T) {
	t.Parallel()
	const minPoll, maxPoll, raCap = 100 * time.Millisecond, time.Second, 500 * time.Millisecond
	polls := []poll{
		{step: 1}, {step: 1}, {status: 503}, {step: 1}, {step: 1}, {step: 1}, {step: 1}, {step: 1}, {step: 1},
		{step: 2}, {step: 3}, {step: 4},
		{step: 4, retryAfter: "0"}, {step: 4, retryAfter: "60"}, {step: 4},
		{step: 0},
	}
	// moved[i] reports whether poll i changes what was observed.
	moved := []bool{
		true, false, false, false, false, false, false, false, false,
		true, true, true,
		false, false, false,
	}

	bodies := map[int][]byte{}
	for _, p := range polls {
		bodies[p.step] = invocationAt(t, p.step)
	}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/invocations/") {
			http.Error(w, "outside the base path", http.StatusTeapot)
			return
		}
		p := polls[min(int(n.Add(1)), len(polls))-1]
		if p.retryAfter != "" {
			w.Header().Set("Retry-After", p.retryAfter)
		}
		if p.status != 0 {
			http.Error(w, "try later", p.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(bodies[p.step])
	}))
	t.Cleanup(srv.Close)
	c, err := New(WithAPIKey("k"), WithBaseURL(srv.URL+"/api"), WithHTTPClient(srv.Client()),
		WithMaxRetries(0), WithRetryAfterCap(raCap))
	if err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	record := WaitOption(func(c *waitConfig) error {
		c.sleep = func(ctx context.Context, d time.Duration) error {
			delays = append(delays, d)
			return ctx.Err()
		}
		return nil
	})
	inv, err := c.Invocations.Wait(t.Context(), "inv-1", WithPollInterval(minPoll, maxPoll), record)
	if err != nil || inv.Status != StatusSucceeded {
		t.Fatalf("Wait = %v, %v; want the succeeded invocation", inv, err)
	}
	if len(delays) != len(moved) {
		t.Fatalf("%d delays for %d polls, want %d", len(delays), len(polls), len(moved))
	}

	// Model the policy: the interval resets to min on a move and grows by
	// 1.5x (up to max) after each poll; each delay is the interval ±20%,
	// clamped to [min, max]. Truncation in the backoff library is covered
	// by a microsecond of slack.
	const slack = time.Microsecond
	interval := minPoll
	for i, d := range delays {
		if moved[i] {
			interval = minPoll
		}
		lo := max(minPoll, time.Duration(float64(interval)*0.8)-slack)
		hi := min(maxPoll, time.Duration(float64(interval)*1.2)+slack)
		switch polls[i].retryAfter {
		case "60": // capped at raCap, which is above the backoff here
			lo, hi = raCap, raCap
		}
		if d < lo || d > hi {
			t.Errorf("delay after poll %d (%+v) = %v, want within [%v, %v]", i+1, polls[i], d, lo, hi)
		}
		if d < minPoll || d > maxPoll {
			t.Errorf("delay after poll %d = %v, outside [%v, %v]", i+1, d, minPoll, maxPoll)
		}
		interval = min(maxPoll, time.Duration(float64(interval)*1.5))
	}
}

// invocationAt returns the running fixture at a progress step, or the
// succeeded fixture for step 0.
func invocationAt(t *testing.T, step int) []byte {
	t.Helper()
	fixture := "running"
	if step == 0 {
		fixture = "succeeded"
	}
	var m map[string]any
	if err := json.Unmarshal(spectest.Fixture(t, fixture), &m); err != nil {
		t.Fatal(err)
	}
	m["id"] = "inv-1" // the id Wait asks for
	if step != 0 {
		m["progress"].(map[string]any)["step"] = step
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
