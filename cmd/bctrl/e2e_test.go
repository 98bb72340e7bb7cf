package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// Invocation scripts shared by the tests.

func scriptSucceeds(srv *bctrltest.Server, id string) {
	inv := bctrltest.NewInvocation(id)
	srv.Script(id,
		inv,
		bctrltest.Running(inv, 1, 2, "opening the login page"),
		bctrltest.Running(inv, 2, 2, "clicking Sign in"),
		bctrltest.Succeeded(inv,
			bctrltest.OKStep(0, "page.goto", nil),
			bctrltest.OKStep(1, "page.click", nil),
		),
	)
}

func scriptFails(srv *bctrltest.Server, id string) {
	inv := bctrltest.NewInvocation(id)
	diag := bctrltest.NewDiagnostic("unknown-call",
		bctrltest.Fix("Call page.click instead", "sed -i s/page.clik/page.click/ flow.json"))
	diag.DocsURL = "https://docs.example.com/page.click"
	srv.Script(id,
		inv,
		bctrltest.Running(inv, 1, 2, "opening the login page"),
		bctrltest.Failed(inv, "step 1 failed",
			bctrltest.OKStep(0, "page.goto", nil),
			bctrltest.WithDiagnostic(
				bctrltest.ErrStep(1, "page.clik", "UNKNOWN_CALL", "no such call page.clik", "did you mean page.click?"),
				diag),
		),
	)
}

func scriptCancelled(srv *bctrltest.Server, id string) {
	inv := bctrltest.NewInvocation(id)
	srv.Script(id, inv, bctrltest.Running(inv, 1, 3, "working"), bctrltest.Cancelled(inv))
}

func scriptTimedOut(srv *bctrltest.Server, id string) {
	inv := bctrltest.NewInvocation(id)
	srv.Script(id, inv, bctrltest.Running(inv, 1, 3, "working"),
		bctrltest.TimedOut(inv, bctrltest.ErrStep(0, "page.waitForSelector", "TIMEOUT", "timed out", "")))
}

// scriptRunsForever keeps id running.
func scriptRunsForever(srv *bctrltest.Server, id string) {
	inv := bctrltest.NewInvocation(id)
	srv.Script(id, inv, bctrltest.Running(inv, 1, 3, "working"))
}

