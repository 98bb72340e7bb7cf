package benchmarks

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// handInvocation and the types below mirror the whole invocation schema of
// openapi.yaml by hand, as a client without the SDK would write it, with
// one flattened step type holding every field of both variants. They exist
// only as the stdjson impl's model: the SDK itself never copies the schema.
// (client/bench_test.go holds the same mirror for the client's own
// benchmarks; a test file of another module cannot be imported.)
type handInvocation struct {
	ArtifactCount     int                        `json:"artifactCount"`
	CancelRequestedAt time.Time                  `json:"cancelRequestedAt"`
	Connector         string                     `json:"connector"`
	CorrelationID     string                     `json:"correlationId"`
	CreatedAt         time.Time                  `json:"createdAt"`
	DurationMs        int                        `json:"durationMs"`
	EntryCall         string                     `json:"entryCall"`
	Error             *handErrorInfo             `json:"error"`
	ExecutionMode     string                     `json:"executionMode"`
	FinishedAt        time.Time                  `json:"finishedAt"`
	ID                string                     `json:"id"`
	LastHeartbeatAt   time.Time                  `json:"lastHeartbeatAt"`
	Metadata          map[string]json.RawMessage `json:"metadata"`
	Progress          *handProgress              `json:"progress"`
	Request           *handRequest               `json:"request"`
	Result            *handResult                `json:"result"`
	RunID             string                     `json:"runId"`
	RuntimeID         string                     `json:"runtimeId"`
	RuntimeKind       string                     `json:"runtimeKind"`
	SequenceNo        int                        `json:"sequenceNo"`
	SpaceID           string                     `json:"spaceId"`
	StartedAt         time.Time                  `json:"startedAt"`
	Status            string                     `json:"status"`
	StepCount         int                        `json:"stepCount"`
}

type handErrorInfo struct {
	Code    string                     `json:"code"`
	Details map[string]json.RawMessage `json:"details"`
	Message string                     `json:"message"`
}

type handProgress struct {
	CurrentCall   string `json:"currentCall"`
	LastEventType string `json:"lastEventType"`
	Message       string `json:"message"`
	Step          int    `json:"step"`
	TotalSteps    int    `json:"totalSteps"`
}

type handRequest struct {
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

type handResult struct {
	Mode      string     `json:"mode"`
	OK        bool       `json:"ok"`
	RuntimeID string     `json:"runtimeId"`
	Steps     []handStep `json:"steps"`
}

// handStep is both step variants in one struct: ok tells which fields
// are meaningful.
type handStep struct {
	Index    int             `json:"index"`
	OK       bool            `json:"ok"`
	Call     string          `json:"call"`
	Resolved *handResolved   `json:"resolved"`
	Binding  *handBinding    `json:"binding"`
	Result   json.RawMessage `json:"result"`
	Error    *handStepError  `json:"error"`
}

type handResolved struct {
	Call      string `json:"call"`
	ContextID string `json:"contextId"`
	HandleID  string `json:"handleId"`
	Method    string `json:"method"`
	PageID    string `json:"pageId"`
	Ref       string `json:"ref"`
	RuntimeID string `json:"runtimeId"`
	Target    string `json:"target"`
}

type handBinding struct {
	Alias string `json:"alias"`
	ID    string `json:"id"`
	Type  string `json:"type"`
}

type handStepError struct {
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

// walkHand visits every step of the hand-written struct, telling the
// variants apart by ok.
func walkHand(inv *handInvocation) (stepCounts, error) {
	var c stepCounts
	if inv.Result == nil {
		return c, errors.New("stdjson: no result")
	}
	for i := range inv.Result.Steps {
		st := &inv.Result.Steps[i]
		switch {
		case st.OK:
			c.ok++
			c.sum += 1 + st.Index + len(st.Result)
		case st.Error != nil:
			c.failed++
			c.sum += 1 + st.Index + len(st.Error.Code)
		default:
			return c, fmt.Errorf("stdjson: step %d: ok false and no error", i)
		}
	}
	return c, nil
}
