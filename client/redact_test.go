package client

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRedactorForms checks that the key is found however one layer of
// escaping wrote it: as is, escaped in a URL path or query (also byte by
// byte, in either case of hex), inside a JSON string (also \u-escaped
// byte by byte, or its first letter alone), Go-quoted, and in a JSON
// pointer, the form json v2 errors name a member by.
func TestRedactorForms(t *testing.T) {
	t.Parallel()
	for _, key := range []string{`sk/live~x y"q+1-0123`, "sk-live-0123456789abcdef", "sk-é-clé-🔑-0123"} {
		jsonForm, _ := json.Marshal(key)
		var pctUpper, pctLower, uni strings.Builder
		for i := range len(key) {
			pctUpper.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(key[i])|0x100, 16)[1:]))
			pctLower.WriteString("%" + strconv.FormatUint(uint64(key[i])|0x100, 16)[1:])
		}
		for _, r := range key {
			if r > 0xFFFF {
				r1, r2 := surrogates(r)
				uni.WriteString(`\u` + hex4(r1) + `\u` + hex4(r2))
				continue
			}
			uni.WriteString(`\u` + hex4(r))
		}
		forms := map[string]string{
			"plain":                    key,
			"path escaped":             url.PathEscape(key),
			"query":                    url.QueryEscape(key),
			"percent-encoded per byte": pctUpper.String(),
			"lowercase hex":            pctLower.String(),
			"JSON string":              string(jsonForm[1 : len(jsonForm)-1]),
			"JSON \\u per rune":        uni.String(),
			"first letter \\u":         `\u0073` + string(jsonForm[2:len(jsonForm)-1]),
			"Go-quoted":                strconv.Quote(key)[1 : len(strconv.Quote(key))-1],
			"Go-quoted ASCII":          strconv.QuoteToASCII(key)[1 : len(strconv.QuoteToASCII(key))-1],
			"JSON pointer":             strings.NewReplacer("~", "~0", "/", "~1").Replace(key),
			"Go \\x per byte":          goHex(key),
		}
		r := newRedactor(key)
		for name, form := range forms {
			t.Run(key+"/"+name, func(t *testing.T) {
				t.Parallel()
				in := "before " + form + " after"
				want := "before " + redacted + " after"
				if got := r.str(in); got != want {
					t.Errorf("str(%q) = %q", in, got)
				}
				if got := string(r.textBytes([]byte(in), 1<<10)); got != want {
					t.Errorf("textBytes(%q) = %q", in, got)
				}
				h := r.header(http.Header{"X-Request-Id": {form}})
				if got := h.Get("X-Request-Id"); got != redacted {
					t.Errorf("header value = %q", got)
				}
			})
		}
	}
}

func hex4(r rune) string { return strconv.FormatUint(uint64(r)|0x10000, 16)[1:] }

func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

func goHex(s string) string {
	var b strings.Builder
	for i := range len(s) {
		b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
	}
	return b.String()
}

// TestRedactorHeaderNames checks that a header name holding the key is
// scrubbed, whatever case net/http gave it, and that names that scrub to
// the same keep their values.
func TestRedactorHeaderNames(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	in := http.Header{
		http.CanonicalHeaderKey("x-" + key): {"1"},
		"X-" + strings.ToUpper(key):         {"2"},
		"X-Request-Id":                      {"req-1"},
	}
	got := r.header(in)
	want := http.Header{"X-[redacted]": {"1", "2"}, "X-Request-Id": {"req-1"}}
	for _, vs := range got {
		slicesSort(vs)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestRedactorScrubsBeforeCutting puts the key across the cut: cutting
// first would leave its first bytes in the text. It also puts the key,
// escaped, across the first cut a long text gets before scrubbing, after
// keys that scrubbing shortens (so that the cut's remains would move
// below n).
func TestRedactorScrubsBeforeCutting(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"key across the cut", strings.Repeat("a", 20) + key, 30, strings.Repeat("a", 20) + redacted},
		{"key after the cut", strings.Repeat("a", 40) + key, 30, strings.Repeat("a", 30) + "…[truncated]"},
		{"short text", "a " + key, 30, "a " + redacted},
	}
	// Ten escaped keys (each 144 bytes, scrubbed to 10), then an escaped
	// key cut at n + slack: its start would land below n.
	esc := unicodeAll(key)
	long := strings.Repeat(esc, 10)
	n := len(long) + 5
	cutAt := n + r.slack()
	tail := strings.Repeat("b", cutAt-len(long)-len(esc)/2) + esc + strings.Repeat("c", 100)
	tests = append(tests, struct {
		name string
		in   string
		n    int
		want string
	}{"escaped key across the first cut", long + tail, n, ""})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.text(tt.in, tt.n)
			if strings.Contains(got, key[:6]) || strings.Contains(got, `\u0073\u006b`) {
				t.Errorf("text(%q, %d) = %q keeps part of the key", tt.in, tt.n, got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
			if len(got) > tt.n+len("…[truncated]") {
				t.Errorf("text is %d bytes; want at most %d and the mark", len(got), tt.n)
			}
		})
	}
}

func unicodeAll(s string) string {
	var b strings.Builder
	for i := range len(s) {
		b.WriteString(`\u` + hex4(rune(s[i])))
	}
	return b.String()
}

// TestRedactorShortKey leaves text alone when there is no key, or a key
// too short to be one.
func TestRedactorShortKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "k", "1234567"} {
		if got := newRedactor(key).str("key: k 1234567"); got != "key: k 1234567" {
			t.Errorf("newRedactor(%q).str = %q", key, got)
		}
	}
	var nilR *redactor
	if got := nilR.text("abc", 2); got != "ab…[truncated]" {
		t.Errorf("nil redactor text = %q", got)
	}
}

// TestRedactorCost bounds what a hostile text costs: a 10 MiB text made
// of near-matches of the key (each escape a branch) is capped in time
// proportional to the cap, not to its length.
func TestRedactorCost(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdef"
	r := newRedactor(key)
	near := `\u0073k-live-0123456789abcde` // one byte short
	hostile := strings.Repeat(near, (10<<20)/len(near))
	start := time.Now()
	got := r.text(hostile, maxErrorString)
	if d := time.Since(start); d > time.Second {
		t.Errorf("text of 10 MiB took %v", d)
	}
	if len(got) > maxErrorString+len("…[truncated]") {
		t.Errorf("text is %d bytes", len(got))
	}
	start = time.Now()
	r.str(hostile)
	t.Logf("scrubbing 10 MiB of near-matches whole: %v", time.Since(start))
}
