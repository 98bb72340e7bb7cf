package bctrltest

import (
	"encoding/json"
	"fmt"
	"github.com/bctrlhq/sdk-go/apitype"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/gen"
)

// The builders return values that validate against the spec (given a UUID
// id). They never modify their arguments: each returns an updated copy, so
// one base invocation can seed every state of a Script.
//
// Their timestamps are deterministic and ordered: createdAt <= startedAt <=
// lastHeartbeatAt <= finishedAt, with cancelRequestedAt between startedAt
// and finishedAt. Every stamp derives from createdAt, one second per step.

var (
	// namespace is the name-based UUID namespace of the run, runtime and
	// space ids derived from an invocation id.
	namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/bctrlhq/sdk-go/client/bctrltest"))

	// epoch is the createdAt of every invocation NewInvocation builds, so
	// that builder output is deterministic.
	epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// derived returns a deterministic UUID for one of id's related resources.
func derived(kind, id string) string {
	return uuid.NewSHA1(namespace, []byte(kind+"\x00"+id)).String()
}

// NewInvocation returns a queued invocation with the given id and every
// required field set: run, runtime and space UUIDs derived
// deterministically from id, runtime kind "browser", execution mode
// "durable", entry call "page.goto", one step, and createdAt
// 2026-01-01T00:00:00Z.
//
// The id is kept as given. The API's invocation ids are UUIDs, and a body
// with any other id does not validate against the spec; the fake serves it
// all the same.
func NewInvocation(id string) Invocation {
	return gen.Invocation{
		ID:            id,
		RunID:         derived("run", id),
		RuntimeID:     derived("runtime", id),
		SpaceID:       derived("space", id),
		RuntimeKind:   gen.RuntimeKindBrowser,
		ExecutionMode: gen.ExecutionModeDurable,
		Status:        gen.StatusQueued,
		EntryCall:     "page.goto",
		SequenceNo:    1,
		StepCount:     1,
		CreatedAt:     apitype.At(epoch),
	}
}

// started returns inv with a createdAt (epoch if it has none) and the
// startedAt a running or finished state of it has: its own if that is not
// before createdAt, otherwise one second after createdAt.
func started(inv gen.Invocation) (gen.Invocation, time.Time) {
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = apitype.At(epoch)
	}
	if !inv.StartedAt.IsZero() && !inv.StartedAt.Before(inv.CreatedAt.Time) {
		return inv, inv.StartedAt.Time
	}
	return inv, inv.CreatedAt.Add(time.Second)
}

// Running returns inv running step of total, with progress message msg.
// startedAt is one second after createdAt (or inv's own, if it has one),
// and the last heartbeat one second per step after startedAt. A positive
// total becomes the step count.
func Running(inv Invocation, step, total int, msg string) Invocation {
	inv, start := started(inv)
	inv.Status = gen.StatusRunning
	inv.StartedAt = apitype.At(start)
	inv.LastHeartbeatAt = apitype.At(start.Add(time.Duration(max(step, 0)) * time.Second))
	inv.FinishedAt, inv.CancelRequestedAt = apitype.Timestamp{}, apitype.Timestamp{}
	inv.DurationMs, inv.Error, inv.Result = nil, nil, nil
	if total > 0 {
		inv.StepCount = total
	}
	inv.Progress = &gen.Progress{
		Step:          &step,
		TotalSteps:    &total,
		Message:       msg,
		LastEventType: "step.started",
	}
	return inv
}

// Succeeded returns inv finished successfully with the given steps in its
// result.
func Succeeded(inv Invocation, steps ...Step) Invocation {
	inv = finish(inv, steps)
	inv.Status = gen.StatusSucceeded
	inv.Result.OK = true
	return inv
}

// Failed returns inv failed with error message msg and the given steps in
// its result, typically ending with an ErrStep. It is FailedWith with an
// error that has no code.
func Failed(inv Invocation, msg string, steps ...Step) Invocation {
	return FailedWith(inv, gen.ErrorInfo{Message: msg}, steps...)
}

// FailedWith returns inv failed with error e, which sets the invocation's
// error code and details as well as its message, and the given steps in its
// result.
func FailedWith(inv Invocation, e client.ErrorInfo, steps ...Step) Invocation {
	inv = finish(inv, steps)
	inv.Status = gen.StatusFailed
	e.Details = maps.Clone(e.Details)
	inv.Error = &e
	return inv
}

// TimedOut returns inv timed out, with the steps that completed in its
// result.
func TimedOut(inv Invocation, steps ...Step) Invocation {
	inv = finish(inv, steps)
	inv.Status = gen.StatusTimedOut
	inv.Error = &gen.ErrorInfo{Message: "invocation timed out"}
	return inv
}

// Cancelled returns inv cancelled: cancellation requested and honoured, with
// no result.
func Cancelled(inv Invocation) Invocation {
	inv = finish(inv, nil)
	inv.Status = gen.StatusCancelled
	inv.CancelRequestedAt = inv.FinishedAt
	inv.Result = nil
	return inv
}

// finish sets the fields every terminal state shares. It finishes one
// second per step (at least one) after startedAt, and never before inv's
// last heartbeat. Callers set the status and adjust the result, which is
// not ok.
func finish(inv gen.Invocation, steps []gen.Step) gen.Invocation {
	inv, start := started(inv)
	end := start.Add(time.Duration(max(len(steps), 1)) * time.Second)
	if inv.LastHeartbeatAt.After(end) {
		end = inv.LastHeartbeatAt.Time
	}
	inv.StartedAt = apitype.At(start)
	inv.FinishedAt = apitype.At(end)
	inv.LastHeartbeatAt = apitype.At(end)
	inv.CancelRequestedAt = apitype.Timestamp{}
	ms := int(end.Sub(start).Milliseconds())
	inv.DurationMs = &ms
	inv.Progress, inv.Error = nil, nil
	if len(steps) > 0 {
		inv.StepCount = len(steps)
	}
	fixed := make([]gen.Step, len(steps)) // never nil: "steps" is a required array
	for i, st := range steps {
		fixed[i] = withRuntime(st, inv.RuntimeID)
	}
	inv.Result = &gen.Result{Mode: gen.ResultModeFailFast, RuntimeID: inv.RuntimeID, Steps: fixed}
	return inv
}

