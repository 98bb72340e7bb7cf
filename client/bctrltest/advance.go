package bctrltest

import (
	"fmt"
	"time"

	"github.com/bctrlhq/sdk-go/apitype"
	"github.com/bctrlhq/sdk-go/gen"
)

// An AdvanceOption changes how AdvanceWith serves its states.
type AdvanceOption func(*entry)

// StampNow makes AdvanceWith serve each state stamped with the server
// clock's times (see WithClock) instead of the builders' (createdAt plus
// one second per step): the times the timeline actually went through.
// State k becomes current at start + k·every, where start is when
// AdvanceWith was called, and is served with
//
//   - createdAt: start;
//   - startedAt: when the run of states carrying a startedAt that leads
//     to it began (the first running state);
//   - lastHeartbeatAt: when it became current (the start of the current
//     step, for a running state);
//   - finishedAt and cancelRequestedAt: when the run of states carrying
//     that stamp began (the moment the invocation ended, however long the
//     last state then repeats);
//   - durationMs: finishedAt - startedAt.
//
// A stamp a state does not carry stays absent, and none is later than the
// server's clock. A client's wait then measures how late it saw an end
// from finishedAt, as it would against the live API.
func StampNow() AdvanceOption {
	return func(e *entry) { e.stamp = true }
}

// AdvanceWith is Advance with options, such as StampNow:
//
//	srv.AdvanceWith(id, time.Second, []bctrltest.Invocation{
//		inv,
//		bctrltest.Running(inv, 1, 2, "opening page"),
//		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil)),
//	}, bctrltest.StampNow())
//
// It panics as Advance does.
func (s *Server) AdvanceWith(id string, every time.Duration, states []Invocation, opts ...AdvanceOption) {
	if every <= 0 {
		panic(fmt.Sprintf("bctrltest: AdvanceWith: interval %v is not positive", every))
	}
	e := &entry{states: withID("AdvanceWith", id, states), every: every, start: s.cfg.now()}
	for _, opt := range opts {
		if opt != nil {
			opt(e)
		}
	}
	s.store(id, "AdvanceWith", e)
}

// stampAt returns states[i] stamped with the times of a timeline that
// started at start and moved to its next state every interval (StampNow).
func stampAt(states []gen.Invocation, i int, start time.Time, every time.Duration) gen.Invocation {
	at := func(k int) apitype.Timestamp { return apitype.At(start.Add(time.Duration(k) * every).UTC()) }
	// since returns the first index of the run of states, ending at i, that
	// carry the stamp has reads.
	since := func(has func(gen.Invocation) apitype.Timestamp) int {
		k := i
		for k > 0 && !has(states[k-1]).IsZero() {
			k--
		}
		return k
	}
	inv := states[i]
	inv.CreatedAt = at(0)
	if !inv.StartedAt.IsZero() {
		inv.StartedAt = at(since(func(v gen.Invocation) apitype.Timestamp { return v.StartedAt }))
	}
	if !inv.LastHeartbeatAt.IsZero() {
		inv.LastHeartbeatAt = at(i)
	}
	if !inv.FinishedAt.IsZero() {
		inv.FinishedAt = at(since(func(v gen.Invocation) apitype.Timestamp { return v.FinishedAt }))
		if inv.LastHeartbeatAt.After(inv.FinishedAt.Time) {
			inv.LastHeartbeatAt = inv.FinishedAt // an ended invocation beats no more
		}
	}
	if !inv.CancelRequestedAt.IsZero() {
		inv.CancelRequestedAt = at(since(func(v gen.Invocation) apitype.Timestamp { return v.CancelRequestedAt }))
	}
	if inv.DurationMs != nil && !inv.StartedAt.IsZero() && !inv.FinishedAt.IsZero() {
		ms := int(inv.FinishedAt.Sub(inv.StartedAt.Time).Milliseconds())
		inv.DurationMs = &ms
	}
	return inv
}
