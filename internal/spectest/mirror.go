package spectest

import (
	"encoding/json"
	"time"
)

// HandInvocation and the types below mirror the whole invocation schema of
// openapi.yaml by hand, as a client without the SDK would write it, with
// one flattened step type holding every field of both variants. They are
// the benchmarks' yardstick (the hand-written encoding/json decode, in
// client/bench_test.go and in the benchmarks module): the SDK itself never
// copies the schema.
type HandInvocation struct {
	ArtifactCount     int                        `json:"artifactCount"`
	CancelRequestedAt time.Time                  `json:"cancelRequestedAt"`
	Connector         string                     `json:"connector"`
	CorrelationID     string                     `json:"correlationId"`
	CreatedAt         time.Time                  `json:"createdAt"`
	DurationMs        int                        `json:"durationMs"`
	EntryCall         string                     `json:"entryCall"`
	Error             *HandErrorInfo             `json:"error"`
	ExecutionMode     string                     `json:"executionMode"`
	FinishedAt        time.Time                  `json:"finishedAt"`
	ID                string                     `json:"id"`
	LastHeartbeatAt   time.Time                  `json:"lastHeartbeatAt"`
	Metadata          map[string]json.RawMessage `json:"metadata"`
	Progress          *HandProgress              `json:"progress"`
	Request           *HandRequest               `json:"request"`
	Result            *HandResult                `json:"result"`
	RunID             string                     `json:"runId"`
	RuntimeID         string                     `json:"runtimeId"`
	RuntimeKind       string                     `json:"runtimeKind"`
	SequenceNo        int                        `json:"sequenceNo"`
	SpaceID           string                     `json:"spaceId"`
	StartedAt         time.Time                  `json:"startedAt"`
	Status            string                     `json:"status"`
	StepCount         int                        `json:"stepCount"`
}

type HandErrorInfo struct {
	Code    string                     `json:"code"`
	Details map[string]json.RawMessage `json:"details"`
	Message string                     `json:"message"`
}

type HandProgress struct {
	CurrentCall   string `json:"currentCall"`
	LastEventType string `json:"lastEventType"`
	Message       string `json:"message"`
	Step          int    `json:"step"`
	TotalSteps    int    `json:"totalSteps"`
}

type HandRequest struct {
	IdempotencyKey string `json:"idempotencyKey"`
	Mode           string `json:"mode"`
	RuntimeID      string `json:"runtimeId"`
	Steps          []struct {
		Args    []json.RawMessage `json:"args"`
		Bind    string            `json:"bind"`
		Call    string            `json:"call"`
		Options *struct {
			DryRun    bool `json:"dryRun"`
			TimeoutMs int  `json:"timeoutMs"`
		} `json:"options"`
		Ref string `json:"ref"`
	} `json:"steps"`
}

type HandResult struct {
	Mode      string     `json:"mode"`
	OK        bool       `json:"ok"`
	RuntimeID string     `json:"runtimeId"`
	Steps     []HandStep `json:"steps"`
}

// HandStep is both step variants in one struct: ok tells which fields
// are meaningful.
type HandStep struct {
	Index    int             `json:"index"`
	OK       bool            `json:"ok"`
	Call     string          `json:"call"`
	Resolved *HandResolved   `json:"resolved"`
	Binding  *HandBinding    `json:"binding"`
	Result   json.RawMessage `json:"result"`
	Error    *HandStepError  `json:"error"`
}

type HandResolved struct {
	Call      string `json:"call"`
	ContextID string `json:"contextId"`
	HandleID  string `json:"handleId"`
	Method    string `json:"method"`
	PageID    string `json:"pageId"`
	Ref       string `json:"ref"`
	RuntimeID string `json:"runtimeId"`
	Target    string `json:"target"`
}

type HandBinding struct {
	Alias string `json:"alias"`
	ID    string `json:"id"`
	Type  string `json:"type"`
}

type HandStepError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Hint       string `json:"hint"`
	Diagnostic *struct {
		Call     string   `json:"call"`
		Category string   `json:"category"`
		Closest  []string `json:"closest"`
		Code     string   `json:"code"`
		DocsURL  string   `json:"docsUrl"`
		Driver   string   `json:"driver"`
		Expected string   `json:"expected"`
		Fixes    []struct {
			Command string `json:"command"`
			Example string `json:"example"`
			Title   string `json:"title"`
		} `json:"fixes"`
		ID       string `json:"id"`
		Received string `json:"received"`
	} `json:"diagnostic"`
}
