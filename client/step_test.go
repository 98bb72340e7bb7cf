package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// fixtureSteps returns the fixture's steps as generic maps, for comparison.
func fixtureSteps(t *testing.T, name string) []map[string]any {
	t.Helper()
	var m struct {
		Result struct {
			Steps []map[string]any `json:"steps"`
		} `json:"result"`
	}
	if err := json.Unmarshal(spectest.Fixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m.Result.Steps
}

func TestStepDiscrimination(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"succeeded", "failed", "timed_out"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			inv := getFixture(t, name)
			want := fixtureSteps(t, name)
			steps := inv.Steps()
			if len(steps) != len(want) {
				t.Fatalf("%d steps, want %d", len(steps), len(want))
			}
			for i := range steps {
				st, w := &steps[i], want[i]
				if st.Err() != nil {
					t.Errorf("step %d: Err() = %v", i, st.Err())
				}
				if float64(st.Index()) != w["index"] || st.Call() != w["call"] {
					t.Errorf("step %d: index, call = %d, %q; want %v, %v", i, st.Index(), st.Call(), w["index"], w["call"])
				}
				s, okS := st.Success()
				f, okF := st.Failure()
				if okS == okF || st.OK() != okS || (s == nil) == okS || (f == nil) == okF {
					t.Fatalf("step %d: Success ok=%v, Failure ok=%v, OK()=%v: want exactly one", i, okS, okF, st.OK())
				}
				if w["ok"] == true {
					if !okS {
						t.Fatalf("step %d is ok:true but not a Success", i)
					}
					if w["result"] == nil {
						// The call returned nothing: decoding it is an
						// error, and the target is left as it was.
						got := any("untouched")
						if err := s.DecodeResult(&got); !errors.Is(err, client.ErrNullResult) || got != "untouched" {
							t.Errorf("step %d: null result: DecodeResult = %v, target %v; want ErrNullResult, target untouched", i, err, got)
						}
						if _, err := client.ResultAs[any](s); !errors.Is(err, client.ErrNullResult) {
							t.Errorf("step %d: null result: ResultAs err = %v, want ErrNullResult", i, err)
						}
					} else {
						wantResult, _ := json.Marshal(w["result"])
						var got any
						if err := s.DecodeResult(&got); err != nil {
							t.Errorf("step %d: DecodeResult: %v", i, err)
						}
						gotJSON, _ := json.Marshal(got)
						if string(gotJSON) != string(wantResult) {
							t.Errorf("step %d: result %s, want %s", i, gotJSON, wantResult)
						}
						as, err := client.ResultAs[any](s)
						asJSON, _ := json.Marshal(as)
						if err != nil || string(asJSON) != string(wantResult) {
							t.Errorf("step %d: ResultAs = %s, %v; want %s", i, asJSON, err, wantResult)
						}
					}
					res := w["resolved"].(map[string]any)
					wantResolved := client.ResolvedTarget{
						Call: str(res["call"]), Method: str(res["method"]), Target: str(res["target"]), RuntimeID: str(res["runtimeId"]),
						PageID: str(res["pageId"]), ContextID: str(res["contextId"]), HandleID: str(res["handleId"]), Ref: str(res["ref"]),
					}
					if diff := cmp.Diff(wantResolved, s.Resolved); diff != "" {
						t.Errorf("step %d: Resolved (-fixture +got):\n%s", i, diff)
					}
					if wb, _ := w["binding"].(map[string]any); wb == nil {
						if s.Binding != nil {
							t.Errorf("step %d: Binding = %+v, want nil", i, s.Binding)
						}
					} else if s.Binding == nil || s.Binding.Alias != str(wb["alias"]) || s.Binding.ID != str(wb["id"]) || string(s.Binding.Type) != str(wb["type"]) {
						t.Errorf("step %d: Binding = %+v, want %v", i, s.Binding, wb)
					}
					continue
				}
				if !okF {
					t.Fatalf("step %d is ok:false but not a Failure", i)
				}
				we := w["error"].(map[string]any)
				if string(f.Error.Code) != str(we["code"]) || f.Error.Message != str(we["message"]) || f.Error.Hint != str(we["hint"]) {
					t.Errorf("step %d: error = %+v, want %v", i, f.Error, we)
				}
				if wd, ok := we["diagnostic"].(map[string]any); ok {
					d := f.Error.Diagnostic
					if d == nil || d.ID != str(wd["id"]) || string(d.Category) != str(wd["category"]) || d.DocsURL != str(wd["docsUrl"]) || d.Call != str(wd["call"]) {
						t.Fatalf("step %d: diagnostic = %+v, want %v", i, d, wd)
					}
					if fixes, _ := wd["fixes"].([]any); len(d.Fixes) != len(fixes) {
						t.Errorf("step %d: %d fixes, want %d", i, len(d.Fixes), len(fixes))
					}
					if closest, _ := wd["closest"].([]any); len(d.Closest) != len(closest) {
						t.Errorf("step %d: %d closest, want %d", i, len(d.Closest), len(closest))
					}
				}
			}
		})
	}
}

