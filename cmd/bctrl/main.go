// Command bctrl reads and waits for bctrl invocations from a terminal or a
// script, and serves a local fake API for trying it out. Run "bctrl --help"
// for the commands and the exit codes.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal cancels the command, which stops and cleans
		// up (exit code 130, or 0 for the dev server); a second one ends
		// the process at once. The channel stays registered, so the
		// second signal cannot slip through while the first is handled.
		<-sigs
		cancel()
		<-sigs
		os.Exit(exitInterrupted)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code. It reads
// the environment and tells whether stderr is a terminal; tests that need
// to control either use app.run directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newApp(stdout, stderr, os.Getenv).run(ctx, args)
}
