package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/gen"
)

// waitManyHelp is added to the help of wait.
const waitManyHelp = `

With several ids, or "-" to read ids from stdin (separated by spaces or
newlines), wait waits for them all with client.WaitAll, under one request
budget: --budget polls a second in all, 10 by default (0 for no bound but
32 polls in flight). An id longer than 1 KiB is refused (exit code 2,
naming its stdin line or argument) and the others are still waited for.
Each invocation is printed as it ends, one line on stdout, its fields
separated by tabs: "<id><TAB><outcome>", and "<TAB><message>" when it did
not succeed. With -o json, one JSON object per line instead, and nothing
else (id, status, exit_code, error, invocation). Progress is one line on
stderr, redrawn in place on a terminal, then a summary (with -o json off
a terminal, only a failure's JSON object). --timeout bounds the wait for
each invocation. The exit code is the highest of the invocations' exit
codes: 0 if all succeeded.`

// defaultBudget is the default of --budget: a batch started without
// thinking about it stays a polite client of the API.
const defaultBudget = 10

// waitMany lets the wait command take several ids, or "-", and wait for
// them with WaitAll; with a single id it is the wait command as it was.
func (a *app) waitMany(wait *cobra.Command) *cobra.Command {
	one := wait.RunE
	wait.Use = "wait <id>... | -"
	wait.Args = cobra.MinimumNArgs(1)
	wait.Long += waitManyHelp
	wait.Example += `
  bctrl invocations wait 3f2b1c9e-... 9a1c77d0-... --budget 10
  jq -r '.[].id' submitted.json | bctrl invocations wait - -o json > results.ndjson`
	var budget float64
	wait.Flags().Float64Var(&budget, "budget", defaultBudget, "with several ids: at most this many polls a second in all; 0 means no bound but 32 polls in flight")
	wait.RunE = markRan(func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 && args[0] != "-" {
			return one(cmd, args)
		}
		return a.runWaitMany(cmd, args, budget)
	})
	return wait
}

// runWaitMany waits for the ids of args (and of stdin for "-").
func (a *app) runWaitMany(cmd *cobra.Command, args []string, budget float64) error {
	out := outputFlag{format: &a.output}
	if err := out.check(); err != nil {
		return err
	}
	f := cmd.Flags()
	timeout, _ := f.GetDuration("timeout")
	pollMin, _ := f.GetDuration("poll-min")
	pollMax, _ := f.GetDuration("poll-max")
	switch {
	case timeout < 0:
		return usagef("--timeout must not be negative, got %v", timeout)
	case pollMin <= 0 || pollMax < pollMin:
		return usagef("need 0 < --poll-min <= --poll-max, got %v and %v", pollMin, pollMax)
	case !(budget >= 0) || math.IsInf(budget, 1):
		return usagef("--budget must be a finite rate, 0 or more, got %v", budget)
	}
	ids, bad, err := readIDs(args, cmd.InOrStdin())
	if err != nil {
		return err
	}
	if len(ids) == 0 && len(bad) == 0 {
		return usagef("no invocation ids (on stdin, for \"-\")")
	}
	c, err := a.newClient()
	if err != nil {
		return err
	}
	opts := []client.WaitOption{client.WithMaxWait(timeout), client.WithPollInterval(pollMin, pollMax)}
	if budget > 0 {
		opts = append(opts, client.WithPollBudget(budget))
	}

	p := &batchProgress{w: a.stderr.drawer(), live: a.progressLive(), quiet: a.progressQuiet(), total: distinct(ids) + len(bad)}
	res := &batchError{}
	ctx := cmd.Context()
	for _, b := range bad {
		// Reported like the invalid ids WaitAll yields; the others are
		// still waited for.
		inv := &client.Invocation{Invocation: gen.Invocation{ID: b.cut}}
		if err := a.printEnded(out, inv, b.err, exitUsage); err != nil {
			return err
		}
		res.add(inv, b.err, exitUsage)
		p.ended(exitUsage)
	}
	for inv, err := range c.Invocations.WaitAll(ctx, ids, opts...) {
		code := exitCode(ctx, err)
		if err := a.printEnded(out, inv, err, code); err != nil {
			return err
		}
		res.add(inv, err, code)
		p.ended(code)
	}
	p.done()
	if res.worst == nil {
		return nil
	}
	res.total = p.total
	return res
}

// maxIDBytes is the longest id wait accepts. An invocation id is a UUID
// (36 bytes); a longer word is a mistake (a file or a binary piped in by
// accident), reported where it is, and never held in memory whole.
const maxIDBytes = 1 << 10

// badID is an id refused before any request: cut is the start of it, for
// the line that reports it.
type badID struct {
	cut string
	err error
}

// readIDs returns the ids of args, with those read from stdin in place of
// "-" (read once, separated by ASCII whitespace), and the ids it refused:
// those longer than maxIDBytes, each named by its argument or stdin line.
// Only a failure to read stdin is an error.
func readIDs(args []string, stdin io.Reader) (ids []string, bad []badID, err error) {
	read := false
	for i, arg := range args {
		switch {
		case arg == "-" && read:
		case arg == "-":
			read = true
			if err := scanIDs(stdin, func(id string, line int, n int) {
				if n > maxIDBytes {
					bad = append(bad, tooLong(id, n, fmt.Sprintf("line %d of stdin", line)))
				} else {
					ids = append(ids, id)
				}
			}); err != nil {
				return nil, nil, fmt.Errorf("read ids from stdin: %w", err)
			}
		case len(arg) > maxIDBytes:
			bad = append(bad, tooLong(arg, len(arg), fmt.Sprintf("argument %d", i+1)))
		default:
			ids = append(ids, arg)
		}
	}
	return ids, bad, nil
}

