package bctrltest

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bctrlhq/sdk-go/apitype"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/gen"
)

// invocationsPath is the prefix of the spec's only route,
// GET /v1/invocations/{id}, below the base path.
const invocationsPath = "/v1/invocations/"

// A Server is a fake bctrl API listening on a loopback address, or, with
// InMemory, on none: HTTPClient serves it in-process either way. Its
// methods are safe for concurrent use, including while requests are being
// served.
type Server struct {
	// URL is the base URL of the fake API, of the form
	// http://127.0.0.1:port (http://bctrltest.localhost for an InMemory
	// server) followed by the base path (see WithBasePath), with no
	// trailing slash. Pass it to the client as its base URL.
	URL string

	cfg     config
	handler http.Handler
	ts      *httptest.Server // nil for an InMemory server
	host    string           // URL's host, the one HTTPClient serves

	closed    chan struct{} // closed by Close; releases Hang faults
	closeOnce sync.Once

	mu          sync.Mutex
	invocations map[string]*entry // by invocation id, exactly as given
	faults      []*faultEntry     // FIFO
	requests    []Request
	nextID      uint64                  // request id counter
	handlers    map[string]http.Handler // by operationId; see HandleOperation
}

// entry is what the server knows about one invocation id.
type entry struct {
	states []gen.Invocation
	served int // GETs answered so far; selects the state of a Script

	every time.Duration // > 0 for Advance: the state changes every interval
	start time.Time     // when Advance was called
	stamp bool          // StampNow: serve the timeline's own times
}

// current returns the state to serve at now and counts the GET.
func (e *entry) current(now time.Time) gen.Invocation {
	i := e.served
	if e.every > 0 {
		i = int(now.Sub(e.start) / e.every)
	}
	e.served++
	i = max(0, min(i, len(e.states)-1))
	if e.stamp {
		return stampAt(e.states, i, e.start, e.every)
	}
	return e.states[i]
}

// NewServer starts a fake API on a loopback address (on none with
// InMemory) and stops it when the test and its subtests have finished. It
// fails the test if an option is invalid. In a testing/synctest bubble,
// call it inside the bubble, with InMemory.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := newServer(opts)
	if err != nil {
		t.Fatalf("bctrltest: %v", err)
	}
	if s.cfg.inMemory {
		s.URL = inMemoryURL + s.cfg.basePath
		s.host = inMemoryHost
	} else {
		s.ts = httptest.NewServer(s.handler)
		s.URL = s.ts.URL + s.cfg.basePath
		s.host = s.ts.Listener.Addr().String()
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake API listening on addr, for example "127.0.0.1:0" to
// pick a free port, for use outside tests such as a local development
// server. The caller must call Close.
func Start(addr string, opts ...Option) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bctrltest: %w", err)
	}
	if s.cfg.inMemory {
		return nil, errors.New("bctrltest: Start listens on addr; InMemory is for NewServer")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bctrltest: %w", err)
	}
	ts := httptest.NewUnstartedServer(s.handler)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	s.ts = ts
	s.URL = ts.URL + s.cfg.basePath
	s.host = ln.Addr().String()
	return s, nil
}

func newServer(opts []Option) (*Server, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:         cfg,
		closed:      make(chan struct{}),
		invocations: make(map[string]*entry),
		handlers:    make(map[string]http.Handler),
	}
	// Every operation of the spec is routed (specOperations is
	// generated): to a handler HandleOperation set, else to the generated
	// router of those the fake models, else to a 501.
	modelled := http.NewServeMux()
	gen.HandlerWithOptions(api{s}, gen.StdHTTPServerOptions{
		BaseURL:          cfg.basePath,
		BaseRouter:       modelled,
		ErrorHandlerFunc: s.paramError,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.notFound)
	for _, op := range specOperations {
		mux.Handle(op.Method+" "+cfg.basePath+op.Pattern, s.operation(op, modelled))
	}
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, mux)
	})
	return s, nil
}

// APIKey returns the API key the server accepts.
func (s *Server) APIKey() string { return s.cfg.apiKey }

// Handler returns the server's HTTP handler: routing, authentication,
// faults and the request log, as served at URL. Use it to mount the fake
// in another server; paths are matched including the base path.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases requests held by Hang faults, shuts the server down and
// waits for in-flight requests to finish. Requests sent through HTTPClient
// after Close fail. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.ts != nil {
			s.ts.Close()
		}
	})
}

