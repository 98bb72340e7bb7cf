package client

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
)

// bufferedBody is a response body already read into memory by the retrying
// Doer; bodyOf takes its bytes without copying.
type bufferedBody struct {
	*bytes.Reader
	b []byte
}

func (*bufferedBody) Close() error { return nil }

// bodyOf returns the bytes of a response body and closes it.
func bodyOf(resp *http.Response, limit int64) ([]byte, error) {
	if bb, ok := resp.Body.(*bufferedBody); ok {
		return bb.b, nil
	}
	defer resp.Body.Close()
	return readCapped(resp.Body, resp.ContentLength, limit)
}

// Response bodies are read into a pooled buffer and copied out once, at
// their exact size: the caller keeps the copy (an Invocation keeps it as its
// Raw), so it must not alias the pooled buffer. A body read into a fresh,
// doubling buffer costs about twice its size in allocations; this costs its
// size once the pool is warm.
const (
	// maxPooledBuffer caps the buffers returned to the pool, so that one
	// large body does not pin its memory for the life of the process. A
	// 1,000-step invocation (about 520 KB) fits.
	maxPooledBuffer = 1 << 20
	// maxSizeHint bounds how much a Content-Length may make readCapped
	// allocate before any byte has arrived: Content-Length is the server's
	// claim, not a fact.
	maxSizeHint = 1 << 20
	// minRead is the least a full buffer grows by.
	minRead = 4 << 10
)

var bodyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// readCapped reads r to the end, failing with ErrResponseTooLarge past
// limit bytes. size is the body's Content-Length (-1 when unknown): one
// over limit is refused before reading; otherwise it is only a hint,
// bounded by maxSizeHint, for the first allocation.
func readCapped(r io.Reader, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, tooLarge(limit)
	}
	limit = min(limit, math.MaxInt64-1) // limit+1 below must not overflow
	bp := bodyBuffers.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= maxPooledBuffer {
			*bp = buf[:0]
			bodyBuffers.Put(bp)
		}
	}()
	if size >= 0 {
		// +1: reading EOF must not grow the buffer.
		buf = slices.Grow(buf, int(min(size, maxSizeHint))+1)
	}

	// Read up to limit+1 bytes: one more than limit tells a longer body.
	lr := io.LimitedReader{R: r, N: limit + 1}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(minRead, cap(buf))) // doubles
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > limit {
		return nil, tooLarge(limit)
	}
	return bytes.Clone(buf), nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: over %d bytes (see WithMaxResponseBytes)", ErrResponseTooLarge, limit)
}
