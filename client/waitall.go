package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"
)

// waitAllInFlight caps the polls of one WaitAll in flight at once: the size
// of its worker pool.
const waitAllInFlight = 32

// WithPollBudget bounds the polls of one WaitAll to rps requests per second
// (a burst of one), on top of the client's own rate limit (WithRateLimit),
// which WaitAll keeps too. Within the budget WaitAll polls first the
// invocations likely to end soonest. Wait and Watch ignore it.
func WithPollBudget(rps float64) WaitOption {
	return func(c *waitConfig) error {
		if !(rps > 0) || math.IsInf(rps, 1) {
			return fmt.Errorf("bctrl: WithPollBudget: need a positive, finite rate, got %v", rps)
		}
		c.budget = rps
		return nil
	}
}

// WaitAll waits for many invocations under one request budget and yields
// each once, as it ends, in the order the ends are seen. The error is what
// Wait would return for that id: nil when it succeeded, an
// *InvocationError when it failed, was cancelled or timed out, a *WaitError
// when the wait stopped first (a 404 or another final poll error, the
// context, or WithMaxWait). The yielded invocation is never nil: it is the
// last one observed, or, when none was, one that carries just the ID.
//
// One scheduler decides which invocation to poll next, within the client's
// rate limit and WithPollBudget: those whose progress says they end soon
// are polled first, and none goes unpolled for longer than a bound (the
// README's WaitAll section has the model). Each poll is a single request:
// a transient failure is polled again later, and a Retry-After (or a 429)
// pauses the whole batch. WithPollInterval's minimum is the shortest
// interval between two polls of one invocation, and its maximum the bound
// on the longest; under a budget, that bound is at least the time to poll
// every invocation once (len(ids)/budget) for an end the model does not
// predict, 4 times for one it does. Without a WithPollBudget of its own,
// WaitAll polls no invocation sooner than Wait would after the same
// history unless one Wait per id would ask the client's rate limit (or,
// without one, the API) for at least as much. WithMaxWait bounds the
// wait for each invocation and ctx bounds them all: when either runs out,
// every invocation still waited for is yielded with its *WaitError (those
// whose poll was in flight first, then in the order of ids). WithProgress
// is called with each observed change of any invocation.
//
// Duplicate ids are waited for and yielded once; ids is read when the loop
// starts. Invalid ids are yielded first, with the error Wait returns for
// them; an invalid option is yielded with every id, and nothing is
// polled. The loop body and the progress function run on
// the scheduler's goroutine: polls already sent complete meanwhile, but
// none starts until they return. Breaking out of the loop stops all
// polling at once; no goroutine outlives the loop.
func (s *InvocationsService) WaitAll(ctx context.Context, ids []string, opts ...WaitOption) iter.Seq2[*Invocation, error] {
	return func(yield func(*Invocation, error) bool) {
		cfg, optErr := s.client.waitConfig(opts, true)
		if optErr == nil && cfg.resume != nil {
			optErr = errResumeAll // resume.go
		}
		b := newBatch(s, cfg, ids)
		for _, bad := range b.invalid {
			if !yield(idOnly(bad.id), s.client.boundary(bad.err)) {
				return
			}
		}
		if optErr != nil {
			for i := range b.w {
				if !yield(idOnly(b.w[i].id), s.client.boundary(optErr)) {
					return
				}
			}
			return
		}
		if len(b.w) > 0 {
			b.run(ctx, yield)
		}
	}
}

// idOnly is the invocation yielded for an id never observed.
func idOnly(id string) *Invocation {
	inv := &Invocation{}
	inv.ID = id
	return inv
}

// The states of a tracked invocation.
const (
	queued   = iota // in one of the scheduler's queues
	inFlight        // being polled
	ended           // yielded, or about to be
)

// The scheduler's two queues. An urgent poll goes before a routine one that
// is not overdue by more than a quarter of the gap bound.
const (
	urgent  = 0 // a first poll, an end predicted from a measured cadence, the gap bound, a burst
	routine = 1 // a poll to measure a cadence, an unannounced end, a retry
)