// Add registers an invocation that the server serves unchanged until Set,
// Script or Advance replaces it. A GET of /v1/invocations/{inv.ID} finds
// it. Add panics if inv has no id or no createdAt (build it with
// NewInvocation), or if an invocation with that id is already registered.
func (s *Server) Add(inv Invocation) {
	check("Add", inv.ID, inv)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.invocations[inv.ID]; ok {
		panic(fmt.Sprintf("bctrltest: Add: invocation %q already exists; use Set to replace it", inv.ID))
	}
	s.invocations[inv.ID] = &entry{states: []gen.Invocation{inv}}
}

// Set replaces whatever the server holds for inv.ID (a single state, a
// Script or an Advance) with inv, served unchanged from now on. It panics if
// inv has no id or no createdAt.
func (s *Server) Set(inv Invocation) {
	check("Set", inv.ID, inv)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invocations[inv.ID] = &entry{states: []gen.Invocation{inv}}
}

// Remove forgets whatever the server holds for id (a single state, a
// Script or an Advance): later GETs of it answer 404, as for an id never
// registered. Removing an id the server does not hold does nothing. A
// long-running server that registers ids as they are asked for (a dev
// server) removes them again to keep its store bounded.
func (s *Server) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.invocations, id)
}

// Script makes successive authorized GETs of /v1/invocations/{id} return
// states in order; once they are used up the last state repeats forever. It
// replaces anything registered for id. States without an ID get id.
// Requests answered by a fault or an error do not advance the script.
// Script panics if states is empty or a state has no createdAt.
func (s *Server) Script(id string, states ...Invocation) {
	s.store(id, "Script", &entry{states: withID("Script", id, states)})
}

// Advance makes id move through states over time: from the moment Advance
// is called, as read from the server's clock (see WithClock), the state
// changes every interval, and the last state repeats forever. It replaces
// anything registered for id. States without an ID get id. Advance panics
// if states is empty, a state has no createdAt, or every is not positive.
// The states are served with the builders' timestamps; AdvanceWith and
// StampNow serve the times the timeline goes through instead.
func (s *Server) Advance(id string, every time.Duration, states ...Invocation) {
	if every <= 0 {
		panic(fmt.Sprintf("bctrltest: Advance: interval %v is not positive", every))
	}
	s.store(id, "Advance", &entry{states: withID("Advance", id, states), every: every, start: s.cfg.now()})
}

func (s *Server) store(id, method string, e *entry) {
	if len(e.states) == 0 {
		panic(fmt.Sprintf("bctrltest: %s(%q): no states", method, id))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invocations[id] = e
}

// withID copies states, giving those without an ID the id they are
// registered under, and checks them.
func withID(method, id string, states []gen.Invocation) []gen.Invocation {
	out := make([]gen.Invocation, len(states))
	for i, st := range states {
		if st.ID == "" {
			st.ID = id
		}
		check(method, id, st)
		out[i] = st
	}
	return out
}

// check panics if inv lacks a required field whose zero value encoding/json
// would leave out of the body (id is empty, not absent, but is the key the
// server finds inv by).
func check(method, id string, inv gen.Invocation) {
	switch {
	case inv.ID == "":
		panic(fmt.Sprintf("bctrltest: %s: invocation has no id; build it with NewInvocation", method))
	case inv.CreatedAt.IsZero():
		panic(fmt.Sprintf("bctrltest: %s(%q): invocation has no createdAt; build it with NewInvocation", method, id))
	}
}

// A Request is one request the server received, as recorded by Requests.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path as received, including any base path.
	Path string
	// ID is the invocation id the path addresses, or "" if it addresses
	// none.
	ID string
	// Header is a copy of the request header, with the Authorization value
	// redacted to "Bearer [redacted]" (or "[redacted]" for other schemes).
	Header http.Header
	// At is the server clock's time when the request arrived.
	At time.Time
}

