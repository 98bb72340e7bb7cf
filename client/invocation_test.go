package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

func TestStatusHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s                        client.Status
		known, terminal, success bool
	}{
		{client.StatusQueued, true, false, false},
		{client.StatusDispatching, true, false, false},
		{client.StatusRunning, true, false, false},
		{client.StatusCancelling, true, false, false},
		{client.StatusSucceeded, true, true, true},
		{client.StatusFailed, true, true, false},
		{client.StatusCancelled, true, true, false},
		{client.StatusTimedOut, true, true, false},
		{"paused", false, false, false},
		{"", false, false, false},
	}
	for _, tt := range tests {
		if got := tt.s.Known(); got != tt.known {
			t.Errorf("%q.Known() = %v", tt.s, got)
		}
		if got := tt.s.IsTerminal(); got != tt.terminal {
			t.Errorf("%q.IsTerminal() = %v", tt.s, got)
		}
		if got := tt.s.IsSuccess(); got != tt.success {
			t.Errorf("%q.IsSuccess() = %v", tt.s, got)
		}
	}
}

func TestGetFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture  string
		status   client.Status
		steps    int
		finished bool
	}{
		{"queued", client.StatusQueued, 0, false},
		{"running", client.StatusRunning, 0, false},
		{"succeeded", client.StatusSucceeded, 4, true},
		{"failed", client.StatusFailed, 3, true},
		{"cancelled", client.StatusCancelled, -1, true},
		{"timed_out", client.StatusTimedOut, -1, true},
		{"nulls", client.StatusDispatching, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			body := spectest.Fixture(t, tt.fixture)
			inv := getFixture(t, tt.fixture)
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if inv.ID != m["id"] || string(inv.Status) != m["status"] || inv.Status != tt.status {
				t.Errorf("ID, Status = %q, %q; fixture has %v, %v", inv.ID, inv.Status, m["id"], m["status"])
			}
			if inv.RunID != m["runId"] || inv.RuntimeID != m["runtimeId"] || inv.SpaceID != m["spaceId"] || inv.EntryCall != m["entryCall"] {
				t.Errorf("ids or entry call differ from the fixture")
			}
			if tt.steps >= 0 && len(inv.Steps()) != tt.steps {
				t.Errorf("len(Steps()) = %d, want %d", len(inv.Steps()), tt.steps)
			}
			if inv.Finished() != tt.finished {
				t.Errorf("Finished() = %v, want %v", inv.Finished(), tt.finished)
			}
			created, _ := time.Parse(time.RFC3339Nano, m["createdAt"].(string))
			if !inv.CreatedAt.Time.Equal(created) || inv.CreatedAt.IsZero() {
				t.Errorf("CreatedAt = %v, fixture has %v", inv.CreatedAt, m["createdAt"])
			}
			got, reported := inv.Duration()
			if d, ok := m["durationMs"].(float64); ok != reported || got != time.Duration(d)*time.Millisecond {
				t.Errorf("Duration() = %v, %v; fixture has %v", got, reported, m["durationMs"])
			}
			if string(inv.Raw()) != string(body) {
				t.Errorf("Raw() differs from the body served")
			}
		})
	}
}

func TestGetNullsAreZero(t *testing.T) {
	t.Parallel()
	inv := getFixture(t, "nulls")
	if inv.Progress != nil || inv.Error != nil || inv.Request != nil || inv.Result != nil || inv.Metadata != nil ||
		inv.Connector != "" || inv.CorrelationID != "" || inv.DurationMs != nil || inv.Steps() != nil ||
		!inv.StartedAt.IsZero() || !inv.FinishedAt.IsZero() || !inv.CancelRequestedAt.IsZero() || !inv.LastHeartbeatAt.IsZero() {
		t.Errorf("null fields decoded to non-zero values: %+v", inv)
	}
}

func TestGetRunningProgress(t *testing.T) {
	t.Parallel()
	inv := getFixture(t, "running")
	var m struct {
		Progress client.Progress `json:"progress"`
	}
	if err := json.Unmarshal(spectest.Fixture(t, "running"), &m); err != nil {
		t.Fatal(err)
	}
	if inv.Progress == nil {
		t.Fatal("Progress is nil")
	}
	if diff := cmp.Diff(m.Progress, *inv.Progress); diff != "" {
		t.Errorf("Progress mismatch (-fixture +got):\n%s", diff)
	}
	if inv.Progress.TotalSteps == nil || *inv.Progress.TotalSteps == 0 || inv.Progress.Message == "" {
		t.Errorf("running fixture has empty progress: %+v", inv.Progress)
	}
}

