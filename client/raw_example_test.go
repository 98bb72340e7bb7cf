package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/bctrlhq/sdk-go/client"
)

// The Raw() pattern: call any generated operation, then turn its response
// into the SDK's error and model with CheckResponse and DecodeInvocation.
func ExampleClient_CheckResponse() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	for _, id := range []string{"inv-bad", "no-such-id"} {
		resp, err := c.Raw().GetInvocationWithResponse(ctx, id, nil) // nil params: the client authenticates
		if err != nil {
			log.Fatal(err) // transport errors, after retries
		}
		if err := c.CheckResponse(resp.HTTPResponse, resp.Body); err != nil {
			var apiErr *client.APIError
			errors.As(err, &apiErr)
			fmt.Println(id, errors.Is(err, client.ErrNotFound), apiErr.Code, apiErr.RequestID != "")
			continue
		}
		inv, err := c.DecodeInvocation(resp.Body) // steps discriminated, as Get decodes them
		if err != nil {
			log.Fatal(err)
		}
		for _, f := range inv.FailedSteps() {
			fmt.Println(id, inv.Status, f.Call, f.Error.Code)
		}
	}
	// Output:
	// inv-bad failed page.clik UNKNOWN_CALL
	// no-such-id true invocation.not_found true
}
