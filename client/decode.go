package client

import (
	"errors"
	"fmt"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Responses are decoded with github.com/go-json-experiment/json, the pure-Go
// JSON v2 that Go ships as encoding/json/v2 (under GOEXPERIMENT=jsonv2): no
// unsafe, no assembly, about twice as fast as encoding/json on this API's
// bodies (BENCHMARKS.md). It decodes the generated types directly, in one
// pass: each step is read once as a raw value and decoded into the variant
// its "ok" names (step.go).
//
// Options, and how they differ from encoding/json:
//   - names match case-sensitively ({"ok":false,"OK":true} is a failure);
//   - a duplicate name in an object is an error (the body is ambiguous);
//   - invalid UTF-8 in a string is replaced with U+FFFD, as encoding/json
//     does, so one bad byte in a scraped page's text does not make the
//     whole invocation unreadable;
//   - "required" is not enforced by the decoder: checkRequired does it for
//     the fields the SDK relies on.
var decodeOptions = json.JoinOptions(
	jsontext.AllowInvalidUTF8(true),
)

// stepOptions decode one step's raw value, already checked for syntax and
// duplicate names by the outer decoder (checking again costs about 20%).
var stepOptions = json.JoinOptions(
	jsontext.AllowInvalidUTF8(true),
	jsontext.AllowDuplicateNames(true),
)

// decoderFor returns the options that decode an invocation with at most
// maxSteps steps. The limit is enforced while decoding, so a body of a
// million tiny steps stops at the limit instead of allocating them all.
func decoderFor(maxSteps int) json.Options {
	return json.JoinOptions(decodeOptions,
		json.WithUnmarshalers(json.UnmarshalFromFunc(func(dec *jsontext.Decoder, steps *[]Step) error {
			if dec.PeekKind() != '[' {
				return errors.ErrUnsupported // null, or a type error: the default decodes it
			}
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			out := (*steps)[:0]
			for dec.PeekKind() != ']' {
				if len(out) == maxSteps {
					return fmt.Errorf("%w: more than %d steps (see WithMaxSteps)", ErrResponseTooLarge, maxSteps)
				}
				var st Step
				if err := st.UnmarshalJSONFrom(dec); err != nil {
					return err
				}
				st.pos = int32(len(out)) // for Step.Err
				out = append(out, st)
			}
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			*steps = out
			return nil
		})))
}

// decodeInvocation decodes an invocation body in a single pass with the
// options of decoderFor. The invocation keeps body as its Raw, without a
// copy.
func decodeInvocation(body []byte, opts json.Options) (*Invocation, error) {
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	inv := &Invocation{raw: body}
	if err := json.Unmarshal(body, inv, opts); err != nil {
		return nil, err
	}
	if err := checkRequired(inv); err != nil {
		return nil, err
	}
	return inv, nil
}

// checkRequired checks the required fields the SDK relies on: an id to
// name the invocation, a status to wait on, and its creation time.
func checkRequired(inv *Invocation) error {
	switch {
	case inv.ID == "":
		return errors.New(`required field "id" is missing, null or empty`)
	case inv.Status == "":
		return errors.New(`required field "status" is missing, null or empty`)
	case inv.CreatedAt.IsZero():
		return errors.New(`required field "createdAt" is missing or null`)
	}
	return nil
}
