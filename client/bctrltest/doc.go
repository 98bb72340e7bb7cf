// Package bctrltest provides an in-memory fake of the bctrl invocation API
// for tests, in the spirit of net/http/httptest.
//
// A test starts a Server, registers invocations built with the helpers in
// this package, and points a client at Server.URL with Server.APIKey:
//
//	srv := bctrltest.NewServer(t)
//	inv := bctrltest.NewInvocation("inv-1")
//	srv.Script("inv-1",
//		inv,
//		bctrltest.Running(inv, 1, 2, "opening page"),
//		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil)),
//	)
//	// GET {srv.URL}/v1/invocations/inv-1 now answers queued, running,
//	// then succeeded forever.
//
// Tests name only client and bctrltest types: the builders take and return
// Invocation and Step, the wire form the fake serves, and their fields are
// client's types (client.Progress, client.ErrorInfo, client.Diagnostic).
// OKStep and ErrStep take edits that set any field of the step, as a
// client.StepSuccess or client.StepFailure; WithStatus sets any status,
// one the SDK does not know included:
//
//	bctrltest.OKStep(0, "page.goto", nil, func(s *client.StepSuccess) {
//		s.Binding = &client.Binding{Alias: "shop", ID: "page-1", Type: "page"}
//	})
//	bctrltest.WithStatus(bctrltest.Running(inv, 1, 2, ""), "paused")
//
// Requests are routed through the net/http server interface that
// oapi-codegen generates from the vendored spec (gen.ServerInterface), so the
// fake serves exactly the routes and parameters the spec declares. Like the
// live API it requires "Authorization: Bearer <key>", answers every request
// with an x-request-id header, and reports errors as JSON objects with a
// code, a requestId and either an "error" or a "message" field (the live API
// uses both spellings, so the fake does too).
//
// Server.Fault injects transport and server failures (error statuses with
// Retry-After, latency, malformed bodies, dropped connections, requests that
// never get an answer), and Server.Requests records what a client sent.
//
// Invocation ids are kept as given: NewInvocation("inv-1") has id "inv-1",
// and a GET of /v1/invocations/inv-1 finds the invocation registered under
// exactly that id. The API's ids are UUIDs, and the spec says so, so a test
// that validates served bodies against the spec should use UUID ids; any
// other id is served as given, which the real API never does.
//
// # Tests in fake time
//
// With InMemory the server has no listener, and HTTPClient serves it
// in-process, so a test runs the server and a client inside a
// testing/synctest bubble, where time is fake: the client's attempt
// timeouts, retry backoff, Retry-After waits, rate limiter and poll
// intervals, the server's Advance scripts and Fault latency all run on the
// bubble's clock, and a "Retry-After: 30" costs microseconds:
//
//	func TestRetryAfter(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			srv := bctrltest.NewServer(t, bctrltest.InMemory())
//			c, err := client.New(client.WithAPIKey(srv.APIKey()),
//				client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()))
//			if err != nil {
//				t.Fatal(err)
//			}
//			srv.Add(bctrltest.NewInvocation("inv-1"))
//			srv.Fault("inv-1", bctrltest.Fault{Status: 503, RetryAfter: "30", Times: 1})
//			start := time.Now()
//			_, err = c.Invocations.Get(t.Context(), "inv-1") // retried after 30 s of fake time
//			fmt.Println(time.Since(start))                   // 30s
//		})
//	}
//
// Build the server and the client inside the bubble: a channel or timer
// made outside it cannot make the bubble's clock move. Without synctest,
// the same server and client work in real time.
//
// The builders' timestamps derive from createdAt, one second per step, in
// order: createdAt <= startedAt <= lastHeartbeatAt <= finishedAt. The server
// never serves a heartbeat later than its clock's now (see WithClock): a
// later one is served as now, or left out if the invocation has not started
// by then.
//
// To serve the times a timeline actually goes through instead, so that a
// client can measure how late it saw an end from finishedAt, register it
// with AdvanceWith and StampNow: each state is then stamped on the
// server's clock, finishedAt at the moment the end became current and the
// heartbeat when the current state did:
//
//	srv.AdvanceWith(id, time.Second, []bctrltest.Invocation{inv,
//		bctrltest.Running(inv, 1, 1, "opening page"),
//		bctrltest.Succeeded(inv, bctrltest.OKStep(0, "page.goto", nil)),
//	}, bctrltest.StampNow()) // finishedAt: 2 s after this call
package bctrltest
