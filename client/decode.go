package client

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"unicode/utf8"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/google/uuid"

	"github.com/bctrlhq/sdk-go/gen"
)

// Responses are decoded with github.com/go-json-experiment/json, the pure-Go
// JSON v2 that Go ships as encoding/json/v2 (under GOEXPERIMENT=jsonv2): no
// unsafe, no assembly. It decodes the generated types directly, in one pass
// over the body: each step is decoded as it is read and discriminated on
// its "ok" field on the way (step.go), and every raw JSON value (a step's
// result, metadata, error details, request args) is a slice of the body,
// not a copy.
//
// The rules, which the README's "Decoding" section lists for users:
//   - names match as encoding/json matches them: exactly, else without
//     regard to letter case ({"Status": ...} is the status), so Get and the
//     generated client (Raw) read every body alike;
//   - a name given twice, in any letter case ({"status":..,"STATUS":..}),
//     is an error: the body is ambiguous, and encoding/json would silently
//     take the last;
//   - integers may be written in any JSON spelling of an integral value
//     (1, 1.0, 1e0, 10E-1); a fraction or a value past int64 is an error
//     naming the member;
//   - invalid UTF-8 in a string is replaced with U+FFFD, as encoding/json
//     does, so one bad byte in a scraped page's text does not make the
//     whole invocation unreadable;
//   - "required" is not enforced by the decoder: checkRequired does it for
//     the fields the SDK relies on.
var baseOptions = json.JoinOptions(
	jsontext.AllowInvalidUTF8(true),
	json.MatchCaseInsensitiveNames(true),
	// Case only, as encoding/json folds: JSON v2 would also ignore "-"
	// and "_", and read "run_id" as runId.
	jsonv1.MatchCaseSensitiveDelimiter(true),
)

// decodeState is one decode in progress: the body being decoded, which raw
// values alias, and the options whose unmarshalers read it. The options
// close over the state, so a state is built once and reused from a pool;
// a decode costs no options of its own.
type decodeState struct {
	body     []byte
	maxSteps int
	budget   int64 // bytes of Go values this decode may still create; see charge
	twoPass  bool  // read each step whole before decoding it (stepTwoPass)
	opts     json.Options
}

// nested decodes raw, a slice of st.body, into v with st's options: raw
// values then alias raw, as they alias the body.
func (st *decodeState) nested(raw []byte, v any) error {
	body := st.body
	st.body = raw
	err := json.Unmarshal(raw, v, st.opts)
	st.body = body
	return err
}

// decoderPool hands out decodeStates for one step limit.
type decoderPool struct {
	pool sync.Pool
}

func newDecoderPool(maxSteps int) *decoderPool {
	p := &decoderPool{}
	p.pool.New = func() any { return newDecodeState(maxSteps) }
	return p
}

func newDecodeState(maxSteps int) *decodeState {
	st := &decodeState{maxSteps: maxSteps}
	st.opts = json.JoinOptions(baseOptions, json.WithUnmarshalers(json.JoinUnmarshalers(append([]*json.Unmarshalers{
		json.UnmarshalFromFunc(st.steps),
		json.UnmarshalFromFunc(st.step),
		json.UnmarshalFromFunc(st.raw),
		json.UnmarshalFromFunc(unmarshalInt),
		// Every other collection of the model, bounded (see charge).
		// TestEveryCollectionIsBounded names one a spec bump adds.
		json.UnmarshalFromFunc(boundedSlice[gen.RequestStep](st)),
		json.UnmarshalFromFunc(boundedSlice[gen.Fix](st)),
		json.UnmarshalFromFunc(boundedSlice[stdjson.RawMessage](st)),
		json.UnmarshalFromFunc(boundedSlice[string](st)),
		json.UnmarshalFromFunc(boundedMap[stdjson.RawMessage](st)),
	}, generatedBounded(st)...)...))) // those of generated results: zz_operations.gen.go
	return st
}

// unmarshal decodes body into v with a pooled state.
func (p *decoderPool) unmarshal(body []byte, v any) error {
	st := p.pool.Get().(*decodeState)
	st.body = body
	st.budget = memoryBudget(len(body))
	st.twoPass = false
	hidden := hiddenCost(body)
	err := st.charge(hidden)
	if err == nil {
		err = json.Unmarshal(body, v, st.opts)
	}
	var pass *stepPassError
	if errors.As(err, &pass) {
		// Rare: a step the single pass could not read. Two passes decide.
		st.budget = memoryBudget(len(body)) - hidden
		st.twoPass = true
		err = json.Unmarshal(body, v, st.opts)
	}
	st.body = nil
	p.pool.Put(st)
	return err
}

