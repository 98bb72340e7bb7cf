package client_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bctrlhq/sdk-go/client"
)

// TestAPIKeyIsTrimmed: a key given with whitespace around it (read from a
// file or an environment with a newline) is trimmed, as BCTRL_API_KEY is:
// the server gets the trimmed key, and when it echoes it back (as
// net/http's header parsing would hand it the trimmed one anyway) nothing a
// user sees holds it: the error chain, ResponseInfo, logs, spans and Scrub.
func TestAPIKeyIsTrimmed(t *testing.T) {
	t.Parallel()
	for _, padded := range []string{" " + leakKey + " ", "\t" + leakKey + "\r\n", leakKey + "\n"} {
		t.Run(strings.TrimSpace(padded), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var sent []string
			row := leakRow{
				name: "padded key",
				server: func(t *testing.T, key string) *hostileServer {
					return serveHandler(t, func(w http.ResponseWriter, r *http.Request) {
						mu.Lock()
						sent = append(sent, r.Header.Get("Authorization"))
						mu.Unlock()
						w.Header().Set("Content-Type", "application/json")
						w.Header().Set("X-Request-Id", r.Header.Get("Authorization"))
						w.WriteHeader(http.StatusUnauthorized)
						io.WriteString(w, `{"error":{"code":"auth","message":"bad key `+r.Header.Get("Authorization")+`"}}`)
					})
				},
				opts: func(string) []client.Option {
					return []client.Option{client.WithMaxRetries(0), client.WithAPIKey(padded)}
				},
				check: wantAs[*client.APIError](),
			}
			runLeakRow(t, row, leakKey, nil)
			mu.Lock()
			defer mu.Unlock()
			if len(sent) == 0 || sent[0] != "Bearer "+leakKey {
				t.Errorf("sent Authorization %q; want %q", sent, "Bearer "+leakKey)
			}
			c, err := client.New(client.WithAPIKey(padded), client.WithBaseURL("http://127.0.0.1:1"))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Scrub("echo " + leakKey); got != "echo [redacted]" {
				t.Errorf("Scrub = %q; want the trimmed key scrubbed", got)
			}
		})
	}
}

// TestPackageRawHelpersDeprecated: the package-level CheckResponse and
// DecodeInvocation know no key and scrub nothing of it; they stay, marked
// deprecated in favour of the Client methods, and the documented Raw()
// pattern (README, Client.Raw's doc) uses the methods.
func TestPackageRawHelpersDeprecated(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/bctrlhq/sdk-go/client")
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]string{}
	for _, f := range p.Funcs {
		funcs[f.Name] = f.Doc
	}
	for _, typ := range p.Types {
		for _, f := range typ.Funcs { // constructors: DecodeInvocation returns an *Invocation
			funcs[f.Name] = f.Doc
		}
		for _, m := range typ.Methods {
			funcs[typ.Name+"."+m.Name] = m.Doc
		}
	}
	for _, name := range []string{"CheckResponse", "DecodeInvocation"} {
		d := funcs[name]
		if !strings.Contains(d, "\nDeprecated: Use [Client."+name+"]") || !strings.Contains(d, "scrub") {
			t.Errorf("%s's doc is %q; want it to say what it does not scrub, and a Deprecated: paragraph naming Client.%s", name, d, name)
		}
		if m := funcs["Client."+name]; m == "" || strings.Contains(m, "Deprecated:") {
			t.Errorf("Client.%s's doc is %q; want it documented and not deprecated", name, m)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{string(readme), funcs["Client.Raw"]} {
		for _, call := range []string{"client.CheckResponse(", "client.DecodeInvocation("} {
			if strings.Contains(text, call) {
				t.Errorf("the documented Raw() pattern calls %s; want the Client method", call)
			}
		}
	}
}

// Doer errors holding the request in shapes a walk of exported fields
// gives up on; each has an accessor a user could call.
type (
	hiddenRequestError struct{ req *http.Request }
	mapRequestError    struct{ M map[string]any }
	paddedRequestError struct {
		Pad []string
		Req *http.Request
	}
	deepRequestError struct{ Head *requestNode }
	requestNode      struct {
		Next *requestNode
		Req  *http.Request
	}
)

func (e *hiddenRequestError) Error() string          { return "proxy refused" }
func (e *hiddenRequestError) Request() *http.Request { return e.req }
func (e *hiddenRequestError) Timeout() bool          { return true }
func (e *mapRequestError) Error() string             { return "proxy refused" }
func (e *paddedRequestError) Error() string          { return "proxy refused" }
func (e *deepRequestError) Error() string            { return "proxy refused" }

// TestDoerErrorShapesFailClosed: through Get, a Doer's error holding the
// request where the boundary's walk cannot prove it clean is replaced by a
// stand-in: no form of the key in anything the user sees (the chain
// walked by reflection, logs, spans), the message and Timeout() kept, and
// the user's own type no longer found by errors.As.
func TestDoerErrorShapesFailClosed(t *testing.T) {
	t.Parallel()
	shapes := map[string]func(req *http.Request) error{
		"unexported field with an accessor": func(req *http.Request) error { return &hiddenRequestError{req: req} },
		"map[string]any holding the response": func(req *http.Request) error {
			return &mapRequestError{M: map[string]any{"response": &http.Response{StatusCode: 502, Request: req}}}
		},
		"5,000-element slice before the field": func(req *http.Request) error {
			return &paddedRequestError{Pad: make([]string, 5000), Req: req}
		},
		"40 nodes deep": func(req *http.Request) error {
			head := &requestNode{Req: req}
			for range 40 {
				head = &requestNode{Next: head}
			}
			return &deepRequestError{Head: head}
		},
	}
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			row := leakRow{
				name:   name,
				server: func(t *testing.T, _ string) *hostileServer { return &hostileServer{URL: "http://127.0.0.1:1"} },
				opts: func(string) []client.Option {
					return []client.Option{client.WithMaxRetries(0), client.WithHTTPClient(doerFunc(func(req *http.Request) (*http.Response, error) {
						return nil, fmt.Errorf("doer: %w", shape(req))
					}))}
				},
				check: func(t *testing.T, err error, _ int) {
					if !strings.Contains(err.Error(), "proxy refused") {
						t.Errorf("err = %v; want the Doer's message", err)
					}
					var h *hiddenRequestError
					var m *mapRequestError
					var p *paddedRequestError
					var d *deepRequestError
					if errors.As(err, &h) || errors.As(err, &m) || errors.As(err, &p) || errors.As(err, &d) {
						t.Errorf("errors.As found the Doer's error type, which holds the request")
					}
					if name == "unexported field with an accessor" {
						var te interface{ Timeout() bool }
						if !errors.As(err, &te) || !te.Timeout() {
							t.Errorf("err = %v; want Timeout() kept", err)
						}
					}
				},
			}
			runLeakRow(t, row, leakKey, nil)
		})
	}
}
