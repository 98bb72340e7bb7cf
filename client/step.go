package client

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Step is one step's result, discriminated on its "ok" field: a success
// (ok: true) or a failure (ok: false). A step whose "ok" is missing or not
// a boolean is neither; Err says why, naming the step.
//
//	for i := range inv.Steps() {
//		st := &inv.Steps()[i]
//		if s, ok := st.Success(); ok { ... }
//		if f, ok := st.Failure(); ok { ... f.Error.Code ... }
//	}
type Step struct {
	kind    okFlag
	pos     int // position in the steps array, for Err
	success StepSuccess
	failure StepFailure
}

// OK reports whether the step succeeded (its "ok" is true).
func (s *Step) OK() bool { return s.kind == okTrue }

// Success returns the step as a success, if its "ok" is true.
func (s *Step) Success() (*StepSuccess, bool) {
	if s.kind != okTrue {
		return nil, false
	}
	return &s.success, true
}

// Failure returns the step as a failure, if its "ok" is false.
func (s *Step) Failure() (*StepFailure, bool) {
	if s.kind != okFalse {
		return nil, false
	}
	return &s.failure, true
}

// Index returns the step's index as reported by the API.
func (s *Step) Index() int {
	if s.kind == okFalse {
		return s.failure.Index
	}
	return s.success.Index
}

// Call returns the step's call, such as "page.click".
func (s *Step) Call() string {
	if s.kind == okFalse {
		return s.failure.Call
	}
	return s.success.Call
}

// Err is nil for a success or a failure, and an error naming the step when
// its "ok" field is missing or not a boolean, so such a step is never taken
// for a silent success or failure.
func (s *Step) Err() error {
	switch s.kind {
	case okTrue, okFalse:
		return nil
	case okMissing:
		return fmt.Errorf("%w: step %d (index %d, call %q) has no \"ok\" field", ErrInvalidStep, s.pos, s.success.Index, s.success.Call)
	default:
		return fmt.Errorf("%w: step %d (index %d, call %q): \"ok\" is not a boolean", ErrInvalidStep, s.pos, s.success.Index, s.success.Call)
	}
}

// ErrInvalidStep is wrapped by Step.Err for a step that is neither a success
// nor a failure.
var ErrInvalidStep = errors.New("bctrl: invalid step")

// StepSuccess is a step that succeeded.
type StepSuccess struct {
	Index    int
	Call     string
	Resolved ResolvedTarget // what the call resolved to
	Binding  *Binding       // set when the step bound a name (bind)
	result   json.RawMessage
}

// Result returns the step's result as raw JSON ("null" when the call
// returned nothing).
func (s *StepSuccess) Result() json.RawMessage { return s.result }

// DecodeResult decodes the step's result into v, as json.Unmarshal does.
func (s *StepSuccess) DecodeResult(v any) error {
	if len(s.result) == 0 {
		return fmt.Errorf("bctrl: step %d (%s) has no result", s.Index, s.Call)
	}
	if err := json.Unmarshal(s.result, v); err != nil {
		return fmt.Errorf("bctrl: step %d (%s): decode result: %w", s.Index, s.Call, err)
	}
	return nil
}

// ResolvedTarget is what a successful step's call resolved to. Nullable
// fields are "" when null.
type ResolvedTarget struct {
	Call      string `json:"call"`
	Method    string `json:"method"`
	Target    string `json:"target"`
	RuntimeID string `json:"runtimeId"`
	PageID    string `json:"pageId"`
	ContextID string `json:"contextId"`
	HandleID  string `json:"handleId"`
	Ref       string `json:"ref"`
}

// Binding is a name bound by a step.
type Binding struct {
	Alias string `json:"alias"`
	ID    string `json:"id"`
	Type  string `json:"type"` // "page", "context", "handle" or "subscription"
}

// StepFailure is a step that failed.
type StepFailure struct {
	Index int
	Call  string
	Error StepError
}

// StepError is a failed step's error.
type StepError struct {
	Code       StepErrorCode `json:"code"`
	Message    string        `json:"message"`
	Hint       string        `json:"hint"`
	Diagnostic *Diagnostic   `json:"diagnostic"`
}

// Error returns "CODE: message (hint: ...)".
func (e *StepError) Error() string {
	msg := string(e.Code) + ": " + e.Message
	if e.Hint != "" {
		msg += " (hint: " + e.Hint + ")"
	}
	return msg
}

