package main

import (
	"fmt"
	"log/slog"
)

// debugLogger is the logger --debug gives the client: text records on
// stderr, one per HTTP attempt (method, path, status, attempt, duration,
// request id), one per retry and one per change a wait observes. The client
// logs neither the key nor bodies; every value is redacted here as well,
// since a key pasted as an id would be in the request path.
func (a *app) debugLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, attr slog.Attr) slog.Attr {
			switch v := attr.Value; v.Kind() {
			case slog.KindString:
				if s := a.redact(v.String()); s != v.String() {
					attr.Value = slog.StringValue(s)
				}
			case slog.KindAny:
				s := fmt.Sprint(v.Any())
				if r := a.redact(s); r != s {
					attr.Value = slog.StringValue(r)
				}
			}
			return attr
		},
	}))
}
