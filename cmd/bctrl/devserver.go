package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
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

// devLimits bound what the dev server spends on its clients: it may be
// left running for days, or pointed at by a load test.
type devLimits struct {
	readHeaderTimeout time.Duration // to read a request's headers
	readTimeout       time.Duration // to read a whole request, body included
	writeTimeout      time.Duration // to write a response
	idleTimeout       time.Duration // a keep-alive connection between requests
	maxHeaderBytes    int           // request line and headers
	maxConns          int           // connections open at once; past it the longest idle one is closed, or new ones wait
	shutdownTimeout   time.Duration // for requests in flight after SIGINT or SIGTERM
	requestLog        int           // requests kept in the log
	simulateMaxIDs    int           // simulated ids kept
}

var defaultDevLimits = devLimits{
	readHeaderTimeout: 5 * time.Second,
	readTimeout:       10 * time.Second,
	writeTimeout:      30 * time.Second,
	idleTimeout:       60 * time.Second,
	maxHeaderBytes:    64 << 10,
	maxConns:          256,
	shutdownTimeout:   3 * time.Second,
	requestLog:        256,
	simulateMaxIDs:    defaultSimulateMaxIDs,
}

// simLimitText says how long the longest simulated course takes.
var simLimitText = fmt.Sprintf("%d ticks (%v with the default tick)", simMaxTicks, simMaxTicks*defaultTick)

// defaultTick is the default of --tick.
const defaultTick = 900 * time.Millisecond

