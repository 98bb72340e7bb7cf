package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// exampleServer starts a fake bctrl API with a few invocations and returns
// a client for it. In a test, use bctrltest.NewServer(t) instead.
func exampleServer() (*bctrltest.Server, *client.Client) {
	srv, err := bctrltest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	inv := bctrltest.NewInvocation("inv-ok")
	srv.Script("inv-ok",
		bctrltest.Running(inv, 1, 3, "opening the login page"),
		bctrltest.Running(inv, 1, 3, "opening the login page"),
		bctrltest.Running(inv, 2, 3, "signing in"),
		bctrltest.Succeeded(inv,
			bctrltest.OKStep(0, "page.goto", nil),
			bctrltest.OKStep(1, "page.click", nil),
			bctrltest.OKStep(2, "page.title", "Dashboard"),
		))
	bad := bctrltest.NewInvocation("inv-bad")
	srv.Add(bctrltest.Failed(bad, "step 1 failed",
		bctrltest.OKStep(0, "page.goto", nil),
		bctrltest.WithDiagnostic(
			bctrltest.ErrStep(1, "page.clik", "UNKNOWN_CALL", "unknown call page.clik", "did you mean page.click?"),
			bctrltest.NewDiagnostic("diag-1", bctrltest.Fix("Use page.click", "page.click('#login')"))),
	))
	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

func ExampleInvocationsService_Get() {
	srv, c := exampleServer()
	defer srv.Close()

	inv, err := c.Invocations.Get(context.Background(), "inv-ok")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inv.Status, inv.Progress.Step, "/", inv.Progress.TotalSteps, inv.Progress.Message)

	_, err = c.Invocations.Get(context.Background(), "no-such-id")
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output:
	// running 1 / 3 opening the login page
	// true
}

func ExampleStatus() {
	for _, s := range []client.Status{client.StatusRunning, client.StatusSucceeded, client.StatusTimedOut, "paused"} {
		fmt.Printf("%-10s known=%v terminal=%v success=%v\n", s, s.Known(), s.IsTerminal(), s.IsSuccess())
	}
	// Output:
	// running    known=true terminal=false success=false
	// succeeded  known=true terminal=true success=true
	// timed_out  known=true terminal=true success=false
	// paused     known=false terminal=false success=false
}

func ExampleStep() {
	srv, c := exampleServer()
	defer srv.Close()

	inv, err := c.Invocations.Get(context.Background(), "inv-bad")
	if err != nil {
		log.Fatal(err)
	}
	steps := inv.Steps()
	for i := range steps {
		st := &steps[i]
		if s, ok := st.Success(); ok {
			fmt.Printf("step %d %s: ok\n", s.Index, s.Call)
		} else if f, ok := st.Failure(); ok {
			fmt.Printf("step %d %s: %s: %s (hint: %s)\n", f.Index, f.Call, f.Error.Code, f.Error.Message, f.Error.Hint)
			for _, fix := range f.Error.Diagnostic.Fixes {
				fmt.Printf("  fix: %s: %s\n", fix.Title, fix.Command)
			}
		} else {
			fmt.Println(st.Err())
		}
	}
	// Output:
	// step 0 page.goto: ok
	// step 1 page.clik: UNKNOWN_CALL: unknown call page.clik (hint: did you mean page.click?)
	//   fix: Use page.click: page.click('#login')
}

func ExampleInvocationsService_Wait() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	inv, err := c.Invocations.Wait(ctx, "inv-ok",
		client.WithPollInterval(time.Millisecond, 10*time.Millisecond),
		client.WithMaxWait(time.Minute),
		client.WithProgress(func(inv *client.Invocation) {
			if p := inv.Progress; p != nil {
				fmt.Printf("%s %d/%d %s\n", inv.Status, p.Step, p.TotalSteps, p.Message)
			} else {
				fmt.Println(inv.Status)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	var title string
	last, _ := inv.Steps()[2].Success()
	if err := last.DecodeResult(&title); err != nil {
		log.Fatal(err)
	}
	fmt.Println("title:", title)

	_, err = c.Invocations.Wait(ctx, "inv-bad", client.WithPollInterval(time.Millisecond, 10*time.Millisecond))
	var failed *client.InvocationError
	if errors.As(err, &failed) {
		fmt.Println(failed.Status, len(failed.FailedSteps), failed.FailedSteps[0].Error.Code)
	}
	// Output:
	// running 1/3 opening the login page
	// running 2/3 signing in
	// succeeded
	// title: Dashboard
	// failed 1 UNKNOWN_CALL
}

func ExampleInvocationsService_Watch() {
	srv, c := exampleServer()
	defer srv.Close()

	for inv, err := range c.Invocations.Watch(context.Background(), "inv-ok",
		client.WithPollInterval(time.Millisecond, 10*time.Millisecond)) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(inv.Status)
	}
	// Output:
	// running
	// running
	// succeeded
}
