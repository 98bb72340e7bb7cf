package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bctrlhq/sdk-go/client"
)

// app is one execution of the CLI: where it writes, how it reads the
// environment, and whether stderr is a terminal. Tests build one with
// their own buffers and environment and call run, without a subprocess.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	isTerminal     func(io.Writer) bool // whether to draw a progress bar on w
	now            func() time.Time

	// Global flags. The API key's flag has no default: its value comes from
	// the environment in code, so help and usage output never show it.
	apiKey     string
	baseURL    string
	maxRetries int
}

func newApp(stdout, stderr io.Writer, getenv func(string) string) *app {
	return &app{
		stdout:     stdout,
		stderr:     stderr,
		getenv:     getenv,
		isTerminal: isTerminal,
		now:        time.Now,
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// run executes args and returns the exit code. It prints every error to
// stderr itself; cobra prints only help.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(append([]string{}, args...)) // non-nil: never fall back to os.Args
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var code int
	if !ran(cmd) {
		// cobra failed before the command ran: unknown command or flag,
		// wrong number of arguments, or a bad flag value.
		err, code = &usageError{err}, exitUsage
	} else {
		code = exitCode(ctx, err)
	}
	a.printError(cmd, err, code)
	return code
}

// ranAnnotation marks a command whose RunE was entered, so that run can tell
// cobra's own errors (usage errors) from the command's.
const ranAnnotation = "bctrl/ran"

func ran(cmd *cobra.Command) bool { return cmd != nil && cmd.Annotations[ranAnnotation] != "" }

// markRan wraps a RunE so that run knows the command itself returned the
// error.
func markRan(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if cmd.Annotations == nil {
			cmd.Annotations = map[string]string{}
		}
		cmd.Annotations[ranAnnotation] = "1"
		return fn(cmd, args)
	}
}

// minRedactLen is the shortest key printError redacts from messages; a
// shorter value would mangle unrelated text, and no real key is that short.
const minRedactLen = 8

func (a *app) printError(cmd *cobra.Command, err error, code int) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "bctrl: ") {
		msg = "bctrl: " + msg
	}
	// The client never puts the key in an error, but an argument or a
	// server's message might echo it (a key pasted as an id): redact it.
	for _, key := range []string{a.apiKey, a.getenv(client.EnvAPIKey)} {
		if key = strings.TrimSpace(key); len(key) >= minRedactLen {
			msg = strings.ReplaceAll(msg, key, "[redacted]")
		}
	}
	switch code {
	case exitInterrupted:
		msg = "bctrl: interrupted"
	case exitUsage:
		if cmd != nil && !errors.Is(err, errNoAPIKey) {
			msg += fmt.Sprintf("\nRun '%s --help' for usage.", cmd.CommandPath())
		}
	case exitAuth:
		msg += "\nCheck the API key given with --api-key or " + client.EnvAPIKey + "."
	}
	fmt.Fprintln(a.stderr, msg)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "bctrl",
		Short: "Read and wait for bctrl invocations",
		Long: `bctrl reads durable bctrl invocations and waits for them to finish.

Configuration:
  --api-key or ` + client.EnvAPIKey + `     API key (never printed)
  --base-url or ` + client.EnvBaseURL + `   API base URL (default ` + client.DefaultBaseURL + `)

Try it without an account: run "bctrl dev-server" and follow what it prints.

` + exitCodeHelp,
		SilenceErrors: true, // run prints errors, without the flag values
		SilenceUsage:  true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.CompletionOptions.DisableDefaultCmd = true

	pf := root.PersistentFlags()
	pf.StringVar(&a.apiKey, "api-key", "", "API key (default from "+client.EnvAPIKey+")")
	pf.StringVar(&a.baseURL, "base-url", "", "API base URL (default from "+client.EnvBaseURL+", else "+client.DefaultBaseURL+")")
	pf.IntVar(&a.maxRetries, "max-retries", client.DefaultMaxRetries, "retries of a request after a network error or a 408, 429 or 5xx response")

	root.AddCommand(a.invocationsCmd(), a.devServerCmd())
	return root
}

var errNoAPIKey = errors.New("no API key: pass --api-key or set " + client.EnvAPIKey)

// newClient builds the API client from the global flags, falling back to
// the environment. Its errors are usage errors (exit code 2).
func (a *app) newClient() (*client.Client, error) {
	key := a.apiKey
	if key == "" {
		key = a.getenv(client.EnvAPIKey)
	}
	if strings.TrimSpace(key) == "" {
		return nil, &usageError{errNoAPIKey}
	}
	base := a.baseURL
	if base == "" {
		base = a.getenv(client.EnvBaseURL)
	}
	if base == "" {
		base = client.DefaultBaseURL
	}
	if a.maxRetries < 0 {
		return nil, usagef("--max-retries must not be negative, got %d", a.maxRetries)
	}
	c, err := client.New(
		client.WithAPIKey(key),
		client.WithBaseURL(base),
		client.WithMaxRetries(a.maxRetries),
		client.WithUserAgent("bctrl-cli/"+client.Version),
	)
	if err != nil {
		return nil, &usageError{err}
	}
	return c, nil
}
