// Package apitype holds the few Go types that the bctrl API's model needs
// beyond what Go's standard library has. oapi-codegen.overlay.yaml maps
// spec properties onto them, so the generated types in package gen use them
// directly; package client re-exports each under the same name
// (client.Timestamp). The package imports nothing of the module's own, so
// the arrows stay one way: apitype <- gen <- client.
package apitype

import (
	"encoding/json"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Timestamp is a point in time the API sends as a JSON string. The spec
// types the invocation's timestamps as plain strings, so any text is a
// valid value: Timestamp parses RFC 3339 and its common variants into the
// embedded time.Time, and keeps the text as sent, so a value it cannot
// parse is still readable (Text) and is written back unchanged.
//
// The embedded time.Time gives every time method (Before, Sub, Format...).
// IsZero reports whether the API sent a value at all: an unparsable text is
// not zero, and its Time is the zero time; Valid reports whether Time holds
// the value.
//
// Accepted spellings, besides RFC 3339 ("2006-01-02T15:04:05.999999999Z07:00"):
// a space instead of the "T", lower-case "t" and "z", an offset without a
// colon ("+0100"), no offset at all (read as UTC), and a leap second
// (":60", read as the first instant of the next minute).
type Timestamp struct {
	time.Time

	text   string // the JSON string as sent, unescaped
	sent   bool   // decoded from a JSON string (text may be "")
	parsed bool   // text parsed into Time
}

// At returns a Timestamp holding t, as a program builds one; it is written
// as RFC 3339 with nanoseconds.
func At(t time.Time) Timestamp { return Timestamp{Time: t} }

// Parse returns a Timestamp for text as the API would send it: parsed when
// it is one of the accepted spellings, kept as text either way.
func Parse(text string) Timestamp {
	ts := Timestamp{text: text, sent: true}
	ts.Time, ts.parsed = parseTime(text)
	return ts
}

// Text returns the timestamp's text as the API sent it, or "" for a value
// that was null, absent or built from a time.Time.
func (t Timestamp) Text() string { return t.text }

// Valid reports whether Time holds the timestamp: it was parsed from the
// API's text, or built from a non-zero time.Time.
func (t Timestamp) Valid() bool {
	if t.sent {
		return t.parsed
	}
	return !t.Time.IsZero()
}

// IsZero reports whether there is no timestamp at all: the API sent null or
// nothing, and no time was set. A text that does not parse is not zero.
func (t Timestamp) IsZero() bool { return !t.sent && t.Time.IsZero() }

// Equal reports whether t and u are the same timestamp: both zero, both
// holding the same instant (whatever their text or location), or both the
// same unparsable text. It shadows time.Time's Equal (use t.Time.Equal to
// compare with a time.Time), so that go-cmp and similar tools compare
// Timestamps by value.
func (t Timestamp) Equal(u Timestamp) bool {
	switch {
	case t.IsZero() || u.IsZero():
		return t.IsZero() == u.IsZero()
	case t.Valid() && u.Valid():
		return t.Time.Equal(u.Time)
	case t.Valid() || u.Valid():
		return false
	}
	return t.text == u.text
}

// String returns the time in time.Time's format, or the API's text when it
// did not parse.
func (t Timestamp) String() string {
	if t.sent && !t.parsed {
		return t.text
	}
	return t.Time.String()
}

// keepsText reports whether t is written back as the text it was decoded
// from: always when the text did not parse, and when it did, as long as
// Time has not been changed since.
func (t Timestamp) keepsText() bool {
	if !t.sent {
		return false
	}
	if !t.parsed {
		return true
	}
	p, _ := parseTime(t.text)
	return p.Equal(t.Time)
}

// MarshalText writes the text as it was decoded, or the time in RFC 3339
// with nanoseconds.
func (t Timestamp) MarshalText() ([]byte, error) {
	if t.keepsText() {
		return []byte(t.text), nil
	}
	return t.Time.MarshalText()
}

// UnmarshalText keeps text and parses it when it can; it never fails.
func (t *Timestamp) UnmarshalText(text []byte) error {
	*t = Parse(string(text))
	return nil
}

// MarshalJSON writes the timestamp as a JSON string (null for a zero one).
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b, err := t.MarshalText()
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON reads a JSON string (any text) or null (a zero Timestamp).
// Any other JSON value is an error.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	v := jsontext.Value(b)
	switch v.Kind() {
	case 'n':
		*t = Timestamp{}
		return nil
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Parse(s)
		return nil
	}
	return &kindError{kind: v.Kind()}
}

// MarshalJSONTo is MarshalJSON for JSON v2 encoders.
func (t Timestamp) MarshalJSONTo(enc *jsontext.Encoder) error {
	if t.IsZero() {
		return enc.WriteToken(jsontext.Null)
	}
	b, err := t.MarshalText()
	if err != nil {
		return err
	}
	return enc.WriteToken(jsontext.String(string(b)))
}

// UnmarshalJSONFrom is UnmarshalJSON for JSON v2 decoders: one token read,
// no copy of the value beyond its text.
func (t *Timestamp) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case 'n', '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if k == 'n' {
			*t = Timestamp{}
			return nil
		}
		*t = Parse(tok.String())
		return nil
	default:
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return &kindError{kind: k}
	}
}

type kindError struct{ kind jsontext.Kind }

func (e *kindError) Error() string {
	return "timestamp is a JSON " + kindName(e.kind) + ", not a string"
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "object"
	case '[':
		return "array"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	}
	return "value"
}

// parseTime parses RFC 3339 and the variants Timestamp documents.
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if len(s) < len("2006-01-02T15:04:05") || len(s) > 64 {
		return time.Time{}, false
	}
	u := []byte(s)
	if u[10] == ' ' || u[10] == 't' {
		u[10] = 'T'
	}
	if u[len(u)-1] == 'z' {
		u[len(u)-1] = 'Z'
	}
	leap := false
	if u[17] == '6' && u[18] == '0' { // 23:59:60, a leap second
		u[17], u[18] = '5', '9'
		leap = true
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, string(u)); err == nil {
			if leap {
				t = t.Add(time.Second)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// layouts are the variants tried after RFC 3339, on text whose separator
// and zone letter are already upper-cased. A layout without a zone reads
// the time as UTC.
var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
}
