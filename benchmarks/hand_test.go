package benchmarks

import (
	"errors"
	"fmt"

	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// walkHand visits every step of the hand-written struct, telling the
// variants apart by ok.
func walkHand(inv *spectest.HandInvocation) (stepCounts, error) {
	var c stepCounts
	if inv.Result == nil {
		return c, errors.New("stdjson: no result")
	}
	for i := range inv.Result.Steps {
		st := &inv.Result.Steps[i]
		switch {
		case st.OK:
			c.ok++
			c.sum += 1 + st.Index + len(st.Result)
		case st.Error != nil:
			c.failed++
			c.sum += 1 + st.Index + len(st.Error.Code)
		default:
			return c, fmt.Errorf("stdjson: step %d: ok false and no error", i)
		}
	}
	return c, nil
}