// TestExitCodes runs the binary once per documented exit code (130 has its
// own test: it needs a signal).
func TestExitCodes(t *testing.T) {
	t.Parallel()
	const id = "inv-1"
	tests := []struct {
		name  string
		setup func(t *testing.T) []string // returns the environment
		args  []string
		want  int
		// stderr must match; empty means stderr must be empty.
		stderr string
	}{
		{
			name:  "get succeeds",
			setup: withScript(scriptSucceeds),
			args:  []string{"invocations", "get", id},
			want:  exitOK,
		},
		{
			name:   "wait succeeded",
			setup:  withScript(scriptSucceeds),
			args:   append([]string{"invocations", "wait", id}, fast...),
			want:   exitOK,
			stderr: `succeeded`,
		},
		{
			name:   "wait failed",
			setup:  withScript(scriptFails),
			args:   append([]string{"invocations", "wait", id}, fast...),
			want:   exitFailed,
			stderr: `bctrl: invocation \S+ ended failed: step 1 failed; step 1 \(page.clik\) failed: UNKNOWN_CALL`,
		},
		{
			name:   "wait cancelled",
			setup:  withScript(scriptCancelled),
			args:   append([]string{"invocations", "wait", id}, fast...),
			want:   exitFailed,
			stderr: `ended cancelled`,
		},
		{
			name:   "wait timed_out",
			setup:  withScript(scriptTimedOut),
			args:   append([]string{"invocations", "wait", id}, fast...),
			want:   exitFailed,
			stderr: `ended timed_out`,
		},
		{
			name:   "missing id",
			setup:  withScript(scriptSucceeds),
			args:   []string{"invocations", "get"},
			want:   exitUsage,
			stderr: `accepts 1 arg\(s\), received 0\nRun 'bctrl invocations get --help' for usage`,
		},
		{
			name:   "unknown flag",
			setup:  withScript(scriptSucceeds),
			args:   []string{"--api-key", secretKey, "invocations", "get", id, "--bogus"},
			want:   exitUsage,
			stderr: `unknown flag: --bogus`,
		},
		{
			name:   "bad flag value",
			setup:  withScript(scriptSucceeds),
			args:   []string{"invocations", "wait", id, "--timeout", "soon"},
			want:   exitUsage,
			stderr: `invalid argument "soon" for "--timeout"`,
		},
		{
			name:   "bad output format",
			setup:  withScript(scriptSucceeds),
			args:   []string{"invocations", "get", id, "-o", "yaml"},
			want:   exitUsage,
			stderr: `invalid --output "yaml": want text or json`,
		},
		{
			name:   "bad poll interval",
			setup:  withScript(scriptSucceeds),
			args:   []string{"invocations", "wait", id, "--poll-min", "2s", "--poll-max", "1s"},
			want:   exitUsage,
			stderr: `need 0 < --poll-min <= --poll-max`,
		},
		{
			name:   "unknown command",
			setup:  withScript(scriptSucceeds),
			args:   []string{"invocations", "list"},
			want:   exitUsage,
			stderr: `unknown command "list" for "bctrl invocations"`,
		},
		{
			name:   "no API key",
			setup:  func(t *testing.T) []string { return []string{"BCTRL_BASE_URL=http://127.0.0.1:1"} },
			args:   []string{"invocations", "get", id},
			want:   exitUsage,
			stderr: `^bctrl: no API key: pass --api-key or set BCTRL_API_KEY$`,
		},
		{
			name:   "bad base URL",
			setup:  func(t *testing.T) []string { return []string{"BCTRL_API_KEY=" + secretKey} },
			args:   []string{"--base-url", "ftp://example.com", "invocations", "get", id},
			want:   exitUsage,
			stderr: `not an absolute http\(s\) URL`,
		},
		{
			name:   "invalid id",
			setup:  withScript(scriptSucceeds),
			args:   []string{"invocations", "get", ".."},
			want:   exitUsage,
			stderr: `invalid id`,
		},
		{
			name:   "get not found",
			setup:  withScript(scriptSucceeds),
			args:   []string{"invocations", "get", "inv-missing"},
			want:   exitNotFound,
			stderr: `404 Not Found: invocation.not_found`,
		},
		{
			name:   "wait not found",
			setup:  withScript(scriptSucceeds),
			args:   append([]string{"invocations", "wait", "inv-missing"}, fast...),
			want:   exitNotFound,
			stderr: `404 Not Found`,
		},
		{
			name: "get unauthorized",
			setup: func(t *testing.T) []string {
				srv := bctrltest.NewServer(t, bctrltest.WithAPIKey("another-key"))
				scriptSucceeds(srv, id)
				return envFor(srv)
			},
			args:   []string{"invocations", "get", id},
			want:   exitAuth,
			stderr: `401 Unauthorized: auth.invalid: invalid api key .*\nCheck the API key`,
		},
		{
			name: "wait unauthorized, key from the flag",
			setup: func(t *testing.T) []string {
				srv := bctrltest.NewServer(t, bctrltest.WithAPIKey("another-key"))
				scriptSucceeds(srv, id)
				return []string{"BCTRL_BASE_URL=" + srv.URL}
			},
			args:   append([]string{"--api-key", secretKey, "invocations", "wait", id, "-o", "json"}, fast...),
			want:   exitAuth,
			stderr: `401 Unauthorized`,
		},
		{
			name: "forbidden",
			setup: func(t *testing.T) []string {
				srv := newServer(t)
				scriptSucceeds(srv, id)
				srv.Fault(id, bctrltest.Fault{Status: http.StatusForbidden})
				return envFor(srv)
			},
			args:   []string{"invocations", "get", id},
			want:   exitAuth,
			stderr: `403 Forbidden`,
		},
		{
			name: "server error after retries",
			setup: func(t *testing.T) []string {
				srv := newServer(t)
				scriptSucceeds(srv, id)
				srv.Fault(id, bctrltest.Fault{Status: http.StatusInternalServerError})
				return envFor(srv)
			},
			args:   []string{"--max-retries", "0", "invocations", "get", id},
			want:   exitAPI,
			stderr: `500 Internal Server Error`,
		},
		{
			name: "malformed response",
			setup: func(t *testing.T) []string {
				srv := newServer(t)
				scriptSucceeds(srv, id)
				srv.Fault(id, bctrltest.Fault{Malformed: true})
				return envFor(srv)
			},
			args:   append([]string{"invocations", "wait", id}, fast...),
			want:   exitAPI,
			stderr: `invalid response`,
		},
		{
			name: "connection refused",
			setup: func(t *testing.T) []string {
				return []string{"BCTRL_API_KEY=" + secretKey, "BCTRL_BASE_URL=http://" + freeClosedPort(t)}
			},
			args:   []string{"--max-retries", "1", "invocations", "get", id},
			want:   exitAPI,
			stderr: `connection refused`,
		},
		{
			name:   "wait timeout",
			setup:  withScript(scriptRunsForever),
			args:   append([]string{"invocations", "wait", id, "--timeout", "1s"}, fast...),
			want:   exitTimeout,
			stderr: `wait timed out after 1s; last status running \(step 1/3\)`,
		},
		{
			name: "get timeout, slow server",
			setup: func(t *testing.T) []string {
				srv := newServer(t)
				scriptSucceeds(srv, id)
				srv.Fault(id, bctrltest.Fault{Latency: time.Minute})
				return envFor(srv)
			},
			args:   []string{"invocations", "get", id, "--timeout", "150ms"},
			want:   exitTimeout,
			stderr: `^bctrl: get timed out after 150ms \(--timeout\): .*context deadline exceeded`,
		},
		{
			name: "get timeout while retrying",
			setup: func(t *testing.T) []string {
				srv := newServer(t)
				scriptSucceeds(srv, id)
				srv.Fault(id, bctrltest.Fault{Status: http.StatusServiceUnavailable})
				return envFor(srv)
			},
			args:   []string{"--max-retries", "100", "invocations", "get", id, "--timeout", "400ms"},
			want:   exitTimeout,
			stderr: `^bctrl: get timed out after 400ms \(--timeout\): GET /v1/invocations/inv-1: context deadline exceeded`,
		},
		{
			name:  "get within its timeout",
			setup: withScript(scriptSucceeds),
			args:  []string{"invocations", "get", id, "--timeout", "10s"},
			want:  exitOK,
		},
		{
			name:   "get negative timeout",
			setup:  withScript(scriptSucceeds),
			args:   []string{"invocations", "get", id, "--timeout", "-1s"},
			want:   exitUsage,
			stderr: `--timeout must not be negative`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, tt.setup(t), tt.args...)
			if r.code != tt.want {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.want, r.stdout, r.stderr)
			}
			stderr := strings.TrimSpace(r.stderr)
			if tt.stderr == "" {
				if stderr != "" {
					t.Errorf("stderr:\n%s\nwant it empty", stderr)
				}
				return
			}
			if !regexp.MustCompile("(?m)" + tt.stderr).MatchString(stderr) {
				t.Errorf("stderr:\n%s\nwant a match for %q", stderr, tt.stderr)
			}
		})
	}
}

