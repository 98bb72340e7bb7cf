package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// FuzzDecodeInvocation feeds arbitrary bytes to decodeInvocation. It must
// never panic, and whatever it accepts must agree with a plain
// encoding/json decode of the same bytes on the id, the status and the
// number of steps. Inputs whose keys are ambiguous (a key that differs from
// "id", "status", "result" or "steps" only in case, or one of them
// repeated) are only checked for panics: encoding/json matches struct fields
// case-insensitively and merges repeated objects, which a map decode does
// not do. The seeds are every fixture plus a synthetic body, so `go test`
// checks the property on them without -fuzz.
func FuzzDecodeInvocation(f *testing.F) {
	for _, name := range spectest.FixtureNames(f) {
		f.Add(spectest.Fixture(f, name))
	}
	f.Add(spectest.Steps(3, 2))
	f.Add([]byte(`{"id":"x","status":"running","createdAt":"2026-01-01T00:00:00Z","result":{"steps":[{"ok":true},{"ok":false,"error":{}},{"ok":1}]}}`))
	f.Add([]byte(`{"id":"x","status":"running","createdAt":"2026-01-01T00:00:00Z","result":null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))

	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := decodeInvocation(data)
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
		// Every step is exactly one of success, failure, invalid.
		for i := range inv.Steps() {
			checkOneKind(t, &inv.Steps()[i])
		}

		top, ok := objectKeys(data)
		if !ok || ambiguous(top, "id", "status", "result") {
			return
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
		if rk, ok := objectKeys(top["result"]); !ok || ambiguous(rk, "steps") {
			return
		}
		steps, _ := res["steps"].([]any)
		if len(steps) != len(inv.Result.Steps) {
			t.Errorf("got %d steps, map decode has %d", len(inv.Result.Steps), len(steps))
		}
	})
}

// FuzzStepDiscrimination fuzzes one step object inside an otherwise valid
// invocation body. The step is exactly one of Success, Failure or invalid
// (Err() != nil); when its "ok" is literally true it is a Success, when
// literally false a Failure (or the body fails to decode: a failure needs
// its "error"), and anything else makes it invalid. A step whose keys
// include a case variant of "ok" (such as "OK") is only checked for the
// first property: see the note on ambiguous.
func FuzzStepDiscrimination(f *testing.F) {
	for _, s := range []string{
		`{"index":0,"ok":true,"call":"page.goto","resolved":{"call":"page.goto","method":"goto","target":"page","runtimeId":"r","pageId":null,"contextId":null,"handleId":null,"ref":null},"result":{"url":"https://example.com"}}`,
		`{"index":1,"ok":false,"call":"page.click","error":{"code":"TIMEOUT","message":"timed out","hint":"wait longer","diagnostic":{"id":"d","category":"runtime","closest":["a"],"fixes":[{"title":"t"}]}}}`,
		`{"index":2,"ok":false,"call":"page.click"}`,
		`{"index":3,"call":"page.click"}`,
		`{"index":4,"ok":null}`,
		`{"index":5,"ok":"true"}`,
		`{"index":6,"ok":1,"error":{}}`,
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
		inv, err := decodeInvocation(body)
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
		if isObject && ambiguous(keys, "ok") {
			return
		}
		literal := strings.TrimSpace(string(okRaw))
		if err != nil {
			var typeErr *json.UnmarshalTypeError
			switch {
			case errors.As(err, &typeErr):
				// A field of the wrong JSON type: the body is invalid.
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
		_ = fl.Error.Error()
	}
	_ = st.Call()
}

// objectKeys returns the raw values of data's top-level keys, in order of
// appearance and with repeats kept under a numbered key ("id#2"), or false
// when data is not a JSON object.
func objectKeys(data []byte) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	keys := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		name := k
		for n := 2; ; n++ {
			if _, dup := keys[name]; !dup {
				break
			}
			name = k + "#" + strconv.Itoa(n)
		}
		keys[name] = v
	}
	return keys, true
}

// ambiguous reports whether keys hold one of names twice, or a key equal
// to one of names up to case but not exactly. encoding/json decodes such a
// key into the field (the last one wins, and objects merge), unlike a
// case-sensitive map lookup.
func ambiguous(keys map[string]json.RawMessage, names ...string) bool {
	for k := range keys {
		base, _, repeated := strings.Cut(k, "#")
		for _, name := range names {
			if strings.EqualFold(base, name) && (base != name || repeated) {
				return true
			}
		}
	}
	return false
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
