package client

// WithJitterSeed seeds the jitter of Wait's and Watch's backoff, with the
// id, so that a run of many Waits in fake time repeats exactly: for the
// package's tests only (the SDK's own jitter is math/rand/v2's).
func WithJitterSeed(seed uint64) WaitOption {
	return func(c *waitConfig) error {
		c.jitterSeed, c.seeded = seed, true
		return nil
	}
}