// withScript returns a setup that serves one invocation "inv-1" scripted
// by script.
func withScript(script func(*bctrltest.Server, string)) func(t *testing.T) []string {
	return func(t *testing.T) []string {
		srv := newServer(t)
		script(srv, "inv-1")
		return envFor(srv)
	}
}

// TestInterrupt sends SIGINT to a running wait: exit code 130.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptRunsForever(srv, "inv-1")
	p := startCLI(t, envFor(srv), append([]string{"invocations", "wait", "inv-1"}, fast...)...)
	p.waitLine(t) // the first status line: the wait is under way
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code, stderr := p.wait(t)
	if code != exitInterrupted {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
	}
	if !strings.Contains(stderr, "bctrl: interrupted") {
		t.Errorf("stderr:\n%s\nwant it to say interrupted", stderr)
	}
	checkNoSecret(t, nil, stderr, p.stdout.String())
}

// TestJSONIsTheServedBody checks that -o json prints the body the server
// sent, as is, for get and for a wait that ended failed alike.
func TestJSONIsTheServedBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	inv := bctrltest.NewInvocation("inv-1")
	srv.Set(bctrltest.Failed(inv, "step 1 failed",
		bctrltest.OKStep(0, "page.title", map[string]any{"title": "Checkout", "n": 1.5}),
		bctrltest.ErrStep(1, "page.clik", "UNKNOWN_CALL", "no such call", "did you mean page.click?"),
	))
	served := fetch(t, srv, "inv-1")

	for _, tt := range []struct {
		args []string
		code int
		path string // where the invocation is in the printed JSON
	}{
		{[]string{"invocations", "get", "inv-1", "-o", "json"}, exitOK, ""},
		{append([]string{"invocations", "wait", "inv-1", "--output=json"}, fast...), exitFailed, ""},
	} {
		r := runCLI(t, envFor(srv), tt.args...)
		if r.code != tt.code {
			t.Fatalf("bctrl %q: exit code %d, want %d; stderr:\n%s", tt.args, r.code, tt.code, r.stderr)
		}
		got := decodeOne(t, r.stdout)
		if tt.path != "" {
			got = got.(map[string]any)[tt.path]
		}
		if diff := cmp.Diff(served, got); diff != "" {
			t.Errorf("bctrl %q: JSON differs from the served body (-served +printed):\n%s", tt.args, diff)
		}
		if !strings.HasPrefix(r.stdout, "{\n  \"") {
			t.Errorf("bctrl %q: JSON is not indented:\n%s", tt.args, r.stdout)
		}
	}
}

