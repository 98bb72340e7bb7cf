package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestUpperCasedKeyScrubbed: an echo of the key in another letter case
// (a server that upper-cases what it quotes; a hex key is recoverable from
// it) is scrubbed wherever the key is, not only detected: Scrub, error
// text, headers, bodies and a link the boundary replaces.
func TestUpperCasedKeyScrubbed(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	for _, form := range []string{strings.ToUpper(key), "Sk-Live-0123456789ABCDEF", `\u0053K-LIVE-0123456789ABCDEF`, "%53K-LIVE-0123456789abcdef"} {
		in := "echo: " + form + " done"
		want := "echo: " + redacted + " done"
		if got := r.str(in); got != want {
			t.Errorf("str(%q) = %q; want %q", in, got, want)
		}
		if got := r.text(in, 1024); got != want {
			t.Errorf("text(%q) = %q; want %q", in, got, want)
		}
		if got := string(r.textBytes([]byte(in), 1024)); got != want {
			t.Errorf("textBytes(%q) = %q; want %q", in, got, want)
		}
		if got := r.header(map[string][]string{"X-Echo": {in}})["X-Echo"]; len(got) != 1 || got[0] != want {
			t.Errorf("header value %q = %q; want %q", in, got, want)
		}
		err := r.err(fmt.Errorf("proxy: %s: %w", in, errors.ErrUnsupported))
		if s := fmt.Sprintf("%v %+v %#v", err, err, err); strings.Contains(strings.ToLower(s), strings.ToLower(key)) ||
			strings.Contains(strings.ToLower(s), key[1:]) {
			t.Errorf("boundary(%q) = %s; want the key scrubbed", in, s)
		}
	}
}

// The shapes a user's Doer error may hold the request in. Each has an
// accessor, so a user could reach the key if the boundary kept it.
type (
	// exportedReq holds the request in an exported field.
	exportedReq struct {
		Req *http.Request
		Err error
	}
	// hiddenReq holds it in an unexported field, with an accessor.
	hiddenReq struct {
		req *http.Request
		err error
	}
	// mapReq holds the response, and so the request, in a map[string]any.
	mapReq struct {
		M   map[string]any
		Err error
	}
	// paddedReq holds it after a 5,000-element slice.
	paddedReq struct {
		Pad []string
		Req *http.Request
		Err error
	}
	// deepReq holds it at the end of a 40-node list.
	deepReq struct {
		Head *node
		Err  error
	}
	node struct {
		Next *node
		Req  *http.Request
	}
	// cleanUser is a user's own error type that holds no key: it must
	// come through as it is, errors.As finding it.
	cleanUser struct {
		Code int
		Err  error
	}
	// timeoutUser is a timeout holding the request, that says it matches
	// target.
	timeoutUser struct {
		req    *http.Request
		target error
		err    error
	}
)

func (e *exportedReq) Error() string          { return "exported: refused" }
func (e *exportedReq) Unwrap() error          { return e.Err }
func (e *hiddenReq) Error() string            { return "hidden: refused" }
func (e *hiddenReq) Unwrap() error            { return e.err }
func (e *hiddenReq) Request() *http.Request   { return e.req }
func (e *mapReq) Error() string               { return "map: refused" }
func (e *mapReq) Unwrap() error               { return e.Err }
func (e *paddedReq) Error() string            { return "padded: refused" }
func (e *paddedReq) Unwrap() error            { return e.Err }
func (e *deepReq) Error() string              { return "deep: refused" }
func (e *deepReq) Unwrap() error              { return e.Err }
func (e *cleanUser) Error() string            { return fmt.Sprintf("user error %d", e.Code) }
func (e *cleanUser) Unwrap() error            { return e.Err }
func (e *timeoutUser) Error() string          { return "timeout: refused" }
func (e *timeoutUser) Unwrap() error          { return e.err }
func (e *timeoutUser) Timeout() bool          { return true }
func (e *timeoutUser) Is(target error) bool   { return target == e.target }
func (e *timeoutUser) Request() *http.Request { return e.req }

