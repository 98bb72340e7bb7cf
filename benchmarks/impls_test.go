package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/bctrlhq/sdk-go/benchmarks/ogenclient"
	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/gen"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// benchID is the invocation id every impl asks for; the server answers any
// id with the same bytes.
const benchID = "5e0c0001-03e8-4001-83e8-0000000003e8"

// benchKey is the API key every impl sends, and the server requires.
const benchKey = "bench-key"

// getter fetches the invocation once and reads every step's variant,
// returning what it saw.
type getter func(ctx context.Context) (stepCounts, error)

// impl is one way to fetch and read an invocation. newGetter builds a
// client for the server at baseURL; what it builds is reused across calls,
// as a program would.
type impl struct {
	name string
	// readsSteps is false for the floor, which only reads and scans the
	// body: its getter returns the body's length as the checksum.
	readsSteps bool
	newGetter  func(tb testing.TB, baseURL string) getter
}

// impls are the implementations compared, in the order they run and
// benchstat prints them: ogen first, so that benchstat's "vs base" column
// for sdk is the SDK/ogen ratio.
var impls = []impl{
	{"ogen", true, newOgen},
	{"sdk", true, func(tb testing.TB, baseURL string) getter { return newSDK(tb, baseURL) }},
	{"sdk-otel", true, func(tb testing.TB, baseURL string) getter { return newSDK(tb, baseURL, withOTelSDK(tb)) }},
	{"raw", true, newRaw},
	{"stdjson", true, newStdJSON},
	{"floor", false, newFloor},
}

// serve starts a loopback server that answers every request carrying the
// benchmark's key with body, as the API does (200, application/json, a
// Content-Length), and any other with a 401, so an impl that drops the
// Authorization header fails.
func serve(tb testing.TB, body []byte) *httptest.Server {
	tb.Helper()
	body = asBenchID(tb, body)
	length := strconv.Itoa(len(body))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+benchKey {
			http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// asBenchID returns body with its invocation id replaced by benchID (the
// same length), since the SDK refuses an answer for another id.
func asBenchID(tb testing.TB, body []byte) []byte {
	tb.Helper()
	var own struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &own); err != nil || len(own.ID) != len(benchID) {
		tb.Fatalf("benchmark body has no UUID id: %v", err)
	}
	return bytes.ReplaceAll(body, []byte(`"`+own.ID+`"`), []byte(`"`+benchID+`"`))
}

// transport returns a transport configured like the SDK's default one
// (http.DefaultTransport with 64 idle connections per host), for the impls
// that bring their own, closed when the test or benchmark ends.
func transport(tb testing.TB) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tb.Cleanup(tr.CloseIdleConnections)
	return tr
}

// closeIdleAtCleanup is an option that leaves the SDK's default transport
// in place and closes its idle connections when the test or benchmark
// ends.
func closeIdleAtCleanup(tb testing.TB) client.Option {
	return client.WithMiddleware(func(next http.RoundTripper) http.RoundTripper {
		if tr, ok := next.(*http.Transport); ok {
			tb.Cleanup(tr.CloseIdleConnections)
		}
		return next
	})
}

