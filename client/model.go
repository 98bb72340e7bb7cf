package client

import (
	"github.com/go-json-experiment/json/jsontext"

	"github.com/bctrlhq/sdk-go/apitype"

	"github.com/bctrlhq/sdk-go/gen"
)

// The SDK's model is the code oapi-codegen generates from openapi.yaml into
// package gen, shaped by oapi-codegen.overlay.yaml (short names,
// timestamps that keep their text (Timestamp), pointers for optional
// numbers and booleans and none where the zero value says enough, float64
// numbers, raw JSON for "any" values). This file is where client/ exposes it, on purpose and in
// one place:
//
//   - aliases, for the types to which the SDK adds no behaviour: they are
//     the generated types, so a property a spec bump adds is a field here
//     after `make generate`, with no edit in client/;
//   - four types that embed a generated struct and add behaviour:
//     Invocation (typed Status, discriminated steps, Raw), Result (its
//     Steps), StepSuccess (DecodeResult) and Status (IsTerminal,
//     IsSuccess, Known), declared in invocation.go and step.go. Their
//     every other field is promoted from the embedded generated struct.
//
// TestEveryPropertyReachesUsers (spec_test.go) walks the spec and fails
// for any property that does not reach a typed Go field of what Get
// returns.

// Aliases of generated types. Each is the generated type itself: its fields
// and the Valid method of enum types come from gen.
type (
	// Timestamp is a point in time the API sent as text: a time.Time (embedded,
	// with every time method) that keeps the text as sent, so a value that
	// does not parse is still readable with Text. IsZero reports that the API
	// sent none; Valid that Time holds it.
	Timestamp = apitype.Timestamp
	// ErrorInfo is an invocation-level error reported by the API.
	ErrorInfo = gen.ErrorInfo
	// Progress is a running invocation's last progress report. Fields the
	// runtime did not send are zero.
	Progress = gen.Progress
	// Request is the request that created an invocation.
	Request = gen.Request
	// RequestStep is one call in an invocation's request. Args are raw JSON.
	RequestStep = gen.RequestStep
	// RequestStepOptions are a request step's options.
	RequestStepOptions = gen.RequestStepOptions
	// RequestMode is a request's failure mode ("fail-fast").
	RequestMode = gen.RequestMode
	// ResultMode is a result's failure mode ("fail-fast").
	ResultMode = gen.ResultMode
	// ExecutionMode is "durable" or "inline".
	ExecutionMode = gen.ExecutionMode
	// RuntimeKind is "browser", "desktop" or "spreadsheet".
	RuntimeKind = gen.RuntimeKind
	// ResolvedTarget is what a successful step's call resolved to.
	// Nullable fields are "" when null.
	ResolvedTarget = gen.ResolvedTarget
	// Binding is a name bound by a step.
	Binding = gen.Binding
	// BindingType is "page", "context", "handle" or "subscription".
	BindingType = gen.BindingType
	// StepFailure is a step that failed (its "ok" is false), as
	// Step.Failure returns it. Its fields: Index, the step's position in
	// the request; Call, such as "page.click"; and Error, a StepError
	// saying why it failed. `go doc github.com/bctrlhq/sdk-go/gen
	// StepFailure` documents each.
	StepFailure = gen.StepFailure
	// StepError is why a step failed. Its fields: Code, a StepErrorCode
	// such as StepErrorUnknownCall; Message; Hint, a short suggestion
	// ("" if none); and Diagnostic, a *Diagnostic with the expected and
	// received shapes, the closest calls and suggested fixes (nil if
	// none). StepErrorText formats it.
	StepError = gen.StepError
	// StepErrorCode classifies a step error. Codes the SDK has no constant
	// for (a newer API) are kept as they are; Valid reports whether a code
	// is one the spec lists.
	StepErrorCode = gen.StepErrorCode
	// Diagnostic explains a step error and how to fix it.
	Diagnostic = gen.Diagnostic
	// DiagnosticCategory is "arg-shape", "semantic" or "runtime".
	DiagnosticCategory = gen.DiagnosticCategory
	// Fix is one suggested fix for a step error.
	Fix = gen.Fix
)

