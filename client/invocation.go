package client

import (
	"context"
	"encoding/json"
	"fmt"
	gojson "github.com/goccy/go-json"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is the lifecycle state of an invocation. Values the SDK does not
// know (a newer API) are kept as they are; Known reports whether a value is
// one of the constants below.
type Status string

// The statuses of an invocation, in lifecycle order.
const (
	StatusQueued      Status = "queued"
	StatusDispatching Status = "dispatching"
	StatusRunning     Status = "running"
	StatusCancelling  Status = "cancelling"
	StatusSucceeded   Status = "succeeded"
	StatusFailed      Status = "failed"
	StatusCancelled   Status = "cancelled"
	StatusTimedOut    Status = "timed_out"
)

// statusClass classifies every status the SDK knows. A status the spec adds
// must be classified here: TestStatusEnumClassified names any that is not.
var statusClass = map[Status]struct{ terminal, success bool }{
	StatusQueued:      {},
	StatusDispatching: {},
	StatusRunning:     {},
	StatusCancelling:  {},
	StatusSucceeded:   {terminal: true, success: true},
	StatusFailed:      {terminal: true},
	StatusCancelled:   {terminal: true},
	StatusTimedOut:    {terminal: true},
}

// Known reports whether s is one of the Status constants.
func (s Status) Known() bool { _, ok := statusClass[s]; return ok }

// IsTerminal reports whether s is a final status: succeeded, failed,
// cancelled or timed_out. It is false for unknown statuses.
func (s Status) IsTerminal() bool { return statusClass[s].terminal }

// IsSuccess reports whether s is StatusSucceeded.
func (s Status) IsSuccess() bool { return statusClass[s].success }

// String returns the status as the API spells it.
func (s Status) String() string { return string(s) }

// Invocation is durable agent work submitted to a runtime, as returned by
// GET /v1/invocations/{id}. Nullable fields the API leaves null are zero:
// an empty string, a zero time.Time (check IsZero), a nil pointer or map.
type Invocation struct {
	ID            string
	RunID         string
	RuntimeID     string
	SpaceID       string
	Status        Status
	ExecutionMode string // "durable" or "inline"
	RuntimeKind   string // "browser", "desktop" or "spreadsheet"
	EntryCall     string
	SequenceNo    int
	StepCount     int
	ArtifactCount int
	Connector     string
	CorrelationID string
	Metadata      map[string]any

	// Progress is the runtime's last progress report; nil when it has sent
	// none.
	Progress *Progress
	// Error is the invocation-level error; nil unless the invocation failed.
	Error *ErrorInfo
	// Request is the request that created the invocation, when the API
	// returns it.
	Request *Request
	// Result is the outcome with per-step results; nil until the runtime
	// reports one. Steps is a shortcut to Result.Steps.
	Result *Result

	CreatedAt         time.Time
	StartedAt         time.Time // zero until the invocation starts
	FinishedAt        time.Time // zero until it ends
	CancelRequestedAt time.Time // zero unless a cancel was requested
	LastHeartbeatAt   time.Time // zero until the runtime sends a heartbeat
	Duration          time.Duration

	raw []byte
}

// Steps returns the per-step results, or nil when there is no result yet.
func (inv *Invocation) Steps() []Step {
	if inv == nil || inv.Result == nil {
		return nil
	}
	return inv.Result.Steps
}

// FailedSteps returns the steps that reported ok: false, in order.
func (inv *Invocation) FailedSteps() []*StepFailure {
	var out []*StepFailure
	steps := inv.Steps()
	for i := range steps {
		if f, ok := steps[i].Failure(); ok {
			out = append(out, f)
		}
	}
	return out
}

// Raw returns the JSON body the invocation was decoded from, byte for byte.
// Fields this version of the SDK does not model are there.
func (inv *Invocation) Raw() json.RawMessage { return inv.raw }

// Finished reports whether the server recorded an end time, which holds even
// for a status this SDK does not know.
func (inv *Invocation) Finished() bool { return !inv.FinishedAt.IsZero() }

// Progress is a running invocation's last progress report. Fields the
// runtime did not send are zero.
type Progress struct {
	Step          int    `json:"step"`
	TotalSteps    int    `json:"totalSteps"`
	Message       string `json:"message"`
	CurrentCall   string `json:"currentCall"`
	LastEventType string `json:"lastEventType"`
}

// ErrorInfo is an invocation-level error reported by the API.
type ErrorInfo struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// Error returns "code: message".
func (e *ErrorInfo) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// Request is the request that created an invocation.
type Request struct {
	RuntimeID      string        `json:"runtimeId"`
	IdempotencyKey string        `json:"idempotencyKey"`
	Mode           string        `json:"mode"`
	Steps          []RequestStep `json:"steps"`
}

// RequestStep is one call in an invocation's request.
type RequestStep struct {
	Call    string              `json:"call"`
	Args    []json.RawMessage   `json:"args"`
	Bind    string              `json:"bind"`
	Ref     string              `json:"ref"`
	Options *RequestStepOptions `json:"options"`
}

// RequestStepOptions are a request step's options.
type RequestStepOptions struct {
	DryRun    bool `json:"dryRun"`
	TimeoutMs int  `json:"timeoutMs"`
}

// Timeout returns TimeoutMs as a duration.
func (o *RequestStepOptions) Timeout() time.Duration {
	return time.Duration(o.TimeoutMs) * time.Millisecond
}

// Result is an invocation's outcome. OK is true when every step succeeded.
type Result struct {
	OK        bool
	Mode      string // "fail-fast"
	RuntimeID string
	Steps     []Step
}

// InvocationsService reads durable invocations. Reach it as
// Client.Invocations.
type InvocationsService struct {
	client *Client
}

// Format prints the service without its client's configuration.
func (s InvocationsService) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, "client.InvocationsService{}")
}

