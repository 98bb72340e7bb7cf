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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills the process as usual.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code. It reads
// the environment and tells whether stderr is a terminal; tests that need
// to control either use app.run directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newApp(stdout, stderr, os.Getenv).run(ctx, args)
}
