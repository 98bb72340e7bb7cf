package client_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// Fidelity: every body the spec allows decodes, and nothing is misread or
// silently zero (issue 13). Each test here failed on the decoder before it.

// TestIntegersInAnyJSONSpelling: JSON Schema's integer is any number with
// no fractional part, so 5.0, 5e0 and 50E-1 are 5; a fraction or a value
// past int64 is an error naming the member.
func TestIntegersInAnyJSONSpelling(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		spelling string
		want     int
		err      string // an error naming the member, instead of want
	}{
		{spelling: "5", want: 5},
		{spelling: "5.0", want: 5},
		{spelling: "5e0", want: 5},
		{spelling: "50E-1", want: 5},
		{spelling: "0.5e1", want: 5},
		{spelling: "-0", want: 0},
		{spelling: "0.0e7", want: 0},
		{spelling: "9223372036854775807", want: 1<<63 - 1},
		{spelling: "-9223372036854775808", want: -1 << 63},
		{spelling: "9.223372036854775807e18", want: 1<<63 - 1},
		{spelling: "5.5", err: "fractional"},
		{spelling: "1e-400", err: "fractional"},
		{spelling: "9223372036854775808", err: "out of range"},
		{spelling: "1e400", err: "out of range"},
		{spelling: "1e999999999999", err: "out of range"},
	} {
		t.Run(tt.spelling, func(t *testing.T) {
			t.Parallel()
			body := strings.Replace(string(spectest.Fixture(t, "running")), `"sequenceNo": 2`, `"sequenceNo": `+tt.spelling, 1)
			if !strings.Contains(body, tt.spelling) {
				t.Fatal("the running fixture has no sequenceNo 2 to replace")
			}
			c, _ := setup(t, serveJSON(200, []byte(body)))
			inv, err := c.Invocations.Get(t.Context(), "x")
			if tt.err != "" {
				if !errors.Is(err, client.ErrInvalidResponse) || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "/sequenceNo") {
					t.Fatalf("Get = %v; want ErrInvalidResponse saying %q and naming /sequenceNo", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if inv.SequenceNo != tt.want {
				t.Errorf("SequenceNo = %d, want %d", inv.SequenceNo, tt.want)
			}
		})
	}
}

// TestOptionalNumbersKeepPresence: an optional number or boolean the API
// did not send (or sent as null) differs from one it sent as 0 or false,
// for every such property of the spec: the overlay's rule makes them
// pointers, so one a bump adds follows it.
func TestOptionalNumbersKeepPresence(t *testing.T) {
	t.Parallel()
	sites, _ := specSites(t)
	n := 0
	for _, s := range sites {
		typ := spectest.Type(s.schema)
		if typ != "integer" && typ != "number" && typ != "boolean" || s.required || s.name == "ok" {
			continue
		}
		n++
		if s.typ.Kind() != reflect.Pointer {
			t.Errorf("%s is an optional %s but its Go field is %v: absent and %s read alike", s.path, typ, s.typ, zeroOf(typ))
		}
	}
	if n == 0 {
		t.Fatal("found no optional number or boolean in the spec; the walk or the spec is broken")
	}

	absent := getBody(t, fixtureWith(t, "running", func(m map[string]any) {
		m["progress"] = map[string]any{"message": "m"}
		m["durationMs"] = nil
	}))
	zero := getBody(t, fixtureWith(t, "running", func(m map[string]any) {
		m["progress"] = map[string]any{"step": 0, "totalSteps": 0}
		m["durationMs"] = 0
	}))
	if absent.Progress.Step != nil || absent.Progress.TotalSteps != nil || absent.DurationMs != nil {
		t.Errorf("absent: step %v, totalSteps %v, durationMs %v; want nil", absent.Progress.Step, absent.Progress.TotalSteps, absent.DurationMs)
	}
	if zero.Progress.Step == nil || *zero.Progress.Step != 0 || zero.DurationMs == nil || *zero.DurationMs != 0 {
		t.Errorf("zero: step %v, durationMs %v; want pointers to 0", zero.Progress.Step, zero.DurationMs)
	}
	if _, ok := absent.Duration(); ok {
		t.Error("Duration() reports a duration the API did not send")
	}
}

// TestNumbersAreFloat64: every "type: number" of the spec is a float64 in
// Go (oapi-codegen's default, float32, reads 12345.67 back as
// 12345.669921875). Today's spec has none; the drill's bump 07 adds one.
func TestNumbersAreFloat64(t *testing.T) {
	t.Parallel()
	sites, _ := specSites(t)
	for _, s := range sites {
		if spectest.Type(s.schema) != "number" {
			continue
		}
		typ := s.typ
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Float64 {
			t.Errorf("%s is a number but its Go field is %v, not float64", s.path, s.typ)
		}
	}
}

func zeroOf(typ string) string {
	if typ == "boolean" {
		return "false"
	}
	return "0"
}

// getBody serves body and gets it.
func getBody(t *testing.T, body []byte) *client.Invocation {
	t.Helper()
	c, _ := setup(t, serveJSON(200, body))
	inv, err := c.Invocations.Get(t.Context(), bodyID(t, body))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return inv
}

// TestTimestampsKeepTheirText: the spec types timestamps as plain strings,
// so any text decodes; RFC 3339 and its common variants parse, the rest is
// kept readable, and either is written back as sent.
func TestTimestampsKeepTheirText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text  string
		valid bool
		utc   string // the parsed time in UTC, RFC 3339
	}{
		{"2026-11-27T08:05:00Z", true, "2026-11-27T08:05:00Z"},
		{"2026-11-27T09:05:00.123+01:00", true, "2026-11-27T08:05:00.123Z"},
		{"2026-11-27 08:05:00Z", true, "2026-11-27T08:05:00Z"},
		{"2026-11-27t08:05:00z", true, "2026-11-27T08:05:00Z"},
		{"2026-11-27T09:05:00+0100", true, "2026-11-27T08:05:00Z"},
		{"2026-11-27T08:05:00", true, "2026-11-27T08:05:00Z"},
		{"2016-12-31T23:59:60Z", true, "2017-01-01T00:00:00Z"},
		{"quis nisi", false, ""},
		{"", false, ""},
		{"2026-13-45T99:99:99Z", false, ""},
	} {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			inv := getBody(t, fixtureWith(t, "running", func(m map[string]any) { m["createdAt"] = tt.text }))
			ts := inv.CreatedAt
			if ts.IsZero() || ts.Text() != tt.text || ts.Valid() != tt.valid {
				t.Fatalf("CreatedAt: zero %v, text %q, valid %v; want the text kept, valid %v", ts.IsZero(), ts.Text(), ts.Valid(), tt.valid)
			}
			if tt.valid && ts.UTC().Format("2006-01-02T15:04:05.999999999Z07:00") != tt.utc {
				t.Errorf("CreatedAt = %v, want %s", ts.UTC(), tt.utc)
			}
			for name, marshal := range marshalers {
				b, err := marshal(inv)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				want, _ := json.Marshal(tt.text)
				if !strings.Contains(string(b), `"createdAt":`+string(want)) {
					t.Errorf("%s wrote createdAt differently from %s:\n%s", name, want, b)
				}
			}
		})
	}
}

