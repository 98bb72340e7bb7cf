package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/bctrlhq/sdk-go/client"
)

// printSummary writes the text form of an invocation: a header of fields,
// a table of steps, and the diagnostics of failed steps below the table.
// The server's text reaches w only as printf arguments and table cells,
// which the boundary escapes: a message cannot break the table or drive
// the terminal.
func printSummary(w *termOut, inv *client.Invocation) {
	tw := newTable(w)
	tw.row("ID:", inv.ID)
	tw.row("Status:", string(inv.Status))
	if p := inv.Progress; p != nil {
		tw.row("Progress:", progressText(p))
	}
	tw.row("Created:", timeText(inv.CreatedAt))
	tw.row("Started:", timeText(inv.StartedAt))
	tw.row("Finished:", timeText(inv.FinishedAt))
	if d, ok := inv.Duration(); ok {
		tw.row("Duration:", d.String())
	}
	if e := inv.Error; e != nil {
		tw.row("Error:", client.ErrorInfoText(e))
	}
	tw.flush()

	steps := inv.Steps()
	w.printf("\n")
	if len(steps) == 0 {
		if inv.Status.IsTerminal() {
			w.printf("No step results.\n")
		} else {
			w.printf("No step results yet.\n")
		}
		return
	}
	tw = newTable(w)
	tw.row("INDEX", "CALL", "OK", "RESULT", "CODE", "MESSAGE", "HINT")
	for i := range steps {
		st := &steps[i]
		row := []string{strconv.Itoa(st.Index()), st.Call(), "yes", "", "", "", ""}
		if s, ok := st.Success(); ok {
			row[3] = resultCell(w, s.Result)
		} else if f, ok := st.Failure(); ok {
			row[2], row[4], row[5], row[6] = "no", string(f.Error.Code), f.Error.Message, f.Error.Hint
		} else if err := st.Err(); err != nil {
			row[2], row[5] = "?", err.Error()
		}
		tw.row(row...)
	}
	tw.flush()

	for _, f := range inv.FailedSteps() {
		printDiagnostic(w, f)
	}
}

// maxResult is the most runes of a step's result the step table shows.
const maxResult = 60

// resultText renders a successful step's result: compact JSON, and "" for
// a call that returned nothing (null or absent).
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
	return s
}

// resultCell is a step's result as the step table shows it: resultText,
// scrubbed and escaped, then cut to maxResult runes (in that order: a cut
// must not leave part of a key, and an escape is counted as it shows).
func resultCell(w *termOut, raw json.RawMessage) string {
	return truncate(w.text(resultText(raw)), maxResult)
}

// truncate cuts s to at most n runes, ending a cut string with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// table aligns cells in columns, like text/tabwriter, and drops the
// padding at the end of each line. Its cells are escaped completely (a tab
// or a newline in a cell shows as \t or \n), so no value can add a column
// or a line.
type table struct {
	w   *termOut
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(w *termOut) *table {
	t := &table{w: w}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

// row adds a line of cells.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if i > 0 {
			t.tw.Write([]byte{'\t'})
		}
		t.tw.Write([]byte(t.w.text(c)))
	}
	t.tw.Write([]byte{'\n'})
}

// flush writes the aligned table.
func (t *table) flush() {
	t.tw.Flush()
	for line := range strings.Lines(t.buf.String()) {
		t.w.Write([]byte(strings.TrimRight(line, " \n") + "\n"))
	}
	t.buf.Reset()
}

// printDiagnostic writes what a failed step's diagnostic says: the closest
// valid calls, the fixes and the docs URL. It writes nothing for a step
// without a diagnostic.
func printDiagnostic(w *termOut, f *client.StepFailure) {
	d := f.Error.Diagnostic
	if d == nil || len(d.Closest) == 0 && len(d.Fixes) == 0 && d.DocsURL == "" {
		return
	}
	w.printf("\nStep at index %d (%s) failed with %s:\n", f.Index, f.Call, f.Error.Code)
	if d.Expected != "" || d.Received != "" {
		w.printf("  expected %s, received %s\n", d.Expected, d.Received)
	}
	if len(d.Closest) > 0 {
		w.printf("  Did you mean: %s\n", strings.Join(d.Closest, ", "))
	}
	if len(d.Fixes) > 0 {
		w.printf("  Fixes:\n")
		for _, fix := range d.Fixes {
			w.printf("    - %s\n", fix.Title)
			if fix.Command != "" {
				w.printf("        $ %s\n", fix.Command)
			}
			if fix.Example != "" {
				w.printf("        example: %s\n", fix.Example)
			}
		}
	}
	if d.DocsURL != "" {
		w.printf("  Docs: %s\n", d.DocsURL)
	}
}

// progressText renders a progress report, labelled, as "progress 2/5
// message": the API's 1-based step of its total, never to be mixed up
// with a step's 0-based index, which the step table labels INDEX.
func progressText(p *client.Progress) string {
	var parts []string
	switch {
	case p.Step != nil && p.TotalSteps != nil:
		parts = append(parts, fmt.Sprintf("progress %d/%d", *p.Step, *p.TotalSteps))
	case p.Step != nil:
		parts = append(parts, fmt.Sprintf("progress %d", *p.Step))
	case p.TotalSteps != nil:
		parts = append(parts, fmt.Sprintf("progress ?/%d", *p.TotalSteps))
	}
	if p.Message != "" {
		parts = append(parts, p.Message)
	} else if p.CurrentCall != "" {
		parts = append(parts, p.CurrentCall)
	}
	return strings.Join(parts, " ")
}

// timeText renders a timestamp in UTC, or "-" for a zero time.
func timeText(t client.Timestamp) string {
	switch {
	case t.IsZero():
		return "-"
	case !t.Valid():
		return `"` + t.Text() + `"` // as sent: it did not parse
	}
	return t.UTC().Format(time.RFC3339)
}
