package main

import (
	stdcmp "cmp"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// These tests run the CLI in process, with their own environment and a
// stderr that claims to be a terminal or not.

func TestWaitProgressBarOnTerminal(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptSucceeds(srv, "inv-1")
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
	r := runApp(t.Context(), t, env, true, append([]string{"invocations", "wait", "inv-1"}, fast...)...)
	if r.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, s := range []string{"running   progress 1/2 opening the login page", "running   progress 2/2 clicking Sign in", "succeeded", "100%"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("progress bar output has no %q:\n%q", s, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "\n12:") || strings.Contains(r.stderr, "running step") {
		t.Errorf("terminal output has plain progress lines:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "Status:    succeeded") {
		t.Errorf("stdout has no summary:\n%s", r.stdout)
	}
}

func TestInterruptedInProcess(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptRunsForever(srv, "inv-1")
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // as the signal handler would
	for _, cmd := range []string{"get", "wait"} {
		r := runApp(ctx, t, env, false, "invocations", cmd, "inv-1")
		if r.code != exitInterrupted || strings.TrimSpace(r.stderr) != "bctrl: interrupted" {
			t.Errorf("%s: exit code %d, stderr %q; want %d, \"bctrl: interrupted\"", cmd, r.code, r.stderr, exitInterrupted)
		}
	}
}

// hostile is server text that would drive a terminal: retitle it (OSC 0
// ending in BEL), clear it (CSI 2J), a C1 CSI, a bidi override that
// reorders what follows, and a newline and a tab that would forge lines
// and columns.
const hostile = "A\x1b]0;title\x07B\x1b[2JC\u009b2JD\u202eE\nF\tG"

// hostileShown is how hostile must show: every control visible.
const hostileShown = `A\x1b]0;title\x07B\x1b[2JC\u009b2JD\u202eE\nF\tG`

// rawControls reports the first unsafe rune in out other than newline and
// tab, which are the CLI's own layout.
func rawControls(out string) (rune, bool) {
	for _, r := range out {
		if r != '\n' && r != '\t' && unsafeRune(r) {
			return r, true
		}
	}
	return 0, false
}

// TestTerminalSafety serves text with escape sequences everywhere the CLI
// prints a server's or an argument's text, in text mode: a server's error
// code and message, a step's call, code, message and hint, a status (in
// the summary, the progress lines and the error of a wait), an error
// message, progress, a diagnostic, an id echoed in a 404. None reaches
// stdout or stderr raw; each shows escaped.
func TestTerminalSafety(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	inv := bctrltest.NewInvocation("inv-1")
	diag := bctrltest.NewDiagnostic("x", bctrltest.Fix(hostile, hostile))
	diag.Closest, diag.DocsURL = []string{hostile}, hostile
	srv.Set(bctrltest.Failed(inv, hostile,
		bctrltest.OKStep(0, hostile, hostile),
		bctrltest.WithDiagnostic(bctrltest.ErrStep(1, hostile, hostile, hostile, hostile), diag)))
	odd := bctrltest.Running(bctrltest.NewInvocation("inv-2"), 1, 2, hostile)
	ended := bctrltest.Succeeded(odd)
	ended.Status = hostile // unknown, and finished: the wait ends
	srv.Script("inv-2", odd, ended)
	srv.Fault("inv-3", bctrltest.Fault{Status: http.StatusInternalServerError,
		Body: `{"code":"` + jsonEscape(hostile) + `","message":"` + jsonEscape(hostile) + `"}`})
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}

	for _, tt := range []struct {
		name  string
		tty   bool
		args  []string
		code  int
		shown string // where hostileShown (or want) must appear: "stdout" or "stderr"
		want  string
	}{
		{"get: error, steps, diagnostic", false, []string{"invocations", "get", "inv-1"}, exitOK, "stdout", ""},
		{"wait: the error message", false, append([]string{"invocations", "wait", "inv-1"}, fast...), exitFailed, "stderr", ""},
		{"wait: status and progress lines", false, append([]string{"invocations", "wait", "inv-2"}, fast...), exitFailed, "stderr", ""},
		{"wait: progress bar", true, append([]string{"invocations", "wait", "inv-2"}, fast...), exitFailed, "stdout", ""},
		{"server error code and message", false, []string{"--max-retries", "0", "invocations", "get", "inv-3"}, exitAPI, "stderr", ""},
		// The SDK refuses an id with a control character; bidi controls pass.
		{"an argument echoed by the server", false, []string{"invocations", "get", "x\u202ey\u2066z"}, exitNotFound, "stderr", `x\u202ey\u2066z`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The binary, except for the bar, which needs a terminal.
			r := runCLI(t, envFor(srv), tt.args...)
			if tt.tty {
				r = runApp(t.Context(), t, env, tt.tty, tt.args...)
			}
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%q", r.code, tt.code, r.stderr)
			}
			for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
				if tt.tty && name == "stderr" {
					// The bar draws with escape sequences of its own; the
					// server's must not be among them.
					for _, seq := range []string{"\x1b]0;", "\x1b[2J", "\x07", "\u009b", "\u202e"} {
						if strings.Contains(out, seq) {
							t.Errorf("stderr has the server's %q raw:\n%q", seq, out)
						}
					}
					continue
				}
				if r, ok := rawControls(out); ok {
					t.Errorf("%s has %U raw:\n%q", name, r, out)
				}
			}
			want := stdcmp.Or(tt.want, hostileShown)
			if out := map[string]string{"stdout": r.stdout, "stderr": r.stderr}[tt.shown]; !strings.Contains(out, want) {
				t.Errorf("%s does not show the text escaped (%s):\n%s", tt.shown, want, out)
			}
		})
	}
}

