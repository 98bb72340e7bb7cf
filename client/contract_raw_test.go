package client_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/gen"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// rawPrefix is where the raw tests mount the API, so that a request built
// from an absolute path (dropping the base URL's path) fails loudly.
const rawPrefix = "/raw-prefix"

// rawRequest is what the raw tests' server saw of one request.
type rawRequest struct {
	method, path, auth, userAgent, body string
}

// rawServer records every request and answers each with the next of
// statuses (the last one repeats), with a valid invocation body when the
// status is 200.
type rawServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []rawRequest
}

func newRawServer(t *testing.T, statuses ...int) (*client.Client, *rawServer) {
	t.Helper()
	body := spectest.Fixture(t, "succeeded")
	rs := &rawServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		n := len(rs.reqs)
		rs.reqs = append(rs.reqs, rawRequest{r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), r.Header.Get("User-Agent"), string(b)})
		rs.mu.Unlock()
		status := statuses[min(n, len(statuses)-1)]
		if status != http.StatusOK {
			http.Error(w, http.StatusText(status), status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(rs.Close)
	c, err := client.New(
		client.WithAPIKey("k"),
		client.WithBaseURL(rs.URL+rawPrefix),
		client.WithRetryBackoff(time.Millisecond, 2*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	return c, rs
}

func (rs *rawServer) requests() []rawRequest {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.reqs)
}

// TestEveryOperationCallableThroughRaw checks that every operation in the
// spec (every path and method) is a method of c.Raw(), under the name
// oapi-codegen gives it (<OperationID>WithResponse, with the overlay's
// pinned operationIds), and that calling it sends the right method and path
// with the client's key and User-Agent, not the caller's: an operation a
// spec bump adds is callable, authenticated, the day `make generate` runs.
func TestEveryOperationCallableThroughRaw(t *testing.T) {
	t.Parallel()
	doc := spectest.LoadGenerated(t)
	n := 0
	for _, path := range sortedMapKeys(doc.Paths.Map()) {
		item := doc.Paths.Value(path)
		ops := item.Operations()
		for _, method := range sortedMapKeys(ops) {
			op := ops[method]
			n++
			t.Run(method+" "+path, func(t *testing.T) {
				t.Parallel()
				checkRawOperation(t, method, path, item, op)
			})
		}
	}
	if n == 0 {
		t.Fatal("the spec has no operations")
	}
}

func checkRawOperation(t *testing.T, method, path string, item *openapi3.PathItem, op *openapi3.Operation) {
	if op.OperationID == "" {
		t.Fatalf("%s %s has no operationId: pin one in oapi-codegen.overlay.yaml so that its Go name is stable", method, path)
	}
	c, srv := newRawServer(t, http.StatusOK)
	name := spectest.GoName(t, op.OperationID) + "WithResponse"
	m := reflect.ValueOf(c.Raw()).MethodByName(name)
	if !m.IsValid() {
		t.Fatalf("%s %s (operationId %q): c.Raw() has no method %s; it has %v",
			method, path, op.OperationID, name, goMethodNames(reflect.TypeOf(c.Raw())))
	}
	args, wantPath := rawArgs(t, m.Type(), path, pathParams(t, path, item, op))
	out := m.Call(args)
	if err, _ := out[len(out)-1].Interface().(error); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if status := out[0].MethodByName("StatusCode").Call(nil)[0].Int(); status != http.StatusOK {
		t.Errorf("%s: StatusCode() = %d, want 200", name, status)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%s sent %d requests, want 1: %+v", name, len(reqs), reqs)
	}
	r := reqs[0]
	if r.method != strings.ToUpper(method) || r.path != rawPrefix+wantPath {
		t.Errorf("%s sent %s %s, want %s %s", name, r.method, r.path, strings.ToUpper(method), rawPrefix+wantPath)
	}
	if r.auth != "Bearer k" {
		t.Errorf("%s sent Authorization %q, want the client's key %q", name, r.auth, "Bearer k")
	}
	if !strings.HasPrefix(r.userAgent, "bctrl-go/") {
		t.Errorf("%s sent User-Agent %q, want the SDK's (bctrl-go/...)", name, r.userAgent)
	}
}

var pathParamRE = regexp.MustCompile(`\{([^{}]+)\}`)

// pathParams returns the names of the path parameters of path, in the
// order they appear in it, which is the order of the generated method's
// arguments. It fails for one the operation does not declare.
func pathParams(t *testing.T, path string, item *openapi3.PathItem, op *openapi3.Operation) []string {
	t.Helper()
	declared := map[string]bool{}
	for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
				declared[p.Value.Name] = true
			}
		}
	}
	var names []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		if !declared[m[1]] {
			t.Fatalf("path parameter {%s} of %s is not declared", m[1], path)
		}
		names = append(names, m[1])
	}
	return names
}

