package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"reflect"
	"strings"
)

// The boundary is where values cross from the SDK to its user. Inside it,
// errors are raw: the retry loop, Wait and the decoder decide on them as
// net/http, the decoder and the server made them. At the exits, every
// error passes through boundary before the user sees it:
//
//   - New, with the key the options and the environment settled on;
//   - InvocationsService.Get, Wait and Watch (each error they return or
//     yield);
//   - the Doer behind Raw(), for every call that is not the SDK's own.
//
// ResponseInfo (WithResponseInfo, Invocation.Response) is scrubbed where
// it is made (Client.record), and logs and spans take their strings from
// the same redactor. What passes keeps errors.Is and errors.As: see
// redactor.err.

// boundary returns err as the user may see it.
func (c *Client) boundary(err error) error { return c.redact.err(err) }

// maxChain bounds how deep the boundary follows an error chain; a deeper
// chain (or a cycle a user's error type makes) is cut there.
const maxChain = 32

// err returns a copy of err's whole chain (errors.Unwrap and
// Unwrap() []error) in which no link prints the key (%v, %+v, %#v), holds
// it in an exported field (followed through pointers, slices and maps), or
// prints more than maxErrorMessage bytes. A link that is clean, and whose every
// descendant is clean, is kept as it is, so its type, identity and methods
// stay: sentinels (context.Canceled, ErrNotFound, io.ErrUnexpectedEOF),
// *net.OpError, certificate errors, and so on. Other links are copied:
//
//   - *APIError, *ResponseError, *WaitError and *InvocationError become
//     copies whose strings are scrubbed and capped (the *Invocation they
//     point to is the user's data and is not copied);
//   - a *url.Error becomes a *url.Error whose URL is scrubbed and capped,
//     a *net.OpError a *net.OpError, so errors.As to them still works, and
//     Timeout() still answers as the original's did;
//   - any other link becomes a scrubbedError with the scrubbed message.
//     It unwraps to the copies of the original's children (one or many,
//     as the original did), implements Timeout and Temporary when the
//     original did, and matches with errors.Is the well-known sentinels
//     the original's own Is method matched.
//
// Nothing in the result refers to the original chain, so walking it,
// printing it or dumping it by reflection finds no key. Messages are read
// with fmt, which survives an Error method that panics (a nil pointer in
// a non-nil error).
func (r *redactor) err(err error) error {
	out, _ := r.errAt(err, 0)
	return out
}

// errAt is err for a link at the given depth; changed reports whether the
// result differs from err.
func (r *redactor) errAt(err error, depth int) (error, bool) {
	if err == nil {
		return nil, false
	}
	if depth == maxChain {
		return &scrubbedError{msg: r.text(fmt.Sprint(err), maxErrorMessage)}, true
	}
	switch e := err.(type) {
	case *APIError:
		return r.apiError(e), true
	case *ResponseError:
		return r.responseError(e, depth), true
	case *WaitError:
		return r.waitError(e, depth), true
	case *InvocationError:
		return r.invocationError(e), true
	}
	var kids []error
	multi := false
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		kids, multi = u.Unwrap(), true
	case interface{ Unwrap() error }:
		if k := u.Unwrap(); k != nil {
			kids = []error{k}
		}
	}
	copies := make([]error, len(kids))
	changed := false
	for i, k := range kids {
		var ch bool
		copies[i], ch = r.errAt(k, depth+1)
		changed = changed || ch
	}
	if !changed && r.clean(err) {
		return err, false
	}
	var next error
	if len(copies) > 0 {
		next = copies[0]
	}
	switch e := err.(type) {
	case *url.Error:
		return &url.Error{Op: e.Op, URL: r.url(e.URL), Err: next}, true
	case *net.OpError:
		// Source and Addr are addresses the system resolved.
		return &net.OpError{Op: r.text(e.Op, maxErrorToken), Net: r.text(e.Net, maxErrorToken),
			Source: e.Source, Addr: e.Addr, Err: next}, true
	}
	s := scrubbedError{msg: r.text(fmt.Sprint(err), maxErrorMessage), is: sentinelsOf(err)}
	switch {
	case multi:
		return &scrubbedErrors{scrubbedError: s, errs: copies}, true
	case hasTimeout(err):
		s.err = next
		return &scrubbedNetError{scrubbedError: s, timeout: err.(timeouter).Timeout(), temporary: temporary(err)}, true
	}
	s.err = next
	return &s, true
}

// clean reports whether one link, on its own, may pass as it is: its
// message is within the cap, and neither fmt nor a walk of its exported
// fields finds the key.
func (r *redactor) clean(err error) bool {
	msg := fmt.Sprint(err)
	if len(msg) > maxErrorMessage {
		return false
	}
	if r.key() == "" {
		return true
	}
	if r.contains(msg) || r.contains(fmt.Sprintf("%#v", err)) {
		return false
	}
	if _, ok := err.(fmt.Formatter); ok && r.contains(fmt.Sprintf("%+v", err)) {
		return false
	}
	w := fieldWalk{r: r, budget: 4096, seen: map[uintptr]bool{}}
	return !w.leaks(reflect.ValueOf(err), 0)
}

// fieldWalk looks for the key in the strings an error value holds,
// through pointers, interfaces, exported struct fields, slices and maps:
// an error type may hold a request whose Authorization header carries it.
// (fmt's %#v, checked first, shows a link's own unexported fields.) It
// stays out of unexported fields below that: they lead into live objects
// (a connection, a transport's pools) that other goroutines change under
// their own locks. It gives up (finding nothing) past its depth or budget.
type fieldWalk struct {
	r      *redactor
	budget int
	seen   map[uintptr]bool
}

