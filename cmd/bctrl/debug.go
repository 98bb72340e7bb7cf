package main

import "log/slog"

// debugLogger is the logger --debug gives the client: text records on
// stderr, one per HTTP attempt (method, path, status, attempt, duration,
// request id), one per retry and one per change a wait observes. The client
// scrubs the key from every value it logs (a key pasted as an id included)
// and never logs a body.
func (a *app) debugLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
