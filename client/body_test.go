package client

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"testing"
	"testing/iotest"
)

// TestReadCapped reads bodies around every chunk boundary, whole and a
// byte at a time, at and over the cap.
func TestReadCapped(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, minChunk - 1, minChunk, minChunk + 1, 3*minChunk + 7, maxChunk, 2*maxChunk - 1, 5*maxChunk + 3, 1 << 20}
	for _, n := range sizes {
		body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		for _, slow := range []bool{false, true} {
			name := strconv.Itoa(n)
			if slow {
				name += " one byte at a time"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var r io.Reader = bytes.NewReader(body)
				if slow {
					r = iotest.OneByteReader(r)
				}
				got, err := readCapped(r, -1, int64(n))
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("readCapped at the cap: %d bytes, %v; want the %d-byte body", len(got), err, n)
				}
				if n > 0 {
					_, err = readCapped(bytes.NewReader(body), -1, int64(n-1))
					if !errors.Is(err, ErrResponseTooLarge) {
						t.Errorf("readCapped over the cap: err = %v; want ErrResponseTooLarge", err)
					}
				}
			})
		}
	}
}

// BenchmarkReadCapped reads bodies of a running invocation's size, a
// 1,000-step one's, and a large one's.
func BenchmarkReadCapped(b *testing.B) {
	for _, n := range []int{300, 5 << 10, 500 << 10, 5 << 20} {
		body := bytes.Repeat([]byte("x"), n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := readCapped(bytes.NewReader(body), -1, DefaultMaxResponseBytes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
