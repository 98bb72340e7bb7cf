package main

import (
	"container/list"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
	"github.com/bctrlhq/sdk-go/gen"
)

// With --simulate, the dev server answers for any id, not only the demo
// ones: the first GET of an id starts a simulated invocation whose course
// (outcome, number of steps, time queued, time per step, the failing step
// and its error) derives from a SHA-256 of the id, so the same id always
// runs the same way. Its longest course is simMaxTicks ticks: 24.3 seconds
// with the default tick. Its stamps are the course's own times, counted in
// ticks from its first GET on the server's clock (simPlan.state).
//
// Per id the server keeps only the hash and when the id was first asked
// for (about 175 bytes, whatever the id's length), for at most
// --simulate-max-ids ids; past that the least recently asked-for id is
// forgotten and starts over if it is asked for again. States are built
// on demand, never stored.

// The bounds of a simulated course, in ticks.
const (
	simMaxQueued    = 3 // ticks queued before the first step
	simMaxSteps     = 8
	simMaxStepTicks = 3 // ticks per step
	simMaxTicks     = simMaxQueued + simMaxSteps*simMaxStepTicks
)

// defaultSimulateMaxIDs is how many simulated ids the dev server keeps.
const defaultSimulateMaxIDs = 50_000

// simOutcome is how a simulated invocation ends.
type simOutcome string

const (
	simSucceeded simOutcome = "succeeded"
	simFailed    simOutcome = "failed"
	simTimedOut  simOutcome = "timed_out"
	simCancelled simOutcome = "cancelled"
)

// simPlan is the course of a simulated invocation.
type simPlan struct {
	outcome   simOutcome
	steps     int   // planned steps, 1..simMaxSteps
	queued    int   // ticks queued before the first step
	stepTicks []int // ticks each step runs, for the steps it reaches
	stop      int   // failed, timed_out, cancelled: the 1-based step it stops at
	calls     []string
	errCode   gen.StepErrorCode // failed: the failing step's code
}

// simCalls are the calls a simulated step makes.
var simCalls = []string{"page.goto", "page.fill", "page.click", "page.waitForSelector", "page.textContent", "page.screenshot", "page.press", "page.evaluate"}

// simErrors are the codes a simulated failed step reports.
var simErrors = []gen.StepErrorCode{gen.StepErrorCodeUNKNOWNCALL, gen.StepErrorCodeINVALIDARGS, gen.StepErrorCodeUNKNOWNREF, gen.StepErrorCodeCAPABILITYNOTAVAILABLE}

// planFor derives id's course from its hash: 55% succeed, 25% fail, 10%
// time out and 10% are cancelled.
func planFor(sum [sha256.Size]byte) simPlan {
	b := sum[:]
	p := simPlan{steps: 1 + int(b[1])%simMaxSteps, queued: int(b[2]) % (simMaxQueued + 1)}
	switch n := int(b[0]) % 20; {
	case n < 11:
		p.outcome, p.stop = simSucceeded, p.steps
	case n < 16:
		p.outcome, p.stop = simFailed, 1+int(b[3])%p.steps
		p.errCode = simErrors[int(b[4])%len(simErrors)]
	case n < 18:
		p.outcome, p.stop = simTimedOut, p.steps
	default:
		p.outcome, p.stop = simCancelled, 1+int(b[3])%p.steps
	}
	for i := range p.stop {
		p.stepTicks = append(p.stepTicks, 1+int(b[5+i])%simMaxStepTicks)
		p.calls = append(p.calls, simCalls[int(b[16+i])%len(simCalls)])
	}
	return p
}

// ticks is how many ticks the course takes before its final state.
func (p simPlan) ticks() int {
	n := p.queued
	for _, t := range p.stepTicks {
		n += t
	}
	return n
}

