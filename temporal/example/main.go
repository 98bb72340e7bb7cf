// Command example runs a Temporal worker with the bctrl activities and a
// workflow that waits for many invocations at once, printing each outcome
// as it ends.
//
// It needs a Temporal server (temporal server start-dev, on
// localhost:7233) and a bctrl API: `bctrl dev-server --simulate` answers
// for any id, so the 200 ids the example makes up each run a simulated
// course. run.sh starts the dev server and runs this in one command:
//
//	temporal server start-dev &        # if it is not running already
//	temporal/example/run.sh            # or: make temporal-example
//
// Environment: BCTRL_BASE_URL and BCTRL_API_KEY (what the dev server
// prints), TEMPORAL_ADDRESS (default localhost:7233), and N, how many
// invocations to wait for (default 200, at most 1,000).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/google/uuid"
	tclient "go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/bctrlhq/sdk-go/client"
	bctrltemporal "github.com/bctrlhq/sdk-go/temporal"
)

const taskQueue = "bctrl-example"

// Summary counts the outcomes of a WaitMany run.
type Summary struct {
	Succeeded int
	Failed    map[string]int // by error type
}

// WaitMany waits for every id, logging each outcome as it ends.
func WaitMany(ctx workflow.Context, ids []string) (Summary, error) {
	s := Summary{Failed: map[string]int{}}
	logger := workflow.GetLogger(ctx)
	for r, err := range bctrltemporal.WaitInvocations(ctx, ids) {
		var appErr *sdktemporal.ApplicationError
		switch {
		case r == nil:
			return s, err // refused: too many ids, or a bad option
		case err == nil:
			s.Succeeded++
			logger.Info("invocation succeeded", "id", r.ID)
		case errors.As(err, &appErr):
			s.Failed[appErr.Type()]++
			logger.Info("invocation did not succeed", "id", r.ID, "status", r.Status, "failedSteps", r.FailedStepCount)
		default:
			return s, err // the workflow was cancelled
		}
	}
	return s, nil
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	n := 200
	if v := os.Getenv("N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > bctrltemporal.MaxFanOut {
			return fmt.Errorf("N=%q: want 1 to %d", v, bctrltemporal.MaxFanOut)
		}
	}
	c, err := client.New(client.WithAPIKey(os.Getenv("BCTRL_API_KEY")), client.WithBaseURL(os.Getenv("BCTRL_BASE_URL")))
	if err != nil {
		return err
	}
	acts, err := bctrltemporal.NewActivities(c)
	if err != nil {
		return err
	}
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		addr = "localhost:7233"
	}
	tc, err := tclient.Dial(tclient.Options{HostPort: addr})
	if err != nil {
		return fmt.Errorf("temporal at %s (is `temporal server start-dev` running?): %w", addr, err)
	}
	defer tc.Close()

	w := worker.New(tc, taskQueue, worker.Options{})
	w.RegisterWorkflow(WaitMany)
	acts.Register(w)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()

	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	wf, err := tc.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{TaskQueue: taskQueue}, WaitMany, ids)
	if err != nil {
		return err
	}
	fmt.Printf("workflow %s waits for %d invocations (see it at http://localhost:8233)\n", wf.GetID(), n)
	var s Summary
	if err := wf.Get(ctx, &s); err != nil {
		return err
	}
	fmt.Printf("done in %v: %d succeeded, did not succeed: %v\n", time.Since(start).Round(time.Millisecond), s.Succeeded, s.Failed)
	return nil
}
