package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
)

// The keys the leak tests use: an ordinary one, and one with every
// character an escape changes (/, ~, ", +, a space).
const (
	leakKey        = "sk-live-LEAKCHECK-0123456789abcdef"
	leakKeySpecial = `sk/live~LEAK"CHECK+42 x`
)

// keyForms returns the forms in which key must not appear in anything a
// user sees: as is and escaped every way the SDK's inputs escape it, each
// also escaped byte by byte (%XX, \u00XX), as a hostile server may send
// it. Texts are compared ignoring case (net/http canonicalises header
// names), and a form minus its first byte is enough to count, so a key
// whose first letter alone was escaped ("\u0073k-...") is found too.
func keyForms(key string) []string {
	j, _ := json.Marshal(key)
	var pct, uni strings.Builder
	for i := range len(key) {
		fmt.Fprintf(&pct, "%%%02X", key[i])
		fmt.Fprintf(&uni, `\u%04x`, key[i])
	}
	forms := []string{key, url.PathEscape(key), url.QueryEscape(key), string(j[1 : len(j)-1]),
		strconv.Quote(key)[1 : len(strconv.Quote(key))-1], pct.String(), uni.String()}
	for i, f := range forms {
		forms[i] = strings.ToLower(f[1:])
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// seen is one thing a user may see, and where.
type seen struct{ where, text string }

// leaks returns every text of got that holds key in any of its forms.
func leaks(key string, got []seen) []string {
	forms := keyForms(key)
	var out []string
	for _, s := range got {
		low := strings.ToLower(s.text)
		for _, f := range forms {
			if strings.Contains(low, f) {
				out = append(out, fmt.Sprintf("%s: %.300q", s.where, s.text))
				break
			}
		}
	}
	return out
}

// seenOfError returns what a user, or an error reporter, may see of err:
// every link of its chain (errors.Unwrap and Unwrap() []error) printed
// with %v, %+v, %#v, %s and %q, and every string reachable from each link
// by reflection (see seenOfValue).
func seenOfError(where string, err error) []seen {
	var out []seen
	var walk func(where string, e error, depth int)
	walk = func(where string, e error, depth int) {
		if e == nil || depth > 64 {
			return
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out = append(out, seen{fmt.Sprintf("%s (%T) %s", where, e, verb), fmt.Sprintf(verb, e)})
		}
		out = append(out, seenOfValue(fmt.Sprintf("%s (%T)", where, e), e)...)
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for i, k := range u.Unwrap() {
				walk(fmt.Sprintf("%s.Unwrap()[%d]", where, i), k, depth+1)
			}
		default:
			walk(where+".Unwrap()", errors.Unwrap(e), depth+1)
		}
	}
	walk(where, err, 0)
	return out
}

// modelTypes are the decoded invocation, the user's data: an
// InvocationError or a WaitError points to it as it is, and it may hold
// whatever the server sent.
var modelTypes = []reflect.Type{
	reflect.TypeFor[*client.Invocation](), reflect.TypeFor[*client.ErrorInfo](),
	reflect.TypeFor[*client.StepFailure](), reflect.TypeFor[[]*client.StepFailure](),
}

// seenOfValue returns every string (and byte slice) reachable from v by
// reflection, through pointers, interfaces, struct fields (exported or
// not), slices, arrays and map keys and values, except the invocation
// model.
func seenOfValue(where string, v any) []seen {
	var out []seen
	visited := map[uintptr]bool{}
	budget := 20000
	var walk func(path string, v reflect.Value, depth int)
	walk = func(path string, v reflect.Value, depth int) {
		if !v.IsValid() || depth > 12 || budget <= 0 || slices.Contains(modelTypes, v.Type()) {
			return
		}
		budget--
		switch v.Kind() {
		case reflect.String:
			out = append(out, seen{path, v.String()})
		case reflect.Pointer:
			if !v.IsNil() && !visited[v.Pointer()] {
				visited[v.Pointer()] = true
				walk(path, v.Elem(), depth+1)
			}
		case reflect.Interface:
			walk(path, v.Elem(), depth+1)
		case reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i), depth+1)
			}
		case reflect.Slice, reflect.Array:
			if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
				out = append(out, seen{path, string(v.Bytes())})
				return
			}
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i), depth+1)
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(path+" key", it.Key(), depth+1)
				walk(fmt.Sprintf("%s[%v]", path, it.Key()), it.Value(), depth+1)
			}
		}
	}
	walk(where, reflect.ValueOf(v), 0)
	return out
}

// leakRow is one way a server, a user's Doer or the caller may put the
// key where a user sees it.
type leakRow struct {
	name   string
	server func(t *testing.T, key string) *hostileServer
	id     func(key string) string // the id asked for; nil: "inv-1"
	call   string                  // "get" (default), "wait" or "raw"
	opts   func(key string) []client.Option
	ok     bool // the call succeeds
	plain  bool // run with leakKey only (the row's bytes cannot carry the other)
	check  func(t *testing.T, err error, requests int)
}

// TestAPIKeyNeverLeaks drives every path by which a key may come back:
// servers reflecting it (plainly or escaped, in bodies, header names and
// values, status lines, Location headers), the key pasted as the id,
// failed invocations whose messages hold it, and a user's Doer whose error
// holds the request. For each, nothing a user sees holds the key in any
// form: the error's whole chain and every field of every link (the
// invocation model aside), the client printed, ResponseInfo and
// Invocation.Response(), log records, spans and metrics. Each row also
// checks that the error still means what it meant: errors.Is and
// errors.As hold through the boundary.
func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	// jsonText is s as the inside of a JSON string.
	jsonText := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	// unicodeEscaped is s with every byte written as \u00XX.
	unicodeEscaped := func(s string) string {
		var b strings.Builder
		for i := range len(s) {
			fmt.Fprintf(&b, `\u%04x`, s[i])
		}
		return b.String()
	}
	percentEscaped := func(s string) string {
		var b strings.Builder
		for i := range len(s) {
			fmt.Fprintf(&b, "%%%02x", s[i])
		}
		return b.String()
	}
	// answer serves every request with status, a request id and a body
	// built from the key.
	answer := func(status int, contentType string, body func(key string) string) func(t *testing.T, key string) *hostileServer {
		return func(t *testing.T, key string) *hostileServer {
			return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", contentType)
				w.Header().Set("X-Request-Id", "Bearer "+key)
				w.WriteHeader(status)
				io.WriteString(w, body(key))
			})
		}
	}
	// rawAnswer writes the bytes built from the key as the whole response.
	rawAnswer := func(resp func(key string) string) func(t *testing.T, key string) *hostileServer {
		return func(t *testing.T, key string) *hostileServer {
			return serveRaw(func(conn net.Conn) { io.WriteString(conn, resp(key)) })(t)
		}
	}
	redirect := func(location func(t *testing.T, key string) string) func(t *testing.T, key string) *hostileServer {
		return func(t *testing.T, key string) *hostileServer {
			loc := location(t, key)
			return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Location"] = []string{loc}
				w.WriteHeader(http.StatusFound)
			})
		}
	}
	stall := func(t *testing.T, _ string) *hostileServer {
		return serveHandler(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	}
	closed := func(t *testing.T, _ string) *hostileServer { return &hostileServer{URL: closedURL(t)} }
	keyID := func(key string) string { return key }
	opts := func(o ...client.Option) func(string) []client.Option {
		return func(string) []client.Option { return o }
	}
	wantIs := func(target error) func(t *testing.T, err error, _ int) {
		return func(t *testing.T, err error, _ int) {
			t.Helper()
			if !errors.Is(err, target) {
				t.Errorf("errors.Is(err, %v) = false; err = %.300v", target, err)
			}
		}
	}
	// wantURLError checks that err holds a *url.Error whose URL has the key
	// scrubbed, and whose Err is itself there.
	wantURLError := func(t *testing.T, err error, _ int) {
		t.Helper()
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Fatalf("errors.As(err, *url.Error) = false; err = %.300v", err)
		}
		if !strings.Contains(ue.URL, "[redacted]") || ue.Err == nil {
			t.Errorf("url.Error URL = %q, Err = %v; want the key replaced by [redacted], and a cause", ue.URL, ue.Err)
		}
	}
	all := func(checks ...func(t *testing.T, err error, requests int)) func(t *testing.T, err error, requests int) {
		return func(t *testing.T, err error, requests int) {
			t.Helper()
			for _, c := range checks {
				c(t, err, requests)
			}
		}
	}
	wantRequests := func(n int) func(t *testing.T, err error, requests int) {
		return func(t *testing.T, err error, requests int) {
			t.Helper()
			if requests != n {
				t.Errorf("server saw %d requests; want %d", requests, n)
			}
		}
	}
	fixture := func(name string, edit func(m map[string]any, key string)) func(key string) string {
		return func(key string) string {
			return string(fixtureWith(t, name, func(m map[string]any) { m["id"] = "inv-1"; edit(m, key) }))
		}
	}
	running := string(fixtureWith(t, "running", func(m map[string]any) { m["id"] = "inv-1" })) // the id asked for
	badTime := func(key string) string {
		return strings.Replace(running, `"createdAt":"`, `"createdAt":"`+jsonText(key)+`@`, 1)
	}
	// json v2 names the member in a duplicate-name error.
	dupName := func(key string) string {
		return strings.Replace(running, `"metadata":null`, `"metadata":{"`+jsonText(key)+`":1,"`+jsonText(key)+`":2}`, 1)
	}
	if dupName("k") == running {
		t.Fatal("the running fixture has no null metadata to replace")
	}
	// failedStep edits the failed fixture: its invocation error's message
	// and its failed step's hint hold the key.
	failedWithKey := fixture("failed", func(m map[string]any, key string) {
		m["error"].(map[string]any)["message"] = "no access for " + key
		steps := m["result"].(map[string]any)["steps"].([]any)
		steps[2].(map[string]any)["error"].(map[string]any)["hint"] = "use the key " + key
		steps[2].(map[string]any)["call"] = "page." + key
	})
	unknownStatus := fixture("failed", func(m map[string]any, key string) { m["status"] = "weird " + key })
	fastWait := client.WithPollInterval(time.Millisecond, time.Millisecond)

	tests := []leakRow{
		// Bodies reflecting the key, plainly and escaped.
		{name: "401 reflecting the key", server: answer(401, "application/json", func(k string) string {
			return `{"code":"auth.invalid","error":"bad key ` + jsonText(k) + `","requestId":"r"}`
		}), check: all(wantIs(client.ErrUnauthorized), wantAs[*client.APIError]())},
		{name: "401 with the key's first letter \\u-escaped", server: answer(401, "application/json", func(k string) string {
			e := `\u0073` + jsonText(k)[1:]
			return `{"code":"` + e + `","error":"bad key ` + e + `","requestId":"` + e + `"}`
		}), check: wantIs(client.ErrUnauthorized)},
		{name: "401 with every byte of the key \\u-escaped", server: answer(401, "application/json", func(k string) string {
			return `{"code":"auth.invalid","error":"bad key ` + unicodeEscaped(k) + `"}`
		}), check: wantIs(client.ErrUnauthorized)},
		{name: "404 with the key percent-encoded and Go-quoted", server: answer(404, "application/json", func(k string) string {
			return `{"error":"see /x?key=` + percentEscaped(k) + ` or ` + jsonText(strconv.Quote(k)) + `"}`
		}), check: wantIs(client.ErrNotFound)},
		{name: "403 with message", server: answer(403, "application/json", func(k string) string {
			return `{"code":"auth.forbidden","message":"` + jsonText(k) + `"}`
		}), check: wantIs(client.ErrForbidden)},
		{name: "500 retried, HTML", server: answer(500, "text/html", func(k string) string { return "<html>" + k + "</html>" }),
			check: all(wantAs[*client.APIError](), wantRequests(4))},
		{name: "429 retried", server: answer(429, "application/json", func(k string) string { return `{"error":"` + jsonText(k) + `"}` }),
			check: wantIs(client.ErrRateLimited)},
		{name: "malformed 200", server: answer(200, "application/json", func(k string) string { return `{"id": "` + jsonText(k) }),
			check: wantIs(client.ErrInvalidResponse)},
		{name: "200 html", server: answer(200, "text/html", func(k string) string { return "<p>" + k + "</p>" }),
			check: wantAs[*client.ResponseError]()},
		// Any text is a valid timestamp: the key in one is the user's data.
		{name: "unparsable timestamp holding the key", server: answer(200, "application/json", badTime), ok: true},
		{name: "duplicate name holding the key", server: answer(200, "application/json", dupName),
			check: wantIs(client.ErrInvalidResponse)},
		{name: "200 with the key as request id", server: answer(200, "application/json", func(string) string { return running }), ok: true},
		{name: "wait ends on 404", server: answer(404, "application/json", func(k string) string { return `{"message":"` + jsonText(k) + `"}` }),
			call: "wait", check: all(wantIs(client.ErrNotFound), wantAs[*client.WaitError]())},
		{name: "wait times out through 503s", server: answer(503, "application/json", func(k string) string { return `{"message":"` + jsonText(k) + `"}` }),
			call: "wait", check: all(wantIs(client.ErrWaitTimeout), wantAs[*client.APIError]())},

		// Header names and malformed responses.
		{name: "404 with a header named after the key", plain: true, server: rawAnswer(func(k string) string {
			return "HTTP/1.1 404 Not Found\r\nX-" + k + ": 1\r\nContent-Length: 2\r\n\r\n{}"
		}), check: wantIs(client.ErrNotFound)},
		{name: "200 with a header named after the key", plain: true, ok: true, server: rawAnswer(func(k string) string {
			return "HTTP/1.1 200 OK\r\nX-" + k + ": 1\r\nX-Request-Id: " + k + "\r\nContent-Type: application/json\r\nContent-Length: " +
				strconv.Itoa(len(running)) + "\r\n\r\n" + running
		})},
		{name: "malformed status line echoing the key", plain: true, server: rawAnswer(func(k string) string {
			return "HTTP/1.1 " + k + " OK\r\n\r\n"
		}), opts: opts(client.WithMaxRetries(0)), check: wantAs[*url.Error]()},
		{name: "malformed status line echoing the key, Raw", plain: true, call: "raw", server: rawAnswer(func(k string) string {
			return "HTTP/1.1 " + k + " OK\r\n\r\n"
		}), opts: opts(client.WithMaxRetries(0)), check: wantAs[*url.Error]()},
		{name: "malformed header line echoing the key", server: rawAnswer(func(k string) string {
			return "HTTP/1.1 200 OK\r\n" + k + "\r\n\r\n"
		}), opts: opts(client.WithMaxRetries(0)), check: wantAs[*url.Error]()},

		// Redirects whose Location carries the key.
		{name: "redirect to a closed port with the key in the query", server: redirect(func(t *testing.T, k string) string {
			return closedURL(t) + "/?token=" + url.QueryEscape(k)
		}), opts: opts(client.WithMaxRetries(1)), check: all(wantURLError, wantAs[*net.OpError]())},
		{name: "redirect with the key percent-encoded byte by byte", server: redirect(func(t *testing.T, k string) string {
			return closedURL(t) + "/?token=" + percentEscaped(k)
		}), opts: opts(client.WithMaxRetries(0)), check: wantURLError},
		{name: "redirect to ftp:// with the key in the path", server: redirect(func(_ *testing.T, k string) string {
			return "ftp://files.example/" + url.PathEscape(k)
		}), check: all(wantURLError, wantRequests(1))},
		{name: "redirect to an unparsable Location holding the key", server: redirect(func(_ *testing.T, k string) string {
			return "http://[::1%zz/" + k
		}), check: all(wantAs[*url.Error](), wantRequests(1))},
		{name: "redirect loop carrying the key", server: func(t *testing.T, k string) *hostileServer {
			return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path+"?token="+url.QueryEscape(k), http.StatusFound)
			})
		}, check: all(wantIs(client.ErrTooManyRedirects), wantURLError, wantRequests(10))},
		{name: "redirect to a closed port with the key in the query, Raw", call: "raw", server: redirect(func(t *testing.T, k string) string {
			return closedURL(t) + "/?token=" + url.QueryEscape(k)
		}), opts: opts(client.WithMaxRetries(0)), check: all(wantURLError, wantAs[*net.OpError]())},

		// The key pasted as the id.
		{name: "key as id, connection refused", server: closed, id: keyID,
			opts: opts(client.WithMaxRetries(1)), check: all(wantURLError, wantAs[*net.OpError]())},
		{name: "key as id, connection refused, Wait", server: closed, id: keyID,
			call: "wait", opts: opts(client.WithMaxRetries(0)), check: all(wantURLError, wantIs(client.ErrWaitTimeout))},
		{name: "key as id, connection refused, Raw", server: closed, id: keyID,
			call: "raw", opts: opts(client.WithMaxRetries(0)), check: all(wantURLError, wantAs[*net.OpError]())},
		{name: "key as id, the HTTP client's timeout", server: stall, id: keyID,
			opts: opts(client.WithMaxRetries(0), client.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond})),
			check: all(wantURLError, wantIs(context.DeadlineExceeded), func(t *testing.T, err error, _ int) {
				var ne net.Error
				var ue *url.Error
				if !errors.As(err, &ne) || !ne.Timeout() || !errors.As(err, &ue) || !ue.Timeout() {
					t.Errorf("err = %.300v; want a net.Error and a *url.Error that report Timeout()", err)
				}
			})},
		{name: "key as id, the attempt timeout", server: stall, id: keyID,
			opts:  opts(client.WithMaxRetries(0), client.WithAttemptTimeout(50*time.Millisecond)),
			check: wantIs(context.DeadlineExceeded)},
		{name: "key as id, 404", server: answer(404, "application/json", func(string) string { return `{}` }), id: keyID,
			check: wantIs(client.ErrNotFound)},

		// Invocations whose strings hold the key: the error describes them
		// scrubbed; the invocation itself is the user's data.
		{name: "failed invocation whose error, step call and hint hold the key", call: "wait",
			server: answer(200, "application/json", failedWithKey),
			check: func(t *testing.T, err error, _ int) {
				var ie *client.InvocationError
				if !errors.As(err, &ie) || ie.Err == nil || !strings.Contains(ie.Err.Message, "no access for") ||
					len(ie.FailedSteps) != 1 || !strings.Contains(ie.Error(), "[redacted]") {
					t.Errorf("err = %.300v; want an *InvocationError describing the failed step, scrubbed", err)
				}
			}},
		{name: "unknown status holding the key", call: "wait", server: answer(200, "application/json", unknownStatus),
			check: wantIs(client.ErrUnknownStatus)},

		// A user's Doer whose error holds the key.
		{name: "a Doer whose error holds the request", server: closed,
			opts: opts(client.WithMaxRetries(0), client.WithHTTPClient(doerFunc(func(req *http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("proxy refused: %w", &requestError{Req: req})
			})))},
		{name: "a Doer whose error prints the key with %+v", server: closed,
			opts: func(k string) []client.Option {
				return []client.Option{client.WithMaxRetries(0), client.WithHTTPClient(doerFunc(func(req *http.Request) (*http.Response, error) {
					return nil, &verboseError{detail: "sent " + req.Header.Get("Authorization")}
				}))}
			},
			check: wantIs(context.DeadlineExceeded)},
	}
	for _, tt := range tests {
		for _, key := range []string{leakKey, leakKeySpecial} {
			if tt.plain && key != leakKey {
				continue
			}
			name := tt.name
			if key != leakKey {
				name += ", key with special characters"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				runLeakRow(t, tt, key, fastWait)
			})
		}
	}
}

