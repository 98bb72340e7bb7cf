package client

import (
	"errors"
	"fmt"
	"time"
)

// WithResumeFrom resumes a Wait or Watch that another process, or an
// earlier call, began: last is the last invocation that wait observed (from
// Watch, WithProgress, a WaitError's Last, or rebuilt from a checkpoint with
// at least its ID, Status and Progress). It is the resume token of Azure's
// pollers without a token: the invocation itself is the state.
//
// A resumed Watch polls at once, and:
//
//   - does not yield an observation equal to last (same status and
//     progress) again, so a progress log or a heartbeat is not written
//     twice; the final state of an invocation that succeeded is always
//     yielded, so Wait returns it;
//   - keeps the pace the earlier wait had reached rather than starting over
//     at the fastest: while the invocation shows no change from last, the
//     delays continue from where an unchanged wait would be by now,
//     counted from the latest transition the server recorded (createdAt,
//     startedAt or cancelRequestedAt), within WithPollInterval's bounds.
//     Progress moves are not timestamped by the API, so this errs towards
//     the slower pace, never beyond the maximum; the first observed change
//     drops back to the minimum as usual;
//   - reports last as the WaitError's Last if it stops before any poll
//     succeeds.
//
// A nil last resumes nothing: the wait starts afresh, as for a first
// attempt with no checkpoint. A last whose ID is not the id waited for is an
// error (ErrInvalidID) yielded before any request. WaitAll does not take
// WithResumeFrom: it yields the option's error for every id.
func WithResumeFrom(last *Invocation) WaitOption {
	return func(c *waitConfig) error {
		c.resume = last
		return nil
	}
}

// errResumeAll is WaitAll's error for WithResumeFrom: a batch has no single
// invocation to resume from.
var errResumeAll = errors.New("bctrl: WithResumeFrom applies to Wait and Watch, not WaitAll")

// checkResume returns an error if the observation to resume from is of
// another invocation than id, compared as Get compares a body's id with
// the one asked for (sameID: UUIDs in any letter case).
func (c *waitConfig) checkResume(id string) error {
	if c.resume == nil || sameID(c.resume.ID, id) {
		return nil
	}
	return fmt.Errorf("%w: WithResumeFrom: the last observation is of invocation %q, not %q", ErrInvalidID, c.resume.ID, id)
}

// maxResumeSteps bounds the delays resumeBackOff replays: 1.5^64 is beyond
// any ratio of maximum to minimum delay, so the pace has reached the
// maximum long before.
const maxResumeSteps = 64

// resumeBackOff advances poll to the pace a wait that has seen no change
// since last's latest recorded transition would have reached at now. It
// does nothing without last, or with a transition in the future of now
// (clock skew).
func resumeBackOff(poll *boundedBackOff, last *Invocation, now time.Time) {
	if last == nil {
		return
	}
	since := last.CreatedAt.Time
	for _, t := range []time.Time{last.StartedAt.Time, last.CancelRequestedAt.Time} {
		if t.After(since) {
			since = t
		}
	}
	if since.IsZero() {
		return
	}
	unchanged := now.Sub(since)
	var waited time.Duration
	for i := 0; i < maxResumeSteps && waited < unchanged; i++ {
		waited += poll.NextBackOff()
	}
}