// Get returns the invocation with the given id. A non-2xx response is an
// *APIError (errors.Is(err, ErrNotFound) for 404); a 2xx body that is not
// the spec's JSON is a *ResponseError. Transient failures are retried as
// configured by WithMaxRetries.
func (s *InvocationsService) Get(ctx context.Context, id string) (*Invocation, error) {
	inv, _, err := s.get(ctx, id)
	return inv, err
}

// get is Get that also returns the response headers, so that Wait can
// honour a Retry-After on a successful poll.
func (s *InvocationsService) get(ctx context.Context, id string) (*Invocation, http.Header, error) {
	if err := checkID(id); err != nil {
		return nil, nil, err
	}
	resp, err := s.client.raw.GetInvocation(ctx, id, nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := bodyOf(resp, s.client.cfg.maxResponseBytes)
	if err != nil {
		return nil, nil, err
	}
	key := string(s.client.cfg.apiKey)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.Header, newAPIError(resp.Request, resp, body).scrub(key)
	}
	// The content type is checked first: a page labelled text/html is not
	// worth decoding, even when it happens to parse.
	err = checkContentType(resp.Header.Get("Content-Type"))
	var inv *Invocation
	if err == nil {
		inv, err = decodeInvocation(body)
	}
	if err != nil {
		return nil, resp.Header, &ResponseError{
			StatusCode:  resp.StatusCode,
			ContentType: resp.Header.Get("Content-Type"),
			RequestID:   scrubString(resp.Header.Get("X-Request-Id"), key),
			Body:        capBytes(scrub(body, key), maxErrorBody),
			Err:         scrubErr(err, key),
		}
	}
	return inv, resp.Header, nil
}

// checkID refuses ids that cannot name one path segment. Any other id is
// sent path-escaped as a single segment by the generated client.
func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case id == "." || id == "..":
		return fmt.Errorf("%w: %q is a dot segment", ErrInvalidID, id)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidID)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: contains a control character", ErrInvalidID)
	}
	return nil
}

// checkContentType accepts a missing content type and any JSON media type.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return fmt.Errorf("content type %q is not JSON", ct)
	}
	return nil
}