// rawArgs returns the arguments for a generated <Op>WithResponse method of
// type mt, (ctx, path parameters..., [params *XParams], [body], editors...),
// with a value for each path parameter, nil params and a zero body; and the
// path the call should request.
func rawArgs(t *testing.T, mt reflect.Type, path string, params []string) ([]reflect.Value, string) {
	t.Helper()
	n := mt.NumIn()
	if mt.IsVariadic() {
		n-- // the request editors
	}
	ctxType := reflect.TypeFor[context.Context]()
	if n < 1+len(params) || mt.In(0) != ctxType {
		t.Fatalf("method %v does not take (ctx, %d path parameters, ...)", mt, len(params))
	}
	args := []reflect.Value{reflect.ValueOf(t.Context())}
	wantPath := path
	for i, name := range params {
		in := mt.In(1 + i)
		v := reflect.New(in).Elem()
		switch {
		case in.Kind() == reflect.String:
			v.SetString("p-" + name)
		case in.Kind() >= reflect.Int && in.Kind() <= reflect.Int64:
			v.SetInt(7)
		default:
			t.Fatalf("path parameter %s has Go type %v, which this test cannot fill", name, in)
		}
		args = append(args, v)
		wantPath = strings.Replace(wantPath, "{"+name+"}", fmt.Sprint(v.Interface()), 1)
	}
	for i := 1 + len(params); i < n; i++ {
		args = append(args, reflect.Zero(mt.In(i))) // nil params, zero body
	}
	return args, wantPath
}

func goMethodNames(typ reflect.Type) []string {
	var names []string
	for m := range typ.Methods() {
		names = append(names, m.Name)
	}
	return names
}

// TestRawPostRetriedOnlyWhenUnprocessed checks the retry policy of the
// pipeline c.Raw() sends through, for a method that is not idempotent: a
// POST is retried only when the server provably did not process it (429,
// 503), not after a 500 or 502, which may come after the work was done,
// unless it carries an Idempotency-Key. A GET is retried after a 500. The
// spec has no POST yet, so the request is sent through the generated
// client's Doer and request editors, as a generated POST method would.
func TestRawPostRetriedOnlyWhenUnprocessed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		header     http.Header
		statuses   []int
		wantStatus int
		wantSent   int
	}{
		{"POST after 500 is not retried", http.MethodPost, nil, []int{500, 200}, 500, 1},
		{"POST after 502 is not retried", http.MethodPost, nil, []int{502, 200}, 502, 1},
		{"POST after 503 is retried", http.MethodPost, nil, []int{503, 200}, 200, 2},
		{"POST after 429 is retried", http.MethodPost, nil, []int{429, 200}, 200, 2},
		{"POST with Idempotency-Key after 500 is retried", http.MethodPost, http.Header{"Idempotency-Key": {"op-1"}}, []int{500, 200}, 200, 2},
		{"GET after 500 is retried", http.MethodGet, nil, []int{500, 200}, 200, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := newRawServer(t, tt.statuses...)
			gc, ok := c.Raw().ClientInterface.(*gen.Client)
			if !ok {
				t.Fatalf("c.Raw().ClientInterface is %T, want *gen.Client", c.Raw().ClientInterface)
			}
			const reqBody = `{"reason":"test"}`
			var body io.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(reqBody)
			}
			ctx := t.Context()
			req, err := http.NewRequestWithContext(ctx, tt.method, gc.Server+"v1/invocations/inv-1/cancel", body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			for _, edit := range gc.RequestEditors {
				if err := edit(ctx, req); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := gc.Client.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			reqs := srv.requests()
			if len(reqs) != tt.wantSent {
				t.Fatalf("the server saw %d requests, want %d", len(reqs), tt.wantSent)
			}
			for i, r := range reqs {
				if r.method != tt.method || r.path != rawPrefix+"/v1/invocations/inv-1/cancel" || r.auth != "Bearer k" {
					t.Errorf("request %d: %s %s with Authorization %q", i, r.method, r.path, r.auth)
				}
				if tt.method == http.MethodPost && r.body != reqBody {
					t.Errorf("request %d: body %q, want %q (a retry must resend it)", i, r.body, reqBody)
				}
			}
		})
	}
}
