package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// The tests in this file run the client against bctrltest's in-memory
// server inside a testing/synctest bubble, with the client's default
// timings: every timer (attempt timeout, retry backoff, Retry-After, rate
// limiter, poll intervals) runs on the bubble's fake clock, so waits of
// seconds or minutes cost no real time.

// fakeTimeID is the invocation these tests read.
const fakeTimeID = "0b5e7a1e-0000-4000-8000-00000000f001"

// fakeTimeClient returns a fake API with no listener and a client served by
// it in-process. Call it inside the bubble.
func fakeTimeClient(t *testing.T, opts ...client.Option) (*bctrltest.Server, *client.Client) {
	t.Helper()
	srv := bctrltest.NewServer(t, bctrltest.InMemory())
	c, err := client.New(append([]client.Option{
		client.WithAPIKey(srv.APIKey()),
		client.WithBaseURL(srv.URL),
		client.WithHTTPClient(srv.HTTPClient()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// TestFakeTimeRetryAfter30 is the README's pattern: a 503 with
// "Retry-After: 30" makes the client wait 30 s before its retry, which in
// the bubble takes no real time.
func TestFakeTimeRetryAfter30(t *testing.T) {
	t.Parallel()
	realStart := time.Now()
	var fake time.Duration
	synctest.Test(t, func(t *testing.T) {
		srv, c := fakeTimeClient(t)
		srv.Add(bctrltest.NewInvocation(fakeTimeID))
		srv.Fault(fakeTimeID, bctrltest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "30", Times: 1})

		start := time.Now()
		inv, err := c.Invocations.Get(t.Context(), fakeTimeID)
		fake = time.Since(start)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if n := inv.Response().Attempts; n != 2 {
			t.Errorf("attempts = %d, want 2", n)
		}
		// Retry-After is a floor on the backoff, and the bubble's clock
		// moves only when every goroutine waits: exactly 30 s pass.
		if fake != 30*time.Second {
			t.Errorf("Get took %v of fake time, want 30s (the Retry-After)", fake)
		}
		reqs := srv.Requests()
		if len(reqs) != 2 || reqs[1].At.Sub(reqs[0].At) != 30*time.Second {
			t.Errorf("requests at %v, want two, 30s apart", reqs)
		}
	})
	real := time.Since(realStart)
	t.Logf("Retry-After: 30 wait: %v fake, %v real", fake, real)
	// Microseconds to a few milliseconds; the bound only allows for a
	// loaded machine.
	if real > 5*time.Second {
		t.Errorf("a 30s Retry-After took %v of real time", real)
	}
}

// TestFakeTimeClientTimers checks that each of the client's own timers
// runs on the bubble's clock, with the default settings.
func TestFakeTimeClientTimers(t *testing.T) {
	t.Parallel()
	t.Run("attempt timeout and backoff", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, c := fakeTimeClient(t)
			srv.Add(bctrltest.NewInvocation(fakeTimeID))
			srv.Fault(fakeTimeID, bctrltest.Fault{Hang: true})
			start := time.Now()
			_, err := c.Invocations.Get(t.Context(), fakeTimeID)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Get: err = %v, want the attempt timeout", err)
			}
			if n := srv.RequestCount(fakeTimeID); n != client.DefaultMaxRetries+1 {
				t.Errorf("%d attempts, want %d", n, client.DefaultMaxRetries+1)
			}
			// Four 30 s attempts and three jittered backoffs of 250 ms to 8 s.
			attempts := time.Duration(client.DefaultMaxRetries+1) * client.DefaultAttemptTimeout
			lo, hi := attempts+3*client.DefaultRetryMinBackoff, attempts+3*client.DefaultRetryMaxBackoff
			if elapsed < lo || elapsed > hi {
				t.Errorf("Get took %v of fake time, want within [%v, %v]", elapsed, lo, hi)
			}
		})
	})
	t.Run("rate limiter", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			srv, c := fakeTimeClient(t, client.WithRateLimit(0.5, 1))
			srv.Add(bctrltest.NewInvocation(fakeTimeID))
			start := time.Now()
			for range 3 {
				if _, err := c.Invocations.Get(t.Context(), fakeTimeID); err != nil {
					t.Fatal(err)
				}
			}
			// One token at once, then one every 2 s.
			if d := time.Since(start); d != 4*time.Second {
				t.Errorf("3 Gets at 0.5 rps took %v of fake time, want 4s", d)
			}
		})
	})
	t.Run("poll intervals", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			// The server's clock is time.Now too, so Advance moves on the
			// bubble's clock: running after 1 min, succeeded after 2.
			srv, c := fakeTimeClient(t)
			inv := bctrltest.NewInvocation(fakeTimeID)
			srv.Advance(fakeTimeID, time.Minute, inv, bctrltest.Running(inv, 1, 1, "working"), bctrltest.Succeeded(inv))
			start := time.Now()
			got, err := c.Invocations.Wait(t.Context(), fakeTimeID)
			elapsed := time.Since(start)
			if err != nil || got.Status != client.StatusSucceeded {
				t.Fatalf("Wait: %v, %v", got, err)
			}
			// Polls back off to at most 5 s, so the end is seen within one
			// maximum poll interval of the 2 min mark.
			if elapsed < 2*time.Minute || elapsed > 2*time.Minute+client.DefaultPollMax {
				t.Errorf("Wait took %v of fake time, want 2m to 2m%v", elapsed, client.DefaultPollMax)
			}
			// About 12 polls a minute once backed off, never a busy loop.
			if n := srv.RequestCount(fakeTimeID); n < 2*12 || n > 2*60 {
				t.Errorf("%d polls in 2 min of fake time", n)
			}
		})
	})
}
