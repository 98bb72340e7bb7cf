package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
	"github.com/bctrlhq/sdk-go/gen"
)

// The tests in this file cover the Raw() pattern: the generated client's
// responses turned into the SDK's errors (CheckResponse) and invocations
// (DecodeInvocation), and what an explicit Authorization parameter does.

const rawID = "0b5e7a1e-0000-4000-8000-00000000b001"

// rawKey is the fake's key in these tests; some servers reflect it.
const rawKey = "sk-raw-test-0123456789"

// TestCheckResponseIsGetsError checks that CheckResponse, in both forms,
// builds from a Raw response the same *APIError Get returns for the same
// exchange: sentinels, request id, code, message, headers and body.
func TestCheckResponseIsGetsError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		id       string
		clientOp client.Option
		fault    *bctrltest.Fault
		sentinel error
	}{
		{name: "404", id: "no-such-invocation", sentinel: client.ErrNotFound},
		{name: "401", id: rawID, clientOp: client.WithAPIKey("sk-wrong"), sentinel: client.ErrUnauthorized},
		{name: "429 after retries", id: rawID, fault: &bctrltest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"}, sentinel: client.ErrRateLimited},
		{name: "502 page", id: rawID, fault: &bctrltest.Fault{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>", ContentType: "text/html"}},
		{name: "key reflected", id: rawID, fault: &bctrltest.Fault{Status: http.StatusBadRequest, Body: `{"code":"bad.` + rawKey + `","message":"key ` + rawKey + ` refused"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The same exchange on two fresh servers, so the request ids
			// match; in fake time, so the retries of a 429 cost nothing.
			synctest.Test(t, func(t *testing.T) {
				setup := func() *client.Client {
					srv, c := rawFakeClient(t, tt.clientOp)
					srv.Add(bctrltest.NewInvocation(rawID))
					if tt.fault != nil {
						srv.Fault("", *tt.fault)
					}
					return c
				}
				_, getErr := setup().Invocations.Get(t.Context(), tt.id)
				var want *client.APIError
				if !errors.As(getErr, &want) {
					t.Fatalf("Get: %v, want an *APIError", getErr)
				}

				c := setup()
				resp, err := c.Raw().GetInvocationWithResponse(t.Context(), tt.id, nil)
				if err != nil {
					t.Fatalf("Raw: %v", err)
				}
				for name, err := range map[string]error{
					"client.CheckResponse": client.CheckResponse(resp.HTTPResponse, resp.Body),
					"c.CheckResponse":      c.CheckResponse(resp.HTTPResponse, resp.Body),
				} {
					var got *client.APIError
					if !errors.As(err, &got) {
						t.Fatalf("%s: %v, want an *APIError", name, err)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s differs from Get's error (-Get +%s):\n%s", name, name, diff)
					}
					if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
						t.Errorf("%s: errors.Is(%v) = false", name, tt.sentinel)
					}
					if got.RequestID == "" {
						t.Errorf("%s: no request id", name)
					}
					if strings.Contains(got.Error()+got.Code+string(got.Body), rawKey) {
						t.Errorf("%s carries the key: %v", name, got)
					}
				}
			})
		})
	}
}

// rawFakeClient is an in-memory fake that accepts rawKey and a client of
// it; extra overrides the client's key.
func rawFakeClient(t *testing.T, extra client.Option) (*bctrltest.Server, *client.Client) {
	t.Helper()
	srv := bctrltest.NewServer(t, bctrltest.InMemory(), bctrltest.WithAPIKey(rawKey))
	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL),
		client.WithHTTPClient(srv.HTTPClient()), extra)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestCheckResponseEdges(t *testing.T) {
	t.Parallel()
	if err := client.CheckResponse(&http.Response{StatusCode: http.StatusNoContent}, nil); err != nil {
		t.Errorf("204: %v, want nil", err)
	}
	if err := client.CheckResponse(nil, nil); err == nil {
		t.Error("nil response: no error")
	}
	// A response without its request: the package function has no key to
	// scrub, the method has the client's.
	c, err := client.New(client.WithAPIKey(rawKey), client.WithBaseURL("https://api.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	resp := &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"X-Request-Id": {"req-" + rawKey}}}
	body := []byte(`{"code":"forbidden","message":"` + rawKey + `"}`)
	err = c.CheckResponse(resp, body)
	if !errors.Is(err, client.ErrForbidden) || strings.Contains(err.Error(), rawKey) {
		t.Errorf("c.CheckResponse: %v, want ErrForbidden without the key", err)
	}
	if err := client.CheckResponse(resp, body); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("client.CheckResponse: %v, want ErrForbidden", err)
	}
}

// TestDecodeInvocationOfRaw checks that a body read through Raw decodes as
// Get decodes it: discriminated steps (the generated AsStepSuccess would
// take the failed step for a success), typed status, Raw kept; and that a body that is not an
// invocation is an ErrInvalidResponse.
func TestDecodeInvocationOfRaw(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, c := rawFakeClient(t, nil)
		inv := bctrltest.NewInvocation(rawID)
		srv.Add(bctrltest.Failed(inv, "step 1 failed",
			bctrltest.OKStep(0, "page.title", "Shop"),
			bctrltest.ErrStep(1, "page.clik", "UNKNOWN_CALL", "no such call", "page.click?")))

		resp, err := c.Raw().GetInvocationWithResponse(t.Context(), rawID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckResponse(resp.HTTPResponse, resp.Body); err != nil {
			t.Fatal(err)
		}
		got, err := client.DecodeInvocation(resp.Body)
		if err != nil {
			t.Fatalf("DecodeInvocation: %v", err)
		}
		want, err := c.Invocations.Get(t.Context(), rawID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != client.StatusFailed || got.Status != want.Status || string(got.Raw()) != string(want.Raw()) {
			t.Errorf("status %s, raw %s; Get: %s, %s", got.Status, got.Raw(), want.Status, want.Raw())
		}
		steps := got.Steps()
		if len(steps) != 2 {
			t.Fatalf("%d steps, want 2", len(steps))
		}
		if s, ok := steps[0].Success(); !ok {
			t.Errorf("step 0 is not a success")
		} else if title, err := client.ResultAs[string](s); err != nil || title != "Shop" {
			t.Errorf("step 0 result %q, %v", title, err)
		}
		if _, ok := steps[1].Success(); ok {
			t.Errorf("step 1 (ok: false) decoded as a success")
		}
		if f, ok := steps[1].Failure(); !ok || f.Error.Code != client.StepErrorUnknownCall || f.Error.Hint != "page.click?" {
			t.Errorf("step 1 failure = %+v, %v", f, ok)
		}
		if fs := got.FailedSteps(); len(fs) != 1 || fs[0].Index != 1 {
			t.Errorf("FailedSteps = %+v", fs)
		}
	})

	for _, body := range []string{``, `<html>`, `{"id":"x"}`, `{"id":"x","status":"queued","createdAt":"2026-01-01T00:00:00Z","result":{"steps":[1]}}`} {
		if inv, err := client.DecodeInvocation([]byte(body)); !errors.Is(err, client.ErrInvalidResponse) {
			t.Errorf("DecodeInvocation(%q) = %v, %v; want ErrInvalidResponse", body, inv, err)
		}
	}
}

// TestRawAuthorizationParam checks what an explicit Authorization in the
// generated parameters does: the client's own key or an empty one is sent
// as the client's key; another credential is refused before sending,
// never silently replaced, and the error does not show it.
func TestRawAuthorizationParam(t *testing.T) {
	t.Parallel()
	const other = "sk-other-tenant-key"
	tests := []struct {
		name    string
		params  *gen.GetInvocationParams
		refused bool
	}{
		{"nil params", nil, false},
		{"empty", &gen.GetInvocationParams{}, false},
		{"the client's key", &gen.GetInvocationParams{Authorization: "Bearer " + rawKey}, false},
		{"the client's key, lower-case scheme", &gen.GetInvocationParams{Authorization: "bearer " + rawKey}, false},
		{"another key", &gen.GetInvocationParams{Authorization: "Bearer " + other}, true},
		{"another scheme", &gen.GetInvocationParams{Authorization: "Basic " + other}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv, c := rawFakeClient(t, nil)
				srv.Add(bctrltest.NewInvocation(rawID))
				resp, err := c.Raw().GetInvocationWithResponse(t.Context(), rawID, tt.params)
				if tt.refused {
					if !errors.Is(err, client.ErrAuthorizationParam) {
						t.Fatalf("err = %v, want ErrAuthorizationParam", err)
					}
					if strings.Contains(err.Error(), other) {
						t.Errorf("the error shows the credential: %v", err)
					}
					if n := len(srv.Requests()); n != 0 {
						t.Errorf("%d requests sent, want none", n)
					}
					return
				}
				if err != nil || resp.StatusCode() != http.StatusOK {
					t.Fatalf("err = %v, status %d; want 200 with the client's key", err, resp.StatusCode())
				}
			})
		})
	}
}
