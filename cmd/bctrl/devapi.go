package main

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
	"github.com/bctrlhq/sdk-go/gen"
)

// devAPI is the dev server's handler. bctrltest serves the API itself
// (routes, authentication, error bodies, heartbeats: one fake, not two);
// the demo invocations live in it (replayDemo); with --simulate, devAPI
// decides which state every other id is in at each request, and keeps in
// bounds what bctrltest, a library for tests, keeps without bound:
//
//   - bctrltest records requests and their headers for a test to read.
//     devAPI hands it only the Authorization header and paths of at most
//     maxDevPath bytes, and bounds the record (WithRequestLimit) to the
//     last backendRequests small entries. bctrltest's own listener is
//     closed at once: only its handler is used, behind the dev server's
//     limits.
//   - bctrltest keeps every invocation it is given until it is removed.
//     devAPI registers an id's state there only while a request for it is
//     being answered, and removes it after, so the backend holds at most
//     the ids in flight (at most --max-conns), whatever the number of ids
//     asked for; the simulator's own store is bounded by
//     --simulate-max-ids.
//   - The request log people read (GET /_dev/requests) is devAPI's own
//     ring buffer of the last --request-log requests, headers cut short.
type devAPI struct {
	key string
	now func() time.Time
	sim *simulator // nil without --simulate
	log *requestLog

	mu       sync.Mutex
	backend  *bctrltest.Server
	inFlight map[string]int // requests being answered, by the id registered for them in backend
}

const (
	// maxDevPath is the longest request path served; an invocation id
	// is a UUID.
	maxDevPath = 4 << 10
	// backendRequests is how many requests the bctrltest server keeps a
	// record of.
	backendRequests = 1024
	// devRequestsPath serves the request log, outside the API's /v1.
	devRequestsPath = "/_dev/requests"
	// invocationsPath is the prefix of the API's only route.
	invocationsPath = "/v1/invocations/"
)

func newDevAPI(cfg devConfig) (*devAPI, error) {
	b, err := newBackend(cfg.key, backendRequests)
	if err != nil {
		return nil, usagef("start dev server: %w", err)
	}
	d := &devAPI{
		key:      cfg.key,
		now:      time.Now,
		log:      newRequestLog(cfg.limits.requestLog),
		backend:  b,
		inFlight: map[string]int{},
	}
	if cfg.simulate {
		d.sim = newSimulator(cfg.tick, cfg.limits.simulateMaxIDs)
	}
	return d, nil
}

// newBackend returns a bctrltest server whose handler serves the API,
// keeping a record of its last keep requests, its own listener already
// closed.
func newBackend(key string, keep int) (*bctrltest.Server, error) {
	b, err := bctrltest.Start("127.0.0.1:0", bctrltest.WithAPIKey(key), bctrltest.WithRequestLimit(keep))
	if err != nil {
		return nil, err
	}
	b.Close() // the handler keeps working; nothing reaches it but ServeHTTP
	return b, nil
}

func (d *devAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == devRequestsPath {
		d.serveLog(w, r)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() { d.log.add(r, sw.status, w.Header().Get("X-Request-Id"), start) }()
	if len(r.URL.EscapedPath()) > maxDevPath {
		writeDevError(sw, http.StatusRequestURITooLong, "request.uri_too_long",
			fmt.Sprintf("request path longer than %d bytes", maxDevPath))
		return
	}
	fwd := r.WithContext(r.Context()) // a shallow copy
	fwd.Header = http.Header{}
	if v := r.Header.Values("Authorization"); len(v) > 0 {
		fwd.Header["Authorization"] = v
	}
	b, done := d.backendFor(r)
	defer done()
	b.Handler().ServeHTTP(sw, fwd)
}

// backendFor returns the bctrltest server to answer r, holding the state
// r's invocation is in now if devAPI knows the id, and a function to call
// once r is answered. That function removes the state again, unless
// another request for the same id is still being answered, so that the
// backend never holds more ids than there are requests in flight.
func (d *devAPI) backendFor(r *http.Request) (*bctrltest.Server, func()) {
	id := pathID(r)
	inv, known := d.state(id, d.now())
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.backend
	if !known {
		return b, func() {}
	}
	b.Set(inv)
	d.inFlight[id]++
	return b, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.inFlight[id]--; d.inFlight[id] <= 0 {
			delete(d.inFlight, id)
			b.Remove(id)
		}
	}
}

// state returns id's simulated state at now, with --simulate, for any id
// but the demo ones, which the backend holds itself (replayDemo).
func (d *devAPI) state(id string, now time.Time) (gen.Invocation, bool) {
	if id == "" || d.sim == nil || isDemo(id) {
		return gen.Invocation{}, false
	}
	return d.sim.at(id, now), true
}

