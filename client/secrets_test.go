package client_test

import (
	"bytes"
	"context"
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
// bodies, and checks the key appears in no error, no print of the error or
// the client, and no log line.
func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	const key = "sk-live-LEAKCHECK-0123456789abcdef"
	reflect := func(status int, contentType, format string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("X-Request-Id", r.Header.Get("Authorization"))
			w.WriteHeader(status)
			fmt.Fprintf(w, format, r.Header.Get("Authorization"))
		}
	}
	running := string(fixtureWith(t, "running", func(m map[string]any) { m["createdAt"] = "%s" }))
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wait    bool
	}{
		{"401 reflecting the key", reflect(401, "application/json", `{"code":"auth.invalid","error":"bad key %s","requestId":"r"}`), false},
		{"403 with message", reflect(403, "application/json", `{"code":"auth.forbidden","message":"%s"}`), false},
		{"404", reflect(404, "application/json", `{"code":"invocation.not_found","message":"no such invocation for %s"}`), false},
		{"500 retried, HTML", reflect(500, "text/html", `<html>%s</html>`), false},
		{"429 retried", reflect(429, "application/json", `{"error":"%s"}`), false},
		{"malformed 200", reflect(200, "application/json", `{"id": "%s`), false},
		{"200 html", reflect(200, "text/html", `<p>%s</p>`), false},
		{"bad timestamp holding the key", reflect(200, "application/json", running), false},
		{"wait ends on 404", reflect(404, "application/json", `{"message":"%s"}`), true},
		{"wait times out through 503s", reflect(503, "application/json", `{"message":"%s"}`), true},
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
			if tt.wait {
				_, err = c.Invocations.Wait(t.Context(), "inv-1",
					client.WithPollInterval(time.Millisecond, time.Millisecond), client.WithMaxWait(50*time.Millisecond))
			} else {
				_, err = c.Invocations.Get(t.Context(), "inv-1")
			}
			if err == nil {
				t.Fatal("want an error")
			}
			var outputs []string
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				outputs = append(outputs, fmt.Sprintf(verb, err), fmt.Sprintf(verb, c))
			}
			outputs = append(outputs, logs.String())
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