func runLeakRow(t *testing.T, tt leakRow, key string, fastWait client.WaitOption) {
	srv := tt.server(t, key)
	tel := newObsTelemetry(t)
	opts := slices.Concat(tel.opts, []client.Option{client.WithAPIKey(key), client.WithBaseURL(srv.URL),
		client.WithRetryBackoff(time.Millisecond, time.Millisecond)})
	if tt.opts != nil {
		opts = append(opts, tt.opts(key)...)
	}
	c, err := client.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	id := "inv-1"
	if tt.id != nil {
		id = tt.id(key)
	}
	var info client.ResponseInfo
	ctx := client.WithResponseInfo(t.Context(), &info)
	var inv *client.Invocation
	switch tt.call {
	case "wait":
		inv, err = c.Invocations.Wait(ctx, id, fastWait, client.WithMaxWait(100*time.Millisecond))
	case "raw":
		_, err = c.Raw().GetInvocationWithResponse(ctx, id, nil)
	default:
		inv, err = c.Invocations.Get(ctx, id)
	}
	if (err == nil) != tt.ok {
		t.Fatalf("err = %.300v; want an error: %v", err, !tt.ok)
	}
	got := seenOfError("err", err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		got = append(got, seen{"client " + verb, fmt.Sprintf(verb, c)})
	}
	got = append(got, seenOfValue("ResponseInfo", info)...)
	if inv != nil {
		got = append(got, seen{"inv.RequestID()", inv.RequestID()})
		got = append(got, seenOfValue("inv.Response()", inv.Response())...)
	}
	for _, x := range obsTexts(t, tel.spans.Ended(), tel.reader, tel.logs) {
		got = append(got, seen{x.Where, x.Text})
	}
	for _, l := range leaks(key, got) {
		t.Errorf("the API key leaked: %s", l)
	}
	if tt.check != nil {
		tt.check(t, err, len(srv.arrivals()))
	}
	if n := len(fmt.Sprint(err)); n > 4<<10 {
		t.Errorf("the error is %d bytes; want at most 4 KiB", n)
	}
}

