package bctrltest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bctrlhq/sdk-go/gen"
)

// The builders return values that validate against the spec. They never
// modify their arguments: each returns an updated copy, so one base
// invocation can seed every state of a Script.

var (
	zeroUUID uuid.UUID

	// namespace is the name-based UUID namespace for ids that are not
	// UUIDs.
	namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/bctrlhq/sdk-go/client/bctrltest"))

	// epoch is the createdAt of every invocation NewInvocation builds, so
	// that builder output is deterministic.
	epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// timeLayout is the API's timestamp format: RFC 3339 in UTC with
// milliseconds, as in "2026-01-01T00:00:00.000Z".
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// UUIDFor returns the UUID the fake uses for invocation id: id itself if it
// parses as a UUID, otherwise a deterministic name-based (version 5) UUID
// derived from it. NewInvocation(id).ID == UUIDFor(id).
func UUIDFor(id string) uuid.UUID {
	if u, err := uuid.Parse(id); err == nil {
		return u
	}
	return uuid.NewSHA1(namespace, []byte(id))
}

// key is the map key for invocation id.
func key(id string) string { return UUIDFor(id).String() }

// derived returns a deterministic UUID for one of id's related resources.
func derived(kind, id string) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte(kind+"\x00"+id))
}

func ptr[T any](v T) *T { return &v }

func stamp(t time.Time) *string { return ptr(t.UTC().Format(timeLayout)) }

// created returns inv's createdAt, or epoch if it does not parse.
func created(inv gen.Invocation) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, inv.CreatedAt); err == nil {
		return t
	}
	return epoch
}

// NewInvocation returns a queued invocation with id UUIDFor(id) and every
// required field set: deterministic run, runtime and space UUIDs derived
// from id, runtime kind "browser", execution mode "durable", entry call
// "page.goto", one step, and createdAt 2026-01-01T00:00:00.000Z.
func NewInvocation(id string) gen.Invocation {
	return gen.Invocation{
		ID:            UUIDFor(id),
		RunID:         derived("run", id),
		RuntimeID:     derived("runtime", id),
		SpaceID:       derived("space", id),
		RuntimeKind:   "browser",
		ExecutionMode: "durable",
		Status:        "queued",
		EntryCall:     "page.goto",
		SequenceNo:    1,
		StepCount:     1,
		CreatedAt:     epoch.Format(timeLayout),
	}
}

// Running returns inv running step of total, with progress message msg.
// startedAt is one second after createdAt and the last heartbeat one second
// per step after that.
func Running(inv gen.Invocation, step, total int, msg string) gen.Invocation {
	start := created(inv).Add(time.Second)
	inv.Status = "running"
	inv.StartedAt = stamp(start)
	inv.LastHeartbeatAt = stamp(start.Add(time.Duration(step) * time.Second))
	inv.FinishedAt, inv.DurationMs, inv.Error, inv.Result = nil, nil, nil, nil
	if total > 0 {
		inv.StepCount = total
	}
	p := gen.Progress{Step: ptr(step), TotalSteps: ptr(total), LastEventType: ptr("step.started")}
	if msg != "" {
		p.Message = ptr(msg)
	}
	inv.Progress = &p
	return inv
}

// Succeeded returns inv finished successfully with the given steps in its
// result.
func Succeeded(inv gen.Invocation, steps ...gen.Step) gen.Invocation {
	inv = finish(inv, steps)
	inv.Status = "succeeded"
	inv.Result.Ok = true
	return inv
}

// Failed returns inv failed with error message msg and the given steps in
// its result, typically ending with an ErrStep.
func Failed(inv gen.Invocation, msg string, steps ...gen.Step) gen.Invocation {
	inv = finish(inv, steps)
	inv.Status = "failed"
	inv.Error = &gen.InvocationError{Message: msg}
	return inv
}

// TimedOut returns inv timed out, with the steps that completed in its
// result.
func TimedOut(inv gen.Invocation, steps ...gen.Step) gen.Invocation {
	inv = finish(inv, steps)
	inv.Status = "timed_out"
	inv.Error = &gen.InvocationError{Message: "invocation timed out"}
	return inv
}

// Cancelled returns inv cancelled: cancellation requested and honoured, with
// no result.
func Cancelled(inv gen.Invocation) gen.Invocation {
	inv = finish(inv, nil)
	inv.Status = "cancelled"
	inv.CancelRequestedAt = inv.FinishedAt
	inv.Result = nil
	return inv
}

