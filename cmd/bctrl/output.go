package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The CLI's output boundary. Text that came from a server or from an
// argument (an error message, a step's call or hint, a status, an id) must
// not reach the terminal with control characters in it: ESC and its
// sequences can retitle, clear or hide the user's terminal, C1 controls do
// the same on some terminals, and bidi overrides reorder what is shown.
// Nor may it carry the API key. Instead of a clean() at each print, every
// byte the CLI writes goes through a termOut, which scrubs the key (with
// the SDK's rules) and escapes what is unsafe, visibly:
//
//   - printf takes a literal format (a constant: a server's text cannot be
//     the format) and escapes every argument completely, newlines and tabs
//     included, so an argument cannot forge a line or a table column;
//   - Write (the io.Writer that cobra, tabwriter and slog use) escapes
//     every control character but newline and tab: even a path that forgot
//     printf cannot send an escape sequence;
//   - writeJSON escapes what is unsafe as JSON escapes (\u001b, \u202e),
//     so the output stays valid JSON and decodes to the same value.
//
// The one exception is the progress bar's drawing (drawer), which needs
// its own escape sequences; the text it is given is built with sprintf.
// A termOut also remembers the first write error, so that a full disk or
// a closed file on stdout makes the command fail (exitOutput).

// literal is text the CLI wrote itself: a format or a label. An untyped
// string constant converts to it implicitly; a string variable does not,
// so a server's text cannot become a format by mistake.
type literal string

// termOut is where the CLI writes: stdout or stderr. Its methods are safe
// for concurrent use.
type termOut struct {
	w     io.Writer
	scrub func(string) string // removes the API key; nil removes nothing

	mu      sync.Mutex
	err     error  // the first write error
	pending []byte // the start of a rune cut at the end of the last Write
}

func newTermOut(w io.Writer) *termOut { return &termOut{w: w} }

// printf formats like fmt.Printf, with every argument scrubbed and
// escaped completely (newlines and tabs too). Width and flags apply before
// escaping; "*" widths are not supported (the width would be escaped).
func (o *termOut) printf(format literal, args ...any) {
	o.Write([]byte(o.sprintf(format, args...)))
}

// sprintf is printf into a string, for text handed to something that
// prints it later (the progress bar's description, a table cell).
func (o *termOut) sprintf(format literal, args ...any) string {
	safe := make([]any, len(args))
	for i, a := range args {
		safe[i] = escapedArg{o, a}
	}
	return fmt.Sprintf(string(format), safe...)
}

// text returns s scrubbed and escaped completely: what printf makes of an
// argument.
func (o *termOut) text(s string) string { return escapeText(o.scrubbed(s), false) }

func (o *termOut) scrubbed(s string) string {
	if o.scrub == nil {
		return s
	}
	return o.scrub(s)
}

// escapedArg formats its value with the verb and flags it was given, then
// scrubs and escapes the result.
type escapedArg struct {
	o *termOut
	v any
}

func (e escapedArg) Format(f fmt.State, verb rune) {
	v := e.v
	if verb == 's' || verb == 'v' || verb == 'q' {
		// Scrub text before formatting too: %q would otherwise turn the
		// key into a form (Go-quoted) that scrubbing may not know.
		v = e.o.textValue(v)
	}
	io.WriteString(f, e.o.text(fmt.Sprintf(fmt.FormatString(f, verb), v)))
}

// textValue returns v's text, scrubbed, if v is a string, an error or a
// Stringer, and v otherwise.
func (o *termOut) textValue(v any) any {
	switch x := v.(type) {
	case string:
		return o.scrubbed(x)
	case error:
		return o.scrubbed(x.Error())
	case fmt.Stringer:
		return o.scrubbed(x.String())
	}
	return v
}

// Write writes p as text: scrubbed, with every control character but
// newline and tab escaped. A rune cut at the end of p is held until the
// next Write or flush. Write reports the first write error of the
// underlying writer, then and for every later call.
func (o *termOut) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := append(o.pending, p...)
	o.pending = nil
	if cut := partialRuneAt(b); cut < len(b) {
		o.pending = append([]byte(nil), b[cut:]...)
		b = b[:cut]
	}
	if err := o.writeLocked([]byte(escapeText(o.scrubbed(string(b)), true))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeJSON writes b, a JSON document, scrubbed and with unsafe runes
// written as JSON escapes. If scrubbing the key would break the document
// (a key that spans JSON syntax), nothing is written and an error says so.
// A write error is not returned: like Write's, it is remembered for run,
// which reports it once.
func (o *termOut) writeJSON(b []byte) error {
	s := o.scrubbed(string(b))
	if s != string(b) && !json.Valid([]byte(s)) && json.Valid(b) {
		return errors.New("the JSON holds the API key where it cannot be redacted; not printed")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writeLocked([]byte(escapeJSON(s)))
	return nil
}

func (o *termOut) writeLocked(b []byte) error {
	if o.err != nil {
		return o.err
	}
	if _, err := o.w.Write(b); err != nil {
		o.err = err
		return err
	}
	return nil
}

// flush writes a rune still held by Write, escaped as the invalid bytes it
// is, and returns the first write error.
func (o *termOut) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.pending) > 0 {
		b := o.pending
		o.pending = nil
		o.writeLocked([]byte(escapeText(string(b), true)))
	}
	return o.err
}

// failed returns the first write error, or nil.
func (o *termOut) failed() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// drawer returns the underlying writer, for the progress bar only: it
// draws with escape sequences of its own. Give it text built with sprintf.
func (o *termOut) drawer() io.Writer { return o.w }

// partialRuneAt returns where an incomplete UTF-8 sequence at the end of b
// starts, or len(b) if b does not end with one.
func partialRuneAt(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// unsafeRune reports whether r must not reach a terminal as is: C0
// controls, DEL, C1 controls, the bidi controls (U+061C, U+200E, U+200F,
// U+202A-U+202E, U+2066-U+2069) and the Unicode line and paragraph
// separators.
func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f ||
		r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// escapeText returns s with each unsafe rune written the way Go writes it
// in a quoted string: \n, \r, \t, \xNN below U+0080, \uNNNN above, and an
// invalid byte as \xNN. With layout, newline and tab are kept. Backslashes
// are not escaped: the result is for reading, and escaping it again
// changes nothing.
func escapeText(s string, layout bool) string {
	if !needsEscape(s, layout) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case layout && (r == '\n' || r == '\t'), !unsafeRune(r):
			b.WriteString(s[i : i+size])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string, layout bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unsafeRune(r) && !(layout && (r == '\n' || r == '\t')) {
			return true
		}
		i += size
	}
	return false
}

// escapeJSON returns s, a JSON document, with every unsafe rune but the
// whitespace JSON allows between tokens written as a \uNNNN escape, and
// an invalid byte as \ufffd. Such runes can only be inside strings in a
// valid document, where the escapes mean the same thing.
func escapeJSON(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == utf8.RuneError || jsonUnsafe(r) }) {
		return s
	}
	var b bytes.Buffer
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case jsonUnsafe(r):
			b.WriteString(`\u`)
			b.WriteString(fmt.Sprintf("%04x", r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func jsonUnsafe(r rune) bool {
	return unsafeRune(r) && r != '\n' && r != '\t' && r != '\r'
}
