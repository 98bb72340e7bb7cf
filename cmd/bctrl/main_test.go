package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// secretKey is the API key the tests use. No output of any command may
// contain it: runCLI checks every run.
const secretKey = "sk-live-SECRET-do-not-print-1234"

// bin is the bctrl binary built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// BCTRL_TEST_BIN runs the end-to-end tests against another build, such
	// as one of an older commit, to see which of them it fails.
	if bin = os.Getenv("BCTRL_TEST_BIN"); bin != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "bctrl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "bctrl")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building bctrl:", err)
		return 1
	}
	return m.Run()
}

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	code           int
}

// fast makes a wait poll every few milliseconds.
var fast = []string{"--poll-min", "1ms", "--poll-max", "5ms"}

// runCLI runs the binary with args and exactly the environment env (nothing
// is inherited, so a developer's own BCTRL_API_KEY cannot leak in), and
// fails the test if the secret key appears in its output.
func runCLI(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append([]string{}, env...) // non-nil: inherit nothing
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("run bctrl %q: %v", args, err)
	}
	checkNoSecret(t, args, r.stdout, r.stderr)
	return r
}

func checkNoSecret(t *testing.T, args []string, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		if strings.Contains(out, secretKey) {
			t.Errorf("bctrl %q printed the API key:\n%s", args, out)
		}
	}
}

// newServer starts a fake API that accepts secretKey.
func newServer(t *testing.T, opts ...bctrltest.Option) *bctrltest.Server {
	return bctrltest.NewServer(t, append([]bctrltest.Option{bctrltest.WithAPIKey(secretKey)}, opts...)...)
}

// envFor is the environment that points the CLI at srv with secretKey.
func envFor(srv *bctrltest.Server) []string {
	return []string{"BCTRL_BASE_URL=" + srv.URL, "BCTRL_API_KEY=" + secretKey}
}

// proc is the binary running in the background.
type proc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer // read it only after exit is received from
	lines  chan string  // stderr, line by line; closed at EOF
	exit   chan int     // receives the exit code
}

// startCLI starts the binary in the background with exactly the
// environment env. The process is killed when the test ends.
func startCLI(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{lines: make(chan string, 1000), exit: make(chan int, 1)}
	p.cmd = exec.CommandContext(t.Context(), bin, args...)
	p.cmd.Env = append([]string{}, env...) // non-nil: inherit nothing
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.cmd.Wait()
		p.exit <- p.cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

// waitLine returns the next stderr line, failing the test after a while.
func (p *proc) waitLine(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatal("bctrl closed stderr")
		}
		return line
	case <-time.After(10 * time.Second):
		t.Fatal("no line from bctrl on stderr")
	}
	return ""
}

// wait waits for the process to exit and returns its exit code and the rest
// of its stderr.
func (p *proc) wait(t *testing.T) (code int, stderr string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	var rest []string
	for {
		select {
		case line, ok := <-p.lines:
			if ok {
				rest = append(rest, line)
				continue
			}
			p.lines = nil // EOF: wait for the exit code only
		case code = <-p.exit:
			// lines was closed before the exit code was sent: take what
			// is still buffered.
			if p.lines != nil {
				for line := range p.lines {
					rest = append(rest, line)
				}
			}
			return code, strings.Join(rest, "\n")
		case <-deadline:
			t.Fatal("bctrl did not exit")
		}
	}
}

// freeClosedPort returns a loopback address nothing listens on.
func freeClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// runApp runs the CLI in process with the given environment and returns
// what it wrote.
func runApp(ctx context.Context, t *testing.T, env map[string]string, tty bool, args ...string) result {
	t.Helper()
	a, stdout, stderr := newTestApp(env, tty)
	code := a.run(ctx, args)
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: code}
	checkNoSecret(t, args, r.stdout, r.stderr)
	return r
}

// newTestApp returns an app that reads exactly env, writes to the returned
// stdout and stderr, and sees a terminal on stderr if tty is true.
func newTestApp(env map[string]string, tty bool) (a *app, stdout, stderr *bytes.Buffer) {
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	a = newApp(stdout, stderr, func(k string) string { return env[k] })
	// Like the real isTerminal, it sees a terminal only in the file itself,
	// not in a writer wrapping it (a termOut).
	a.isTerminal = func(w io.Writer) bool { return tty && w == io.Writer(stderr) }
	return a, stdout, stderr
}
