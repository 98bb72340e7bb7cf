package client

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Raw() shares the SDK's model: CheckResponse turns a generated client's
// response into the error Get would return, and DecodeInvocation
// (decode.go) decodes a body as Get does. Client.Raw's doc shows the
// pattern.

// CheckResponse returns nil for a 2xx response and otherwise the *APIError
// that Get returns for the same response: status, code, message, request
// id, capped headers and body, matching ErrNotFound, ErrUnauthorized,
// ErrForbidden or ErrRateLimited with errors.Is. body is the response's
// body, already read (a generated response's Body field); resp.Body is not
// read.
//
// Like Get's, the error is scrubbed of the API key: the key this function
// scrubs is the bearer token of resp.Request, which every response sent
// through a Client's pipeline (Raw included) carries. A response without
// its request (from a Doer that does not set it) is capped but scrubbed of
// nothing; Client.CheckResponse scrubs the client's own key in every case.
// It scrubs nothing else: after a redirect to another host (which drops
// the Authorization header), or for a request sent outside a Client, the
// error quotes whatever the server echoed, the key included.
//
// Deprecated: Use [Client.CheckResponse], which scrubs the client's own key
// whatever the response's request carries.
func CheckResponse(resp *http.Response, body []byte) error {
	var key string
	if resp != nil && resp.Request != nil {
		scheme, token, _ := strings.Cut(resp.Request.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "Bearer") {
			key = strings.TrimSpace(token)
		}
	}
	return checkResponse(resp, body, newRedactor(key))
}

// CheckResponse is the package's CheckResponse scrubbing the client's API
// key, whatever the response's request carries: use it for responses of
// c.Raw().
func (c *Client) CheckResponse(resp *http.Response, body []byte) error {
	return checkResponse(resp, body, c.redact)
}

func checkResponse(resp *http.Response, body []byte, r *redactor) error {
	if resp == nil {
		return errors.New("bctrl: CheckResponse: nil response")
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	req := resp.Request
	if req == nil || req.URL == nil {
		req = &http.Request{URL: &url.URL{}} // method and path unknown
	}
	return r.err(newAPIError(req, resp, body))
}

// rawDoer is the Doer the generated client (Raw) sends through: a short
// adapter onto the executor. The generated builder made the request and
// authorize signed it; the executor retries it under the client's
// configuration, and Do is the exit where its error crosses the boundary
// (transport errors, after retries). The response's body is the one the
// executor read, and its Request the one sent.
type rawDoer struct{ c *Client }

func (d rawDoer) Do(req *http.Request) (*http.Response, error) {
	ex, err := d.c.execute(req.Context(), call{cfg: d.c.cfg, req: req})
	if err != nil {
		return nil, d.c.boundary(err)
	}
	resp := *ex.resp // the Doer's, copied: the executor set its Body aside
	resp.Body = io.NopCloser(bytes.NewReader(ex.body))
	resp.ContentLength = int64(len(ex.body))
	resp.Request = req
	return &resp, nil
}