// tracked is what WaitAll keeps per id: 112 bytes besides the id itself and
// the last invocation observed (which a *WaitError reports). Times are
// since the batch began.
type tracked struct {
	id      string
	last    *Invocation
	lastErr error // the last transient poll error, cleared by a success

	polled  time.Duration // when its latest poll was sent
	prev    time.Duration // when the poll before it was sent
	changed time.Duration // when its current state began, as estimated
	due     time.Duration // when it is to be polled next
	seen    time.Duration // when the poll that saw its current state was sent

	cadence float32 // its own measure of seconds per step; 0 if none yet
	price   float32 // the batch's price when its due time was set
	step    int32   // the progress step of its current state (0: queued)
	total   int32   // the steps it runs in all; 0 if unknown
	steps   uint16  // how many steps its cadence was measured over
	fails   uint8   // consecutive transient poll failures
	quiet   uint8   // polls since the one that saw its latest change
	rate    float32 // the polls a second one Wait would send for it, as last estimated
	state   uint8
	queue   uint8 // urgent or routine, while queued
	guessed bool  // changed is a guess: the state began before the first poll
	byAge   bool  // cadence is only its age over its steps
}

type pollJob struct {
	idx int32
	id  string
}

type pollResult struct {
	idx    int32
	inv    *Invocation
	header http.Header
	err    error
}

// batch is one run of WaitAll's scheduler. Everything but the channels and
// the wait group belongs to the scheduler's goroutine.
type batch struct {
	s       *InvocationsService
	cfg     waitConfig
	w       []tracked
	invalid []invalidID
	queues  [2][]int32 // indexes into w; each a min-heap on (due, index)

	start  time.Time     // monotonic
	wall   time.Time     // start without its monotonic reading: server times are compared with it
	shared *rate.Limiter // the client's
	own    *rate.Limiter // WithPollBudget's; nil without one
	budget float64       // polls per second the batch may send; +Inf if unbounded

	minGap, maxGap float64 // WithPollInterval's bounds, in seconds
	active         int     // ids not ended
	inflight       int
	workers        int
	polls          int
	paused         time.Duration // no poll starts before this
	throttled      int           // consecutive 429s without a Retry-After

	model forecast

	jobs    chan pollJob
	results chan pollResult
	wg      sync.WaitGroup
	pollCtx context.Context
	span    trace.Span
}

type invalidID struct {
	id  string
	err error
}

func newBatch(s *InvocationsService, cfg waitConfig, ids []string) *batch {
	b := &batch{s: s, cfg: cfg}
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		if err := checkID(id); err != nil {
			b.invalid = append(b.invalid, invalidID{id, err})
		}
	}
	b.w = make([]tracked, 0, len(seen)-len(b.invalid))
	clear(seen)
	for _, id := range ids {
		if _, dup := seen[id]; dup || checkID(id) != nil {
			continue
		}
		seen[id] = struct{}{}
		b.w = append(b.w, tracked{id: id})
	}
	return b
}