// Every collection is bounded while decoding, not only the steps: a hostile
// body can pad any array or object (request.steps of ten million {},
// metadata with millions of keys), and the Go values it decodes into can be
// tens of times larger than their JSON ({} is 2 bytes, a RequestStep 80).
// Each element's Go size is charged, before it is decoded, to a budget of
// memoryBudget(len(body)); a decode that runs out fails with
// ErrResponseTooLarge. Slices grow by doubling and are charged their
// capacity, so what a decode allocates is at most about twice its budget:
// 4x the body + 1 MiB, under the README's 8x the body + 1 MiB.
const (
	budgetPerByte = 2         // charged Go bytes allowed per body byte
	budgetFloor   = 512 << 10 // and a floor, so that small bodies never hit it
	// mapEntryCost is a map entry beyond its value, as measured
	// (TestHostileCollectionsAreBounded): the map's slots over its growth,
	// and the decoder's index of names for refusing duplicates.
	mapEntryCost = 360
)

func memoryBudget(bodyLen int) int64 { return int64(bodyLen)*budgetPerByte + budgetFloor }

// charge takes n bytes from the budget.
func (st *decodeState) charge(n int64) error {
	st.budget -= n
	if st.budget < 0 {
		return fmt.Errorf("%w: decoding it would take more than %d bytes of memory for a %d-byte body",
			ErrResponseTooLarge, memoryBudget(len(st.body)), len(st.body))
	}
	return nil
}

