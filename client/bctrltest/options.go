package bctrltest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultAPIKey is the API key a Server accepts unless WithAPIKey says
// otherwise.
const DefaultAPIKey = "bctrltest-key"

// An Option configures a Server. Options that receive invalid input make
// NewServer fail the test and Start return an error.
type Option func(*config) error

type config struct {
	apiKey   string
	now      func() time.Time
	basePath string
	logf     func(format string, args ...any)
	inMemory bool
	keep     int // requests Requests keeps; 0: all
}

func newConfig(opts []Option) (config, error) {
	c := config{apiKey: DefaultAPIKey, now: time.Now}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&c); err != nil {
			return config{}, err
		}
	}
	return c, nil
}

// WithAPIKey sets the API key the server accepts as
// "Authorization: Bearer <key>". The default is DefaultAPIKey.
func WithAPIKey(key string) Option {
	return func(c *config) error {
		if key == "" || strings.ContainsAny(key, " \t\r\n") {
			return fmt.Errorf("invalid api key %q: must be non-empty and contain no whitespace", key)
		}
		c.apiKey = key
		return nil
	}
}

// WithClock sets the clock the server reads to time Advance scripts, to
// stamp Request.At and to keep served heartbeats out of the future. The
// default is time.Now. Fault latency always uses real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("nil clock")
		}
		c.now = now
		return nil
	}
}

// WithBasePath mounts the API under a path prefix such as "/api", so that
// Server.URL ends with it. A client that builds absolute paths and drops the
// prefix then gets 404s instead of passing by accident.
func WithBasePath(prefix string) Option {
	return func(c *config) error {
		p := strings.TrimRight(prefix, "/")
		if p == "" {
			c.basePath = ""
			return nil
		}
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "{}?# \t\r\n%") || strings.Contains(p, "//") {
			return fmt.Errorf("invalid base path %q: want a clean absolute path such as /api", prefix)
		}
		c.basePath = p
		return nil
	}
}

// WithLogf makes the server log one line per request through logf, for
// example t.Logf or log.Printf. By default the server logs nothing.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(c *config) error {
		c.logf = logf
		return nil
	}
}

// WithRequestLimit makes the server keep only the last n requests for
// Requests and RequestCount, so that a long-running server (a dev server,
// a load test) holds a bounded record. By default every request is kept,
// as a test wants.
func WithRequestLimit(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("invalid request limit %d: must be positive", n)
		}
		c.keep = n
		return nil
	}
}

// InMemory makes NewServer start no listener: the server answers only
// through the in-process client HTTPClient returns, and its URL
// (http://bctrltest.localhost, plus the base path) names no socket. With
// no goroutine blocked on the network, a test can run the server and a
// client inside a testing/synctest bubble, where every timer the client
// and the server set (attempt timeouts, retry backoff, Retry-After, rate
// limits, poll intervals, Fault latency, WithClock's default time.Now) runs
// on the bubble's fake clock. Start refuses this option.
func InMemory() Option {
	return func(c *config) error {
		c.inMemory = true
		return nil
	}
}