// run polls until every id has been yielded, the context ends or the caller
// breaks out.
func (b *batch) run(ctx context.Context, yield func(*Invocation, error) bool) {
	c := b.s.client
	if b.cfg.maxWait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, b.cfg.maxWait, fmt.Errorf("%w after %v", ErrWaitTimeout, b.cfg.maxWait))
		defer cancel()
	}
	ctx, b.span = c.tracer.Start(ctx, "bctrl.invocations.wait_all",
		trace.WithAttributes(attribute.Int("bctrl.wait.invocations", len(b.w))))
	defer func() {
		b.span.SetAttributes(attrPolls.Int(b.polls))
		c.endSpan(b.span, nil)
	}()

	b.start = time.Now()
	b.wall = b.start.Round(0)
	b.shared = c.limiter
	b.budget = math.Inf(1)
	if l := b.shared.Limit(); l != rate.Inf {
		b.budget = float64(l)
	}
	if b.cfg.budget > 0 {
		b.own = rate.NewLimiter(rate.Limit(b.cfg.budget), 1)
		b.budget = min(b.budget, b.cfg.budget)
	}
	b.minGap, b.maxGap = b.cfg.pollMin.Seconds(), b.cfg.pollMax.Seconds()
	b.active = len(b.w)
	b.model.init()
	b.model.demand = float64(len(b.w)) / b.minGap // every id is new
	for i := range b.w {
		b.w[i].rate = float32(1 / b.minGap)
	}
	// Every id's first poll is urgent, in the order given, at the pace of
	// the budget: urgent polls of ids already seen come in between when
	// they are due sooner. This first sweep's backlog is planned.
	q := make([]int32, len(b.w))
	for i := range q {
		q[i] = int32(i)
		b.w[i].queue = urgent
		if !math.IsInf(b.budget, 1) {
			b.w[i].due = durationOf(float64(i) / b.budget)
		}
	}
	b.queues[urgent] = q
	if !math.IsInf(b.budget, 1) {
		b.model.sweepEnds = durationOf(float64(len(q)) / b.budget)
	}

	pctx, stop := context.WithCancel(ctx)
	b.pollCtx = pctx
	inFlightCap := min(waitAllInFlight, len(b.w))
	b.jobs = make(chan pollJob, inFlightCap)
	b.results = make(chan pollResult, inFlightCap)
	defer func() {
		// Stop polls in flight, let the workers go, and wait for them: no
		// goroutine outlives the loop.
		stop()
		close(b.jobs)
		b.wg.Wait()
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for b.active > 0 {
		if ctx.Err() != nil {
			b.finish(ctx, yield)
			return
		}
		wake, ok := b.dispatch(inFlightCap)
		var tick <-chan time.Time
		if ok {
			timer.Reset(wake)
			tick = timer.C
		}
		select {
		case r := <-b.results:
			if !b.handle(ctx, r, yield) {
				return
			}
		case <-tick:
		case <-ctx.Done():
			b.finish(ctx, yield)
			return
		}
	}
}

// since returns the time since the batch began.
func (b *batch) since() time.Duration { return time.Since(b.start) }

// dispatch starts every poll that is due, within the budget and the
// in-flight cap. It returns how long until it has more to do, and false
// when only a poll's result can give it more.
func (b *batch) dispatch(inFlightCap int) (time.Duration, bool) {
	for b.inflight < inFlightCap {
		now := b.since()
		if now < b.paused {
			return b.paused - now, true
		}
		q, wait := b.next(now)
		early := false
		if q < 0 {
			// Nothing is due: spare budget polls the id due soonest
			// ahead of its time, rather than leaving the budget idle.
			if q, early = b.ahead(now); q < 0 {
				return wait, wait > 0
			}
		}
		i := b.queues[q][0]
		w := &b.w[i]
		if !early && w.price > 0 && b.model.price > 2*float64(w.price) {
			// Planned when polls were cheaper: plan it again at today's
			// price, which can only put it later. (A first poll has no
			// plan.)
			b.pop(q)
			b.schedule(w, i, now)
			continue
		}
		if tw := b.token(); tw > 0 {
			if early && wait > 0 {
				// A poll that falls due meanwhile wakes the loop too.
				tw = min(tw, wait)
			}
			return tw, true
		}
		b.pop(q)
		w.state = inFlight
		w.prev, w.polled = w.polled, now
		b.inflight++
		b.polls++
		b.spend(now)
		if b.workers < b.inflight {
			b.workers++
			b.wg.Add(1)
			go b.work()
		}
		b.jobs <- pollJob{idx: i, id: w.id}
	}
	return 0, false
}

// next returns the queue to poll from now, or -1 and how long until one
// has a poll due (0 if both are empty). An urgent poll goes first, unless
// the routine one is overdue by more than a quarter of the gap bound.
func (b *batch) next(now time.Duration) (int, time.Duration) {
	due := [2]time.Duration{math.MaxInt64, math.MaxInt64}
	for q := range b.queues {
		if len(b.queues[q]) > 0 {
			due[q] = b.w[b.queues[q][0]].due
		}
	}
	switch {
	case due[routine] <= now-durationOf(b.gapBound()/4):
		return routine, 0
	case due[urgent] <= now:
		return urgent, 0
	case due[routine] <= now:
		return routine, 0
	}
	soonest := min(due[urgent], due[routine])
	if soonest == math.MaxInt64 {
		return -1, 0
	}
	return -1, soonest - now
}

