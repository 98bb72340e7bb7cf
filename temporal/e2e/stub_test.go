package e2e

import (
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	bctrl "github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/client/bctrltest"
	bctrltemporal "github.com/bctrlhq/sdk-go/temporal"
)

func TestStub(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	c := ts.GetDefaultClient()
	_ = c
	var _ client.Client
	var _ worker.Worker
	var _ *bctrl.Client
	_ = bctrltest.NewInvocation
	_ = bctrltemporal.NewActivities
}
