package client_test

// Contract tests between the client layer and the vendored openapi.yaml.
// They are what a spec bump runs into first (scripts/drill.sh rehearses
// that): a new status fails TestStatusEnumClassified until it is classified,
// while a new optional field, step error code or operation passes untouched.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// Suffixes that pick one component schema each (spectest.Enum's rule: the
// suffix must match exactly one schema name).
const (
	statusSchema        = "ApplicationJsonSchemaStatus"
	stepErrorCodeSchema = "ResultStepsItemsOneOf1ErrorCode"
)

// TestStatusEnumClassified fails, naming the value, for every status in the
// spec that client/invocation.go does not classify. Classifying a status is
// a decision (does Wait stop on it? is it a success?), so a spec bump that
// adds one must not pass silently.
func TestStatusEnumClassified(t *testing.T) {
	t.Parallel()
	for _, v := range spectest.Enum(t, statusSchema) {
		if !client.Status(v).Known() {
			t.Errorf("spec status %q is not classified: add a Status constant for it and an entry in statusClass "+
				"in client/invocation.go saying whether it is terminal (Wait stops) and whether it is a success", v)
		}
	}
}

// TestStatusConstantsInSpec fails for a Status constant that the spec no
// longer lists, so a removed status is noticed.
func TestStatusConstantsInSpec(t *testing.T) {
	t.Parallel()
	checkConstantsInSpec(t, "Status", spectest.Enum(t, statusSchema))
}

// TestStepErrorCodesRoundTrip checks that every step error code in the spec
// reaches the caller unchanged: a failing step with that code decodes to a
// StepFailure whose Error.Code is the code. StepErrorCode keeps codes it
// has no constant for, so a code the spec adds passes without a client
// edit (its Known is false until someone adds a constant).
func TestStepErrorCodesRoundTrip(t *testing.T) {
	t.Parallel()
	codes := spectest.Enum(t, stepErrorCodeSchema)
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			body := failedWithCode(t, code)
			if err := spectest.ValidateInvocation(t, http.StatusOK, nil, body); err != nil {
				t.Fatalf("test body with code %q does not validate against the spec: %v", code, err)
			}
			inv := decode(t, body)
			failed := inv.FailedSteps()
			if len(failed) != 1 {
				t.Fatalf("FailedSteps() has %d steps, want 1", len(failed))
			}
			if got := failed[0].Error.Code; got != client.StepErrorCode(code) {
				t.Errorf("Error.Code = %q, want %q", got, code)
			}
			if got := failed[0].Error.Code.String(); got != code {
				t.Errorf("Error.Code.String() = %q, want %q", got, code)
			}
		})
	}
}

// TestStepErrorCodeConstantsInSpec fails for a StepErrorCode constant that
// the spec no longer lists: the API will never send it, so code that
// switches on it is dead.
func TestStepErrorCodeConstantsInSpec(t *testing.T) {
	t.Parallel()
	checkConstantsInSpec(t, "StepErrorCode", spectest.Enum(t, stepErrorCodeSchema))
}

// checkConstantsInSpec checks that every constant of the named client type
// is in enum and is Known. The constants are read from the package source,
// so one added to client/ is checked without editing this test.
func checkConstantsInSpec(t *testing.T, typeName string, enum []string) {
	t.Helper()
	consts := clientConstants(t, typeName)
	if len(consts) == 0 {
		t.Fatalf("found no constants of type client.%s in client/*.go", typeName)
	}
	for name, v := range consts {
		if !slices.Contains(enum, v) {
			t.Errorf("client.%s = %q is not in the spec's enum %v: remove it or check the spec", name, v, enum)
		}
	}
	switch typeName {
	case "Status":
		for name, v := range consts {
			if !client.Status(v).Known() {
				t.Errorf("client.%s(%q).Known() = false, want true", name, v)
			}
		}
	case "StepErrorCode":
		for name, v := range consts {
			if !client.StepErrorCode(v).Known() {
				t.Errorf("client.%s(%q).Known() = false, want true", name, v)
			}
		}
	}
}

// clientSource returns the parsed non-test files of the client package.
func clientSource(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(spectest.Root(t), "client", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// clientConstants returns the string constants declared with the given type
// in the client package, by constant name.
func clientConstants(t *testing.T, typeName string) map[string]string {
	t.Helper()
	fset, files := clientSource(t)
	out := make(map[string]string)
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
					continue
				}
				for i, name := range vs.Names {
					var lit *ast.BasicLit
					if i < len(vs.Values) {
						lit, _ = vs.Values[i].(*ast.BasicLit)
					}
					if lit == nil || lit.Kind != token.STRING {
						t.Fatalf("%s: constant %s is not a string literal", fset.Position(name.Pos()), name.Name)
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[name.Name] = v
				}
			}
		}
	}
	return out
}

