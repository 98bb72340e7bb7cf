package client

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bctrlhq/sdk-go/gen"
)

// Status is the lifecycle state of an invocation. Values the SDK does not
// know (a newer API) are kept as they are; Known reports whether a value is
// one of the constants below.
type Status string

// The statuses of an invocation, in lifecycle order. Each is the generated
// constant's value, so a status the spec removes fails the build here.
const (
	StatusQueued      = Status(gen.StatusQueued)
	StatusDispatching = Status(gen.StatusDispatching)
	StatusRunning     = Status(gen.StatusRunning)
	StatusCancelling  = Status(gen.StatusCancelling)
	StatusSucceeded   = Status(gen.StatusSucceeded)
	StatusFailed      = Status(gen.StatusFailed)
	StatusCancelled   = Status(gen.StatusCancelled)
	StatusTimedOut    = Status(gen.StatusTimedOut)
)

// statusClass classifies every status the SDK knows. A status the spec adds
// must be classified here: TestStatusEnumClassified names any that is not.
var statusClass = map[Status]struct{ terminal, success bool }{
	StatusQueued:      {},
	StatusDispatching: {},
	StatusRunning:     {},
	StatusCancelling:  {},
	StatusSucceeded:   {terminal: true, success: true},
	StatusFailed:      {terminal: true},
	StatusCancelled:   {terminal: true},
	StatusTimedOut:    {terminal: true},
}

// Known reports whether s is one of the Status constants.
func (s Status) Known() bool { _, ok := statusClass[s]; return ok }

// IsTerminal reports whether s is a final status: succeeded, failed,
// cancelled or timed_out. It is false for unknown statuses.
func (s Status) IsTerminal() bool { return statusClass[s].terminal }

// IsSuccess reports whether s is StatusSucceeded.
func (s Status) IsSuccess() bool { return statusClass[s].success }

// String returns the status as the API spells it.
func (s Status) String() string { return string(s) }

// Invocation is durable agent work submitted to a runtime, as returned by
// GET /v1/invocations/{id}. Its fields are the generated gen.Invocation's,
// promoted, except two that the SDK types better: Status (with IsTerminal,
// IsSuccess, Known) and Result (whose steps are discriminated on "ok").
// Nullable fields the API leaves null are zero: an empty string, a zero
// Timestamp (check IsZero), a nil pointer or map. Optional numbers and
// booleans are pointers, nil when the API sent none. Raw JSON values
// (results, metadata, details, args) are slices of the body Raw returns.
type Invocation struct {
	gen.Invocation

	// Status is the invocation's lifecycle state. It shadows the embedded
	// gen.Invocation.Status, which is left empty.
	Status Status `json:"status"`
	// Result is the outcome with per-step results; nil until the runtime
	// reports one. It shadows the embedded gen.Invocation.Result, which is
	// left nil. Steps is a shortcut to Result.Steps.
	Result *Result `json:"result,omitempty"`

	raw      []byte
	response ResponseInfo
}

// Result is an invocation's outcome. OK is true when every step succeeded.
// Its fields are gen.Result's, promoted, except Steps.
type Result struct {
	gen.Result

	// Steps are the per-step results, each read once and discriminated on
	// its "ok" field. It shadows the embedded gen.Result.Steps, which is
	// left nil.
	Steps []Step `json:"steps"`
}

// Steps returns the per-step results, or nil when there is no result yet.
func (inv *Invocation) Steps() []Step {
	if inv == nil || inv.Result == nil {
		return nil
	}
	return inv.Result.Steps
}

// FailedSteps returns the steps that reported ok: false, in order.
func (inv *Invocation) FailedSteps() []*StepFailure {
	var out []*StepFailure
	steps := inv.Steps()
	for i := range steps {
		if f, ok := steps[i].Failure(); ok {
			out = append(out, f)
		}
	}
	return out
}

// Raw returns the JSON body the invocation was decoded from, byte for byte
// (nil for an Invocation not decoded by Get). The typed fields hold every
// property of the spec; Raw is for what a newer API sends beyond it.
func (inv *Invocation) Raw() json.RawMessage { return inv.raw }

// RequestID returns the x-request-id of the response the invocation was
// decoded from, or "" if there was none.
func (inv *Invocation) RequestID() string { return inv.response.RequestID }

// Response returns the metadata of the response the invocation was decoded
// from: status, headers, request id and attempts.
func (inv *Invocation) Response() ResponseInfo { return inv.response }

// Ended reports whether inv is final, as Wait, Watch and WaitAll decide
// it: a terminal status (succeeded, failed, cancelled, timed_out), or a
// status this SDK does not know with an end time (finishedAt).
func (inv *Invocation) Ended() bool {
	return inv.Status.IsTerminal() || (!inv.Status.Known() && inv.Finished())
}

// Err returns the *InvocationError Wait returns for inv when inv ended
// without success (failed, cancelled, timed_out, or an unknown status
// with an end time), and nil otherwise: while it runs, and once it
// succeeded.
func (inv *Invocation) Err() error {
	if !inv.Ended() || inv.Status.IsSuccess() {
		return nil
	}
	return newInvocationError(inv)
}

// Finished reports whether the server recorded an end time, which holds even
// for a status this SDK does not know.
func (inv *Invocation) Finished() bool { return !inv.FinishedAt.IsZero() }

// Duration returns DurationMs as a duration, and false when the API did not
// report one (it is null while running).
func (inv *Invocation) Duration() (time.Duration, bool) {
	if inv.DurationMs == nil {
		return 0, false
	}
	return time.Duration(*inv.DurationMs) * time.Millisecond, true
}

// Format prints the service without its client's configuration.
func (s InvocationsService) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, "client.InvocationsService{}")
}

// checkID refuses ids that cannot name one path segment. Any other id is
// sent path-escaped as a single segment.
func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case id == "." || id == "..":
		return fmt.Errorf("%w: %q is a dot segment", ErrInvalidID, id)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidID)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: contains a control character", ErrInvalidID)
	}
	return nil
}

// checkContentType accepts a missing content type and any JSON media type.
func checkContentType(ct string) error {
	if ct == "" || ct == "application/json" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return fmt.Errorf("content type %q is not JSON", ct)
	}
	return nil
}
