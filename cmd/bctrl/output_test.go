package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, text, layout string
	}{
		{"plain text, é, 日本", "plain text, é, 日本", "plain text, é, 日本"},
		{"\x1b]0;title\x07", `\x1b]0;title\x07`, `\x1b]0;title\x07`},
		{"\x1b[2J\x1b[31mred", `\x1b[2J\x1b[31mred`, `\x1b[2J\x1b[31mred`},
		{"a\nb\tc\rd", `a\nb\tc\rd`, "a\nb\tc\\rd"},
		{"\x00\x7f", `\x00\x7f`, `\x00\x7f`},
		{"C1 \u009b2J \u0085", `C1 \u009b2J \u0085`, `C1 \u009b2J \u0085`},
		{"bidi \u202a\u202b\u202c\u202d\u202e \u2066\u2067\u2068\u2069 \u200e\u200f\u061c", `bidi \u202a\u202b\u202c\u202d\u202e \u2066\u2067\u2068\u2069 \u200e\u200f\u061c`, `bidi \u202a\u202b\u202c\u202d\u202e \u2066\u2067\u2068\u2069 \u200e\u200f\u061c`},
		{"line\u2028para\u2029", `line\u2028para\u2029`, `line\u2028para\u2029`},
		{"invalid \x9b\xff bytes", `invalid \x9b\xff bytes`, `invalid \x9b\xff bytes`},
		{`a backslash \x1b stays`, `a backslash \x1b stays`, `a backslash \x1b stays`},
	} {
		if got := escapeText(tt.in, false); got != tt.text {
			t.Errorf("escapeText(%q, false) = %q, want %q", tt.in, got, tt.text)
		}
		if got := escapeText(tt.in, true); got != tt.layout {
			t.Errorf("escapeText(%q, true) = %q, want %q", tt.in, got, tt.layout)
		}
		for _, layout := range []bool{false, true} {
			once := escapeText(tt.in, layout)
			if twice := escapeText(once, layout); twice != once {
				t.Errorf("escapeText is not idempotent on %q: %q then %q", tt.in, once, twice)
			}
		}
	}
}

func TestEscapeJSON(t *testing.T) {
	t.Parallel()
	value := "A\x1b]0;t\x07 C1 \u009b bidi \u202e sep \u2028 del \x7f end"
	doc, err := json.MarshalIndent(map[string]any{"s": value, "list": []string{value}}, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	doc = append(doc, '\n')
	got := escapeJSON(string(doc))
	for _, r := range got {
		if jsonUnsafe(r) {
			t.Fatalf("escapeJSON left %U raw:\n%s", r, got)
		}
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("not JSON any more: %v\n%s", err, got)
	}
	if v["s"] != value {
		t.Errorf("decodes to %q, want %q", v["s"], value)
	}
	if !strings.Contains(got, `\u009b`) || !strings.Contains(got, `\u202e`) || !strings.Contains(got, "\n\t") {
		t.Errorf("escapes or layout missing:\n%s", got)
	}
	if got := escapeJSON("\"\xff\""); got != `"\ufffd"` {
		t.Errorf("invalid byte: %q", got)
	}
}

// TestTermOutWrite checks the writer the rest of the CLI (cobra, slog,
// tables) writes through: controls escaped but newline and tab, a rune cut
// between two writes kept whole, the key scrubbed.
func TestTermOutWrite(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	o := newTermOut(&buf)
	o.scrub = func(s string) string { return strings.ReplaceAll(s, "KEY-12345678", "[redacted]") }
	bidi := []byte("\u202e")
	for _, p := range [][]byte{
		[]byte("a\tb\n\x1b[2J"), bidi[:1], bidi[1:], []byte("é"[:1]), []byte("é"[1:] + " KEY-12345678\n"),
	} {
		if n, err := o.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	o.Write([]byte("\xe2\x80")) // cut at the end: flush writes it escaped
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	if want := "a\tb\n\\x1b[2J\\u202eé [redacted]\n\\xe2\\x80"; buf.String() != want {
		t.Errorf("wrote %q, want %q", buf.String(), want)
	}
}

func TestTermOutPrintf(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	o := newTermOut(&buf)
	o.scrub = func(s string) string { return strings.ReplaceAll(s, `KEY"1234567`, "[redacted]") }
	o.printf("%s|%-6s|%d|%v|%q\n", "a\nb", "\x1b", 42, errors.New("e\tf"), `KEY"1234567`)
	if want := "a\\nb|\\x1b     |42|e\\tf|\"[redacted]\"\n"; buf.String() != want {
		t.Errorf("printf wrote %q, want %q", buf.String(), want)
	}
	if got := o.sprintf("%s", "\u202e"); got != `\u202e` {
		t.Errorf("sprintf = %q", got)
	}
}

// errWriter fails every write.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestTermOutRemembersTheWriteError(t *testing.T) {
	t.Parallel()
	full := errors.New("no space left on device")
	o := newTermOut(errWriter{full})
	o.printf("x\n")
	if err := o.writeJSON([]byte("{}\n")); err != nil {
		t.Errorf("writeJSON: %v; want the error for flush only", err)
	}
	if err := o.flush(); !errors.Is(err, full) {
		t.Errorf("flush = %v, want %v", err, full)
	}
}

func TestPartialRuneAt(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "a", "é", "日本", "\U0001F600"} {
		b := []byte("x" + s)
		for cut := 1; cut <= len(b); cut++ {
			p := b[:cut]
			at := partialRuneAt(p)
			if !utf8.Valid(p[:at]) || at < len(p) && utf8.FullRune(p[at:]) {
				t.Errorf("partialRuneAt(%q) = %d", p, at)
			}
		}
	}
	if got := partialRuneAt([]byte("a\xff")); got != 2 {
		t.Errorf("an invalid byte is not held: %d", got)
	}
}
