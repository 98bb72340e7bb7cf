package client

import (
	"math"
	"time"
)

// WaitAll's model: when to poll each invocation so that ends are seen soon
// after they happen, within a budget of polls.
//
// Each id is polled when the detection delay that polling it would save,
// in expectation, reaches the batch's price: the expected time by which
// its end, if it came since its last poll, has gone unnoticed. For an end
// expected evenly within a window [lo, hi], that is √(2·price·width) into
// the window, then closer and closer as the window runs out (windowDue):
// the square-root rule, under which an id k times likelier to end is
// polled √k times as often, which minimises the mean detection delay for a
// given number of polls.
//
// The window: an invocation's end comes one cadence (seconds per step)
// after each step it has left, counted from when its current state began.
// The cadence is measured on the server's clock (the heartbeat of the
// current step less startedAt, over the steps before it), or from two
// changes this batch saw, or, until then, by its age (createdAt) over the
// states it went through; it is pulled towards the batch's mean by one
// step's weight. The state's start is its heartbeat (createdAt while
// queued) on our clock; without one, between the two polls that saw it
// change and within its last step. The window's width is the batch's own
// measure of how far ends fell from their prediction. Past its window, an
// invocation is expected within as long again as it is overdue.
//
// Around that: an id whose cadence is not measured yet is polled as Wait
// would, at intervals as long as its state has lasted, until a change
// measures it; ends the progress does not announce (failures,
// cancellations, unknown totals) add a constant hazard, the batch's own
// rate of them; a run of them is taken for a burst (a batch cancelled, a
// runtime lost), and every id not polled since it began is polled at once.
// Under a budget, the price rises while urgent polls fall behind, which
// thins every id's polls by the square root of the rise.
//
// The floor: an id whose end is not predicted (cadence unmeasured, total
// unknown, or the batch seeing unannounced ends) is polled at least every
// max(WithPollInterval's maximum, N/budget), the even polling one Wait per
// id achieves with the whole budget; a predicted one within
// max(floor, 4·N/budget). Spare budget is never left idle while an id has
// waited Wait's shortest interval. Without spare budget, and always for an
// end not predicted, no id is polled sooner than Wait would poll it after
// the same history (see spare and waitShortest).

// Tuning constants. TestWaitAllScenarios measures them; see the README.
const (
	// waitAllPrice is the least expected detection delay, in seconds, that
	// a poll must save: the price of a poll when the budget is ample.
	waitAllPrice = 0.15
	// waitAllLate is the backlog of urgent polls that raises the price.
	waitAllLate = 500 * time.Millisecond
	// waitAllFloorShare sets the gap bound under a budget: every id is
	// polled at least once every waitAllFloorShare·N/budget seconds, so
	// that the bound alone takes at most 1/waitAllFloorShare of it.
	waitAllFloorShare = 4
	// waitAllCadence and waitAllSteps are the priors of a batch that has
	// measured no step yet: seconds per step, steps per invocation.
	waitAllCadence = 10.0
	waitAllSteps   = 4.0
	// waitAllSpread is the prior relative error of a predicted end (in
	// cadences per √step left), before the batch has measured its own.
	waitAllSpread = 0.3
	// waitAllCredit is how long, without a limit, the polls one Wait per
	// id would have sent and the batch did not may be kept to spend on
	// predicted ends.
	waitAllCredit = time.Minute
	// waitAllUnannounced is the rate of unannounced ends per change
	// above which every id is polled at the floor's pace at least.
	waitAllUnannounced = 0.012
	// waitAllBurst is the share of recent polls that must find an
	// unannounced end for the batch to suspect a burst of them.
	waitAllBurst = 0.1
)

// forecast is the model's batch-wide state.
type forecast struct {
	price       float64 // seconds of expected detection delay a poll must save
	tunedAt     time.Duration
	cadSum      float64 // Σ of the ids' own cadences
	cadN, totN  int     // ids with a cadence; ids with a known total
	totSum      float64 // Σ of the known totals
	spread2     float64 // mean squared relative error of predicted ends
	changes     int     // changes observed
	early       int     // unannounced ends
	recentEarly float64 // share of recent polls that found one
	burstFrom   time.Duration
	swept       time.Duration // burstFrom of the last sweep
	sweptAt     time.Duration
	sweepEnds   time.Duration // when the last sweep's polls are all sent, at the budget's pace
	offset      time.Duration // our clock minus the server's, at most
	demand      float64       // polls per second one Wait per active id would send
	credit      float64       // polls one Wait per id would have sent, less the batch's
	creditAt    time.Duration
	offsetKnown bool
}