// TestJSONOutputIsSafeJSON checks -o json with the same text: stdout is
// one valid JSON value equal to what the server sent, with no unsafe rune
// raw (C1 controls and bidi overrides, which JSON allows in strings, are
// written as \u escapes).
func TestJSONOutputIsSafeJSON(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Set(bctrltest.Failed(bctrltest.NewInvocation("inv-1"), hostile, bctrltest.ErrStep(0, hostile, hostile, hostile, hostile)))
	served := fetch(t, srv, "inv-1")
	for _, tt := range []struct {
		args []string
		path string // where the invocation is in the printed JSON
	}{
		{[]string{"invocations", "get", "inv-1", "-o", "json"}, ""},
		{append([]string{"invocations", "wait", "inv-1", "-o", "json"}, fast...), ""},
	} {
		args := tt.args
		r := runCLI(t, envFor(srv), args...)
		if r, ok := rawControls(r.stdout); ok {
			t.Errorf("%q: stdout has %U raw", args, r)
		}
		got := decodeOne(t, r.stdout)
		if tt.path != "" {
			got = got.(map[string]any)[tt.path]
		}
		if diff := cmp.Diff(served, got); diff != "" {
			t.Errorf("%q: JSON differs from the served body (-served +printed):\n%s", args, diff)
		}
	}
}

// jsonEscape returns s as the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func TestEnvironmentIsReadInCode(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	scriptSucceeds(srv, "inv-1")
	// The flag wins over the environment.
	env := map[string]string{"BCTRL_BASE_URL": "http://127.0.0.1:1", "BCTRL_API_KEY": "wrong-key"}
	r := runApp(t.Context(), t, env, false, "--base-url", srv.URL, "--api-key", secretKey, "invocations", "get", "inv-1")
	if r.code != exitOK {
		t.Errorf("flags over env: exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	// Help shows no default taken from the environment.
	env = map[string]string{"BCTRL_API_KEY": secretKey}
	r = runApp(t.Context(), t, env, false, "invocations", "get", "--help")
	if r.code != exitOK || !strings.Contains(r.stdout, "--api-key string") {
		t.Errorf("help: exit code %d, stdout:\n%s", r.code, r.stdout)
	}
}
