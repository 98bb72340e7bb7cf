package client_test

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// TestBadInput drives Get through hostile and broken responses and odd ids.
// Each case either fails with a clear error (typed where a type applies)
// or, for values a newer API may send, succeeds with the value kept. No
// case may panic or hang.
func TestBadInput(t *testing.T) {
	t.Parallel()
	running := spectest.Fixture(t, "running")
	withStep := func(step string) []byte { return bodyWithSteps(t, step) }

	type check func(t *testing.T, inv *client.Invocation, err error)
	wantErr := func(target error, mention string) check {
		return func(t *testing.T, inv *client.Invocation, err error) {
			t.Helper()
			if err == nil || inv != nil {
				t.Fatalf("Get = %v, %v; want an error", inv, err)
			}
			if target != nil && !errors.Is(err, target) {
				t.Errorf("err = %v; want errors.Is %v", err, target)
			}
			if !strings.Contains(err.Error(), mention) {
				t.Errorf("err = %q; want it to mention %q", err, mention)
			}
		}
	}
	wantAPIError := func(status int) check {
		return func(t *testing.T, inv *client.Invocation, err error) {
			t.Helper()
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
				t.Fatalf("err = %v; want *APIError with status %d", err, status)
			}
		}
	}
	wantOK := func(f func(t *testing.T, inv *client.Invocation)) check {
		return func(t *testing.T, inv *client.Invocation, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("Get: %v; want success with the value kept", err)
			}
			f(t, inv)
		}
	}
	raw := func(status int, contentType string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			w.WriteHeader(status)
			w.Write(forID(r, body))
		}
	}

	tests := []struct {
		name    string
		id      string
		handler http.HandlerFunc
		opts    []client.Option
		check   check
	}{
		{name: "malformed JSON", handler: raw(200, "application/json", []byte(`{"id": "x", status}`)),
			check: wantErr(client.ErrInvalidResponse, "invalid character")},
		{name: "truncated body", handler: raw(200, "application/json", running[:len(running)/2]),
			check: wantErr(client.ErrInvalidResponse, "unexpected EOF")},
		{name: "empty 200 body", handler: raw(200, "application/json", nil),
			check: wantErr(client.ErrInvalidResponse, "empty body")},
		{name: "HTML 502 page", handler: raw(502, "text/html", []byte("<html><h1>502 Bad Gateway</h1></html>")),
			opts: []client.Option{client.WithMaxRetries(0)}, check: wantAPIError(502)},
		{name: "200 with text/html", handler: raw(200, "text/html; charset=utf-8", []byte("<html>login</html>")),
			check: wantErr(client.ErrInvalidResponse, "text/html")},
		{name: "200 JSON labelled text/html", handler: raw(200, "text/html", running),
			check: wantErr(client.ErrInvalidResponse, "not JSON")},
		{name: "JSON array instead of object", handler: raw(200, "application/json", []byte(`[1,2]`)),
			check: wantErr(client.ErrInvalidResponse, "unmarshal JSON array into Go client.Invocation")},
		{name: "status of the wrong type", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["status"] = 7 })),
			check: wantErr(client.ErrInvalidResponse, `"/status"`)},
		{name: "null in a required string", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["id"] = nil })),
			check: wantErr(client.ErrInvalidResponse, `"id" is missing, null`)},
		{name: "id of \"\" in the body", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["id"] = "" })),
			check: wantErr(client.ErrInvalidResponse, `"id" is missing, null or empty`)},
		{name: "missing createdAt", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { delete(m, "createdAt") })),
			check: wantErr(client.ErrInvalidResponse, `"createdAt" is missing`)},
		{name: "null status", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["status"] = nil })),
			check: wantErr(client.ErrInvalidResponse, `"status" is missing, null`)},
		// The spec types timestamps as plain strings: any text decodes and
		// is kept.
		{name: "timestamp not RFC 3339", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["createdAt"] = "yesterday" })),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if inv.CreatedAt.Text() != "yesterday" || inv.CreatedAt.Valid() || inv.CreatedAt.IsZero() {
					t.Errorf("CreatedAt = %q (valid %v); want the text kept, not parsed", inv.CreatedAt.Text(), inv.CreatedAt.Valid())
				}
			})},
		{name: "timestamp not a string", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["createdAt"] = 1764230400 })),
			check: wantErr(client.ErrInvalidResponse, `"/createdAt"`)},
		// Names match as encoding/json (and so Raw) matches them: exactly,
		// else in any letter case. Two names for one field are ambiguous.
		{name: "name in another case", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) {
			m["Status"] = m["status"]
			delete(m, "status")
		})),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if inv.Status != client.StatusRunning {
					t.Errorf("Status = %q, want running from \"Status\"", inv.Status)
				}
			})},
		// Only letter case: "sequence_no" is not sequenceNo (JSON v2's own
		// folding would ignore the "_").
		{name: "a name with a delimiter is another name", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) {
			m["sequence_no"] = 99
		})),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if inv.SequenceNo == 99 {
					t.Error(`"sequence_no" was read as sequenceNo`)
				}
			})},
		{name: "one name in two letter cases", handler: raw(200, "application/json",
			bytes.Replace(running, []byte(`"status": "running",`), []byte(`"status": "running", "STATUS": "succeeded",`), 1)),
			check: wantErr(client.ErrInvalidResponse, `duplicate object member name "STATUS"`)},
		{name: "ok in two letter cases in a step", handler: raw(200, "application/json",
			withStep(`{"index":0,"call":"page.goto","ok":false,"error":{"code":"TIMEOUT","message":"m"},"OK":true,`+resolved+`,"result":1}`)),
			check: wantErr(client.ErrInvalidResponse, `duplicate object member name "OK"`)},
		// A duplicate name makes the body ambiguous: which status is it?
		{name: "duplicate name", handler: raw(200, "application/json",
			bytes.Replace(running, []byte(`"status": "running",`), []byte(`"status": "running", "status": "succeeded",`), 1)),
			check: wantErr(client.ErrInvalidResponse, `duplicate object member name "status"`)},
		{name: "duplicate ok in a step", handler: raw(200, "application/json",
			withStep(`{"index":0,"call":"page.goto","ok":false,"error":{"code":"TIMEOUT","message":"m"},"ok":true,`+resolved+`,"result":1}`)),
			check: wantErr(client.ErrInvalidResponse, `duplicate object member name "ok"`)},
		{name: "invalid UTF-8 in a string", handler: raw(200, "application/json",
			bytes.Replace(running, []byte("clicking Sign in"), []byte("clicking \xff Sign in"), 1)),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if inv.Progress == nil || inv.Progress.Message != "clicking \uFFFD Sign in" {
					t.Errorf("Progress = %+v, want the bad byte replaced by U+FFFD", inv.Progress)
				}
				if !bytes.Contains(inv.Raw(), []byte("clicking \xff Sign in")) {
					t.Errorf("Raw() does not keep the body byte for byte")
				}
			})},
		{name: "unknown status", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["status"] = "paused" })),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if inv.Status != "paused" || inv.Status.Known() {
					t.Errorf("Status = %q, Known %v", inv.Status, inv.Status.Known())
				}
			})},
		{name: "unknown extra fields", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) {
			m["priority"] = 5
			m["progress"].(map[string]any)["eta"] = "soon"
		})),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if !bytes.Contains(inv.Raw(), []byte(`"priority":5`)) || !bytes.Contains(inv.Raw(), []byte(`"eta":"soon"`)) {
					t.Errorf("Raw() lost the extra fields: %s", inv.Raw())
				}
			})},
		{name: "unknown step error code", handler: raw(200, "application/json",
			withStep(`{"index":0,"call":"page.goto","ok":false,"error":{"code":"QUOTA_EXCEEDED","message":"quota"}}`)),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				f, ok := inv.Steps()[0].Failure()
				if !ok || f.Error.Code != "QUOTA_EXCEEDED" {
					t.Errorf("step = %+v, want the unknown code kept", f)
				}
			})},
		{name: "step without ok", handler: raw(200, "application/json",
			withStep(`{"index":0,"call":"page.goto",`+resolved+`,"result":1}`)),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if err := inv.Steps()[0].Err(); !errors.Is(err, client.ErrInvalidStep) || !strings.Contains(err.Error(), "no \"ok\"") {
					t.Errorf("Err() = %v", err)
				}
			})},
		{name: "ok as a string", handler: raw(200, "application/json",
			withStep(`{"index":0,"call":"page.goto","ok":"true",`+resolved+`,"result":1}`)),
			check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if err := inv.Steps()[0].Err(); !errors.Is(err, client.ErrInvalidStep) || !strings.Contains(err.Error(), "not a boolean") {
					t.Errorf("Err() = %v", err)
				}
			})},
		{name: "failed step with a null error", handler: raw(200, "application/json",
			withStep(`{"index":3,"call":"page.goto","ok":false,"error":null}`)),
			check: wantErr(client.ErrInvalidResponse, `"error" is missing`)},
		{name: "failed step with a numeric code", handler: raw(200, "application/json",
			withStep(`{"index":3,"call":"page.goto","ok":false,"error":{"code":5,"message":"m"}}`)),
			check: func(t *testing.T, inv *client.Invocation, err error) {
				t.Helper()
				// The error object alone is decoded again ("/code"), or,
				// when a bump gives failures members of their own, the
				// whole step ("/error/code").
				wantErr(client.ErrInvalidResponse, `step /result/steps/0`)(t, inv, err)
				wantErr(client.ErrInvalidResponse, `JSON number into Go gen.StepErrorCode within "/`)(t, inv, err)
			}},
		{name: "successful step with a string index", handler: raw(200, "application/json",
			withStep(`{"index":"0","call":"page.goto","ok":true,`+resolved+`,"result":1}`)),
			check: func(t *testing.T, inv *client.Invocation, err error) {
				t.Helper()
				// JSON v2 words its errors "cannot" or "unable" at random.
				wantErr(client.ErrInvalidResponse, `step /result/steps/0: json: `)(t, inv, err)
				wantErr(client.ErrInvalidResponse, `JSON string into Go int within "/index"`)(t, inv, err)
			}},
		{name: "step that is an array", handler: raw(200, "application/json", withStep(`[{"ok":true}]`)),
			check: wantErr(client.ErrInvalidResponse, "step is a JSON array, not an object")},
		{name: "step that is a string", handler: raw(200, "application/json", withStep(`"ok"`)),
			check: wantErr(client.ErrInvalidResponse, "step is a JSON string, not an object")},
		{name: "step that is a number", handler: raw(200, "application/json", withStep(`1`)),
			check: wantErr(client.ErrInvalidResponse, "step is a JSON number, not an object")},
		{name: "steps that are an object", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) {
			m["result"] = map[string]any{"mode": "fail-fast", "ok": true, "runtimeId": m["runtimeId"], "steps": map[string]any{}}
		})),
			check: wantErr(client.ErrInvalidResponse, `"/result/steps"`)},
		{name: "more steps than WithMaxSteps", handler: raw(200, "application/json", spectest.Steps(50, 0)),
			opts: []client.Option{client.WithMaxSteps(10)}, check: wantErr(client.ErrResponseTooLarge, "more than 10 steps")},
		{name: "as many steps as WithMaxSteps", handler: raw(200, "application/json", spectest.Steps(10, 0)),
			opts: []client.Option{client.WithMaxSteps(10)}, check: wantOK(func(t *testing.T, inv *client.Invocation) {
				if n := len(inv.Steps()); n != 10 {
					t.Errorf("%d steps, want 10", n)
				}
			})},
		{name: "body over the cap", handler: raw(200, "application/json", spectest.Steps(50, 0)),
			opts: []client.Option{client.WithMaxResponseBytes(4 << 10)}, check: wantErr(client.ErrResponseTooLarge, "4096 bytes")},
		{name: "empty id", id: "", handler: raw(200, "application/json", running), check: wantErr(client.ErrInvalidID, "empty")},
		{name: "dot-dot id", id: "..", handler: raw(200, "application/json", running), check: wantErr(client.ErrInvalidID, "dot segment")},
		{name: "id with slash", id: "a/b", handler: raw(200, "application/json", running), check: wantOK(func(*testing.T, *client.Invocation) {})},
		{name: "id with dot-dot path", id: "../../v2/x", handler: raw(200, "application/json", running), check: wantOK(func(*testing.T, *client.Invocation) {})},
		{name: "id with percent", id: "100%25", handler: raw(200, "application/json", running), check: wantOK(func(*testing.T, *client.Invocation) {})},
		{name: "unicode id", id: "заказ-✓", handler: raw(200, "application/json", running), check: wantOK(func(*testing.T, *client.Invocation) {})},
		{name: "10 KB id", id: strings.Repeat("a", 10<<10), handler: raw(200, "application/json", running), check: wantOK(func(*testing.T, *client.Invocation) {})},
		{name: "connection closed mid-body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(running)))
			w.WriteHeader(200)
			w.Write(running[:100])
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, opts: []client.Option{client.WithMaxRetries(1)}, check: wantErr(nil, "unexpected EOF")},
		{name: "server never answers", handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, opts: []client.Option{client.WithMaxRetries(0), client.WithAttemptTimeout(100 * time.Millisecond)},
			check: wantErr(nil, "attempt timed out")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, tt.handler, tt.opts...)
			id := tt.id
			if id == "" && !strings.Contains(tt.name, "empty id") {
				id = "inv-1"
			}
			done := make(chan struct{})
			var inv *client.Invocation
			var err error
			go func() {
				defer close(done)
				inv, err = c.Invocations.Get(t.Context(), id)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Get hung")
			}
			tt.check(t, inv, err)
		})
	}
}
