package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// A Doer or middleware that answers with a response whose Request is nil
// (a circuit breaker, a cache, a test double) breaks net/http's contract:
// every path returns an error naming it, once, and none panics (under
// WaitAll a panic would be on a worker goroutine and kill the process).
func TestNilRequestIsAnErrorOnEveryPath(t *testing.T) {
	t.Parallel()
	body := spectest.Steps(1, 7)
	id := bodyID(t, body)
	paths := map[string]func(context.Context, *client.Client) error{
		"Get": func(ctx context.Context, c *client.Client) error {
			_, err := c.Invocations.Get(ctx, id)
			return err
		},
		"Wait": func(ctx context.Context, c *client.Client) error {
			_, err := c.Invocations.Wait(ctx, id, client.WithPollInterval(time.Millisecond, time.Millisecond))
			return err
		},
		"WaitAll": func(ctx context.Context, c *client.Client) error {
			var err error
			for _, e := range c.Invocations.WaitAll(ctx, []string{id}, client.WithPollInterval(time.Millisecond, time.Millisecond)) {
				err = e
			}
			return err
		},
		"Raw": func(ctx context.Context, c *client.Client) error {
			_, err := c.Raw().GetInvocationWithResponse(ctx, id, nil)
			return err
		},
	}
	for _, via := range []string{"Doer", "middleware"} {
		for name, run := range paths {
			t.Run(via+"/"+name, func(t *testing.T) {
				t.Parallel()
				var calls atomic.Int64
				answer := func(*http.Request) (*http.Response, error) {
					calls.Add(1)
					return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
						Body: io.NopCloser(strings.NewReader(string(body)))}, nil // no Request
				}
				opts := []client.Option{client.WithAPIKey(testKey), client.WithBaseURL("http://127.0.0.1:1")}
				if via == "Doer" {
					opts = append(opts, client.WithHTTPClient(doerFunc(answer)))
				} else {
					opts = append(opts, client.WithMiddleware(func(http.RoundTripper) http.RoundTripper { return roundTripFunc(answer) }))
				}
				c, err := client.New(opts...)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				err = run(ctx, c)
				if err == nil || !strings.Contains(err.Error(), "nil Request") || strings.Count(err.Error(), "nil Request") != 1 {
					t.Fatalf("err = %v, want one error naming the nil Request", err)
				}
				if n := calls.Load(); n != 1 {
					t.Errorf("%d attempts, want 1: a broken contract is not retried or polled through", n)
				}
			})
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A call's WithMaxRetries(0) makes one attempt on a 503; the next call
// without options makes the client's default four.
func TestPerCallMaxRetries(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	id := "inv-1"
	if _, err := c.Invocations.Get(t.Context(), id, client.WithMaxRetries(0)); err == nil {
		t.Fatal("Get succeeded on a 503")
	}
	if got := n.Swap(0); got != 1 {
		t.Errorf("WithMaxRetries(0): %d attempts, want 1", got)
	}
	if _, err := c.Invocations.Get(t.Context(), id); err == nil {
		t.Fatal("Get succeeded on a 503")
	}
	if got := n.Load(); got != client.DefaultMaxRetries+1 {
		t.Errorf("next call: %d attempts, want the default %d", got, client.DefaultMaxRetries+1)
	}
}

// A per-call header reaches the server and not the next call; concurrent
// calls with different headers do not see each other's (run with -race).
func TestPerCallHeader(t *testing.T) {
	t.Parallel()
	body := spectest.Steps(1, 7)
	var mu sync.Mutex
	var seen []string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, strings.Join(r.Header.Values("X-Tenant"), ","))
		mu.Unlock()
		serveJSON(http.StatusOK, body)(w, r)
	}, client.WithHeader("X-Tenant", "client"))
	id := bodyID(t, body)
	if _, err := c.Invocations.Get(t.Context(), id, client.WithHeader("X-Tenant", "call")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invocations.Get(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if want := []string{"client,call", "client"}; strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("headers seen %q, want %q", seen, want)
	}

	// Raw's requests carry the client's headers too.
	if _, err := c.Raw().GetInvocationWithResponse(t.Context(), id, nil); err != nil {
		t.Fatal(err)
	}
	if got := seen[len(seen)-1]; got != "client" {
		t.Errorf("Raw sent X-Tenant %q, want the client's", got)
	}

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var info client.ResponseInfo
			v := strings.Repeat("x", i+1)
			if _, err := c.Invocations.Get(t.Context(), id, client.WithHeader("X-Tenant", v), client.WithResponseInto(&info)); err != nil {
				t.Error(err)
			}
			if info.StatusCode != http.StatusOK || info.Attempts != 1 {
				t.Errorf("info = %+v", info)
			}
		})
	}
	wg.Wait()
	for _, s := range seen[3:] {
		if parts := strings.Split(s, ","); len(parts) != 2 || parts[0] != "client" {
			t.Errorf("a call sent X-Tenant %q: calls shared their headers", s)
		}
	}
}

