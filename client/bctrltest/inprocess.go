package bctrltest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
)

// inMemoryHost is the host of an InMemory server's URL. A ".localhost" name
// is loopback (RFC 6761), so the client accepts it over plain http, and no
// listener answers it.
const inMemoryHost = "bctrltest.localhost"

const inMemoryURL = "http://" + inMemoryHost

// HTTPClient returns an HTTP client whose transport serves every request
// in-process: it calls the server's handler directly, on the goroutine that
// sends the request, and returns what the handler wrote. No socket, no
// connection pool, no goroutine of its own, so a test that also builds the
// server with InMemory runs inside a testing/synctest bubble and waits in
// fake time:
//
//	synctest.Test(t, func(t *testing.T) {
//		srv := bctrltest.NewServer(t, bctrltest.InMemory())
//		c, err := client.New(client.WithAPIKey(srv.APIKey()),
//			client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()))
//		...
//	})
//
// The transport honours the request's context: a request whose context
// ends while the handler waits (a Hang or Latency fault) fails with the
// context's error. A Drop or Hang fault fails the request as a closed
// connection would, with an error matching io.ErrUnexpectedEOF. It serves
// only the host of URL, and fails once the server is closed. It works for a
// listening server too, serving the same handler without the network.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: inProcess{s}}
}

// errServerClosed is the error of a request sent after Close.
var errServerClosed = errors.New("bctrltest: server closed")

// inProcess is the transport of HTTPClient.
type inProcess struct{ s *Server }

// RoundTrip serves req with the server's handler.
func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.s
	ctx := req.Context()
	if req.Body != nil {
		defer req.Body.Close() // a RoundTripper closes the body, even on errors
	}
	where := req.Method + " " + req.URL.Redacted()
	if req.URL.Scheme != "http" || req.URL.Host != s.host {
		return nil, fmt.Errorf("bctrltest: %s: the in-process client serves only http://%s", where, s.host)
	}
	select {
	case <-s.closed:
		return nil, fmt.Errorf("%s: %w", where, errServerClosed)
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// The request as a server sees it: its own copy, a URL of path and
	// query only, and a body that is never nil.
	sreq := req.Clone(ctx)
	sreq.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	sreq.RequestURI = req.URL.RequestURI()
	sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	sreq.RemoteAddr = "127.0.0.1:1"
	if sreq.Host == "" {
		sreq.Host = req.URL.Host
	}
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}

	rec := httptest.NewRecorder()
	aborted, panicked := serveRecovering(s.handler, rec, sreq)
	switch {
	case ctx.Err() != nil:
		// The caller stopped waiting, whatever the handler did next.
		return nil, ctx.Err()
	case panicked != nil:
		return nil, fmt.Errorf("bctrltest: %s: the handler panicked: %v", where, panicked)
	case aborted:
		return nil, fmt.Errorf("bctrltest: %s: connection closed without a response: %w", where, io.ErrUnexpectedEOF)
	}
	resp := rec.Result()
	resp.Request = req
	if req.Method == http.MethodHead {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// serveRecovering runs h. A handler that aborts (http.ErrAbortHandler,
// which a Drop or Hang fault raises when it cannot hijack the in-process
// writer) reports aborted; any other panic is returned, as net/http's
// server recovers it and closes the connection.
func serveRecovering(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool, panicked any) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				aborted = true
				return
			}
			panicked = v
		}
	}()
	h.ServeHTTP(w, r)
	return false, nil
}
