package bctrltest_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
)

// TestBuildersWithClientTypes builds a test the way a user of the SDK
// writes one: naming only client and bctrltest types (this test does not
// use the generated package), setting generated fields of a step in one
// line, and serving a status the SDK does not know.
func TestBuildersWithClientTypes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := bctrltest.NewServer(t, bctrltest.InMemory())
		c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()))
		if err != nil {
			t.Fatal(err)
		}
		id := uuidOf("client-types")
		binding := &client.Binding{Alias: "shop", ID: "page-1", Type: "page"}
		diag := &client.Diagnostic{ID: "unknown-call", Closest: []string{"page.click"}}
		inv := bctrltest.NewInvocation(id)
		states := []bctrltest.Invocation{
			inv,
			bctrltest.WithStatus(bctrltest.Running(inv, 1, 2, "waiting for a human"), "paused"),
			bctrltest.Failed(inv, "step 1 failed",
				bctrltest.OKStep(0, "page.goto", nil, func(s *client.StepSuccess) { s.Binding = binding }),
				bctrltest.ErrStep(1, "page.clik", "UNKNOWN_CALL", "no such call", "",
					func(f *client.StepFailure) { f.Error.Diagnostic = diag; f.Index = 7 })),
		}
		srv.Script(id, states...)

		if got, err := c.Invocations.Get(t.Context(), id); err != nil || got.Status != client.StatusQueued {
			t.Fatalf("Get 1: %v, %v", got, err)
		}
		paused, err := c.Invocations.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if paused.Status != "paused" || paused.Status.Known() || paused.Finished() || paused.Progress == nil || *paused.Progress.Step != 1 {
			t.Errorf("Get 2: status %q (known %v), finished %v, progress %+v; want an unknown running status with its progress",
				paused.Status, paused.Status.Known(), paused.Finished(), paused.Progress)
		}
		failed, err := c.Invocations.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		steps := failed.Steps()
		if len(steps) != 2 {
			t.Fatalf("%d steps, want 2", len(steps))
		}
		s, ok := steps[0].Success()
		if !ok || !cmp.Equal(s.Binding, binding) || s.Resolved.RuntimeID != failed.RuntimeID {
			t.Errorf("step 0: %+v, %v; want the binding set by the edit, and the runtime id filled in", s, ok)
		}
		f, ok := steps[1].Failure()
		if !ok || f.Index != 7 || !cmp.Equal(f.Error.Diagnostic, diag) || f.Error.Code != client.StepErrorUnknownCall {
			t.Errorf("step 1: %+v, %v; want index 7 and the diagnostic set by the edit", f, ok)
		}
	})
}

// TestWithStatusFinishedUnknown checks the unknown status a Wait ends on:
// one with finishedAt set.
func TestWithStatusFinishedUnknown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := bctrltest.NewServer(t, bctrltest.InMemory())
		c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.HTTPClient()))
		if err != nil {
			t.Fatal(err)
		}
		id := uuidOf("archived")
		inv := bctrltest.NewInvocation(id)
		srv.Script(id, inv, bctrltest.WithStatus(bctrltest.Succeeded(inv), "archived"))
		got, err := c.Invocations.Wait(t.Context(), id, client.WithMaxWait(time.Minute))
		if !errors.Is(err, client.ErrUnknownStatus) || got == nil || got.Status != "archived" {
			t.Errorf("Wait: %v, %v; want status archived and ErrUnknownStatus", got, err)
		}
	})
}
