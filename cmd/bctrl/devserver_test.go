package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The dev server's limits, each tested with a small load on loopback and
// short limits, so that no test waits for the defaults (seconds).

// startTestDevServer starts a dev server in process on a free port, with
// the default limits changed by tweak.
func startTestDevServer(t *testing.T, simulate bool, tweak func(*devLimits)) *devServer {
	t.Helper()
	lim := defaultDevLimits
	if tweak != nil {
		tweak(&lim)
	}
	s, err := startDevServer(devConfig{addr: "127.0.0.1:0", key: secretKey, tick: 20 * time.Millisecond, simulate: simulate, limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// devGet GETs path from s with the key and extra headers, on a connection
// of its own.
func devGet(t *testing.T, s *devServer, path string, header http.Header, timeout time.Duration) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+secretKey)
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// isReset reports whether err is a connection reset or a broken pipe.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// waitLogged waits until s has logged n requests: their handlers ran,
// although the server may still be reading their bodies.
func waitLogged(t *testing.T, s *devServer, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.api.log.snapshot().Total < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests logged, want %d", s.api.log.snapshot().Total, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logged returns how many requests the dev server at url has logged.
func logged(t *testing.T, url string) uint64 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+devRequestsPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+demoAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var log requestLogJSON
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
		t.Fatal(err)
	}
	return log.Total
}

// dialRaw opens a connection to s and writes what.
func dialRaw(t *testing.T, s *devServer, what string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, what); err != nil {
		t.Fatal(err)
	}
	return c
}

// closedWithin reads c until the server closes it, and fails the test if
// that takes longer than d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server kept the connection open for %v", d)
		}
		// A reset is a close too.
	}
}

const requestHead = "GET /v1/invocations/" + demoSucceedsID + " HTTP/1.1\r\nHost: dev\r\nAuthorization: Bearer " + secretKey + "\r\n"

func TestDevServerReadHeaderTimeout(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, func(l *devLimits) { l.readHeaderTimeout = 100 * time.Millisecond })
	c := dialRaw(t, s, requestHead) // the headers never end
	closedWithin(t, c, 3*time.Second)
}

func TestDevServerReadTimeout(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, func(l *devLimits) { l.readTimeout = 200 * time.Millisecond })
	c := dialRaw(t, s, requestHead+"Content-Length: 100000\r\n\r\nonly the start of the body")
	closedWithin(t, c, 3*time.Second)
}

func TestDevServerIdleTimeout(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, func(l *devLimits) { l.idleTimeout = 100 * time.Millisecond })
	c := dialRaw(t, s, requestHead+"\r\n") // one request, then nothing
	closedWithin(t, c, 3*time.Second)
}

func TestDevServerMaxHeaderBytes(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, func(l *devLimits) { l.maxHeaderBytes = 8 << 10 })
	for _, tt := range []struct {
		pad  int
		want int
	}{
		{2 << 10, http.StatusOK},
		{64 << 10, http.StatusRequestHeaderFieldsTooLarge},
		{900 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		resp, _, err := devGet(t, s, "/v1/invocations/"+demoSucceedsID, http.Header{"X-Pad": {strings.Repeat("x", tt.pad)}}, 5*time.Second)
		switch {
		case err != nil && tt.want == http.StatusRequestHeaderFieldsTooLarge && isReset(err):
			// The server answered 431 and closed while the client was
			// still sending: the reset can overtake the answer.
		case err != nil:
			t.Fatalf("%d bytes of header: %v", tt.pad, err)
		case resp.StatusCode != tt.want:
			t.Errorf("%d bytes of header: status %d, want %d", tt.pad, resp.StatusCode, tt.want)
		}
	}
	if resp, _, err := devGet(t, s, "/v1/invocations/"+demoSucceedsID, nil, 5*time.Second); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after large headers: %v %v", resp, err)
	}
	resp, _, err := devGet(t, s, "/v1/invocations/"+strings.Repeat("x", maxDevPath), nil, 5*time.Second)
	if err != nil || resp.StatusCode != http.StatusRequestURITooLong {
		t.Errorf("a long path: %v %v, want 414", resp, err)
	}
}

// TestDevServerMaxConns holds every connection slot with clients that
// never finish their headers: the next request waits until one closes.
func TestDevServerMaxConns(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, func(l *devLimits) { l.maxConns = 2 })
	stalled := []net.Conn{dialRaw(t, s, requestHead), dialRaw(t, s, requestHead)}
	if _, _, err := devGet(t, s, "/v1/invocations/"+demoSucceedsID, nil, 300*time.Millisecond); err == nil {
		t.Fatal("a third connection was served while two held the limit")
	}
	stalled[0].Close()
	resp, _, err := devGet(t, s, "/v1/invocations/"+demoSucceedsID, nil, 5*time.Second)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after a slot freed: %v %v", resp, err)
	}
}

