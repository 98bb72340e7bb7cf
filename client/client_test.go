package client_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

const (
	testKey    = "sk-test-7f3a9c-SECRET"
	pathPrefix = "/api-prefix"
)

// recorded is one request seen by a test server.
type recorded struct {
	Method, Path, EscapedPath, Auth, UserAgent string
}

// testServer is an httptest server mounted under pathPrefix, so a client
// that builds absolute paths instead of joining onto the base URL fails.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func (s *testServer) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// setup returns a client wired to a test server whose handler h serves
// requests below pathPrefix; requests outside it get a 418 so they fail
// loudly.
func setup(t *testing.T, h http.HandlerFunc, opts ...client.Option) (*client.Client, *testServer) {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, recorded{r.Method, r.URL.Path, r.URL.EscapedPath(), r.Header.Get("Authorization"), r.Header.Get("User-Agent")})
		ts.mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, pathPrefix+"/") {
			http.Error(w, "request outside the base path: "+r.URL.Path, http.StatusTeapot)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, pathPrefix)
		r.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, pathPrefix)
		h(&idWriter{ResponseWriter: w, r: r}, r)
	}))
	t.Cleanup(ts.Close)
	base := []client.Option{
		client.WithAPIKey(testKey),
		client.WithBaseURL(ts.URL + pathPrefix),
		client.WithHTTPClient(ts.Client()),
		client.WithRetryBackoff(time.Millisecond, 2*time.Millisecond),
	}
	c, err := client.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, ts
}

// serveJSON returns a handler that answers every request with body.
func serveJSON(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(forID(r, body))
	}
}

// forID returns an invocation body as the answer to r: with the id r asks
// for in place of the body's own, as the API answers (Get refuses an answer
// for another id). A body that is not an invocation with an id is returned
// as it is.
func forID(r *http.Request, body []byte) []byte {
	want, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/v1/invocations/"))
	if err != nil {
		return body
	}
	var inv struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &inv) != nil || inv.ID == "" || inv.ID == want {
		return body
	}
	old, _ := json.Marshal(inv.ID)
	id, _ := json.Marshal(want)
	return bytes.ReplaceAll(body, old, id)
}

// bodyID returns the id of an invocation body, which a test asks for (Get
// refuses an answer for another id).
func bodyID(t *testing.T, body []byte) string {
	t.Helper()
	var own struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &own); err != nil || own.ID == "" {
		t.Fatalf("test body has no id: %v", err)
	}
	return own.ID
}

// idWriter answers with the id asked for (forID) when a handler writes a
// whole invocation body in one Write and sets no Content-Length, so tests
// can serve fixtures for any id.
type idWriter struct {
	http.ResponseWriter
	r *http.Request
}

// keepIDHeader, set by a handler, makes idWriter serve its body as it is.
const keepIDHeader = "X-Test-Keep-Id"

