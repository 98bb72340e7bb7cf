package client

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

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

// DecodeResult decodes the step's result into v, as json.Unmarshal does.
// A null or absent result is an error matching ErrNullResult.
func (s *StepSuccess) DecodeResult(v any) error {
	r := bytes.TrimSpace(s.Result)
	if len(r) == 0 || string(r) == "null" {
		return fmt.Errorf("%w: step %d (%s)", ErrNullResult, s.Index, s.Call)
	}
	if err := json.Unmarshal(r, v, decodeOptions); err != nil {
		return fmt.Errorf("bctrl: step %d (%s): decode result: %w", s.Index, s.Call, err)
	}
	return nil
}

// ResultAs decodes a successful step's result as a T:
//
//	title, err := client.ResultAs[string](s)
//
// A null or absent result is an error matching ErrNullResult.
func ResultAs[T any](s *StepSuccess) (T, error) {
	var v T
	err := s.DecodeResult(&v)
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
		return fmt.Errorf("%w: step %d (index %d, call %q) has no \"ok\" field", ErrInvalidStep, s.pos, s.Index(), s.Call())
	default:
		return fmt.Errorf("%w: step %d (index %d, call %q): \"ok\" is not a boolean", ErrInvalidStep, s.pos, s.Index(), s.Call())
	}
}

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

// UnmarshalJSONFrom reads the step once as a raw value and decodes the
// variant it names. It is what json v2 calls; UnmarshalJSON is the same for
// encoding/json.
func (s *Step) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return s.decode(raw)
}

// UnmarshalJSON decodes a step as UnmarshalJSONFrom does, for users who
// decode an Invocation with encoding/json.
func (s *Step) UnmarshalJSON(b []byte) error { return s.decode(b) }

// decode discriminates raw, one step's JSON object, on its "ok" field.
// Nearly every step is a success: it is decoded straight into StepSuccess,
// and only when that does not yield ok: true is "ok" looked up to tell a
// failure from a step that is neither. An odd "ok" never fails the decode,
// so one such step does not hide the others; a step that is not an object,
// or a variant whose fields have the wrong types, does.
func (s *Step) decode(raw []byte) (err error) {
	*s = Step{}
	defer func() {
		if err != nil {
			*s = Step{kind: okInvalid} // never a silent success or failure
		}
	}()
	k := jsontext.Value(raw).Kind()
	if k == 'n' {
		return nil // a null step is neither variant; Err says so
	}
	if k != '{' {
		return fmt.Errorf("step is a JSON %s, not an object", kindName(k))
	}
	ok := new(StepSuccess)
	okErr := json.Unmarshal(raw, &ok.StepSuccess, stepOptions)
	if okErr == nil && ok.OK {
		s.kind, s.v = okTrue, ok
		return nil
	}
	kind, hasError, err := peekOK(raw)
	if err != nil {
		return err
	}
	s.kind = kind
	switch kind {
	case okTrue:
		return okErr // decoding it as a success failed above
	case okFalse:
		f := new(StepFailure)
		if err := json.Unmarshal(raw, f, stepOptions); err != nil {
			return err
		}
		if !hasError {
			return fmt.Errorf(`step (index %d, call %q): "ok" is false but "error" is missing`, f.Index, f.Call)
		}
		s.v = f
	default:
		var h stepHead
		json.Unmarshal(raw, &h, stepOptions) // best effort: only names the step in Err
		if h != (stepHead{}) {
			s.v = &h
		}
	}
	return nil
}

// peekOK scans the top-level members of a step object for "ok" and
// "error", skipping every value without decoding it.
func peekOK(raw []byte) (kind okFlag, hasError bool, err error) {
	p := peekers.Get().(*peeker)
	defer peekers.Put(p)
	p.r.Reset(raw)
	p.dec.Reset(&p.r, stepOptions)
	dec := &p.dec
	if _, err := dec.ReadToken(); err != nil { // '{'
		return 0, false, err
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return 0, false, err
		}
		switch name.String() {
		case "ok":
			v, err := dec.ReadValue()
			if err != nil {
				return 0, false, err
			}
			switch v.Kind() {
			case 't':
				kind = okTrue
			case 'f':
				kind = okFalse
			default:
				kind = okInvalid
			}
			continue
		case "error":
			hasError = dec.PeekKind() == '{'
		}
		if err := dec.SkipValue(); err != nil {
			return 0, false, err
		}
	}
	return kind, hasError, nil
}

// peeker is a reusable decoder for peekOK: steps that are not successes
// are rare in a real invocation, but a hostile body can hold a million.
type peeker struct {
	r   bytes.Reader
	dec jsontext.Decoder
}

var peekers = sync.Pool{New: func() any { return new(peeker) }}

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
