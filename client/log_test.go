package client_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// logCounts counts records by level and by message.
func logCounts(recs []slog.Record) (byLevel map[slog.Level]int, byMsg map[string]int) {
	byLevel, byMsg = map[slog.Level]int{}, map[string]int{}
	for _, r := range recs {
		byLevel[r.Level]++
		byMsg[r.Level.String()+" "+r.Message]++
	}
	return byLevel, byMsg
}

// TestLogLevels200Waits is the platform team's case: 200 concurrent Waits,
// some of whose polls are retried after a 503, all ending well. Every
// record is at Debug; a handler at Info sees nothing.
func TestLogLevels200Waits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := newObsLogs()
		srv, c := fakeTimeClient(t, client.WithLogger(slog.New(logs)))
		const n = 200
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("0b5e7a1e-0000-4000-8000-%012d", i)
			inv := bctrltest.NewInvocation(ids[i])
			srv.Advance(ids[i], 2*time.Second, inv,
				bctrltest.Running(inv, 1, 2, "opening the page"),
				bctrltest.Running(inv, 2, 2, "reading the total"),
				bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil), bctrltest.OKStep(1, "page.textContent", "$42")))
			if i%10 == 0 {
				srv.Fault(ids[i], bctrltest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
			}
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				if _, err := c.Invocations.Wait(t.Context(), id); err != nil {
					t.Errorf("Wait(%s): %v", id, err)
				}
			})
		}
		wg.Wait()

		byLevel, byMsg := logCounts(logs.records())
		t.Logf("records of %d waits by level: %v; by message: %v", n, byLevel, byMsg)
		if k := byLevel[slog.LevelInfo] + byLevel[slog.LevelWarn] + byLevel[slog.LevelError]; k != 0 {
			t.Errorf("%d records at Info or above, want none: %v", k, byMsg)
		}
		if got, want := byMsg["DEBUG bctrl: invocation changed"], 4*n; got != want {
			t.Errorf("%d change records, want %d (4 per wait)", got, want)
		}
		if got, want := byMsg["DEBUG bctrl: retrying request"], n/10; got != want {
			t.Errorf("%d retry records, want %d", got, want)
		}
		if got, want := byMsg["DEBUG bctrl: http attempt"], len(srv.Requests()); got != want {
			t.Errorf("%d attempt records, want one per request (%d)", got, want)
		}
	})
}

// TestLogLevelsNeedingAHuman checks the two records above Debug: a request
// whose retries all failed (Warn) and a rate-limiter wait of a second or
// more (Info); a shorter wait logs nothing above Debug.
func TestLogLevelsNeedingAHuman(t *testing.T) {
	t.Parallel()
	t.Run("retries exhausted", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			logs := newObsLogs()
			srv, c := fakeTimeClient(t, client.WithLogger(slog.New(logs)))
			srv.Add(bctrltest.NewInvocation(fakeTimeID))
			srv.Fault(fakeTimeID, bctrltest.Fault{Status: http.StatusServiceUnavailable})
			if _, err := c.Invocations.Get(t.Context(), fakeTimeID); err == nil {
				t.Fatal("Get succeeded through a permanent 503")
			}
			_, byMsg := logCounts(logs.records())
			want := map[string]int{
				"DEBUG bctrl: http attempt":                client.DefaultMaxRetries + 1,
				"DEBUG bctrl: retrying request":            client.DefaultMaxRetries,
				"WARN bctrl: request failed after retries": 1,
			}
			if fmt.Sprint(byMsg) != fmt.Sprint(want) {
				t.Errorf("records %v, want %v", byMsg, want)
			}
			for _, r := range logs.records() {
				if r.Level == slog.LevelWarn {
					a := obsRecordAttrs(r)
					if a["status"].Int64() != http.StatusServiceUnavailable || a["attempts"].Int64() != client.DefaultMaxRetries+1 || a["request_id"].String() == "" {
						t.Errorf("warning attrs %v, want status 503, 4 attempts and a request id", a)
					}
				}
			}
		})
	})
	t.Run("rate limiter", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			logs := newObsLogs()
			// 1 rps, burst 1: the second Get waits 1 s, the third 1 s more.
			srv, c := fakeTimeClient(t, client.WithLogger(slog.New(logs)), client.WithRateLimit(1, 1))
			srv.Add(bctrltest.NewInvocation(fakeTimeID))
			for range 3 {
				if _, err := c.Invocations.Get(t.Context(), fakeTimeID); err != nil {
					t.Fatal(err)
				}
			}
			// 2 rps: a half-second wait is not worth a human's attention.
			fast, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL),
				client.WithHTTPClient(srv.HTTPClient()), client.WithLogger(slog.New(logs)), client.WithRateLimit(2, 1))
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := fast.Invocations.Get(t.Context(), fakeTimeID); err != nil {
					t.Fatal(err)
				}
			}
			byLevel, byMsg := logCounts(logs.records())
			if byLevel[slog.LevelInfo] != 2 || byMsg["INFO bctrl: rate limiter delayed a request"] != 2 {
				t.Errorf("records %v, want 2 rate-limiter records at Info", byMsg)
			}
			for _, r := range logs.records() {
				if r.Level == slog.LevelInfo {
					a := obsRecordAttrs(r)
					if a["wait"].Duration() != time.Second || a["rate"].Float64() != 1 || a["burst"].Int64() != 1 {
						t.Errorf("rate-limiter record attrs %v, want wait 1s, rate 1, burst 1", a)
					}
				}
			}
		})
	})
}