// wireInvocation is the JSON shape of an invocation, decoded in one pass.
// Its field names are checked against the spec by TestWireMatchesSpec.
type wireInvocation struct {
	ArtifactCount     int            `json:"artifactCount"`
	CancelRequestedAt *string        `json:"cancelRequestedAt"`
	Connector         *string        `json:"connector"`
	CorrelationID     *string        `json:"correlationId"`
	CreatedAt         *string        `json:"createdAt"`
	DurationMs        *int64         `json:"durationMs"`
	EntryCall         string         `json:"entryCall"`
	Error             *ErrorInfo     `json:"error"`
	ExecutionMode     string         `json:"executionMode"`
	FinishedAt        *string        `json:"finishedAt"`
	ID                *string        `json:"id"`
	LastHeartbeatAt   *string        `json:"lastHeartbeatAt"`
	Metadata          map[string]any `json:"metadata"`
	Progress          *Progress      `json:"progress"`
	Request           *Request       `json:"request"`
	Result            *wireResult    `json:"result"`
	RunID             string         `json:"runId"`
	RuntimeID         string         `json:"runtimeId"`
	RuntimeKind       string         `json:"runtimeKind"`
	SequenceNo        int            `json:"sequenceNo"`
	SpaceID           string         `json:"spaceId"`
	StartedAt         *string        `json:"startedAt"`
	Status            *Status        `json:"status"`
	StepCount         int            `json:"stepCount"`
}

type wireResult struct {
	Mode      string     `json:"mode"`
	OK        bool       `json:"ok"`
	RuntimeID string     `json:"runtimeId"`
	Steps     []wireStep `json:"steps"`
}

// decodeInvocation decodes an invocation body in a single pass: steps are
// discriminated on "ok" while decoding, and each step's result stays raw
// JSON until StepSuccess.DecodeResult asks for it.
func decodeInvocation(body []byte) (*Invocation, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("empty body")
	}
	var w wireInvocation
	if err := unmarshalWire(body, &w); err != nil {
		return nil, err
	}
	if w.ID == nil || *w.ID == "" {
		return nil, fmt.Errorf("required field \"id\" is missing or null")
	}
	if w.Status == nil || *w.Status == "" {
		return nil, fmt.Errorf("required field \"status\" is missing or null")
	}
	inv := &Invocation{
		ID:            *w.ID,
		RunID:         w.RunID,
		RuntimeID:     w.RuntimeID,
		SpaceID:       w.SpaceID,
		Status:        *w.Status,
		ExecutionMode: w.ExecutionMode,
		RuntimeKind:   w.RuntimeKind,
		EntryCall:     w.EntryCall,
		SequenceNo:    w.SequenceNo,
		StepCount:     w.StepCount,
		ArtifactCount: w.ArtifactCount,
		Connector:     deref(w.Connector),
		CorrelationID: deref(w.CorrelationID),
		Metadata:      w.Metadata,
		Progress:      w.Progress,
		Error:         w.Error,
		Request:       w.Request,
		raw:           body,
	}
	if w.DurationMs != nil {
		inv.Duration = time.Duration(*w.DurationMs) * time.Millisecond
	}
	if w.CreatedAt == nil {
		return nil, fmt.Errorf("required field \"createdAt\" is missing or null")
	}
	for _, t := range []struct {
		name string
		src  *string
		dst  *time.Time
	}{
		{"createdAt", w.CreatedAt, &inv.CreatedAt},
		{"startedAt", w.StartedAt, &inv.StartedAt},
		{"finishedAt", w.FinishedAt, &inv.FinishedAt},
		{"cancelRequestedAt", w.CancelRequestedAt, &inv.CancelRequestedAt},
		{"lastHeartbeatAt", w.LastHeartbeatAt, &inv.LastHeartbeatAt},
	} {
		if t.src == nil {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, *t.src)
		if err != nil {
			return nil, fmt.Errorf("field %q: %q is not an RFC 3339 timestamp", t.name, *t.src)
		}
		*t.dst = v
	}
	if w.Result != nil {
		steps, err := convertSteps(w.Result.Steps)
		if err != nil {
			return nil, err
		}
		inv.Result = &Result{OK: w.Result.OK, Mode: w.Result.Mode, RuntimeID: w.Result.RuntimeID, Steps: steps}
	}
	return inv, nil
}

// unmarshalWire decodes body into w. The fast path is goccy/go-json, which
// decodes the same struct tags as encoding/json about four times faster
// (BENCHMARKS.md). When it fails, or panics on a hostile body, encoding/json
// decodes the body again: its result is the answer, and its error messages
// ("unexpected end of JSON input", "cannot unmarshal array into ...") are
// the clear ones users see.
func unmarshalWire(body []byte, w *wireInvocation) error {
	if fastUnmarshal(body, w) == nil {
		return nil
	}
	*w = wireInvocation{}
	return json.Unmarshal(body, w)
}

func fastUnmarshal(body []byte, w *wireInvocation) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("json decoder panic: %v", r)
		}
	}()
	return gojson.Unmarshal(body, w)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