// decodeOne decodes out, which must hold exactly one JSON value, as
// encoding/json does: what a script reads with one jq call.
func decodeOne(t *testing.T, out string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if err := dec.Decode(new(any)); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON value (%v):\n%s", err, out)
	}
	return v
}

// fetch GETs an invocation from srv directly and decodes it.
func fetch(t *testing.T, srv *bctrltest.Server, id string) any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1/invocations/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", id, resp.StatusCode, err, body)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestGetText checks the text summary: the fields, the step table and the
// diagnostic below it.
func TestGetText(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptFails(srv, "inv-1")
	for range 2 { // move the script to its final state
		runCLI(t, envFor(srv), "invocations", "get", "inv-1")
	}
	r := runCLI(t, envFor(srv), "invocations", "get", "inv-1")
	if r.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	want := []string{
		`(?m)^ID: +inv-1$`,
		`(?m)^Status: +failed$`,
		`(?m)^Created: +2026-01-01T00:00:00Z$`,
		`(?m)^Started: +2026-01-01T00:00:01Z$`,
		`(?m)^Finished: +2026-01-01T00:00:03Z$`,
		`(?m)^Duration: +2s$`,
		`(?m)^Error: +step 1 failed$`,
		`(?m)^INDEX +CALL +OK +RESULT +CODE +MESSAGE +HINT$`,
		`(?m)^0 +page\.goto +yes$`,
		`(?m)^1 +page\.clik +no +UNKNOWN_CALL +no such call page\.clik +did you mean page\.click\?$`,
		`(?m)^Step at index 1 \(page\.clik\) failed with UNKNOWN_CALL:$`,
		`(?m)^ +- Call page\.click instead$`,
		`(?m)^ +\$ sed -i s/page\.clik/page\.click/ flow\.json$`,
		`(?m)^ +Docs: https://docs\.example\.com/page\.click$`,
	}
	for _, re := range want {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("stdout has no match for %s:\n%s", re, r.stdout)
		}
	}
}

// TestWaitPlainProgress checks that, when stderr is not a terminal, wait
// prints one line per change of status or progress, and nothing for a poll
// that changed nothing.
func TestWaitPlainProgress(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	inv := bctrltest.NewInvocation("inv-1")
	srv.Script("inv-1",
		inv,
		inv, // no change: no line
		bctrltest.Running(inv, 1, 3, "opening the login page"),
		bctrltest.Running(inv, 1, 3, "opening the login page"), // no change
		bctrltest.Running(inv, 2, 3, "clicking Sign in"),
		bctrltest.Running(inv, 3, 3, "reading the total"),
		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil)),
	)
	r := runCLI(t, envFor(srv), append([]string{"invocations", "wait", "inv-1"}, fast...)...)
	if r.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	want := []string{
		"queued",
		"running progress 1/3 opening the login page",
		"running progress 2/3 clicking Sign in",
		"running progress 3/3 reading the total",
		"succeeded",
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(want), r.stderr)
	}
	stamp := regexp.MustCompile(`^\d\d:\d\d:\d\d `)
	for i, line := range lines {
		if !stamp.MatchString(line) || stamp.ReplaceAllString(line, "") != want[i] {
			t.Errorf("line %d = %q, want \"hh:mm:ss %s\"", i+1, line, want[i])
		}
	}
	if !strings.Contains(r.stdout, "Status:    succeeded") || !strings.Contains(r.stdout, "INDEX  CALL") {
		t.Errorf("stdout has no summary:\n%s", r.stdout)
	}
}

