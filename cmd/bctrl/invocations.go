package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/bctrlhq/sdk-go/client"
)

func (a *app) invocationsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "invocations",
		Short: "Get an invocation or wait for it to finish",
		Args:  cobra.ArbitraryArgs,
		// A group command: without a subcommand, show its help; with an
		// unknown one, fail with a usage error (cobra would show help and
		// exit 0).
		RunE: markRan(func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		}),
	}
	cmd.AddCommand(a.getCmd(), a.waitCmd())
	return cmd
}

// outputFlag is the -o flag shared by get and wait.
type outputFlag struct{ format string }

func (o *outputFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.format, "output", "o", "text", "output format: text or json (the invocation as the API sent it)")
}

func (o *outputFlag) check() error {
	if o.format != "text" && o.format != "json" {
		return usagef("invalid --output %q: want text or json", o.format)
	}
	return nil
}

// print writes inv to w in the chosen format.
func (o *outputFlag) print(w io.Writer, inv *client.Invocation) error {
	if o.format == "json" {
		return printJSON(w, inv)
	}
	printSummary(w, inv)
	return nil
}

// printJSON writes the invocation's JSON as received, indented.
func printJSON(w io.Writer, inv *client.Invocation) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, inv.Raw(), "", "  "); err != nil {
		return fmt.Errorf("indent invocation JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

func (a *app) getCmd() *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "get <id>",
		Short: "Print an invocation: status, progress, times, errors and steps",
		Example: `  bctrl invocations get 3f2b1c9e-...
  bctrl invocations get 3f2b1c9e-... -o json | jq .status`,
		Args: cobra.ExactArgs(1),
		RunE: markRan(func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			c, err := a.newClient()
			if err != nil {
				return err
			}
			inv, err := c.Invocations.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return out.print(a.stdout, inv)
		}),
	}
	out.register(cmd)
	return cmd
}

func (a *app) waitCmd() *cobra.Command {
	var (
		out              outputFlag
		timeout          time.Duration
		pollMin, pollMax time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait <id>",
		Short: "Wait for an invocation to finish, showing its progress, then print it",
		Long: `Wait polls the invocation until it ends, then prints it as "get" does.

Progress goes to stderr: a progress bar on a terminal, otherwise one line per
change of status or progress. The exit code is 0 if the invocation succeeded,
1 if it ended failed, cancelled or timed_out, and 6 if --timeout passed first
(see "bctrl --help" for the others).`,
		Example: `  bctrl invocations wait 3f2b1c9e-... --timeout 10m
  bctrl invocations wait 3f2b1c9e-... -o json > result.json`,
		Args: cobra.ExactArgs(1),
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

			var ended *client.InvocationError
			if err == nil || errors.As(err, &ended) {
				// The invocation ended: print it whatever the outcome; the
				// error (if any) sets the exit code.
				if perr := out.print(a.stdout, inv); perr != nil {
					return perr
				}
			}
			return err
		}),
	}
	out.register(cmd)
	f := cmd.Flags()
	f.DurationVar(&timeout, "timeout", client.DefaultMaxWait, "give up after this long (exit code 6); 0 waits until interrupted")
	f.DurationVar(&pollMin, "poll-min", client.DefaultPollMin, "shortest interval between polls, used while the invocation moves")
	f.DurationVar(&pollMax, "poll-max", client.DefaultPollMax, "longest interval between polls, reached while nothing changes")
	return cmd
}
