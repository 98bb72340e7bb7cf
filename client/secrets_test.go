package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes by a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAPIKeyNeverLeaks drives every error path with a recognisable key,
// against a hostile server that reflects the Authorization header into its
// bodies (plainly or JSON-escaped) and its request id header, and checks
// the key appears in no error, no print of the error or the client, no log
// line, and no request id the SDK records (ResponseInfo,
// Invocation.RequestID).
func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	const key = "sk-live-LEAKCHECK-0123456789abcdef"
	// reflect answers with the Authorization header as the request id and
	// in the body, where format has a %s (or %.0s to leave it out).
	reflect := func(status int, contentType, format string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("X-Request-Id", r.Header.Get("Authorization"))
			w.WriteHeader(status)
			fmt.Fprintf(w, format, r.Header.Get("Authorization"))
		}
	}
	// escaped is reflect with the key's first letter sent as a JSON
	// escape, as some encoders write characters such as '/': the body then
	// holds the key only once decoded.
	escaped := func(status int, format string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			auth := strings.Replace(r.Header.Get("Authorization"), "Bearer s", `Bearer \u0073`, 1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, format, auth)
		}
	}
	running := string(fixtureWith(t, "running", nil))
	badTime := string(fixtureWith(t, "running", func(m map[string]any) { m["createdAt"] = "%s" }))
	// json v2 names the member in a duplicate-name error.
	dupName := strings.Replace(running, `"metadata":null`, `"metadata":{"%[1]s":1,"%[1]s":2}`, 1)
	if dupName == running {
		t.Fatal("the running fixture has no null metadata to replace")
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wait    bool
		ok      bool // the call succeeds
	}{
		{"401 reflecting the key", reflect(401, "application/json", `{"code":"auth.invalid","error":"bad key %s","requestId":"r"}`), false, false},
		{"401 with the key JSON-escaped", escaped(401, `{"code":"%[1]s","error":"bad key %[1]s","requestId":"%[1]s"}`), false, false},
		{"200 with the key JSON-escaped in an unparsable timestamp", escaped(200, badTime), false, true},
		{"403 with message", reflect(403, "application/json", `{"code":"auth.forbidden","message":"%s"}`), false, false},
		{"404", reflect(404, "application/json", `{"code":"invocation.not_found","message":"no such invocation for %s"}`), false, false},
		{"500 retried, HTML", reflect(500, "text/html", `<html>%s</html>`), false, false},
		{"429 retried", reflect(429, "application/json", `{"error":"%s"}`), false, false},
		{"malformed 200", reflect(200, "application/json", `{"id": "%s`), false, false},
		{"200 html", reflect(200, "text/html", `<p>%s</p>`), false, false},
		{"unparsable timestamp holding the key", reflect(200, "application/json", badTime), false, true},
		{"duplicate name holding the key", reflect(200, "application/json", dupName), false, false},
		{"200 with the key as request id", reflect(200, "application/json", running+"%.0s"), false, true},
		{"wait ends on 404", reflect(404, "application/json", `{"message":"%s"}`), true, false},
		{"wait times out through 503s", reflect(503, "application/json", `{"message":"%s"}`), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &syncBuffer{}
			logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, _ := setup(t, tt.handler, client.WithLogger(logger))
			c, err := client.New(client.WithAPIKey(key), client.WithBaseURL(c.BaseURL()),
				client.WithRetryBackoff(time.Millisecond, time.Millisecond), client.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			var info client.ResponseInfo
			ctx := client.WithResponseInfo(t.Context(), &info)
			var inv *client.Invocation
			if tt.wait {
				inv, err = c.Invocations.Wait(ctx, "inv-1",
					client.WithPollInterval(time.Millisecond, time.Millisecond), client.WithMaxWait(50*time.Millisecond))
			} else {
				inv, err = c.Invocations.Get(ctx, "inv-1")
			}
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want an error: %v", err, !tt.ok)
			}
			if info.StatusCode == 0 && !tt.wait { // a wait's last poll may be cut short
				t.Fatal("WithResponseInfo recorded no response, so checking its request id proves nothing")
			}
			outputs := []string{info.RequestID}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				outputs = append(outputs, fmt.Sprintf(verb, err), fmt.Sprintf(verb, c))
			}
			if inv != nil {
				outputs = append(outputs, inv.RequestID(), inv.Response().RequestID)
			}
			outputs = append(outputs, logs.String())
			fields := errorFields(err)
			if !tt.ok && !tt.wait && len(fields) == 0 {
				t.Fatalf("err %T is neither an *APIError nor a *ResponseError, so its fields were not checked", err)
			}
			outputs = append(outputs, fields...)
			for _, out := range outputs {
				if strings.Contains(out, key) {
					t.Fatalf("the API key leaked: %s", out)
				}
			}
			if strings.Contains(tt.name, "retried") && !strings.Contains(logs.String(), "retrying") {
				t.Errorf("no retry was logged, so the log check proved nothing: %q", logs.String())
			}
		})
	}
}

// errorFields returns every field a user may log of the *APIError or
// *ResponseError in err's chain: printing the error is not the only way its
// contents reach a log.
func errorFields(err error) []string {
	var out []string
	header := func(h http.Header) {
		for k, vs := range h {
			out = append(out, k)
			out = append(out, vs...)
		}
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		out = append(out, string(apiErr.Body), apiErr.Message, apiErr.Code, apiErr.RequestID, apiErr.Method, apiErr.Path)
		header(apiErr.Header)
	}
	var respErr *client.ResponseError
	if errors.As(err, &respErr) {
		out = append(out, string(respErr.Body), respErr.ContentType, respErr.RequestID, respErr.Err.Error())
		header(respErr.Header)
	}
	return out
}

func TestOptionsPrintNoKey(t *testing.T) {
	t.Parallel()
	const key = "sk-live-OPTIONCHECK-42"
	opt := client.WithAPIKey(key)
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(verb, opt); strings.Contains(out, key) {
			t.Errorf("Sprintf(%s, option) = %s", verb, out)
		}
	}
	c, err := client.New(opt, client.WithBaseURL("https://api.bctrl.ai"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Invocations.Get(canceledContext(), "x")
	if err == nil || strings.Contains(fmt.Sprintf("%+v", err), key) {
		t.Errorf("err = %v", err)
	}
}

func canceledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
