package client

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/bctrlhq/sdk-go/gen"
)

// DefaultBaseURL is the API's first server in the spec, used when neither
// WithBaseURL nor BCTRL_BASE_URL is set.
const DefaultBaseURL = "https://api.bctrl.ai"

// Environment variables read by New when the matching option is not given.
const (
	EnvAPIKey  = "BCTRL_API_KEY"
	EnvBaseURL = "BCTRL_BASE_URL"
)

// Defaults for the options of New; the README's "Retries and timeouts"
// section explains each choice.
const (
	DefaultMaxRetries       = 3
	DefaultRetryMinBackoff  = 250 * time.Millisecond
	DefaultRetryMaxBackoff  = 8 * time.Second
	DefaultRetryAfterCap    = 30 * time.Second
	DefaultAttemptTimeout   = 30 * time.Second
	DefaultHeaderTimeout    = 20 * time.Second
	DefaultMaxResponseBytes = 32 << 20 // a 10,000-step invocation is about 5 MB
	DefaultMaxSteps         = 100_000  // ten times the largest invocation seen
)

// Doer sends one HTTP request. *http.Client satisfies it; so does any
// middleware stack a platform already has.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Client talks to the bctrl API. Create one with New and share it: it is
// safe for concurrent use, and its connection pool and rate limiter are
// shared by every call.
type Client struct {
	// Services holds one field per service of the spec (generated):
	// Invocations reads durable invocations and waits for them to finish.
	Services

	// cfg and redact hold the API key two pointers deep (a secret is a
	// pointer itself): fmt prints a pointer inside a struct as an address,
	// or for a verb that does not fit it (%s) its contents one level deep,
	// never deeper. So even a Client copied by value into a user's struct,
	// whose unexported field fmt prints by reflection without calling
	// Format, does not print the key.
	cfg         *config
	decoders    *decoderPool             // for cfg.maxSteps
	redact      *redactor                // for cfg.apiKey; the boundary's
	raw         *gen.ClientWithResponses // the generated client over rawDoer; Raw returns it
	base        *url.URL                 // cfg.baseURL, parsed once
	basePath    string                   // base.Path
	baseRawPath string                   // base.EscapedPath()
	limiter     *rate.Limiter
	tracer      trace.Tracer
	metrics     instruments
	doer        Doer // cfg.httpClient (or the default) wrapped in the middleware
}

// config is everything the options set. The API key is a secret value whose
// every print form is redacted; a Client holds its config by pointer.
type config struct {
	apiKey           secret
	baseURL          string
	httpClient       Doer
	userAgent        string
	maxRetries       int
	retryMin         time.Duration
	retryMax         time.Duration
	retryAfterCap    time.Duration
	attemptTimeout   time.Duration
	maxResponseBytes int64
	maxSteps         int
	rateLimit        rate.Limit
	rateBurst        int
	allowInsecure    bool
	logger           *slog.Logger
	middleware       []Middleware
	tracerProvider   trace.TracerProvider
	meterProvider    metric.MeterProvider
	propagator       propagation.TextMapPropagator // nil: the global one, read at each attempt
	noHTTPSpans      bool
	header           http.Header // WithHeader
	bearer           secret      // "Bearer <key>", the Authorization value, made once by New

	// Set on one call's copy only (callConfig).
	forCall        bool          // the options apply to one call: client-only ones are refused
	waitAll        bool          // a WaitAll's request options: WithMaxRetries is refused
	idempotencyKey string        // WithIdempotencyKey
	responseInto   *ResponseInfo // WithResponseInto
}

// Option configures a Client, or one call of it. Options validate their
// input; New, or the call, returns the first error. Each option's doc
// names its scope:
//
//   - per call: given to New it sets the client's default; given to a
//     call (Get(ctx, id, opts...), or WithRequestOptions for Wait, Watch
//     and WaitAll) it applies to that call only, on a copy of the
//     client's configuration;
//   - call-only (WithIdempotencyKey, WithResponseInto): New refuses it;
//   - client-only (transport, base URL, key, rate limit, telemetry
//     providers, middleware): a call given one fails before sending, with
//     an error matching ErrClientOnlyOption that names it. A call never
//     builds a transport, limiter, redactor, tracer or instrument.
type Option func(*config) error

// WithAPIKey sets the API key sent as "Authorization: Bearer <key>". Without
// it, New reads BCTRL_API_KEY. Leading and trailing ASCII whitespace (a key
// read from a file ends in a newline) is trimmed: the trimmed key is the one
// sent, and the one scrubbed.
//
// Scope: client-only (see Option).
func WithAPIKey(key string) Option {
	key = trimKey(key)
	return func(c *config) error {
		if err := c.clientOnly("WithAPIKey"); err != nil {
			return err
		}
		if key == "" {
			return errors.New("bctrl: WithAPIKey: empty API key")
		}
		if strings.ContainsAny(key, "\r\n") {
			return errors.New("bctrl: WithAPIKey: API key contains a line break")
		}
		c.apiKey = newSecret(key)
		return nil
	}
}

// trimKey is the key as sent and scrubbed: without leading and trailing
// ASCII whitespace, wherever it came from (WithAPIKey, BCTRL_API_KEY).
func trimKey(key string) string { return strings.Trim(key, " \t\r\n\v\f") }

// WithBaseURL sets the API's base URL, for example "https://api.bctrl.ai" or
// a path-prefixed gateway such as "https://gw.example.com/bctrl". Without it,
// New reads BCTRL_BASE_URL, else uses DefaultBaseURL.
//
// Scope: client-only (see Option).
func WithBaseURL(u string) Option {
	return func(c *config) error {
		if err := c.clientOnly("WithBaseURL"); err != nil {
			return err
		}
		if u == "" {
			return errors.New("bctrl: WithBaseURL: empty URL")
		}
		c.baseURL = u
		return nil
	}
}

// WithHTTPClient sets the Doer that sends requests, for example an
// *http.Client with a custom transport. The default is an *http.Client whose
// transport has dial, TLS and response-header timeouts and which does not
// forward the Authorization header on a redirect to another host (or
// port). An *http.Client given here without a CheckRedirect of its own is
// used with that redirect rule too. To add to the default transport
// rather than replace it, use WithMiddleware.
//
// Scope: client-only (see Option).
func WithHTTPClient(d Doer) Option {
	return func(c *config) error {
		if err := c.clientOnly("WithHTTPClient"); err != nil {
			return err
		}
		if d == nil {
			return errors.New("bctrl: WithHTTPClient: nil Doer")
		}
		c.httpClient = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header, which defaults to
// "bctrl-go/<version>". The value is prepended to the default, so the SDK
// stays identifiable in server logs.
//
// Scope: per call (see Option).
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.ContainsAny(ua, "\r\n") {
			return errors.New("bctrl: WithUserAgent: user agent contains a line break")
		}
		if ua != "" {
			c.userAgent = ua + " " + defaultUserAgent
		}
		return nil
	}
}

// WithMaxRetries sets how many times a request is retried after a connection
// error or a 408, 429, 500, 502, 503 or 504 response. The default is 3 (four
// attempts); 0 disables retries.
//
// Scope: per call (WaitAll refuses it in WithRequestOptions) (see Option).
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("bctrl: WithMaxRetries: negative count %d", n)
		}
		if c.waitAll {
			return errors.New("bctrl: WithMaxRetries: WaitAll polls again instead of retrying: set its pace with WithPollInterval")
		}
		c.maxRetries = n
		return nil
	}
}