// token takes a token from the client's rate limiter and the batch's
// budget, or returns how long until both have one.
func (b *batch) token() time.Duration {
	now := time.Now()
	var wait time.Duration
	for _, l := range [...]*rate.Limiter{b.own, b.shared} {
		if l == nil || l.Limit() == rate.Inf {
			continue
		}
		if t := l.TokensAt(now); t < 1 {
			wait = max(wait, time.Duration(math.Ceil((1-t)/float64(l.Limit())*1e9))+time.Microsecond)
		}
	}
	if wait > 0 {
		return wait
	}
	if b.shared.Limit() != rate.Inf && !b.shared.AllowN(now, 1) {
		// Another call of the client took it first.
		return time.Duration(1e9/float64(b.shared.Limit())) + time.Microsecond
	}
	if b.own != nil {
		b.own.AllowN(now, 1)
	}
	return 0
}

// work polls the ids it is given until the jobs channel closes.
func (b *batch) work() {
	defer b.wg.Done()
	for j := range b.jobs {
		// One request: the scheduler took its token, and polls again
		// after a transient failure rather than retrying.
		inv, ex, err := b.s.client.getInvocation(b.pollCtx, b.cfg.call, invocationsGetOp(j.id), j.id, true)
		b.results <- pollResult{idx: j.idx, inv: inv, header: ex.info.Header, err: err}
	}
}

// handle takes in one poll's result. It returns false when the caller broke
// out of the loop.
func (b *batch) handle(ctx context.Context, r pollResult, yield func(*Invocation, error) bool) bool {
	b.inflight--
	w := &b.w[r.idx]
	now := b.since()
	b.slowDown(r, now)
	switch {
	case r.err == nil:
		// A poll that succeeded counts even if the context ended just
		// after it: a finished invocation is reported as such.
		inv := r.inv
		first := w.last == nil
		changed := hasChanged(w.last, inv)
		w.last, w.lastErr, w.fails = inv, nil, 0
		if changed {
			b.s.observed(ctx, b.span, inv)
			if b.cfg.progress != nil {
				b.cfg.progress(inv)
			}
		}
		b.observeServer(inv, w.polled)
		if success := inv.Status.IsSuccess(); success || inv.Ended() {
			b.ended(w, inv, first, now)
			var err error
			if !success {
				err = newInvocationError(inv)
			}
			return b.end(w, inv, err, yield)
		}
		b.polled(w, inv, first, changed)
	case ctx.Err() != nil:
		// The batch is ending; finish reports this id.
	case !IsTransient(r.err):
		// The id is the caller's input: scrubbed, in case it is the key.
		return b.end(w, b.lastOf(w), &WaitError{ID: w.id, Last: w.last, Err: r.err}, yield)
	default:
		w.lastErr = r.err
		w.fails = min(w.fails+1, 16)
	}
	if ctx.Err() == nil {
		b.schedule(w, r.idx, now)
	} else {
		w.state = queued // in no queue: finish reports it
	}
	return true
}

// schedule plans w's next poll and queues it.
func (b *batch) schedule(w *tracked, i int32, now time.Duration) {
	b.tune(now)
	due, q := b.plan(w)
	w.due = max(durationOf(due), now)
	w.price = float32(b.model.price)
	w.state = queued
	b.push(q, i)
}

