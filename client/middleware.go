package client

import (
	"errors"
	"net/http"
)

// Middleware wraps the transport that sends each HTTP attempt: every retry
// and every poll of a Wait passes through it. otelhttp.NewTransport, a
// Prometheus round-tripper or a user's own fit. With otelhttp, turn the
// SDK's own HTTP spans off, so that each attempt has one client span:
//
//	client.WithHTTPSpans(false),
//	client.WithMiddleware(func(next http.RoundTripper) http.RoundTripper {
//		return otelhttp.NewTransport(next)
//	})
type Middleware func(next http.RoundTripper) http.RoundTripper

// WithMiddleware adds transport middleware. It wraps the SDK's own
// transport, so the SDK's dial, TLS and header timeouts and its redirect
// rule (no Authorization on a cross-host redirect) stay in force; with
// WithHTTPClient it wraps that Doer instead. The first middleware given is
// the outermost: it sees a request first and its response last. Options
// may add middleware more than once; all of it applies, in order.
//
// Scope: client-only (see Option).
func WithMiddleware(mw ...Middleware) Option {
	return func(c *config) error {
		if err := c.clientOnly("WithMiddleware"); err != nil {
			return err
		}
		for _, m := range mw {
			if m == nil {
				return errors.New("bctrl: WithMiddleware: nil middleware")
			}
		}
		c.middleware = append(c.middleware, mw...)
		return nil
	}
}

// chain wraps rt in mw, the first outermost.
func chain(mw []Middleware, rt http.RoundTripper) http.RoundTripper {
	for i := len(mw) - 1; i >= 0; i-- {
		rt = mw[i](rt)
	}
	return rt
}

// roundTripperFunc adapts a function, such as a Doer's Do, to
// http.RoundTripper.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// doerFunc adapts a function to Doer.
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// httpDoer returns the Doer every attempt goes through: the user's Doer or
// the default client, wrapped in the configured middleware.
func httpDoer(cfg *config) Doer {
	if cfg.httpClient == nil {
		tr := defaultTransport()
		return &http.Client{Transport: chain(cfg.middleware, tr), CheckRedirect: checkRedirect}
	}
	d := cfg.httpClient
	if hc, ok := d.(*http.Client); ok && hc.CheckRedirect == nil {
		// An *http.Client with the default redirect policy forwards the
		// Authorization header to another port of the same host; a copy
		// with the SDK's rule does not.
		cp := *hc
		cp.CheckRedirect = checkRedirect
		d = &cp
	}
	if len(cfg.middleware) == 0 {
		return d
	}
	return doerFunc(chain(cfg.middleware, roundTripperFunc(d.Do)).RoundTrip)
}