func (f *forecast) init() {
	f.price = waitAllPrice
	f.spread2 = waitAllSpread * waitAllSpread
}

// plan returns when to poll w next, in seconds since the batch began, and
// from which queue.
func (b *batch) plan(w *tracked) (float64, int) {
	f := &b.model
	floor := b.floorGap()
	s1 := w.polled.Seconds()
	if w.fails > 0 || w.last == nil {
		// After a transient failure: back off from the minimum interval,
		// doubling per failure, up to the floor.
		return s1 + min(b.minGap*math.Exp2(float64(w.fails)-1), floor), routine
	}
	price := f.price
	c := b.cadenceOf(w)
	left, known := b.stepsLeft(w)
	gap, least := b.gapBound(), b.minGap
	if w.steps == 0 || w.byAge || !known || b.unannounced() {
		// The model does not predict this end: poll it at least as evenly
		// as one Wait per id would with the whole budget, and no sooner
		// than Wait would.
		gap, least = floor, b.waitShortest(w)
	} else if !b.spare() {
		least = b.waitShortest(w)
	}
	if w.last.Status == StatusCancelling {
		left, known, c = 1, true, min(c, 2)
	}
	// The end's window.
	tc := w.changed.Seconds()
	mid := tc + left*c
	half := c * (2*math.Sqrt(f.spread2*left) + 0.5*(left-1)/(float64(w.steps)+1))
	if !known {
		half *= 2
	}
	lo, hi := max(mid-half, s1), mid+half
	if hi <= s1 {
		// Past the window with no end: the state runs long. Expect the end
		// within as long again as it is overdue (half a step at least).
		lo, hi = s1, s1+max(0.5*c, s1-mid)
	}
	due, q := windowDue(lo, hi, price), routine
	if w.steps > 0 && known {
		q = urgent
	}
	if w.steps == 0 {
		// No cadence measured yet: poll as Wait would, at intervals as
		// long as the state has lasted (stretched when polls are dear),
		// to see its next step, which measures it.
		if d := s1 + max(s1-tc, b.minGap)*math.Sqrt(price/waitAllPrice); d < due {
			due, q = d, routine
		}
	}
	// Ends the window does not predict, at a constant rate: the batch's
	// unannounced ends per change observed.
	hazard := b.earlyRate() / c
	if !known {
		hazard = 1 / (left * c)
	}
	if d := s1 + math.Sqrt(2*price/hazard); d < due {
		due, q = d, routine
	}
	switch {
	case due < s1+least:
		due = s1 + least
	case due > s1+gap:
		due, q = s1+gap, urgent
	}
	return due, q
}

// ahead returns the queue whose first id spare budget may poll now, ahead
// of its due time, and true; or -1 and false. Only under a finite budget
// that is spare, and only an id that has waited Wait's shortest interval
// (the minimum, if its end is predicted): the floor's even polling, at the
// budget's whole pace.
func (b *batch) ahead(now time.Duration) (int, bool) {
	if math.IsInf(b.budget, 1) || !b.spare() {
		return -1, false
	}
	q := -1
	for k := range b.queues {
		if len(b.queues[k]) > 0 && (q < 0 || b.less(b.queues[k][0], b.queues[q][0])) {
			q = k
		}
	}
	if q < 0 {
		return -1, false
	}
	w := &b.w[b.queues[q][0]]
	if w.last == nil || now-w.polled < durationOf(b.waitShortest(w)) {
		return -1, false
	}
	return q, true
}

// waitShortest is the shortest interval Wait would leave after w's latest
// poll, after the same history: its backoff since the latest change at
// -20 % jitter. An id whose end the model does not predict, or any id
// without spare budget, is polled no sooner, so that the shared limiter
// (or, without one, the API) is never asked for more than one Wait per id
// would ask.
func (b *batch) waitShortest(w *tracked) float64 {
	return max(b.minGap, 0.8*b.waitInterval(w))
}

// waitInterval is Wait's interval after the same history as w's, without
// jitter: its backoff since the latest change.
func (b *batch) waitInterval(w *tracked) float64 {
	return min(b.minGap*math.Pow(1.5, float64(w.quiet)), b.maxGap)
}

