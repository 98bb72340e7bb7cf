package main

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime/debug"
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
	// stdout and stderr are the CLI's only way out: every print goes
	// through them (see output.go).
	stdout, stderr *termOut
	getenv         func(string) string
	isTerminal     func(io.Writer) bool // whether to draw a progress bar on w
	now            func() time.Time
	buildInfo      func() (*debug.BuildInfo, bool) // debug.ReadBuildInfo, for version

	// Global flags. The API key's flag has no default: its value comes from
	// the environment in code, so help and usage output never show it.
	apiKey       string
	baseURL      string
	maxRetries   int
	debug        bool
	insecureHTTP bool

	args   []string // the command line, for keys given before cobra parsed them
	scrubs scrubCache

	// output is the -o flag of the command that runs (get, wait, version):
	// with "json", a failure is reported as a JSON object on stderr.
	output string
}

func newApp(stdout, stderr io.Writer, getenv func(string) string) *app {
	a := &app{
		stdout:     newTermOut(stdout),
		stderr:     newTermOut(stderr),
		getenv:     getenv,
		isTerminal: isTerminal,
		now:        time.Now,
		buildInfo:  debug.ReadBuildInfo,
	}
	a.stdout.scrub, a.stderr.scrub = a.scrub, a.scrub
	return a
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// run executes args and returns the exit code. It prints every error to
// stderr itself, for people, or with -o json as one JSON object; cobra
// prints only help. A failed write to stdout turns a success (0) or an
// invocation that ended without success (1), whose output is the point,
// into exitOutput; other codes stay, since they say more.
func (a *app) run(ctx context.Context, args []string) int {
	a.args = args
	code := a.execute(ctx, args)
	if err := a.stdout.flush(); err != nil {
		a.stderr.printf("bctrl: write to stdout: %v\n", err)
		if code == exitOK || code == exitFailed {
			code = exitOutput
		}
	}
	a.stderr.flush()
	return code
}

func (a *app) execute(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(append([]string{}, args...)) // non-nil: never fall back to os.Args
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if werr := a.stdout.failed(); werr != nil && errors.Is(err, werr) {
		// The command stopped because stdout could not be written (cobra's
		// completion and help commands return the write error): not a
		// usage error. run reports the write error and exits exitOutput.
		return exitOutput
	}
	var code int
	if !ran(cmd) {
		// cobra failed before the command ran: unknown command or flag,
		// wrong number of arguments, or a bad flag value.
		err, code = &usageError{err}, exitUsage
	} else {
		code = exitCode(ctx, err)
	}
	if a.jsonErrors(cmd, args) {
		a.printErrorJSON(err, code)
	} else {
		a.printError(cmd, err, code)
	}
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

func (a *app) rootCmd() *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   "bctrl",
		Short: "Read and wait for bctrl invocations",
		Long: `bctrl reads durable bctrl invocations and waits for them to finish.

Configuration:
  --api-key or ` + client.EnvAPIKey + `     API key (never printed)
  --base-url or ` + client.EnvBaseURL + `   API base URL (default ` + client.DefaultBaseURL + `)

Try it without an account: run "bctrl dev-server" and follow what it prints.

` + jsonOutputHelp + `

` + exitCodeHelp,
		SilenceErrors: true, // run prints errors, without the flag values
		SilenceUsage:  true,
		// Without a subcommand: --version, else help. Arguments are
		// unknown commands (cobra's check for a root with subcommands).
		RunE: markRan(func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				a.printVersion(readVersion(a.buildInfo()))
				return nil
			}
			return cmd.Help()
		}),
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })

	pf := root.PersistentFlags()
	pf.StringVar(&a.apiKey, "api-key", "", "API key (default from "+client.EnvAPIKey+")")
	pf.StringVar(&a.baseURL, "base-url", "", "API base URL (default from "+client.EnvBaseURL+", else "+client.DefaultBaseURL+")")
	pf.IntVar(&a.maxRetries, "max-retries", client.DefaultMaxRetries, "retries of a request after a network error or a 408, 429 or 5xx response")
	pf.BoolVar(&a.debug, "debug", false, "log each HTTP attempt and retry to stderr (method, path, status, request id; never the key or bodies)")
	pf.BoolVar(&a.insecureHTTP, "insecure-http", false, "allow a plain http:// base URL on a host that is not loopback (the API key then travels in clear text)")
	root.Flags().BoolVar(&showVersion, "version", false, `print the version, as "bctrl version" does`)

	root.AddCommand(a.invocationsCmd(), a.devServerCmd(), a.versionCmd())

	// cobra's "completion" command, added now rather than when it runs so
	// that an unknown shell is a usage error like any unknown command.
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Args = cobra.ArbitraryArgs
		c.RunE = markRan(groupRunE)
	}
	return root
}

// groupRunE runs a group command, such as "invocations": without a
// subcommand it shows the group's help; with an unknown one it fails with a
// usage error (cobra would show help and exit 0).
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
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
	opts := []client.Option{
		client.WithAPIKey(key),
		client.WithBaseURL(base),
		client.WithMaxRetries(a.maxRetries),
		client.WithUserAgent("bctrl-cli/" + client.Version()),
	}
	if a.debug {
		opts = append(opts, client.WithLogger(a.debugLogger()))
	}
	if a.insecureHTTP {
		opts = append(opts, client.WithInsecureHTTP())
	}
	c, err := client.New(opts...)
	if err == nil {
		return c, nil
	}
	if !a.insecureHTTP {
		// The SDK's message names its Go option. Whether plain http was
		// the only objection is the SDK's rule, so ask it again with the
		// option rather than copy the rule (which hosts are loopback).
		if _, ierr := client.New(append(opts, client.WithInsecureHTTP())...); ierr == nil {
			return nil, usagef("refusing the plain http base URL %s for a host that is not loopback: "+
				"the API key would travel in clear text; use https, or add --insecure-http to send it anyway", base)
		}
	}
	return nil, &usageError{err}
}