// newSDK: client.New (with opts added: sdk-otel adds withOTelSDK),
// Invocations.Get, then Success or Failure on every step.
func newSDK(tb testing.TB, baseURL string, opts ...client.Option) getter {
	c, err := client.New(append([]client.Option{client.WithAPIKey(benchKey), client.WithBaseURL(baseURL), closeIdleAtCleanup(tb)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return func(ctx context.Context) (stepCounts, error) {
		inv, err := c.Invocations.Get(ctx, benchID)
		if err != nil {
			return stepCounts{}, err
		}
		return walkSDK(inv)
	}
}

// withOTelSDK installs an OpenTelemetry SDK (every span sampled and
// recorded, then dropped: no exporter), for what tracing costs.
func withOTelSDK(tb testing.TB) client.Option {
	tp := sdktrace.NewTracerProvider()
	tb.Cleanup(func() { tp.Shutdown(context.Background()) })
	return client.WithTracerProvider(tp)
}

func walkSDK(inv *client.Invocation) (stepCounts, error) {
	var c stepCounts
	steps := inv.Steps()
	for i := range steps {
		st := &steps[i]
		if s, ok := st.Success(); ok {
			c.ok++
			c.sum += 1 + s.Index + len(s.Result)
		} else if f, ok := st.Failure(); ok {
			c.failed++
			c.sum += 1 + f.Index + len(f.Error.Code)
		} else {
			return c, st.Err()
		}
	}
	return c, nil
}

// newRaw: the oapi-codegen client the SDK wraps, through Client.Raw (so
// with the SDK's auth and request pipeline), then per step the generated
// AsStepSuccess, and AsStepFailure when its "ok" is false: the generated
// union has no other way to tell the variants apart.
func newRaw(tb testing.TB, baseURL string) getter {
	c, err := client.New(client.WithAPIKey(benchKey), client.WithBaseURL(baseURL), closeIdleAtCleanup(tb))
	if err != nil {
		tb.Fatal(err)
	}
	raw := c.Raw()
	return func(ctx context.Context) (stepCounts, error) {
		resp, err := raw.GetInvocationWithResponse(ctx, benchID, nil)
		if err != nil {
			return stepCounts{}, err
		}
		if resp.JSON200 == nil {
			return stepCounts{}, fmt.Errorf("raw: status %d, no JSON body", resp.StatusCode())
		}
		return walkGenerated(resp.JSON200)
	}
}

func walkGenerated(inv *gen.Invocation) (stepCounts, error) {
	var c stepCounts
	if inv.Result == nil {
		return c, errors.New("raw: no result")
	}
	for _, st := range inv.Result.Steps {
		if s, err := st.AsStepSuccess(); err == nil && s.OK {
			c.ok++
			c.sum += 1 + s.Index + len(s.Result)
			continue
		}
		f, err := st.AsStepFailure()
		if err != nil {
			return c, err
		}
		c.failed++
		c.sum += 1 + f.Index + len(f.Error.Code)
	}
	return c, nil
}

// newOgen: the client ogen generates from the same spec (ogenclient), then
// a switch on each step's Type, the variant ogen chose while decoding. ogen
// drops the spec's Authorization header parameter, so the key is set by a
// wrapping Doer, as a user of ogen would.
func newOgen(tb testing.TB, baseURL string) getter {
	hc := &http.Client{Transport: transport(tb), Timeout: time.Minute}
	oc, err := ogenclient.NewClient(baseURL, ogenclient.WithClient(bearer{hc, "Bearer " + benchKey}))
	if err != nil {
		tb.Fatal(err)
	}
	return func(ctx context.Context) (stepCounts, error) {
		inv, err := oc.Get(ctx, ogenclient.GetParams{ID: benchID})
		if err != nil {
			return stepCounts{}, err
		}
		return walkOgen(inv)
	}
}

// bearer is an ogen ht.Client that sets the Authorization header. ogen
// builds a new request for every call, so setting a header on it is safe.
type bearer struct {
	hc   *http.Client
	auth string
}

func (b bearer) Do(r *http.Request) (*http.Response, error) {
	r.Header.Set("Authorization", b.auth)
	return b.hc.Do(r)
}

func walkOgen(inv *ogenclient.InvocationsGetResponse200) (stepCounts, error) {
	var c stepCounts
	res, ok := inv.Result.Get()
	if !ok {
		return c, errors.New("ogen: no result")
	}
	for i := range res.Steps {
		st := &res.Steps[i]
		switch st.Type {
		case ogenclient.V1InvocationsIdGetResponsesContentApplicationJsonSchemaResultStepsItems0V1InvocationsIdGetResponsesContentApplicationJsonSchemaResultStepsItems:
			s := &st.V1InvocationsIdGetResponsesContentApplicationJsonSchemaResultStepsItems0
			c.ok++
			c.sum += 1 + s.Index + len(s.Result)
		case ogenclient.V1InvocationsIdGetResponsesContentApplicationJsonSchemaResultStepsItems1V1InvocationsIdGetResponsesContentApplicationJsonSchemaResultStepsItems:
			f := &st.V1InvocationsIdGetResponsesContentApplicationJsonSchemaResultStepsItems1
			c.failed++
			c.sum += 1 + f.Index + len(f.Error.Code)
		default:
			return c, fmt.Errorf("ogen: step %d: unknown variant %q", i, st.Type)
		}
	}
	return c, nil
}

// newStdJSON: what a careful hand-written client does: a net/http GET,
// io.ReadAll, one encoding/json Unmarshal into a hand-written mirror of the
// whole schema (spectest.HandInvocation), whose steps are one flattened struct with
// every field of both variants, told apart by "ok".
func newStdJSON(tb testing.TB, baseURL string) getter {
	hc := &http.Client{Transport: transport(tb), Timeout: time.Minute}
	url := baseURL + "/v1/invocations/" + benchID
	return func(ctx context.Context) (stepCounts, error) {
		body, err := getBody(ctx, hc, url)
		if err != nil {
			return stepCounts{}, err
		}
		inv := new(spectest.HandInvocation)
		if err := json.Unmarshal(body, inv); err != nil {
			return stepCounts{}, err
		}
		return walkHand(inv)
	}
}

// newFloor: what no client can beat: the same GET, io.ReadAll, and a
// jsontext scan that checks the body is valid JSON (RFC 7493, the
// strictness the SDK's decoder applies), decoding nothing.
func newFloor(tb testing.TB, baseURL string) getter {
	hc := &http.Client{Transport: transport(tb), Timeout: time.Minute}
	url := baseURL + "/v1/invocations/" + benchID
	return func(ctx context.Context) (stepCounts, error) {
		body, err := getBody(ctx, hc, url)
		if err != nil {
			return stepCounts{}, err
		}
		if !jsontext.Value(body).IsValid() {
			return stepCounts{}, errors.New("floor: invalid JSON")
		}
		return stepCounts{sum: len(body)}, nil
	}
}

// getBody is the hand-written GET of stdjson and floor: one request with
// the key, the whole body read, the response closed.
func getBody(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+benchKey)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return body, nil
}

// stepCounts is what a walk saw: the steps of each kind and a checksum of
// the fields it read (1 + index + the result's length for a success, 1 +
// index + the error code's length for a failure), so the walk cannot be
// optimised away and every impl that reads the steps must agree on it.
type stepCounts struct{ ok, failed, sum int }

// wantCounts is what spectest.Steps(steps, failEvery) holds.
func wantCounts(steps, failEvery int) stepCounts {
	failed := 0
	if failEvery > 0 {
		failed = steps / failEvery
	}
	return stepCounts{ok: steps - failed, failed: failed}
}

// check returns an error unless got has want's counts (none for an impl
// that reads no steps) and a non-zero checksum.
func (im impl) check(got, want stepCounts) error {
	if !im.readsSteps {
		want.ok, want.failed = 0, 0
	}
	if got.ok != want.ok || got.failed != want.failed || got.sum == 0 {
		return fmt.Errorf("%s: got %d ok and %d failed steps (checksum %d), want %d and %d",
			im.name, got.ok, got.failed, got.sum, want.ok, want.failed)
	}
	return nil
}
