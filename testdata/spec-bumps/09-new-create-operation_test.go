package client_test

// The drill (scripts/drill.sh) copies this file into client/ of a copy of
// the module whose openapi.yaml is 09-new-create-operation.yaml, after `go
// generate`: Create takes the generated JSON body, returns the invocation,
// and is not retried after a 500 without an idempotency key.

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

func TestDrillCreate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := bctrltest.NewServer(t, bctrltest.InMemory())
		c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()))
		if err != nil {
			t.Fatal(err)
		}
		var got client.InvocationsCreateBody
		srv.HandleOperation("create", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil || r.Header.Get("Content-Type") != "application/json" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(bctrltest.NewInvocation("inv-new"))
		}))
		body := client.InvocationsCreateBody{RuntimeID: "0b5e7a1e-0000-4000-8000-00000000c001",
			Steps: []client.RequestStep{{Call: "page.goto"}}}
		inv, err := c.Invocations.Create(t.Context(), body)
		if err != nil {
			t.Fatal(err)
		}
		if inv.ID != "inv-new" || inv.Status != client.StatusQueued {
			t.Errorf("Create = %s %s, want inv-new queued", inv.ID, inv.Status)
		}
		if got.RuntimeID != body.RuntimeID || len(got.Steps) != 1 || got.Steps[0].Call != "page.goto" {
			t.Errorf("the server read %+v, want %+v", got, body)
		}

		// Without an idempotency key, a POST answered 500 may have been
		// processed: it is not sent again.
		srv.Fault("", bctrltest.Fault{Status: http.StatusInternalServerError, Times: 1})
		before := len(srv.Requests())
		_, err = c.Invocations.Create(t.Context(), body)
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError {
			t.Errorf("Create after a 500: %v, want the 500 as an *APIError", err)
		}
		if n := len(srv.Requests()) - before; n != 1 {
			t.Errorf("Create without a key was sent %d times after a 500, want 1", n)
		}
	})
}

func TestDrillCreateIdempotencyKeyRetried(t *testing.T) {
	// With client.WithIdempotencyKey("k") as a per-call option, Create
	// sends Idempotency-Key: k and is retried after a 500.
	synctest.Test(t, func(t *testing.T) {
		srv := bctrltest.NewServer(t, bctrltest.InMemory())
		c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		srv.HandleOperation("create", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(bctrltest.NewInvocation("inv-new"))
		}))
		srv.Fault("", bctrltest.Fault{Status: http.StatusInternalServerError, Times: 1})
		body := client.InvocationsCreateBody{RuntimeID: "0b5e7a1e-0000-4000-8000-00000000c001",
			Steps: []client.RequestStep{{Call: "page.goto"}}}
		inv, err := c.Invocations.Create(t.Context(), body, client.WithIdempotencyKey("k"))
		if err != nil {
			t.Fatalf("Create with a key after a 500: %v, want it retried", err)
		}
		if inv.ID != "inv-new" {
			t.Errorf("Create = %s, want inv-new", inv.ID)
		}
		if len(keys) != 1 || keys[0] != "k" {
			t.Errorf("the handler saw Idempotency-Key %q, want one request with k after the fault", keys)
		}
	})
}
