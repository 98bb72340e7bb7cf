package temporal

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/bctrlhq/sdk-go/client"
)

// Limits of what the activities write to a workflow history. Temporal
// refuses payloads over 2 MB, and a 10,000-step invocation is about 5 MB of
// JSON: a Result holds a summary, well under MaxResultBytes.
const (
	// MaxResultBytes bounds the JSON of a Result, full invocation aside.
	MaxResultBytes = 64 << 10
	// MaxFailedSteps is how many failed steps a Result holds; FailedStepCount
	// tells how many there were.
	MaxFailedSteps = 16
	// MaxInvocationBytes bounds WithInvocationJSON's limit.
	MaxInvocationBytes = 1536 << 10

	maxText = 1 << 10 // each message, hint or code a Result holds, in bytes
)

// Error types: the Type of the temporal.ApplicationError an activity fails
// with. The outcomes and the final poll errors are not retryable; a poll
// that may succeed later (ErrTypeTransient, ErrTypeNotEnded) is.
const (
	ErrTypeFailed        = "bctrl.InvocationFailed"        // the invocation failed
	ErrTypeCancelled     = "bctrl.InvocationCancelled"     // the invocation was cancelled
	ErrTypeTimedOut      = "bctrl.InvocationTimedOut"      // the invocation timed out
	ErrTypeUnknownStatus = "bctrl.InvocationUnknownStatus" // it ended with a status this SDK does not know
	ErrTypeNotFound      = "bctrl.NotFound"                // 404: no such invocation
	ErrTypeUnauthorized  = "bctrl.Unauthorized"            // 401 or 403: the key is wrong or lacks access
	ErrTypeInvalid       = "bctrl.Invalid"                 // an invalid id or response, or another error polling again cannot fix
	ErrTypeTransient     = "bctrl.Transient"               // a poll failed in a way that may pass (retryable)
	ErrTypeNotEnded      = "bctrl.NotEnded"                // PollInvocation: not ended yet (retryable)
)

// NonRetryableErrorTypes lists the error types no retry can change. The
// workflow helpers put them in their retry policies; the activities mark
// these errors non-retryable as well.
var NonRetryableErrorTypes = []string{
	ErrTypeFailed, ErrTypeCancelled, ErrTypeTimedOut, ErrTypeUnknownStatus,
	ErrTypeNotFound, ErrTypeUnauthorized, ErrTypeInvalid,
}

// Result is what the activities report of an ended invocation: the result
// of one that succeeded, and the details of the ApplicationError of one
// that did not. It is a summary under MaxResultBytes: strings are cut to
// 1 KiB, error details and step diagnostics are left out, and at most
// MaxFailedSteps failed steps are kept. Nothing in it holds the API key.
type Result struct {
	ID        string        `json:"id"`
	Status    client.Status `json:"status"`
	RequestID string        `json:"requestId,omitempty"` // the x-request-id of the last poll
	// Error is the invocation-level error, without its Details.
	Error *client.ErrorInfo `json:"error,omitempty"`
	// FailedSteps are the first failed steps, without their diagnostics.
	FailedSteps []client.StepFailure `json:"failedSteps,omitempty"`
	// FailedStepCount is how many steps failed, FailedSteps or not.
	FailedStepCount int `json:"failedStepCount,omitempty"`
	// Invocation is the invocation's JSON as the API sent it (key
	// scrubbed), with WithInvocationJSON, when it fits that limit.
	Invocation json.RawMessage `json:"invocation,omitempty"`
	// InvocationOmitted is true when WithInvocationJSON asked for the JSON
	// and it did not fit.
	InvocationOmitted bool `json:"invocationOmitted,omitempty"`
}