func (a *app) devServerCmd() *cobra.Command {
	var (
		addr      string
		apiKey    string
		readyFile string
		tick      time.Duration
		simulate  bool
		lim       = defaultDevLimits
	)
	cmd := &cobra.Command{
		Use:   "dev-server",
		Short: "Serve a local fake API with demo invocations that advance in real time",
		Long: `dev-server serves a fake bctrl API on a loopback address, with four demo
invocations that move through their states in real time: one succeeds after
several steps, one fails on a step error with a diagnostic and fixes, one is
cancelled and one times out. They start over a while after they end.

With --simulate it answers for any other id too: the first GET of an id
starts a simulated invocation. Its course derives from a SHA-256 of the id,
so an id runs the same way on every server: queued for 0-3 ticks, then 1-8
steps of 1-3 ticks each (progress k/n, the step's call in the message),
then it ends: 55% succeed after their last step, 25% fail at a step the
hash picks (a step error: UNKNOWN_CALL, INVALID_ARGS, UNKNOWN_REF or
CAPABILITY_NOT_AVAILABLE), 10% time out on their last step (TIMEOUT) and
10% are cancelled at a step the hash picks. Every course ends within
` + simLimitText + `.
A load test can use thousands of ids; the server keeps --simulate-max-ids
of them (least recently used forgotten first; a forgotten id starts over).

The timestamps served, demo and simulated, are the course's own times on
the server's clock: createdAt when the course began (for a simulated id,
its first GET), startedAt when it left the queue, lastHeartbeatAt when the
current step began, finishedAt the moment it ended, whoever asks and
whenever. None is later than the server's clock, so the time a client saw
an end minus finishedAt is how late it saw it.

It prints the ids, the base URL and the lines to export, and runs until
SIGINT or SIGTERM (exit code 0); requests still in flight then get
--shutdown-timeout to finish, and a second signal stops it at once. With
--ready-file, it writes the base URL to that file once it is listening, so
a script can wait for the file.

It bounds what clients can make it spend: timeouts to read headers, a
request and between requests, a header size limit, a connection limit, and
a log of the last --request-log requests (headers cut short, the
Authorization value redacted), which GET /_dev/requests returns as JSON.`,
		Args: cobra.NoArgs,
		RunE: markRan(func(cmd *cobra.Command, _ []string) error {
			if tick <= 0 {
				return usagef("--tick must be positive, got %v", tick)
			}
			if err := lim.check(); err != nil {
				return err
			}
			key, keyGiven := demoAPIKey, false
			if f := cmd.Flags().Lookup("api-key"); f.Changed {
				key, keyGiven = apiKey, true
			}
			srv, err := startDevServer(devConfig{addr: addr, key: key, tick: tick, simulate: simulate, limits: lim})
			if err != nil {
				return err
			}
			if readyFile != "" {
				if err := writeFileAtomic(readyFile, srv.url+"\n"); err != nil {
					srv.close()
					return fmt.Errorf("write --ready-file: %w", err)
				}
				defer os.Remove(readyFile)
			}
			a.printDevServer(srv.url, key, keyGiven, tick, simulate)

			select {
			case <-cmd.Context().Done():
			case err := <-srv.served:
				srv.close()
				return fmt.Errorf("dev server: %w", err)
			}
			a.stderr.printf("bctrl: dev server stopping: %v for requests in flight; a second signal stops it at once\n", lim.shutdownTimeout)
			if !srv.shutdown(lim.shutdownTimeout) {
				a.stderr.printf("bctrl: dev server closed the connections still open after %v\n", lim.shutdownTimeout)
			}
			a.stderr.printf("bctrl: dev server stopped\n")
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8787", "address to listen on; port 0 picks a free port")
	// Shadows the global --api-key: here it is the key the server accepts.
	f.StringVar(&apiKey, "api-key", "", `API key the server accepts (default "`+demoAPIKey+`")`)
	f.StringVar(&readyFile, "ready-file", "", "write the base URL to this file once listening")
	f.DurationVar(&tick, "tick", defaultTick, "time between two state changes of a demo or simulated invocation")
	f.BoolVar(&simulate, "simulate", false, "answer for any id with a simulated invocation derived from the id")
	f.IntVar(&lim.simulateMaxIDs, "simulate-max-ids", lim.simulateMaxIDs, "simulated ids kept (about 175 bytes each); the least recently used is forgotten first")
	f.IntVar(&lim.maxConns, "max-conns", lim.maxConns, "connections served at once; at the limit the longest-idle keep-alive connection is closed for a new one, and with none idle new ones wait")
	f.IntVar(&lim.maxHeaderBytes, "max-header-bytes", lim.maxHeaderBytes, "largest request line and headers; larger requests get 431")
	f.DurationVar(&lim.readHeaderTimeout, "read-header-timeout", lim.readHeaderTimeout, "time to read a request's headers")
	f.DurationVar(&lim.readTimeout, "read-timeout", lim.readTimeout, "time to read a whole request, body included")
	f.DurationVar(&lim.idleTimeout, "idle-timeout", lim.idleTimeout, "time a keep-alive connection may wait for its next request")
	f.DurationVar(&lim.shutdownTimeout, "shutdown-timeout", lim.shutdownTimeout, "time requests in flight get to finish after SIGINT or SIGTERM")
	f.IntVar(&lim.requestLog, "request-log", lim.requestLog, "requests kept in the log that GET /_dev/requests returns")
	return cmd
}

// check refuses limits that would make the server unbounded or useless.
func (l devLimits) check() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"--read-header-timeout", l.readHeaderTimeout}, {"--read-timeout", l.readTimeout},
		{"--idle-timeout", l.idleTimeout}, {"--shutdown-timeout", l.shutdownTimeout},
	} {
		if d.v <= 0 {
			return usagef("%s must be positive, got %v", d.name, d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"--max-conns", l.maxConns}, {"--max-header-bytes", l.maxHeaderBytes},
		{"--request-log", l.requestLog}, {"--simulate-max-ids", l.simulateMaxIDs},
	} {
		if n.v <= 0 {
			return usagef("%s must be positive, got %d", n.name, n.v)
		}
	}
	return nil
}

func (a *app) printDevServer(url, key string, keyGiven bool, tick time.Duration, simulate bool) {
	w := a.stdout
	w.printf("bctrl dev server listening on %s\n\n", url)
	w.printf("Demo invocations (a state change every %v; they start over %v after they end):\n", tick, demoHold)
	w.printf("  %s  succeeds after 5 steps\n", demoSucceedsID)
	w.printf("  %s  fails on its third step (UNKNOWN_CALL, with a diagnostic and fixes)\n", demoFailsID)
	w.printf("  %s  is cancelled\n", demoCancelsID)
	w.printf("  %s  times out\n", demoTimesOutID)
	if simulate {
		w.printf("Any other id: a simulated invocation derived from the id, ending within %v.\n", simMaxTicks*tick)
	}
	w.printf("\nPoint bctrl at it:\n")
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

// devConfig is what startDevServer needs.
type devConfig struct {
	addr     string
	key      string
	tick     time.Duration
	simulate bool
	limits   devLimits
}

// devServer is a running dev server.
type devServer struct {
	url        string
	api        *devAPI
	http       *http.Server
	served     chan error // Serve's error, if it fails
	stopReplay func()
	closeOnce  sync.Once
}

// startDevServer listens on cfg.addr and serves the demo invocations (and
// with cfg.simulate, any id) within cfg.limits.
func startDevServer(cfg devConfig) (*devServer, error) {
	api, err := newDevAPI(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, usagef("start dev server: %w", err)
	}
	lim := cfg.limits
	limited := newConnLimiter(ln, lim.maxConns)
	s := &devServer{
		url: "http://" + ln.Addr().String(),
		api: api,
		http: &http.Server{
			Handler:           api,
			ReadHeaderTimeout: lim.readHeaderTimeout,
			ReadTimeout:       lim.readTimeout,
			WriteTimeout:      lim.writeTimeout,
			IdleTimeout:       lim.idleTimeout,
			MaxHeaderBytes:    lim.maxHeaderBytes,
			ConnState:         limited.track,
			// A client that hangs up or times out is not the server's
			// error; net/http would log each one to stderr.
			ErrorLog: log.New(io.Discard, "", 0),
		},
		served: make(chan error, 1),
	}
	s.stopReplay = replayDemo(api.backend, cfg.tick)
	go func() {
		if err := s.http.Serve(limited); !errors.Is(err, http.ErrServerClosed) {
			s.served <- err
		}
	}()
	return s, nil
}

// shutdown stops accepting connections and gives the requests in flight
// up to timeout to finish, then closes the connections still open. It
// reports whether everything finished in time.
func (s *devServer) shutdown(timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	s.close()
	return err == nil
}

// close stops the server at once.
func (s *devServer) close() {
	s.closeOnce.Do(func() {
		s.http.Close()
		s.stopReplay()
	})
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
	longest := armDemo(srv, tick)
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
			case <-t.C:
				armDemo(srv, tick)
			}
		}
	}()
	return func() {
		t.Stop()
		close(quit)
		<-finished
	}
}