// finish sets the fields every terminal state shares. Callers set the status
// and adjust the result, which is not ok.
func finish(inv gen.Invocation, steps []gen.Step) gen.Invocation {
	start := created(inv).Add(time.Second)
	if inv.StartedAt != nil {
		if t, err := time.Parse(time.RFC3339Nano, *inv.StartedAt); err == nil {
			start = t
		}
	}
	end := start.Add(time.Duration(max(len(steps), 1)) * time.Second)
	inv.StartedAt = stamp(start)
	inv.FinishedAt = stamp(end)
	inv.LastHeartbeatAt = inv.FinishedAt
	inv.DurationMs = ptr(int(end.Sub(start).Milliseconds()))
	inv.Progress, inv.Error = nil, nil
	if len(steps) > 0 {
		inv.StepCount = len(steps)
	}
	fixed := make([]gen.Step, len(steps))
	for i, st := range steps {
		fixed[i] = withRuntime(st, inv.RuntimeID.String())
	}
	inv.Result = &gen.InvocationResult{Mode: "fail-fast", RuntimeID: inv.RuntimeID, Steps: fixed}
	return inv
}

// withRuntime fills in the runtimeId of a successful step built by OKStep.
func withRuntime(st gen.Step, runtimeID string) gen.Step {
	ok, err := st.AsV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems0()
	if err != nil || !isOK(st) || ok.Resolved.RuntimeID != "" {
		return st
	}
	ok.Resolved.RuntimeID = runtimeID
	return mustStep(ok.Call, func(s *gen.Step) error {
		return s.FromV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems0(ok)
	})
}

// isOK reports whether st's ok discriminator is true.
func isOK(st gen.Step) bool {
	raw, err := st.MarshalJSON()
	if err != nil {
		return false
	}
	var d struct{ Ok bool }
	return json.Unmarshal(raw, &d) == nil && d.Ok
}

func mustStep(call string, from func(*gen.Step) error) gen.Step {
	var st gen.Step
	if err := from(&st); err != nil {
		panic(fmt.Sprintf("bctrltest: encode step %q: %v", call, err))
	}
	return st
}

// OKStep returns a successful step at index that called call and returned
// result, which must be JSON-encodable (nil encodes as null). Its resolved
// target is derived from call: "page.goto" resolves to target "page" and
// method "goto". Succeeded, Failed and TimedOut fill in its runtimeId.
func OKStep(index int, call string, result any) gen.Step {
	target, method, ok := strings.Cut(call, ".")
	if !ok {
		target, method = "runtime", call
	}
	return mustStep(call, func(s *gen.Step) error {
		return s.FromV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems0(gen.StepSuccess{
			Call:   call,
			Index:  index,
			Ok:     true,
			Result: result,
			Resolved: gen.ResolvedTarget{
				Call:   call,
				Target: target,
				Method: method,
			},
		})
	})
}

// ErrStep returns a failed step at index that called call, with error code,
// message and, if not empty, hint. Add a diagnostic with WithDiagnostic.
func ErrStep(index int, call string, code string, message, hint string) gen.Step {
	se := gen.StepError{Code: gen.V1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItemsOneOf1ErrorCode(code), Message: message}
	if hint != "" {
		se.Hint = ptr(hint)
	}
	return mustStep(call, func(s *gen.Step) error {
		return s.FromV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems1(gen.StepFailure{
			Call:  call,
			Index: index,
			Ok:    false,
			Error: se,
		})
	})
}

// WithDiagnostic returns a copy of the failed step st with diagnostic d
// attached to its error. If d.Call is nil it is set to the step's call.
// WithDiagnostic panics if st is not a failed step.
func WithDiagnostic(st gen.Step, d gen.Diagnostic) gen.Step {
	if isOK(st) {
		panic("bctrltest: WithDiagnostic: step is not a failed step")
	}
	f, err := st.AsV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems1()
	if err != nil {
		panic(fmt.Sprintf("bctrltest: WithDiagnostic: %v", err))
	}
	if d.Call == nil {
		d.Call = ptr(f.Call)
	}
	f.Error.Diagnostic = &d
	return mustStep(f.Call, func(s *gen.Step) error {
		return s.FromV1InvocationsIDGetResponsesContentApplicationJSONSchemaResultStepsItems1(f)
	})
}

// NewDiagnostic returns a diagnostic with the given id, for example
// "unknown-call", and fixes.
func NewDiagnostic(id string, fixes ...gen.DiagnosticFix) gen.Diagnostic {
	d := gen.Diagnostic{ID: id}
	if len(fixes) > 0 {
		d.Fixes = ptr(append([]gen.DiagnosticFix(nil), fixes...))
	}
	return d
}

// Fix returns a diagnostic fix with a title and, if not empty, a command
// that applies it.
func Fix(title, command string) gen.DiagnosticFix {
	f := gen.DiagnosticFix{Title: title}
	if command != "" {
		f.Command = ptr(command)
	}
	return f
}
