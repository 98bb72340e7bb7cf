package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"
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
// Every string is scrubbed of key before it is cut, so no part of the key
// survives at a cut.
func newAPIError(req *http.Request, resp *http.Response, body []byte, key string) *APIError {
	body = scrub(body, key)
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     req.Method,
		Path:       capString(scrubString(req.URL.EscapedPath(), key), maxErrorString),
		Header:     capHeader(resp.Header, key),
		Body:       capBytes(body, maxErrorBody),
		RequestID:  capString(scrubString(resp.Header.Get("X-Request-Id"), key), maxErrorToken),
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
	e.Code = capString(scrubString(e.Code, key), maxErrorToken)
	e.Message = capString(scrubString(e.Message, key), maxErrorString)
	e.RequestID = capString(scrubString(e.RequestID, key), maxErrorToken)
	return e
}

// capString cuts s to at most n bytes, at a rune boundary, marking the cut.
func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[truncated]"
}

// capHeader copies h keeping at most maxErrorHeader fields, each value
// scrubbed of key and then cut to maxErrorString bytes: the headers of an
// error stay small whatever the server sent.
func capHeader(h http.Header, key string) http.Header {
	out := make(http.Header, min(len(h), maxErrorHeader))
	for k, vs := range h {
		if len(out) == maxErrorHeader {
			break
		}
		vs = vs[:min(len(vs), 8)]
		cp := make([]string, len(vs))
		for i, v := range vs {
			cp[i] = capString(scrubString(v, key), maxErrorString)
		}
		out[k] = cp
	}
	return out
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

// scrub replaces the API key in a body that goes into an error, in case a
// proxy or a misbehaving server reflects the request's headers back.
func scrub(body []byte, key string) []byte {
	if key == "" {
		return body
	}
	for _, form := range keyForms(key) {
		if bytes.Contains(body, []byte(form)) {
			body = bytes.ReplaceAll(body, []byte(form), []byte(redacted))
		}
	}
	return body
}

// scrubString is scrub for a string.
func scrubString(s, key string) string {
	if key == "" {
		return s
	}
	for _, form := range keyForms(key) {
		if strings.Contains(s, form) {
			s = strings.ReplaceAll(s, form, redacted)
		}
	}
	return s
}

// keyForms returns the key as it may appear in text the SDK passes on: as
// is, escaped in a URL path or query, in a JSON string, or in a JSON
// pointer (json v2 errors name a member by its pointer).
func keyForms(key string) []string {
	if c := lastForms.Load(); c != nil && c.key == key {
		return c.forms
	}
	forms := computeKeyForms(key)
	lastForms.Store(&keyFormsEntry{key: key, forms: forms})
	return forms
}

// lastForms caches keyForms for the last key asked: a process nearly always
// has one.
var lastForms atomic.Pointer[keyFormsEntry]

type keyFormsEntry struct {
	key   string
	forms []string
}

func computeKeyForms(key string) []string {
	forms := []string{key}
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	add(url.PathEscape(key))
	add(url.QueryEscape(key))
	if b, err := json.Marshal(key); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	add(strings.NewReplacer("~", "~0", "/", "~1").Replace(key))
	return forms
}

// scrubErr is scrub for an error's message, which it also caps. When it
// has to rewrite the message, the result still unwraps to err, so
// errors.Is and errors.As keep working.
func scrubErr(err error, key string) error {
	msg := err.Error()
	if clean := capString(scrubString(msg, key), maxErrorString); clean != msg {
		return &rewordedError{msg: clean, err: err}
	}
	return err
}

// rewordedError is an error whose message was scrubbed or capped; it keeps
// the original as its cause for errors.Is and errors.As only.
type rewordedError struct {
	msg string
	err error
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }
