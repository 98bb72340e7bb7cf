package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// printedFailure is the JSON a failure prints on stderr with -o json.
// Decoding disallows unknown fields, so the shape scripts read is pinned
// here.
type printedFailure struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
		ExitCode  *int   `json:"exit_code"`
	} `json:"error"`
}

// decodeFailure decodes stderr, which must hold one printedFailure on one
// line and nothing else.
func decodeFailure(t *testing.T, stderr string) printedFailure {
	t.Helper()
	decodeOne(t, stderr) // exactly one value
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not one line:\n%s", stderr)
	}
	var f printedFailure
	dec := json.NewDecoder(strings.NewReader(stderr))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("stderr is not a failure object: %v\n%s", err, stderr)
	}
	return f
}

// printedInvocation decodes stdout, which must hold one invocation, or
// returns nil if it is empty.
func printedInvocation(t *testing.T, stdout string) map[string]any {
	t.Helper()
	if stdout == "" {
		return nil
	}
	inv, ok := decodeOne(t, stdout).(map[string]any)
	if !ok {
		t.Fatalf("stdout is not an object:\n%s", stdout)
	}
	return inv
}

// TestJSONErrors runs failing commands with -o json: stderr holds one
// object with the error's code, message, request id and exit code, and
// nothing else; stdout holds the invocation whenever one was observed
// (jq .status works on failure), and nothing otherwise.
func TestJSONErrors(t *testing.T) {
	t.Parallel()
	const id = "inv-1"
	withFault := func(f bctrltest.Fault) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			srv := newServer(t)
			scriptSucceeds(srv, id)
			srv.Fault(id, f)
			return envFor(srv)
		}
	}
	tests := []struct {
		name      string
		setup     func(t *testing.T) []string
		args      []string
		exit      int
		code      string
		requestID bool   // whether the error has a request id
		status    string // the printed invocation's status; "" for none
	}{
		{
			name: "get not found", setup: withScript(scriptSucceeds),
			args: []string{"invocations", "get", "inv-missing", "-o", "json"},
			exit: exitNotFound, code: "invocation.not_found", requestID: true,
		},
		{
			name: "wait not found", setup: withScript(scriptSucceeds),
			args: append([]string{"invocations", "wait", "inv-missing", "-o", "json"}, fast...),
			exit: exitNotFound, code: "invocation.not_found", requestID: true,
		},
		{
			name: "unauthorized",
			setup: func(t *testing.T) []string {
				srv := bctrltest.NewServer(t, bctrltest.WithAPIKey("another-key"))
				scriptSucceeds(srv, id)
				return envFor(srv)
			},
			args: []string{"invocations", "get", id, "-o", "json"},
			exit: exitAuth, code: "auth.invalid", requestID: true,
		},
		{
			name: "server error", setup: withFault(bctrltest.Fault{Status: http.StatusInternalServerError}),
			args: []string{"--max-retries", "0", "invocations", "get", id, "-o", "json"},
			exit: exitAPI, code: "bctrltest.fault", requestID: true,
		},
		{
			name: "error page without a code",
			setup: withFault(bctrltest.Fault{Status: http.StatusBadGateway,
				Body: "<html>bad gateway</html>", ContentType: "text/html"}),
			args: []string{"--max-retries", "0", "invocations", "get", id, "-o", "json"},
			exit: exitAPI, code: "api_error", requestID: true,
		},
		{
			name: "forbidden without a code",
			setup: withFault(bctrltest.Fault{Status: http.StatusForbidden,
				Body: "denied", ContentType: "text/plain"}),
			args: []string{"invocations", "get", id, "-o", "json"},
			exit: exitAuth, code: "forbidden", requestID: true,
		},
		{
			name: "malformed response", setup: withFault(bctrltest.Fault{Malformed: true}),
			args: []string{"invocations", "get", id, "-o", "json"},
			exit: exitAPI, code: "invalid_response", requestID: true,
		},
		{
			name: "connection refused",
			setup: func(t *testing.T) []string {
				return []string{"BCTRL_API_KEY=" + secretKey, "BCTRL_BASE_URL=http://" + freeClosedPort(t)}
			},
			args: []string{"--max-retries", "0", "invocations", "get", id, "-o", "json"},
			exit: exitAPI, code: "network",
		},
		{
			name: "get timeout", setup: withFault(bctrltest.Fault{Latency: time.Minute}),
			args: []string{"invocations", "get", id, "-o", "json", "--timeout", "100ms"},
			exit: exitTimeout, code: "timeout",
		},
		{
			name: "wait timeout", setup: withScript(scriptRunsForever),
			args: append([]string{"invocations", "wait", id, "-o", "json", "--timeout", "1s"}, fast...),
			exit: exitTimeout, code: "timeout", requestID: true, status: "running",
		},
		{
			name: "wait failed", setup: withScript(scriptFails),
			args: append([]string{"invocations", "wait", id, "-o", "json"}, fast...),
			exit: exitFailed, code: "invocation_failed", requestID: true, status: "failed",
		},
		{
			name: "wait cancelled", setup: withScript(scriptCancelled),
			args: append([]string{"invocations", "wait", id, "-ojson"}, fast...),
			exit: exitFailed, code: "invocation_cancelled", requestID: true, status: "cancelled",
		},
		{
			name: "wait timed_out", setup: withScript(scriptTimedOut),
			args: append([]string{"invocations", "wait", id, "--output", "json"}, fast...),
			exit: exitFailed, code: "invocation_timed_out", requestID: true, status: "timed_out",
		},
		{
			name: "missing id", setup: withScript(scriptSucceeds),
			args: []string{"invocations", "get", "-o", "json"},
			exit: exitUsage, code: "usage",
		},
		{
			name: "unknown flag after -o", setup: withScript(scriptSucceeds),
			args: []string{"invocations", "get", id, "-o", "json", "--bogus"},
			exit: exitUsage, code: "usage",
		},
		{
			name: "unknown flag before -o", setup: withScript(scriptSucceeds),
			args: []string{"invocations", "wait", id, "--bogus", "--output=json"},
			exit: exitUsage, code: "usage",
		},
		{
			name: "bad flag value", setup: withScript(scriptSucceeds),
			args: []string{"invocations", "wait", id, "-o", "json", "--timeout", "soon"},
			exit: exitUsage, code: "usage",
		},
		{
			name:  "no API key",
			setup: func(t *testing.T) []string { return []string{"BCTRL_BASE_URL=http://127.0.0.1:1"} },
			args:  []string{"invocations", "get", id, "-o", "json"},
			exit:  exitUsage, code: "usage",
		},
		{
			name: "invalid id", setup: withScript(scriptSucceeds),
			args: []string{"invocations", "get", "..", "-o", "json"},
			exit: exitUsage, code: "usage",
		},
		{
			name: "version with an argument", setup: withScript(scriptSucceeds),
			args: []string{"version", "x", "-o", "json"},
			exit: exitUsage, code: "usage",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, tt.setup(t), tt.args...)
			if r.code != tt.exit {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.exit, r.stdout, r.stderr)
			}
			f := decodeFailure(t, r.stderr)
			e := f.Error
			if e.Code != tt.code {
				t.Errorf("code %q, want %q", e.Code, tt.code)
			}
			if e.ExitCode == nil || *e.ExitCode != r.code {
				t.Errorf("exit_code %v, want %d", e.ExitCode, r.code)
			}
			if tt.requestID != regexp.MustCompile(`^req_\w+$`).MatchString(e.RequestID) {
				t.Errorf("request_id %q; want one: %v", e.RequestID, tt.requestID)
			}
			if e.Message == "" || strings.HasPrefix(e.Message, "bctrl:") {
				t.Errorf("message %q", e.Message)
			}
			inv := printedInvocation(t, r.stdout)
			if got, _ := inv["status"].(string); got != tt.status {
				t.Errorf("invocation status on stdout %q, want %q (stdout:\n%s)", got, tt.status, r.stdout)
			}
			if tt.status != "" && inv["id"] != id {
				t.Errorf("invocation id %v, want %s", inv["id"], id)
			}
		})
	}
}

