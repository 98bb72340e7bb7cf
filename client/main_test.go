package client_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// leaked poller, timer or connection is a bug.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
