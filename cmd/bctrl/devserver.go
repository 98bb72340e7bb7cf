package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// The demo invocations' ids. They are fixed so that scripts (make demo)
// know which one to wait on.
const (
	demoSucceedsID = "d3e00000-0000-4000-8000-000000000001"
	demoFailsID    = "d3e00000-0000-4000-8000-000000000002"
	demoCancelsID  = "d3e00000-0000-4000-8000-000000000003"
	demoTimesOutID = "d3e00000-0000-4000-8000-000000000004"
)

// demoAPIKey is the key the dev server accepts when --api-key is not given.
// It is not a secret: the server only serves made-up invocations.
const demoAPIKey = "demo-key"

// demoHold is how long the demo invocations stay in their final state
// before they start over, so a wait started later still sees them move.
const demoHold = 20 * time.Second

func (a *app) devServerCmd() *cobra.Command {
	var (
		addr      string
		apiKey    string
		readyFile string
		tick      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "dev-server",
		Short: "Serve a local fake API with demo invocations that advance in real time",
		Long: `dev-server serves a fake bctrl API on a loopback address, with four demo
invocations that move through their states in real time: one succeeds after
several steps, one fails on a step error with a diagnostic and fixes, one is
cancelled and one times out. They start over a while after they end.

It prints the ids, the base URL and the lines to export, and runs until
SIGINT or SIGTERM (exit code 0). With --ready-file, it writes the base URL
to that file once it is listening, so a script can wait for the file.`,
		Args: cobra.NoArgs,
		RunE: markRan(func(cmd *cobra.Command, _ []string) error {
			if tick <= 0 {
				return usagef("--tick must be positive, got %v", tick)
			}
			key, keyGiven := demoAPIKey, false
			if f := cmd.Flags().Lookup("api-key"); f.Changed {
				key, keyGiven = apiKey, true
			}
			srv, err := bctrltest.Start(addr, bctrltest.WithAPIKey(key))
			if err != nil {
				return usagef("start dev server: %w", err)
			}
			defer srv.Close()

			stopReplay := replayDemo(srv, tick)
			defer stopReplay()

			if readyFile != "" {
				if err := writeFileAtomic(readyFile, srv.URL+"\n"); err != nil {
					return fmt.Errorf("write --ready-file: %w", err)
				}
				defer os.Remove(readyFile)
			}
			a.printDevServer(srv.URL, key, keyGiven, tick)

			<-cmd.Context().Done()
			a.stderr.printf("bctrl: dev server stopped\n")
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8787", "address to listen on; port 0 picks a free port")
	// Shadows the global --api-key: here it is the key the server accepts.
	f.StringVar(&apiKey, "api-key", "", `API key the server accepts (default "`+demoAPIKey+`")`)
	f.StringVar(&readyFile, "ready-file", "", "write the base URL to this file once listening")
	f.DurationVar(&tick, "tick", 900*time.Millisecond, "time between two state changes of a demo invocation")
	return cmd
}

func (a *app) printDevServer(url, key string, keyGiven bool, tick time.Duration) {
	w := a.stdout
	w.printf("bctrl dev server listening on %s\n\n", url)
	w.printf("Demo invocations (a state change every %v; they start over %v after they end):\n", tick, demoHold)
	w.printf("  %s  succeeds after 5 steps\n", demoSucceedsID)
	w.printf("  %s  fails on its third step (UNKNOWN_CALL, with a diagnostic and fixes)\n", demoFailsID)
	w.printf("  %s  is cancelled\n", demoCancelsID)
	w.printf("  %s  times out\n\n", demoTimesOutID)
	w.printf("Point bctrl at it:\n")
	w.printf("  export BCTRL_BASE_URL=%s\n", url)
	if keyGiven {
		// Never print a key the user chose.
		w.printf("  export BCTRL_API_KEY=...  # the key you passed with --api-key\n")
	} else {
		w.printf("  export BCTRL_API_KEY=%s\n", key)
	}
	w.printf("  bctrl invocations wait %s\n\n", demoSucceedsID)
	w.printf("Press Ctrl-C to stop.\n")
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so a reader never sees a partial file.
func writeFileAtomic(path, data string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".bctrl-ready-*")
	if err != nil {
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// replayDemo registers the demo invocations and registers them again each
// time they have all ended and held their final state for demoHold. The
// returned function stops the replays.
func replayDemo(srv *bctrltest.Server, tick time.Duration) (stop func()) {
	longest := armDemo(srv, tick, time.Now())
	period := time.Duration(longest)*tick + demoHold
	t := time.NewTicker(period)
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				armDemo(srv, tick, now)
			}
		}
	}()
	return func() {
		t.Stop()
		close(quit)
		<-finished
	}
}