// TestKeyNeverPrinted runs help, usage errors, auth errors and every output
// mode with the key given by flag and by environment. runCLI fails the test
// if the key shows anywhere; this test covers the paths the others do not.
func TestKeyNeverPrinted(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptFails(srv, "inv-1")
	other := bctrltest.NewServer(t, bctrltest.WithAPIKey("another-key"))
	scriptSucceeds(other, "inv-1")

	byEnv := envFor(srv)
	byFlag := []string{"BCTRL_BASE_URL=" + srv.URL}
	runs := []struct {
		env  []string
		args []string
	}{
		{byEnv, []string{"--help"}},
		{byFlag, []string{"--api-key", secretKey, "--help"}},
		{byFlag, []string{"--api-key=" + secretKey, "invocations", "wait", "--help"}},
		{byFlag, []string{"--api-key", secretKey, "invocations", "get"}},
		{byFlag, []string{"--api-key", secretKey, "invocations", "get", "inv-1", "--nope"}},
		{byFlag, []string{"--api-key", secretKey, "invocations", "get", "inv-1", "-o"}},
		{byFlag, []string{"--api-key", secretKey, "nope"}},
		{byEnv, []string{"invocations", "get", "inv-1"}},
		{byEnv, []string{"invocations", "get", "inv-1", "-o", "json"}},
		{byFlag, append([]string{"--api-key", secretKey, "invocations", "wait", "inv-1"}, fast...)},
		{byFlag, append([]string{"--api-key", secretKey, "invocations", "wait", "inv-1", "-o", "json"}, fast...)},
		{byFlag, []string{"--api-key", secretKey, "invocations", "get", "inv-missing"}},
		{[]string{"BCTRL_BASE_URL=" + other.URL, "BCTRL_API_KEY=" + secretKey}, []string{"invocations", "get", "inv-1"}},
		{[]string{"BCTRL_BASE_URL=" + other.URL}, []string{"--api-key", secretKey, "invocations", "wait", "inv-1"}},
		{[]string{"BCTRL_API_KEY=" + secretKey}, []string{"--base-url", "http://user:pw@127.0.0.1:1", "invocations", "get", "x"}},
		{[]string{"BCTRL_API_KEY=" + secretKey + "\n"}, []string{"--base-url", srv.URL, "invocations", "get", "x"}},
		// The key pasted where an argument goes: cobra and the server echo
		// arguments, and bctrl redacts the key from what they say.
		{byEnv, []string{secretKey}},
		{byFlag, []string{"--api-key", secretKey, "invocations", "get", secretKey}},
		{byFlag, []string{"--api-key", secretKey, "invocations", secretKey}},
		// version, completion, --debug and the JSON of failures.
		{byEnv, []string{"version"}},
		{byFlag, []string{"--api-key", secretKey, "version", "-o", "json"}},
		{byEnv, []string{"completion", "bash"}},
		{byFlag, []string{"--api-key", secretKey, "__complete", "invocations", "get", "-o", ""}},
		{byFlag, []string{"--api-key", secretKey, "--debug", "invocations", "get", "inv-1"}},
		{byEnv, append([]string{"--debug", "invocations", "wait", "inv-1", "-o", "json"}, fast...)},
		{byEnv, []string{"--debug", "invocations", "get", secretKey}},
		{byFlag, []string{"--api-key", secretKey, "--debug", "invocations", "get", secretKey, "-o", "json"}},
		{byEnv, []string{"invocations", "get", secretKey, "-o", "json"}},
		{byFlag, []string{"--api-key", secretKey, "invocations", "get", "-o", "json"}},
		{byFlag, []string{"--api-key", secretKey, "invocations", "get", "inv-missing", "-o", "json", "--timeout", "5s"}},
		{[]string{"BCTRL_BASE_URL=" + other.URL}, []string{"--api-key", secretKey, "--debug", "invocations", "get", "inv-1", "-o", "json"}},
		{[]string{"BCTRL_API_KEY=" + secretKey}, []string{"--debug", "--base-url", "http://" + freeClosedPort(t), "--max-retries", "1", "invocations", "get", "inv-1", "-o", "json"}},
	}
	for _, run := range runs {
		r := runCLI(t, run.env, run.args...)
		if r.stdout+r.stderr == "" {
			t.Errorf("bctrl %q printed nothing", run.args)
		}
	}
}

