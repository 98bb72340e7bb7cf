package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// The boundary is where values cross from the SDK to its user. Inside it,
// errors are raw: the retry loop, Wait and the decoder decide on them as
// net/http, the decoder and the server made them. At the exits, every
// error passes through boundary before the user sees it:
//
//   - New, with the key the options and the environment settled on;
//   - every operation method (invokeInvocation, invokeJSON, invokeNoBody in
//     operation.go), Wait, Watch and WaitAll (each error they return or
//     yield);
//   - the Doer behind Raw() (rawDoer), for the generated client's calls.
//
// ResponseInfo (WithResponseInto, WithResponseInfo, Invocation.Response)
// is scrubbed where it is made (Client.responseInfo in executor.go), and
// logs and spans take their strings from the same redactor. What passes keeps errors.Is and errors.As: see
// redactor.err.

// boundary returns err as the user may see it.
func (c *Client) boundary(err error) error { return c.redact.err(err) }

// maxChain bounds how deep the boundary follows an error chain; a deeper
// chain (or a cycle a user's error type makes) is cut there.
const maxChain = 32

// err returns a copy of err's whole chain (errors.Unwrap and
// Unwrap() []error) in which no link prints the key (%v, %+v, %#v), holds
// it anywhere reflection reaches, or prints more than maxErrorMessage
// bytes. It fails closed: a link is kept as it is (its type, identity and
// methods: sentinels such as context.Canceled, ErrNotFound and
// io.ErrUnexpectedEOF, *net.OpError, certificate errors, a user's own
// type) only when the walk proves it clean, and every descendant too.
// Every other link, including one the walk gives up on (a field it may
// not read, a value too large or too deep to check), is copied:
//
//   - *APIError, *ResponseError, *WaitError and *InvocationError become
//     copies whose strings are scrubbed and capped (the *Invocation they
//     point to is the user's data and is not copied);
//   - a *url.Error becomes a *url.Error whose URL is scrubbed and capped,
//     a *net.OpError a *net.OpError (its addresses copied), a
//     tls.RecordHeaderError one without its Conn, so errors.As to them
//     still works, and Timeout() still answers as the original's did;
//   - any other link becomes a stand-in (scrubbedError) with the scrubbed
//     message. It unwraps to the copies of the original's children (one or
//     many, as the original did), implements Timeout and Temporary when
//     the original did, and matches with errors.Is each error value that
//     the original's own Is method matched among those the walk proved
//     clean in the whole chain (compared by identity), and the context
//     package's Canceled and DeadlineExceeded. errors.As to the original's
//     type no longer finds it: that is the price of a link that cannot be
//     proved clean.
//
// Nothing in the result refers to the original chain, so walking it,
// printing it or dumping it by reflection (exported fields or not) finds
// no key. Messages are read with fmt, which survives an Error method that
// panics (a nil pointer in a non-nil error).
func (r *redactor) err(err error) error {
	w := chainWalk{r: r}
	out, _ := w.link(err, 0)
	w.finish()
	return out
}

// chainWalk is one error chain crossing the boundary.
type chainWalk struct {
	r *redactor
	// clean are the links kept as they are: the error values a stand-in
	// may match.
	clean []error
	// standIns are the stand-ins made, each with the original whose Is
	// method it answers for; finish decides what each matches, once every
	// clean link is known, and then drops the originals.
	standIns []standIn
}

type standIn struct {
	s    *scrubbedError
	orig error
}

// link is err for a link at the given depth; changed reports whether the
// result differs from err.
func (w *chainWalk) link(err error, depth int) (error, bool) {
	r := w.r
	if err == nil {
		return nil, false
	}
	if depth == maxChain {
		return w.standIn(err, nil, false), true
	}
	switch e := err.(type) {
	case *APIError:
		return r.apiError(e), true
	case *ResponseError:
		return w.responseError(e, depth), true
	case *WaitError:
		return w.waitError(e, depth), true
	case *InvocationError:
		return r.invocationError(e), true
	}
	kids, multi := unwrap(err)
	copies := make([]error, len(kids))
	changed := false
	for i, k := range kids {
		var ch bool
		copies[i], ch = w.link(k, depth+1)
		changed = changed || ch
	}
	if !changed && r.clean(err, kids) {
		w.clean = append(w.clean, err)
		return err, false
	}
	var next error
	if len(copies) > 0 {
		next = copies[0]
	}
	switch e := err.(type) {
	case *url.Error:
		return &url.Error{Op: r.text(e.Op, maxErrorToken), URL: r.url(e.URL), Err: next}, true
	case *net.OpError:
		return &net.OpError{Op: r.text(e.Op, maxErrorToken), Net: r.text(e.Net, maxErrorToken),
			Source: r.addr(e.Source), Addr: r.addr(e.Addr), Err: next}, true
	case tls.RecordHeaderError:
		// Its Conn, a live connection, is not copied.
		return tls.RecordHeaderError{Msg: r.text(e.Msg, maxErrorString), RecordHeader: e.RecordHeader}, true
	}
	return w.standIn(err, copies, multi), true
}