// summarize builds the Result of inv, within the limits above (invMax is
// WithInvocationJSON's limit, 0 for none). Every string in it passes text;
// the whole still passes boundary, which scrubs the invocation JSON and the
// escaped forms of the key.
func summarize(s scrubber, inv *client.Invocation, invMax int) *Result {
	r := &Result{ID: text(s, inv.ID), Status: client.Status(text(s, string(inv.Status))), RequestID: text(s, inv.RequestID())}
	if e := inv.Error; e != nil {
		r.Error = &client.ErrorInfo{Code: text(s, e.Code), Message: text(s, e.Message)}
	}
	failed := inv.FailedSteps()
	r.FailedStepCount = len(failed)
	for _, f := range failed[:min(len(failed), MaxFailedSteps)] {
		// Field by field: a field a spec bump adds is left out, not
		// written uncapped.
		r.FailedSteps = append(r.FailedSteps, client.StepFailure{Index: f.Index, OK: f.OK, Call: text(s, f.Call),
			Error: client.StepError{Code: client.StepErrorCode(text(s, string(f.Error.Code))), Message: text(s, f.Error.Message), Hint: text(s, f.Error.Hint)}})
	}
	if invMax > 0 {
		if raw := inv.Raw(); len(raw) > 0 && len(raw) <= invMax {
			r.Invocation = raw
		} else {
			r.InvocationOmitted = true
		}
	}
	return r
}

// text is the one function every string an activity writes (a Result's,
// a heartbeat's, an error message) passes through: it scrubs the API key
// from s and then cuts it to maxText bytes, in that order, so that no part
// of a key that straddles the cut survives it.
func text(sc scrubber, s string) string { return cut(sc.Scrub(s)) }

// cut shortens s to maxText bytes, on a rune boundary. Use text, which
// scrubs first.
func cut(s string) string {
	if len(s) <= maxText {
		return s
	}
	i := maxText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// scrubber replaces the API key in text (client.Client.Scrub).
type scrubber interface{ Scrub(string) string }

// boundary is the one function every value an activity writes to a
// workflow history passes through (results, heartbeat details, error
// details): it encodes v as JSON, scrubs the API key from the text (in
// every escaped form client.Scrub knows) and decodes it back. If the
// scrubbed text no longer decodes, nothing of v is kept: the zero value
// and an error, never the unscrubbed original.
func boundary[T any](s scrubber, v T) (T, error) {
	var zero T
	b, err := json.Marshal(v)
	if err != nil {
		return zero, fmt.Errorf("bctrl temporal: encoding %T: %w", v, err)
	}
	var out T
	if err := json.Unmarshal([]byte(s.Scrub(string(b))), &out); err != nil {
		return zero, fmt.Errorf("bctrl temporal: %T did not decode after scrubbing: %w", v, err)
	}
	return out, nil
}

// fit halves r's failed steps (FailedStepCount still counts them all)
// until r's JSON, the invocation JSON aside, is at most MaxResultBytes:
// strings are cut already, but JSON escapes can grow them up to sixfold.
func fit(r *Result) {
	inv := r.Invocation
	r.Invocation = nil
	defer func() { r.Invocation = inv }()
	for len(r.FailedSteps) > 0 {
		if b, err := json.Marshal(r); err == nil && len(b) <= MaxResultBytes {
			return
		}
		r.FailedSteps = r.FailedSteps[:len(r.FailedSteps)/2]
	}
}

// outcomeType is the error type of an invocation that ended without
// succeeding.
func outcomeType(st client.Status) string {
	switch st {
	case client.StatusFailed:
		return ErrTypeFailed
	case client.StatusCancelled:
		return ErrTypeCancelled
	case client.StatusTimedOut:
		return ErrTypeTimedOut
	}
	return ErrTypeUnknownStatus
}

// pollErrorType classifies an error of Get or Watch that is not an
// outcome: the error type, and whether polling again may help. final is
// true for Watch's errors: Watch polls through every error the client
// deems transient, so one it yields while the activity's context is alive
// is final, whatever its type. An error of Get is retried when the
// client deems it transient (client.IsTransient: a retryable status or a
// network failure), the one definition Wait polls by.
func pollErrorType(err error, final bool) (string, bool) {
	var apiErr *client.APIError
	switch {
	case errors.Is(err, client.ErrNotFound):
		return ErrTypeNotFound, false
	case errors.As(err, &apiErr) && (apiErr.StatusCode == 401 || apiErr.StatusCode == 403):
		return ErrTypeUnauthorized, false
	case !final && client.IsTransient(err):
		return ErrTypeTransient, true
	}
	return ErrTypeInvalid, false
}
