package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors, matched with errors.Is. An *APIError matches the sentinel
// for its status code.
var (
	ErrNotFound     = errors.New("bctrl: not found")    // 404
	ErrUnauthorized = errors.New("bctrl: unauthorized") // 401
	ErrForbidden    = errors.New("bctrl: forbidden")    // 403
	ErrRateLimited  = errors.New("bctrl: rate limited") // 429

	// ErrInvalidResponse matches every *ResponseError: a 2xx response whose
	// body is not the JSON the spec describes.
	ErrInvalidResponse = errors.New("bctrl: invalid response")

	// ErrResponseTooLarge is returned (wrapped) when a response body exceeds
	// the cap set by WithMaxResponseBytes.
	ErrResponseTooLarge = errors.New("bctrl: response body too large")

	// ErrInvalidID is returned (wrapped) before any request for an id that
	// cannot name an invocation: empty, ".", "..", or with control
	// characters.
	ErrInvalidID = errors.New("bctrl: invalid id")

	// ErrTooManyRedirects is returned (wrapped) when a request was
	// redirected more than 10 times. Like every error no retry can fix, it
	// is not retried, and it stops a Wait at once.
	ErrTooManyRedirects = errors.New("bctrl: too many redirects")
)

// ErrAuthorizationParam is returned (wrapped), before anything is sent, by
// a call of Raw whose generated parameters set an Authorization header
// other than the client's own, such as
// gen.GetInvocationParams{Authorization: "Bearer sk-other"}. The client
// authenticates every request with its key (WithAPIKey) and neither
// silently replaces a caller's credential nor sends one it cannot scrub
// from errors, logs and spans: use a Client made with that key instead.
// Nil parameters, an empty Authorization, or the client's own
// "Bearer <key>" are accepted.
var ErrAuthorizationParam = errors.New("bctrl: Authorization parameter differs from the client's API key")

// ErrWaitTimeout is matched (errors.Is) by the error of a Wait or Watch that
// ran past WithMaxWait before the invocation ended.
var ErrWaitTimeout = errors.New("bctrl: wait timed out")

// ErrUnknownStatus is matched by the InvocationError of an invocation that
// finished (finishedAt is set) with a status this SDK does not know.
var ErrUnknownStatus = errors.New("bctrl: unknown invocation status")

// ErrClientOnlyOption is matched (errors.Is) by the error of a call given
// an option that configures the client as a whole, such as WithBaseURL.
// The error names the option; nothing is sent.
var ErrClientOnlyOption = errors.New("bctrl: client-only option")

// Caps on what an error keeps from a response, so that a hostile or broken
// server cannot make an error (or a log line printing it) hold megabytes.
const (
	maxErrorBody     = 4 << 10  // raw body kept in an APIError or ResponseError
	maxErrorBodyRead = 64 << 10 // bytes of a non-2xx body read at all
	maxErrorMessage  = 4 << 10  // what Error() of any error the SDK returns says
	maxErrorString   = 1 << 10  // Message, a URL, and each header value kept
	maxErrorToken    = 256      // Code, RequestID, a header name, a status
	maxErrorHeader   = 64       // header fields kept
)

