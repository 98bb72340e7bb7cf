package spectest_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bctrlhq/sdk-go/internal/spectest"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	doc := spectest.Load(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	if doc.Paths.Find("/v1/invocations/{id}") == nil {
		t.Fatal("spec has no /v1/invocations/{id} path")
	}
	if spectest.Load(t) != doc {
		t.Error("Load returned a different document on the second call; want the cached one")
	}
}

func TestFixturesValidate(t *testing.T) {
	t.Parallel()
	names := spectest.FixtureNames(t)
	for _, want := range []string{"queued", "running", "succeeded", "failed", "cancelled", "timed_out", "nulls"} {
		if !slices.Contains(names, want) {
			t.Errorf("FixtureNames() = %v, missing %q", names, want)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := spectest.ValidateInvocation(t, http.StatusOK, nil, spectest.Fixture(t, name)); err != nil {
				t.Fatalf("fixture %s does not validate: %v", name, err)
			}
		})
	}
}

// TestFixtureStatus checks that each status fixture really has that status, so
// that a copy-paste slip cannot leave a status untested.
func TestFixtureStatus(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"queued", "running", "succeeded", "failed", "cancelled", "timed_out"} {
		var body struct{ Status string }
		if err := json.Unmarshal(spectest.Fixture(t, name), &body); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if body.Status != name {
			t.Errorf("%s.json has status %q", name, body.Status)
		}
	}
}

func TestNullsFixtureIsAllNull(t *testing.T) {
	t.Parallel()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(spectest.Fixture(t, "nulls"), &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"cancelRequestedAt", "connector", "correlationId", "durationMs", "error", "finishedAt",
		"lastHeartbeatAt", "metadata", "progress", "request", "result", "startedAt"} {
		if v, ok := body[k]; !ok || string(v) != "null" {
			t.Errorf("nulls.json %s = %s, want explicit null", k, v)
		}
	}
}

func TestStepsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, failEvery int
		wantStatus   string
		wantFailed   int
	}{
		{1, 0, "succeeded", 0},
		{1000, 0, "succeeded", 0},
		{1000, 7, "failed", 142},
		{3, 7, "succeeded", 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d,failEvery=%d", tt.n, tt.failEvery), func(t *testing.T) {
			t.Parallel()
			body := spectest.Steps(tt.n, tt.failEvery)
			if err := spectest.ValidateInvocation(t, http.StatusOK, nil, body); err != nil {
				t.Fatalf("Steps(%d, %d) does not validate: %v", tt.n, tt.failEvery, err)
			}
			var got struct {
				Status string
				Result struct {
					OK    bool
					Steps []struct{ OK bool }
				}
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			failed := 0
			for _, s := range got.Result.Steps {
				if !s.OK {
					failed++
				}
			}
			if got.Status != tt.wantStatus || len(got.Result.Steps) != tt.n || failed != tt.wantFailed || got.Result.OK != (failed == 0) {
				t.Errorf("Steps(%d, %d): status %q, %d steps, %d failed, ok %v; want %q, %d, %d, %v",
					tt.n, tt.failEvery, got.Status, len(got.Result.Steps), failed, got.Result.OK,
					tt.wantStatus, tt.n, tt.wantFailed, tt.wantFailed == 0)
			}
		})
	}
}

func TestStepsSize(t *testing.T) {
	t.Parallel()
	const lo, hi = 300 << 10, 600 << 10
	if size := len(spectest.Steps(1000, 0)); size < lo || size > hi {
		t.Errorf("len(Steps(1000, 0)) = %d bytes, want between %d and %d", size, lo, hi)
	}
}

// rejected is a fixture broken in one way the spec forbids.
type rejected struct {
	name    string
	fixture string
	mutate  func(m map[string]any)
}