// tooLong is the refusal of an id of n bytes, starting with start, found
// at where.
func tooLong(start string, n int, where string) badID {
	cut := cutText(start, 40)
	return badID{cut: cut, err: usagef("invalid id at %s: %d bytes, longer than %d (an invocation id is a UUID)", where, n, maxIDBytes)}
}

// scanIDs calls found with each word of r (separated by ASCII whitespace):
// its first maxIDBytes+1 bytes, the 1-based line it starts on, and its
// length in bytes. It holds at most that much of a word in memory.
func scanIDs(r io.Reader, found func(id string, line, n int)) error {
	br := bufio.NewReader(r)
	var word []byte
	line, start, n := 1, 0, 0
	flush := func() {
		if n > 0 {
			found(string(word), start, n)
		}
		word, n = word[:0], 0
	}
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			flush()
			return nil
		}
		if err != nil {
			return err
		}
		switch b {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			flush()
			if b == '\n' {
				line++
			}
			continue
		}
		if n == 0 {
			start = line
		}
		if n++; n <= maxIDBytes+1 {
			word = append(word, b)
		}
	}
}

func distinct(ids []string) int {
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		seen[id] = struct{}{}
	}
	return len(seen)
}

// endedJSON is the line -o json prints for each invocation that ends.
type endedJSON struct {
	ID         string          `json:"id"`
	Status     string          `json:"status,omitempty"` // the last observed
	ExitCode   int             `json:"exit_code"`
	Error      *errorJSON      `json:"error,omitempty"`
	Invocation json.RawMessage `json:"invocation,omitempty"` // as the API sent it
}

// printEnded prints one invocation's outcome on stdout.
func (a *app) printEnded(out outputFlag, inv *client.Invocation, err error, code int) error {
	// The id is the caller's, maybe pasted from anywhere, and the rest the
	// server's: the output boundary (termOut) scrubs and escapes them all.
	id := inv.ID
	if out.json() {
		line := endedJSON{ID: id, Status: string(inv.Status), ExitCode: code}
		if err != nil {
			e := a.errorObject(err, code)
			line.Error = &e
		}
		if json.Valid(inv.Raw()) {
			line.Invocation = inv.Raw()
		}
		b, err := encodeJSON(line, "")
		if err != nil {
			return err
		}
		return a.stdout.writeJSON(b)
	}
	if err != nil {
		a.stdout.printf("%s\t%s\t%s\n", id, outcome(inv, code), a.errorMessage(err, code))
	} else {
		a.stdout.printf("%s\t%s\n", id, outcome(inv, code))
	}
	return nil
}

// outcome names how an invocation's wait ended, by its exit code: its
// status when it ended, else the reason the wait stopped.
func outcome(inv *client.Invocation, code int) string {
	switch code {
	case exitOK, exitFailed:
		return string(inv.Status)
	case exitUsage:
		return "invalid_id"
	case exitNotFound:
		return "not_found"
	case exitAuth:
		return "unauthorized"
	case exitTimeout:
		return "timeout"
	case exitInterrupted:
		return "interrupted"
	}
	return "error"
}

// batchError is the error of a batch in which some invocation did not
// succeed. It wraps the error with the highest exit code, which gives the
// command's.
type batchError struct {
	worst     error
	worstCode int
	total     int
	counts    map[string]int // outcome -> invocations
	failed    int
}

func (e *batchError) add(inv *client.Invocation, err error, code int) {
	if err == nil {
		return
	}
	if e.counts == nil {
		e.counts = map[string]int{}
	}
	e.failed++
	e.counts[outcome(inv, code)]++
	if e.worst == nil || code > e.worstCode {
		e.worst, e.worstCode = err, code
	}
}

func (e *batchError) Error() string {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(e.counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", e.counts[code], code))
	}
	return fmt.Sprintf("bctrl: %d of %d invocations did not succeed (%s); the worst: %s",
		e.failed, e.total, strings.Join(parts, ", "), strings.TrimPrefix(e.worst.Error(), "bctrl: "))
}

func (e *batchError) Unwrap() error { return e.worst }

// batchProgress is the one progress line of a batch on stderr: redrawn in
// place on a terminal, otherwise written once, at the end.
type batchProgress struct {
	w                      io.Writer
	live                   bool
	quiet                  bool // -o json off a terminal: stderr is for a failure's JSON object
	total, seen, ok, notOK int
}

func (p *batchProgress) ended(code int) {
	p.seen++
	if code == exitOK {
		p.ok++
	} else {
		p.notOK++
	}
	if p.live {
		fmt.Fprintf(p.w, "\r\x1b[2K%s", p.line())
	}
}

func (p *batchProgress) line() string {
	return fmt.Sprintf("%d/%d ended: %d succeeded, %d did not", p.seen, p.total, p.ok, p.notOK)
}

func (p *batchProgress) done() {
	if p.live {
		fmt.Fprint(p.w, "\r\x1b[2K")
	}
	if !p.quiet {
		fmt.Fprintln(p.w, p.line())
	}
}
