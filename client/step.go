package client

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/bctrlhq/sdk-go/gen"
)

// Step is one step's result, discriminated once, while decoding, on its
// "ok" field: a success (ok: true) or a failure (ok: false). A step whose
// "ok" is missing or not a boolean is neither; Err says why, naming the
// step.
//
//	for i := range inv.Steps() {
//		st := &inv.Steps()[i]
//		if s, ok := st.Success(); ok { ... s.Result ... }
//		if f, ok := st.Failure(); ok { ... f.Error.Code ... }
//	}
//
// A Step is 24 bytes holding one pointer to its variant, so a large
// invocation costs one small header per step plus the variants it really
// has.
type Step struct {
	v    any    // *StepSuccess, *StepFailure, *stepHead (neither, named) or nil
	pos  int32  // position in the steps array, for Err
	kind okFlag // what "ok" said
}

// StepSuccess is a step that succeeded. Its fields are the generated
// gen.StepSuccess's, promoted: Index, Call, Resolved, Binding, and Result,
// the raw JSON the call returned ("null" when it returned nothing), which
// DecodeResult and ResultAs decode.
type StepSuccess struct {
	gen.StepSuccess
}

// ErrNullResult is returned (wrapped) by DecodeResult and ResultAs when a
// step's result is JSON null or absent: the call returned nothing, and the
// target is left untouched rather than silently zero.
var ErrNullResult = errors.New("bctrl: step result is null")

// DecodeResult decodes the step's result into v as encoding/json's
// Unmarshal does: object members match struct fields by their json tag or
// name, exactly or else without regard to letter case, and members with no
// field are ignored. (Unlike encoding/json, a member given twice is an
// error.) A null or absent result is an error matching ErrNullResult: the
// target is left untouched rather than silently zero. DecodeResultStrict
// refuses what this accepts loosely.
func (s *StepSuccess) DecodeResult(v any) error {
	return s.decodeResult(v, resultOptions)
}

// DecodeResultStrict is DecodeResult for users who want the result's shape
// checked: names must match a field exactly (letter case included), and a
// member with no field is an error, so a renamed or unexpected member
// fails instead of leaving a field zero.
func (s *StepSuccess) DecodeResultStrict(v any) error {
	return s.decodeResult(v, strictResultOptions)
}

var (
	resultOptions       = baseOptions
	strictResultOptions = json.JoinOptions(
		jsontext.AllowInvalidUTF8(true),
		json.RejectUnknownMembers(true),
	)
)

func (s *StepSuccess) decodeResult(v any, opts json.Options) error {
	r := bytes.TrimSpace(s.Result)
	if len(r) == 0 || string(r) == "null" {
		return fmt.Errorf("%w: step %d (%s)", ErrNullResult, s.Index, callText(s.Call))
	}
	if err := json.Unmarshal(r, v, opts); err != nil {
		return fmt.Errorf("bctrl: step %d (%s): decode result: %w", s.Index, callText(s.Call), err)
	}
	return nil
}

// ResultAs decodes a successful step's result as a T, as DecodeResult does:
//
//	title, err := client.ResultAs[string](s)
//
// A null or absent result is an error matching ErrNullResult.
func ResultAs[T any](s *StepSuccess) (T, error) {
	var v T
	err := s.DecodeResult(&v)
	return v, err
}

// ResultAsStrict decodes a successful step's result as a T, as
// DecodeResultStrict does.
func ResultAsStrict[T any](s *StepSuccess) (T, error) {
	var v T
	err := s.DecodeResultStrict(&v)
	return v, err
}

// OK reports whether the step succeeded (its "ok" is true).
func (s *Step) OK() bool { return s.kind == okTrue }

// Success returns the step as a success, if its "ok" is true.
func (s *Step) Success() (*StepSuccess, bool) {
	v, ok := s.v.(*StepSuccess)
	return v, ok && s.kind == okTrue
}

// Failure returns the step as a failure, if its "ok" is false.
func (s *Step) Failure() (*StepFailure, bool) {
	v, ok := s.v.(*StepFailure)
	return v, ok && s.kind == okFalse
}

// Index returns the step's index as reported by the API.
func (s *Step) Index() int {
	switch v := s.v.(type) {
	case *StepSuccess:
		return v.Index
	case *StepFailure:
		return v.Index
	case *stepHead:
		return v.Index
	}
	return 0
}

