package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// batchServer serves inv-ok (succeeds), inv-bad (fails), inv-slow (runs
// forever) and nothing else.
func batchServer(t *testing.T) *bctrltest.Server {
	srv := newServer(t)
	scriptSucceeds(srv, "inv-ok")
	bad := bctrltest.NewInvocation("inv-bad")
	srv.Script("inv-bad", bad, bctrltest.Running(bad, 1, 2, "working"),
		bctrltest.Failed(bad, "step 1 failed", bctrltest.ErrStep(0, "page.goto", "TIMEOUT", "too slow", "")))
	scriptRunsForever(srv, "inv-slow")
	return srv
}

// TestWaitMany waits for several ids and checks each outcome on stdout,
// the one progress line and summary on stderr, and the exit code: the
// highest of the invocations'.
func TestWaitMany(t *testing.T) {
	t.Parallel()
	srv := batchServer(t)
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
	for _, tc := range []struct {
		name  string
		ids   []string
		extra []string
		code  int
		lines []string // stdout, in any order
	}{
		{"all succeed", []string{"inv-ok", "inv-ok"}, nil, exitOK, []string{"inv-ok\tsucceeded"}},
		{"one fails", []string{"inv-ok", "inv-bad"}, nil, exitFailed, []string{"inv-ok\tsucceeded", "inv-bad\tfailed\tinvocation inv-bad ended failed"}},
		{"one not found", []string{"inv-bad", "nope", "inv-ok"}, nil, exitNotFound, []string{"inv-ok\tsucceeded", "inv-bad\tfailed", "nope\tnot_found"}},
		{"one times out", []string{"inv-slow", "nope", "inv-bad"}, []string{"--timeout", "300ms", "--budget", "0"}, exitTimeout, []string{"inv-slow\ttimeout", "nope\tnot_found", "inv-bad\tfailed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append(append(append([]string{"invocations", "wait"}, tc.ids...), fast...), tc.extra...)
			r := runApp(t.Context(), t, env, false, args...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			got := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(got) != len(tc.lines) {
				t.Fatalf("stdout has %d lines, want %d, one per distinct id:\n%s", len(got), len(tc.lines), r.stdout)
			}
			for _, want := range tc.lines {
				found := false
				for _, line := range got {
					found = found || strings.HasPrefix(line, want)
				}
				if !found {
					t.Errorf("stdout has no line starting %q:\n%s", want, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, "ended:") || strings.Count(r.stderr, "ended:") != 1 {
				t.Errorf("stderr has not one progress line:\n%s", r.stderr)
			}
			if tc.code != exitOK && !strings.Contains(r.stderr, "invocations did not succeed") {
				t.Errorf("stderr has no summary of the failures:\n%s", r.stderr)
			}
		})
	}
}

// TestWaitManyJSON prints one JSON object per line, per invocation, and
// nothing else on stdout, failures included.
func TestWaitManyJSON(t *testing.T) {
	t.Parallel()
	srv := batchServer(t)
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
	r := runApp(t.Context(), t, env, false, append([]string{"invocations", "wait", "inv-ok", "inv-bad", "nope", "-o", "json"}, fast...)...)
	if r.code != exitNotFound {
		t.Errorf("exit code %d, want %d", r.code, exitNotFound)
	}
	codes := map[string]int{}
	for line := range strings.Lines(r.stdout) {
		var v endedJSON
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("stdout line %q is not one JSON object: %v", line, err)
		}
		codes[v.ID] = v.ExitCode
		if (v.ExitCode != exitOK) != (v.Error != nil) || v.ExitCode != exitNotFound && len(v.Invocation) == 0 {
			t.Errorf("%s: %s, want an error exactly when it did not succeed, and the invocation when observed", v.ID, line)
		}
	}
	want := map[string]int{"inv-ok": exitOK, "inv-bad": exitFailed, "nope": exitNotFound}
	for id, code := range want {
		if codes[id] != code {
			t.Errorf("%s: exit_code %d, want %d (stdout:\n%s)", id, codes[id], code, r.stdout)
		}
	}
	if len(codes) != len(want) {
		t.Errorf("stdout has %d objects, want %d:\n%s", len(codes), len(want), r.stdout)
	}
	// stderr: the batch's failure as one JSON object, no progress line.
	if f := decodeFailure(t, r.stderr); f.Error.Code != "invocation.not_found" || *f.Error.ExitCode != exitNotFound ||
		!strings.Contains(f.Error.Message, "2 of 3 invocations did not succeed") {
		t.Errorf("stderr's error %+v", f.Error)
	}
}

// TestWaitManyDefaultBudget waits 500 ms for two invocations that never
// end, polling as fast as 1-5 ms allows: the default --budget of 10 polls
// a second bounds the requests (unbounded, it was hundreds); --budget 0
// lifts the bound.
func TestWaitManyDefaultBudget(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		extra    []string
		min, max int
	}{
		{nil, 1, 15},
		{[]string{"--budget", "0"}, 40, 1 << 20},
	} {
		srv := newServer(t)
		scriptRunsForever(srv, "inv-1")
		scriptRunsForever(srv, "inv-2")
		env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
		args := append(append([]string{"invocations", "wait", "inv-1", "inv-2", "--timeout", "500ms"}, fast...), tt.extra...)
		r := runApp(t.Context(), t, env, false, args...)
		if n := len(srv.Requests()); r.code != exitTimeout || n < tt.min || n > tt.max {
			t.Errorf("%q: exit code %d, %d requests; want %d, %d to %d", tt.extra, r.code, n, exitTimeout, tt.min, tt.max)
		}
	}
}

// TestWaitManyProgressLine redraws one line in place on a terminal.
func TestWaitManyProgressLine(t *testing.T) {
	t.Parallel()
	srv := batchServer(t)
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
	r := runApp(t.Context(), t, env, true, append([]string{"invocations", "wait", "inv-ok", "inv-bad"}, fast...)...)
	if !strings.Contains(r.stderr, "\r\x1b[2K1/2 ended") || !strings.HasSuffix(r.stderr[:strings.Index(r.stderr, "\n")+1], "2/2 ended: 1 succeeded, 1 did not\n") {
		t.Errorf("stderr is not one line redrawn in place:\n%q", r.stderr)
	}
}

// TestWaitManyStdin reads the ids from stdin for "-", with the binary.
func TestWaitManyStdin(t *testing.T) {
	t.Parallel()
	srv := batchServer(t)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		lines       int
		stdout      string // in stdout, if not empty
	}{
		{"ids on lines and in args", "inv-ok\n\n  inv-bad inv-ok\n", []string{"-", "inv-ok"}, exitFailed, 2, ""},
		{"no ids", " \n", []string{"-"}, exitUsage, 0, ""},
		// A bad id is reported on its own line with exit code 2, naming
		// its line; the others are still waited for.
		{"an id over 64 KiB", "inv-ok\n\n" + strings.Repeat("x", 70<<10) + "\ninv-bad\n", []string{"-"}, exitUsage, 3,
			"invalid_id\tinvalid id at line 3 of stdin: 71680 bytes, longer than 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), bin, append(append([]string{"invocations", "wait"}, tc.args...), fast...)...)
			cmd.Env = envFor(srv)
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if tc.lines > 0 && strings.Contains(stderr.String(), "for usage") {
				t.Errorf("a bad id in a batch gets a usage hint:\n%s", stderr.String())
			}
			if n := strings.Count(stdout.String(), "\n"); n != tc.lines {
				t.Errorf("stdout has %d lines, want %d:\n%s", n, tc.lines, stdout.String())
			}
			for _, want := range []string{tc.stdout, "inv-ok\tsucceeded", "inv-bad\tfailed"} {
				if tc.lines > 0 && !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout has no %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}

// TestScanIDsHoldsLittleOfALongWord reads a 16 MiB word between two ids:
// it is reported with its length and line, but only its start is kept.
func TestScanIDsHoldsLittleOfALongWord(t *testing.T) {
	t.Parallel()
	in := io.MultiReader(strings.NewReader("a\tb\r\n"), strings.NewReader(strings.Repeat("x", 16<<20)), strings.NewReader("\n\nc"))
	type word struct{ kept, line, n int }
	var got []word
	if err := scanIDs(in, func(id string, line, n int) { got = append(got, word{len(id), line, n}) }); err != nil {
		t.Fatal(err)
	}
	want := []word{{1, 1, 1}, {1, 1, 1}, {maxIDBytes + 1, 2, 16 << 20}, {1, 4, 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("words (kept bytes, line, length) %v, want %v", got, want)
	}
}

// TestWaitManyLinesMatchREADME reads the line format the README's CLI
// section documents for several ids, and checks the lines printed use its
// separators.
func TestWaitManyLinesMatchREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("<id>(\\\\t| )<outcome>`?,?[^<]*?(\\\\t| )<message>").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README documents no line format <id> <outcome> <message>")
	}
	sep := func(b []byte) string { return strings.ReplaceAll(string(b), `\t`, "\t") }
	srv := batchServer(t)
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
	r := runApp(t.Context(), t, env, false, append([]string{"invocations", "wait", "inv-ok", "inv-bad"}, fast...)...)
	for _, want := range []string{"inv-ok" + sep(m[1]) + "succeeded\n", "inv-bad" + sep(m[1]) + "failed" + sep(m[2]) + "invocation inv-bad ended failed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the README documents %q, stdout has no %q:\n%q", m[0], want, r.stdout)
		}
	}
}
