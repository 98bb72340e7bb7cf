package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// pollsToEnd is how many polls each invocation of the WaitAll benchmarks
// takes to end: running, running, then succeeded.
const pollsToEnd = 3

// countingAPI answers GET /v1/invocations/{id} in process, with no socket:
// the running fixture for an id's first polls, then a succeeded body. It
// builds each body from a template, so that 100,000 ids cost no memory
// before they are polled.
type countingAPI struct {
	running, succeeded [2][]byte // the bodies before and after the id

	mu    sync.Mutex
	polls map[string]int
}

func newCountingAPI(b *testing.B) *countingAPI {
	split := func(body []byte) [2][]byte {
		var v struct{ ID string }
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
		before, after, ok := bytes.Cut(body, []byte(`"`+v.ID+`"`))
		if !ok {
			b.Fatalf("no id %q in the fixture", v.ID)
		}
		return [2][]byte{append(before, '"'), append([]byte(`"`), after...)}
	}
	return &countingAPI{
		running:   split(spectest.Fixture(b, "running")),
		succeeded: split(spectest.Fixture(b, "succeeded")),
		polls:     make(map[string]int),
	}
}

func (a *countingAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	id := path.Base(req.URL.Path)
	a.mu.Lock()
	a.polls[id]++
	n := a.polls[id]
	a.mu.Unlock()
	tmpl := a.running
	if n >= pollsToEnd {
		tmpl = a.succeeded
	}
	body := make([]byte, 0, len(tmpl[0])+len(id)+len(tmpl[1]))
	body = append(append(append(body, tmpl[0]...), id...), tmpl[1]...)
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

func (a *countingAPI) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, p := range a.polls {
		n += p
	}
	return n
}

func benchIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("5e0c0001-03e8-4001-83e8-%012d", i)
	}
	return ids
}

// BenchmarkWaitAll runs WaitAll over 10,000 invocations (and 100,000 with
// BCTRL_BENCH_LARGE=1: a minute more) that each end on their third poll,
// without a budget, through an in-process transport. Each round runs the
// batch twice: once to measure memory, once to time it. It reports:
//
//   - B/id-scheduler: live heap per id once the batch is set up and one id
//     has been observed (the scheduler's own state: tracked ids, queues);
//   - B/id-parked: live heap per id once every id has been polled once and
//     holds its last invocation (the running fixture, 1.6 KB of JSON), as a
//     *WaitError would report it;
//   - ns/poll and cpu-ns/poll: wall and process CPU time per poll, the
//     client's Get, decoding and the fake API included;
//   - goroutines: the most goroutines WaitAll ran at once (its workers).
//
// BenchmarkWaitAllGets is the yardstick for ns/poll: the same polls as
// plain sequential Gets; the difference is the scheduler's.
func BenchmarkWaitAll(b *testing.B) {
	sizes := []int{10_000}
	if os.Getenv("BCTRL_BENCH_LARGE") != "" {
		sizes = append(sizes, 100_000)
	}
	for _, n := range sizes {
		b.Run("ids="+strconv.Itoa(n), func(b *testing.B) {
			ids := benchIDs(n)
			var schedPerID, parkedPerID, cpuPerPoll, wallPerPoll, goroutines float64
			for b.Loop() {
				// Memory: full collections at two points of the run.
				api := newCountingAPI(b)
				c := benchWaitAllClient(b, api)
				baseG := runtime.NumGoroutine()
				before := memStats()
				seen := 0
				progress := WithProgress(func(inv *Invocation) {
					if inv.Status != StatusRunning {
						return
					}
					seen++
					switch seen {
					case 1:
						ms := memStats()
						schedPerID = float64(int64(ms.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
					case n:
						ms := memStats()
						parkedPerID = float64(int64(ms.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
						goroutines = float64(runtime.NumGoroutine() - baseG)
					}
				})
				runWaitAll(b, c, ids, progress)

				// Time: the same batch, undisturbed.
				api = newCountingAPI(b)
				c = benchWaitAllClient(b, api)
				runtime.GC()
				cpu0, t0 := cpuTime(), time.Now()
				runWaitAll(b, c, ids)
				wall, cpu := time.Since(t0), cpuTime()-cpu0
				polls := api.total()
				wallPerPoll = float64(wall) / float64(polls)
				cpuPerPoll = float64(cpu) / float64(polls)
			}
			b.ReportMetric(schedPerID, "B/id-scheduler")
			b.ReportMetric(parkedPerID, "B/id-parked")
			b.ReportMetric(wallPerPoll, "ns/poll")
			b.ReportMetric(cpuPerPoll, "cpu-ns/poll")
			b.ReportMetric(goroutines, "goroutines")
		})
	}
}

func benchWaitAllClient(b *testing.B, api *countingAPI) *Client {
	c, err := New(WithAPIKey(benchKey), WithBaseURL("https://api.bctrl.test"), WithHTTPClient(&http.Client{Transport: api}))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// runWaitAll waits for ids, each polled at most every 5 ms, and checks
// that all succeeded.
func runWaitAll(b *testing.B, c *Client, ids []string, opts ...WaitOption) {
	ended := 0
	opts = append(opts, WithPollInterval(time.Millisecond, 5*time.Millisecond))
	for _, err := range c.Invocations.WaitAll(context.Background(), ids, opts...) {
		if err != nil {
			b.Fatal(err)
		}
		ended++
	}
	if ended != len(ids) {
		b.Fatalf("%d ended, want %d", ended, len(ids))
	}
}

// BenchmarkWaitAllGets sends the polls of BenchmarkWaitAll's 10,000 ids as
// plain sequential Gets: what a poll costs without the scheduler.
func BenchmarkWaitAllGets(b *testing.B) {
	const n = 10_000
	ids := benchIDs(n)
	var cpuPerGet, wallPerGet float64
	for b.Loop() {
		c := benchWaitAllClient(b, newCountingAPI(b))
		runtime.GC()
		cpu0, t0 := cpuTime(), time.Now()
		for range pollsToEnd {
			for _, id := range ids {
				if _, err := c.Invocations.Get(context.Background(), id); err != nil {
					b.Fatal(err)
				}
			}
		}
		wallPerGet = float64(time.Since(t0)) / (pollsToEnd * n)
		cpuPerGet = float64(cpuTime()-cpu0) / (pollsToEnd * n)
	}
	b.ReportMetric(wallPerGet, "ns/poll")
	b.ReportMetric(cpuPerGet, "cpu-ns/poll")
}
