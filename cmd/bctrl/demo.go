package main

import (
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
	"github.com/bctrlhq/sdk-go/gen"
)

// isDemo reports whether id is one of the demo invocations'.
func isDemo(id string) bool {
	switch id {
	case demoSucceedsID, demoFailsID, demoCancelsID, demoTimesOutID:
		return true
	}
	return false
}

// armDemo registers the four demo invocations on srv, moving to their
// next state every tick from now on its clock (StampNow restamps the
// builders' times, createdAt included). It returns the number of states of
// the longest one: after that many ticks all four have ended.
func armDemo(srv *bctrltest.Server, tick time.Duration) int {
	created := time.Now() // the builders need one; StampNow replaces it
	longest := 0

	// Succeeds after five steps.
	ok := bctrltest.NewInvocation(demoSucceedsID)
	ok.CreatedAt = client.Timestamp{Time: created}
	longest = max(longest, advanceDemo(srv, demoSucceedsID, tick,
		ok,
		bctrltest.Running(ok, 1, 5, "opening https://shop.example.com/login"),
		bctrltest.Running(ok, 2, 5, "typing the email address"),
		bctrltest.Running(ok, 3, 5, "clicking Sign in"),
		bctrltest.Running(ok, 4, 5, "opening the orders page"),
		bctrltest.Running(ok, 5, 5, "reading the order total"),
		bctrltest.Succeeded(ok,
			bctrltest.OKStep(0, "page.goto", nil),
			bctrltest.OKStep(1, "page.fill", nil),
			bctrltest.OKStep(2, "page.click", nil),
			bctrltest.OKStep(3, "page.goto", nil),
			bctrltest.OKStep(4, "page.textContent", "Total: $42.00"),
		),
	))

	// Fails on its third step, a misspelt call, with a diagnostic.
	bad := bctrltest.NewInvocation(demoFailsID)
	bad.CreatedAt = client.Timestamp{Time: created}
	useClick := bctrltest.Fix("Call page.click instead of page.clik", "")
	useClick.Example = `{"call": "page.click", "args": ["button#sign-in"]}`
	diag := bctrltest.NewDiagnostic("unknown-call",
		useClick,
		bctrltest.Fix("Check the spelling of the calls in your script", ""),
	)
	diag.Closest = []string{"page.click", "page.dblclick"}
	diag.DocsURL = "https://docs.bctrl.ai/reference/calls/page.click"
	longest = max(longest, advanceDemo(srv, demoFailsID, tick,
		bad,
		bctrltest.Running(bad, 1, 4, "opening https://shop.example.com/login"),
		bctrltest.Running(bad, 2, 4, "typing the email address"),
		bctrltest.Running(bad, 3, 4, "clicking Sign in"),
		bctrltest.Failed(bad, "the invocation stopped at its first failed step",
			bctrltest.OKStep(0, "page.goto", nil),
			bctrltest.OKStep(1, "page.fill", nil),
			bctrltest.WithDiagnostic(
				bctrltest.ErrStep(2, "page.clik", "UNKNOWN_CALL",
					`"page.clik" is not a call of the browser runtime`,
					"did you mean page.click?"),
				diag),
		),
	))

	// Cancelled while running.
	cancelled := bctrltest.NewInvocation(demoCancelsID)
	cancelled.CreatedAt = client.Timestamp{Time: created}
	longest = max(longest, advanceDemo(srv, demoCancelsID, tick,
		cancelled,
		bctrltest.Running(cancelled, 1, 3, "opening https://shop.example.com/cart"),
		bctrltest.Running(cancelled, 2, 3, "waiting for the checkout page"),
		bctrltest.Cancelled(cancelled),
	))

	// Times out waiting for an element.
	slow := bctrltest.NewInvocation(demoTimesOutID)
	slow.CreatedAt = client.Timestamp{Time: created}
	longest = max(longest, advanceDemo(srv, demoTimesOutID, tick,
		slow,
		bctrltest.Running(slow, 1, 3, "opening https://shop.example.com/checkout"),
		bctrltest.Running(slow, 2, 3, "filling in the card number"),
		bctrltest.Running(slow, 3, 3, "waiting for #pay"),
		bctrltest.TimedOut(slow,
			bctrltest.OKStep(0, "page.goto", nil),
			bctrltest.OKStep(1, "page.fill", nil),
			bctrltest.ErrStep(2, "page.waitForSelector", "TIMEOUT",
				"no element matched #pay within 30s",
				"the payment frame may load slowly; raise options.timeoutMs"),
		),
	))
	return longest
}

// advanceDemo registers states for id, stamped with the times they become
// current, and returns how many there are.
func advanceDemo(srv *bctrltest.Server, id string, tick time.Duration, states ...gen.Invocation) int {
	srv.AdvanceWith(id, tick, states, bctrltest.StampNow())
	return len(states)
}
