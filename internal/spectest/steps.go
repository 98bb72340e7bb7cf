package spectest

import (
	"encoding/json"
	"fmt"
	"time"
)

// Steps returns a synthetic, spec-valid GET /v1/invocations/{id} body with n
// steps, for benchmarks and size-sensitive tests.
//
// When failEvery > 0, every failEvery-th step (the failEvery-th, the
// 2*failEvery-th, ...) is ok:false with a diagnostic. The invocation is
// "failed", with result.ok false and an invocation-level error, when at
// least one step failed, and "succeeded" otherwise; so failEvery == 0 always
// gives "succeeded". Ok steps carry a ~300 byte nested result object; n=1000
// with no failures is about 530 KB. The output is deterministic.
func Steps(n int, failEvery int) []byte {
	const runtimeID = "a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e21"
	created := time.Date(2026, 11, 27, 8, 0, 0, 123e6, time.UTC)
	finished := created.Add(time.Duration(n)*40*time.Millisecond + 250*time.Millisecond)

	steps := make([]any, 0, n)
	failed := 0
	for i := range n {
		if failEvery > 0 && (i+1)%failEvery == 0 {
			failed++
			steps = append(steps, failStep(i))
			continue
		}
		steps = append(steps, okStep(i, runtimeID))
	}

	body := synthInvocation{
		ID:            synthUUID(1, n),
		RunID:         synthUUID(2, n),
		RuntimeID:     runtimeID,
		SpaceID:       "9e8d7c6b-5a4f-4e3d-a2c1-b0f9e8d7c6b5",
		RuntimeKind:   "browser",
		ExecutionMode: "durable",
		Status:        "succeeded",
		EntryCall:     "page.goto",
		SequenceNo:    1,
		StepCount:     n,
		ArtifactCount: 0,
		CreatedAt:     created.Format(time.RFC3339Nano),
		StartedAt:     created.Add(100 * time.Millisecond).Format(time.RFC3339Nano),
		FinishedAt:    finished.Format(time.RFC3339Nano),
		DurationMs:    finished.Sub(created).Milliseconds(),
		Metadata:      map[string]any{"source": "spectest.Steps", "steps": n},
		Result: synthResult{
			Mode:      "fail-fast",
			OK:        failed == 0,
			RuntimeID: runtimeID,
			Steps:     steps,
		},
	}
	if failed > 0 {
		body.Status = "failed"
		body.Error = &synthError{
			Code:    "STEP_FAILED",
			Message: fmt.Sprintf("%d of %d steps failed", failed, n),
			Details: map[string]any{"failed": failed},
		}
	}
	data, err := json.Marshal(body)
	if err != nil {
		panic("spectest: marshal synthetic invocation: " + err.Error())
	}
	return data
}

func synthUUID(kind, i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", 0x5e0c0000+kind, i&0xffff, kind&0xfff, i&0xfff, i)
}

func okStep(i int, runtimeID string) synthOKStep {
	sku := fmt.Sprintf("SKU-%05d", i)
	return synthOKStep{
		Index: i,
		OK:    true,
		Call:  "page.extract",
		Resolved: synthResolved{
			Call:      "page.extract",
			Method:    "extract",
			Target:    "page",
			RuntimeID: runtimeID,
			ContextID: ptr("ctx_01JDXK4Q5B7T"),
			PageID:    ptr("page_01JDXK4Q7M2N"),
			HandleID:  nil,
			Ref:       ptr("shop"),
		},
		Result: synthProduct{
			URL:     fmt.Sprintf("https://shop.example.com/products/%d", i),
			Title:   fmt.Sprintf("Product %d · Example Shop", i),
			Price:   synthPrice{Amount: 1000 + i%9000, Currency: "EUR"},
			InStock: i%3 != 0,
			Rating:  float64(30+i%20) / 10,
			Tags:    []string{"sale", "new", "bestseller"},
			Variants: []synthVariant{
				{SKU: sku + "-S", Qty: i % 7},
				{SKU: sku + "-M", Qty: i % 5},
			},
		},
	}
}

func failStep(i int) synthFailStep {
	return synthFailStep{
		Index: i,
		OK:    false,
		Call:  "page.click",
		Error: synthStepError{
			Code:    "INVALID_ARGS",
			Message: fmt.Sprintf("step %d: page.click expects a selector string", i),
			Hint:    "pass the selector as the first argument",
			Diagnostic: synthDiagnostic{
				ID:       fmt.Sprintf("diag_%08x", i),
				Category: "arg-shape",
				Call:     "page.click",
				Code:     "invalid_args",
				DocsURL:  "https://platform.bctrl.ai/docs/errors/invalid-args",
				Expected: "string",
				Received: "number",
				Fixes:    []synthFix{{Title: "Quote the selector"}},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

type synthInvocation struct {
	ID            string         `json:"id"`
	RunID         string         `json:"runId"`
	RuntimeID     string         `json:"runtimeId"`
	SpaceID       string         `json:"spaceId"`
	RuntimeKind   string         `json:"runtimeKind"`
	ExecutionMode string         `json:"executionMode"`
	Status        string         `json:"status"`
	EntryCall     string         `json:"entryCall"`
	SequenceNo    int            `json:"sequenceNo"`
	StepCount     int            `json:"stepCount"`
	ArtifactCount int            `json:"artifactCount"`
	CreatedAt     string         `json:"createdAt"`
	StartedAt     string         `json:"startedAt"`
	FinishedAt    string         `json:"finishedAt"`
	DurationMs    int64          `json:"durationMs"`
	Metadata      map[string]any `json:"metadata"`
	Error         *synthError    `json:"error"`
	Result        synthResult    `json:"result"`
}

type synthError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

type synthResult struct {
	Mode      string `json:"mode"`
	OK        bool   `json:"ok"`
	RuntimeID string `json:"runtimeId"`
	Steps     []any  `json:"steps"`
}

type synthOKStep struct {
	Index    int           `json:"index"`
	OK       bool          `json:"ok"`
	Call     string        `json:"call"`
	Resolved synthResolved `json:"resolved"`
	Result   synthProduct  `json:"result"`
}

type synthResolved struct {
	Call      string  `json:"call"`
	Method    string  `json:"method"`
	Target    string  `json:"target"`
	RuntimeID string  `json:"runtimeId"`
	ContextID *string `json:"contextId"`
	PageID    *string `json:"pageId"`
	HandleID  *string `json:"handleId"`
	Ref       *string `json:"ref"`
}

type synthProduct struct {
	URL      string         `json:"url"`
	Title    string         `json:"title"`
	Price    synthPrice     `json:"price"`
	InStock  bool           `json:"inStock"`
	Rating   float64        `json:"rating"`
	Tags     []string       `json:"tags"`
	Variants []synthVariant `json:"variants"`
}

type synthPrice struct {
	Amount   int    `json:"amount"`
	Currency string `json:"currency"`
}

type synthVariant struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

type synthFailStep struct {
	Index int            `json:"index"`
	OK    bool           `json:"ok"`
	Call  string         `json:"call"`
	Error synthStepError `json:"error"`
}

type synthStepError struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	Hint       string          `json:"hint"`
	Diagnostic synthDiagnostic `json:"diagnostic"`
}

type synthDiagnostic struct {
	ID       string     `json:"id"`
	Category string     `json:"category"`
	Call     string     `json:"call"`
	Code     string     `json:"code"`
	DocsURL  string     `json:"docsUrl"`
	Expected string     `json:"expected"`
	Received string     `json:"received"`
	Fixes    []synthFix `json:"fixes"`
}

type synthFix struct {
	Title string `json:"title"`
}
