package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
)

// simIDs returns n ids of the kind a load test makes up.
func simIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("5e1a0000-0000-4000-8000-%012d", i)
	}
	return ids
}

// simCreated and simTick are when decodeState's invocations were first
// asked for, and the tick.
var (
	simCreated = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	simTick    = 900 * time.Millisecond
)

// decodeState decodes a simulated state with the SDK, as a client sees it.
func decodeState(t *testing.T, p simPlan, id string, tick int) *client.Invocation {
	t.Helper()
	body, err := json.Marshal(p.state(id, simCreated, simTick, tick))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.WithAPIKey("sk-simulate-test"))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.DecodeInvocation(body)
	if err != nil {
		t.Fatalf("%s at tick %d: %v\n%s", id, tick, err, body)
	}
	return inv
}

// TestSimulatedCourses walks the course of many ids tick by tick: each is
// the same every time, moves forward only, ends within simMaxTicks (under
// a minute with the default tick) with the outcome and steps of its plan,
// and the four outcomes all occur.
func TestSimulatedCourses(t *testing.T) {
	t.Parallel()
	if simMaxTicks*defaultTick >= time.Minute {
		t.Fatalf("the longest course takes %v with the default tick", simMaxTicks*defaultTick)
	}
	outcomes := map[simOutcome]int{}
	for _, id := range simIDs(400) {
		sum := sha256.Sum256([]byte(id))
		p := planFor(sum)
		if fmt.Sprint(p) != fmt.Sprint(planFor(sum)) {
			t.Fatalf("%s: two plans", id)
		}
		outcomes[p.outcome]++
		if p.steps < 1 || p.steps > simMaxSteps || p.stop < 1 || p.stop > p.steps || p.ticks() > simMaxTicks {
			t.Fatalf("%s: plan %+v out of bounds", id, p)
		}
		lastStep := -1
		for tick := range p.ticks() + 3 {
			inv := decodeState(t, p, id, tick)
			switch {
			case tick < p.queued:
				if inv.Status != client.StatusQueued {
					t.Fatalf("%s at tick %d: %s, want queued", id, tick, inv.Status)
				}
			case tick < p.ticks():
				if inv.Status != client.StatusRunning || inv.Progress == nil || *inv.Progress.Step < lastStep || *inv.Progress.TotalSteps != p.steps {
					t.Fatalf("%s at tick %d: %s %+v", id, tick, inv.Status, inv.Progress)
				}
				lastStep = *inv.Progress.Step
			default:
				if string(inv.Status) != string(p.outcome) {
					t.Fatalf("%s at tick %d: %s, want %s", id, tick, inv.Status, p.outcome)
				}
				checkSimEnd(t, id, p, inv)
			}
		}
	}
	for _, o := range []simOutcome{simSucceeded, simFailed, simTimedOut, simCancelled} {
		if outcomes[o] < 20 {
			t.Errorf("%d of 400 ids %s: %v", outcomes[o], o, outcomes)
		}
	}
}

// TestSimulatedStamps checks that a simulated course tells the time: at
// each tick, startedAt is when it began running, lastHeartbeatAt when the
// current step began, finishedAt the moment the course ended (the same
// however late it is asked for), and no stamp is later than the server's
// clock.
func TestSimulatedStamps(t *testing.T) {
	t.Parallel()
	at := func(ticks int) time.Time { return simCreated.Add(time.Duration(ticks) * simTick) }
	for _, id := range simIDs(200) {
		p := planFor(sha256.Sum256([]byte(id)))
		for tick := range p.ticks() + 5 {
			inv := decodeState(t, p, id, tick)
			now := at(tick)
			for name, ts := range map[string]client.Timestamp{"createdAt": inv.CreatedAt, "startedAt": inv.StartedAt,
				"lastHeartbeatAt": inv.LastHeartbeatAt, "finishedAt": inv.FinishedAt, "cancelRequestedAt": inv.CancelRequestedAt} {
				if ts.After(now) {
					t.Fatalf("%s at tick %d: %s %v is after the server's clock %v", id, tick, name, ts.Time, now)
				}
			}
			if tick < p.queued {
				if !inv.StartedAt.IsZero() {
					t.Fatalf("%s queued at tick %d with startedAt %v", id, tick, inv.StartedAt.Time)
				}
				continue
			}
			if !inv.StartedAt.Time.Equal(at(p.queued)) {
				t.Fatalf("%s at tick %d: startedAt %v, want %v", id, tick, inv.StartedAt.Time, at(p.queued))
			}
			stepStart := p.queued
			for _, d := range p.stepTicks {
				if stepStart+d > tick {
					break
				}
				stepStart += d
			}
			switch {
			case tick < p.ticks():
				if !inv.LastHeartbeatAt.Time.Equal(at(stepStart)) || !inv.FinishedAt.IsZero() {
					t.Fatalf("%s running at tick %d: heartbeat %v, want the start of its step %v; finishedAt %v",
						id, tick, inv.LastHeartbeatAt.Time, at(stepStart), inv.FinishedAt.Time)
				}
			default:
				end := at(p.ticks())
				d, _ := inv.Duration()
				if !inv.FinishedAt.Time.Equal(end) || !inv.LastHeartbeatAt.Time.Equal(end) || d != end.Sub(at(p.queued)) {
					t.Fatalf("%s ended at tick %d: finished %v heartbeat %v duration %v; want %v, %v, %v",
						id, tick, inv.FinishedAt.Time, inv.LastHeartbeatAt.Time, d, end, end, end.Sub(at(p.queued)))
				}
				if p.outcome == simCancelled && !inv.CancelRequestedAt.Time.Equal(end) {
					t.Fatalf("%s cancelled: cancelRequestedAt %v, want %v", id, inv.CancelRequestedAt.Time, end)
				}
			}
		}
	}
}

