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

// Caps on what an error keeps from a response, so that a hostile or broken
// server cannot make an error (or a log line printing it) hold megabytes.
const (
	maxErrorBody     = 4 << 10  // raw body kept in an APIError or ResponseError
	maxErrorBodyRead = 64 << 10 // bytes of a non-2xx body read at all
	maxErrorString   = 1 << 10  // Message, and each header value kept
	maxErrorToken    = 256      // Code, RequestID
	maxErrorHeader   = 64       // header fields kept
)

// APIError is a non-2xx response from the API. Code, Message and RequestID
// are read from the bctrl JSON error body when there is one
// ({"code":"auth.required","error":"...","requestId":"..."}, or "message"
// instead of "error") and from the x-request-id header; a body that is not
// JSON (a proxy's HTML page) is kept, capped, in Body.
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

// Temporary reports whether the request may succeed if retried.
func (e *APIError) Temporary() bool { return retryableStatus(e.StatusCode) }

// newAPIError builds an APIError from a response whose body has been read.
// Every string it keeps goes through r: scrubbed of the key, then capped.
func newAPIError(req *http.Request, resp *http.Response, body []byte, r redactor) *APIError {
	body = r.bytes(body)
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     req.Method,
		Path:       r.text(req.URL.EscapedPath(), maxErrorString),
		Header:     r.header(resp.Header),
		Body:       capBytes(body, maxErrorBody),
		RequestID:  r.text(resp.Header.Get("X-Request-Id"), maxErrorToken),
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
	// Scrubbed again after parsing: a JSON-escaped key ("\u0073k-...") only
	// shows once unescaped.
	e.Code = r.text(e.Code, maxErrorToken)
	e.Message = r.text(e.Message, maxErrorString)
	e.RequestID = r.text(e.RequestID, maxErrorToken)
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
	return string(capBytes(raw, 512))
}

func capBytes(b []byte, n int) []byte {
	if len(b) > n {
		b = b[:n]
	}
	return append([]byte(nil), b...)
}

// ResponseError is a 2xx response whose body could not be decoded as the
// spec's JSON: malformed or truncated JSON, an empty body, an HTML page, or
// a field of the wrong type. It matches ErrInvalidResponse.
type ResponseError struct {
	StatusCode  int
	ContentType string
	RequestID   string
	Header      http.Header // response headers, capped
	Body        []byte      // raw response body, at most 4 KiB
	Err         error       // the decoding error
}

// Error implements error.
func (e *ResponseError) Error() string {
	msg := fmt.Sprintf("bctrl: invalid response (status %d, content type %q", e.StatusCode, e.ContentType)
	if e.RequestID != "" {
		msg += ", request id " + e.RequestID
	}
	return msg + "): " + e.Err.Error()
}

// Unwrap returns the decoding error.
func (e *ResponseError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalidResponse) work.
func (e *ResponseError) Is(target error) bool { return target == ErrInvalidResponse }