// str returns a JSON string value, or "" for null or absent.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// bodyWithSteps builds a running invocation body with the given raw steps.
func bodyWithSteps(t *testing.T, steps ...string) []byte {
	t.Helper()
	raw := make([]json.RawMessage, len(steps))
	for i, s := range steps {
		raw[i] = json.RawMessage(s)
	}
	return fixtureWith(t, "running", func(m map[string]any) {
		m["result"] = map[string]any{"mode": "fail-fast", "ok": false, "runtimeId": m["runtimeId"], "steps": raw}
	})
}

const resolved = `"resolved":{"call":"page.goto","contextId":null,"handleId":null,"method":"goto","pageId":"p1","ref":null,"runtimeId":"r1","target":"page"}`

func TestStepsThatAreNeither(t *testing.T) {
	t.Parallel()
	body := bodyWithSteps(t,
		`{"index":0,"call":"page.goto","ok":true,`+resolved+`,"result":{"title":"Home"}}`,
		`{"index":1,"call":"page.click",`+resolved+`,"result":null}`,
		`{"index":2,"call":"page.fill","ok":"true",`+resolved+`,"result":1}`,
		`{"index":3,"call":"page.type","ok":null,"result":1}`,
		`{"index":4,"call":"page.press","ok":false,"error":{"code":"BRAND_NEW_CODE","message":"new"}}`,
		// Names match as encoding/json matches them: "Ok" is "ok", and
		// "OK" beside "ok" is a duplicate (TestBadInput).
		`{"index":5,"call":"page.hover","Ok":"yes",`+resolved+`,"result":1}`,
		`{}`,
		`null`,
		`{"index":8,"call":"page.check","OK":false,"error":{"code":"TIMEOUT","message":"slow"}}`,
	)
	c, _ := setup(t, serveJSON(200, body))
	inv, err := c.Invocations.Get(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	steps := inv.Steps()
	if len(steps) != 9 {
		t.Fatalf("%d steps, want 9", len(steps))
	}
	if _, ok := steps[0].Success(); !ok || steps[0].Err() != nil {
		t.Errorf("step 0 should be a success")
	}
	neither := []struct {
		pos   int
		index int
		call  string
		why   string
	}{
		{1, 1, "page.click", `no "ok" field`},
		{2, 2, "page.fill", "not a boolean"},
		{3, 3, "page.type", "not a boolean"},
		{5, 5, "page.hover", "not a boolean"},
		{6, 0, "", `no "ok" field`},
		{7, 0, "", `no "ok" field`},
	}
	for _, n := range neither {
		st := &steps[n.pos]
		s, okS := st.Success()
		f, okF := st.Failure()
		err := st.Err()
		if okS || okF || s != nil || f != nil || st.OK() || !errors.Is(err, client.ErrInvalidStep) {
			t.Errorf("step %d: success %v, failure %v, Err %v: want neither and ErrInvalidStep", n.pos, okS, okF, err)
			continue
		}
		if st.Index() != n.index || st.Call() != n.call {
			t.Errorf("step %d: Index(), Call() = %d, %q; want %d, %q", n.pos, st.Index(), st.Call(), n.index, n.call)
		}
		want := fmt.Sprintf("step %d (index %d, call %q)", n.pos, n.index, n.call)
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), n.why) {
			t.Errorf("step %d: Err() = %q, want it to name the step (%s) and say %q", n.pos, err, want, n.why)
		}
		if _, err := json.Marshal(st); !errors.Is(err, client.ErrInvalidStep) {
			t.Errorf("step %d: json.Marshal err = %v, want ErrInvalidStep: a step that is neither cannot be encoded faithfully", n.pos, err)
		}
	}
	f, ok := steps[4].Failure()
	if !ok || f.Error.Code != "BRAND_NEW_CODE" || f.Error.Code.Valid() {
		t.Errorf("unknown error code not kept: %+v", f)
	}
	f, ok = steps[8].Failure()
	if !ok || f.Error.Code != client.StepErrorTimeout {
		t.Errorf("step 8 = %+v, %v; want a failure: \"OK\" is \"ok\" in another case", f, ok)
	}
	var failed []int
	for _, f := range inv.FailedSteps() {
		failed = append(failed, f.Index)
	}
	if diff := cmp.Diff([]int{4, 8}, failed); diff != "" {
		t.Errorf("FailedSteps() indexes (-want +got):\n%s", diff)
	}
}