// checkSimEnd checks the final state of a simulated invocation.
func checkSimEnd(t *testing.T, id string, p simPlan, inv *client.Invocation) {
	t.Helper()
	steps := inv.Steps()
	if p.outcome == simCancelled {
		if len(steps) != 0 {
			t.Fatalf("%s cancelled with %d steps", id, len(steps))
		}
		return
	}
	if len(steps) != p.stop {
		t.Fatalf("%s %s with %d steps, want %d", id, p.outcome, len(steps), p.stop)
	}
	for i := range steps[:len(steps)-1] {
		if _, ok := steps[i].Success(); !ok {
			t.Fatalf("%s: step %d failed", id, i)
		}
	}
	last := &steps[len(steps)-1]
	f, failed := last.Failure()
	switch p.outcome {
	case simSucceeded:
		if failed {
			t.Fatalf("%s succeeded with a failed last step", id)
		}
	case simFailed:
		if !failed || f.Error.Code != p.errCode || inv.Error == nil {
			t.Fatalf("%s failed without its error %s: %+v", id, p.errCode, f)
		}
	case simTimedOut:
		if !failed || f.Error.Code != "TIMEOUT" {
			t.Fatalf("%s timed out without a TIMEOUT step: %+v", id, f)
		}
	}
}

// TestSimulatorForgetsTheLeastRecentlyUsed checks the bound on ids kept:
// past it, the least recently asked-for id is forgotten, and starts over
// when asked for again.
func TestSimulatorForgetsTheLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	s := newSimulator(time.Second, 3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := simIDs(4)
	for _, id := range ids[:3] {
		s.at(id, t0)
	}
	s.at(ids[0], t0.Add(time.Minute)) // ids[0] is now the most recent
	s.at(ids[3], t0.Add(time.Minute)) // forgets ids[1]
	if n := s.len(); n != 3 {
		t.Fatalf("%d ids kept, want 3", n)
	}
	later := t0.Add(time.Hour)
	if inv := s.at(ids[0], later); !inv.CreatedAt.Time.Equal(t0) {
		t.Errorf("a kept id started over: created %v", inv.CreatedAt)
	}
	if inv := s.at(ids[1], later); !inv.CreatedAt.Time.Equal(later) || inv.Status != "queued" && planFor(sha256.Sum256([]byte(ids[1]))).queued > 0 {
		t.Errorf("a forgotten id did not start over: created %v, %s", inv.CreatedAt, inv.Status)
	}
}