// clientStructTags returns the JSON names in the json tags of the client
// package's struct type typeName, by field name, or nil if there is no
// such type.
func clientStructTags(t *testing.T, typeName string) map[string]string {
	t.Helper()
	_, files := clientSource(t)
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok || ts.Name.Name != typeName {
					continue
				}
				tags := make(map[string]string)
				for _, field := range st.Fields.List {
					if field.Tag == nil || len(field.Names) == 0 {
						continue
					}
					raw, err := strconv.Unquote(field.Tag.Value)
					if err != nil {
						t.Fatal(err)
					}
					name, _, _ := strings.Cut(reflect.StructTag(raw).Get("json"), ",")
					if name != "" && name != "-" {
						tags[field.Names[0].Name] = name
					}
				}
				return tags
			}
		}
	}
	return nil
}

// failedWithCode returns the "failed" fixture with its failing step's error
// code replaced by code.
func failedWithCode(t *testing.T, code string) []byte {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(spectest.Fixture(t, "failed"), &body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range body["result"].(map[string]any)["steps"].([]any) {
		step := s.(map[string]any)
		if step["ok"] == false {
			step["error"].(map[string]any)["code"] = code
			n++
		}
	}
	if n != 1 {
		t.Fatalf("failed fixture has %d failing steps, want 1", n)
	}
	out, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWireMatchesSpec checks the client's JSON decoding against the spec.
// Every json tag must be a property of its schema: the exported types' tags
// are read by reflection, the unexported wire structs' from the source.
// Then every fixture is decoded both by the client and generically, and each
// field the client exposes must equal the value under its spec name. Every
// field must be non-zero in at least one fixture, so that no comparison is
// vacuous.
func TestWireMatchesSpec(t *testing.T) {
	t.Parallel()
	doc := spectest.Load(t)

	t.Run("tags", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			typ    any
			schema string // unique suffix of the schema's name
		}{
			{client.Progress{}, "ApplicationJsonSchemaProgress"},
			{client.ErrorInfo{}, "ApplicationJsonSchemaError"},
			{client.Request{}, "ApplicationJsonSchemaRequest"},
			{client.RequestStep{}, "RequestStepsItems"},
			{client.RequestStepOptions{}, "RequestStepsItemsOptions"},
			{client.ResolvedTarget{}, "OneOf0Resolved"},
			{client.Binding{}, "OneOf0Binding"},
			{client.StepError{}, "OneOf1Error"},
			{client.Diagnostic{}, "OneOf1ErrorDiagnostic"},
			{client.Fix{}, "DiagnosticFixesItems"},
		} {
			rt := reflect.TypeOf(tc.typ)
			name, s := schemaBySuffix(t, doc, tc.schema)
			tags := jsonTags(rt)
			if len(tags) == 0 {
				t.Errorf("client.%s has no json tags", rt.Name())
			}
			for field, tag := range tags {
				if _, ok := s.Properties[tag]; !ok {
					t.Errorf("client.%s.%s has json tag %q, which is not a property of schema %s (properties: %s)",
						rt.Name(), field, tag, name, strings.Join(propertyNames(s), ", "))
				}
			}
		}
	})

	invSchema := invocationSchema(t, doc)
	_, resultSchema := schemaBySuffix(t, doc, "ApplicationJsonSchemaResult")
	_, stepSchema := schemaBySuffix(t, doc, "ApplicationJsonSchemaResultStepsItems")
	stepProps := map[string]bool{} // a step is either variant
	for _, variant := range stepSchema.OneOf {
		for p := range variant.Value.Properties {
			stepProps[p] = true
		}
	}

	// The unexported wire structs, read from the source: encoding/json
	// matches names case-insensitively, so only the tags themselves show
	// a "correlationID" that should be "correlationId".
	t.Run("wire", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			typ   string
			props func(string) bool
		}{
			{"wireInvocation", func(p string) bool { _, ok := invSchema.Properties[p]; return ok }},
			{"wireResult", func(p string) bool { _, ok := resultSchema.Properties[p]; return ok }},
			{"wireStep", func(p string) bool { return stepProps[p] }},
		} {
			tags := clientStructTags(t, tc.typ)
			if len(tags) == 0 {
				t.Errorf("client/*.go has no struct %s with json tags: update this test to the client's wire types", tc.typ)
			}
			for field, tag := range tags {
				if !tc.props(tag) {
					t.Errorf("client %s.%s has json tag %q, which the spec does not define", tc.typ, field, tag)
				}
			}
		}
	})

	nonZero := map[string]bool{} // key -> seen non-zero in some fixture
	var keys []string
	for _, name := range spectest.FixtureNames(t) {
		raw := spectest.Fixture(t, name)
		inv := decode(t, raw)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check := func(key string, schema *openapi3.Schema, got, want any) {
			t.Helper()
			if _, ok := schema.Properties[key]; !ok {
				t.Errorf("%s: the client reads %q, which the spec does not define", name, key)
			}
			if !slices.Contains(keys, key) {
				keys = append(keys, key)
			}
			g, w := normalize(generic(t, got)), normalize(want)
			if w != nil {
				nonZero[key] = true
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: %s: client decoded %s, the wire has %s", name, key, js(g), js(w))
			}
		}
		for _, f := range []struct {
			key string
			got any
		}{
			{"id", inv.ID},
			{"runId", inv.RunID},
			{"runtimeId", inv.RuntimeID},
			{"spaceId", inv.SpaceID},
			{"status", inv.Status},
			{"executionMode", inv.ExecutionMode},
			{"runtimeKind", inv.RuntimeKind},
			{"entryCall", inv.EntryCall},
			{"sequenceNo", inv.SequenceNo},
			{"stepCount", inv.StepCount},
			{"artifactCount", inv.ArtifactCount},
			{"connector", inv.Connector},
			{"correlationId", inv.CorrelationID},
			{"metadata", inv.Metadata},
			{"progress", inv.Progress},
			{"error", inv.Error},
			{"request", inv.Request},
			{"durationMs", inv.Duration.Milliseconds()},
			{"createdAt", wireTime(inv.CreatedAt)},
			{"startedAt", wireTime(inv.StartedAt)},
			{"finishedAt", wireTime(inv.FinishedAt)},
			{"cancelRequestedAt", wireTime(inv.CancelRequestedAt)},
			{"lastHeartbeatAt", wireTime(inv.LastHeartbeatAt)},
		} {
			want := m[f.key]
			if _, isTime := f.got.(timeValue); isTime && want != nil {
				want = canonTime(t, name, f.key, want)
			}
			check(f.key, invSchema, f.got, want)
		}

		// The result and its steps.
		wr, _ := m["result"].(map[string]any)
		if (inv.Result == nil) != (wr == nil) {
			t.Errorf("%s: client Result is %v, wire result is %s", name, inv.Result, js(m["result"]))
			continue
		}
		if wr == nil {
			continue
		}
		check("ok", resultSchema, inv.Result.OK, wr["ok"])
		check("mode", resultSchema, inv.Result.Mode, wr["mode"])
		check("runtimeId", resultSchema, inv.Result.RuntimeID, wr["runtimeId"])
		wsteps, _ := wr["steps"].([]any)
		steps := inv.Steps()
		if len(steps) != len(wsteps) {
			t.Errorf("%s: client has %d steps, wire has %d", name, len(steps), len(wsteps))
			continue
		}
		for i := range steps {
			st := &steps[i]
			ws := wsteps[i].(map[string]any)
			stepCheck := func(key string, got any) {
				t.Helper()
				if !stepProps[key] {
					t.Errorf("%s: step %d: the client reads %q, which no step variant defines", name, i, key)
				}
				g, w := normalize(generic(t, got)), normalize(ws[key])
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s: step %d: %s: client decoded %s, the wire has %s", name, i, key, js(g), js(w))
				}
			}
			if err := st.Err(); err != nil {
				t.Errorf("%s: step %d: %v", name, i, err)
				continue
			}
			stepCheck("ok", st.OK())
			stepCheck("index", st.Index())
			stepCheck("call", st.Call())
			if s, ok := st.Success(); ok {
				stepCheck("resolved", s.Resolved)
				stepCheck("binding", s.Binding)
				stepCheck("result", s.Result())
				nonZero["step.resolved"] = true
				if s.Binding != nil {
					nonZero["step.binding"] = true
				}
			}
			if f, ok := st.Failure(); ok {
				stepCheck("error", f.Error)
				nonZero["step.error"] = true
				if f.Error.Hint != "" {
					nonZero["step.error.hint"] = true
				}
				if d := f.Error.Diagnostic; d != nil && d.DocsURL != "" && len(d.Fixes) > 0 {
					nonZero["step.error.diagnostic"] = true
				}
			}
		}
	}
	keys = append(keys, "step.resolved", "step.binding", "step.error", "step.error.hint", "step.error.diagnostic")
	for _, k := range keys {
		if !nonZero[k] {
			t.Errorf("no fixture in testdata/invocations has a non-empty %q, so its decoding is untested", k)
		}
	}
}