func (w *idWriter) Write(b []byte) (int, error) {
	if w.Header().Get("Content-Length") != "" || w.Header().Get(keepIDHeader) != "" {
		return w.ResponseWriter.Write(b)
	}
	if _, err := w.ResponseWriter.Write(forID(w.r, b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (w *idWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *idWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *idWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

// serveFixture serves a spec fixture, after checking it against the spec.
func serveFixture(t *testing.T, name string) http.HandlerFunc {
	t.Helper()
	body := spectest.Fixture(t, name)
	if err := spectest.ValidateInvocation(t, 200, nil, body); err != nil {
		t.Fatalf("fixture %s does not match the spec: %v", name, err)
	}
	return serveJSON(200, body)
}

// getFixture gets the invocation of fixture name through a client and a
// server that serves it, failing the test if Get fails.
func getFixture(t *testing.T, name string) *client.Invocation {
	t.Helper()
	c, _ := setup(t, serveFixture(t, name))
	inv, err := c.Invocations.Get(t.Context(), bodyID(t, spectest.Fixture(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// fixtureWith returns a spec fixture with edit applied to its JSON object.
func fixtureWith(t *testing.T, name string, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(spectest.Fixture(t, name), &m); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewRequiresAPIKey(t *testing.T) {
	t.Setenv(client.EnvAPIKey, "")
	_, err := client.New()
	if err == nil || !strings.Contains(err.Error(), client.EnvAPIKey) {
		t.Fatalf("New without a key: err = %v, want an error naming %s", err, client.EnvAPIKey)
	}
}

func TestNewReadsEnvironment(t *testing.T) {
	c0, ts := setup(t, serveFixture(t, "queued"))
	_ = c0
	t.Setenv(client.EnvAPIKey, "env-key-123")
	t.Setenv(client.EnvBaseURL, ts.URL+pathPrefix)
	c, err := client.New(client.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BaseURL(), ts.URL+pathPrefix; got != want {
		t.Errorf("BaseURL = %q, want %q", got, want)
	}
	if _, err := c.Invocations.Get(t.Context(), "abc"); err != nil {
		t.Fatal(err)
	}
	reqs := ts.requests()
	if got := reqs[len(reqs)-1].Auth; got != "Bearer env-key-123" {
		t.Errorf("Authorization = %q, want the key from %s", got, client.EnvAPIKey)
	}
}

func TestNewDefaultBaseURL(t *testing.T) {
	t.Setenv(client.EnvBaseURL, "")
	c, err := client.New(client.WithAPIKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != client.DefaultBaseURL {
		t.Errorf("BaseURL = %q, want %q", c.BaseURL(), client.DefaultBaseURL)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  client.Option
		want string
	}{
		{"empty key", client.WithAPIKey(" "), "empty API key"},
		{"key with newline", client.WithAPIKey("a\nb"), "line break"},
		{"relative URL", client.WithBaseURL("/v1"), "not an absolute"},
		{"ftp URL", client.WithBaseURL("ftp://x"), "not an absolute"},
		{"credentials in URL", client.WithBaseURL("https://u:p@api.bctrl.ai"), "credentials"},
		{"query in URL", client.WithBaseURL("https://api.bctrl.ai/?a=b"), "query"},
		{"plain http remote", client.WithBaseURL("http://api.bctrl.ai"), "clear text"},
		{"negative retries", client.WithMaxRetries(-1), "negative"},
		{"nil doer", client.WithHTTPClient(nil), "nil Doer"},
		{"bad backoff", client.WithRetryBackoff(time.Second, time.Millisecond), "min <= max"},
		{"bad rate", client.WithRateLimit(0, 1), "rps > 0"},
		{"bad cap", client.WithMaxResponseBytes(0), "positive"},
		{"bad attempt timeout", client.WithAttemptTimeout(0), "positive"},
		{"user agent newline", client.WithUserAgent("x\r\ny"), "line break"},
		{"empty base URL", client.WithBaseURL(""), "empty URL"},
		{"negative Retry-After cap", client.WithRetryAfterCap(-time.Second), "negative"},
		{"zero max steps", client.WithMaxSteps(0), "WithMaxSteps"},
		{"nil middleware", client.WithMiddleware(nil), "nil middleware"},
		{"nil tracer provider", client.WithTracerProvider(nil), "nil provider"},
		{"nil meter provider", client.WithMeterProvider(nil), "nil provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.New(client.WithAPIKey("k"), tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestNewAllowsLoopbackHTTPAndExplicitInsecure(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:8787", "http://localhost:8787/x/", "http://[::1]:1"} {
		c, err := client.New(client.WithAPIKey("k"), client.WithBaseURL(u))
		if err != nil {
			t.Errorf("New(%q): %v", u, err)
			continue
		}
		if strings.HasSuffix(c.BaseURL(), "/") {
			t.Errorf("BaseURL(%q) = %q keeps a trailing slash", u, c.BaseURL())
		}
	}
	if _, err := client.New(client.WithAPIKey("k"), client.WithBaseURL("http://10.0.0.1"), client.WithInsecureHTTP()); err != nil {
		t.Errorf("WithInsecureHTTP did not allow plain http: %v", err)
	}
}

func TestIDIsEscapedAsOneSegment(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, serveFixture(t, "queued"))
	ids := []string{"../x", "a/b", "a?b", "a#b", "%2F", "50%", "ünï cødé", "a b", strings.Repeat("x", 10<<10)}
	for _, id := range ids {
		if _, err := c.Invocations.Get(t.Context(), id); err != nil {
			t.Errorf("Get(%.20q): %v", id, err)
		}
	}
	reqs := ts.requests()
	if len(reqs) != len(ids) {
		t.Fatalf("server saw %d requests, want %d", len(reqs), len(ids))
	}
	for i, r := range reqs {
		if want := pathPrefix + "/v1/invocations/" + url.PathEscape(ids[i]); r.EscapedPath != want {
			t.Errorf("id %.20q reached path %.60q, want one escaped segment %.60q", ids[i], r.EscapedPath, want)
		}
	}
}

func TestInvalidIDsFailBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, serveFixture(t, "queued"))
	for _, id := range []string{"", ".", "..", "a\nb", "a\x00b", "\xff"} {
		_, err := c.Invocations.Get(t.Context(), id)
		if !errors.Is(err, client.ErrInvalidID) {
			t.Errorf("Get(%q): err = %v, want ErrInvalidID", id, err)
		}
	}
	if n := len(ts.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid ids", n)
	}
}