// body returns the broken fixture.
func (r rejected) body(t *testing.T) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(spectest.Fixture(t, r.fixture), &m); err != nil {
		t.Fatal(err)
	}
	r.mutate(m)
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// rejectedFixtures are the bodies TestValidatorRejects checks.
var rejectedFixtures = []rejected{
	{"status is a number", "succeeded", func(m map[string]any) { m["status"] = 42 }},
	{"status not in enum", "succeeded", func(m map[string]any) { m["status"] = "done" }},
	{"id missing", "succeeded", func(m map[string]any) { delete(m, "id") }},
	{"step missing ok", "succeeded", func(m map[string]any) { delete(step(m, 0), "ok") }},
	{"step ok is a string", "succeeded", func(m map[string]any) { step(m, 0)["ok"] = "true" }},
	{"ok step missing resolved", "succeeded", func(m map[string]any) { delete(step(m, 1), "resolved") }},
	{"resolved missing nullable field", "succeeded", func(m map[string]any) { delete(step(m, 0)["resolved"].(map[string]any), "pageId") }},
	{"failed step marked ok", "failed", func(m map[string]any) { step(m, 2)["ok"] = true }},
	{"unknown error code", "failed", func(m map[string]any) { step(m, 2)["error"].(map[string]any)["code"] = "NOPE" }},
	{"durationMs is a string", "succeeded", func(m map[string]any) { m["durationMs"] = "3676" }},
	{"progress is a string", "running", func(m map[string]any) { m["progress"] = "2/5" }},
	{"error without message", "failed", func(m map[string]any) { delete(m["error"].(map[string]any), "message") }},
	{"id not a uuid", "queued", func(m map[string]any) { m["id"] = "inv_123" }},
	{"runtimeId in result not a uuid", "failed", func(m map[string]any) { m["result"].(map[string]any)["runtimeId"] = "rt-1" }},
	{"docsUrl not absolute", "failed", func(m map[string]any) {
		step(m, 2)["error"].(map[string]any)["diagnostic"].(map[string]any)["docsUrl"] = "/docs/errors/unknown-call"
	}},
	{"metadata is an array", "queued", func(m map[string]any) { m["metadata"] = []any{"team"} }},
}

// TestValidatorRejects proves that ValidateInvocation can fail: each case
// breaks a valid fixture in one way the spec forbids.
func TestValidatorRejects(t *testing.T) {
	t.Parallel()
	for _, tt := range rejectedFixtures {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := spectest.ValidateInvocation(t, http.StatusOK, nil, tt.body(t)); err == nil {
				t.Fatalf("ValidateInvocation accepted a body with %s", tt.name)
			}
		})
	}
}

// TestValidatorUUIDFormat checks the "uuid" format as JSON Schema 2020-12
// defines it: RFC 4122's syntax in either case, whatever the version and
// variant digits say.
func TestValidatorUUIDFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"0b7f3c1e-5a2d-4e8b-9c61-3f2a7d4e8b10", true},
		{"0B7F3C1E-5A2D-4E8B-9C61-3F2A7D4E8B10", true},
		{"0b7f3c1e-5a2d-fe8b-1c61-3f2a7d4e8b10", true}, // version 15, variant 0
		{"00000000-0000-0000-0000-000000000000", true},
		{"0b7f3c1e5a2d4e8b9c613f2a7d4e8b10", false},
		{"0b7f3c1e-5a2d-4e8b-9c61-3f2a7d4e8b1", false},
		{"0b7f3c1e-5a2d-4e8b-9c61-3f2a7d4e8b1g", false},
		{"{0b7f3c1e-5a2d-4e8b-9c61-3f2a7d4e8b10}", false},
	}
	for _, tt := range tests {
		var m map[string]any
		if err := json.Unmarshal(spectest.Fixture(t, "queued"), &m); err != nil {
			t.Fatal(err)
		}
		m["id"] = tt.id
		body, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := spectest.ValidateInvocation(t, http.StatusOK, nil, body); (err == nil) != tt.want {
			t.Errorf("id %q: ValidateInvocation() = %v, want valid: %v", tt.id, err, tt.want)
		}
	}
}

