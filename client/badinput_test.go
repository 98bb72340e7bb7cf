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
			w.Write(body)
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
			check: wantErr(client.ErrInvalidResponse, "unexpected end of JSON")},
		{name: "empty 200 body", handler: raw(200, "application/json", nil),
			check: wantErr(client.ErrInvalidResponse, "empty body")},
		{name: "HTML 502 page", handler: raw(502, "text/html", []byte("<html><h1>502 Bad Gateway</h1></html>")),
			opts: []client.Option{client.WithMaxRetries(0)}, check: wantAPIError(502)},
		{name: "200 with text/html", handler: raw(200, "text/html; charset=utf-8", []byte("<html>login</html>")),
			check: wantErr(client.ErrInvalidResponse, "text/html")},
		{name: "200 JSON labelled text/html", handler: raw(200, "text/html", running),
			check: wantErr(client.ErrInvalidResponse, "not JSON")},
		{name: "JSON array instead of object", handler: raw(200, "application/json", []byte(`[1,2]`)),
			check: wantErr(client.ErrInvalidResponse, "cannot unmarshal array")},
		{name: "status of the wrong type", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["status"] = 7 })),
			check: wantErr(client.ErrInvalidResponse, "status")},
		{name: "null in a required string", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["id"] = nil })),
			check: wantErr(client.ErrInvalidResponse, `"id" is missing or null`)},
		{name: "null status", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["status"] = nil })),
			check: wantErr(client.ErrInvalidResponse, `"status" is missing or null`)},
		{name: "timestamp not RFC 3339", handler: raw(200, "application/json", fixtureWith(t, "running", func(m map[string]any) { m["createdAt"] = "yesterday" })),
			check: wantErr(client.ErrInvalidResponse, `"createdAt"`)},
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