// Client-only options given to a call fail before anything is sent, naming
// the option; call-only options given to New are refused, naming it.
func TestOptionScopes(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, serveJSON(http.StatusOK, spectest.Steps(1, 7)))
	for name, opt := range map[string]client.Option{
		"WithAPIKey":         client.WithAPIKey("sk-other"),
		"WithBaseURL":        client.WithBaseURL("https://elsewhere.example"),
		"WithHTTPClient":     client.WithHTTPClient(http.DefaultClient),
		"WithRateLimit":      client.WithRateLimit(1, 1),
		"WithInsecureHTTP":   client.WithInsecureHTTP(),
		"WithMiddleware":     client.WithMiddleware(func(rt http.RoundTripper) http.RoundTripper { return rt }),
		"WithTracerProvider": client.WithTracerProvider(nil),
		"WithHTTPSpans":      client.WithHTTPSpans(false),
	} {
		_, err := c.Invocations.Get(t.Context(), "inv-1", opt)
		if !errors.Is(err, client.ErrClientOnlyOption) || !strings.Contains(err.Error(), name) {
			t.Errorf("Get with %s: err = %v, want ErrClientOnlyOption naming it", name, err)
		}
		_, err = c.Invocations.Wait(t.Context(), "inv-1", client.WithRequestOptions(opt))
		if !errors.Is(err, client.ErrClientOnlyOption) {
			t.Errorf("Wait with %s: err = %v, want ErrClientOnlyOption", name, err)
		}
	}
	if n := len(ts.requests()); n != 0 {
		t.Errorf("%d requests sent with a client-only option", n)
	}
	var info client.ResponseInfo
	for name, opt := range map[string]client.Option{
		"WithIdempotencyKey": client.WithIdempotencyKey("k-1"),
		"WithResponseInto":   client.WithResponseInto(&info),
	} {
		if _, err := client.New(client.WithAPIKey(testKey), opt); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("New with %s: err = %v, want an error naming it", name, err)
		}
	}
	for _, h := range []string{"Authorization", "idempotency-key", "Host", "Content-Length", "Connection", "Transfer-Encoding", "Bad Name"} {
		if _, err := client.New(client.WithAPIKey(testKey), client.WithHeader(h, "v")); err == nil {
			t.Errorf("WithHeader(%q) accepted", h)
		}
	}
}

// WithRequestOptions applies to every poll of Wait, and WaitAll refuses
// WithMaxRetries there.
func TestWaitRequestOptions(t *testing.T) {
	t.Parallel()
	body := spectest.Steps(1, 7)
	var tagged, polls atomic.Int64
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		if r.Header.Get("X-Trace-Tag") == "w" {
			tagged.Add(1)
		}
		serveJSON(http.StatusOK, body)(w, r)
	})
	id := bodyID(t, body)
	var info client.ResponseInfo
	if _, err := c.Invocations.Wait(t.Context(), id,
		client.WithRequestOptions(client.WithHeader("X-Trace-Tag", "w"), client.WithResponseInto(&info))); err != nil {
		t.Fatal(err)
	}
	if polls.Load() == 0 || tagged.Load() != polls.Load() || info.StatusCode != http.StatusOK {
		t.Errorf("%d of %d polls carried the header; info %+v", tagged.Load(), polls.Load(), info)
	}
	for _, err := range c.Invocations.WaitAll(t.Context(), []string{id}, client.WithRequestOptions(client.WithMaxRetries(2))) {
		if err == nil || !strings.Contains(err.Error(), "WithMaxRetries") {
			t.Errorf("WaitAll with WithMaxRetries: err = %v", err)
		}
	}
}

// Every error carries one "bctrl: " prefix, however many layers it
// crossed (a poll's error inside a wait's, a transport error inside a
// call's).
func TestOnePrefix(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/gone"):
			http.Error(w, `{"error":"no such invocation"}`, http.StatusNotFound)
		case strings.HasSuffix(r.URL.Path, "/big"):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":"big","pad":"` + strings.Repeat("x", 4096) + `"}`))
		default:
			n.Add(1)
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}, client.WithMaxResponseBytes(1024), client.WithMaxRetries(1))
	ctx := t.Context()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	for name, call := range map[string]func() error{
		"Get 404":       func() error { _, err := c.Invocations.Get(ctx, "gone"); return err },
		"Get too large": func() error { _, err := c.Invocations.Get(ctx, "big"); return err },
		"Get 503":       func() error { _, err := c.Invocations.Get(ctx, "busy"); return err },
		"Get bad id":    func() error { _, err := c.Invocations.Get(ctx, ".."); return err },
		"Wait 404":      func() error { _, err := c.Invocations.Wait(ctx, "gone"); return err },
		"Wait too large": func() error {
			_, err := c.Invocations.Wait(ctx, "big")
			return err
		},
		"Wait deadline after 503s": func() error {
			_, err := c.Invocations.Wait(short, "busy", client.WithPollInterval(time.Millisecond, 5*time.Millisecond))
			return err
		},
	} {
		err := call()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "bctrl: ") || strings.Count(msg, "bctrl: ") != 1 {
			t.Errorf("%s: %q, want one bctrl: prefix", name, msg)
		}
	}
}

// A body decoded on its own has no status or content type, and its
// error names none.
func TestDecodeInvocationErrorNamesNoStatus(t *testing.T) {
	t.Parallel()
	_, err := client.DecodeInvocation([]byte(`{"id":`))
	if !errors.Is(err, client.ErrInvalidResponse) || strings.Contains(err.Error(), "status 0") ||
		strings.Contains(err.Error(), `content type ""`) {
		t.Errorf("err = %v, want ErrInvalidResponse without status 0 or an empty content type", err)
	}
}
