package client

import (
	"context"
	"fmt"
	"net/http"
)

// Version is the SDK version reported in the User-Agent header.
const Version = "0.1.0"

const defaultUserAgent = "bctrl-go/" + Version

// secret holds the API key. Every print form of it is redacted, so a key
// inside a struct printed with %v, %+v or %#v, or marshalled to JSON, never
// shows.
type secret string

const redacted = "[redacted]"

func (s secret) String() string               { return redacted }
func (s secret) GoString() string             { return redacted }
func (s secret) Format(f fmt.State, _ rune)   { fmt.Fprint(f, redacted) }
func (s secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// authorize is the request editor that adds the bearer key and the
// User-Agent to every request the generated client builds, so no caller
// fills the spec's Authorization header parameter. One a caller did fill
// with another credential is refused, never silently replaced.
func (c *Client) authorize(_ context.Context, req *http.Request) error {
	if err := checkAuthorizationParam(req, c.cfg.apiKey); err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+string(c.cfg.apiKey))
	req.Header.Set("User-Agent", c.cfg.userAgent)
	req.Header.Set("Accept", "application/json")
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