func TestFailedStepWithoutErrorIsInvalidResponse(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, serveJSON(200, bodyWithSteps(t, `{"index":7,"call":"page.click","ok":false}`)))
	_, err := c.Invocations.Get(t.Context(), "x")
	if !errors.Is(err, client.ErrInvalidResponse) || !strings.Contains(err.Error(), "index 7") {
		t.Fatalf("err = %v, want ErrInvalidResponse naming index 7", err)
	}
}

// titleStep is a successful step whose result is the string "Home".
const titleStep = `{"index":0,"call":"page.title","ok":true,` + resolved + `,"result":"Home"}`

// getSteps serves an invocation with the given raw steps and returns them.
func getSteps(t *testing.T, steps ...string) []client.Step {
	t.Helper()
	c, _ := setup(t, serveJSON(200, bodyWithSteps(t, steps...)))
	inv, err := c.Invocations.Get(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Steps()) != len(steps) {
		t.Fatalf("%d steps, want %d", len(inv.Steps()), len(steps))
	}
	return inv.Steps()
}

func TestDecodeResultErrors(t *testing.T) {
	t.Parallel()
	s, ok := getSteps(t, titleStep)[0].Success()
	if !ok {
		t.Fatal("step 0 is not a success")
	}
	n := 42
	if err := s.DecodeResult(&n); err == nil || !strings.Contains(err.Error(), "page.title") || errors.Is(err, client.ErrNullResult) {
		t.Errorf("DecodeResult into the wrong type: err = %v, want one naming the step", err)
	}
	var title string
	if err := s.DecodeResult(&title); err != nil || title != "Home" {
		t.Errorf("DecodeResult = %q, %v", title, err)
	}
	if string(s.Result) != `"Home"` {
		t.Errorf("Result = %s", s.Result)
	}
}

// TestDecodeResultNull checks that a step whose call returned nothing
// (result null or absent) is an error matching ErrNullResult, not a silent
// zero value, and that the target is left untouched.
func TestDecodeResultNull(t *testing.T) {
	t.Parallel()
	steps := getSteps(t,
		`{"index":0,"call":"page.click","ok":true,`+resolved+`,"result":null}`,
		`{"index":1,"call":"page.hover","ok":true,`+resolved+`}`,
		`{"index":2,"call":"page.blur","ok":true,`+resolved+`,"result": null }`,
	)
	for i := range steps {
		s, ok := steps[i].Success()
		if !ok {
			t.Fatalf("step %d is not a success: %v", i, steps[i].Err())
		}
		title := "untouched"
		err := s.DecodeResult(&title)
		if !errors.Is(err, client.ErrNullResult) || title != "untouched" {
			t.Errorf("step %d: DecodeResult = %v, target %q; want ErrNullResult and the target untouched", i, err, title)
		}
		if err != nil && !strings.Contains(err.Error(), s.Call) {
			t.Errorf("step %d: err = %q, want it to name the call %s", i, err, s.Call)
		}
		got, err := client.ResultAs[string](s)
		if !errors.Is(err, client.ErrNullResult) || got != "" {
			t.Errorf("step %d: ResultAs = %q, %v; want \"\", ErrNullResult", i, got, err)
		}
	}
	// A result that is JSON false, 0 or "" is a value, not nothing.
	for _, r := range []string{`false`, `0`, `""`, `[]`, `{}`} {
		s, _ := getSteps(t, `{"index":0,"call":"page.eval","ok":true,`+resolved+`,"result":`+r+`}`)[0].Success()
		if _, err := client.ResultAs[any](s); err != nil {
			t.Errorf("result %s: ResultAs err = %v, want none", r, err)
		}
	}
}