// spare reports whether the batch may poll a predicted end sooner than
// Wait would: the budget is its own (WithPollBudget); or one Wait per id
// would ask the client's rate limiter for more than it gives, so that
// taking all of it takes no more than they would; or, without a limit, the
// batch has sent fewer polls than one Wait per id would have by now.
func (b *batch) spare() bool {
	switch {
	case b.own != nil:
		return true
	case math.IsInf(b.budget, 1):
		return b.model.credit > 0
	default:
		return b.model.demand > b.budget
	}
}

// spend charges one poll sent at now against the polls one Wait per id
// would have sent by then (without a limit, the batch's only bound).
func (b *batch) spend(now time.Duration) {
	f := &b.model
	f.credit += f.demand*(now-f.creditAt).Seconds() - 1
	f.credit = min(f.credit, f.demand*waitAllCredit.Seconds())
	f.creditAt = now
}

// floorGap is the longest gap between two polls of an id whose end the
// model does not predict, in seconds: the maximum poll interval, or under
// a budget the time to poll every active id once, if longer: the even
// polling one Wait per id achieves with the whole budget.
func (b *batch) floorGap() float64 {
	gap := b.maxGap
	if !math.IsInf(b.budget, 1) {
		gap = max(gap, float64(b.active)/b.budget)
	}
	return gap
}

// unannounced reports whether the batch sees ends that its progress does
// not announce often enough that no end can be taken as predicted.
func (b *batch) unannounced() bool {
	return b.earlyRate() > waitAllUnannounced
}

// windowDue returns when the expected delay of an end spread evenly over
// [lo, hi], unseen at lo, reaches price: √(2·price·width) into the window,
// or after its middle by price when the window is narrower than 2·price.
func windowDue(lo, hi, price float64) float64 {
	width := hi - lo
	if 2*price <= width {
		return lo + math.Sqrt(2*price*width)
	}
	return lo + width/2 + price
}

// gapBound is the longest planned gap between two polls of an id whose
// end the model predicts, in seconds: the floor, or under a budget the time
// to poll every active id waitAllFloorShare times, if longer.
func (b *batch) gapBound() float64 {
	gap := b.floorGap()
	if !math.IsInf(b.budget, 1) {
		gap = max(gap, waitAllFloorShare*float64(b.active)/b.budget)
	}
	return gap
}

// tune moves the price, once a second, by how late the most overdue urgent
// poll is: a backlog means more polls are planned than the budget allows,
// so the price goes up by a quarter; none, and it goes back down (to
// waitAllPrice at least). A pause for a Retry-After is no backlog.
func (b *batch) tune(now time.Duration) {
	f := &b.model
	if math.IsInf(b.budget, 1) || now-f.tunedAt < time.Second {
		return
	}
	f.tunedAt = now
	if now < b.paused+time.Second || now < f.sweepEnds {
		return
	}
	var late time.Duration
	if q := b.queues[urgent]; len(q) > 0 {
		late = now - b.w[q[0]].due
	}
	switch {
	case late > waitAllLate:
		f.price *= 1.25
	case late < waitAllLate/4:
		f.price = max(waitAllPrice, f.price*0.8)
	}
}

// earlyRate is the chance per change that an invocation ends unannounced:
// the batch's own count, after a prior of 1 in 100.
func (b *batch) earlyRate() float64 {
	return float64(b.model.early+1) / float64(b.model.changes+100)
}

// polled learns from a poll of w that found it still running.
func (b *batch) polled(w *tracked, inv *Invocation, first, changed bool) {
	b.notSurprised()
	if !changed {
		w.quiet = min(w.quiet+1, math.MaxUint8)
	} else {
		w.quiet, w.seen = 0, w.polled
		b.model.changes++
		b.learn(w, inv, first)
	}
	// One Wait's polls a second for w now: its interval after the time
	// since it saw the change, had nothing slowed it (lo, lo·1.5, ... add
	// up to 2·(lo·1.5^k - lo)).
	f := &b.model
	f.demand -= float64(w.rate)
	w.rate = float32(1 / min(b.minGap+(w.polled-w.seen).Seconds()/2, b.maxGap))
	f.demand += float64(w.rate)
}