// TestDevServer starts the dev server with fast ticks, waits on each demo
// invocation, and stops it with SIGINT.
func TestDevServer(t *testing.T) {
	t.Parallel()
	ready := filepath.Join(t.TempDir(), "url")
	p := startCLI(t, nil, "dev-server", "--addr", "127.0.0.1:0", "--ready-file", ready, "--tick", "20ms", "--api-key", secretKey)
	url := waitForFile(t, ready)

	env := []string{"BCTRL_BASE_URL=" + url, "BCTRL_API_KEY=" + secretKey}
	for id, want := range map[string]int{
		demoSucceedsID: exitOK,
		demoFailsID:    exitFailed,
		demoCancelsID:  exitFailed,
		demoTimesOutID: exitFailed,
	} {
		r := runCLI(t, env, append([]string{"invocations", "wait", id, "--timeout", "5s"}, fast...)...)
		if r.code != want {
			t.Errorf("wait %s: exit code %d, want %d; stderr:\n%s", id, r.code, want, r.stderr)
		}
		// The last step's result, as the text summary shows it.
		if re := regexp.MustCompile(`(?m)^4 +page\.textContent +yes +"Total: \$42\.00"$`); id == demoSucceedsID && !re.MatchString(r.stdout) {
			t.Errorf("wait %s: no step result %q in the summary:\n%s", id, re, r.stdout)
		}
	}
	// Without --simulate, any other id does not exist.
	if r := runCLI(t, env, "invocations", "get", "5e1a0000-0000-4000-8000-000000000000"); r.code != exitNotFound {
		t.Errorf("an unknown id: exit code %d, want %d; stderr:\n%s", r.code, exitNotFound, r.stderr)
	}
	r := runCLI(t, env, "invocations", "get", demoFailsID)
	for _, s := range []string{"UNKNOWN_CALL", "Fixes:", "Docs: https://"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("failed demo invocation has no %q:\n%s", s, r.stdout)
		}
	}

	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code, stderr := p.wait(t)
	if code != exitOK {
		t.Errorf("dev-server exit code %d after SIGINT, want 0; stderr:\n%s", code, stderr)
	}
	out := p.stdout.String()
	checkNoSecret(t, []string{"dev-server"}, out, stderr)
	for _, s := range []string{url, "export BCTRL_BASE_URL=" + url, demoSucceedsID, demoFailsID, demoCancelsID, demoTimesOutID} {
		if !strings.Contains(out, s) {
			t.Errorf("dev-server output has no %q:\n%s", s, out)
		}
	}
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		t.Errorf("ready file still there after exit: %v", err)
	}
}

// TestDevServerDemoKey checks that without --api-key the dev server takes
// the demo key and says so.
func TestDevServerDemoKey(t *testing.T) {
	t.Parallel()
	ready := filepath.Join(t.TempDir(), "url")
	p := startCLI(t, nil, "dev-server", "--addr", "127.0.0.1:0", "--ready-file", ready)
	url := waitForFile(t, ready)
	r := runCLI(t, []string{"BCTRL_BASE_URL=" + url, "BCTRL_API_KEY=" + demoAPIKey}, "invocations", "get", demoSucceedsID)
	if r.code != exitOK {
		t.Errorf("get with the demo key: exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	p.cmd.Process.Signal(os.Interrupt)
	if code, stderr := p.wait(t); code != exitOK {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, stderr)
	}
	if out := p.stdout.String(); !strings.Contains(out, "export BCTRL_API_KEY="+demoAPIKey+"\n") {
		t.Errorf("output has no export line for the demo key:\n%s", out)
	}
}

// waitForFile waits for a dev server's ready file and returns its content.
func waitForFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
	return ""
}