// WithRetryBackoff sets the bounds of the jittered exponential backoff
// between retries (defaults DefaultRetryMinBackoff, DefaultRetryMaxBackoff).
//
// Scope: per call (see Option).
func WithRetryBackoff(minDelay, maxDelay time.Duration) Option {
	return func(c *config) error {
		if minDelay <= 0 || maxDelay < minDelay {
			return fmt.Errorf("bctrl: WithRetryBackoff: need 0 < min <= max, got %v, %v", minDelay, maxDelay)
		}
		c.retryMin, c.retryMax = minDelay, maxDelay
		return nil
	}
}

// WithRetryAfterCap bounds how long a server's Retry-After header can make a
// retry or a poll wait (default DefaultRetryAfterCap).
//
// Scope: per call (see Option).
func WithRetryAfterCap(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("bctrl: WithRetryAfterCap: negative duration %v", d)
		}
		c.retryAfterCap = d
		return nil
	}
}

// WithAttemptTimeout bounds one HTTP attempt, from sending the request to
// reading the whole body (default DefaultAttemptTimeout). Retries get a fresh
// budget; the caller's context bounds the whole call.
//
// Scope: per call (see Option).
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("bctrl: WithAttemptTimeout: need a positive duration, got %v", d)
		}
		c.attemptTimeout = d
		return nil
	}
}

// WithMaxResponseBytes caps the size of a response body (default
// DefaultMaxResponseBytes). A larger body fails with ErrResponseTooLarge
// instead of exhausting memory.
//
// Scope: per call (see Option).
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("bctrl: WithMaxResponseBytes: need a positive size, got %d", n)
		}
		c.maxResponseBytes = n
		return nil
	}
}

// WithMaxSteps caps how many steps an invocation may have (default
// DefaultMaxSteps). The cap is enforced while decoding: a response with
// more steps fails with ErrResponseTooLarge after decoding at most n, so a
// hostile body cannot make the client allocate millions of them.
//
// Scope: per call (see Option).
func WithMaxSteps(n int) Option {
	return func(c *config) error {
		if n <= 0 || n > math.MaxInt32 {
			return fmt.Errorf("bctrl: WithMaxSteps: need 0 < n <= %d, got %d", math.MaxInt32, n)
		}
		c.maxSteps = n
		return nil
	}
}

// WithRateLimit limits the client to rps requests per second with the given
// burst, shared by every call made through it (including every attempt of a
// retry and every poll of a Wait), so thousands of concurrent Waits stay
// within a platform's request budget. The default is no limit.
//
// Scope: client-only (see Option).
func WithRateLimit(rps float64, burst int) Option {
	return func(c *config) error {
		if err := c.clientOnly("WithRateLimit"); err != nil {
			return err
		}
		if rps <= 0 || burst < 1 {
			return fmt.Errorf("bctrl: WithRateLimit: need rps > 0 and burst >= 1, got %v, %d", rps, burst)
		}
		c.rateLimit, c.rateBurst = rate.Limit(rps), burst
		return nil
	}
}

// WithInsecureHTTP allows a plain http:// base URL on a host that is not a
// loopback address. Without it New refuses such a URL, so the API key is not
// sent in clear text by accident. Loopback hosts (a dev server) are always
// allowed.
//
// Scope: client-only (see Option).
func WithInsecureHTTP() Option {
	return func(c *config) error {
		if err := c.clientOnly("WithInsecureHTTP"); err != nil {
			return err
		}
		c.allowInsecure = true
		return nil
	}
}