// state returns the invocation id, created at created, after tick ticks of
// every. Its stamps are the course's own times on the server's clock:
// startedAt when it began running, lastHeartbeatAt when the current step
// began, finishedAt (and, cancelled, cancelRequestedAt) the moment the
// course ended, so none is later than created + tick·every.
func (p simPlan) state(id string, created time.Time, every time.Duration, tick int) gen.Invocation {
	at := func(ticks int) client.Timestamp {
		return client.Timestamp{Time: created.Add(time.Duration(ticks) * every)}
	}
	inv := bctrltest.NewInvocation(id)
	inv.CreatedAt = at(0)
	if tick < p.queued {
		return inv
	}
	inv.StartedAt = at(p.queued)
	t := p.queued
	for i, d := range p.stepTicks {
		if tick < t+d {
			inv = bctrltest.Running(inv, i+1, p.steps, fmt.Sprintf("simulated step %d: %s", i+1, p.calls[i]))
			inv.LastHeartbeatAt = at(t)
			return inv
		}
		t += d
	}
	inv = p.final(inv)
	end := at(t)
	inv.StartedAt, inv.LastHeartbeatAt, inv.FinishedAt = at(p.queued), end, end
	if !inv.CancelRequestedAt.IsZero() {
		inv.CancelRequestedAt = end
	}
	ms := int(end.Sub(inv.StartedAt.Time).Milliseconds())
	inv.DurationMs = &ms
	return inv
}

// final returns inv in the course's final state, with the builders' stamps.
func (p simPlan) final(inv gen.Invocation) gen.Invocation {
	var steps []gen.Step
	for i := range p.stop - 1 {
		steps = append(steps, bctrltest.OKStep(i, p.calls[i], nil))
	}
	last, call := p.stop-1, p.calls[p.stop-1]
	switch p.outcome {
	case simSucceeded:
		return bctrltest.Succeeded(inv, append(steps, bctrltest.OKStep(last, call, "simulated result"))...)
	case simFailed:
		return bctrltest.Failed(inv, fmt.Sprintf("step %d failed", last), append(steps, bctrltest.ErrStep(last, call, string(p.errCode),
			"simulated failure of "+call, "this invocation is simulated by bctrl dev-server --simulate"))...)
	case simTimedOut:
		return bctrltest.TimedOut(inv, append(steps, bctrltest.ErrStep(last, call, string(gen.StepErrorCodeTIMEOUT),
			"simulated timeout of "+call, ""))...)
	}
	return bctrltest.Cancelled(inv)
}

// simulator answers for any id with a simulated invocation, keeping at
// most max ids (least recently used forgotten first).
type simulator struct {
	tick time.Duration
	max  int

	mu    sync.Mutex
	seen  map[[sha256.Size]byte]*list.Element // of *simSeen
	order *list.List                          // most recently used first
}

// simSeen is what the simulator keeps per id.
type simSeen struct {
	sum   [sha256.Size]byte
	start time.Time
}

func newSimulator(tick time.Duration, max int) *simulator {
	return &simulator{tick: tick, max: max, seen: make(map[[sha256.Size]byte]*list.Element), order: list.New()}
}

// at returns id's simulated state at now, starting its course if id is new.
func (s *simulator) at(id string, now time.Time) gen.Invocation {
	sum := sha256.Sum256([]byte(id))
	s.mu.Lock()
	e, ok := s.seen[sum]
	if ok {
		s.order.MoveToFront(e)
	} else {
		if s.order.Len() >= s.max {
			oldest := s.order.Back()
			delete(s.seen, oldest.Value.(*simSeen).sum)
			s.order.Remove(oldest)
		}
		e = s.order.PushFront(&simSeen{sum: sum, start: now.UTC().Truncate(time.Millisecond)})
		s.seen[sum] = e
	}
	start := e.Value.(*simSeen).start
	s.mu.Unlock()
	return planFor(sum).state(id, start, s.tick, int(now.Sub(start)/s.tick))
}

// len returns how many ids the simulator keeps.
func (s *simulator) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}