func TestResultAs(t *testing.T) {
	t.Parallel()
	steps := getSteps(t,
		titleStep,
		`{"index":1,"call":"page.goto","ok":true,`+resolved+`,"result":{"url":"https://app.example.com/","status":200}}`,
		`{"index":2,"call":"page.count","ok":true,`+resolved+`,"result":3}`,
	)
	s0, _ := steps[0].Success()
	s1, _ := steps[1].Success()
	s2, _ := steps[2].Success()

	if title, err := client.ResultAs[string](s0); err != nil || title != "Home" {
		t.Errorf("ResultAs[string] = %q, %v; want \"Home\"", title, err)
	}
	type page struct {
		URL    string `json:"url"`
		Status int    `json:"status"`
	}
	if p, err := client.ResultAs[page](s1); err != nil || p != (page{"https://app.example.com/", 200}) {
		t.Errorf("ResultAs[page] = %+v, %v", p, err)
	}
	if p, err := client.ResultAs[*page](s1); err != nil || p == nil || p.Status != 200 {
		t.Errorf("ResultAs[*page] = %+v, %v", p, err)
	}
	if n, err := client.ResultAs[int](s2); err != nil || n != 3 {
		t.Errorf("ResultAs[int] = %d, %v; want 3", n, err)
	}
	n, err := client.ResultAs[int](s0)
	if err == nil || n != 0 || !strings.Contains(err.Error(), "step 0 (page.title)") || errors.Is(err, client.ErrNullResult) {
		t.Errorf("ResultAs[int] of a string = %d, %v; want an error naming the step", n, err)
	}
}

func TestStepErrorCodeUnknownIsKept(t *testing.T) {
	t.Parallel()
	// Every spec code decoding unchanged is TestStepErrorCodesRoundTrip;
	// a code newer than the SDK is kept but not Valid.
	if client.StepErrorCode("NEW").Valid() || !client.StepErrorTimeout.Valid() {
		t.Error("Valid() misclassifies codes")
	}
}

func TestStepErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    client.StepError
		want string
	}{
		{client.StepError{Code: client.StepErrorUnknownCall, Message: `unknown call "page.clik"`, Hint: `did you mean "page.click"?`},
			`UNKNOWN_CALL: unknown call "page.clik" (hint: did you mean "page.click"?)`},
		{client.StepError{Code: client.StepErrorTimeout, Message: "no answer in 30s"}, "TIMEOUT: no answer in 30s"},
		{client.StepError{Code: "BRAND_NEW", Message: "new"}, "BRAND_NEW: new"},
	}
	for _, tt := range tests {
		if got := client.StepErrorText(&tt.e); got != tt.want {
			t.Errorf("StepErrorText(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestStepJSONRoundTrip encodes the steps Get decoded and decodes them
// again with encoding/json, as a user who stores or forwards them would:
// each comes back as the same variant with the same fields.
func TestStepJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"succeeded", "failed", "timed_out"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			inv := getFixture(t, name)
			if len(inv.Steps()) == 0 {
				t.Fatal("the fixture has no steps to round-trip")
			}
			b, err := json.Marshal(inv.Steps())
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			var back []client.Step
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("json.Unmarshal of %s: %v", b, err)
			}
			if diff := cmp.Diff(inv.Steps(), back, stepComparer); diff != "" {
				t.Errorf("steps after a round trip (-got +back):\n%s", diff)
			}
		})
	}
}

// stepComparer compares steps by what their accessors expose, and raw JSON
// results by value.
var stepComparer = cmp.Options{
	cmp.Transformer("step", func(st client.Step) any {
		var v struct {
			Success *client.StepSuccess
			Failure *client.StepFailure
			Err     string
		}
		v.Success, _ = st.Success()
		v.Failure, _ = st.Failure()
		if err := st.Err(); err != nil {
			v.Err = err.Error()
		}
		return v
	}),
	cmp.Transformer("rawJSON", func(r json.RawMessage) any {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return "invalid JSON: " + string(r)
		}
		return v
	}),
}