// TestValidateInvocations checks that ValidateInvocations answers as
// ValidateInvocation does for each body, among valid and invalid ones, and
// that joining bodies into one array cannot make an invalid one pass.
func TestValidateInvocations(t *testing.T) {
	t.Parallel()
	var bodies [][]byte
	for _, name := range spectest.FixtureNames(t) {
		bodies = append(bodies, spectest.Fixture(t, name))
	}
	for _, r := range rejectedFixtures {
		bodies = append(bodies, r.body(t))
	}
	queued := spectest.Fixture(t, "queued")
	bodies = append(bodies,
		[]byte(string(queued)+","+string(queued)), // two valid bodies are not one
		[]byte(`{`), nil, []byte(`[]`),
	)
	// Interleave valid and invalid ones, so that halves mix both.
	rng := rand.New(rand.NewPCG(1, 1))
	rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	errs := spectest.ValidateInvocations(t, bodies)
	if len(errs) != len(bodies) {
		t.Fatalf("ValidateInvocations returned %d errors for %d bodies", len(errs), len(bodies))
	}
	valid := 0
	for i, b := range bodies {
		want := spectest.ValidateInvocation(t, http.StatusOK, nil, b)
		if (errs[i] == nil) != (want == nil) {
			t.Errorf("ValidateInvocations: %v, ValidateInvocation: %v, for\n%s", errs[i], want, b)
		}
		if want == nil {
			valid++
		}
	}
	if valid == 0 || valid == len(bodies) {
		t.Errorf("%d of %d bodies are valid; the test needs both kinds", valid, len(bodies))
	}
	if errs := spectest.ValidateInvocations(t, nil); len(errs) != 0 {
		t.Errorf("ValidateInvocations(nil) = %v", errs)
	}
}

func TestValidateInvocationContentType(t *testing.T) {
	t.Parallel()
	body := spectest.Fixture(t, "queued")
	tests := []struct {
		name    string
		status  int
		header  http.Header
		wantErr bool
	}{
		{"json with charset", http.StatusOK, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, false},
		{"empty header defaults to json", http.StatusOK, http.Header{}, false},
		{"text/html", http.StatusOK, http.Header{"Content-Type": {"text/html"}}, true},
		{"undocumented status", http.StatusTeapot, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := spectest.ValidateInvocation(t, tt.status, tt.header, body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ValidateInvocation() error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestEnum(t *testing.T) {
	t.Parallel()
	// Checks that today's values are found, not that no others exist: a
	// spec bump that adds a value must not fail here (the client's own
	// tests decide what a new value needs).
	got := spectest.Enum(t, "JsonSchemaStatus")
	for _, want := range []string{"queued", "dispatching", "running", "cancelling", "succeeded", "failed", "cancelled", "timed_out"} {
		if !slices.Contains(got, want) {
			t.Errorf("Enum(JsonSchemaStatus) = %v, missing %q", got, want)
		}
	}
	codes := spectest.Enum(t, "ResultStepsItemsOneOf1ErrorCode")
	for _, want := range []string{"UNKNOWN_CALL", "TIMEOUT", "INVALID_ARGS"} {
		if !slices.Contains(codes, want) {
			t.Errorf("Enum(ResultStepsItemsOneOf1ErrorCode) = %v, missing %q", codes, want)
		}
	}
	if slices.Contains(codes, "queued") {
		t.Errorf("the error-code suffix matched the status schema: %v", codes)
	}
}

func TestRoot(t *testing.T) {
	t.Parallel()
	root := spectest.Root(t)
	for _, f := range []string{"go.mod", "openapi.yaml"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("Root() = %s, which has no %s: %v", root, f, err)
		}
	}
}

// step returns result.steps[i] of an unmarshalled invocation.
func step(m map[string]any, i int) map[string]any {
	return m["result"].(map[string]any)["steps"].([]any)[i].(map[string]any)
}
