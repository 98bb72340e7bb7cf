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
			bctrltest.OKStep(0, "page.goto", map[string]any{"url": "https://app.example.com/login", "status": 200}),
			bctrltest.OKStep(1, "page.click", nil),
			bctrltest.OKStep(2, "page.title", "Dashboard"),
		))
	bad := bctrltest.NewInvocation("inv-bad")
	srv.Add(bctrltest.Failed(bad, "step 1 failed",
		bctrltest.OKStep(0, "page.goto", map[string]any{"url": "https://app.example.com/login", "status": 200}),
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
	fmt.Println(inv.ID, inv.Status, inv.Status.IsTerminal())
	if p := inv.Progress; p != nil {
		fmt.Println(*p.Step, "/", *p.TotalSteps, p.Message)
	}

	_, err = c.Invocations.Get(context.Background(), "no-such-id")
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output:
	// inv-ok running false
	// 1 / 3 opening the login page
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
			fmt.Printf("step %d %s: ok: %s\n", s.Index, s.Call, s.Result)
		} else if f, ok := st.Failure(); ok {
			fmt.Printf("step %d %s: %s\n", f.Index, f.Call, client.StepErrorText(&f.Error))
			if d := f.Error.Diagnostic; d != nil {
				for _, fix := range d.Fixes {
					fmt.Printf("  fix: %s: %s\n", fix.Title, fix.Command)
				}
			}
		} else {
			fmt.Println(st.Err()) // "ok" missing or not a boolean
		}
	}
	// Output:
	// step 0 page.goto: ok: {"status":200,"url":"https://app.example.com/login"}
	// step 1 page.clik: UNKNOWN_CALL: unknown call page.clik (hint: did you mean page.click?)
	//   fix: Use page.click: page.click('#login')
}

func ExampleStepSuccess_DecodeResult() {
	srv, c := exampleServer()
	defer srv.Close()

	inv, err := c.Invocations.Get(context.Background(), "inv-bad")
	if err != nil {
		log.Fatal(err)
	}
	s, ok := inv.Steps()[0].Success()
	if !ok {
		log.Fatal("step 0 did not succeed")
	}
	var page struct {
		URL    string `json:"url"`
		Status int    `json:"status"`
	}
	if err := s.DecodeResult(&page); err != nil {
		log.Fatal(err)
	}
	fmt.Println(page.URL, page.Status)
	// Output:
	// https://app.example.com/login 200
}

func ExampleResultAs() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	inv, err := c.Invocations.Wait(ctx, "inv-ok", client.WithPollInterval(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	for i := range inv.Steps() {
		s, ok := inv.Steps()[i].Success()
		if !ok {
			continue
		}
		title, err := client.ResultAs[string](s)
		switch {
		case errors.Is(err, client.ErrNullResult):
			fmt.Printf("%s: no result\n", s.Call)
		case err != nil:
			fmt.Printf("%s: not a string\n", s.Call)
		default:
			fmt.Printf("%s: %q\n", s.Call, title)
		}
	}
	// Output:
	// page.goto: not a string
	// page.click: no result
	// page.title: "Dashboard"
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
				fmt.Printf("%s %d/%d %s\n", inv.Status, *p.Step, *p.TotalSteps, p.Message)
			} else {
				fmt.Println(inv.Status)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	last, _ := inv.Steps()[2].Success()
	title, err := client.ResultAs[string](last)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("title:", title)

	_, err = c.Invocations.Wait(ctx, "inv-bad", client.WithPollInterval(time.Millisecond, 10*time.Millisecond))
	var failed *client.InvocationError
	if errors.As(err, &failed) {
		f := failed.FailedSteps[0]
		fmt.Println(failed.Status, len(failed.FailedSteps), f.Error.Code)
		fmt.Println(client.ErrorInfoText(failed.Err))
	}
	// Output:
	// running 1/3 opening the login page
	// running 2/3 signing in
	// succeeded
	// title: Dashboard
	// failed 1 UNKNOWN_CALL
	// step 1 failed
}

func ExampleInvocationsService_Watch() {
	srv, c := exampleServer()
	defer srv.Close()

	for inv, err := range c.Invocations.Watch(context.Background(), "inv-ok",
		client.WithPollInterval(time.Millisecond, 10*time.Millisecond)) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(inv.Status, inv.Progress != nil)
	}
	// Output:
	// running true
	// running true
	// succeeded false
}
