package main

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"

	"github.com/bctrlhq/sdk-go/client"
)

// reporter shows a wait's progress on stderr. update is called with each
// change of status or progress (the first and final states included); done
// is called once when the wait returns.
type reporter interface {
	update(inv *client.Invocation)
	done(inv *client.Invocation, err error)
}

// newReporter returns a progress bar on a terminal and plain lines
// otherwise (a pipe, a file, CI logs), or with --debug, whose records would
// break up a bar redrawn in place; nothing at all when progressQuiet.
func (a *app) newReporter() reporter {
	switch {
	case a.progressLive():
		return &barReporter{w: a.stderr}
	case a.progressQuiet():
		return quietReporter{}
	}
	return &lineReporter{w: a.stderr, now: a.now}
}

// progressLive reports whether progress is drawn in place on stderr: a
// terminal, without --debug.
func (a *app) progressLive() bool { return a.isTerminal(a.stderr.w) && !a.debug }

// progressQuiet reports whether progress is not reported at all: with -o
// json off a terminal (and without --debug), stderr is for the one JSON
// object of a failure.
func (a *app) progressQuiet() bool {
	return !a.isTerminal(a.stderr.w) && a.output == "json" && !a.debug
}

// quietReporter reports nothing.
type quietReporter struct{}

func (quietReporter) update(*client.Invocation)      {}
func (quietReporter) done(*client.Invocation, error) {}

// lineReporter writes one line per change, such as
// "12:00:01 running progress 2/5 clicking Sign in".
type lineReporter struct {
	w   *termOut
	now func() time.Time
}

func (r *lineReporter) update(inv *client.Invocation) {
	var progress string
	if p := inv.Progress; p != nil {
		if s := progressText(p); s != "" {
			progress = " " + s
		}
	}
	r.w.printf("%s %s%s\n", r.now().Format(time.TimeOnly), inv.Status, progress)
}

func (r *lineReporter) done(*client.Invocation, error) {}

// barReporter draws a progress bar of steps done out of the total, with the
// status and message as its description.
type barReporter struct {
	w   *termOut
	bar *progressbar.ProgressBar
}

// maxBarMessage and the widths below keep the bar on one line of an
// 80-column terminal.
const maxBarMessage = 28

func (r *barReporter) update(inv *client.Invocation) {
	if r.bar == nil {
		// A known maximum from the start: the library's spinner mode runs a
		// goroutine that outlives the bar.
		r.bar = progressbar.NewOptions(1,
			progressbar.OptionSetWriter(r.w.drawer()),
			progressbar.OptionSetWidth(16),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionUseANSICodes(true),
		)
	}
	desc := r.w.sprintf("%-9s", inv.Status)
	if p := inv.Progress; p != nil && !inv.Status.IsTerminal() {
		if p.TotalSteps != nil && *p.TotalSteps > 0 {
			step, total := 0, *p.TotalSteps
			if p.Step != nil {
				step = *p.Step
			}
			desc += r.w.sprintf(" progress %d/%d", step, total)
			if total != r.bar.GetMax() {
				r.bar.ChangeMax(total)
			}
			// The bar counts the steps done: the current one is not, and
			// the bar must not reach its end (which freezes it) before the
			// invocation does.
			r.bar.Set(min(max(step-1, 0), total-1))
		}
		msg := p.Message
		if msg == "" {
			msg = p.CurrentCall
		}
		if msg = truncate(r.w.text(msg), maxBarMessage); msg != "" {
			desc += " " + msg
		}
	}
	// A fixed width keeps the bar from jumping sideways as messages change.
	r.bar.Describe(desc + strings.Repeat(" ", max(0, maxBarMessage+20-utf8.RuneCountInString(desc))))
}

func (r *barReporter) done(inv *client.Invocation, err error) {
	if r.bar == nil {
		return
	}
	if err == nil && inv != nil && inv.Status.IsSuccess() {
		r.bar.Finish()
	} else {
		r.bar.Exit()
	}
	// Leave the bar's last state on its own line above the summary.
	r.w.printf("\n")
}