// decode returns the invocation the client decodes from body, served as a
// 200 application/json response to GET /v1/invocations/{id}.
func decode(t *testing.T, body []byte) *client.Invocation {
	t.Helper()
	c, err := client.New(
		client.WithAPIKey("test-key"),
		client.WithBaseURL("http://127.0.0.1:1"),
		client.WithMaxRetries(0),
		client.WithHTTPClient(doerFunc(func(req *http.Request) (*http.Response, error) {
			return &http.Response{
				StatusCode: http.StatusOK,
				Header:     http.Header{"Content-Type": {"application/json"}},
				Body:       io.NopCloser(bytes.NewReader(body)),
				Request:    req,
			}, nil
		})),
	)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Invocations.Get(t.Context(), "inv-1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return inv
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// invocationSchema returns the schema of GET /v1/invocations/{id}'s 200
// response, found by path so that a rename of the schema does not matter.
func invocationSchema(t *testing.T, doc *openapi3.T) *openapi3.Schema {
	t.Helper()
	item := doc.Paths.Find("/v1/invocations/{id}")
	if item == nil || item.Get == nil {
		t.Fatal("spec has no GET /v1/invocations/{id}")
	}
	resp := item.Get.Responses.Status(http.StatusOK)
	if resp == nil || resp.Value == nil {
		t.Fatal("GET /v1/invocations/{id} has no 200 response")
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		t.Fatal("GET /v1/invocations/{id} 200 has no application/json schema")
	}
	return mt.Schema.Value
}

// schemaBySuffix returns the one component schema whose name ends with
// suffix, and its name.
func schemaBySuffix(t *testing.T, doc *openapi3.T, suffix string) (string, *openapi3.Schema) {
	t.Helper()
	var names []string
	for name := range doc.Components.Schemas {
		if strings.HasSuffix(name, suffix) {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		slices.Sort(names)
		t.Fatalf("want one component schema ending with %q, found %d: %v", suffix, len(names), names)
	}
	return names[0], doc.Components.Schemas[names[0]].Value
}

func propertyNames(s *openapi3.Schema) []string {
	names := make([]string, 0, len(s.Properties))
	for p := range s.Properties {
		names = append(names, p)
	}
	slices.Sort(names)
	return names
}

// jsonTags returns the JSON names of rt's fields, by field name.
func jsonTags(rt reflect.Type) map[string]string {
	tags := make(map[string]string)
	for f := range rt.Fields() {
		tag, ok := f.Tag.Lookup("json")
		if !ok || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		tags[f.Name] = name
	}
	return tags
}

// timeValue is a client time as it would appear on the wire, in a canonical
// form; the zero time is absent.
type timeValue string

func wireTime(tm time.Time) any {
	if tm.IsZero() {
		return nil
	}
	return timeValue(tm.UTC().Format(time.RFC3339Nano))
}

// canonTime parses a wire timestamp and formats it like wireTime.
func canonTime(t *testing.T, fixture, key string, v any) any {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Errorf("%s: %s is %s, want a string", fixture, key, js(v))
		return v
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Errorf("%s: %s: %v", fixture, key, err)
		return v
	}
	return tm.UTC().Format(time.RFC3339Nano)
}

// generic returns v as encoding/json would decode its encoding into an any.
func generic(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalize drops what the client represents as a zero value: nulls,
// empty strings, zeros, false, and empty objects and arrays. The SDK
// documents that absent and null fields are zero, so only a non-zero value
// can tell whether a field was decoded from the right key. It returns nil
// for a value that is entirely zero.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any)
		for k, e := range v {
			if n := normalize(e); n != nil {
				out[k] = n
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(v) == 0 {
			return nil
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e) // keep positions: nil stands for a zero element
		}
		return out
	case string:
		if v == "" {
			return nil
		}
	case float64:
		if v == 0 {
			return nil
		}
	case bool:
		if !v {
			return nil
		}
	}
	return v
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
