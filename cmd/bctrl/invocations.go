package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bctrlhq/sdk-go/client"
)

func (a *app) invocationsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "invocations",
		Aliases: []string{"inv"},
		Short:   "Get an invocation or wait for it to finish",
		Args:    cobra.ArbitraryArgs,
		RunE:    markRan(groupRunE),
	}
	cmd.AddCommand(a.getCmd(), a.waitMany(a.waitCmd()))
	return cmd
}

// outputFlag is the -o flag of get, wait and version. Its value lives in
// app.output, which run reads to report a failure as JSON too.
type outputFlag struct{ format *string }

func (o outputFlag) register(cmd *cobra.Command, usage string) {
	cmd.Flags().StringVarP(o.format, "output", "o", "text", usage)
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

func (o outputFlag) check() error {
	if f := *o.format; f != "text" && f != "json" {
		return usagef("invalid --output %q: want text or json", f)
	}
	return nil
}

func (o outputFlag) json() bool { return *o.format == "json" }

// print writes inv to w in the chosen format.
func (o outputFlag) print(w *termOut, inv *client.Invocation) error {
	if o.json() {
		return printJSON(w, inv)
	}
	printSummary(w, inv)
	return nil
}

// outputUsage is the help of -o for get and wait.
const outputUsage = "output format: text or json (the invocation as the API sent it; see \"bctrl --help\" for failures)"

// printJSON writes the invocation's JSON as received, indented; the
// boundary writes unsafe runes in its strings as JSON escapes.
func printJSON(w *termOut, inv *client.Invocation) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, inv.Raw(), "", "  "); err != nil {
		return fmt.Errorf("indent invocation JSON: %w", err)
	}
	buf.WriteByte('\n')
	return w.writeJSON(buf.Bytes())
}

// checkID refuses an id that is empty or only whitespace before any
// request: sent as is, it would be a request for "/v1/invocations/%20".
func checkID(id string) error {
	if strings.TrimSpace(id) == "" {
		return usagef("invalid id %q: it is blank", id)
	}
	return nil
}

func (a *app) getCmd() *cobra.Command {
	var timeout time.Duration
	out := outputFlag{format: &a.output}
	cmd := &cobra.Command{
		Use:   "get <id>",
		Short: "Print an invocation: status, progress, times, errors and steps",
		Long: `Get prints an invocation: its status, progress, times and error, a table of
its steps with each successful step's result (compact JSON, cut to fit) or
each failed step's error, and the diagnostics of failed steps.

--timeout bounds the whole command, retries included; past it, get exits
with code 6, as wait does (see "bctrl --help" for the others).`,
		Example: `  bctrl invocations get 3f2b1c9e-...
  bctrl invocations get 3f2b1c9e-... -o json | jq .status
  bctrl invocations get 3f2b1c9e-... --timeout 10s`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: markRan(func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			if timeout < 0 {
				return usagef("--timeout must not be negative, got %v", timeout)
			}
			if err := checkID(args[0]); err != nil {
				return err
			}
			c, err := a.newClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			inv, err := c.Invocations.Get(ctx, args[0])
			if err != nil {
				if ctx.Err() != nil && cmd.Context().Err() == nil {
					return &timeoutError{after: timeout, err: err}
				}
				return err
			}
			return out.print(a.stdout, inv)
		}),
	}
	out.register(cmd, outputUsage)
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long, retries included (exit code 6); 0 means no bound but the per-request timeouts")
	return cmd
}

func (a *app) waitCmd() *cobra.Command {
	var (
		timeout          time.Duration
		pollMin, pollMax time.Duration
	)
	out := outputFlag{format: &a.output}
	cmd := &cobra.Command{
		Use:   "wait <id>",
		Short: "Wait for an invocation to finish, showing its progress, then print it",
		Long: `Wait polls the invocation until it ends, then prints it as "get" does.

Progress goes to stderr: a progress bar on a terminal, otherwise (or with
--debug) one line per change of status or progress. The exit code is 0 if
the invocation succeeded, 1 if it ended failed, cancelled or timed_out, and
6 if --timeout passed first (see "bctrl --help" for the others).

With -o json, stdout holds the last invocation observed, whatever the
outcome, and a failure is one JSON object on stderr (see "bctrl --help").`,
		Example: `  bctrl invocations wait 3f2b1c9e-... --timeout 10m
  bctrl invocations wait 3f2b1c9e-... -o json > result.json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: markRan(func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			if timeout < 0 {
				return usagef("--timeout must not be negative, got %v", timeout)
			}
			if pollMin <= 0 || pollMax < pollMin {
				return usagef("need 0 < --poll-min <= --poll-max, got %v and %v", pollMin, pollMax)
			}
			if err := checkID(args[0]); err != nil {
				return err
			}
			c, err := a.newClient()
			if err != nil {
				return err
			}
			rep := a.newReporter()
			inv, err := c.Invocations.Wait(cmd.Context(), args[0],
				client.WithMaxWait(timeout),
				client.WithPollInterval(pollMin, pollMax),
				client.WithProgress(rep.update))
			rep.done(inv, err)
			if inv == nil {
				inv = invocationOf(err) // the last one seen, if any
			}

			// Print the invocation whatever the outcome, the error (if
			// any) setting the exit code: in text, once it ended; with -o
			// json, whenever one was observed, so that stdout is always
			// the invocation and run reports the error on stderr.
			var ended *client.InvocationError
			if inv != nil && (err == nil || out.json() || errors.As(err, &ended)) {
				if perr := out.print(a.stdout, inv); perr != nil {
					return perr
				}
			}
			return err
		}),
	}
	out.register(cmd, outputUsage)
	f := cmd.Flags()
	f.DurationVar(&timeout, "timeout", client.DefaultMaxWait, "give up after this long (exit code 6); 0 waits until interrupted")
	f.DurationVar(&pollMin, "poll-min", client.DefaultPollMin, "shortest interval between polls, used while the invocation moves")
	f.DurationVar(&pollMax, "poll-max", client.DefaultPollMax, "longest interval between polls, reached while nothing changes")
	return cmd
}
