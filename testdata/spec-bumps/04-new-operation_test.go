package client_test

// The drill (scripts/drill.sh) copies this file into client/ of a copy of
// the module whose openapi.yaml is 04-new-operation.yaml, after `go
// generate`: the operation that bump adds must be a typed method, served by
// bctrltest through HandleOperation.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

func TestDrillCancel(t *testing.T) {
	srv := bctrltest.NewServer(t, bctrltest.InMemory())
	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	const id = "inv-1"

	// Unmodelled: a 501 naming the operation, never a 404.
	_, err = c.Invocations.Cancel(t.Context(), id)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotImplemented || apiErr.Code != "not_implemented" ||
		!strings.Contains(apiErr.Message, "cancel") || errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Cancel before HandleOperation: %v, want a 501 not_implemented naming cancel", err)
	}

	inv := bctrltest.Failed(bctrltest.WithStatus(bctrltest.NewInvocation(id), client.StatusCancelling), "cancelled by user",
		bctrltest.OKStep(0, "page.goto", nil),
		bctrltest.ErrStep(1, "page.clik", "UNKNOWN_CALL", "no such call", "did you mean page.click?"))
	inv.Status = "cancelling"
	srv.HandleOperation("cancel", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.PathValue("id") != id {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":"invocation.not_found","message":"not found"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(inv)
	}))
	got, err := c.Invocations.Cancel(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.Status != client.StatusCancelling || len(got.Steps()) != 2 || len(got.FailedSteps()) != 1 || got.RequestID() == "" {
		t.Errorf("Cancel = %+v, want %s cancelling with steps discriminated (one failed) and a request id", got, id)
	}
	if _, err := c.Invocations.Cancel(t.Context(), "other"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Cancel of an unknown id: %v, want ErrNotFound", err)
	}
	var posts int
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/cancel") {
			posts++
		}
	}
	if posts != 3 {
		t.Errorf("the server recorded %d POSTs of cancel, want 3", posts)
	}
}