// pathID returns the invocation id r's path addresses, or "", as
// bctrltest reads it.
func pathID(r *http.Request) string {
	p, ok := strings.CutPrefix(r.URL.EscapedPath(), invocationsPath)
	if !ok || p == "" || strings.Contains(p, "/") {
		return ""
	}
	id, err := url.PathUnescape(p)
	if err != nil {
		return ""
	}
	return id
}

// serveLog answers GET /_dev/requests with the request log, to a client
// with the server's key.
func (d *devAPI) serveLog(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(d.key)) != 1 {
		writeDevError(w, http.StatusUnauthorized, "auth.invalid", "send Authorization: Bearer <the dev server's key>")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeDevError(w, http.StatusMethodNotAllowed, "method.not_allowed", "use GET")
		return
	}
	body, err := json.Marshal(d.log.snapshot())
	if err != nil {
		writeDevError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// writeDevError writes an error in the API's shape, for the few answers
// devAPI gives itself.
func writeDevError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(map[string]string{"code": code, "error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// statusWriter remembers the status written through it. Unwrap lets
// http.ResponseController reach the connection.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The bounds of one entry of the request log.
const (
	maxLoggedHeaders = 32  // header fields
	maxLoggedValues  = 4   // values per field
	maxLoggedText    = 256 // bytes of a path, a header name or a value
)

// requestLog keeps the last requests the dev server answered: a ring
// buffer of fixed length whose entries are cut to a fixed size.
type requestLog struct {
	mu    sync.Mutex
	ring  []loggedRequest
	next  int    // where the next entry goes
	total uint64 // requests logged since the start
}

// loggedRequest is one entry of the request log, as GET /_dev/requests
// returns it.
type loggedRequest struct {
	At         time.Time           `json:"at"`
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Header     map[string][]string `json:"header"`
	Status     int                 `json:"status"`
	RequestID  string              `json:"request_id,omitempty"`
	DurationMs float64             `json:"duration_ms"`
}

func newRequestLog(n int) *requestLog { return &requestLog{ring: make([]loggedRequest, 0, n)} }

// add logs r, answered with status.
func (l *requestLog) add(r *http.Request, status int, requestID string, start time.Time) {
	e := loggedRequest{
		At:         start.UTC(),
		Method:     cutText(r.Method, 16),
		Path:       cutText(r.URL.EscapedPath(), maxLoggedText),
		Header:     cutHeader(r.Header),
		Status:     status,
		RequestID:  cutText(requestID, 64),
		DurationMs: float64(time.Since(start).Microseconds()) / 1000,
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	if len(l.ring) < cap(l.ring) {
		l.ring = append(l.ring, e)
		return
	}
	l.ring[l.next] = e
	l.next = (l.next + 1) % len(l.ring)
}

// requestLogJSON is the body of GET /_dev/requests.
type requestLogJSON struct {
	Total    uint64          `json:"total"` // requests since the server started
	Kept     int             `json:"kept"`  // the most the log holds
	Requests []loggedRequest `json:"requests"`
}

// snapshot returns the log, oldest request first.
func (l *requestLog) snapshot() requestLogJSON {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := requestLogJSON{Total: l.total, Kept: cap(l.ring), Requests: make([]loggedRequest, 0, len(l.ring))}
	out.Requests = append(out.Requests, l.ring[l.next:]...)
	out.Requests = append(out.Requests, l.ring[:l.next]...)
	return out
}

// cutHeader copies at most maxLoggedHeaders fields of h (in name order) and
// maxLoggedValues values of each, cut to maxLoggedText bytes, with the
// Authorization value redacted.
func cutHeader(h http.Header) map[string][]string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make(map[string][]string, min(len(names), maxLoggedHeaders))
	for _, k := range names[:min(len(names), maxLoggedHeaders)] {
		vs := h[k][:min(len(h[k]), maxLoggedValues)]
		cp := make([]string, len(vs))
		for i, v := range vs {
			if strings.EqualFold(k, "Authorization") {
				v = "[redacted]"
				if scheme, _, ok := strings.Cut(h[k][i], " "); ok && strings.EqualFold(scheme, "Bearer") {
					v = "Bearer [redacted]"
				}
			}
			cp[i] = cutText(v, maxLoggedText)
		}
		out[cutText(k, maxLoggedText)] = cp
	}
	return out
}

// cutText returns a copy of s cut to at most n bytes at a rune boundary,
// marked "…" when cut. The copy does not keep s's memory alive.
func cutText(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.Clone(s[:cut]) + "…"
}