// TestResultDecodesAsEncodingJSON: DecodeResult and ResultAs match names as
// encoding/json does, as documented; the strict variants refuse a member
// with no field or in another letter case instead of leaving it zero.
func TestResultDecodesAsEncodingJSON(t *testing.T) {
	t.Parallel()
	inv := getBody(t, bodyWithSteps(t, `{"index":0,"call":"http.get","ok":true,`+resolved+`,"result":{"status":200,"url":"https://example.com/"}}`))
	s, ok := inv.Steps()[0].Success()
	if !ok {
		t.Fatal("step 0 is not a success")
	}
	type page struct {
		Status int
		URL    string
	}
	got, err := client.ResultAs[page](s)
	if err != nil || got != (page{200, "https://example.com/"}) {
		t.Errorf("ResultAs = %+v, %v; want the members matched as encoding/json matches them", got, err)
	}
	var std page
	if err := json.Unmarshal(s.Result, &std); err != nil || std != got {
		t.Errorf("encoding/json reads %+v, ResultAs %+v", std, got)
	}
	if _, err := client.ResultAsStrict[page](s); err == nil {
		t.Error("ResultAsStrict accepted members that match no field exactly")
	}
	type exact struct {
		Status int    `json:"status"`
		URL    string `json:"url"`
	}
	if v, err := client.ResultAsStrict[exact](s); err != nil || v.Status != 200 {
		t.Errorf("ResultAsStrict = %+v, %v; want the exact match decoded", v, err)
	}
	type partial struct {
		Status int `json:"status"`
	}
	if err := s.DecodeResultStrict(&partial{}); err == nil || !strings.Contains(err.Error(), "url") {
		t.Errorf("DecodeResultStrict = %v; want an error naming the unknown member url", err)
	}
}