// TestDevServerIdleConnsMakeRoom fills every connection slot with idle
// keep-alive connections (the idle timeout a minute away): a new client is
// answered at once, in place of the connection idle longest, and the
// client whose connection was closed is answered on a new one.
func TestDevServerIdleConnsMakeRoom(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, func(l *devLimits) { l.maxConns = 2; l.idleTimeout = time.Minute })
	get := func(c *http.Client) error {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+"/v1/invocations/"+demoSucceedsID, nil)
		req.Header.Set("Authorization", "Bearer "+secretKey)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	var clients []*http.Client
	for i := range 3 {
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
		start := time.Now()
		if err := get(c); err != nil {
			t.Fatalf("client %d, with %d idle connections open: %v after %v", i, len(clients), err, time.Since(start))
		}
		clients = append(clients, c)
	}
	if err := get(clients[0]); err != nil { // its connection was the one closed
		t.Fatalf("the client whose idle connection was closed: %v", err)
	}
}

// TestDevServerRequestLog sends more requests than the log keeps, each
// with more and longer headers than an entry keeps: GET /_dev/requests
// returns only the last ones, cut short, the key redacted.
func TestDevServerRequestLog(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, func(l *devLimits) { l.requestLog = 8 })
	header := http.Header{}
	for i := range 40 {
		header.Set("X-Field-"+strconv.Itoa(i), strings.Repeat("v", 1<<10))
	}
	for i := range 50 {
		header.Set("X-N", strconv.Itoa(i))
		if _, _, err := devGet(t, s, "/v1/invocations/"+demoSucceedsID, header, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	resp, body, err := devGet(t, s, devRequestsPath, nil, 5*time.Second)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v", devRequestsPath, resp, err)
	}
	var log requestLogJSON
	if err := json.Unmarshal(body, &log); err != nil {
		t.Fatal(err)
	}
	if log.Total != 50 || log.Kept != 8 || len(log.Requests) != 8 {
		t.Fatalf("total %d, kept %d, %d requests; want 50, 8, 8", log.Total, log.Kept, len(log.Requests))
	}
	for i, r := range log.Requests {
		if len(r.Header) > maxLoggedHeaders {
			t.Errorf("entry %d has %d header fields", i, len(r.Header))
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if len(v) > maxLoggedText+len("…") {
					t.Errorf("entry %d: %s is %d bytes", i, k, len(v))
				}
			}
		}
		if got := r.Header["Authorization"]; len(got) != 1 || got[0] != "Bearer [redacted]" {
			t.Errorf("entry %d: Authorization %q", i, got)
		}
		if r.Status != http.StatusOK || r.Path != "/v1/invocations/"+demoSucceedsID || !strings.HasPrefix(r.RequestID, "req_") {
			t.Errorf("entry %d: %+v", i, r)
		}
	}
	if strings.Contains(string(body), secretKey) {
		t.Error("the log shows the key")
	}
	// X-N comes after the 32 fields kept (in name order), so the order of
	// entries shows in their request ids.
	if first, last := log.Requests[0].RequestID, log.Requests[7].RequestID; first >= last {
		t.Errorf("entries not oldest first: %s then %s", first, last)
	}

	noKey, err := http.Get(s.url + devRequestsPath)
	if err != nil {
		t.Fatal(err)
	}
	noKey.Body.Close()
	if noKey.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the key: status %d", noKey.StatusCode)
	}
}

// TestDevServerBackendBounded checks what bctrltest records behind the dev
// server: at most its request limit, each with the Authorization header
// only, however many and however large the requests were.
func TestDevServerBackendBounded(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, nil)
	small, err := newBackend(s.api.key, 10)
	if err != nil {
		t.Fatal(err)
	}
	armDemo(small, time.Second)
	s.api.mu.Lock()
	s.api.backend = small
	s.api.mu.Unlock()
	pad := http.Header{"X-Pad": {strings.Repeat("x", 40<<10)}}
	for range 35 {
		if resp, _, err := devGet(t, s, "/v1/invocations/"+demoSucceedsID, pad, 5*time.Second); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%v %v", resp, err)
		}
	}
	s.api.mu.Lock()
	reqs := s.api.backend.Requests()
	s.api.mu.Unlock()
	if len(reqs) != 10 {
		t.Fatalf("the backend holds %d requests, want its limit, 10", len(reqs))
	}
	for _, r := range reqs {
		if len(r.Header) != 1 || r.Header.Get("Authorization") != "Bearer [redacted]" {
			t.Errorf("the backend recorded headers %v", r.Header)
		}
	}
}