// Call returns the step's call, such as "page.click".
func (s *Step) Call() string {
	switch v := s.v.(type) {
	case *StepSuccess:
		return v.Call
	case *StepFailure:
		return v.Call
	case *stepHead:
		return v.Call
	}
	return ""
}

// Err is nil for a success or a failure, and an error naming the step when
// its "ok" field is missing or not a boolean, so such a step is never taken
// for a silent success or failure. The step's position in the array is
// known for invocations Get decoded (it reads 0 after a plain
// json.Unmarshal).
func (s *Step) Err() error {
	switch s.kind {
	case okTrue, okFalse:
		return nil
	case okMissing:
		return fmt.Errorf("%w: step %d (index %d, call %q) has no \"ok\" field", ErrInvalidStep, s.pos, s.Index(), callText(s.Call()))
	default:
		return fmt.Errorf("%w: step %d (index %d, call %q): \"ok\" is not a boolean", ErrInvalidStep, s.pos, s.Index(), callText(s.Call()))
	}
}

// callText is a step's call as the model's own errors (Err, DecodeResult)
// print it: capped, since these errors come from the model, not through a
// Client's boundary (which would also scrub its key).
func callText(call string) string { return noKey.text(call, maxErrorToken) }

// ErrInvalidStep is wrapped by Step.Err for a step that is neither a success
// nor a failure.
var ErrInvalidStep = errors.New("bctrl: invalid step")

// okFlag is a step's "ok" field, read once while decoding.
type okFlag uint8

const (
	okMissing okFlag = iota
	okTrue
	okFalse
	okInvalid
)

// stepHead is what Err reports of a step that is neither variant.
type stepHead struct {
	Index int    `json:"index"`
	Call  string `json:"call"`
}

// UnmarshalJSONFrom decodes a step for a json v2 decoder that is not the
// SDK's own (a user decoding an Invocation themselves): it reads the step
// as a raw value and decodes it as Get does. UnmarshalJSON is the same for
// encoding/json.
func (s *Step) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return s.UnmarshalJSON(raw)
}

// UnmarshalJSON decodes a step as UnmarshalJSONFrom does, for users who
// decode an Invocation with encoding/json.
func (s *Step) UnmarshalJSON(b []byte) error {
	raw := append([]byte(nil), b...) // b is the caller's; the step's raw values keep slices of it
	return defaultDecoders.unmarshal(raw, s)
}

// stepWire is what a step is decoded into, in one pass: the success
// variant, whose fields (a bump's new ones included) come from the
// generated type, with "ok" and "error" read at the top level so that
// neither an odd "ok" nor a failure's error fails the decode.
type stepWire struct {
	gen.StepSuccess
	OK    okFlag             `json:"ok"`
	Error stdjson.RawMessage `json:"error"` // a failure's; decoded from the step's bytes if "ok" is false
}

// failureWire decodes a failed step from its bytes.
type failureWire struct {
	gen.StepFailure
	OK    okFlag         `json:"ok"`
	Error *gen.StepError `json:"error"`
}

// UnmarshalJSONFrom records what "ok" holds, whatever its JSON type.
func (f *okFlag) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 't':
		*f = okTrue
	case 'f':
		*f = okFalse
	default:
		*f = okInvalid
	}
	return dec.SkipValue()
}

