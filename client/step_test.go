package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

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
			c, _ := setup(t, serveFixture(t, name))
			inv, err := c.Invocations.Get(t.Context(), "x")
			if err != nil {
				t.Fatal(err)
			}
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
					wantResult, _ := json.Marshal(w["result"])
					var got any
					if err := s.DecodeResult(&got); err != nil {
						t.Errorf("step %d: DecodeResult: %v", i, err)
					}
					gotJSON, _ := json.Marshal(got)
					if string(gotJSON) != string(wantResult) {
						t.Errorf("step %d: result %s, want %s", i, gotJSON, wantResult)
					}
					res := w["resolved"].(map[string]any)
					if s.Resolved.Method != res["method"] || s.Resolved.Target != res["target"] {
						t.Errorf("step %d: Resolved = %+v, want %v", i, s.Resolved, res)
					}
					if (w["binding"] != nil) != (s.Binding != nil) {
						t.Errorf("step %d: Binding = %+v, want %v", i, s.Binding, w["binding"])
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
					if d == nil || d.ID != str(wd["id"]) || d.Category != str(wd["category"]) || d.DocsURL != str(wd["docsUrl"]) || d.Call != str(wd["call"]) {
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
	)
	c, _ := setup(t, serveJSON(200, body))
	inv, err := c.Invocations.Get(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	steps := inv.Steps()
	if len(steps) != 5 {
		t.Fatalf("%d steps, want 5", len(steps))
	}
	if _, ok := steps[0].Success(); !ok || steps[0].Err() != nil {
		t.Errorf("step 0 should be a success")
	}
	for i := 1; i <= 3; i++ {
		st := &steps[i]
		_, okS := st.Success()
		_, okF := st.Failure()
		err := st.Err()
		if okS || okF || st.OK() || !errors.Is(err, client.ErrInvalidStep) {
			t.Errorf("step %d: success %v, failure %v, Err %v: want neither and ErrInvalidStep", i, okS, okF, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("step %d", i)) || !strings.Contains(err.Error(), st.Call()) {
			t.Errorf("step %d: Err() = %q does not name the step", i, err)
		}
	}
	f, ok := steps[4].Failure()
	if !ok || f.Error.Code != "BRAND_NEW_CODE" || f.Error.Code.Known() {
		t.Errorf("unknown error code not kept: %+v", f)
	}
	if got := len(inv.FailedSteps()); got != 1 {
		t.Errorf("FailedSteps() has %d steps, want 1", got)
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

func TestDecodeResultErrors(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, serveJSON(200, bodyWithSteps(t,
		`{"index":0,"call":"page.title","ok":true,`+resolved+`,"result":"Home"}`)))
	inv, err := c.Invocations.Get(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := inv.Steps()[0].Success()
	var n int
	if err := s.DecodeResult(&n); err == nil || !strings.Contains(err.Error(), "page.title") {
		t.Errorf("DecodeResult into the wrong type: err = %v, want one naming the step", err)
	}
	var title string
	if err := s.DecodeResult(&title); err != nil || title != "Home" {
		t.Errorf("DecodeResult = %q, %v", title, err)
	}
	if string(s.Result()) != `"Home"` {
		t.Errorf("Result() = %s", s.Result())
	}
}

func TestStepErrorCodeUnknownIsKept(t *testing.T) {
	t.Parallel()
	// Every spec code decoding unchanged is TestStepErrorCodesRoundTrip;
	// a code newer than the SDK is kept but not Known.
	if client.StepErrorCode("NEW").Known() || !client.StepErrorTimeout.Known() {
		t.Error("Known() misclassifies codes")
	}
}
