package client

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
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

// readCapped reads r to the end, failing with ErrResponseTooLarge past
// limit bytes. size is the body's Content-Length (-1 when unknown): when it
// is known and within the limit, the buffer is allocated once at that size
// instead of growing by doubling (a 500 KB body would otherwise allocate
// and copy about 1 MB).
func readCapped(r io.Reader, size, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if size >= 0 && size <= limit {
		buf.Grow(int(size) + bytes.MinRead) // + MinRead: reading EOF must not regrow
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w: over %d bytes (see WithMaxResponseBytes)", ErrResponseTooLarge, limit)
	}
	return buf.Bytes(), nil
}
