package bctrltest

import (
	"fmt"
	"net/http"
	"time"
)

// A Fault is a failure the server injects in place of, or before, its
// normal answer. Register one with Server.Fault.
//
// Latency applies first. Then the first of Drop, Hang, Malformed and
// Status that is set decides the answer; a Fault with none of them set only
// delays the normal answer.
//
// Note that net/http's Transport transparently retries an idempotent
// request once when a reused keep-alive connection closes without a
// response, so a Drop that applies to a single request may go unnoticed by
// a Go client; use Times > 1, or a client that disables keep-alives, to see
// the error.
type Fault struct {
	// Status is the HTTP status to answer with, for example 429 or 503.
	Status int
	// RetryAfter, if set, is sent as the Retry-After header, for example
	// "2" or an HTTP date.
	RetryAfter string
	// Body is the response body. If empty, a bctrl-style JSON error is
	// sent.
	Body string
	// ContentType is the Content-Type of Body. The default is
	// application/json.
	ContentType string
	// Latency delays the answer by this much time on the process's clock:
	// real time, or the fake time of a testing/synctest bubble (see
	// InMemory); never the clock of WithClock. The delay ends early if the
	// request is cancelled or the server closes.
	Latency time.Duration
	// Malformed sends a truncated JSON body, with status 200 unless Status
	// is set.
	Malformed bool
	// Drop closes the connection without sending a response.
	Drop bool
	// Hang accepts the request and never answers: the handler waits until
	// the request's context is done or the server closes, and then closes
	// the connection.
	Hang bool
	// Times is how many requests the fault applies to; 0 means every
	// matching request, forever.
	Times int
}

// faultEntry is a registered Fault and how many more requests it applies
// to (-1: unlimited).
type faultEntry struct {
	id   string // the invocation id, or "" for any request
	f    Fault
	left int
}

// Fault registers f for requests that address invocation id, or for every
// request if id is "". Faults are matched in the order they were
// registered: a request gets the first registered fault that matches it and
// still applies, and its Times is consumed. A request that gets a fault is
// still recorded by Requests.
func (s *Server) Fault(id string, f Fault) {
	if f.Times < 0 {
		panic(fmt.Sprintf("bctrltest: Fault: negative Times %d", f.Times))
	}
	e := &faultEntry{f: f, left: f.Times}
	if f.Times == 0 {
		e.left = -1
	}
	e.id = id
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, e)
}

// takeFault returns and consumes the first fault that applies to a request
// for id ("" if the request addresses no invocation). s.mu must be held.
func (s *Server) takeFault(id string) (Fault, bool) {
	for i, e := range s.faults {
		if e.id != "" && e.id != id {
			continue
		}
		if e.left > 0 {
			e.left--
			if e.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return e.f, true
	}
	return Fault{}, false
}

// applyFault answers r according to f. It reports false if f only delayed
// the request and normal handling should follow.
func (s *Server) applyFault(w *recorder, r *http.Request, f Fault) bool {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-s.closed:
			abort(w)
			return true
		}
	}
	switch {
	case f.Drop:
		abort(w)
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		abort(w)
	case f.Malformed:
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		setRetryAfter(w, f)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"id":"00000000-0000-0000-0000-000000000000","status":"runn`)
	case f.Status != 0:
		setRetryAfter(w, f)
		if f.Body == "" {
			writeError(w, f.Status, "bctrltest.fault", "error",
				fmt.Sprintf("injected fault: %d %s", f.Status, http.StatusText(f.Status)))
			return true
		}
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		fmt.Fprint(w, f.Body)
	default:
		return false
	}
	return true
}

func setRetryAfter(w http.ResponseWriter, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
}

// abort closes the connection without writing a response.
func abort(w *recorder) {
	w.aborted = true
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2, or a ResponseWriter that cannot be hijacked: abort the
		// handler, which net/http turns into a reset without a response.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