// APIError is a non-2xx response from the API. Code, Message and RequestID
// are read from the bctrl JSON error body when there is one
// ({"code":"auth.required","error":"...","requestId":"..."}, or "message"
// instead of "error") and from the x-request-id header; a body that is not
// JSON (a proxy's HTML page) is kept, capped, in Body. Like every error the
// client returns, its strings are scrubbed of the API key and capped.
type APIError struct {
	StatusCode int         // HTTP status code
	Code       string      // machine-readable code, such as "auth.required"; may be empty
	Message    string      // human-readable message; the status text when the body has none
	RequestID  string      // the server's request id, for support tickets; may be empty
	Method     string      // request method
	Path       string      // request path (never carries credentials)
	Header     http.Header // response headers
	Body       []byte      // raw response body, at most 4 KiB
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bctrl: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and the other sentinels work.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// retryableStatus reports whether a response status is worth retrying.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Temporary reports whether the request may succeed if retried.
func (e *APIError) Temporary() bool { return retryableStatus(e.StatusCode) }

// newAPIError builds an APIError from a response whose body has been read
// (at most maxErrorBodyRead bytes). The error is raw: the boundary scrubs
// and caps every string of it before a user sees it.
func newAPIError(req *http.Request, resp *http.Response, body []byte) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     req.Method,
		Path:       req.URL.EscapedPath(),
		Header:     resp.Header,
		Body:       body,
		RequestID:  resp.Header.Get("X-Request-Id"),
	}
	var wire struct {
		Code      json.RawMessage `json:"code"`
		Error     json.RawMessage `json:"error"`
		Message   json.RawMessage `json:"message"`
		RequestID string          `json:"requestId"`
	}
	if json.Unmarshal(body, &wire) == nil {
		e.Code = textOf(wire.Code)
		e.Message = textOf(wire.Message)
		if e.Message == "" {
			e.Message = textOf(wire.Error)
		}
		if e.RequestID == "" {
			e.RequestID = wire.RequestID
		}
	}
	return e
}

// textOf returns a JSON string's value, or the raw JSON of any other value
// (some proxies send {"error":{"message":...}}), or "" for null or nothing.
func textOf(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// ResponseError is a 2xx response whose body could not be decoded as the
// spec's JSON: malformed or truncated JSON, an empty body, an HTML page, or
// a field of the wrong type. It matches ErrInvalidResponse. Its strings,
// and the chain of Err, are scrubbed of the API key and capped.
type ResponseError struct {
	StatusCode  int
	ContentType string
	RequestID   string
	Header      http.Header // response headers, capped
	Body        []byte      // raw response body, at most 4 KiB
	Err         error       // the decoding error
}

// Error implements error. A body decoded on its own (DecodeInvocation)
// has no status or content type, and its message names none.
func (e *ResponseError) Error() string {
	var parts []string
	if e.StatusCode != 0 {
		parts = append(parts, fmt.Sprintf("status %d, content type %q", e.StatusCode, e.ContentType))
	}
	if e.RequestID != "" {
		parts = append(parts, "request id "+e.RequestID)
	}
	msg := "bctrl: invalid response"
	if len(parts) > 0 {
		msg += " (" + strings.Join(parts, ", ") + ")"
	}
	return msg + ": " + inner(e.Err)
}

// Unwrap returns the decoding error.
func (e *ResponseError) Unwrap() error { return e.Err }

// newResponseError builds a ResponseError for a 2xx response whose body
// did not decode. Like newAPIError's, it is raw until the boundary.
func newResponseError(resp *http.Response, requestID string, body []byte, err error) *ResponseError {
	return &ResponseError{
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		RequestID:   requestID,
		Header:      resp.Header,
		Body:        body,
		Err:         err,
	}
}

// Is makes errors.Is(err, ErrInvalidResponse) work.
func (e *ResponseError) Is(target error) bool { return target == ErrInvalidResponse }

// One prefix: every error the client returns starts with "bctrl: ", once.
// An error of the SDK that wraps another puts the other's message after
// its own without that message's prefix.

// inner is err's message inside another of the SDK's messages: without
// its own "bctrl: " prefix.
func inner(err error) string { return strings.TrimPrefix(fmt.Sprint(err), "bctrl: ") }

// wrapped is an SDK error that says where it happened and wraps the
// error that happened there: "bctrl: GET /v1/...: <inner(err)>".
type wrapped struct {
	msg  string
	errs []error
}

func (e *wrapped) Error() string { return e.msg }

// Unwrap returns the wrapped errors.
func (e *wrapped) Unwrap() []error { return e.errs }

// wrapError returns "bctrl: " + where + ": " + err's message, wrapping err.
func wrapError(where string, err error) error {
	return &wrapped{msg: "bctrl: " + where + ": " + inner(err), errs: []error{err}}
}
