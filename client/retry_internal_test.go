package client

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	const limit = 30 * time.Second
	cases := []struct {
		name   string
		value  string
		limit  time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"absent", "", limit, 0, false},
		{"zero seconds", "0", limit, 0, true},
		{"seconds", "5", limit, 5 * time.Second, true},
		{"seconds over the cap", "120", limit, limit, true},
		{"max int64 seconds", "9223372036854775807", limit, limit, true},
		{"more seconds than int64", "99999999999999999999", limit, limit, true},
		{"cap of zero", "5", 0, 0, true},
		{"negative", "-1", limit, 0, false},
		{"huge negative", "-99999999999999999999", limit, 0, false},
		{"fraction", "1.5", limit, 0, false},
		{"garbage", "soon", limit, 0, false},
		{"IMF-fixdate", now.Add(10 * time.Second).Format(http.TimeFormat), limit, 10 * time.Second, true},
		{"RFC 850 date", now.Add(10 * time.Second).Format("Monday, 02-Jan-06 15:04:05 GMT"), limit, 10 * time.Second, true},
		{"asctime date", now.Add(10 * time.Second).Format(time.ANSIC), limit, 10 * time.Second, true},
		{"date over the cap", now.Add(time.Hour).Format(http.TimeFormat), limit, limit, true},
		{"date in the past", now.Add(-time.Hour).Format(http.TimeFormat), limit, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.value != "" {
				h.Set("Retry-After", tc.value)
			}
			got, ok := retryAfter(h, now, tc.limit)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("retryAfter(%q, cap %v) = %v, %v; want %v, %v", tc.value, tc.limit, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestBoundedBackOff(t *testing.T) {
	t.Parallel()
	const lo, hi = 100 * time.Millisecond, time.Second
	for _, jitter := range []float64{0.2, 0.5} {
		b := newBoundedBackOff(lo, hi, 1.5, jitter)
		atMax := 0
		for i := range 1000 {
			if i%25 == 0 {
				b.Reset()
				if d := b.NextBackOff(); d < lo || float64(d) > float64(lo)*(1+jitter)+1 {
					t.Fatalf("jitter %v: first delay after Reset = %v, want within [%v, %v]", jitter, d, lo, time.Duration(float64(lo)*(1+jitter)))
				}
				continue
			}
			d := b.NextBackOff()
			if d < lo || d > hi {
				t.Fatalf("jitter %v: delay %d = %v, outside [%v, %v]", jitter, i, d, lo, hi)
			}
			if d == hi {
				atMax++
			}
		}
		if atMax == 0 {
			t.Errorf("jitter %v: no delay reached the maximum %v in 1000 draws", jitter, hi)
		}
	}
}

// TestDefaultHTTPClientTimeouts checks the transport New uses when no
// WithHTTPClient is given, so that a server that accepts and never sends
// headers is cut off by the transport as well as by the attempt timeout.
func TestDefaultHTTPClientTimeouts(t *testing.T) {
	t.Parallel()
	c, err := New(WithAPIKey("k"), WithBaseURL("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	hc, ok := c.doer.(*http.Client)
	if !ok {
		t.Fatalf("default Doer is %T, want *http.Client", c.doer)
	}
	if hc.CheckRedirect == nil {
		t.Error("CheckRedirect is nil: net/http would forward the Authorization header to another port of the same host")
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T, want *http.Transport", hc.Transport)
	}
	defer tr.CloseIdleConnections()
	if tr.ResponseHeaderTimeout != DefaultHeaderTimeout {
		t.Errorf("ResponseHeaderTimeout = %v, want DefaultHeaderTimeout (%v)", tr.ResponseHeaderTimeout, DefaultHeaderTimeout)
	}
	if DefaultHeaderTimeout <= 0 || DefaultHeaderTimeout > DefaultAttemptTimeout {
		t.Errorf("DefaultHeaderTimeout = %v, want positive and within DefaultAttemptTimeout (%v)", DefaultHeaderTimeout, DefaultAttemptTimeout)
	}
	if tr.TLSHandshakeTimeout <= 0 {
		t.Errorf("TLSHandshakeTimeout = %v, want a bound", tr.TLSHandshakeTimeout)
	}
	if hc.Timeout != 0 {
		t.Errorf("http.Client.Timeout = %v, want 0: the attempt timeout bounds each attempt, and a Wait may run for minutes", hc.Timeout)
	}
}
