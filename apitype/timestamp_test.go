package apitype_test

import (
	"encoding/json"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/bctrlhq/sdk-go/apitype"
)

func TestTimestampJSON(t *testing.T) {
	t.Parallel()
	type doc struct {
		At apitype.Timestamp `json:"at,omitzero"`
	}
	for _, tt := range []struct {
		in, out string // out: what both encoders write back
		zero    bool
		valid   bool
	}{
		{in: `{"at":"2026-11-27T08:05:00.5+01:00"}`, out: `{"at":"2026-11-27T08:05:00.5+01:00"}`, valid: true},
		{in: `{"at":"2026-11-27 08:05:00Z"}`, out: `{"at":"2026-11-27 08:05:00Z"}`, valid: true},
		{in: `{"at":"soon"}`, out: `{"at":"soon"}`},
		{in: `{"at":""}`, out: `{"at":""}`},
		{in: `{"at":null}`, out: `{}`, zero: true},
		{in: `{}`, out: `{}`, zero: true},
	} {
		for name, dec := range map[string]func([]byte, any) error{
			"encoding/json": json.Unmarshal,
			"json v2":       func(b []byte, v any) error { return jsonv2.Unmarshal(b, v) },
		} {
			var d doc
			if err := dec([]byte(tt.in), &d); err != nil {
				t.Fatalf("%s %s: %v", name, tt.in, err)
			}
			if d.At.IsZero() != tt.zero || d.At.Valid() != tt.valid {
				t.Errorf("%s %s: zero %v valid %v; want %v, %v", name, tt.in, d.At.IsZero(), d.At.Valid(), tt.zero, tt.valid)
			}
			for ename, enc := range map[string]func(any) ([]byte, error){
				"encoding/json": json.Marshal,
				"json v2":       func(v any) ([]byte, error) { return jsonv2.Marshal(v) },
			} {
				b, err := enc(d)
				if err != nil || string(b) != tt.out {
					t.Errorf("%s then %s of %s = %s, %v; want %s", name, ename, tt.in, b, err, tt.out)
				}
			}
		}
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"at":17}`), &d); err == nil {
		t.Error("a number decoded as a timestamp")
	}
	if err := jsonv2.Unmarshal([]byte(`{"at":{"a":1}}`), &d); err == nil {
		t.Error("an object decoded as a timestamp")
	}
}

func TestTimestampChangedTimeIsWritten(t *testing.T) {
	t.Parallel()
	ts := apitype.Parse("2026-11-27 08:05:00Z")
	ts.Time = ts.Add(time.Hour)
	b, err := json.Marshal(ts)
	if err != nil || string(b) != `"2026-11-27T09:05:00Z"` {
		t.Errorf("a changed time is written as %s, %v; want the new time, not the old text", b, err)
	}
	at := apitype.At(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	if b, _ := json.Marshal(at); string(b) != `"2026-01-02T03:04:05.000000006Z"` || !at.Valid() || at.Text() != "" {
		t.Errorf("At: %s valid %v text %q", b, at.Valid(), at.Text())
	}
}

func TestTimestampEqual(t *testing.T) {
	t.Parallel()
	a := apitype.Parse("2026-11-27T09:05:00+01:00")
	b := apitype.Parse("2026-11-27T08:05:00Z")
	if !a.Equal(b) || a.Equal(apitype.Parse("soon")) || !apitype.Parse("soon").Equal(apitype.Parse("soon")) ||
		(apitype.Timestamp{}).Equal(apitype.Parse("")) || !(apitype.Timestamp{}).Equal(apitype.Timestamp{}) {
		t.Error("Equal: same instant, same unparsable text and zero must compare equal, nothing else")
	}
	if s := apitype.Parse("soon").String(); s != "soon" {
		t.Errorf("String() of unparsable text = %q", s)
	}
}