// WithLogger sets a structured logger. The default logs nothing. The
// levels follow who needs to read a record:
//
//   - Debug, for a developer debugging: one record per HTTP attempt
//     (method, path, status, attempt, duration, request id; a Wait's poll
//     is one or more attempts), one per retry (its reason and delay), and
//     one per change of an invocation that Wait and Watch observe (id,
//     status, step, total steps, request id);
//   - Info, something a human may want to tune: a request that waited one
//     second or more for the rate limiter (WithRateLimit);
//   - Warn, something that went wrong: a request whose retries all failed
//     (its attempts, and its last status and request id, or its last
//     error).
//
// So a handler at Info stays silent while calls succeed, retries
// included. Neither the API key nor any body is ever logged.
//
// Scope: per call (see Option).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// New returns a Client configured by opts, falling back to BCTRL_API_KEY and
// BCTRL_BASE_URL. It fails when no API key is set, when the base URL is not
// an absolute http(s) URL, or when an option is invalid.
func New(opts ...Option) (*Client, error) {
	cfg := config{
		userAgent:        defaultUserAgent,
		maxRetries:       DefaultMaxRetries,
		retryMin:         DefaultRetryMinBackoff,
		retryMax:         DefaultRetryMaxBackoff,
		retryAfterCap:    DefaultRetryAfterCap,
		attemptTimeout:   DefaultAttemptTimeout,
		maxResponseBytes: DefaultMaxResponseBytes,
		maxSteps:         DefaultMaxSteps,
		rateLimit:        rate.Inf,
	}
	// Every option runs, even after one fails, so that the error is
	// scrubbed with the key the options and the environment settle on
	// (an option may print a base URL holding it).
	var optErr error
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil && optErr == nil {
			optErr = err
		}
	}
	if cfg.apiKey.reveal() == "" {
		if k := trimKey(os.Getenv(EnvAPIKey)); k != "" {
			if err := WithAPIKey(k)(&cfg); err != nil && optErr == nil {
				optErr = err
			}
		}
	}
	if optErr != nil {
		return nil, newError(cfg.apiKey.reveal(), optErr)
	}
	if cfg.apiKey.reveal() == "" {
		return nil, fmt.Errorf("bctrl: no API key: pass client.WithAPIKey or set %s", EnvAPIKey)
	}
	if cfg.baseURL == "" {
		cfg.baseURL = os.Getenv(EnvBaseURL)
	}
	if cfg.baseURL == "" {
		cfg.baseURL = DefaultBaseURL
	}
	base, err := checkBaseURL(cfg.baseURL, cfg.allowInsecure)
	if err != nil {
		return nil, newError(cfg.apiKey.reveal(), err)
	}
	cfg.baseURL = base
	cfg.bearer = newSecret("Bearer " + cfg.apiKey.reveal())
	c := &Client{cfg: &cfg, limiter: rate.NewLimiter(cfg.rateLimit, cfg.rateBurst), decoders: newDecoderPool(cfg.maxSteps),
		doer: httpDoer(&cfg), tracer: newTracer(cfg.tracerProvider), metrics: newInstruments(cfg.meterProvider),
		redact: newRedactor(cfg.apiKey.reveal())}
	c.base, _ = url.Parse(cfg.baseURL) // checkBaseURL parsed it already
	c.basePath, c.baseRawPath = c.base.Path, c.base.EscapedPath()
	raw, err := gen.NewClient(cfg.baseURL,
		gen.WithHTTPClient(rawDoer{c}),
		gen.WithRequestEditorFn(c.authorize))
	if err != nil {
		return nil, c.boundary(fmt.Errorf("bctrl: base URL: %w", err))
	}
	c.raw = &gen.ClientWithResponses{ClientInterface: raw}
	c.Services.init(c)
	return c, nil
}

