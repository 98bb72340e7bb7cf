//go:build !unix

package benchmarks

import "time"

// cpuTime returns -1: CPU time per op is reported on Unix systems only.
func cpuTime() time.Duration { return -1 }
