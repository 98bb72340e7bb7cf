package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/gen"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// The fuzz targets run their seeds in every `go test`; `make fuzz` runs
// each of them with -fuzz for FUZZTIME. Seeds are every fixture in
// testdata/invocations plus synthetic bodies.

// addInvocationSeeds adds every fixture and a few synthetic bodies.
func addInvocationSeeds(f *testing.F) {
	for _, name := range spectest.FixtureNames(f) {
		f.Add(spectest.Fixture(f, name))
	}
	f.Add(spectest.Steps(3, 2))
	f.Add([]byte(`{"id":"x","status":"running","createdAt":"2026-01-01T00:00:00Z","result":{"steps":[{"ok":true},{"ok":false,"error":{}},{"ok":1},null]}}`))
	f.Add([]byte(`{"id":"x","status":"running","createdAt":"2026-01-01T00:00:00+02:00","result":null,"metadata":{"a":null,"b":[1,{"c":"\u00e9"}]}}`))
	f.Add([]byte(`{"id":"x","ID":"y","status":"running","createdAt":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"id":"x","status":"running","createdAt":"2026-01-01T00:00:00Z","result":{"steps":[{"ok":true,"result":"caf\xe9"}]}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	// Random spec-valid bodies, small ones (a seed is mutated byte by
	// byte), from the spec-driven generator TestRandomBodiesDecode uses.
	gen := spectest.NewRandom(f, spectest.RandomOptions{MaxItems: 3, LargeEvery: 1 << 30})
	rng := rand.New(rand.NewPCG(7, 7))
	for range 16 {
		f.Add(gen.Body(rng))
	}
}

// FuzzDecodeInvocation feeds arbitrary bytes to decodeInvocation. It must
// never panic; it returns an invocation or an error, never both; what it
// accepts keeps the body as Raw and has steps that are each exactly one of
// success, failure or invalid. Its id, status and step count must also
// agree with a decode of the same bytes into a map by encoding/json, an
// oracle that shares no struct or code with the SDK. Both match names
// exactly (a map lookup is exact, and json v2 is case-sensitive), and json
// v2 refuses repeated names, so no input needs to be skipped.
func FuzzDecodeInvocation(f *testing.F) {
	addInvocationSeeds(f)

	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := decodeInvocation(data, testDecoder)
		if err != nil {
			if inv != nil {
				t.Fatalf("decodeInvocation returned an invocation and an error: %v", err)
			}
			return
		}
		if inv == nil {
			t.Fatal("decodeInvocation returned neither an invocation nor an error")
		}
		if !bytes.Equal(inv.Raw(), data) {
			t.Error("Raw() is not the decoded body")
		}
		for i := range inv.Steps() {
			checkOneKind(t, &inv.Steps()[i])
		}

		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("decodeInvocation accepted what encoding/json rejects: %v", err)
		}
		if id, _ := m["id"].(string); id != inv.ID {
			t.Errorf("ID = %q, map decode has %q", inv.ID, id)
		}
		if st, _ := m["status"].(string); st != string(inv.Status) {
			t.Errorf("Status = %q, map decode has %q", inv.Status, st)
		}
		res, ok := m["result"].(map[string]any)
		if !ok {
			if inv.Result != nil {
				t.Errorf("Result = %+v, map decode has %v", inv.Result, m["result"])
			}
			return
		}
		if inv.Result == nil {
			t.Fatalf("Result is nil, map decode has %v", res)
		}
		steps, _ := res["steps"].([]any)
		if len(steps) != len(inv.Result.Steps) {
			t.Errorf("got %d steps, map decode has %d", len(inv.Result.Steps), len(steps))
		}
	})
}

// FuzzStepDiscrimination fuzzes one step inside an otherwise valid
// invocation body. When the body decodes, the step is exactly one of
// Success, Failure or invalid (Err() != nil): a Success when its "ok" is
// literally true, a Failure when literally false, and invalid for any
// other "ok", a missing one, or a null step. When the body does not
// decode, the step must be one the SDK refuses: not an object (nor null),
// a field of the wrong type, a repeated name, or "ok": false without an
// "error" object.
func FuzzStepDiscrimination(f *testing.F) {
	for _, s := range []string{
		`{"index":0,"ok":true,"call":"page.goto","resolved":{"call":"page.goto","method":"goto","target":"page","runtimeId":"r","pageId":null,"contextId":null,"handleId":null,"ref":null},"result":{"url":"https://example.com"}}`,
		`{"index":1,"ok":false,"call":"page.click","error":{"code":"TIMEOUT","message":"timed out","hint":"wait longer","diagnostic":{"id":"d","category":"runtime","closest":["a"],"fixes":[{"title":"t"}]}}}`,
		`{"index":2,"ok":false,"call":"page.click"}`,
		`{"index":2,"ok":false,"call":"page.click","error":null}`,
		`{"index":3,"call":"page.click"}`,
		`{"index":4,"ok":null}`,
		`{"index":5,"ok":"true"}`,
		`{"index":6,"ok":1,"error":{}}`,
		`{"index":"7","ok":true}`,
		`{"ok":true,"ok":false,"error":{}}`,
		`{"ok":false,"OK":true,"error":{}}`,
		`{"ok":true,"result":null,"binding":{"alias":"a","id":"i","type":"page"}}`,
		`[]`,
		`null`,
		`7`,
		`{`,
	} {
		f.Add([]byte(s))
	}
	prefix, suffix := stepTemplate(f)

	f.Fuzz(func(t *testing.T, step []byte) {
		body := make([]byte, 0, len(prefix)+len(step)+len(suffix))
		body = append(append(append(body, prefix...), step...), suffix...)
		inv, err := decodeInvocation(body, testDecoder)
		if err == nil {
			for i := range inv.Steps() {
				checkOneKind(t, &inv.Steps()[i])
			}
		}
		// The strict properties need the input to be one JSON value, so
		// that it is exactly the one step.
		if !json.Valid(step) {
			return
		}
		keys, isObject := objectKeys(step)
		okRaw, hasOK := keys["ok"]
		literal := strings.TrimSpace(string(okRaw))
		isNull := strings.TrimSpace(string(step)) == "null"
		if err != nil {
			var semErr *jsonv2.SemanticError
			switch {
			case !isObject && !isNull:
				// A step that is not an object.
			case errors.As(err, &semErr):
				// A field of the wrong JSON type.
			case errors.Is(err, jsontext.ErrDuplicateName):
				// A repeated name: the body is ambiguous.
			case isObject && hasOK && literal == "false":
				// A failure without a usable "error".
			default:
				t.Fatalf("step %s: unexpected decode error: %v", step, err)
			}
			return
		}
		if n := len(inv.Steps()); n != 1 {
			t.Fatalf("step %s: decoded %d steps, want 1", step, n)
		}
		st := &inv.Steps()[0]
		_, isSuccess := st.Success()
		_, isFailure := st.Failure()
		switch {
		case isObject && hasOK && literal == "true":
			if !isSuccess {
				t.Errorf("step %s: ok is true but Success() is false (Err %v)", step, st.Err())
			}
		case isObject && hasOK && literal == "false":
			if !isFailure {
				t.Errorf("step %s: ok is false but Failure() is false (Err %v)", step, st.Err())
			}
		default:
			if st.Err() == nil {
				t.Errorf("step %s: ok is %q but Err() is nil (success %v, failure %v)", step, okRaw, isSuccess, isFailure)
			}
		}
	})
}

// FuzzDecodersAgree decodes the same bytes into an Invocation three ways:
// with decodeInvocation (json v2, the SDK's path: Get, Wait, Watch and
// DecodeInvocation), with encoding/json's json.Unmarshal (which a user may
// call: Step implements UnmarshalJSON), and as the generated client's
// ParseGetInvocationResponse does (encoding/json into gen.Invocation: what
// Raw() returns as JSON200). Whenever two accept, their results must be
// equal: every field of the generated invocation and result (timestamps
// compared with Equal), and every step's kind, index, call and variant.
// All three match names alike (exactly, else in any letter case), so no
// input is skipped for its names. Where they differ by design, one
// refuses: json v2 refuses a name given twice (in any case), which
// encoding/json resolves to the last, and encoding/json refuses integers
// written 1.0 or 1e0.
func FuzzDecodersAgree(f *testing.F) {
	addInvocationSeeds(f)
	f.Add([]byte(`{"id":"x","Status":"running","createdAt":"2026-01-01T00:00:00Z","sequenceNo":1}`))
	f.Add([]byte(`{"id":"x","status":"running","STATUS":"succeeded","createdAt":"2026-01-01T00:00:00Z"}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		v2, err2 := decodeInvocation(data, testDecoder)
		var v1 Invocation
		err1 := json.Unmarshal(data, &v1)
		if err1 == nil && err2 == nil {
			if d := diffInvocations(&v1, v2); d != "" {
				t.Errorf("encoding/json and json v2 disagree (-v1 +v2):\n%s", d)
			}
		}
		var raw gen.Invocation
		if json.Unmarshal(data, &raw) == nil && err2 == nil {
			got := v2.Invocation
			got.Status, got.Result = raw.Status, raw.Result // the SDK's own types; compared below
			if string(v2.Status) != string(raw.Status) {
				t.Errorf("status: Raw() reads %q, Get %q", raw.Status, v2.Status)
			}
			if !reflect.DeepEqual(raw, got) {
				if d := cmp.Diff(raw, got); d != "" {
					t.Errorf("the generated client and Get disagree (-raw +get):\n%s", d)
				}
			}
		}
	})
}

// diffInvocations compares two decoded invocations; it returns "" when
// they are equal. reflect.DeepEqual answers first, since cmp is slow (a
// fuzzer runs this millions of times); cmp then explains a difference, or
// finds none where DeepEqual is too strict (equal times in two *Location
// values).
func diffInvocations(a, b *Invocation) string {
	va, vb := viewOf(a), viewOf(b)
	if reflect.DeepEqual(va, vb) {
		return ""
	}
	return cmp.Diff(va, vb)
}

// invocationView is what FuzzDecodersAgree compares of an invocation:
// every field of the generated invocation and result (Status and Steps
// are the SDK's), and what Step's accessors tell of each step.
type invocationView struct {
	Invocation gen.Invocation
	Status     Status
	Result     *gen.Result
	Steps      []stepView
}

type stepView struct {
	OK, Failed, Invalid bool
	Index               int
	Call                string
	Success             *StepSuccess
	Failure             *StepFailure
}

func viewOf(inv *Invocation) invocationView {
	v := invocationView{Invocation: inv.Invocation, Status: inv.Status}
	if inv.Result != nil {
		v.Result = &inv.Result.Result
	}
	for i := range inv.Steps() {
		st := &inv.Steps()[i]
		succ, _ := st.Success()
		fail, isFailure := st.Failure()
		v.Steps = append(v.Steps, stepView{OK: st.OK(), Failed: isFailure, Invalid: st.Err() != nil,
			Index: st.Index(), Call: st.Call(), Success: succ, Failure: fail})
	}
	return v
}

// checkOneKind fails the test unless exactly one of st.Success(),
// st.Failure() and st.Err() != nil holds. It also calls every accessor, so a
// panic in one is found.
func checkOneKind(t *testing.T, st *Step) {
	t.Helper()
	s, isSuccess := st.Success()
	fl, isFailure := st.Failure()
	stErr := st.Err()
	n := 0
	for _, b := range []bool{isSuccess, isFailure, stErr != nil} {
		if b {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("step %d: success %v, failure %v, err %v: want exactly one", st.Index(), isSuccess, isFailure, stErr)
	}
	if isSuccess != st.OK() || (isSuccess && s == nil) || (isFailure && fl == nil) {
		t.Fatalf("step %d: inconsistent accessors", st.Index())
	}
	if stErr != nil {
		if !errors.Is(stErr, ErrInvalidStep) {
			t.Errorf("Err() = %v, want ErrInvalidStep", stErr)
		}
		_ = stErr.Error()
	}
	if isFailure {
		_ = StepErrorText(&fl.Error)
		_ = fl.Error.Code.Valid()
	}
	_ = st.Call()
}

// objectKeys returns the raw values of data's top-level keys, or false when
// data is not a JSON object. A repeated key keeps its last value.
func objectKeys(data []byte) (map[string]json.RawMessage, bool) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil || keys == nil {
		return nil, false
	}
	return keys, true
}

// stepTemplate returns a valid invocation body with one step, split around
// that step.
func stepTemplate(f *testing.F) (prefix, suffix []byte) {
	var m map[string]any
	if err := json.Unmarshal(spectest.Steps(1, 0), &m); err != nil {
		f.Fatal(err)
	}
	res, ok := m["result"].(map[string]any)
	if !ok {
		f.Fatal("spectest.Steps(1, 0) has no result")
	}
	res["steps"] = []string{"STEP"}
	body, err := json.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	prefix, suffix, ok = bytes.Cut(body, []byte(`"STEP"`))
	if !ok {
		f.Fatal("no step placeholder in the template")
	}
	return prefix, suffix
}

// testDecoder decodes as a client with the default options does.
var testDecoder = newDecoderPool(DefaultMaxSteps)