// TestAnswerForAnotherID: a misrouting proxy or cache that answers Get(A)
// with B's body is an invalid response, and a Wait stops on it; a UUID in
// another letter case is the same id.
func TestAnswerForAnotherID(t *testing.T) {
	t.Parallel()
	body := spectest.Fixture(t, "succeeded") // id 2d3e4f5a-...
	fixture := struct{ ID string }{bodyID(t, body)}
	srv := func(h *hits) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			h.record()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set(keepIDHeader, "1")
			w.Write(body)
		}
	}
	h := &hits{}
	c, _ := setup(t, srv(h))
	other := "0b7f3c1e-5a2d-4e8b-9c61-3f2a7d4e8b10"
	if inv, err := c.Invocations.Get(t.Context(), other); !errors.Is(err, client.ErrInvalidResponse) || inv != nil || !strings.Contains(err.Error(), fixture.ID) {
		t.Errorf("Get(%s) answered for %s = %v, %v; want ErrInvalidResponse naming both", other, fixture.ID, inv, err)
	}
	if _, err := c.Invocations.Wait(t.Context(), other); !errors.Is(err, client.ErrInvalidResponse) {
		t.Errorf("Wait = %v; want it to stop on ErrInvalidResponse", err)
	}
	if h.count() != 2 {
		t.Errorf("%d requests, want 2: an answer for another id is not retried", h.count())
	}
	if _, err := c.Invocations.Get(t.Context(), strings.ToUpper(fixture.ID)); err != nil {
		t.Errorf("Get of the same UUID in upper case: %v", err)
	}
}

// TestEmptyArraysStayEmpty: a required array the API sent empty is
// re-encoded empty, not null (which the schema forbids), by both encoders.
func TestEmptyArraysStayEmpty(t *testing.T) {
	t.Parallel()
	inv := getBody(t, fixtureWith(t, "running", func(m map[string]any) {
		m["result"] = map[string]any{"mode": "fail-fast", "ok": true, "runtimeId": m["runtimeId"], "steps": []any{}}
		m["request"].(map[string]any)["steps"] = []any{}
	}))
	if inv.Result.Steps == nil || inv.Request.Steps == nil {
		t.Fatalf("empty arrays decoded as nil: result.steps %v, request.steps %v", inv.Result.Steps == nil, inv.Request.Steps == nil)
	}
	for name, marshal := range marshalers {
		b, err := marshal(inv)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"steps":null`) || strings.Count(string(b), `"steps":[]`) != 2 {
			t.Errorf("%s: %s", name, b)
		}
		if err := spectest.ValidateInvocation(t, 200, nil, b); err != nil {
			t.Errorf("%s: the re-encoded invocation does not validate: %v", name, err)
		}
	}
}

// TestRawValuesAliasTheBody: results, metadata and details are slices of
// the body Raw returns, not copies, and an append to one cannot write into
// the body.
func TestRawValuesAliasTheBody(t *testing.T) {
	t.Parallel()
	inv := getBody(t, spectest.Steps(3, 2))
	raw := inv.Raw()
	s, ok := inv.Steps()[0].Success()
	if !ok || len(s.Result) == 0 {
		t.Fatal("step 0 has no result")
	}
	if !within(raw, s.Result) {
		t.Error("a step's result is a copy, not a slice of Raw()")
	}
	before := string(raw)
	_ = append(s.Result, "xxxxxxxx"...)
	if string(raw) != before {
		t.Error("appending to a result wrote into the body")
	}
}

// marshalers are the two encoders a user may store an invocation with.
var marshalers = map[string]func(any) ([]byte, error){
	"encoding/json": json.Marshal,
	"json v2":       func(v any) ([]byte, error) { return jsonv2.Marshal(v) },
}

func within(outer, inner []byte) bool {
	if len(inner) == 0 || len(outer) == 0 {
		return false
	}
	o0 := reflect.ValueOf(outer).Pointer()
	i0 := reflect.ValueOf(inner).Pointer()
	return i0 >= o0 && i0+uintptr(len(inner)) <= o0+uintptr(len(outer))
}

// TestNullRequiredIntegerIsAnError: a required integer sent as null is a
// spec violation, refused and named, never read as 0.
func TestNullRequiredIntegerIsAnError(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, serveJSON(200, fixtureWith(t, "running", func(m map[string]any) { m["sequenceNo"] = nil })))
	inv, err := c.Invocations.Get(t.Context(), "x")
	if !errors.Is(err, client.ErrInvalidResponse) || inv != nil || !strings.Contains(err.Error(), "/sequenceNo") {
		t.Errorf("Get = %v, %v; want ErrInvalidResponse naming /sequenceNo", inv, err)
	}
	// An optional one (a pointer) reads null as absent.
	if inv := getBody(t, fixtureWith(t, "running", func(m map[string]any) { m["durationMs"] = nil })); inv.DurationMs != nil {
		t.Errorf("durationMs null = %v, want nil", *inv.DurationMs)
	}
}