func TestGetKeepsUnknownValues(t *testing.T) {
	t.Parallel()
	body := fixtureWith(t, "running", func(m map[string]any) {
		m["status"] = "paused"
		m["brandNewField"] = map[string]any{"x": 1}
	})
	c, _ := setup(t, serveJSON(200, body))
	inv, err := c.Invocations.Get(t.Context(), "x")
	if err != nil {
		t.Fatalf("unknown status or field made Get fail: %v", err)
	}
	if inv.Status != "paused" || inv.Status.Known() || inv.Status.IsTerminal() {
		t.Errorf("Status = %q (known %v), want \"paused\" kept as unknown", inv.Status, inv.Status.Known())
	}
	var back map[string]any
	if err := json.Unmarshal(inv.Raw(), &back); err != nil || back["brandNewField"] == nil {
		t.Errorf("Raw() lost the unknown field: %v", err)
	}
}

func TestErrorInfoText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    client.ErrorInfo
		want string
	}{
		{client.ErrorInfo{Code: "STEP_FAILED", Message: "step 2 failed"}, "STEP_FAILED: step 2 failed"},
		{client.ErrorInfo{Message: "runtime lost"}, "runtime lost"},
	}
	for _, tt := range tests {
		if got := client.ErrorInfoText(&tt.e); got != tt.want {
			t.Errorf("ErrorInfoText(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestInvocationJSONRoundTrip encodes what Get returned with encoding/json,
// serves the encoding, and gets it again: a user who stores an invocation
// and reads it back loses nothing. (Decoding a fixture with encoding/json
// directly is TestEveryFixtureDecodesAlikeInJSONv1AndV2.)
func TestInvocationJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range spectest.FixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			inv := getFixture(t, name)
			b, err := json.Marshal(inv)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			c2, _ := setup(t, serveJSON(200, b))
			back, err := c2.Invocations.Get(t.Context(), inv.ID)
			if err != nil {
				t.Fatalf("Get of the re-encoded invocation: %v\n%s", err, b)
			}
			if diff := cmp.Diff(inv, back, cmpopts.IgnoreUnexported(client.Invocation{}), stepComparer); diff != "" {
				t.Errorf("invocation after an encoding/json round trip (-got +back):\n%s", diff)
			}
			if back.ID == "" || back.CreatedAt.IsZero() || len(back.Steps()) != len(inv.Steps()) {
				t.Errorf("the round trip compared empty values: id %q, createdAt %v, %d steps", back.ID, back.CreatedAt, len(back.Steps()))
			}
		})
	}
}

// TestEndedAndErr: Ended is Wait's definition of final, and Err the error
// Wait returns for an end without success.
func TestEndedAndErr(t *testing.T) {
	t.Parallel()
	finished := client.Timestamp{}
	if err := json.Unmarshal([]byte(`"2026-01-01T00:00:00Z"`), &finished); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		status   client.Status
		finished bool
		ended    bool
		err      bool
	}{
		{client.StatusRunning, false, false, false},
		{client.StatusCancelling, false, false, false},
		{client.StatusSucceeded, true, true, false},
		{client.StatusFailed, true, true, true},
		{client.StatusCancelled, true, true, true},
		{client.StatusTimedOut, false, true, true},
		{"paused", false, false, false},
		{"archived", true, true, true}, // unknown, with an end time
	}
	for _, tt := range tests {
		inv := &client.Invocation{Status: tt.status}
		if tt.finished {
			inv.FinishedAt = finished
		}
		if got := inv.Ended(); got != tt.ended {
			t.Errorf("%s (finished %v): Ended = %v, want %v", tt.status, tt.finished, got, tt.ended)
		}
		err := inv.Err()
		var ie *client.InvocationError
		if (err != nil) != tt.err || (err != nil && !errors.As(err, &ie)) {
			t.Errorf("%s (finished %v): Err = %v, want an *InvocationError: %v", tt.status, tt.finished, err, tt.err)
		}
		if tt.status == "archived" && !errors.Is(err, client.ErrUnknownStatus) {
			t.Errorf("unknown ended status: Err = %v, want ErrUnknownStatus", err)
		}
	}
}

// TestIsTransient: what Wait polls through, and what stops it.
func TestIsTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&client.APIError{StatusCode: 503}, true},
		{&client.APIError{StatusCode: 429}, true},
		{&client.APIError{StatusCode: 404}, false},
		{&client.APIError{StatusCode: 401}, false},
		{fmt.Errorf("poll: %w", &client.APIError{StatusCode: 502}), true},
		{client.ErrInvalidResponse, false},
		{client.ErrInvalidID, false},
		{client.ErrResponseTooLarge, false},
		{client.ErrTooManyRedirects, false},
		{errors.New("read tcp: connection reset by peer"), true},
	}
	for _, tt := range tests {
		if got := client.IsTransient(tt.err); got != tt.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
