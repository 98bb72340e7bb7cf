package client_test

// The drill (scripts/drill.sh) copies this file into client/ of a copy of
// the module whose openapi.yaml is 08-new-list-operation.yaml, after `go
// generate`: List is a typed method whose page holds client.Invocation
// items, and ListAll follows the spec's x-fern-pagination cursor.

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

func TestDrillList(t *testing.T) {
	srv := bctrltest.NewServer(t, bctrltest.InMemory())
	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]any{
		"": map[string]any{"data": []bctrltest.Invocation{
			bctrltest.Succeeded(bctrltest.NewInvocation("inv-1"), bctrltest.OKStep(0, "page.goto", nil)),
			bctrltest.Failed(bctrltest.NewInvocation("inv-2"), "boom", bctrltest.ErrStep(0, "page.clik", "UNKNOWN_CALL", "no such call", "")),
		}, "nextCursor": "c2"},
		"c2": map[string]any{"data": []bctrltest.Invocation{bctrltest.NewInvocation("inv-3")}, "nextCursor": nil},
	}
	var queries []string
	srv.HandleOperation("list", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(pages[r.URL.Query().Get("cursor")])
	}))

	page, err := c.Invocations.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Data[0].Status != client.StatusSucceeded || !page.Data[0].Status.IsTerminal() ||
		len(page.Data[1].FailedSteps()) != 1 || page.NextCursor != "c2" {
		t.Errorf("List = %+v, want two invocations (steps discriminated) and nextCursor c2", page)
	}

	var ids []string
	for inv, err := range c.Invocations.ListAll(t.Context(), &client.InvocationsListParams{Status: "succeeded", Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID)
	}
	if len(ids) != 3 || ids[0] != "inv-1" || ids[2] != "inv-3" {
		t.Errorf("ListAll yielded %v, want inv-1, inv-2, inv-3", ids)
	}
	want := []string{"", "limit=2&status=succeeded", "cursor=c2&limit=2&status=succeeded"}
	if len(queries) != len(want) {
		t.Fatalf("queries %q, want %q", queries, want)
	}
	for i := range want {
		if queries[i] != want[i] {
			t.Errorf("query %d = %q, want %q", i, queries[i], want[i])
		}
	}

	// A server that answers a cursor with itself ends ListAll with an error.
	pages["c2"] = map[string]any{"data": []bctrltest.Invocation{bctrltest.NewInvocation("inv-3")}, "nextCursor": "c2"}
	var last error
	for _, err := range c.Invocations.ListAll(t.Context(), nil) {
		last = err
	}
	if last == nil {
		t.Error("ListAll over a cursor that repeats ended without an error")
	}
}
