package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRedactorForms checks that every form the key takes in text the SDK
// passes on is removed: as is, escaped in a URL path or query, inside a
// JSON string, and in a JSON pointer, the form json v2 errors name a
// member by.
func TestRedactorForms(t *testing.T) {
	t.Parallel()
	const key = `sk/live~x y"q+1`
	jsonForm, _ := json.Marshal(key)
	forms := map[string]string{
		"plain":        key,
		"path escaped": url.PathEscape(key),
		"query":        url.QueryEscape(key),
		"JSON string":  string(jsonForm[1 : len(jsonForm)-1]),
		"JSON pointer": strings.NewReplacer("~", "~0", "/", "~1").Replace(key),
	}
	r := newRedactor(key)
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := "before " + form + " after"
			if got := r.str(in); got != "before "+redacted+" after" {
				t.Errorf("str(%q) = %q", in, got)
			}
			if got := string(r.bytes([]byte(in))); got != "before "+redacted+" after" {
				t.Errorf("bytes(%q) = %q", in, got)
			}
			h := r.header(http.Header{"X-Request-Id": {form}})
			if got := h.Get("X-Request-Id"); got != redacted {
				t.Errorf("header value = %q", got)
			}
			err := r.err(errors.New(in))
			if strings.Contains(err.Error(), form) || errors.Unwrap(err) == nil {
				t.Errorf("err = %q, unwraps to %v", err, errors.Unwrap(err))
			}
		})
	}
}

// TestRedactorScrubsBeforeCutting puts the key across the cut: cutting
// first would leave its first bytes in the text.
func TestRedactorScrubsBeforeCutting(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	in := strings.Repeat("a", 20) + key
	got := r.text(in, 30)
	if strings.Contains(got, key[:10]) {
		t.Errorf("text(%q, 30) = %q keeps part of the key", in, got)
	}
	if want := strings.Repeat("a", 20) + redacted; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
}

// TestRedactorNoKey leaves text alone when there is no key.
func TestRedactorNoKey(t *testing.T) {
	t.Parallel()
	if got := newRedactor("").str("anything"); got != "anything" {
		t.Errorf("str = %q", got)
	}
}