// Raw returns the generated client for every operation in the spec: the
// escape hatch for what the typed methods (generated from the same spec)
// do not cover, such as a non-JSON request body. It sends through the same
// pipeline as the client's own methods: auth, User-Agent, rate limit,
// attempt timeout, body cap and retries. Unlike the client's methods, it
// returns a non-2xx response as a response, not as an *APIError, and
// decodes bodies into the generated types without the SDK's step
// discrimination: CheckResponse turns a response into the error Get would
// return, and DecodeInvocation decodes a body as Get does:
//
//	resp, err := c.Raw().GetInvocationWithResponse(ctx, id, nil) // nil params: the client authenticates
//	if err != nil { ... }                                         // transport errors, after retries
//	if err := c.CheckResponse(resp.HTTPResponse, resp.Body); err != nil { ... } // *APIError
//	inv, err := c.DecodeInvocation(resp.Body)                     // *Invocation, steps discriminated
//
// The client sends its own key on every request. A call whose generated
// parameters set another Authorization value fails with
// ErrAuthorizationParam before anything is sent; the client's own
// "Bearer <key>", an empty value or nil parameters are accepted.
//
// Retries stay safe for methods that are not idempotent: a POST or PATCH
// without an Idempotency-Key header is retried only when the server
// provably did not process it (the connection was refused or could not be
// made, or the answer was 429 or 503).
func (c *Client) Raw() *gen.ClientWithResponses { return c.raw }

// BaseURL returns the base URL the client sends requests to.
func (c *Client) BaseURL() string { return c.cfg.baseURL }

// Format prints the client's configuration with the API key redacted, for
// every verb (%v, %+v, %#v, %s, %q). It has a value receiver so that both
// Client and *Client values print safely.
func (c Client) Format(f fmt.State, verb rune) {
	if c.cfg == nil {
		fmt.Fprint(f, "client.Client{}") // a zero Client, not made by New
		return
	}
	fmt.Fprintf(f, "client.Client{BaseURL: %q, APIKey: %s, MaxRetries: %d, AttemptTimeout: %v}",
		c.cfg.baseURL, c.cfg.apiKey, c.cfg.maxRetries, c.cfg.attemptTimeout)
}

// checkBaseURL parses u and refuses what would misroute requests or leak the
// key: relative URLs, non-HTTP schemes, userinfo, query strings and
// fragments, and plain http on a non-loopback host unless insecure is
// allowed. It returns u without a trailing slash. Its errors show u's
// scheme, host and path only (baseURLForError): the parts it refuses may
// hold a credential.
func checkBaseURL(u string, insecure bool) (string, error) {
	shown := baseURLForError(u)
	p, err := url.Parse(u)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = &url.Error{Op: ue.Op, URL: shown, Err: ue.Err}
		}
		return "", fmt.Errorf("bctrl: invalid base URL: %w", err)
	}
	if p.Scheme != "https" && p.Scheme != "http" || p.Host == "" {
		return "", fmt.Errorf("bctrl: base URL %q is not an absolute http(s) URL", shown)
	}
	if p.User != nil {
		return "", fmt.Errorf("bctrl: base URL %q must not carry credentials; use WithAPIKey", shown)
	}
	if p.RawQuery != "" || p.ForceQuery || p.Fragment != "" {
		return "", fmt.Errorf("bctrl: base URL %q must not have a query or fragment", shown)
	}
	if p.Scheme == "http" && !insecure && !isLoopback(p.Hostname()) {
		return "", fmt.Errorf("bctrl: refusing plain http base URL %q for a non-loopback host (the API key would travel in clear text); use https or client.WithInsecureHTTP", shown)
	}
	return strings.TrimRight(p.String(), "/"), nil
}

// redactURL returns p without its userinfo, for a span's url.full.
func redactURL(p *url.URL) string {
	q := *p
	q.User = nil
	return q.String()
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaultTransport returns the transport used when WithHTTPClient is not
// given, inside an http.Client with checkRedirect (httpDoer). The client
// has no overall timeout (a Wait can run for minutes); each attempt is
// bounded by the attempt timeout, and the transport bounds dialing, TLS,
// the wait for response headers and their size, so a server that accepts
// the connection and never answers cannot hang a call.
func defaultTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = DefaultHeaderTimeout
	tr.MaxResponseHeaderBytes = maxResponseHeaderBytes
	tr.MaxIdleConnsPerHost = 64
	return tr
}

// maxResponseHeaderBytes bounds the response headers the default transport
// accepts (net/http's own default is 10 MB).
const maxResponseHeaderBytes = 256 << 10