// The step error codes in the spec, with readable names. A code the spec
// adds is kept as it is (its Valid is true after `make generate`) before it
// gets a constant here.
const (
	StepErrorUnknownCall                = gen.StepErrorCodeUNKNOWNCALL
	StepErrorUnknownRef                 = gen.StepErrorCodeUNKNOWNREF
	StepErrorInvalidArgs                = gen.StepErrorCodeINVALIDARGS
	StepErrorCapabilityNotAvailable     = gen.StepErrorCodeCAPABILITYNOTAVAILABLE
	StepErrorTimeout                    = gen.StepErrorCodeTIMEOUT
	StepErrorRuntimeNotFound            = gen.StepErrorCodeRUNTIMENOTFOUND
	StepErrorDriverNotConnected         = gen.StepErrorCodeDRIVERNOTCONNECTED
	StepErrorSubscriptionCursorConflict = gen.StepErrorCodeSUBSCRIPTIONCURSORCONFLICT
	StepErrorSubscriptionGone           = gen.StepErrorCodeSUBSCRIPTIONGONE
)

// Ptr returns a pointer to v, for the optional numbers and booleans of the
// model, which are pointers so that "not reported" differs from 0 and
// false: Progress{Step: client.Ptr(3)}.
func Ptr[T any](v T) *T { return &v }

// StepErrorText formats a step error as "CODE: message (hint: ...)".
func StepErrorText(e *StepError) string {
	msg := string(e.Code) + ": " + e.Message
	if e.Hint != "" {
		msg += " (hint: " + e.Hint + ")"
	}
	return msg
}

// ErrorInfoText formats an invocation-level error as "code: message".
func ErrorInfoText(e *ErrorInfo) string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// The embedded generated structs must not have JSON methods of their own:
// encoding/json would promote them and decode the whole invocation with
// them, ignoring the fields client/ adds, and json v2 refuses such an
// embedding at run time. If a regenerated type gains one, the selector
// below becomes ambiguous and the build fails here, naming the type.
type jsonMethodGuard struct{}

func (jsonMethodGuard) UnmarshalJSON([]byte) error                { return nil }
func (jsonMethodGuard) MarshalJSON() ([]byte, error)              { return nil, nil }
func (jsonMethodGuard) UnmarshalText([]byte) error                { return nil }
func (jsonMethodGuard) MarshalText() ([]byte, error)              { return nil, nil }
func (jsonMethodGuard) UnmarshalJSONFrom(*jsontext.Decoder) error { return nil }
func (jsonMethodGuard) MarshalJSONTo(*jsontext.Encoder) error     { return nil }

type (
	guardInvocation struct {
		gen.Invocation
		jsonMethodGuard
	}
	guardResult struct {
		gen.Result
		jsonMethodGuard
	}
	guardStepSuccess struct {
		gen.StepSuccess
		jsonMethodGuard
	}
)

var (
	_ = guardInvocation{}.UnmarshalJSON
	_ = guardInvocation{}.MarshalJSON
	_ = guardInvocation{}.UnmarshalText
	_ = guardInvocation{}.MarshalText
	_ = guardInvocation{}.UnmarshalJSONFrom
	_ = guardInvocation{}.MarshalJSONTo
	_ = guardResult{}.UnmarshalJSON
	_ = guardResult{}.MarshalJSON
	_ = guardResult{}.UnmarshalText
	_ = guardResult{}.MarshalText
	_ = guardResult{}.UnmarshalJSONFrom
	_ = guardResult{}.MarshalJSONTo
	_ = guardStepSuccess{}.UnmarshalJSON
	_ = guardStepSuccess{}.MarshalJSON
	_ = guardStepSuccess{}.UnmarshalText
	_ = guardStepSuccess{}.MarshalText
	_ = guardStepSuccess{}.UnmarshalJSONFrom
	_ = guardStepSuccess{}.MarshalJSONTo
)