// unwrap returns err's children, and whether it wraps many. An Unwrap
// method that panics (a nil pointer in a non-nil error) wraps nothing.
func unwrap(err error) (kids []error, multi bool) {
	defer func() {
		if recover() != nil {
			kids = nil
		}
	}()
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		return u.Unwrap(), true
	case interface{ Unwrap() error }:
		if k := u.Unwrap(); k != nil {
			return []error{k}, false
		}
	}
	return nil, false
}

// standIn returns the stand-in for err, whose children's copies are kids.
func (w *chainWalk) standIn(err error, kids []error, multi bool) error {
	s := &scrubbedError{msg: w.r.text(fmt.Sprint(err), maxErrorMessage)}
	if _, ok := err.(interface{ Is(error) bool }); ok {
		w.standIns = append(w.standIns, standIn{s, err})
	}
	switch {
	case multi:
		return &scrubbedErrors{scrubbedError: s, errs: kids}
	case len(kids) > 0:
		s.err = kids[0]
	}
	if t, ok := err.(timeouter); ok {
		return &scrubbedNetError{scrubbedError: s, timeout: safeCall(t.Timeout), temporary: temporary(err)}
	}
	return s
}

// finish decides what each stand-in matches with errors.Is: the clean
// error values of the chain, and the context package's two, that the
// original's own Is method matched.
func (w *chainWalk) finish() {
	if len(w.standIns) == 0 {
		return
	}
	targets := append([]error{context.Canceled, context.DeadlineExceeded}, w.clean...)
	for _, p := range w.standIns {
		is := p.orig.(interface{ Is(error) bool })
		for i, t := range targets {
			if t == nil || !reflect.TypeOf(t).Comparable() || slices.Contains(targets[:i], t) {
				continue
			}
			if safeCall(func() bool { return is.Is(t) }) {
				p.s.is = append(p.s.is, t)
			}
		}
	}
	w.standIns = nil
}

// safeCall returns f(), or false if it panics.
func safeCall(f func() bool) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f()
}

// addr copies a net.Addr for a copied *net.OpError: the system's address
// types field by field, any other (a user's type) as its scrubbed text.
func (r *redactor) addr(a net.Addr) net.Addr {
	switch a := a.(type) {
	case nil:
		return nil
	case *net.TCPAddr:
		return &net.TCPAddr{IP: slices.Clone(a.IP), Port: a.Port, Zone: r.text(a.Zone, maxErrorToken)}
	case *net.UDPAddr:
		return &net.UDPAddr{IP: slices.Clone(a.IP), Port: a.Port, Zone: r.text(a.Zone, maxErrorToken)}
	case *net.IPAddr:
		return &net.IPAddr{IP: slices.Clone(a.IP), Zone: r.text(a.Zone, maxErrorToken)}
	case *net.UnixAddr:
		return &net.UnixAddr{Name: r.text(a.Name, maxErrorString), Net: r.text(a.Net, maxErrorToken)}
	}
	return scrubbedAddr{net: r.text(fmt.Sprint(safeString(a.Network)), maxErrorToken), addr: r.text(fmt.Sprint(a), maxErrorString)}
}

// safeString returns f(), or "" if it panics.
func safeString(f func() string) (s string) {
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	return f()
}

// scrubbedAddr stands for a net.Addr of a type the boundary does not know.
type scrubbedAddr struct{ net, addr string }

func (a scrubbedAddr) Network() string { return a.net }
func (a scrubbedAddr) String() string  { return a.addr }

// clean reports whether one link, on its own, may pass as it is: its
// message is within the cap, fmt finds no key in it, and a walk of its
// value proves that nothing it holds does (kids, its children, are proved
// as links of their own).
func (r *redactor) clean(err error, kids []error) bool {
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
	w := fieldWalk{r: r, budget: fieldBudget, seen: map[uintptr]bool{}, kids: kids}
	return w.clean(reflect.ValueOf(err), 0, false)
}

// The field walk's limits: past them it has not proved a value clean, and
// the link is replaced.
const (
	fieldBudget   = 4096 // values visited per link
	maxFieldDepth = 16
)

// fieldWalk proves that an error value holds no key: every string and
// byte slice reflection reaches from it, through pointers, interfaces,
// struct fields, slices, arrays and maps, is free of the key. It proves,
// or it fails: past its depth or budget, and at anything it may not read,
// it reports false.
//
// What it may not read: a reference (a pointer, map, slice of
// references, func, channel) held, at any depth, below an unexported
// field. Such a field may lead into a live object (a connection, a
// transport's pools, a request's context) that other goroutines change
// under their own locks; reading it would race. A pointer to one of the
// link's own children (fmt's wrapError holds its %w operand so), wherever
// it is held, is not followed: the chain walk proves that one. Values below unexported
// fields (strings, numbers, structs and arrays of them) are read: they
// are copies, not shared. A func or channel is never proved clean (what
// it holds is out of reflection's reach), unless nil.
type fieldWalk struct {
	r      *redactor
	budget int
	seen   map[uintptr]bool
	kids   []error
}

