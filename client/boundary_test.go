package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
)

// timeoutOnly has a Timeout method but is no net.Error, like the SDK's
// attempt timeout.
type timeoutOnly struct{ msg string }

func (e *timeoutOnly) Error() string { return e.msg }
func (e *timeoutOnly) Timeout() bool { return true }

// cyclic unwraps to itself.
type cyclic struct{ msg string }

func (e *cyclic) Error() string { return e.msg }
func (e *cyclic) Unwrap() error { return e }

// TestBoundaryKeepsMeaning checks, link by link, what the boundary keeps
// of an error chain holding the key: errors.Is and errors.As answer as
// they did, Timeout() too, a clean chain comes back as it is, and a
// chain that never ends is cut.
func TestBoundaryKeepsMeaning(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	clean := fmt.Errorf("bctrl: GET /x: %w", dial)
	tests := []struct {
		name  string
		err   error
		check func(t *testing.T, got error)
	}{
		{"a clean chain is kept as it is", clean, func(t *testing.T, got error) {
			if got != clean {
				t.Errorf("got %#v, want the original", got)
			}
		}},
		{"url.Error with the key in its URL", fmt.Errorf("bctrl: GET /x: %w",
			&url.Error{Op: "Get", URL: "http://h/x?token=" + key, Err: dial}), func(t *testing.T, got error) {
			var ue *url.Error
			var op *net.OpError
			if !errors.As(got, &ue) || ue.URL != "http://h/x?token=[redacted]" || ue.Op != "Get" {
				t.Errorf("url.Error = %#v", ue)
			}
			if !errors.As(got, &op) || op != dial {
				t.Errorf("net.OpError = %#v, want the original (it was clean)", op)
			}
		}},
		{"a timeout whose message holds the key", &url.Error{Op: "Get", URL: "http://h/", Err: &timeoutOnly{"timed out for " + key}},
			func(t *testing.T, got error) {
				var ue *url.Error
				var ne net.Error
				if !errors.As(got, &ue) || !ue.Timeout() || !errors.As(got, &ne) || !ne.Timeout() {
					t.Errorf("got %v; want Timeout() through url.Error and net.Error", got)
				}
			}},
		{"a custom Is method", fmt.Errorf("x: %w", &keyedDeadline{key}), func(t *testing.T, got error) {
			if !errors.Is(got, context.DeadlineExceeded) {
				t.Errorf("got %v; want it to match context.DeadlineExceeded", got)
			}
		}},
		{"two %w and a join", errors.Join(fmt.Errorf("%w (last: %w)", ErrWaitTimeout, &APIError{StatusCode: 429, Message: key}),
			io.ErrUnexpectedEOF), func(t *testing.T, got error) {
			var ae *APIError
			if !errors.Is(got, ErrWaitTimeout) || !errors.Is(got, ErrRateLimited) || !errors.Is(got, io.ErrUnexpectedEOF) ||
				!errors.As(got, &ae) || ae.Message != redacted {
				t.Errorf("got %v", got)
			}
			if _, ok := got.(interface{ Unwrap() []error }); !ok {
				t.Errorf("got %T; want it to unwrap to many, as errors.Join does", got)
			}
		}},
		{"a context error wrapped with the key", fmt.Errorf("bctrl: GET /%s: %w", key, context.Canceled), func(t *testing.T, got error) {
			if !errors.Is(got, context.Canceled) || errors.Unwrap(got) != context.Canceled {
				t.Errorf("got %v; want it to unwrap to context.Canceled itself", got)
			}
		}},
		{"a chain that never ends", &cyclic{"loop " + key}, func(t *testing.T, got error) {
			n := 0
			for e := got; e != nil; e = errors.Unwrap(e) {
				n++
			}
			if n > maxChain+1 {
				t.Errorf("chain has %d links", n)
			}
		}},
		{"a nil pointer for an error", fmt.Errorf("%s: %w", key, (*cyclic)(nil)), func(t *testing.T, got error) {
			if !strings.Contains(got.Error(), redacted) {
				t.Errorf("got %q", got)
			}
		}},
		{"a 10 MiB message", errors.New(strings.Repeat("x", 10<<20) + key), func(t *testing.T, got error) {
			if n := len(got.Error()); n > maxErrorMessage+len("…[truncated]") {
				t.Errorf("message is %d bytes", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := r.err(tt.err)
			for e := got; e != nil; e = errors.Unwrap(e) {
				if s := fmt.Sprintf("%v %+v %#v", e, e, e); strings.Contains(s, key) {
					t.Errorf("link %T prints the key: %.200s", e, s)
				}
			}
			tt.check(t, got)
		})
	}
}

type keyedDeadline struct{ key string }

func (e *keyedDeadline) Error() string        { return "deadline for " + e.key }
func (e *keyedDeadline) Is(target error) bool { return target == context.DeadlineExceeded }