// Requests returns the requests the server has received, oldest first,
// including those answered by a fault or an error (with WithRequestLimit,
// the last ones only).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.kept()
	out := make([]Request, len(kept))
	for i, r := range kept {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// kept returns the recorded requests WithRequestLimit keeps. s.mu is held.
func (s *Server) kept() []Request {
	if k := s.cfg.keep; k > 0 && len(s.requests) > k {
		return s.requests[len(s.requests)-k:]
	}
	return s.requests
}

// RequestCount returns how many requests addressed invocation id, whatever
// their outcome.
func (s *Server) RequestCount(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.kept() {
		if id != "" && r.ID == id {
			n++
		}
	}
	return n
}

// serve is the outermost handler: it assigns the request id, records the
// request, applies faults and hands the rest to the generated router.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, router http.Handler) {
	id := s.pathID(r)
	rec := &recorder{ResponseWriter: w}

	s.mu.Lock()
	s.nextID++
	reqID := fmt.Sprintf("req_%08d", s.nextID)
	s.requests = append(s.requests, Request{
		Method: r.Method,
		Path:   r.URL.Path,
		ID:     id,
		Header: redact(r.Header),
		At:     s.cfg.now(),
	})
	if k := s.cfg.keep; k > 0 && len(s.requests) >= 2*k {
		// Keep the last k, copied down once every k requests: the
		// record never holds more than 2k.
		s.requests = append(s.requests[:0:0], s.requests[len(s.requests)-k:]...)
	}
	f, faulted := s.takeFault(id)
	s.mu.Unlock()

	w.Header().Set("X-Request-Id", reqID)
	if !faulted || !s.applyFault(rec, r, f) {
		router.ServeHTTP(rec, r)
	}
	if s.cfg.logf != nil {
		outcome := fmt.Sprint(rec.status)
		switch {
		case rec.aborted:
			outcome = "connection closed without a response"
		case rec.status == 0:
			outcome = "no response"
		}
		s.cfg.logf("bctrltest: %s %s -> %s (%s)", r.Method, r.URL.Path, outcome, reqID)
	}
}

// pathID returns the invocation id r's path addresses, or "".
func (s *Server) pathID(r *http.Request) string {
	p, ok := strings.CutPrefix(r.URL.EscapedPath(), s.cfg.basePath+invocationsPath)
	if !ok || p == "" || strings.Contains(p, "/") {
		return ""
	}
	id, err := url.PathUnescape(p)
	if err != nil {
		return ""
	}
	return id
}

func redact(h http.Header) http.Header {
	h = h.Clone()
	if h == nil {
		return http.Header{}
	}
	for i, v := range h.Values("Authorization") {
		redacted := "[redacted]"
		if scheme, _, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
			redacted = "Bearer [redacted]"
		}
		h[http.CanonicalHeaderKey("Authorization")][i] = redacted
	}
	return h
}

// api adapts a Server to the generated gen.ServerInterface, so that the
// routes and parameters the fake accepts are the spec's.
type api struct{ s *Server }

var _ gen.ServerInterface = api{}