// TestDevServerSimulatesThousandsOfIDs is a small load test in process:
// 2,000 ids, each answered with its simulated state, while the server
// keeps no more than its bound of ids.
func TestDevServerSimulatesThousandsOfIDs(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, true, func(l *devLimits) { l.simulateMaxIDs = 500 })
	ids := simIDs(2000)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	sem := make(chan struct{}, 8)
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	for _, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+"/v1/invocations/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+secretKey)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var inv struct{ ID, Status string }
			if err := json.NewDecoder(resp.Body).Decode(&inv); err != nil || resp.StatusCode != http.StatusOK || inv.ID != id {
				errs <- fmt.Errorf("%s: %d %+v %v", id, resp.StatusCode, inv, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.api.sim.len(); n != 500 {
		t.Errorf("the simulator keeps %d ids, want 500", n)
	}
}

// TestDevServerBackendHoldsOnlyIDsInFlight checks the layer under the
// simulator: bctrltest keeps every invocation it is given, so the dev
// server must take each id out again once it has answered. Many distinct
// ids, and many concurrent requests for one id (all answered 200), leave
// nothing behind.
func TestDevServerBackendHoldsOnlyIDsInFlight(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, true, func(l *devLimits) { l.simulateMaxIDs = 100 })
	ids := simIDs(300)
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	fetch := func(id string) error {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+"/v1/invocations/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+secretKey)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %d", id, resp.StatusCode)
		}
		return nil
	}
	for _, id := range ids {
		if err := fetch(id); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if err := fetch(ids[0]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	s.api.mu.Lock()
	inFlight, backend := len(s.api.inFlight), s.api.backend
	s.api.mu.Unlock()
	if inFlight != 0 {
		t.Errorf("%d ids still counted in flight", inFlight)
	}
	held := 0
	for _, id := range ids {
		req := httptest.NewRequest(http.MethodGet, "/v1/invocations/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+secretKey)
		rec := httptest.NewRecorder()
		backend.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			held++
		}
	}
	if held > 0 {
		t.Errorf("the bctrltest backend still holds %d of %d ids after their requests were answered", held, len(ids))
	}
	if err := fetch(demoSucceedsID); err != nil { // the demo ones stay
		t.Errorf("demo: %v", err)
	}
}

// TestDevServerSimulate runs the binary with --simulate and a fast tick:
// made-up ids end as their plans say (exit codes and JSON error codes),
// the same way on a second server, and the demo ids are unchanged.
func TestDevServerSimulate(t *testing.T) {
	t.Parallel()
	urls := make([]string, 2)
	for i := range urls {
		ready := filepath.Join(t.TempDir(), "url")
		startCLI(t, nil, "dev-server", "--addr", "127.0.0.1:0", "--ready-file", ready, "--tick", "5ms", "--simulate", "--api-key", secretKey)
		urls[i] = waitForFile(t, ready)
	}
	for _, id := range simIDs(12) {
		p := planFor(sha256.Sum256([]byte(id)))
		var finals []string
		for _, url := range urls {
			env := []string{"BCTRL_BASE_URL=" + url, "BCTRL_API_KEY=" + secretKey}
			r := runCLI(t, env, append([]string{"invocations", "wait", id, "-o", "json", "--timeout", "10s"}, fast...)...)
			want, code := exitFailed, "invocation_"+string(p.outcome)
			if p.outcome == simSucceeded {
				want = exitOK
			}
			if r.code != want {
				t.Fatalf("wait %s (%s): exit code %d, want %d; stderr:\n%s", id, p.outcome, r.code, want, r.stderr)
			}
			inv := printedInvocation(t, r.stdout)
			if want != exitOK {
				if f := decodeFailure(t, r.stderr); f.Error.Code != code {
					t.Errorf("wait %s: code %q, want %q", id, f.Error.Code, code)
				}
			}
			delete(inv, "createdAt") // when the server first saw the id
			for _, k := range []string{"startedAt", "finishedAt", "lastHeartbeatAt", "cancelRequestedAt"} {
				delete(inv, k)
			}
			b, _ := json.Marshal(inv)
			finals = append(finals, string(b))
		}
		if finals[0] != finals[1] {
			t.Errorf("%s ended differently on two servers:\n%s\n%s", id, finals[0], finals[1])
		}
	}
	env := []string{"BCTRL_BASE_URL=" + urls[0], "BCTRL_API_KEY=" + secretKey}
	r := runCLI(t, env, append([]string{"invocations", "wait", demoFailsID, "--timeout", "10s"}, fast...)...)
	if r.code != exitFailed || !strings.Contains(r.stdout, "UNKNOWN_CALL") || !strings.Contains(r.stdout, "page.clik") {
		t.Errorf("demo %s: exit code %d, stdout:\n%s", demoFailsID, r.code, r.stdout)
	}
}

// BenchmarkDevAPISimulatedIDs asks the dev server's handler (in process,
// no sockets) for b.N distinct simulated ids and reports the heap still
// live afterwards, which the bounds keep flat past --simulate-max-ids:
//
//	go test -run '^$' -bench DevAPISimulatedIDs -benchtime 200000x ./cmd/bctrl
//
// 200,000 ids: 12.3 live-MiB, 94 µs/id; with the bctrltest backend
// keeping every id, as before its bound, 174 live-MiB (RSS +318 MiB).
func BenchmarkDevAPISimulatedIDs(b *testing.B) {
	d, err := newDevAPI(devConfig{key: secretKey, tick: defaultTick, simulate: true, limits: defaultDevLimits})
	if err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/v1/invocations/"+fmt.Sprintf("5e1a0000-0000-4000-8000-%012d", i), nil)
		req.Header.Set("Authorization", "Bearer "+secretKey)
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		i++
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "live-MiB")
	runtime.KeepAlive(d)
}