// TestDemoScriptWaitsOnTheSucceedingInvocation keeps scripts/demo.sh and the
// demo ids in step.
func TestDemoScriptWaitsOnTheSucceedingInvocation(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "scripts", "demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), demoSucceedsID) {
		t.Errorf("scripts/demo.sh does not wait on %s", demoSucceedsID)
	}
}

// TestCompletion checks that cobra's completion command is enabled, and
// that -o completes to its values.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string][]string{
		"bash": {"# bash completion V2 for bctrl", "__start_bctrl"},
		"zsh":  {"#compdef bctrl"},
		"fish": {"complete -c bctrl"},
	} {
		r := runCLI(t, nil, "completion", shell)
		if r.code != exitOK || r.stderr != "" {
			t.Errorf("completion %s: exit code %d; stderr:\n%s", shell, r.code, r.stderr)
		}
		for _, s := range want {
			if !strings.Contains(r.stdout, s) {
				t.Errorf("completion %s: no %q in the script:\n%.300s", shell, s, r.stdout)
			}
		}
	}
	r := runCLI(t, nil, "__complete", "invocations", "get", "-o", "")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "text\njson\n:4\n") {
		t.Errorf("__complete -o: exit code %d, stdout:\n%s", r.code, r.stdout)
	}
	r = runCLI(t, nil, "completion", "tcsh")
	if r.code != exitUsage || !strings.Contains(r.stderr, `unknown command "tcsh"`) {
		t.Errorf("completion tcsh: exit code %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestStdoutWriteError runs commands with stdout on /dev/full, where
// every write fails: the exit code is exitOutput and stderr says why,
// instead of exit 0 with nothing written. A failure whose own code says
// more keeps it.
func TestStdoutWriteError(t *testing.T) {
	t.Parallel()
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	srv := newServer(t)
	scriptSucceeds(srv, "inv-1")
	scriptFails(srv, "inv-2")
	scriptRunsForever(srv, "inv-3")
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"version"}, exitOutput},
		{[]string{"version", "-o", "json"}, exitOutput},
		{[]string{"--version"}, exitOutput},
		{[]string{"--help"}, exitOutput},
		{[]string{"invocations", "get", "inv-1"}, exitOutput},
		{[]string{"invocations", "get", "inv-1", "-o", "json"}, exitOutput},
		{append([]string{"invocations", "wait", "inv-2"}, fast...), exitOutput}, // 1, but the summary is lost
		{append([]string{"invocations", "wait", "inv-1", "inv-2"}, fast...), exitOutput},
		{[]string{"completion", "bash"}, exitOutput}, // cobra returns the write error: not a usage error
		{[]string{"completion", "zsh"}, exitOutput},
		{[]string{"completion", "fish"}, exitOutput},
		{[]string{"completion", "powershell"}, exitOutput},
		{append([]string{"invocations", "wait", "inv-2", "-o", "json"}, fast...), exitOutput},                        // the failed invocation is lost
		{append([]string{"invocations", "wait", "inv-3", "-o", "json", "--timeout", "200ms"}, fast...), exitTimeout}, // the last seen is lost, but 6 says more
	} {
		cmd := exec.CommandContext(t.Context(), bin, tt.args...)
		cmd.Env = envFor(srv)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = full, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.want || !strings.Contains(stderr.String(), "bctrl: write to stdout: ") || !strings.Contains(stderr.String(), "no space left on device") ||
			strings.Contains(stderr.String(), "--help' for usage") {
			t.Errorf("bctrl %q > /dev/full: exit code %d, want %d; stderr:\n%s", tt.args, code, tt.want, stderr.String())
		}
	}
}