// boundedSlice decodes a JSON array into a []T, charging each element's Go
// size. An empty array is an empty slice, not nil.
func boundedSlice[T any](st *decodeState) func(*jsontext.Decoder, *[]T) error {
	size := int64(reflect.TypeFor[T]().Size())
	return func(dec *jsontext.Decoder, s *[]T) error {
		if dec.PeekKind() != '[' {
			return errors.ErrUnsupported // null, or a type error: the default decodes it
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		out := (*s)[:0]
		if out == nil {
			out = []T{}
		}
		for dec.PeekKind() != ']' {
			if len(out) == cap(out) {
				// Double, not append's 1.25x for large slices: the
				// arrays left behind then sum to at most the last one.
				// The new capacity is charged before it is allocated.
				n := max(2*cap(out), 4)
				if err := st.charge(int64(n-cap(out)) * size); err != nil {
					return err
				}
				grown := make([]T, len(out), n)
				copy(grown, out)
				out = grown
			}
			out = out[:len(out)+1]
			if err := json.UnmarshalDecode(dec, &out[len(out)-1], st.opts); err != nil {
				return err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		*s = out
		return nil
	}
}

// boundedMap decodes a JSON object into a map[string]V, charging each
// entry.
func boundedMap[V any](st *decodeState) func(*jsontext.Decoder, *map[string]V) error {
	size := int64(reflect.TypeFor[V]().Size()) + mapEntryCost
	return func(dec *jsontext.Decoder, m *map[string]V) error {
		if dec.PeekKind() != '{' {
			return errors.ErrUnsupported
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if *m == nil {
			*m = map[string]V{}
		}
		for dec.PeekKind() != '}' {
			if err := st.charge(size); err != nil {
				return err
			}
			tok, err := dec.ReadToken() // duplicates are refused by the decoder
			if err != nil {
				return err
			}
			name := tok.String() // before the next read voids tok
			var v V
			if err := json.UnmarshalDecode(dec, &v, st.opts); err != nil {
				return err
			}
			(*m)[name] = v
		}
		_, err := dec.ReadToken()
		return err
	}
}

// What the decoder allocates beyond the Go values it builds, and which no
// unmarshaler sees, is charged before decoding, from one pass over the body
// (hiddenCost):
//
//   - the index of names by which the decoder refuses a name given twice,
//     for every object: typed, raw (a step's result, a metadata value) or
//     skipped (unknown members). An object of more than 64 names, or
//     1 KiB of them, is indexed in a map: each name costs its unquoted
//     bytes several times over (kept, copied into a key, regrown) and a
//     map entry. Smaller objects are searched linearly in buffers the
//     decoder reuses, and cost nothing that grows;
//   - invalid UTF-8 in a string: a typed string replaces each bad byte with
//     three (U+FFFD), regrowing its buffer as it goes. A raw value keeps
//     its bytes and costs nothing, but one pass cannot tell raw from typed,
//     so every such string is charged.
//
// Measured (TestDecodeAmplificationBounded): before, 400,000 names in a
// step's result (4.7 MB) took 13x the body, top-level unknown members
// 19.5x, a typed string of \xff 14.3x; now each decodes within 8x the body
// + 1 MiB, or is refused with ErrResponseTooLarge before it allocates.
const (
	indexedNames     = 64   // an object with more names is indexed in a map
	indexedNameBytes = 1024 // or with more bytes of names
	nameEntryCost    = 128  // a name in the map: its key's header, slot and offsets, regrown
	nameByteCost     = 6    // a byte of an indexed name: kept, keyed, regrown
	invalidByteCost  = 12   // a bad byte of a typed string: three bytes, regrown
)

// hiddenCost returns what decoding body allocates that no unmarshaler
// charges (see above). It reads body once and allocates nothing but a
// stack of open objects, and only past 64 levels. It does not validate:
// for a body that is not JSON it returns an estimate, and the decoder
// refuses the body.
func hiddenCost(body []byte) int64 {
	type object struct{ names, nameBytes int64 }
	var stackBuf [64]object
	stack := stackBuf[:0]
	var cost int64
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, object{})
		case '}':
			if n := len(stack); n > 0 {
				o := stack[n-1]
				stack = stack[:n-1]
				if o.names > indexedNames || o.nameBytes > indexedNameBytes {
					cost += o.names*nameEntryCost + o.nameBytes*nameByteCost
				}
			}
		case '"':
			end, size, invalid := scanString(body, i+1)
			if invalid > 0 {
				cost += size + invalid*invalidByteCost
			}
			j := end
			for j < len(body) && (body[j] == ' ' || body[j] == '\t' || body[j] == '\n' || body[j] == '\r') {
				j++
			}
			if j < len(body) && body[j] == ':' && len(stack) > 0 {
				o := &stack[len(stack)-1]
				o.names++
				o.nameBytes += size + 2*invalid
			}
			i = end - 1
		}
	}
	return cost
}

// scanString reads the string whose contents start at body[i]: it returns
// where it ends (past its closing quote), its length in the body, and how
// many of its bytes are invalid UTF-8.
func scanString(body []byte, i int) (end int, size, invalid int64) {
	start := i
	for i < len(body) {
		c := body[i]
		switch {
		case c == '"':
			return i + 1, int64(i - start), invalid
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n == 1 {
				invalid++
			}
			i += n
		}
	}
	return len(body), int64(len(body) - start), invalid
}

// noKey caps what crosses the boundary outside a Client.
var noKey = newRedactor("")

// defaultDecoders serve decodes outside a Client (DecodeInvocation, a
// Step decoded by a user's own json.Unmarshal).
var defaultDecoders = newDecoderPool(DefaultMaxSteps)

// steps decodes a steps array, enforcing the step limit while decoding, so
// a body of a million tiny steps stops at the limit instead of allocating
// them all. An empty array is an empty slice, never nil: "steps" is a
// required array, and a nil slice would be re-encoded as null.
func (st *decodeState) steps(dec *jsontext.Decoder, steps *[]Step) error {
	if dec.PeekKind() != '[' {
		return errors.ErrUnsupported // null, or a type error: the default decodes it
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	out := (*steps)[:0]
	if out == nil {
		out = []Step{}
	}
	for dec.PeekKind() != ']' {
		if len(out) == st.maxSteps {
			return fmt.Errorf("%w: more than %d steps (see WithMaxSteps)", ErrResponseTooLarge, st.maxSteps)
		}
		if err := st.charge(stepCost); err != nil {
			return err
		}
		out = append(out, Step{})
		s := &out[len(out)-1]
		if err := st.step(dec, s); err != nil {
			return err
		}
		s.pos = int32(len(out) - 1) // for Step.Err
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	*steps = out
	return nil
}

// stepCost is what a step is charged: its header and a success variant.
var stepCost = int64(reflect.TypeFor[Step]().Size() + reflect.TypeFor[StepSuccess]().Size())

// raw makes a raw JSON value a slice of the body instead of a copy. The
// body is never written to, and the Invocation keeps it anyway (Raw), so
// aliasing it costs nothing; the slice's capacity ends with the value, so
// an append to it cannot reach the bytes after it.
func (st *decodeState) raw(dec *jsontext.Decoder, m *stdjson.RawMessage) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	end := int(dec.InputOffset())
	start := end - len(v)
	if st.body == nil || start < 0 || end > len(st.body) {
		*m = append((*m)[:0], v...) // not decoding st.body: copy
		return nil
	}
	*m = st.body[start:end:end]
	return nil
}

// unmarshalInt decodes every int of the model: JSON Schema's integer is any
// number with no fractional part, so 1.0, 1e0 and 10E-1 are the integer 1.
// A fraction or a value out of range is an error, which json names with the
// member's JSON pointer.
//
// null is an error too: every optional integer of the model is a pointer
// (the overlay's rule), whose null never reaches here, so an int is a
// required one, and null would be a silent 0.
func unmarshalInt(dec *jsontext.Decoder, v *int) error {
	switch dec.PeekKind() {
	case '0':
	case 'n':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		return errNullInt
	default:
		return errors.ErrUnsupported // a type error: the default says so
	}
	val, err := dec.ReadValue()
	if err != nil {
		return err
	}
	n, err := parseIntegral(val)
	if err != nil {
		return err
	}
	*v = n
	return nil
}

// errNotIntegral and errIntRange are what parseIntegral refuses.
var (
	errNotIntegral = errors.New("number has a fractional part, the spec says integer")
	errIntRange    = errors.New("integer out of range")
	errNullInt     = errors.New("null for an integer the spec requires")
)

// parseIntegral parses a JSON number (already checked for syntax) that
// must be integral, without floating point, so that large values stay
// exact. It works on the digits: an exponent only shifts the decimal
// point, and one so large that the value cannot fit is refused before any
// arithmetic.
func parseIntegral(b []byte) (int, error) {
	// Fast path: plain digits.
	if len(b) > 0 && len(b) < 19 {
		n, neg, i := 0, b[0] == '-', 0
		if neg {
			i = 1
		}
		plain := i < len(b)
		for ; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				plain = false
				break
			}
			n = n*10 + int(c-'0')
		}
		if plain {
			if neg {
				n = -n
			}
			return n, nil
		}
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var digits []byte // significant digits, int and fraction parts
	var stack [40]byte
	digits = stack[:0]
	exp := 0 // decimal exponent applied to digits
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		digits = append(digits, b[i])
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			digits = append(digits, b[i])
			exp--
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		e := 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if e < 1e6 { // past that, the value is 0 or out of range either way
				e = e*10 + int(b[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	// Drop leading zeros, then trailing zeros into the exponent.
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if len(digits) == 0 {
		return 0, nil // 0, -0, 0.0e5
	}
	if exp < 0 {
		return 0, errNotIntegral
	}
	if len(digits)+exp > 19 {
		return 0, errIntRange
	}
	var u uint64
	for _, c := range digits {
		u = u*10 + uint64(c-'0')
	}
	for range exp {
		u *= 10
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int(u), nil
	case neg && u <= 1<<63:
		return int(-int64(u-1)) - 1, nil
	}
	return 0, errIntRange
}

// decodeInvocation decodes an invocation body in a single pass with the
// options of decoders. The invocation keeps body as its Raw, without a
// copy, and its raw values are slices of it.
func decodeInvocation(body []byte, decoders *decoderPool) (*Invocation, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty body")
	}
	inv := &Invocation{raw: body}
	if err := decoders.unmarshal(body, inv); err != nil {
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

// sameID reports whether got names the invocation asked for as want: the
// same string, or the same UUID in another spelling (letter case), as the
// API compares UUIDs.
func sameID(got, want string) bool {
	if got == want {
		return true
	}
	g, err1 := uuid.Parse(got)
	w, err2 := uuid.Parse(want)
	return err1 == nil && err2 == nil && g == w
}

// DecodeInvocation decodes an invocation body with the SDK's decoder, as
// Get does: steps discriminated on "ok", typed status, timestamps that keep
// their text, the rules of the README's "Decoding" section and the default
// limits (DefaultMaxSteps).
//
// The invocation keeps body as its Raw, and its raw JSON values (results,
// metadata, details, args) are slices of it: body must not be modified
// afterwards. A body that is not an invocation is an error matching
// ErrInvalidResponse.
//
// It knows no API key, so it scrubs nothing: its error quotes the body as
// the server sent it, a key the server echoed included (it is only capped).
//
// Deprecated: Use [Client.DecodeInvocation], which applies the client's
// limits and scrubs the client's key from its error, as Get does.
func DecodeInvocation(body []byte) (*Invocation, error) {
	inv, err := decodeInvocation(body, defaultDecoders)
	if err != nil {
		// Through the boundary's copy, which caps it; there is no key
		// to scrub here (Client.DecodeInvocation scrubs the client's).
		return nil, noKey.err(&ResponseError{Body: body, Err: err})
	}
	return inv, nil
}

// DecodeInvocation decodes an invocation body with the SDK's decoder, as
// Get does, with the client's limits (WithMaxSteps) and its error scrubbed
// of the client's API key, as Get's is: steps discriminated on "ok", typed
// status, timestamps that keep their text, the rules of the README's
// "Decoding" section. Use it for a body the generated client (c.Raw())
// read, for example from an operation a spec bump adds that returns an
// invocation; check the response first with c.CheckResponse.
//
// The invocation keeps body as its Raw, and its raw JSON values (results,
// metadata, details, args) are slices of it: body must not be modified
// afterwards. A body that is not an invocation is an error matching
// ErrInvalidResponse.
func (c *Client) DecodeInvocation(body []byte) (*Invocation, error) {
	inv, err := decodeInvocation(body, c.decoders)
	if err != nil {
		return nil, c.boundary(&ResponseError{Body: body, Err: err})
	}
	return inv, nil
}