// wantAs checks that errors.As(err, new(T)) holds.
func wantAs[T error]() func(t *testing.T, err error, _ int) {
	return func(t *testing.T, err error, _ int) {
		t.Helper()
		var target T
		if !errors.As(err, &target) {
			t.Errorf("errors.As(err, %T) = false; err = %.300v", &target, err)
		}
	}
}

// requestError is a user's Doer's error that keeps the request, and with
// it the Authorization header, in a field.
type requestError struct{ Req *http.Request }

func (e *requestError) Error() string { return "request to " + e.Req.URL.Host + " refused" }

// verboseError prints its detail only with %+v, as errors with stack
// traces do; it matches context.DeadlineExceeded.
type verboseError struct{ detail string }

func (e *verboseError) Error() string        { return "proxy timed out" }
func (e *verboseError) Is(target error) bool { return target == context.DeadlineExceeded }
func (e *verboseError) Format(f fmt.State, verb rune) {
	io.WriteString(f, e.Error())
	if f.Flag('+') {
		io.WriteString(f, ": "+e.detail)
	}
}

// doerFunc adapts a function to client.Doer.
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// closedURL returns the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// TestNewErrorsNoKey checks that New's errors quote no part of a base
// URL that may hold a credential (userinfo, query, fragment), and no form
// of the key, whether the key came before the URL, after it, or from the
// environment.
func TestNewErrorsNoKey(t *testing.T) {
	// Not parallel: one row sets BCTRL_API_KEY.
	q := url.QueryEscape(leakKey)
	tests := []struct {
		name string
		url  string
		want string // what the error says
	}{
		{"key in the query", "https://api.bctrl.ai/v1?token=" + q, "query"},
		{"key in the fragment", "https://api.bctrl.ai/#" + leakKey, "fragment"},
		{"key as the password", "https://user:" + q + "@api.bctrl.ai", "credentials"},
		{"key as the user", "https://" + q + "@api.bctrl.ai", "credentials"},
		{"key in the query of an unparsable URL", "https://api.bctrl.ai/%zz?token=" + q, "invalid base URL"},
		{"key as the password of an unparsable URL", "https://u:" + leakKey + "@[::1%zz", "invalid base URL"},
		{"key in the query of an ftp URL", "ftp://x/?token=" + leakKey, "not an absolute"},
		{"key in the query of a plain http URL", "http://api.bctrl.ai/?token=" + leakKey, "query"},
	}
	for _, tt := range tests {
		for _, order := range []string{"key first", "key last", "key from the environment"} {
			t.Run(tt.name+", "+order, func(t *testing.T) {
				var opts []client.Option
				switch order {
				case "key first":
					opts = []client.Option{client.WithAPIKey(leakKey), client.WithBaseURL(tt.url)}
				case "key last":
					opts = []client.Option{client.WithBaseURL(tt.url), client.WithAPIKey(leakKey)}
				default:
					t.Setenv(client.EnvAPIKey, leakKey)
					opts = []client.Option{client.WithBaseURL(tt.url)}
				}
				_, err := client.New(opts...)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v; want it to mention %q", err, tt.want)
				}
				got := seenOfError("err", err)
				for _, l := range leaks(leakKey, got) {
					t.Errorf("the API key leaked: %s", l)
				}
				for _, s := range got {
					if strings.Contains(s.text, "token=") || strings.Contains(s.text, "user:") {
						t.Errorf("%s: %q quotes the query or userinfo", s.where, s.text)
					}
				}
			})
		}
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

// TestScrub checks the exported Scrub, which the CLI uses, against every
// form the leak tests look for.
func TestScrub(t *testing.T) {
	t.Parallel()
	for _, key := range []string{leakKey, leakKeySpecial} {
		c, err := client.New(client.WithAPIKey(key), client.WithBaseURL("https://api.bctrl.ai"))
		if err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(key)
		for _, in := range []string{key, url.PathEscape(key), url.QueryEscape(key), string(j), strconv.Quote(key),
			`\u0073` + string(j)[2:]} {
			got := c.Scrub("before " + in + " after")
			if l := leaks(key, []seen{{"Scrub", got}}); len(l) > 0 || !strings.Contains(got, "[redacted]") {
				t.Errorf("Scrub(%q) = %q", in, got)
			}
		}
	}
}

func canceledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