// ended learns from w's end, seen by the poll sent at w.polled: how far it
// fell from its predicted window, or that it came unannounced: not a
// success, and before its last step or early in its window (a failure, a
// cancellation). A run of unannounced ends means a burst of them: every
// id not polled since the burst began is swept.
func (b *batch) ended(w *tracked, inv *Invocation, first bool, now time.Duration) {
	f := &b.model
	f.changes++
	left, known := b.stepsLeft(w)
	if first || !known {
		b.notSurprised()
		return
	}
	s0, s1 := w.prev.Seconds(), w.polled.Seconds()
	end := (s0 + s1) / 2
	if t, ok := b.local(inv.FinishedAt); ok && t > s0 && t <= s1 {
		end = t
	}
	c := b.cadenceOf(w)
	e := (end - (w.changed.Seconds() + left*c)) / (c * math.Sqrt(left))
	sd := math.Sqrt(f.spread2)
	if inv.Status.IsSuccess() || left < 1.5 && e >= -sd {
		if w.steps > 0 && left < 1.5 {
			// A measured prediction: its error sets the windows' width.
			e = min(max(e, -3*sd), 3*sd)
			f.spread2 += (e*e - f.spread2) / 10
		}
		b.notSurprised()
		return
	}
	was := b.unannounced()
	f.early++
	if !was && b.unannounced() {
		b.floorAll()
	}
	f.recentEarly += (1 - f.recentEarly) / 16
	f.burstFrom = max(f.burstFrom, durationOf(end))
	if f.recentEarly >= waitAllBurst && f.burstFrom > f.swept && (f.sweptAt == 0 || now-f.sweptAt >= time.Second) {
		b.sweep(now)
	}
}

// floorAll brings every planned poll within the floor of the poll before
// it: once ends come unannounced, no end is predicted, and plans made
// before may leave an id unpolled for longer.
func (b *batch) floorAll() {
	floor := durationOf(b.floorGap())
	for q := range b.queues {
		for _, i := range b.queues[q] {
			if w := &b.w[i]; w.last != nil && w.due > w.polled+floor {
				w.due, w.queue = w.polled+floor, urgent
			}
		}
	}
	b.requeue()
}

// notSurprised notes a poll that found no unannounced end.
func (b *batch) notSurprised() {
	f := &b.model
	f.recentEarly -= f.recentEarly / 16
	if f.recentEarly < waitAllBurst/4 {
		f.burstFrom = 0
	}
}

// sweep makes urgent every id not polled since the burst began: each has
// ended with the chance that recent polls found, so it is due when the
// expected delay since then reaches the price.
func (b *batch) sweep(now time.Duration) {
	f := &b.model
	due := max(now, f.burstFrom+durationOf(f.price/f.recentEarly))
	n := 0
	for q := range b.queues {
		for _, i := range b.queues[q] {
			if w := &b.w[i]; w.polled < f.burstFrom && w.due > due {
				w.due, w.queue, w.price = due, urgent, float32(f.price)
				n++
			}
		}
	}
	b.requeue()
	f.swept, f.sweptAt = f.burstFrom, now
	// The sweep's backlog is planned: it does not raise the price.
	f.sweepEnds = now + durationOf(float64(n)/b.budget)
}

// stepsLeft returns how many state changes w has left before its end (its
// remaining steps, the current one included), and whether its progress
// said so or the batch's mean total stands in.
func (b *batch) stepsLeft(w *tracked) (float64, bool) {
	f := &b.model
	total, known := float64(w.total), w.total > 0
	if !known {
		total = waitAllSteps
		if f.totN > 0 {
			total = f.totSum / float64(f.totN)
		}
	}
	return max(1, total-float64(w.step)+1), known
}

// cadenceOf returns w's seconds per step: its own measure, weighted by the
// steps it spans, pulled towards the batch's mean by one step's weight.
func (b *batch) cadenceOf(w *tracked) float64 {
	f := &b.model
	prior := waitAllCadence
	if f.cadN > 0 {
		prior = f.cadSum / float64(f.cadN)
	}
	if w.steps == 0 {
		return prior
	}
	n := float64(w.steps)
	return (n*float64(w.cadence) + prior) / (n + 1)
}

