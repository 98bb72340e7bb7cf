package client

import (
	"net/http"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// redactor removes the API key from text and caps the text. It is the one
// place where the SDK scrubs: the boundary (boundary.go) passes every
// error, error field and ResponseInfo through it, and logs and spans take
// their strings from it. New builds one per client. It holds the key as a
// secret, behind a pointer, and the client holds it by pointer: fmt never
// prints the key, even from a Client copied by value into a user's struct.
//
// It finds the key in any mix of one layer of the escapes text about it
// may carry, rather than in a fixed list of forms: as is; URL-escaped
// (%XX, and + for a space); JSON-escaped (\uXXXX with surrogate pairs,
// \", \\, \/, \n ...); Go-quoted as strconv.Quote writes it (\xHH, \u,
// \U); and in a JSON pointer (~0, ~1), the form json v2 errors name a
// member by. So "\u0073k-..." in a body, a key percent-encoded one byte at
// a time in a Location, or strconv.Quote of a key with a quote in it are
// all found. The key is matched ignoring ASCII case everywhere: net/http
// canonicalises header names ("X-Sk-Live-..."), and an upper-cased echo
// of a hex key gives the key back. Escapes applied twice, other
// encodings (base64, HTML entities) and a key split across fields are not
// recognised. A key shorter than minScrubLen is not scrubbed at all: it
// would mangle unrelated text, and no real key is that short.
type redactor struct {
	secret secret // none: scrub nothing (the caps still apply)
}

// minScrubLen is the shortest key a redactor scrubs.
const minScrubLen = 8

// newRedactor returns the redactor for key.
func newRedactor(key string) *redactor {
	if len(key) < minScrubLen {
		return &redactor{}
	}
	return &redactor{secret: newSecret(key)}
}

// key returns the key to scrub, or "" for none (and for a nil redactor).
func (r *redactor) key() string {
	if r == nil {
		return ""
	}
	return r.secret.reveal()
}

// str returns s with every occurrence of the key replaced by "[redacted]".
// A nil redactor returns s.
func (r *redactor) str(s string) string { return r.scrub(s, false) }

// text scrubs s and then cuts it to n bytes at a rune boundary, marking
// the cut: in that order, so that no part of the key survives at the cut.
// A long s is cut to n plus the longest escaped form of the key before it
// is scrubbed, so that scrubbing costs O(n) whatever the length of s; a
// part of the key at the end of that first cut is scrubbed too.
func (r *redactor) text(s string, n int) string {
	return r.cut(s, n, "…[truncated]")
}

// textBytes is text for a body: cut to n bytes without a mark, as a raw
// body kept in an error is documented to be.
func (r *redactor) textBytes(b []byte, n int) []byte {
	if len(b) <= n && (r.key() == "" || !r.contains(string(b))) {
		return append([]byte(nil), b...)
	}
	return []byte(r.cut(string(b), n, ""))
}

func (r *redactor) cut(s string, n int, mark string) string {
	precut := false
	if r.key() != "" {
		if m := n + r.slack(); len(s) > m {
			for m > 0 && !utf8.RuneStart(s[m]) {
				m--
			}
			s, precut = s[:m], true
		}
		s = r.scrub(s, precut)
	}
	if !precut && len(s) <= n {
		return s
	}
	c := min(n, len(s))
	for c > 0 && c < len(s) && !utf8.RuneStart(s[c]) {
		c--
	}
	return s[:c] + mark
}

// slack is the longest the key can be once escaped: \U0001F600 is ten
// bytes for a four-byte rune, \u00XX six for one byte.
func (r *redactor) slack() int { return 10*len(r.key()) + 16 }

// contains reports whether s holds the key in any form str recognises.
func (r *redactor) contains(s string) bool {
	if r.key() == "" {
		return false
	}
	var m matcher
	m.init(s, r.key(), false)
	for i := 0; i < len(s); i++ {
		if _, ok := m.at(i); ok {
			return true
		}
	}
	return false
}

// scrub replaces every occurrence of the key in s, ignoring ASCII case
// (net/http canonicalises header names, and an upper-cased echo of a hex
// key gives the key back). With tail, text that ends part-way through the
// key is scrubbed too (s was cut and the rest of the key lies past the
// cut).
func (r *redactor) scrub(s string, tail bool) string {
	if r.key() == "" {
		return s
	}
	var b strings.Builder
	done := 0 // s[:done] is in b (or needs no change)
	var m matcher
	m.init(s, r.key(), tail)
	for i := 0; i < len(s); i++ {
		end, ok := m.at(i)
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[done:i])
		b.WriteString(redacted)
		done = end
		i = end - 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// matcher matches the key, ignoring ASCII case, against text from one
// position at a time. At each step it tries the unit the text holds there
// both as an escape and as a plain byte (a key may itself hold "%41" or
// "~0"), so it searches a small graph of (text position, key position)
// pairs; once there was a choice, the pairs that failed are remembered, so
// no pair is searched twice. One matcher serves a whole text: its memory
// of failed pairs is allocated once, at the first choice, and cleared
// between start positions, so that a text made of near-matches costs no
// allocation per position.
type matcher struct {
	s, key string
	tail   bool
	first  [256]bool // the bytes a match may start with
	start  int       // the position being tried
	memo   bool      // a choice was met from start: failed pairs are recorded
	failed []uint64  // bitset over (pos-start, k)
	set    []int32   // the bits set in failed, to clear them
}

func (m *matcher) init(s, key string, tail bool) {
	m.s, m.key, m.tail = s, key, tail
	m.first[key[0]] = true
	m.first[lower(key[0])] = true
	if 'a' <= key[0] && key[0] <= 'z' {
		m.first[key[0]-'a'+'A'] = true
	}
	for _, c := range []byte{'\\', '%', '~', '+'} {
		m.first[c] = true
	}
}

// maxEscapedPerByte is the most text one byte of the key can take once
// escaped (\U00000073), which bounds how far a match runs from its start.
const maxEscapedPerByte = 10

// at reports whether the key starts at s[i], in any mix of escapes, and
// where it ends.
func (m *matcher) at(i int) (int, bool) {
	// Most positions fail on their first byte, or on the first byte an
	// escape there decodes to: check that cheaply.
	c := m.s[i]
	if !m.first[c] {
		return 0, false
	}
	if lower(c) != lower(m.key[0]) {
		if dec, dn, _ := unescape(m.s[i:]); dn == 0 || lower(dec[0]) != lower(m.key[0]) {
			return 0, false
		}
	}
	if m.memo {
		for _, b := range m.set {
			m.failed[b/64] &^= 1 << (b % 64)
		}
		m.set = m.set[:0]
		m.memo = false
	}
	m.start = i
	return m.match(i, 0)
}

// bit is the index of the pair (pos, k) in failed, or -1 past its range.
func (m *matcher) bit(pos, k int) int {
	d := pos - m.start
	if d > maxEscapedPerByte*len(m.key) {
		return -1
	}
	return d*(len(m.key)+1) + k
}

func (m *matcher) match(pos, k int) (int, bool) {
	s, key := m.s, m.key
	if k == len(key) {
		return pos, true
	}
	if pos == len(s) {
		return pos, m.tail && k > 0
	}
	if m.memo {
		if b := m.bit(pos, k); b >= 0 && m.failed[b/64]&(1<<(b%64)) != 0 {
			return 0, false
		}
	}
	if m.tail && k > 0 && partialEscape(s[pos:]) {
		return len(s), true // an escape cut short at the end of a cut text
	}
	if dec, dn, n := unescape(s[pos:]); n > 0 && hasPrefixFold(key[k:], dec[:dn]) {
		if end, ok := m.match(pos+n, k+dn); ok {
			return end, true
		}
		if !m.memo && lower(s[pos]) == lower(key[k]) {
			// A choice: from here on, remember what failed.
			m.memo = true
			if m.failed == nil {
				m.failed = make([]uint64, ((maxEscapedPerByte*len(key)+1)*(len(key)+1)+63)/64)
			}
		}
	}
	if lower(s[pos]) == lower(key[k]) {
		if end, ok := m.match(pos+1, k+1); ok {
			return end, true
		}
	}
	if m.memo {
		if b := m.bit(pos, k); b >= 0 {
			m.failed[b/64] |= 1 << (b % 64)
			m.set = append(m.set, int32(b))
		}
	}
	return 0, false
}

// unescape decodes the escape at the start of s and returns what it
// stands for (in dec[:dn]) and its length in s, or n == 0 when s does not
// start with one. The decoded bytes of a rune are its UTF-8 encoding. It
// allocates nothing: a text of escapes is searched at every position.
func unescape(s string) (dec [utf8.UTFMax]byte, dn, n int) {
	one := func(c byte, n int) ([utf8.UTFMax]byte, int, int) { return [utf8.UTFMax]byte{c}, 1, n }
	r := func(v rune, n int) ([utf8.UTFMax]byte, int, int) {
		var d [utf8.UTFMax]byte
		return d, utf8.EncodeRune(d[:], v), n
	}
	if len(s) < 2 {
		if s == "+" {
			return one(' ', 1)
		}
		return dec, 0, 0
	}
	switch s[0] {
	case '%':
		if b, ok := hexByte(s[1:]); ok {
			return one(b, 3)
		}
	case '+':
		return one(' ', 1)
	case '~':
		switch s[1] {
		case '0':
			return one('~', 2)
		case '1':
			return one('/', 2)
		}
	case '\\':
		switch c := s[1]; c {
		case '"', '\\', '/', '\'':
			return one(c, 2)
		case 'n':
			return one('\n', 2)
		case 't':
			return one('\t', 2)
		case 'r':
			return one('\r', 2)
		case 'b':
			return one('\b', 2)
		case 'f':
			return one('\f', 2)
		case 'v':
			return one('\v', 2)
		case 'a':
			return one('\a', 2)
		case 'x':
			if b, ok := hexByte(s[2:]); ok {
				return one(b, 4)
			}
		case 'u':
			v, ok := hexRune(s[2:], 4)
			if !ok {
				break
			}
			if utf16.IsSurrogate(v) && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
				if lo, ok := hexRune(s[8:], 4); ok {
					if p := utf16.DecodeRune(v, lo); p != utf8.RuneError {
						return r(p, 12)
					}
				}
			}
			return r(v, 6)
		case 'U':
			if v, ok := hexRune(s[2:], 8); ok {
				return r(v, 10)
			}
		}
	}
	return dec, 0, 0
}

// partialEscape reports whether s is the start of an escape that s ends
// too soon to hold: "%4", or a \u escape cut in its digits or between
// the halves of a surrogate pair.
func partialEscape(s string) bool {
	switch {
	case len(s) == 0:
		return false
	case s[0] == '%':
		return len(s) < 3
	case s[0] != '\\':
		return false
	case len(s) == 1:
		return true
	case s[1] == 'x':
		return len(s) < 4
	case s[1] == 'u':
		if len(s) < 6 {
			return true
		}
		v, ok := hexRune(s[2:], 4)
		return ok && utf16.IsSurrogate(v) && len(s) < 12
	case s[1] == 'U':
		return len(s) < 10
	}
	return false
}

func hexByte(s string) (byte, bool) {
	v, ok := hexRune(s, 2)
	return byte(v), ok
}

func hexRune(s string, n int) (rune, bool) {
	if len(s) < n {
		return 0, false
	}
	var v rune
	for i := range n {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case.
func hasPrefixFold(s string, prefix []byte) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i := range len(prefix) {
		if lower(s[i]) != lower(prefix[i]) {
			return false
		}
	}
	return true
}

// header copies h keeping at most maxErrorHeader fields of at most 8
// values, each scrubbed and cut to maxErrorString bytes; names are
// scrubbed (ignoring case) and cut to maxErrorToken bytes.
func (r *redactor) header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, min(len(h), maxErrorHeader))
	for k, vs := range h {
		if len(out) == maxErrorHeader {
			break
		}
		k = r.text(k, maxErrorToken)
		vs = vs[:min(len(vs), 8)]
		cp := out[k] // two names may scrub to the same
		for _, v := range vs {
			if len(cp) == 8 {
				break
			}
			cp = append(cp, r.text(v, maxErrorString))
		}
		out[k] = cp
	}
	return out
}

// Scrub returns s with the client's API key replaced by "[redacted]"
// wherever it occurs, in every form the SDK's own errors, logs and spans
// are scrubbed of: plain, or in any mix of URL, JSON and Go escapes (see
// the README's "Secrets" paragraph). The SDK scrubs everything it returns
// already; Scrub is for text a program builds itself from other sources
// (its own arguments, a server's strings it prints), so that a CLI or a
// log pipeline uses the same rules as the SDK. It does not cut s.
func (c *Client) Scrub(s string) string { return c.redact.str(s) }
