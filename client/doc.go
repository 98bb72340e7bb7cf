// Package client is the Go SDK for the bctrl API: it reads durable
// invocations (agent work submitted to a cloud browser runtime), waits for
// them to finish, and exposes their per-step results and errors.
//
// Create one client and share it; it reads BCTRL_API_KEY and BCTRL_BASE_URL
// when the options are not given:
//
//	c, err := client.New(client.WithAPIKey(key))
//
// Get an invocation and look at its status:
//
//	inv, err := c.Invocations.Get(ctx, id)
//	if errors.Is(err, client.ErrNotFound) { ... }
//	fmt.Println(inv.Status, inv.Status.IsTerminal())
//
// Wait for it to finish, with jittered backoff, a maximum wait and progress:
//
//	inv, err := c.Invocations.Wait(ctx, id,
//		client.WithMaxWait(10*time.Minute),
//		client.WithProgress(func(inv *client.Invocation) { log.Println(inv.Status) }))
//	var failed *client.InvocationError
//	if errors.As(err, &failed) { ... failed.Status, failed.FailedSteps ... }
//
// Inspect the steps, discriminated on their "ok" field:
//
//	for i := range inv.Steps() {
//		st := &inv.Steps()[i]
//		if s, ok := st.Success(); ok {
//			title, err := client.ResultAs[string](s) // s.Result is the raw JSON
//		} else if f, ok := st.Failure(); ok {
//			fmt.Println(f.Error.Code, f.Error.Message, f.Error.Hint)
//		} else {
//			fmt.Println(st.Err()) // "ok" missing or not a boolean
//		}
//	}
//
// The types are the ones oapi-codegen generates from the API's spec
// (package gen), exposed here by their short names (model.go): a property
// the spec adds is a field after `make generate`, and an operation it adds
// is a method (zz_operations.gen.go, generated). Client.Raw is the escape
// hatch for what the methods do not cover.
//
// Every request carries "Authorization: Bearer <key>"; the key never appears
// in an error, a log line, a span or a printed Client. Transient failures
// (connection errors, 408, 429, 5xx) are retried with jittered exponential
// backoff that honours Retry-After. Request ids, transport middleware,
// OpenTelemetry tracing and metrics, and structured logs are built in
// (WithResponseInfo, WithMiddleware, WithTracerProvider, WithLogger). The
// fake server in package bctrltest lets tests run all of this without the
// real API.
package client
