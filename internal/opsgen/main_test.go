package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// generate runs the generator from gen/, as go generate does, on spec (the
// text of a whole openapi.yaml), with client/ holding only hand, and
// returns the report and the generated client file.
func generate(t *testing.T, spec, hand string) ([]string, string, error) {
	t.Helper()
	report, src, _, err := generateBoth(t, spec, hand)
	return report, src, err
}

// generateBoth is generate, also returning bctrltest's route table.
func generateBoth(t *testing.T, spec, hand string) (report []string, src, fake string, err error) {
	t.Helper()
	dir := t.TempDir()
	specPath := filepath.Join(dir, "openapi.yaml")
	clientDir := filepath.Join(dir, "client")
	fakeDir := filepath.Join(dir, "fake")
	for _, d := range []string{clientDir, fakeDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(clientDir, "wait.go"), []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(genDir)
	report, err = run("../oapi-codegen.yaml", specPath, clientDir, fakeDir, "../oapi-codegen.server.yaml")
	b, _ := os.ReadFile(filepath.Join(clientDir, outName))
	f, _ := os.ReadFile(filepath.Join(fakeDir, outName))
	return report, string(b), string(f), err
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// genDir is gen/, where go generate runs the generator.
var genDir, _ = filepath.Abs("../../gen")

const handWait = "package client\n\nfunc (s *InvocationsService) Wait() {}\n"

// ruleOf returns the report line of Invocations.<method>.
func ruleOf(report []string, method string) string {
	for _, l := range report {
		if strings.HasPrefix(l, "Invocations."+method+" ") {
			return l
		}
	}
	return ""
}

func TestRules(t *testing.T) {
	base := read(t, "../../openapi.yaml")
	for _, tt := range []struct {
		name, spec, method, rule string
		want                     []string // in the generated file
	}{
		{"get", base, "Get", "invocation:", []string{
			`func (s *InvocationsService) Get(ctx context.Context, id string, opts ...Option) (*Invocation, error)`,
			`s.client.invokeInvocation(ctx, op, id, opts)`}},
		{"cancel with its own copy", read(t, "../../testdata/spec-bumps/04-new-operation.yaml"), "Cancel", "invocation: the 200 response's schema invocations_cancel_Response_200", []string{
			`func (s *InvocationsService) Cancel(ctx context.Context, id string, opts ...Option) (*Invocation, error)`,
			`Method: http.MethodPost, Route: "/v1/invocations/{id}/cancel", Path: []string{id}`}},
		{"list", read(t, "../../testdata/spec-bumps/08-new-list-operation.yaml"), "List", "page:", []string{
			`func (s *InvocationsService) List(ctx context.Context, params *InvocationsListParams, opts ...Option) (*InvocationsListPage, error)`,
			`Data []Invocation`,
			`func (s *InvocationsService) ListAll(ctx context.Context, params *InvocationsListParams, opts ...Option) iter.Seq2[*Invocation, error]`,
			`boundedSlice[Invocation](st)`}},
		{"create", read(t, "../../testdata/spec-bumps/09-new-create-operation.yaml"), "Create", "invocation:", []string{
			`func (s *InvocationsService) Create(ctx context.Context, body InvocationsCreateBody, opts ...Option) (*Invocation, error)`,
			`type InvocationsCreateBody = gen.CreateJSONRequestBody`,
			`s.client.invokeInvocation(ctx, op, "", opts)`}},
		{"other JSON", otherJSON(t, base), "Stats", "other JSON:", []string{
			`func (s *InvocationsService) Stats(ctx context.Context, opts ...Option) (*InvocationsStatsResult, error)`,
			`type InvocationsStatsResult = gen.InvocationsStatsResponse200`}},
		{"no body", noBody(base), "Purge", "no body:", []string{
			`func (s *InvocationsService) Purge(ctx context.Context, id string, opts ...Option) error`,
			`Method: http.MethodDelete`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			report, src, err := generate(t, tt.spec, handWait)
			if err != nil {
				t.Fatal(err)
			}
			if line := ruleOf(report, tt.method); !strings.Contains(line, tt.rule) {
				t.Errorf("report for %s: %q, want it to contain %q (report: %q)", tt.method, line, tt.rule, report)
			}
			for _, w := range tt.want {
				if !strings.Contains(src, w) {
					t.Errorf("generated file lacks %q", w)
				}
			}
		})
	}
}

// addPath inserts a path item (text at the indentation of paths:) and
// component schemas into spec.
func addPath(spec, path, schemas string) string {
	spec = strings.Replace(spec, "paths:\n", "paths:\n"+path, 1)
	if schemas != "" {
		spec = strings.Replace(spec, "  schemas:\n", "  schemas:\n"+schemas, 1)
	}
	return spec
}

func otherJSON(t *testing.T, base string) string {
	return addPath(base, `  /v1/invocations/stats:
    get:
      operationId: stats
      summary: Count invocations
      tags:
        - subpackage_invocations
      responses:
        '200':
          description: Default Response
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/invocations_stats_Response_200'
`, `    invocations_stats_Response_200:
      type: object
      properties:
        running:
          type: integer
      title: invocations_stats_Response_200
`)
}

func noBody(base string) string {
	return addPath(base, idOperation("/v1/invocations/{id}/purge", "delete", "purge"), "")
}

// idOperation is a path item of one operation on an {id}, answering 204.
func idOperation(path, method, id string) string {
	return "  " + path + ":\n    " + method + ":\n      operationId: " + id + `
      summary: An operation
      tags:
        - subpackage_invocations
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
      responses:
        '204':
          description: No Content
`
}

// A generated name that a hand-written method already has fails
// generation, naming the overlay fix.
func TestCollisionWithHandWrittenMethod(t *testing.T) {
	spec := addPath(read(t, "../../openapi.yaml"), idOperation("/v1/invocations/{id}/wait", "post", "wait"), "")
	_, _, err := generate(t, spec, handWait)
	if err == nil {
		t.Fatal("generation succeeded with an operation named like the hand-written Wait")
	}
	for _, w := range []string{"InvocationsService.Wait", "client/wait.go", "oapi-codegen.overlay.yaml", "x-go-name", "$.paths['/v1/invocations/{id}/wait'].post"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %q", err, w)
		}
	}
}

func TestDeterministic(t *testing.T) {
	spec := read(t, "../../testdata/spec-bumps/08-new-list-operation.yaml")
	_, a, err := generate(t, spec, handWait)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := generate(t, spec, handWait)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two runs on one spec generated different files")
	}
}