// requestShapes wraps err in each shape holding req.
func requestShapes(req *http.Request, err error) map[string]error {
	pad := make([]string, 5000)
	for i := range pad {
		pad[i] = "padding"
	}
	var head *node
	for range 40 {
		head = &node{Next: head}
	}
	last := head
	for last.Next != nil {
		last = last.Next
	}
	last.Req = req
	return map[string]error{
		"exported field":            &exportedReq{Req: req, Err: err},
		"unexported field":          &hiddenReq{req: req, err: err},
		"map[string]any, response":  &mapReq{M: map[string]any{"response": &http.Response{StatusCode: 502, Request: req}}, Err: err},
		"after a 5,000-element pad": &paddedReq{Pad: pad, Req: req, Err: err},
		"40 nodes deep":             &deepReq{Head: head, Err: err},
		"timeout, unexported field": &timeoutUser{req: req, target: ErrAuthorizationParam, err: err},
	}
}

// holdsKey reports whether s holds key (its first byte aside, so that
// "\u0073k-..." counts), in any letter case.
func holdsKey(s, key string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(key[1:]))
}

// keyReachable returns the paths of every string or byte slice reachable
// from v by reflection (pointers, interfaces, struct fields exported or
// not, slices, arrays, map keys and values) that holds key.
func keyReachable(v any, key string) []string {
	var out []string
	seen := map[uintptr]bool{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.String:
			if holdsKey(v.String(), key) {
				out = append(out, path)
			}
		case reflect.Pointer:
			if !v.IsNil() && !seen[v.Pointer()] {
				seen[v.Pointer()] = true
				walk(path, v.Elem())
			}
		case reflect.Interface:
			walk(path, v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				b := make([]byte, v.Len())
				for i := range b {
					b[i] = byte(v.Index(i).Uint())
				}
				if holdsKey(string(b), key) {
					out = append(out, path)
				}
				return
			}
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(path+" key", it.Key())
				walk(fmt.Sprintf("%s[%v]", path, it.Key()), it.Value())
			}
		}
	}
	walk("err", reflect.ValueOf(v))
	return out
}

// eachLink calls f with every link of err's chain (errors.Unwrap and
// Unwrap() []error, up to 2*maxChain deep) until f returns false.
func eachLink(err error, f func(error) bool) {
	stop := false
	var walk func(e error, depth int)
	walk = func(e error, depth int) {
		if e == nil || stop || depth > 2*maxChain {
			return
		}
		if !f(e) {
			stop = true
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, k := range u.Unwrap() {
				walk(k, depth+1)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		}
	}
	walk(err, 0)
}

// chainHasKey returns the links of err's chain that print the key.
func chainHasKey(err error, key string) []string {
	var out []string
	eachLink(err, func(e error) bool {
		if s := fmt.Sprintf("%v|%+v|%#v", e, e, e); holdsKey(s, key) {
			out = append(out, fmt.Sprintf("%T", e))
		}
		return true
	})
	return out
}

func keyedRequest(t testing.TB, key string) *http.Request {
	req, err := http.NewRequest("GET", "https://api.example/v1/invocations/x?token="+key, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

// TestBoundaryFailsClosed: a Doer's error holding the request in a shape
// the walk cannot prove clean (an unexported field, a map, past a pad,
// deep) is replaced by a stand-in: the key is reachable from nothing the
// boundary returns, the stand-in keeps the message, Timeout, the chain's
// clean values (ErrAuthorizationParam included, by identity) and what its
// own Is matched among them.
func TestBoundaryFailsClosed(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	req := keyedRequest(t, key)
	inner := fmt.Errorf("sending: %w", ErrAuthorizationParam)
	for name, orig := range requestShapes(req, inner) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := r.err(fmt.Errorf("bctrl: GET /x: %w", orig))
			if paths := keyReachable(got, key); len(paths) > 0 {
				t.Errorf("the key is reachable from the error: %v", paths)
			}
			if !errors.Is(got, ErrAuthorizationParam) {
				t.Errorf("errors.Is(err, ErrAuthorizationParam) = false; err = %v", got)
			}
			if !strings.Contains(got.Error(), "refused") {
				t.Errorf("err = %q; want the original's message", got)
			}
			if _, ok := orig.(*timeoutUser); ok {
				var te interface{ Timeout() bool }
				if !errors.As(got, &te) || !te.Timeout() {
					t.Errorf("err = %v; want Timeout() true", got)
				}
			}
		})
	}
}

// genChain builds random error graphs: links wrapping one or many
// children, the key anywhere (a message, any of requestShapes, an
// upper-cased echo, a nested url.Error), and clean values the result must
// still match: sentinels of the SDK and the standard library, and a user's
// own type. It records what each graph must keep.
type genChain struct {
	rnd   *rand.Rand
	key   string
	req   *http.Request
	want  []error      // clean values in the chain: errors.Is must hold
	users []*cleanUser // clean user links: errors.As must find them
	nodes int
}

