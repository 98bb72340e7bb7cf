package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bctrlhq/sdk-go/client"
)

// printSummary writes the text form of an invocation: a header of fields,
// a table of steps, and the diagnostics of failed steps below the table.
// Every string that came from the server goes through clean, so a message
// cannot break the table or send escape sequences to the terminal.
func printSummary(w io.Writer, inv *client.Invocation) {
	tw := newTable(w)
	field := func(name, value string) { fmt.Fprintf(tw, "%s:\t%s\n", name, value) }
	field("ID", clean(inv.ID))
	field("Status", clean(string(inv.Status)))
	if p := inv.Progress; p != nil {
		field("Progress", progressText(p))
	}
	field("Created", timeText(inv.CreatedAt))
	field("Started", timeText(inv.StartedAt))
	field("Finished", timeText(inv.FinishedAt))
	if d, ok := inv.Duration(); ok {
		field("Duration", d.String())
	}
	if e := inv.Error; e != nil {
		field("Error", clean(client.ErrorInfoText(e)))
	}
	tw.Flush()

	steps := inv.Steps()
	fmt.Fprintln(w)
	if len(steps) == 0 {
		if inv.Status.IsTerminal() {
			fmt.Fprintln(w, "No step results.")
		} else {
			fmt.Fprintln(w, "No step results yet.")
		}
		return
	}
	tw = newTable(w)
	fmt.Fprintln(tw, "STEP\tCALL\tOK\tRESULT\tCODE\tMESSAGE\tHINT")
	for i := range steps {
		st := &steps[i]
		row := []string{strconv.Itoa(st.Index()), clean(st.Call()), "yes", "", "", "", ""}
		if s, ok := st.Success(); ok {
			row[3] = resultText(s.Result)
		} else if f, ok := st.Failure(); ok {
			row[2], row[4], row[5], row[6] = "no", clean(string(f.Error.Code)), clean(f.Error.Message), clean(f.Error.Hint)
		} else if err := st.Err(); err != nil {
			row[2], row[5] = "?", clean(err.Error())
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()

	for _, f := range inv.FailedSteps() {
		printDiagnostic(w, f)
	}
}

// maxResult is the most runes of a step's result the step table shows.
const maxResult = 60

// resultText renders a successful step's result for the step table: compact
// JSON, cut to maxResult runes with "…", and "" for a call that returned
// nothing (null or absent).
func resultText(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		buf.Reset()
		buf.Write(raw) // the client decoded it, so this does not happen
	}
	s := buf.String()
	if s == "null" {
		return ""
	}
	return truncate(clean(s), maxResult)
}

// truncate cuts s to at most n runes, ending a cut string with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// table aligns tab-separated cells in columns, like text/tabwriter, and
// drops the padding at the end of each line.
type table struct {
	w   io.Writer
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(w io.Writer) *table {
	t := &table{w: w}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

func (t *table) Write(p []byte) (int, error) { return t.tw.Write(p) }

// Flush writes the aligned table.
func (t *table) Flush() {
	t.tw.Flush()
	for line := range strings.Lines(t.buf.String()) {
		fmt.Fprintln(t.w, strings.TrimRight(line, " \n"))
	}
	t.buf.Reset()
}

// printDiagnostic writes what a failed step's diagnostic says: the closest
// valid calls, the fixes and the docs URL. It writes nothing for a step
// without a diagnostic.
func printDiagnostic(w io.Writer, f *client.StepFailure) {
	d := f.Error.Diagnostic
	if d == nil || len(d.Closest) == 0 && len(d.Fixes) == 0 && d.DocsURL == "" {
		return
	}
	fmt.Fprintf(w, "\nStep %d (%s) failed with %s:\n", f.Index, clean(f.Call), clean(string(f.Error.Code)))
	if d.Expected != "" || d.Received != "" {
		fmt.Fprintf(w, "  expected %s, received %s\n", clean(d.Expected), clean(d.Received))
	}
	if len(d.Closest) > 0 {
		closest := make([]string, len(d.Closest))
		for i, c := range d.Closest {
			closest[i] = clean(c)
		}
		fmt.Fprintf(w, "  Did you mean: %s\n", strings.Join(closest, ", "))
	}
	if len(d.Fixes) > 0 {
		fmt.Fprintln(w, "  Fixes:")
		for _, fix := range d.Fixes {
			fmt.Fprintf(w, "    - %s\n", clean(fix.Title))
			if fix.Command != "" {
				fmt.Fprintf(w, "        $ %s\n", clean(fix.Command))
			}
			if fix.Example != "" {
				fmt.Fprintf(w, "        example: %s\n", clean(fix.Example))
			}
		}
	}
	if d.DocsURL != "" {
		fmt.Fprintf(w, "  Docs: %s\n", clean(d.DocsURL))
	}
}

// progressText renders a progress report as "step 2/5: message".
func progressText(p *client.Progress) string {
	var parts []string
	switch {
	case p.Step != nil && p.TotalSteps != nil:
		parts = append(parts, fmt.Sprintf("step %d/%d", *p.Step, *p.TotalSteps))
	case p.Step != nil:
		parts = append(parts, fmt.Sprintf("step %d", *p.Step))
	case p.TotalSteps != nil:
		parts = append(parts, fmt.Sprintf("%d steps", *p.TotalSteps))
	}
	if p.Message != "" {
		parts = append(parts, clean(p.Message))
	} else if p.CurrentCall != "" {
		parts = append(parts, clean(p.CurrentCall))
	}
	return strings.Join(parts, " ")
}

// timeText renders a timestamp in UTC, or "-" for a zero time.
func timeText(t client.Timestamp) string {
	switch {
	case t.IsZero():
		return "-"
	case !t.Valid():
		return clean(strconv.Quote(t.Text())) // as sent: it did not parse
	}
	return t.UTC().Format(time.RFC3339)
}

// clean replaces control characters (tabs, newlines, escape sequences) in
// text from the server with spaces, so it prints on one line and cannot
// drive the terminal.
func clean(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
