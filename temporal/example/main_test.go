package main

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/testsuite"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
	bctrltemporal "github.com/bctrlhq/sdk-go/temporal"
)

// WaitMany, run in Temporal's test environment against a fake API, counts
// every outcome once.
func TestWaitMany(t *testing.T) {
	srv := bctrltest.NewServer(t)
	c, err := client.New(client.WithAPIKey(srv.APIKey()), client.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	acts, err := bctrltemporal.NewActivities(c, bctrltemporal.WithWaitOptions(client.WithPollInterval(2*time.Millisecond, 10*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = uuid.NewString()
		inv := bctrltest.NewInvocation(ids[i])
		end := bctrltest.Succeeded(inv)
		if i%4 == 0 {
			end = bctrltest.Failed(inv, "boom")
		}
		srv.Script(ids[i], inv, bctrltest.Running(inv, 1, 1, ""), end)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(WaitMany)
	acts.Register(env)
	env.ExecuteWorkflow(WaitMany, ids)
	var got Summary
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	if got.Succeeded != 15 || got.Failed[bctrltemporal.ErrTypeFailed] != 5 || len(got.Failed) != 1 {
		t.Fatalf("summary %+v, want 15 succeeded and 5 %s", got, bctrltemporal.ErrTypeFailed)
	}
}
