package bctrltest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// In a test, start the fake with bctrltest.NewServer(t), which stops it when
// the test ends; an Example has no testing.TB, so it uses Start and Close.
func ExampleNewServer() {
	srv, err := bctrltest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// Each GET of "inv-1" returns the next state; the last one repeats. The
	// fake keeps the id as given (the real API's ids are UUIDs).
	inv := bctrltest.NewInvocation("inv-1")
	srv.Script("inv-1",
		inv,
		bctrltest.Running(inv, 1, 2, "opening the checkout page"),
		bctrltest.Succeeded(inv,
			bctrltest.OKStep(0, "page.goto", nil),
			bctrltest.OKStep(1, "page.title", "Checkout"),
		),
	)

	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		got, err := c.Invocations.Get(ctx, "inv-1")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(got.ID, got.Status)
	}
	fmt.Println("requests:", srv.RequestCount("inv-1"))
	// Output:
	// inv-1 queued
	// inv-1 running
	// inv-1 succeeded
	// requests: 3
}

// FailedWith sets the invocation's error code and details as well as its
// message; Failed is the shortcut for a message alone.
func ExampleFailedWith() {
	srv, err := bctrltest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	inv := bctrltest.NewInvocation("inv-quota")
	srv.Add(bctrltest.FailedWith(inv,
		client.ErrorInfo{Code: "quota.exceeded", Message: "runtime quota exceeded"},
		bctrltest.ErrStep(0, "page.goto", "CAPABILITY_NOT_AVAILABLE", "no browser runtime is free", ""),
	))

	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	got, err := c.Invocations.Get(context.Background(), "inv-quota")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Status, got.Error.Code, got.Error.Message)
	for _, f := range got.FailedSteps() {
		fmt.Println(f.Call, f.Error.Code)
	}
	// Output:
	// failed quota.exceeded runtime quota exceeded
	// page.goto CAPABILITY_NOT_AVAILABLE
}