// GetInvocation serves GET /v1/invocations/{id}.
func (a api) GetInvocation(w http.ResponseWriter, r *http.Request, id string, params gen.GetInvocationParams) {
	s := a.s // operation authenticated the request
	now := s.cfg.now()
	s.mu.Lock()
	e, ok := s.invocations[id]
	var inv gen.Invocation
	if ok {
		inv = e.current(now)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "invocation.not_found", "message",
			fmt.Sprintf("invocation %s not found", id))
		return
	}
	inv.LastHeartbeatAt = heartbeat(inv, now)
	body, err := json.Marshal(inv)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "message",
			fmt.Sprintf("bctrltest: encode invocation %s: %v", id, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// heartbeat returns the lastHeartbeatAt to serve for inv at now. The
// builders derive timestamps from createdAt, not from the server's clock, so
// a state can carry a heartbeat that lies after now; no heartbeat can come
// from the future, so the server serves now instead. If now is before
// startedAt as well (or createdAt, for a state that never started), the
// invocation cannot have sent a heartbeat yet, and none is served. Other
// timestamps are served as built.
func heartbeat(inv gen.Invocation, now time.Time) apitype.Timestamp {
	hb := inv.LastHeartbeatAt
	if hb.IsZero() || !hb.After(now) {
		return hb
	}
	floor := inv.StartedAt
	if floor.IsZero() {
		floor = inv.CreatedAt
	}
	if now.Before(floor.Time) {
		return apitype.Timestamp{}
	}
	return apitype.At(now.UTC())
}

// paramError is the generated router's error handler: it reports bad or
// missing parameters the way the live API does.
func (s *Server) paramError(w http.ResponseWriter, r *http.Request, err error) {
	var missing *gen.RequiredHeaderError
	var invalid *gen.InvalidParamFormatError
	var tooMany *gen.TooManyValuesForParamError
	switch {
	case errors.As(err, &missing) && missing.ParamName == "Authorization":
		writeError(w, http.StatusUnauthorized, "auth.required", "error",
			"missing bearer token: send Authorization: Bearer <api-key>")
	case errors.As(err, &invalid) && invalid.ParamName == "Authorization",
		errors.As(err, &tooMany) && tooMany.ParamName == "Authorization":
		writeError(w, http.StatusUnauthorized, "auth.invalid", "error", "malformed Authorization header")
	default:
		writeError(w, http.StatusBadRequest, "request.invalid", "error", err.Error())
	}
}

// specOperation is one operation of the spec, as the fake routes it.
type specOperation struct {
	ID      string // operationId
	Method  string
	Pattern string // net/http.ServeMux pattern, below the base path
	Auth    bool   // the spec asks for the Authorization header
}

// authenticate answers 401 and reports false unless r carries exactly one
// "Authorization: Bearer <key>" with the server's key.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	v := r.Header.Values("Authorization")
	if len(v) > 1 {
		writeError(w, http.StatusUnauthorized, "auth.invalid", "error", "malformed Authorization header")
		return false
	}
	var scheme, token string
	if len(v) == 1 {
		scheme, token, _ = strings.Cut(v[0], " ")
		token = strings.TrimSpace(token)
	}
	switch {
	case !strings.EqualFold(scheme, "Bearer") || token == "":
		writeError(w, http.StatusUnauthorized, "auth.required", "error",
			"missing bearer token: send Authorization: Bearer <api-key>")
		return false
	case subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.apiKey)) != 1:
		writeError(w, http.StatusUnauthorized, "auth.invalid", "error", "invalid api key")
		return false
	}
	return true
}

// HandleOperation makes h serve the operation with the given operationId,
// in place of the fake's own handler, or of the 501 not_implemented that an
// operation the fake does not model answers. The request is still
// recorded (Requests), faults still apply, and if the spec asks for the
// Authorization header it is authenticated first (401 without the key),
// as for every operation; h sees the request as sent. A nil h
// restores the default. It panics if the spec has no such operation, as
// Add panics on a misuse: a misspelt id would otherwise leave the 501.
func (s *Server) HandleOperation(operationID string, h http.Handler) {
	known := false
	for _, op := range specOperations {
		known = known || op.ID == operationID
	}
	if !known {
		panic(fmt.Sprintf("bctrltest: HandleOperation: the spec has no operation %q", operationID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.handlers, operationID)
		return
	}
	s.handlers[operationID] = h
}

// operation serves op, once authenticated if the spec asks for it: with
// its HandleOperation handler if one is set, else with modelled if the
// fake models it, else with a 501 naming it.
func (s *Server) operation(op specOperation, modelled http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if op.Auth && !s.authenticate(w, r) {
			return
		}
		s.mu.Lock()
		h := s.handlers[op.ID]
		s.mu.Unlock()
		switch {
		case h != nil:
			h.ServeHTTP(w, r)
		case modelledOperations[op.ID]:
			modelled.ServeHTTP(w, r)
		default:
			writeError(w, http.StatusNotImplemented, "not_implemented", "error",
				fmt.Sprintf("bctrltest does not implement operation %s (%s %s): serve it with Server.HandleOperation", op.ID, op.Method, op.Pattern))
		}
	})
}

// notFound answers paths the spec does not declare.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if s.pathID(r) != "" {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method.not_allowed", "error",
			fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	writeError(w, http.StatusNotFound, "route.not_found", "error",
		fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
}

// writeError writes a bctrl-style JSON error. field is "error" or
// "message": the live API spells the human-readable text both ways.
func writeError(w http.ResponseWriter, status int, code, field, msg string) {
	body, _ := json.Marshal(map[string]string{
		"code":      code,
		field:       msg,
		"requestId": w.Header().Get("X-Request-Id"),
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// recorder remembers the status written through it. Unwrap lets
// http.ResponseController reach the underlying writer to hijack it.
type recorder struct {
	http.ResponseWriter
	status  int
	aborted bool
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
