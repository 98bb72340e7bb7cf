package client

import (
	"fmt"
	"io"
	"math"
	"sync"
)

// Response bodies are read into pooled chunks whose size grows with what
// has arrived: the first holds 512 bytes, each next one twice the last,
// up to 64 KiB, and every chunk after that 64 KiB. A small body, or a
// stalled one, holds a small buffer; a large one costs few chunks. The
// chunks are copied out once, at the body's exact size: the caller keeps
// the copy (an Invocation keeps it as its Raw), so it must not alias a
// pooled chunk. Nothing is copied while reading, so a body over the cap
// costs the cap (plus at most one chunk, in chunks the pool keeps for the
// next call), not the doubling buffers of a growing slice.
const (
	minChunk    = 512
	maxChunk    = 64 << 10
	chunkGrades = 8 // minChunk << (chunkGrades-1) == maxChunk
)

// bodyChunks holds a pool per chunk size; each pools *[]byte, so that
// putting a chunk back does not allocate.
var bodyChunks [chunkGrades]sync.Pool

func init() {
	for i := range bodyChunks {
		size := minChunk << i
		bodyChunks[i].New = func() any { b := make([]byte, size); return &b }
	}
}

// readCapped reads r to the end, failing with ErrResponseTooLarge past
// limit bytes. size is the body's Content-Length (-1 when unknown): one
// over limit is refused before reading; otherwise it is ignored, since
// Content-Length is the server's claim, not a fact.
func readCapped(r io.Reader, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, tooLarge(limit)
	}
	limit = min(limit, math.MaxInt64-1) // limit+1 below must not overflow
	// Read up to limit+1 bytes: one more than limit tells a longer body.
	lr := io.LimitedReader{R: r, N: limit + 1}
	type chunk struct {
		b     *[]byte
		grade int
	}
	var first [16]chunk // room for 2.5 MiB of chunks before the slice grows
	chunks := first[:0]
	defer func() {
		for _, c := range chunks {
			bodyChunks[c.grade].Put(c.b)
		}
	}()
	total, last := 0, 0 // bytes read; bytes in the last chunk
	for {
		grade := min(len(chunks), chunkGrades-1)
		b := bodyChunks[grade].Get().(*[]byte)
		chunks = append(chunks, chunk{b, grade})
		c := *b
		n, err := 0, error(nil)
		for n < len(c) && err == nil {
			var k int
			k, err = lr.Read(c[n:])
			n += k
		}
		total, last = total+n, n
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(total) > limit {
		return nil, tooLarge(limit)
	}
	out := make([]byte, 0, total)
	for _, c := range chunks[:len(chunks)-1] {
		out = append(out, *c.b...)
	}
	return append(out, (*chunks[len(chunks)-1].b)[:last]...), nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: over %d bytes (see WithMaxResponseBytes)", ErrResponseTooLarge, limit)
}
