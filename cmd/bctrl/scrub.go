package main

import (
	"slices"
	"strings"
	"sync"

	"github.com/bctrlhq/sdk-go/client"
)

// The CLI never prints an API key, even when a server or an argument
// echoes it (a key pasted as an id lands in request paths and error
// messages). It has no rules of its own for that: every form of a key is
// the SDK's business, through (*client.Client).Scrub. The output boundary
// (termOut) scrubs everything it writes with app.scrub.

// minScrubLen is the shortest key the CLI scrubs from its output. Scrubbing
// is applied to all output, help text included, so a shorter value would
// mangle unrelated words; no real key is that short.
const minScrubLen = 8

// scrubCache holds the scrubbers of the keys the CLI knows of, rebuilt
// when that set changes (cobra sets --api-key while it parses).
type scrubCache struct {
	mu      sync.Mutex
	keys    []string
	scrubFn []func(string) string
}

// scrub returns s with every form of every API key the CLI knows of
// replaced by "[redacted]": the --api-key flag, BCTRL_API_KEY, and any
// --api-key in the arguments, which cobra may not have parsed when it
// fails (the dev server's own --api-key included). The dev server's demo
// key is public and stays readable.
func (a *app) scrub(s string) string {
	keys := a.knownKeys()
	c := &a.scrubs
	c.mu.Lock()
	if !slices.Equal(keys, c.keys) {
		c.keys, c.scrubFn = keys, nil
		for _, k := range keys {
			c.scrubFn = append(c.scrubFn, keyScrubber(k)...)
		}
	}
	fns := c.scrubFn
	c.mu.Unlock()
	for _, f := range fns {
		s = f(s)
	}
	return s
}

func (a *app) knownKeys() []string {
	var keys []string
	for _, k := range append([]string{a.apiKey, a.getenv(client.EnvAPIKey)}, apiKeysInArgs(a.args)...) {
		k = strings.TrimSpace(k)
		if len(k) >= minScrubLen && k != demoAPIKey && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// keyScrubber returns the SDK's scrubbing for key, from a client built with
// nothing but the key: New fails only on the key itself, never on the rest
// of the CLI's configuration, so the key is scrubbed even when the real
// client could not be built (a bad base URL, a bad flag). The SDK refuses a
// key with a line break; such a key is scrubbed line by line, so that no
// line of it is printed either.
func keyScrubber(key string) []func(string) string {
	c, err := client.New(client.WithAPIKey(key), client.WithBaseURL(client.DefaultBaseURL))
	if err == nil {
		return []func(string) string{c.Scrub}
	}
	var fns []func(string) string
	for _, line := range strings.FieldsFunc(key, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if line = strings.TrimSpace(line); len(line) >= minScrubLen && line != key {
			fns = append(fns, keyScrubber(line)...)
		}
	}
	return fns
}

// apiKeysInArgs returns the values given to --api-key in args, in either
// form pflag accepts, up to a "--".
func apiKeysInArgs(args []string) []string {
	var keys []string
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--":
			return keys
		case arg == "--api-key":
			if i+1 < len(args) {
				keys = append(keys, args[i+1])
				i++
			}
		case strings.HasPrefix(arg, "--api-key="):
			keys = append(keys, strings.TrimPrefix(arg, "--api-key="))
		}
	}
	return keys
}
