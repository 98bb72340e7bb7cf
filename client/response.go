package client

import (
	"context"
	"net/http"
)

// ResponseInfo describes the HTTP exchange behind a call: the final
// response's status and headers, the server's request id (the first thing
// bctrl support asks for), and how many attempts the call took, retries
// included.
//
// Like an error's, its strings are scrubbed of the API key and capped: a
// server may reflect the key, in a value or in a header's name.
type ResponseInfo struct {
	StatusCode int         // 0 if no response arrived
	Header     http.Header // the final response's headers (at most 64 fields of 8 values of 1 KiB); nil if none arrived
	RequestID  string      // the x-request-id header; "" if none
	Attempts   int         // 1 when the first attempt answered
}

type responseInfoKey struct{}

// WithResponseInfo returns a context that makes every call made with it
// record the metadata of its final response into info: every operation of
// Raw, successful or not, and the client's own calls. For the client's own
// calls prefer the option WithResponseInto; this context form is for Raw,
// whose generated methods take no options. Use one info per call at a
// time.
//
//	var info client.ResponseInfo
//	resp, err := c.Raw().GetInvocationWithResponse(client.WithResponseInfo(ctx, &info), id, nil)
//	log.Println(info.RequestID, info.Attempts)
func WithResponseInfo(ctx context.Context, info *ResponseInfo) context.Context {
	return context.WithValue(ctx, responseInfoKey{}, info)
}

// requestID returns resp's x-request-id, scrubbed of the key and capped.
func (c *Client) requestID(resp *http.Response) string {
	return c.redact.text(resp.Header.Get("X-Request-Id"), maxErrorToken)
}

// cleanPath is req's path for an error, a log record or a span, scrubbed
// of the key and capped (an id is the caller's input, and may be anything).
func (c *Client) cleanPath(req *http.Request) string {
	return c.redact.text(req.URL.EscapedPath(), maxErrorString)
}