// withRuntime fills in the runtimeId of a successful step built by OKStep.
func withRuntime(st gen.Step, runtimeID string) gen.Step {
	if !isOK(st) {
		return st
	}
	s, err := st.AsStepSuccess()
	if err != nil || s.Resolved.RuntimeID != "" {
		return st
	}
	s.Resolved.RuntimeID = runtimeID
	return mustStep(s.Call, func(st *gen.Step) error { return st.FromStepSuccess(s) })
}

// isOK reports whether st's ok discriminator is true.
func isOK(st gen.Step) bool {
	raw, err := st.MarshalJSON()
	if err != nil {
		return false
	}
	var d struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal(raw, &d) == nil && d.OK
}

func mustStep(call string, from func(*gen.Step) error) gen.Step {
	var st gen.Step
	if err := from(&st); err != nil {
		panic(fmt.Sprintf("bctrltest: encode step %q: %v", call, err))
	}
	return st
}

// OKStep returns a successful step at index that called call and returned
// result. The result is encoded with encoding/json (nil encodes as null);
// OKStep panics if it cannot be encoded. The step's resolved target is
// derived from call: "page.goto" resolves to target "page" and method
// "goto". Succeeded, Failed and TimedOut fill in its runtimeId, unless set.
//
// Each edit, in order, may then set any field of the step, the same
// client.StepSuccess a client's Step.Success returns:
//
//	bctrltest.OKStep(0, "page.goto", nil, func(s *client.StepSuccess) {
//		s.Binding = &client.Binding{Alias: "shop", ID: "page-1", Type: "page"}
//	})
func OKStep(index int, call string, result any, edits ...func(*client.StepSuccess)) Step {
	raw, err := json.Marshal(result) // nil encodes as null
	if err != nil {
		panic(fmt.Sprintf("bctrltest: OKStep(%d, %q): encode result: %v", index, call, err))
	}
	target, method, ok := strings.Cut(call, ".")
	if !ok {
		target, method = "runtime", call
	}
	s := client.StepSuccess{StepSuccess: gen.StepSuccess{
		Call:     call,
		Index:    index,
		OK:       true,
		Result:   raw,
		Resolved: gen.ResolvedTarget{Call: call, Target: target, Method: method},
	}}
	for _, edit := range edits {
		edit(&s)
	}
	return mustStep(call, func(st *gen.Step) error { return st.FromStepSuccess(s.StepSuccess) })
}

// ErrStep returns a failed step at index that called call, with error code
// (one of the client.StepErrorCode values, such as "UNKNOWN_CALL"),
// message and, if not empty, hint. Each edit, in order, may then set any
// field of the step, the same client.StepFailure a client's Step.Failure
// returns:
//
//	bctrltest.ErrStep(2, "page.clik", "UNKNOWN_CALL", "no such call", "", func(f *client.StepFailure) {
//		f.Error.Diagnostic = &client.Diagnostic{ID: "unknown-call", Closest: []string{"page.click"}}
//	})
//
// WithDiagnostic attaches a diagnostic to a step already built.
func ErrStep(index int, call string, code string, message, hint string, edits ...func(*client.StepFailure)) Step {
	f := client.StepFailure{
		Call:  call,
		Index: index,
		OK:    false,
		Error: client.StepError{Code: client.StepErrorCode(code), Message: message, Hint: hint},
	}
	for _, edit := range edits {
		edit(&f)
	}
	return mustStep(call, func(st *gen.Step) error { return st.FromStepFailure(f) })
}

// WithStatus returns inv with its status set to status, which may be one
// the SDK does not know (a newer API's, such as "paused"), and changes
// nothing else: the timestamps, progress and result stay those of the
// state inv is in. WithStatus(Running(inv, 1, 2, ""), "paused") is an
// unknown status still running; WithStatus(Succeeded(inv), "archived") an
// unknown status with finishedAt set, which a client's Wait ends on with
// an error matching client.ErrUnknownStatus.
func WithStatus(inv Invocation, status client.Status) Invocation {
	inv.Status = gen.Status(status)
	return inv
}

// WithDiagnostic returns a copy of the failed step st with diagnostic d
// attached to its error. If d.Call is empty it is set to the step's call.
// WithDiagnostic panics if st is not a failed step.
func WithDiagnostic(st Step, d client.Diagnostic) Step {
	if isOK(st) {
		panic("bctrltest: WithDiagnostic: step is not a failed step")
	}
	f, err := st.AsStepFailure()
	if err != nil {
		panic(fmt.Sprintf("bctrltest: WithDiagnostic: %v", err))
	}
	if d.Call == "" {
		d.Call = f.Call
	}
	f.Error.Diagnostic = &d
	return mustStep(f.Call, func(st *gen.Step) error { return st.FromStepFailure(f) })
}

// NewDiagnostic returns a diagnostic with the given id, for example
// "unknown-call", and fixes.
func NewDiagnostic(id string, fixes ...client.Fix) client.Diagnostic {
	return gen.Diagnostic{ID: id, Fixes: slices.Clone(fixes)}
}

// Fix returns a diagnostic fix with a title and, if not empty, a command
// that applies it.
func Fix(title, command string) client.Fix {
	return gen.Fix{Title: title, Command: command}
}