// TestDevServerShutdownWithStalledClient stops a server while a client
// stalls its request body: shutdown gives up after its timeout and closes
// the connection.
func TestDevServerShutdownWithStalledClient(t *testing.T) {
	t.Parallel()
	s := startTestDevServer(t, false, func(l *devLimits) { l.readTimeout = time.Minute })
	c := dialRaw(t, s, requestHead+"Content-Length: 100000\r\n\r\nstalled")
	waitLogged(t, s, 1)
	start := time.Now()
	if s.shutdown(200 * time.Millisecond) {
		t.Error("shutdown reports that everything finished")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	closedWithin(t, c, 2*time.Second)
}

// TestDevServerSignals runs the binary: on SIGINT it stops within its
// --shutdown-timeout although a client stalls a request body, and exits
// 0; with a long timeout, a second SIGINT stops it at once.
func TestDevServerSignals(t *testing.T) {
	t.Parallel()
	start := func(t *testing.T, shutdown string) (*proc, net.Conn) {
		ready := filepath.Join(t.TempDir(), "url")
		p := startCLI(t, nil, "dev-server", "--addr", "127.0.0.1:0", "--ready-file", ready,
			"--read-timeout", "1m", "--shutdown-timeout", shutdown)
		url := waitForFile(t, ready)
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET /v1/invocations/"+demoSucceedsID+" HTTP/1.1\r\nHost: dev\r\nAuthorization: Bearer "+demoAPIKey+"\r\nContent-Length: 100000\r\n\r\nstalled")
		// net/http answers once it has read the body (up to 256 KiB),
		// which never comes; the log shows the handler ran.
		deadline := time.Now().Add(5 * time.Second)
		for logged(t, url) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the stalled request was not logged")
			}
			time.Sleep(5 * time.Millisecond)
		}
		return p, c
	}
	t.Run("one signal", func(t *testing.T) {
		t.Parallel()
		p, _ := start(t, "300ms")
		begin := time.Now()
		p.cmd.Process.Signal(os.Interrupt)
		code, stderr := p.wait(t)
		if d := time.Since(begin); code != exitOK || d > 3*time.Second {
			t.Errorf("exit code %d after %v, want 0 within 3s; stderr:\n%s", code, d, stderr)
		}
		if !strings.Contains(stderr, "closed the connections still open after 300ms") || !strings.Contains(stderr, "dev server stopped") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	t.Run("two signals", func(t *testing.T) {
		t.Parallel()
		p, _ := start(t, "1m")
		p.cmd.Process.Signal(os.Interrupt)
		if line := p.waitLine(t); !strings.Contains(line, "a second signal stops it at once") {
			t.Fatalf("stderr: %s", line)
		}
		begin := time.Now()
		p.cmd.Process.Signal(os.Interrupt)
		code, stderr := p.wait(t)
		if d := time.Since(begin); code != exitInterrupted || d > 2*time.Second {
			t.Errorf("exit code %d %v after the second signal, want %d at once; stderr:\n%s", code, d, exitInterrupted, stderr)
		}
	})
}

// TestDevServerDemoTellsTheTime polls a demo invocation (a 20 ms tick)
// until it ends: every stamp served is at or before the moment it was
// served, and finishedAt is when the end became current (2 ticks after the
// server started), not a made-up second per step.
func TestDevServerDemoTellsTheTime(t *testing.T) {
	t.Parallel()
	before := time.Now()
	s := startTestDevServer(t, false, nil)
	for {
		resp, body, err := devGet(t, s, "/v1/invocations/"+demoCancelsID, nil, 5*time.Second)
		served := time.Now()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%v %v", resp, err)
		}
		var inv struct {
			Status                                            string
			CreatedAt, StartedAt, LastHeartbeatAt, FinishedAt *time.Time
			CancelRequestedAt                                 *time.Time
		}
		if err := json.Unmarshal(body, &inv); err != nil {
			t.Fatal(err)
		}
		for _, ts := range []*time.Time{inv.CreatedAt, inv.StartedAt, inv.LastHeartbeatAt, inv.FinishedAt, inv.CancelRequestedAt} {
			if ts != nil && ts.After(served) {
				t.Fatalf("%s: a stamp %v later than when it was served, %v:\n%s", inv.Status, ts, served, body)
			}
		}
		if inv.Status == "cancelled" {
			if inv.FinishedAt == nil || inv.FinishedAt.Before(before.Add(2*20*time.Millisecond)) {
				t.Fatalf("finishedAt %v, want at least 2 ticks after %v:\n%s", inv.FinishedAt, before, body)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
