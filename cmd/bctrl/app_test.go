package main

import (
	"context"
	"strings"
	"testing"

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
	for _, s := range []string{"running   step 1/2 opening the login page", "running   step 2/2 clicking Sign in", "succeeded", "100%"} {
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

// TestServerTextCannotDriveTheTerminal checks that control characters in
// server text (escape sequences, newlines, tabs) are replaced.
func TestServerTextCannotDriveTheTerminal(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	inv := bctrltest.NewInvocation("inv-1")
	srv.Set(bctrltest.Failed(inv, "bad\x1b[2Jthing",
		bctrltest.ErrStep(0, "page.click", "TIMEOUT", "line one\nline two\tthree", "\x1b]0;title\x07")))
	env := map[string]string{"BCTRL_BASE_URL": srv.URL, "BCTRL_API_KEY": secretKey}
	r := runApp(t.Context(), t, env, false, "invocations", "get", "inv-1")
	if r.code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	if strings.ContainsAny(r.stdout, "\x1b\x07\t") {
		t.Errorf("stdout has control characters:\n%q", r.stdout)
	}
	if !strings.Contains(r.stdout, "line one line two three") {
		t.Errorf("stdout lost the step message:\n%s", r.stdout)
	}
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
