package main

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// attemptRecord matches the debug record of one HTTP attempt, capturing
// its method, path, attempt, status and request id.
var attemptRecord = regexp.MustCompile(`^time=\S+ level=DEBUG msg="bctrl: http attempt" method=(\S+) path=(\S+) attempt=(\d+) duration=\S+ status=(\d+) request_id=(\S+)$`)

// attempts returns the attempt records in stderr, each as its captures.
func attempts(stderr string) [][]string {
	var recs [][]string
	for line := range strings.Lines(stderr) {
		if m := attemptRecord.FindStringSubmatch(strings.TrimSuffix(line, "\n")); m != nil {
			recs = append(recs, m[1:])
		}
	}
	return recs
}

// TestDebug runs get with --debug against the fake server, whose first
// answer is a 503: stderr has one record per attempt and a warning for
// the retry; stdout is as without --debug, and the key is nowhere (runCLI
// checks every run).
func TestDebug(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Set(bctrltest.Succeeded(bctrltest.NewInvocation("inv-1"), bctrltest.OKStep(0, "page.goto", nil)))
	srv.Fault("inv-1", bctrltest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0", Times: 1})

	r := runCLI(t, envFor(srv), "--debug", "invocations", "get", "inv-1")
	if r.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	got := attempts(r.stderr)
	if len(got) != 2 || len(srv.Requests()) != 2 {
		t.Fatalf("%d attempt records for %d requests, want 2:\n%s", len(got), len(srv.Requests()), r.stderr)
	}
	for i, want := range [][]string{
		{"GET", "/v1/invocations/inv-1", "1", "503"},
		{"GET", "/v1/invocations/inv-1", "2", "200"},
	} {
		if !slices.Equal(got[i][:4], want) || !strings.HasPrefix(got[i][4], "req_") {
			t.Errorf("record %d = %q, want %q and a request id", i+1, got[i], want)
		}
	}
	if got[0][4] == got[1][4] {
		t.Errorf("both attempts have request id %s", got[0][4])
	}
	if !regexp.MustCompile(`(?m)^time=\S+ level=DEBUG msg="bctrl: retrying request" method=GET path=/v1/invocations/inv-1 attempt=1 `).MatchString(r.stderr) {
		t.Errorf("no retry warning:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "Bearer") || strings.Contains(r.stderr, "Authorization") {
		t.Errorf("stderr mentions the auth header:\n%s", r.stderr)
	}
	plain := runCLI(t, envFor(srv), "invocations", "get", "inv-1")
	if r.stdout != plain.stdout || plain.stderr != "" {
		t.Errorf("--debug changed stdout:\n%s\nwithout:\n%s\nstderr without: %q", r.stdout, plain.stdout, plain.stderr)
	}
}

// TestDebugWait checks that wait with --debug logs each poll and each
// observed change, and keeps its plain progress lines.
func TestDebugWait(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptSucceeds(srv, "inv-1")
	r := runCLI(t, envFor(srv), append([]string{"--debug", "invocations", "wait", "inv-1", "-o", "json"}, fast...)...)
	if r.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	if n, want := len(attempts(r.stderr)), len(srv.Requests()); n != want || n < 4 {
		t.Errorf("%d attempt records for %d requests:\n%s", n, want, r.stderr)
	}
	changes := regexp.MustCompile(`(?m)^time=\S+ level=DEBUG msg="bctrl: invocation changed" id=inv-1 status=(\S+) request_id=req_\S+`).FindAllStringSubmatch(r.stderr, -1)
	var statuses []string
	for _, m := range changes {
		statuses = append(statuses, m[1])
	}
	if want := []string{"queued", "running", "running", "succeeded"}; !slices.Equal(statuses, want) {
		t.Errorf("changes %q, want %q:\n%s", statuses, want, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d running progress 2/2 clicking Sign in$`).MatchString(r.stderr) {
		t.Errorf("no progress line:\n%s", r.stderr)
	}
	decodeOne(t, r.stdout)
}

// TestDebugRedactsTheKey pastes the key where the id goes: the request path
// carries it, and the debug records show it redacted.
func TestDebugRedactsTheKey(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	r := runCLI(t, envFor(srv), "--debug", "invocations", "get", secretKey)
	if r.code != exitNotFound {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	recs := attempts(r.stderr)
	if len(recs) != 1 || recs[0][1] != "/v1/invocations/[redacted]" {
		t.Errorf("attempt records %q, want one for /v1/invocations/[redacted]:\n%s", recs, r.stderr)
	}
}

// plain lines, which debug records cannot break.
func TestDebugOnTerminal(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptSucceeds(srv, "inv-1")
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
	r := runApp(t.Context(), t, env, true, append([]string{"--debug", "invocations", "wait", "inv-1"}, fast...)...)
	if r.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "100%") || !strings.Contains(r.stderr, " running progress 1/2 opening the login page\n") {
		t.Errorf("want plain progress lines, not a bar:\n%s", r.stderr)
	}
	if len(attempts(r.stderr)) == 0 {
		t.Errorf("no attempt records:\n%s", r.stderr)
	}
}