// TestCLIHabits covers what users of gh and kubectl reach for: --version,
// the inv alias, blank ids refused before any request, a 404 that is not
// the API's telling the user to check --base-url, and --insecure-http.
func TestCLIHabits(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptSucceeds(srv, "inv-1")
	srv.Fault("inv-404", bctrltest.Fault{Status: http.StatusNotFound, Body: "404 page not found", ContentType: "text/plain"})
	env := envFor(srv)

	t.Run("--version", func(t *testing.T) {
		flag, cmd := runCLI(t, nil, "--version"), runCLI(t, nil, "version")
		if flag.code != exitOK || flag.stdout != cmd.stdout || !strings.Contains(flag.stdout, "API spec:") {
			t.Errorf("--version: exit code %d, stdout:\n%s\nwant as version's:\n%s", flag.code, flag.stdout, cmd.stdout)
		}
		if r := runCLI(t, nil); r.code != exitOK || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("bctrl alone: exit code %d, stdout:\n%s", r.code, r.stdout)
		}
	})
	t.Run("inv alias", func(t *testing.T) {
		if r := runCLI(t, env, "inv", "get", "inv-1"); r.code != exitOK || !strings.Contains(r.stdout, "Status:") {
			t.Errorf("inv get: exit code %d; stderr:\n%s", r.code, r.stderr)
		}
		if r := runCLI(t, env, "--help"); !regexp.MustCompile(`(?m)^Exit codes:$`).MatchString(r.stdout) || !strings.Contains(r.stdout, "7    stdout could not be written") {
			t.Errorf("help has no exit code table:\n%s", r.stdout)
		}
	})
	t.Run("blank ids", func(t *testing.T) {
		before := len(srv.Requests())
		for _, args := range [][]string{
			{"invocations", "get", " "},
			{"invocations", "get", ""},
			{"inv", "wait", "\t \n"},
			{"invocations", "get", " ", "-o", "json"},
		} {
			r := runCLI(t, env, args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "invalid id ") || !strings.Contains(r.stderr, "it is blank") {
				t.Errorf("bctrl %q: exit code %d, stderr:\n%s", args, r.code, r.stderr)
			}
		}
		if n := len(srv.Requests()) - before; n != 0 {
			t.Errorf("%d requests sent for blank ids", n)
		}
	})
	t.Run("404 from elsewhere", func(t *testing.T) {
		for _, tt := range []struct {
			env  []string
			args []string
			code string
		}{
			{[]string{"BCTRL_BASE_URL=" + srv.URL + "/api", "BCTRL_API_KEY=" + secretKey}, []string{"invocations", "get", "inv-1"}, "route.not_found"},
			{env, []string{"invocations", "get", "inv-404", "--max-retries", "0"}, "api_error"},
			{[]string{"BCTRL_BASE_URL=" + srv.URL + "/api", "BCTRL_API_KEY=" + secretKey}, append([]string{"invocations", "wait", "inv-1"}, fast...), "route.not_found"},
		} {
			r := runCLI(t, tt.env, tt.args...)
			if r.code != exitAPI || !strings.Contains(r.stderr, "404 Not Found") || !strings.Contains(r.stderr, "check --base-url") {
				t.Errorf("bctrl %q: exit code %d, want %d; stderr:\n%s", tt.args, r.code, exitAPI, r.stderr)
			}
			r = runCLI(t, tt.env, append(tt.args, "-o", "json")...)
			if f := decodeFailure(t, r.stderr); f.Error.Code != tt.code || *f.Error.ExitCode != exitAPI {
				t.Errorf("bctrl %q -o json: %+v", tt.args, f.Error)
			}
		}
		// The API's own 404 stays 3, without the hint.
		if r := runCLI(t, env, "invocations", "get", "inv-missing"); r.code != exitNotFound || strings.Contains(r.stderr, "--base-url") {
			t.Errorf("invocation.not_found: exit code %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("--insecure-http", func(t *testing.T) {
		// 192.0.2.1 is TEST-NET-1: not loopback, and nothing answers.
		plain := []string{"BCTRL_BASE_URL=http://192.0.2.1:9", "BCTRL_API_KEY=" + secretKey}
		r := runCLI(t, plain, "invocations", "get", "inv-1")
		if r.code != exitUsage || !strings.Contains(r.stderr, "add --insecure-http") || strings.Contains(r.stderr, "WithInsecureHTTP") {
			t.Errorf("plain http: exit code %d, stderr:\n%s", r.code, r.stderr)
		}
		r = runCLI(t, plain, "--insecure-http", "--max-retries", "0", "invocations", "get", "inv-1", "--timeout", "100ms")
		if r.code == exitUsage || r.code == exitOK {
			t.Errorf("--insecure-http: exit code %d, want a network error or a timeout; stderr:\n%s", r.code, r.stderr)
		}
		// Loopback needs no flag.
		if r := runCLI(t, env, "invocations", "get", "inv-1"); r.code != exitOK {
			t.Errorf("loopback: exit code %d; stderr:\n%s", r.code, r.stderr)
		}
	})
}
