package main

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// quoteKey is a key with a double quote: Go-quoted (as cobra and %q print
// arguments) it becomes sk-live-\"quoted\"-..., which the CLI's old
// redactor, plain and path-escaped forms only, let through.
const quoteKey = `sk-live-"quoted"-SECRET-5678`

// keyForms are the ways quoteKey can appear in output.
func keyForms(key string) []string {
	js, _ := json.Marshal(key)
	return []string{key, strconv.Quote(key), string(js[1 : len(js)-1]), url.PathEscape(key), url.QueryEscape(key)}
}

// TestKeyWithAQuoteNeverPrinted pastes such a key where cobra, the CLI and
// the server echo arguments, and where the client cannot be built: no form
// of the key may be printed.
func TestKeyWithAQuoteNeverPrinted(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	byEnv := []string{"BCTRL_BASE_URL=" + srv.URL, "BCTRL_API_KEY=" + quoteKey}
	byFlag := []string{"BCTRL_BASE_URL=" + srv.URL}
	for _, run := range []struct {
		env  []string
		args []string
	}{
		{byEnv, []string{"invocations", quoteKey}},                                                    // cobra: unknown command %q
		{byFlag, []string{"--api-key", quoteKey, "invocations", quoteKey}},                            // the same, key by flag
		{byFlag, []string{quoteKey, "--api-key", quoteKey}},                                           // before cobra parsed the flag
		{byEnv, []string{"invocations", "get", "x", "-o", quoteKey}},                                  // the CLI: invalid --output %q
		{byEnv, []string{"invocations", "get", quoteKey}},                                             // the server echoes the id
		{byEnv, []string{"invocations", "get", quoteKey, "-o", "json"}},                               // the same, as JSON
		{byEnv, []string{"--base-url", "https://example.com/" + quoteKey, "invocations", "get", "x"}}, // no client: New fails
		{byEnv, []string{"--base-url", "http://example.com/" + quoteKey, "invocations", "get", "x"}},  // no client: plain http
		{byEnv, []string{"--debug", "invocations", "get", quoteKey}},
	} {
		r := runCLI(t, run.env, run.args...)
		if r.code == exitOK {
			t.Errorf("bctrl %q: exit code 0", run.args)
		}
		for _, form := range keyForms(quoteKey) {
			if strings.Contains(r.stdout+r.stderr, form) {
				t.Errorf("bctrl %q printed the key as %s:\nstdout:\n%s\nstderr:\n%s", run.args, form, r.stdout, r.stderr)
			}
		}
		if !strings.Contains(r.stdout+r.stderr, "[redacted]") {
			t.Errorf("bctrl %q: nothing redacted (did the key reach the output?):\n%s%s", run.args, r.stdout, r.stderr)
		}
	}
}

func TestKeyScrubber(t *testing.T) {
	t.Parallel()
	scrub := func(key, s string) string {
		for _, f := range keyScrubber(key) {
			s = f(s)
		}
		return s
	}
	if got := scrub(quoteKey, "a "+strconv.Quote(quoteKey)+" b"); got != `a "[redacted]" b` {
		t.Errorf("Go-quoted: %q", got)
	}
	// The SDK refuses a key with a line break: each line is scrubbed.
	const twoLines = "first-line-1234\nsecond-line-5678"
	if got := scrub(twoLines, "x first-line-1234\\nsecond-line-5678 y"); got != `x [redacted]\n[redacted] y` {
		t.Errorf("two lines: %q", got)
	}
	if fns := keyScrubber("ab\ncd"); len(fns) != 0 {
		t.Errorf("short lines are scrubbed: %d scrubbers", len(fns))
	}
}

func TestAPIKeysInArgs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ args, want []string }{
		{[]string{"--api-key", "a", "x", "--api-key=b"}, []string{"a", "b"}},
		{[]string{"--api-key", "--", "--api-key", "c"}, []string{"--", "c"}}, // as pflag reads it
		{[]string{"--api-key=a", "--", "--api-key", "b"}, []string{"a"}},
		{[]string{"--api-key"}, nil},
	} {
		if got := apiKeysInArgs(tt.args); !slices.Equal(got, tt.want) {
			t.Errorf("apiKeysInArgs(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
