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

	// Each GET of "inv-1" returns the next state; the last one repeats.
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
		fmt.Println(got.Status)
	}
	fmt.Println("requests:", srv.RequestCount("inv-1"))
	// Output:
	// queued
	// running
	// succeeded
	// requests: 3
}
