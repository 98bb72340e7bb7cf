package client

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestUpperCasedKeyScrubbed: an echo of the key in another letter case
// (a server that upper-cases what it quotes; a hex key is recoverable from
// it) is scrubbed wherever the key is, not only detected: Scrub, error
// text, headers, bodies and a link the boundary replaces.
func TestUpperCasedKeyScrubbed(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	for _, form := range []string{strings.ToUpper(key), "Sk-Live-0123456789ABCDEF", `\u0053K-LIVE-0123456789ABCDEF`, "%53K-LIVE-0123456789abcdef"} {
		in := "echo: " + form + " done"
		want := "echo: " + redacted + " done"
		if got := r.str(in); got != want {
			t.Errorf("str(%q) = %q; want %q", in, got, want)
		}
		if got := r.text(in, 1024); got != want {
			t.Errorf("text(%q) = %q; want %q", in, got, want)
		}
		if got := string(r.textBytes([]byte(in), 1024)); got != want {
			t.Errorf("textBytes(%q) = %q; want %q", in, got, want)
		}
		if got := r.header(map[string][]string{"X-Echo": {in}})["X-Echo"]; len(got) != 1 || got[0] != want {
			t.Errorf("header value %q = %q; want %q", in, got, want)
		}
		err := r.err(fmt.Errorf("proxy: %s: %w", in, errors.ErrUnsupported))
		if s := fmt.Sprintf("%v %+v %#v", err, err, err); strings.Contains(strings.ToLower(s), strings.ToLower(key)) ||
			strings.Contains(strings.ToLower(s), key[1:]) {
			t.Errorf("boundary(%q) = %s; want the key scrubbed", in, s)
		}
	}
}
