package client

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/bctrlhq/sdk-go/internal/version"
)

const defaultUserAgent = "bctrl-go/" + version.Version

// secret holds the API key where fmt cannot reach it. Its print forms
// are redacted, for fmt and JSON; and since fmt prints the unexported
// fields of a struct by reflection, without calling those methods, the
// key itself sits behind a pointer, which fmt prints as an address. A
// Client holds its config, which holds a secret, by pointer too: fmt
// shows the contents of a pointer once (for a verb such as %s on it), but
// never of the pointers inside.
type secret struct{ p *string }

const redacted = "[redacted]"

func newSecret(key string) secret { return secret{&key} }

// reveal returns the key, or "" for none.
func (s secret) reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

func (s secret) String() string               { return redacted }
func (s secret) GoString() string             { return redacted }
func (s secret) Format(f fmt.State, _ rune)   { fmt.Fprint(f, redacted) }
func (s secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// authorize is the request editor that adds the bearer key, the
// User-Agent and the client's WithHeader headers to every request the
// generated client builds, so no caller fills the spec's Authorization
// header parameter. One a caller did fill with another credential is
// refused, never silently replaced; a header the caller's parameters set
// is kept over the client's.
func (c *Client) authorize(_ context.Context, req *http.Request) error {
	if err := checkAuthorizationParam(req, c.cfg.apiKey); err != nil {
		return err
	}
	for k, vs := range c.cfg.header {
		if _, set := req.Header[k]; !set {
			req.Header[k] = slices.Clone(vs)
		}
	}
	c.setCredentials(c.cfg, req)
	return nil
}

// setCredentials sets the bearer key, the call's User-Agent and Accept on
// a request the client sends.
func (c *Client) setCredentials(cfg *config, req *http.Request) {
	var vals [3]string
	setCredentials(cfg, req, &vals)
}

// setCredentials sets the three headers from vals, storage the caller
// allocated with the request: one allocation for all three. Each value
// is a slice of its own (len == cap), so an append never reaches
// another's.
func setCredentials(cfg *config, req *http.Request, vals *[3]string) {
	vals[0], vals[1], vals[2] = cfg.bearer.reveal(), cfg.userAgent, "application/json"
	req.Header["Authorization"] = vals[0:1:1]
	req.Header["User-Agent"] = vals[1:2:2]
	req.Header["Accept"] = vals[2:3:3]
}

// checkAuthorizationParam refuses an Authorization header that a generated
// request builder set from its parameters, unless it is empty or the
// client's own. The request editor that sets the client's key calls it
// first.
func checkAuthorizationParam(req *http.Request, key secret) error {
	for _, v := range req.Header.Values("Authorization") {
		if strings.TrimSpace(v) == "" {
			continue
		}
		scheme, token, _ := strings.Cut(v, " ")
		if strings.EqualFold(scheme, "Bearer") &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(key.reveal())) == 1 {
			continue
		}
		// The value is a credential: it is never part of the message.
		return fmt.Errorf("%w: leave params.Authorization empty (the client sends its own key) or use a Client made with the other key", ErrAuthorizationParam)
	}
	return nil
}

// checkRedirect follows at most 10 redirects and drops the Authorization
// header when a redirect leaves the original scheme and host (including the
// port: net/http keeps the header for another port of the same host).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("%w: stopped after 10", ErrTooManyRedirects)
	}
	first := via[0].URL
	if req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
		req.Header.Del("Authorization")
	}
	return nil
}