// learn updates w's model from inv, a change first seen by the poll sent at
// w.polled (and not by the one sent at w.prev).
func (b *batch) learn(w *tracked, inv *Invocation, first bool) {
	f := &b.model
	s1 := w.polled.Seconds()
	lo := math.Inf(-1)
	if !first {
		lo = w.prev.Seconds()
	}
	step, total := position(inv)

	// When the new state began: its heartbeat (createdAt while queued) on
	// our clock, if it falls between the two polls.
	tc, stamped := 0.0, false
	began := inv.LastHeartbeatAt
	if step == 0 {
		began = inv.CreatedAt
	}
	if t, ok := b.local(began); ok && t > lo && t <= s1 {
		tc, stamped = t, true
	}

	// Its cadence: on the server's clock, the running time before this
	// step over the steps it took; else from two changes this batch saw
	// (with their heartbeats); else, while nothing better is known, its
	// age over the states it went through (queued, the steps before this
	// one, half of this one), which counts for one step only: a queue may
	// be longer or shorter than a step.
	created, hasCreated := b.local(inv.CreatedAt)
	switch hb, st := inv.LastHeartbeatAt, inv.StartedAt; {
	case step >= 2 && hb.Valid() && st.Valid() && hb.After(st.Time):
		b.setCadence(w, hb.Sub(st.Time).Seconds()/float64(step-1), int(step-1), false)
	case stamped && !first && !w.guessed && w.step >= 1 && step > w.step && !w.byAge:
		d := int(step - w.step)
		if sample := (tc - w.changed.Seconds()) / float64(d); sample > 0 {
			n := int(w.steps)
			b.setCadence(w, (float64(n)*float64(w.cadence)+float64(d)*sample)/float64(n+d), n+d, false)
		}
	case (w.steps == 0 || w.byAge) && step >= 1 && hasCreated && created < s1:
		b.setCadence(w, (s1-created)/(float64(step)+0.5), 1, true)
	}

	// Without a heartbeat, the state began between the two polls and, at
	// its cadence, within the last step.
	guessed := false
	if !stamped {
		c := b.cadenceOf(w)
		tc = s1 - c/2
		if first {
			guessed = true
		} else {
			tc = max(tc, (lo+s1)/2)
		}
	}
	if total > 0 && w.total == 0 {
		f.totSum += float64(total)
		f.totN++
	}
	w.step, w.total = step, total
	w.changed, w.guessed = durationOf(tc), guessed
}

// setCadence records w's measured seconds per step over n steps, and
// whether it was measured by age only.
func (b *batch) setCadence(w *tracked, c float64, n int, byAge bool) {
	f := &b.model
	if !(c > 0) || math.IsInf(c, 0) {
		return
	}
	if w.steps == 0 {
		f.cadN++
	} else {
		f.cadSum -= float64(w.cadence)
	}
	w.cadence, w.steps, w.byAge = float32(c), uint16(min(n, math.MaxUint16)), byAge
	f.cadSum += float64(w.cadence)
}

// position returns inv's progress step (0 while queued or dispatching) and
// its total steps: the progress's, else the request's step count; 0 if
// unknown.
func position(inv *Invocation) (step, total int32) {
	p := inv.Progress
	if inv.Status != StatusQueued && inv.Status != StatusDispatching && p != nil && p.Step != nil {
		step = int32(min(max(*p.Step, 0), math.MaxInt32))
	}
	switch {
	case p != nil && p.TotalSteps != nil && *p.TotalSteps > 0:
		total = int32(min(*p.TotalSteps, math.MaxInt32))
	case inv.StepCount > 0:
		total = int32(min(inv.StepCount, math.MaxInt32))
	}
	return step, total
}

// observeServer tightens the estimate of the server's clock against ours
// with the timestamps of an answer to the poll sent at sent: none of them
// can be later than the moment the server answered.
func (b *batch) observeServer(inv *Invocation, sent time.Duration) {
	f := &b.model
	for _, ts := range [...]Timestamp{inv.LastHeartbeatAt, inv.StartedAt, inv.CreatedAt, inv.FinishedAt} {
		if !ts.Valid() {
			continue
		}
		if off := sent - ts.Sub(b.wall); !f.offsetKnown || off < f.offset {
			f.offset, f.offsetKnown = off, true
		}
	}
}

// local returns a server timestamp on the batch's clock, in seconds.
func (b *batch) local(ts Timestamp) (float64, bool) {
	f := &b.model
	if !f.offsetKnown || !ts.Valid() {
		return 0, false
	}
	return (ts.Sub(b.wall) + f.offset).Seconds(), true
}

// durationOf converts seconds to a duration, saturating.
func durationOf(s float64) time.Duration {
	const limit = float64(math.MaxInt64 / 2)
	switch ns := s * 1e9; {
	case ns >= limit:
		return time.Duration(limit)
	case ns <= -limit:
		return -time.Duration(limit)
	default:
		return time.Duration(ns)
	}
}