// StepErrorCode classifies a step error. Codes the SDK does not know (a
// newer API) are kept as they are; Known reports whether a code is one of
// the constants below.
type StepErrorCode string

// The step error codes in the spec.
const (
	StepErrorUnknownCall                StepErrorCode = "UNKNOWN_CALL"
	StepErrorUnknownRef                 StepErrorCode = "UNKNOWN_REF"
	StepErrorInvalidArgs                StepErrorCode = "INVALID_ARGS"
	StepErrorCapabilityNotAvailable     StepErrorCode = "CAPABILITY_NOT_AVAILABLE"
	StepErrorTimeout                    StepErrorCode = "TIMEOUT"
	StepErrorRuntimeNotFound            StepErrorCode = "RUNTIME_NOT_FOUND"
	StepErrorDriverNotConnected         StepErrorCode = "DRIVER_NOT_CONNECTED"
	StepErrorSubscriptionCursorConflict StepErrorCode = "SUBSCRIPTION_CURSOR_CONFLICT"
	StepErrorSubscriptionGone           StepErrorCode = "SUBSCRIPTION_GONE"
)

var knownStepErrorCodes = map[StepErrorCode]bool{
	StepErrorUnknownCall: true, StepErrorUnknownRef: true, StepErrorInvalidArgs: true,
	StepErrorCapabilityNotAvailable: true, StepErrorTimeout: true, StepErrorRuntimeNotFound: true,
	StepErrorDriverNotConnected: true, StepErrorSubscriptionCursorConflict: true, StepErrorSubscriptionGone: true,
}

// Known reports whether c is one of the StepErrorCode constants.
func (c StepErrorCode) Known() bool { return knownStepErrorCodes[c] }

// String returns the code as the API spells it.
func (c StepErrorCode) String() string { return string(c) }

// Diagnostic explains a step error and how to fix it.
type Diagnostic struct {
	ID       string   `json:"id"`
	Category string   `json:"category"` // "arg-shape", "semantic" or "runtime"
	Code     string   `json:"code"`
	Call     string   `json:"call"`
	Driver   string   `json:"driver"`
	Expected string   `json:"expected"`
	Received string   `json:"received"`
	Closest  []string `json:"closest"` // the nearest valid calls or values
	Fixes    []Fix    `json:"fixes"`
	DocsURL  string   `json:"docsUrl"`
}

// Fix is one suggested fix for a step error.
type Fix struct {
	Title   string `json:"title"`
	Command string `json:"command"`
	Example string `json:"example"`
}

// okFlag is a step's "ok" field, read once while decoding.
type okFlag uint8

const (
	okMissing okFlag = iota
	okTrue
	okFalse
	okInvalid
)

// UnmarshalJSON records whether "ok" is true, false or anything else; it
// never fails, so one odd step does not hide the others.
func (o *okFlag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*o = okTrue
	case "false":
		*o = okFalse
	default:
		*o = okInvalid
	}
	return nil
}

// wireStep is the JSON shape of a step: the union of both variants.
type wireStep struct {
	OK       okFlag          `json:"ok"`
	Index    int             `json:"index"`
	Call     string          `json:"call"`
	Resolved ResolvedTarget  `json:"resolved"`
	Binding  *Binding        `json:"binding"`
	Result   json.RawMessage `json:"result"`
	Error    *StepError      `json:"error"`
}

// convertSteps turns decoded wire steps into Steps without another pass
// over the JSON.
func convertSteps(ws []wireStep) ([]Step, error) {
	if ws == nil {
		return nil, nil
	}
	steps := make([]Step, len(ws))
	for i := range ws {
		w := &ws[i]
		st := &steps[i]
		st.kind, st.pos = w.OK, i
		switch w.OK {
		case okFalse:
			st.failure = StepFailure{Index: w.Index, Call: w.Call}
			if w.Error == nil {
				return nil, fmt.Errorf("step %d (index %d): ok is false but \"error\" is missing", i, w.Index)
			}
			st.failure.Error = *w.Error
		default:
			st.success = StepSuccess{Index: w.Index, Call: w.Call, Resolved: w.Resolved, Binding: w.Binding, result: w.Result}
		}
	}
	return steps, nil
}