var (
	// rtypeType is the dynamic type of a reflect.Type (json's
	// SemanticError.GoType holds one): a type descriptor, static and
	// read-only, which holds no text but the program's own identifiers.
	rtypeType = reflect.TypeOf(reflect.TypeFor[int]())
	certType  = reflect.TypeFor[x509.Certificate]()
)

// clean reports whether v is proved to hold no key; hidden says whether v
// lies below an unexported field.
func (w *fieldWalk) clean(v reflect.Value, depth int, hidden bool) bool {
	if !v.IsValid() {
		return true
	}
	if depth > maxFieldDepth || w.budget <= 0 {
		return false
	}
	w.budget--
	switch v.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.String:
		return !w.r.contains(v.String())
	case reflect.Pointer:
		if v.IsNil() {
			return true
		}
		if v.Type() == rtypeType || w.isKid(v) {
			return true // a child is proved as a link of its own
		}
		if hidden {
			return false
		}
		if w.seen[v.Pointer()] {
			return true // being proved, or proved, on another path
		}
		w.seen[v.Pointer()] = true
		return w.clean(v.Elem(), depth+1, false)
	case reflect.Interface:
		return v.IsNil() || w.clean(v.Elem(), depth+1, hidden)
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			f := t.Field(i)
			if t == certType && f.Name == "PublicKey" {
				// Parsed key material (numbers and a curve), derived
				// from RawSubjectPublicKeyInfo, which Raw holds.
				continue
			}
			if !w.clean(v.Field(i), depth+1, hidden || !f.IsExported()) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() || v.Len() == 0 {
			return true
		}
		switch v.Type().Elem().Kind() {
		case reflect.Uint8:
			return !w.r.contains(bytesOf(v))
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
			return true // numbers: no text
		}
		if v.Len() > w.budget {
			return false
		}
		for i := range v.Len() {
			if !w.clean(v.Index(i), depth+1, hidden) {
				return false
			}
		}
		return true
	case reflect.Map:
		if v.IsNil() || v.Len() == 0 {
			return true
		}
		if hidden || v.Len() > w.budget {
			return false
		}
		for it := v.MapRange(); it.Next(); {
			if !w.clean(it.Key(), depth+1, false) || !w.clean(it.Value(), depth+1, false) {
				return false
			}
		}
		return true
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return v.IsNil()
	}
	return false
}

// isKid reports whether the pointer v is one of the link's children.
func (w *fieldWalk) isKid(v reflect.Value) bool {
	for _, k := range w.kids {
		kv := reflect.ValueOf(k)
		if kv.Kind() == reflect.Pointer && kv.Type() == v.Type() && kv.Pointer() == v.Pointer() {
			return true
		}
	}
	return false
}

// bytesOf returns the bytes of a byte slice or array, read or not
// through an unexported field.
func bytesOf(v reflect.Value) string {
	if v.Kind() == reflect.Slice {
		return string(v.Bytes())
	}
	b := make([]byte, v.Len())
	for i := range b {
		b[i] = byte(v.Index(i).Uint())
	}
	return string(b)
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

func (w *chainWalk) responseError(e *ResponseError, depth int) *ResponseError {
	r := w.r
	inner, _ := w.link(e.Err, depth+1)
	return &ResponseError{
		StatusCode:  e.StatusCode,
		ContentType: r.text(e.ContentType, maxErrorToken),
		RequestID:   r.text(e.RequestID, maxErrorToken),
		Header:      r.header(e.Header),
		Body:        r.textBytes(e.Body, maxErrorBody),
		Err:         inner,
	}
}

func (w *chainWalk) waitError(e *WaitError, depth int) *WaitError {
	r := w.r
	inner, _ := w.link(e.Err, depth+1)
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
// a link that could not be kept as it was. It unwraps to the copy of what
// the original wrapped.
type scrubbedError struct {
	msg string
	err error   // the copy of the original's Unwrap()
	is  []error // the clean error values the original's Is method matched
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// Is reports whether the original matched target by its own Is method
// (among the values err's walk could prove clean).
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
	*scrubbedError
	errs []error
}

func (e *scrubbedErrors) Unwrap() []error { return e.errs }

// scrubbedNetError is scrubbedError for a link that had a Timeout method
// (a net.Error, say): it answers Timeout and Temporary as the original
// did, so errors.As(err, &netErr) and url.Error's Timeout keep working.
type scrubbedNetError struct {
	*scrubbedError
	timeout, temporary bool
}

func (e *scrubbedNetError) Timeout() bool   { return e.timeout }
func (e *scrubbedNetError) Temporary() bool { return e.temporary }

type timeouter interface{ Timeout() bool }

func temporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && safeCall(t.Temporary)
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
