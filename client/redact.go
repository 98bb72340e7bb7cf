package client

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// redactor removes the API key from text that came from a server or from
// the caller before it goes into an error, a log record, a span or a
// ResponseInfo, and caps that text: a hostile server may reflect the key
// (plainly or escaped) or send megabytes. New builds one per client, with
// every form the key may take in such text.
type redactor struct{ forms []string }

// newRedactor returns the redactor for key: the key as is, escaped in a
// URL path or query, in a JSON string, and in a JSON pointer (json v2
// errors name a member by its pointer).
func newRedactor(key string) redactor {
	if key == "" {
		return redactor{}
	}
	forms := []string{key}
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	add(url.PathEscape(key))
	add(url.QueryEscape(key))
	if b, err := json.Marshal(key); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	add(strings.NewReplacer("~", "~0", "/", "~1").Replace(key))
	return redactor{forms: forms}
}

// bytes returns b with every form of the key replaced by "[redacted]".
func (r redactor) bytes(b []byte) []byte {
	for _, form := range r.forms {
		if bytes.Contains(b, []byte(form)) {
			b = bytes.ReplaceAll(b, []byte(form), []byte(redacted))
		}
	}
	return b
}

// str is bytes for a string.
func (r redactor) str(s string) string {
	for _, form := range r.forms {
		if strings.Contains(s, form) {
			s = strings.ReplaceAll(s, form, redacted)
		}
	}
	return s
}

// text scrubs s and then cuts it to n bytes: in that order, so that no
// part of the key survives at the cut.
func (r redactor) text(s string, n int) string { return capString(r.str(s), n) }

// header copies h keeping at most maxErrorHeader fields of at most 8
// values, each scrubbed and cut to maxErrorString bytes.
func (r redactor) header(h http.Header) http.Header {
	out := make(http.Header, min(len(h), maxErrorHeader))
	for k, vs := range h {
		if len(out) == maxErrorHeader {
			break
		}
		vs = vs[:min(len(vs), 8)]
		cp := make([]string, len(vs))
		for i, v := range vs {
			cp[i] = r.text(v, maxErrorString)
		}
		out[k] = cp
	}
	return out
}

// err returns err with its message scrubbed and capped. When the message
// has to change, the result still unwraps to err, so errors.Is and
// errors.As keep working.
func (r redactor) err(err error) error {
	msg := err.Error()
	if clean := r.text(msg, maxErrorString); clean != msg {
		return &rewordedError{msg: clean, err: err}
	}
	return err
}

// rewordedError is an error whose message was scrubbed or capped; it keeps
// the original as its cause for errors.Is and errors.As only.
type rewordedError struct {
	msg string
	err error
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }

// capString cuts s to at most n bytes, at a rune boundary, marking the cut.
func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[truncated]"
}

// Scrub returns s with every form of the client's API key (plain, URL-,
// JSON- and pointer-escaped) replaced by "[redacted]". The SDK scrubs
// everything it returns already; Scrub is for text a program builds itself
// from other sources (its own arguments, a server's strings it prints), so
// that a CLI or a log pipeline uses the same rules as the SDK.
func (c *Client) Scrub(s string) string { return c.redact.str(s) }