var genSentinels = []error{ErrAuthorizationParam, ErrNotFound, ErrRateLimited, ErrInvalidResponse,
	io.EOF, io.ErrUnexpectedEOF, context.Canceled, context.DeadlineExceeded, errors.ErrUnsupported}

// err returns a random error of at most depth levels, and whether it holds
// the key.
func (g *genChain) err(depth int) (error, bool) {
	g.nodes++
	if depth == 0 || g.nodes > 60 || g.rnd.IntN(5) == 0 {
		switch g.rnd.IntN(3) {
		case 0:
			s := genSentinels[g.rnd.IntN(len(genSentinels))]
			g.want = append(g.want, s)
			return s, false
		case 1:
			return errors.New("leaf " + g.echo()), true
		default:
			return errors.New("clean leaf"), false
		}
	}
	kid, dirty := g.err(depth - 1)
	switch g.rnd.IntN(9) {
	case 0:
		return fmt.Errorf("wrap: %w", kid), dirty
	case 1:
		return fmt.Errorf("wrap %s: %w", g.echo(), kid), true
	case 2:
		other, d2 := g.err(depth - 1)
		return fmt.Errorf("%w and %w", kid, other), dirty || d2
	case 3:
		other, d2 := g.err(depth - 1)
		return errors.Join(kid, other), dirty || d2
	case 4:
		shapes := requestShapes(g.req, kid)
		names := slices.Sorted(maps.Keys(shapes))
		return shapes[names[g.rnd.IntN(len(names))]], true
	case 5:
		u := &cleanUser{Code: g.rnd.IntN(100), Err: kid}
		if !dirty {
			g.users = append(g.users, u)
		}
		return u, dirty
	case 6:
		return &url.Error{Op: "Get", URL: "https://h/x?k=" + g.echo(), Err: kid}, true
	case 7:
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: kid}, dirty
	default:
		return &timeoutUser{req: g.req, target: context.DeadlineExceeded, err: kid}, true
	}
}

// echo is the key as a server may echo it.
func (g *genChain) echo() string {
	switch g.rnd.IntN(3) {
	case 0:
		return strings.ToUpper(g.key)
	case 1:
		return url.QueryEscape(g.key)
	}
	return g.key
}

// TestBoundaryPropertyNoKeyReachable: over random error graphs holding
// the request and the key anywhere, nothing reachable from what the
// boundary returns (any link, printed any way, or walked by reflection
// through unexported fields) holds the key; every clean sentinel of the
// chain still matches with errors.Is, and every clean link of a user's
// type is found by errors.As, itself.
func TestBoundaryPropertyNoKeyReachable(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	req := keyedRequest(t, key)
	seed := uint64(time.Now().UnixNano())
	rnd := rand.New(rand.NewPCG(seed, 20))
	n := 1500
	if testing.Short() {
		n = 200
	}
	for i := range n {
		g := &genChain{rnd: rnd, key: key, req: req}
		orig, _ := g.err(1 + rnd.IntN(8))
		got := r.err(orig)
		if paths := keyReachable(got, key); len(paths) > 0 {
			t.Fatalf("seed %d, graph %d: the key is reachable: %v\norig: %v", seed, i, paths, orig)
		}
		if links := chainHasKey(got, key); len(links) > 0 {
			t.Fatalf("seed %d, graph %d: links print the key: %v", seed, i, links)
		}
		for _, s := range g.want {
			if !errors.Is(got, s) {
				t.Fatalf("seed %d, graph %d: errors.Is(err, %v) = false\norig: %v\ngot: %v", seed, i, s, orig, got)
			}
		}
		for _, u := range g.users {
			var found *cleanUser
			if !errors.As(got, &found) {
				t.Fatalf("seed %d, graph %d: errors.As(err, *cleanUser) = false\norig: %#v\ngot %#v", seed, i, orig, got)
			}
			if !findLink(got, u) {
				t.Fatalf("seed %d, graph %d: the clean *cleanUser %p is not in the result's chain", seed, i, u)
			}
		}
	}
}

// findLink reports whether target is a link of err's chain, by identity.
func findLink(err, target error) bool {
	found := false
	eachLink(err, func(e error) bool {
		found = e == target
		return !found
	})
	return found
}