func (w *fieldWalk) leaks(v reflect.Value, depth int) bool {
	if depth > 8 || w.budget <= 0 || !v.IsValid() {
		return false
	}
	w.budget--
	switch v.Kind() {
	case reflect.String:
		return w.r.contains(v.String())
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return false
		}
		w.seen[v.Pointer()] = true
		return w.leaks(v.Elem(), depth+1)
	case reflect.Interface:
		return w.leaks(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && w.leaks(v.Field(i), depth+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if v.Kind() == reflect.Slice {
				return w.r.contains(string(v.Bytes()))
			}
			return false
		}
		for i := range min(v.Len(), w.budget) {
			if w.leaks(v.Index(i), depth+1) {
				return true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() && w.budget > 0 {
			if w.leaks(it.Key(), depth+1) || w.leaks(it.Value(), depth+1) {
				return true
			}
		}
	}
	return false
}

// url scrubs a URL for an error: the key removed, a password dropped (as
// net/http does), and capped.
func (r *redactor) url(u string) string {
	if p, err := url.Parse(u); err == nil && p.User != nil {
		if _, has := p.User.Password(); has {
			p.User = url.User(p.User.Username())
			u = p.String()
		}
	}
	return r.text(u, maxErrorString)
}

func (r *redactor) apiError(e *APIError) *APIError {
	return &APIError{
		StatusCode: e.StatusCode,
		Code:       r.text(e.Code, maxErrorToken),
		Message:    r.text(e.Message, maxErrorString),
		RequestID:  r.text(e.RequestID, maxErrorToken),
		Method:     r.text(e.Method, maxErrorToken),
		Path:       r.text(e.Path, maxErrorString),
		Header:     r.header(e.Header),
		Body:       r.textBytes(e.Body, maxErrorBody),
	}
}

func (r *redactor) responseError(e *ResponseError, depth int) *ResponseError {
	inner, _ := r.errAt(e.Err, depth+1)
	return &ResponseError{
		StatusCode:  e.StatusCode,
		ContentType: r.text(e.ContentType, maxErrorToken),
		RequestID:   r.text(e.RequestID, maxErrorToken),
		Header:      r.header(e.Header),
		Body:        r.textBytes(e.Body, maxErrorBody),
		Err:         inner,
	}
}

func (r *redactor) waitError(e *WaitError, depth int) *WaitError {
	inner, _ := r.errAt(e.Err, depth+1)
	out := &WaitError{ID: r.text(e.ID, maxErrorString), Last: e.Last, Err: inner}
	out.msg = out.describe(r)
	return out
}

func (r *redactor) invocationError(e *InvocationError) *InvocationError {
	out := *e
	out.Status = Status(r.text(string(e.Status), maxErrorToken))
	out.msg = e.describe(r)
	return &out
}

// scrubbedError stands, in an error chain that crossed the boundary, for
// a link whose message had to be scrubbed or capped. It unwraps to the
// scrubbed copy of what the original wrapped.
type scrubbedError struct {
	msg string
	err error   // the copy of the original's Unwrap()
	is  []error // the sentinels the original's Is method matched
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// Is reports whether the original matched target by its own Is method.
func (e *scrubbedError) Is(target error) bool {
	for _, s := range e.is {
		if s == target {
			return true
		}
	}
	return false
}

// scrubbedErrors is scrubbedError for a link that wrapped several errors
// (fmt.Errorf with two %w, errors.Join).
type scrubbedErrors struct {
	scrubbedError
	errs []error
}

func (e *scrubbedErrors) Unwrap() []error { return e.errs }

// scrubbedNetError is scrubbedError for a link that had a Timeout method
// (a net.Error, say): it answers Timeout and Temporary as the original
// did, so errors.As(err, &netErr) and url.Error's Timeout keep working.
type scrubbedNetError struct {
	scrubbedError
	timeout, temporary bool
}

func (e *scrubbedNetError) Timeout() bool   { return e.timeout }
func (e *scrubbedNetError) Temporary() bool { return e.temporary }

type timeouter interface{ Timeout() bool }

func hasTimeout(err error) bool { _, ok := err.(timeouter); return ok }

func temporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// sentinels are the well-known errors a scrubbed link still matches when
// the original's own Is method matched them.
var sentinels = []error{
	context.Canceled, context.DeadlineExceeded, os.ErrDeadlineExceeded,
	io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, errors.ErrUnsupported,
	fs.ErrPermission, fs.ErrNotExist, fs.ErrExist,
	ErrNotFound, ErrUnauthorized, ErrForbidden, ErrRateLimited, ErrInvalidResponse,
	ErrResponseTooLarge, ErrInvalidID, ErrTooManyRedirects, ErrWaitTimeout, ErrUnknownStatus,
	ErrNullResult, ErrInvalidStep,
}

func sentinelsOf(err error) []error {
	is, ok := err.(interface{ Is(error) bool })
	if !ok {
		return nil
	}
	var out []error
	for _, s := range sentinels {
		if is.Is(s) {
			out = append(out, s)
		}
	}
	return out
}

// newError is the boundary of New: it has no client yet, so it builds
// the redactor from the key the options and the environment settled on.
func newError(key string, err error) error {
	return newRedactor(key).err(err)
}

// baseURLForError returns u without userinfo, query or fragment, whether
// or not it parses: a base URL is printed by New's errors, and those
// parts may hold a credential.
func baseURLForError(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	rest, scheme := u, ""
	if i := strings.Index(u, "://"); i >= 0 {
		scheme, rest = u[:i+3], u[i+3:]
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	return scheme + host + path
}