func TestShapeIgnoresNamesAndDescriptions(t *testing.T) {
	// Covered end to end by TestRules' cancel case; here the negative: a
	// schema one property short of the invocation is not one.
	report, _, err := generate(t, strings.Replace(read(t, "../../testdata/spec-bumps/04-new-operation.yaml"),
		"        stepCount:\n          type: integer\n      required:\n        - artifactCount\n        - createdAt\n        - entryCall\n        - executionMode\n        - id\n        - runId\n        - runtimeId\n        - runtimeKind\n        - sequenceNo\n        - spaceId\n        - status\n        - stepCount\n      title: invocations_cancel_Response_200",
		"      title: invocations_cancel_Response_200", 1), handWait)
	if err != nil {
		t.Fatal(err)
	}
	if line := ruleOf(report, "Cancel"); !strings.Contains(line, "other JSON") {
		t.Errorf("a schema unlike the invocation got %q, want other JSON", line)
	}
}

// TestFakeRoutesAuth checks that the route table marks an operation as
// authenticated exactly when the spec asks for the Authorization header,
// so that bctrltest checks the key before any handler of it.
func TestFakeRoutesAuth(t *testing.T) {
	base := read(t, "../../openapi.yaml")
	const route = `{ID: "getInvocation", Method: "GET", Pattern: "/v1/invocations/{id}"`
	for _, tt := range []struct {
		name, spec, want string
	}{
		{"required Authorization header", base, route + ", Auth: true},"},
		{"no Authorization header", strings.ReplaceAll(base, "- name: Authorization", "- name: X-Trace"), route + "},"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, got, err := generateBoth(t, tt.spec, handWait)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("route table lacks %s:\n%s", tt.want, got)
			}
		})
	}
}