// TestErrorsWithoutJSON checks that a failure prints nothing on stdout in
// text mode, and with an invalid -o.
func TestErrorsWithoutJSON(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, args := range [][]string{
		{"invocations", "get", "inv-missing"},
		{"invocations", "get", "inv-missing", "-o", "yaml"},
		{"invocations", "get", "inv-missing", "-o", "text", "--bogus", "-o=json"}, // parsing stopped at --bogus: the last -o wins
		{"dev-server", "--tick", "0", "-o", "json"},                               // no -o: a usage error in text
		{"invocations", "get", "inv-missing", "--", "-o", "json"},
	} {
		r := runCLI(t, envFor(srv), args...)
		if strings.HasPrefix(args[len(args)-1], "-o=json") {
			if f := decodeFailure(t, r.stderr); r.code == exitOK || f.Error.Code != "usage" || r.stdout != "" {
				t.Errorf("bctrl %q: exit code %d, stdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
			}
			continue
		}
		if r.code == exitOK || !strings.HasPrefix(r.stderr, "bctrl: ") {
			t.Errorf("bctrl %q: exit code %d, stderr:\n%s", args, r.code, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("bctrl %q: stdout:\n%s\nwant it empty", args, r.stdout)
		}
	}
}

// TestJSONErrorsInProcess covers the failures a subprocess cannot reach
// easily: an interrupt, and an invocation that ended with a status this
// bctrl does not know.
func TestJSONErrorsInProcess(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptRunsForever(srv, "inv-1")
	inv := bctrltest.Succeeded(bctrltest.NewInvocation("inv-2"))
	inv.Status = "archived"
	srv.Set(inv)
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := runApp(ctx, t, env, false, "invocations", "wait", "inv-1", "-o", "json")
	if f := decodeFailure(t, r.stderr); r.code != exitInterrupted || f.Error.Code != "interrupted" || f.Error.Message != "interrupted" {
		t.Errorf("interrupted: exit code %d, stderr:\n%s", r.code, r.stderr)
	}

	r = runApp(t.Context(), t, env, false, append([]string{"invocations", "wait", "inv-2", "-o", "json"}, fast...)...)
	f := decodeFailure(t, r.stderr)
	if r.code != exitFailed || f.Error.Code != "invocation_unknown_status" || printedInvocation(t, r.stdout)["status"] != "archived" {
		t.Errorf("unknown status: exit code %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestOutputInArgs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"get", "x"}, ""},
		{[]string{"get", "x", "-o", "json"}, "json"},
		{[]string{"get", "x", "-ojson"}, "json"},
		{[]string{"get", "x", "-o=json"}, "json"},
		{[]string{"get", "x", "--output", "json"}, "json"},
		{[]string{"get", "x", "--output=json"}, "json"},
		{[]string{"-o", "json", "get", "-o", "text"}, "text"},
		{[]string{"get", "x", "-o"}, ""},
		{[]string{"get", "--", "-o", "json"}, ""},
		{[]string{"get", "--outputs", "json"}, ""},
	} {
		if got := outputInArgs(tt.args); got != tt.want {
			t.Errorf("outputInArgs(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
