package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// clientOnly refuses a client-only option applied to one call.
func (c *config) clientOnly(name string) error {
	if c.forCall {
		return fmt.Errorf("%w: %s configures the client: pass it to New", ErrClientOnlyOption, name)
	}
	return nil
}

// callOnly refuses a call-only option given to New.
func (c *config) callOnly(name string) error {
	if !c.forCall {
		return fmt.Errorf("bctrl: %s applies to one call: pass it to the call, not to New", name)
	}
	return nil
}

// callConfig returns the configuration of one call: the client's own when
// opts is empty (no copy), else a copy with opts applied and its slices
// and maps cloned, so that no call changes what another sees. waitAll
// refuses WithMaxRetries (WaitAll polls again instead of retrying).
func (c *Client) callConfig(opts []Option, waitAll bool) (*config, error) {
	if len(opts) == 0 {
		return c.cfg, nil
	}
	cfg := *c.cfg
	cfg.forCall, cfg.waitAll = true, waitAll
	cfg.header = c.cfg.header.Clone()
	cfg.middleware = cfg.middleware[:len(cfg.middleware):len(cfg.middleware)]
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	cfg.bearer = c.cfg.bearer // no option may change the key a call sends
	return &cfg, nil
}

// WithHeader adds a header to every request (given to New) or to one
// call's requests. Its scope is per call. It refuses the headers the
// client sets itself or that only the transport may set (Authorization,
// Idempotency-Key, User-Agent, Host, Content-Length and the hop-by-hop
// headers), and a call refuses a header its operation declares as a
// parameter. Given again for the same key, the values add up.
func WithHeader(key, value string) Option {
	return func(c *config) error {
		if !httpguts.ValidHeaderFieldName(key) {
			return fmt.Errorf("bctrl: WithHeader: invalid header name %q", key)
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			return fmt.Errorf("bctrl: WithHeader: invalid value for %s", key) // the value may be a credential
		}
		k := http.CanonicalHeaderKey(key)
		switch k {
		case "Authorization", "Idempotency-Key", "User-Agent", "Host", "Content-Length",
			"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
			"Te", "Trailer", "Transfer-Encoding", "Upgrade":
			hint := ""
			switch k {
			case "Authorization":
				hint = " (see WithAPIKey)"
			case "Idempotency-Key":
				hint = " (see WithIdempotencyKey)"
			case "User-Agent":
				hint = " (see WithUserAgent)"
			}
			return fmt.Errorf("bctrl: WithHeader: %s is set by the client%s", k, hint)
		}
		if c.header == nil {
			c.header = make(http.Header, 1)
		}
		c.header.Add(k, value)
		return nil
	}
}

// WithIdempotencyKey sends key as the call's Idempotency-Key header, so
// that a POST or PATCH is retried like an idempotent request: the server
// answers a repeat with the first outcome. It is call-only: given to New,
// it would make distinct creates share one key, and New refuses it.
func WithIdempotencyKey(key string) Option {
	return func(c *config) error {
		if err := c.callOnly("WithIdempotencyKey"); err != nil {
			return err
		}
		key = strings.TrimSpace(key)
		if key == "" || !httpguts.ValidHeaderFieldValue(key) {
			return errors.New("bctrl: WithIdempotencyKey: need a non-empty key without control characters")
		}
		c.idempotencyKey = key
		return nil
	}
}

// WithResponseInto makes the call record the metadata of its final
// response into info: status, headers, request id and attempts, scrubbed
// of the API key like an error's. It is recorded whether the call
// succeeds or not; for Wait and Watch (WithRequestOptions) info holds the
// last poll's. It is call-only: New refuses it. Use one info per call at a
// time.
func WithResponseInto(info *ResponseInfo) Option {
	return func(c *config) error {
		if err := c.callOnly("WithResponseInto"); err != nil {
			return err
		}
		if info == nil {
			return errors.New("bctrl: WithResponseInto: nil ResponseInfo")
		}
		c.responseInto = info
		return nil
	}
}

// WithRequestOptions applies per-call options (WithMaxRetries,
// WithHeader, WithResponseInto, ...) to every poll of a Wait, Watch or
// WaitAll. WaitAll refuses WithMaxRetries: each of its polls is one
// request, and it polls again instead of retrying.
func WithRequestOptions(opts ...Option) WaitOption {
	return func(c *waitConfig) error {
		c.callOpts = append(c.callOpts[:len(c.callOpts):len(c.callOpts)], opts...)
		return nil
	}
}
