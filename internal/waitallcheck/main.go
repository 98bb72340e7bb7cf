// Command waitallcheck compares, in real time against a bctrl API (meant
// for `bctrl dev-server --simulate`), one Wait per id with one WaitAll over
// a batch of fresh ids: p50 and p99 of the time from each invocation's
// finishedAt to the caller seeing it, the requests sent and the wall time,
// for each of -runs runs of each way. It is issue 24's real-time check:
//
//	bctrl dev-server --simulate --ready-file /tmp/ready &
//	export BCTRL_BASE_URL=$(cat /tmp/ready) BCTRL_API_KEY=...   # as dev-server prints
//	go run ./internal/waitallcheck -n 200 -rps 20 -runs 3
//
// The ids are drawn from -seed, a fresh set for every run of every way (a
// simulated invocation starts with the first GET of its id). The
// detection delays are only as truthful as the server's finishedAt.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/google/uuid"
)

func main() {
	n := flag.Int("n", 200, "ids per batch")
	rps := flag.Float64("rps", 20, "WithRateLimit's rate, shared by both ways (0: none)")
	runs := flag.Int("runs", 3, "runs of each way")
	seed := flag.Uint64("seed", 1, "seed of the ids")
	maxWait := flag.Duration("max-wait", 5*time.Minute, "WithMaxWait")
	flag.Parse()
	if *n <= 0 || *runs <= 0 || *rps < 0 {
		fmt.Fprintln(os.Stderr, "waitallcheck: -n and -runs must be positive, -rps not negative")
		os.Exit(2)
	}
	for run := range *runs {
		for _, way := range []string{"Wait per id", "WaitAll"} {
			r, err := measure(way, ids(*seed, way, run, *n), *rps, *maxWait)
			if err != nil {
				fmt.Fprintln(os.Stderr, "waitallcheck:", err)
				os.Exit(1)
			}
			fmt.Printf("run %d %-11s | p50 %6.2fs p99 %6.2fs | %5d requests | wall %6.1fs | %d not ended\n",
				run+1, way, r.p(.5).Seconds(), r.p(.99).Seconds(), r.requests, r.wall.Seconds(), r.unended)
		}
	}
}

// ids returns n UUIDs drawn from seed, way and run.
func ids(seed uint64, way string, run, n int) []string {
	out := make([]string, n)
	for i := range out {
		h := sha256.New()
		binary.Write(h, binary.BigEndian, [3]uint64{seed, uint64(run), uint64(i)})
		h.Write([]byte(way))
		u, _ := uuid.FromBytes(h.Sum(nil)[:16])
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // variant
		out[i] = u.String()
	}
	return out
}

type result struct {
	delays   []time.Duration // per ended id: seen - finishedAt
	requests int64
	wall     time.Duration
	unended  int
}

func (r result) p(q float64) time.Duration {
	if len(r.delays) == 0 {
		return 0
	}
	d := slices.Clone(r.delays)
	slices.Sort(d)
	return d[max(0, int(q*float64(len(d))+0.999999)-1)]
}

// counter counts the HTTP attempts sent.
type counter struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

func measure(way string, ids []string, rps float64, maxWait time.Duration) (result, error) {
	var sent atomic.Int64
	opts := []client.Option{client.WithMiddleware(func(next http.RoundTripper) http.RoundTripper {
		return counter{next, &sent}
	})}
	if rps > 0 {
		opts = append(opts, client.WithRateLimit(rps, 1))
	}
	c, err := client.New(opts...)
	if err != nil {
		return result{}, err
	}
	var (
		mu  sync.Mutex
		res result
	)
	seen := func(inv *client.Invocation, err error) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		var we *client.WaitError
		if inv == nil || errors.As(err, &we) || !inv.FinishedAt.Valid() {
			res.unended++
			return
		}
		res.delays = append(res.delays, now.Sub(inv.FinishedAt.Time))
	}
	ctx := context.Background()
	start := time.Now()
	if way == "WaitAll" {
		for inv, err := range c.Invocations.WaitAll(ctx, ids, client.WithMaxWait(maxWait)) {
			seen(inv, err)
		}
	} else {
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() { seen(c.Invocations.Wait(ctx, id, client.WithMaxWait(maxWait))) })
		}
		wg.Wait()
	}
	res.wall = time.Since(start)
	res.requests = sent.Load()
	return res, nil
}