// slowDown pauses the whole batch on a Retry-After (on any answer, capped
// by WithRetryAfterCap) and on a 429 without one (backing off from the
// retry backoff's minimum to its maximum while 429s go on).
func (b *batch) slowDown(r pollResult, now time.Duration) {
	cfg := b.cfg.call
	var pause time.Duration
	if after, ok := retryAfter(r.header, time.Now(), cfg.retryAfterCap); ok {
		pause = after
	}
	var apiErr *APIError
	if errors.As(r.err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests {
		b.throttled = min(b.throttled+1, 30)
		if pause == 0 {
			pause = min(cfg.retryMax, cfg.retryMin<<(b.throttled-1))
		}
	} else if r.header != nil {
		b.throttled = 0
	}
	if pause > 0 {
		b.paused = max(b.paused, now+pause)
	}
}

// lastOf is what is yielded for w: its last invocation, or one carrying
// just its id.
func (b *batch) lastOf(w *tracked) *Invocation {
	if w.last != nil {
		return w.last
	}
	return idOnly(w.id)
}

// end yields w's outcome. It returns false when the caller broke out of the
// loop.
func (b *batch) end(w *tracked, inv *Invocation, err error, yield func(*Invocation, error) bool) bool {
	w.state = ended
	b.active--
	b.model.demand -= float64(w.rate)
	b.record(inv, err)
	w.last, w.lastErr = nil, nil                // the caller holds it now
	return yield(inv, b.s.client.boundary(err)) // as Wait's, scrubbed and capped
}

// record adds one id's wait to the wait duration metric, as Wait does.
func (b *batch) record(inv *Invocation, err error) {
	c := b.s.client
	ctx := context.Background()
	if !c.metrics.waitDuration.Enabled(ctx) {
		return
	}
	c.metrics.waitDuration.Record(ctx, b.since().Seconds(),
		metric.WithAttributes(attribute.String("bctrl.wait.outcome", outcomeLabel(inv, err))))
}

// finish reports every id still waited for once the context has ended:
// first those whose poll was in flight (one that ended counts as ended),
// then the rest in the order of ids, each with a *WaitError.
func (b *batch) finish(ctx context.Context, yield func(*Invocation, error) bool) {
	for b.inflight > 0 {
		if !b.handle(ctx, <-b.results, yield) {
			return
		}
	}
	for i := range b.w {
		w := &b.w[i]
		if w.state == ended {
			continue
		}
		err := &WaitError{ID: w.id, Last: w.last, Err: waitCause(ctx, w.lastErr)}
		if !b.end(w, b.lastOf(w), err, yield) {
			return
		}
	}
}

// The queues: indexes into b.w, each a binary min-heap ordered by due time,
// then by index so that ids due together are polled in the order given.

func (b *batch) less(i, j int32) bool {
	wi, wj := &b.w[i], &b.w[j]
	return wi.due < wj.due || wi.due == wj.due && i < j
}

func (b *batch) push(q int, i int32) {
	b.w[i].queue = uint8(q)
	h := append(b.queues[q], i)
	b.queues[q] = h
	for k := len(h) - 1; k > 0; {
		p := (k - 1) / 2
		if !b.less(h[k], h[p]) {
			break
		}
		h[k], h[p] = h[p], h[k]
		k = p
	}
}

// pop removes the first id of queue q.
func (b *batch) pop(q int) int32 {
	h := b.queues[q]
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	b.queues[q] = h[:n]
	b.down(q, 0)
	return top
}

// down moves the id at k of queue q down to its place.
func (b *batch) down(q, k int) {
	h := b.queues[q]
	n := len(h)
	for {
		l := 2*k + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && b.less(h[r], h[l]) {
			m = r
		}
		if !b.less(h[m], h[k]) {
			return
		}
		h[k], h[m] = h[m], h[k]
		k = m
	}
}

// requeue rebuilds both queues after due times or queues changed.
func (b *batch) requeue() {
	all := slices.Concat(b.queues[urgent], b.queues[routine])
	b.queues[urgent], b.queues[routine] = b.queues[urgent][:0], b.queues[routine][:0]
	for _, i := range all {
		q := int(b.w[i].queue)
		b.queues[q] = append(b.queues[q], i)
	}
	for q := range b.queues {
		for k := len(b.queues[q])/2 - 1; k >= 0; k-- {
			b.down(q, k)
		}
	}
}
