// Package temporal waits on bctrl invocations from Temporal workflows:
// durable waits that survive the restart of any worker, and one poll rate
// for a whole cluster of workers, enforced by the Temporal server.
//
// A worker registers the activities, built from a client:
//
//	c, err := client.New(client.WithAPIKey(os.Getenv("BCTRL_API_KEY")))
//	acts, err := bctrltemporal.NewActivities(c)
//	w := worker.New(tc, "bctrl", worker.Options{})
//	acts.Register(w) // bctrl.WaitInvocation and bctrl.PollInvocation
//
// A workflow waits for one invocation, or for many as they end:
//
//	res, err := bctrltemporal.WaitInvocation(ctx, id)
//	for res, err := range bctrltemporal.WaitInvocations(ctx, ids) { ... }
//
// Import it under a name of its own (bctrltemporal above): its package name
// is the one of go.temporal.io/sdk/temporal too.
//
// # Which activity
//
// WaitInvocation (the default) is one long activity that polls with the
// client's Wait pace (0.5 s rising to 5 s while nothing moves) and
// heartbeats: it suits waits of seconds to minutes, reacts within a poll
// interval, and costs Temporal one heartbeat per change (throttled to one
// per 0.8 heartbeat timeout), not one history event per poll. If its worker
// dies, the retry on another worker resumes from the last heartbeat
// (client.WithResumeFrom): nothing is reported twice, and the pace is kept.
//
// PollInvocation (WithPollActivity) is one Get per activity attempt, the
// interval being a fixed retry policy (BackoffCoefficient 1): it suits
// infrequent polls (every 10 s or more) of long waits, and it is the one
// whose every poll passes a server-enforced rate. Run its workers on a
// dedicated task queue (WithTaskQueue) with
// worker.Options.TaskQueueActivitiesPerSecond set to the API key's poll
// budget: the server dispatches no more than that many attempts per second
// to all the queue's workers together, so 50 replicas share 5 polls/s
// without a coordinator of ours. Each poll is an activity task through the
// server (a round trip of milliseconds, and server work), but retries write
// no history events: a 1 h wait polled every 30 s is 120 attempts and one
// completion. Intervals under 1 s are refused: poll that often with
// WaitInvocation.
//
// # What reaches the history
//
// Results and error details are a Result: a summary under MaxResultBytes
// (64 KiB), with at most MaxFailedSteps failed steps; WithInvocationJSON
// adds the invocation's JSON up to a limit. Every value the activities
// write to a history (results, heartbeat details, error messages and
// details) passes one boundary that scrubs the API key from it.
//
// # Versions
//
// This is a module of its own, github.com/bctrlhq/sdk-go/temporal, so that
// the SDK never links Temporal. It is released with temporal/vX.Y.Z tags,
// and requires a released SDK (v0.3.0 or later: WithResumeFrom,
// Invocation.Ended and Err, IsTransient). Its end-to-end tests against a real Temporal server are another module,
// temporal/e2e, so that the server's dependencies never raise the minimum
// versions of those who import this one.
package temporal