// step decodes one step in a single pass and discriminates it on "ok".
// Nearly every step is a success: it is done when its object ends. A
// failure is decoded again, from its own bytes (a slice of the body), into
// the failure variant, so fields a bump adds to either variant arrive. A
// step whose "ok" is missing or not a boolean is neither variant (Err
// says why), so one such step does not hide the others; a step that is
// not an object, or a variant whose fields have the wrong types, fails
// the decode.
func (st *decodeState) step(dec *jsontext.Decoder, s *Step) error {
	*s = Step{}
	switch k := dec.PeekKind(); k {
	case '{':
	case 'n':
		_, err := dec.ReadToken() // a null step is neither variant; Err says so
		return err
	default:
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return fmt.Errorf("step is a JSON %s, not an object", kindName(k))
	}
	if st.twoPass {
		return st.stepTwoPass(dec, s)
	}
	start := int(dec.InputOffset())
	var w stepWire
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		// Perhaps a failure with a member the success variant types
		// otherwise ({"ok":false,"resolved":"x"} is spec-valid): the
		// decode is retried with each step read first (decodeInvocation).
		return &stepPassError{err}
	}
	switch w.OK {
	case okTrue:
		w.StepSuccess.OK = true
		s.kind, s.v = okTrue, &StepSuccess{StepSuccess: w.StepSuccess}
		return nil
	case okFalse:
		if jsontext.Value(w.Error).Kind() != '{' {
			return fmt.Errorf(`step (index %d, call %q): "ok" is false but "error" is missing`, w.Index, w.Call)
		}
		if failureFromWire {
			// Every member of the failure variant was read in this pass:
			// only its error object is decoded, from its own bytes.
			f := &StepFailure{Call: w.Call, Index: w.Index}
			if err := st.nested(w.Error, &f.Error); err != nil {
				return fmt.Errorf("step %s/error: %w", dec.StackPointer(), err)
			}
			s.kind, s.v = okFalse, f
			return nil
		}
		end := int(dec.InputOffset())
		if err := st.failure(bytes.TrimLeft(st.body[start:end], " \t\r\n,"), s); err != nil {
			return fmt.Errorf("step %s: %w", dec.StackPointer(), err)
		}
		return nil
	}
	s.kind = w.OK // missing or not a boolean
	if w.Index != 0 || w.Call != "" {
		s.v = &stepHead{Index: w.Index, Call: w.Call}
	}
	return nil
}

// failureFromWire reports whether a failure can be built from a stepWire:
// the failure variant's members are "call", "index", "ok" and "error", all
// read by the single pass. A member a spec bump adds to the failure variant
// alone turns it off, and failures are then decoded whole (failure), so
// the new field arrives.
var failureFromWire = func() bool {
	have := map[string]bool{"ok": true, "error": true, "call": true, "index": true}
	t := reflect.TypeFor[gen.StepFailure]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if !have[name] {
			return false
		}
	}
	return true
}()

// failure decodes raw, a step whose "ok" is false, as the failure variant.
func (st *decodeState) failure(raw []byte, s *Step) error {
	var f failureWire
	if err := st.nested(raw, &f); err != nil {
		return err
	}
	if f.Error == nil {
		return fmt.Errorf(`step (index %d, call %q): "ok" is false but "error" is missing`, f.Index, f.Call)
	}
	f.StepFailure.Error, f.StepFailure.OK = *f.Error, false
	s.kind, s.v = okFalse, &f.StepFailure
	return nil
}

// stepPassError is a step that the single pass could not decode as the
// success variant; decodeInvocation decodes the body again in two passes.
type stepPassError struct{ err error }

func (e *stepPassError) Error() string { return e.err.Error() }
func (e *stepPassError) Unwrap() error { return e.err }

// okProbe reads only a step's "ok".
type okProbe struct {
	OK okFlag `json:"ok"`
}

// stepTwoPass reads the step whole, then decodes the variant its "ok"
// names from those bytes: the slow path for a body the single pass could
// not read, where a member of one variant has another's name.
func (st *decodeState) stepTwoPass(dec *jsontext.Decoder, s *Step) (err error) {
	at := dec.StackPointer() // the steps array; errors below name the step in it
	_, n := dec.StackIndex(dec.StackDepth())
	defer func() {
		if err != nil {
			err = fmt.Errorf("step %s/%d: %w", at, n, err)
		}
	}()
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	end := int(dec.InputOffset())
	raw := st.body[end-len(v) : end]
	var p okProbe
	if err := st.nested(raw, &p); err != nil {
		return err
	}
	switch p.OK {
	case okTrue:
		var w stepWire
		if err := st.nested(raw, &w); err != nil {
			return err
		}
		w.StepSuccess.OK = true
		s.kind, s.v = okTrue, &StepSuccess{StepSuccess: w.StepSuccess}
		return nil
	case okFalse:
		return st.failure(raw, s)
	}
	s.kind = p.OK
	var h stepHead
	if st.nested(raw, &h) == nil && h != (stepHead{}) {
		s.v = &h // best effort: it only names the step in Err
	}
	return nil
}

// MarshalJSON encodes the step's variant. A step that is neither variant
// cannot be encoded faithfully (its raw JSON is not kept) and is an error.
func (s Step) MarshalJSON() ([]byte, error) {
	if v, ok := s.Success(); ok {
		return json.Marshal(&v.StepSuccess)
	}
	if v, ok := s.Failure(); ok {
		return json.Marshal(v)
	}
	return nil, s.Err()
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '[':
		return "array"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "value"
}
