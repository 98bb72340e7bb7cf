//go:build unix

package benchmarks

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used, user and system, or
// -1 when the system cannot tell. Unlike ns/op, CPU time per op barely
// moves when other processes take the machine's cores, which on a shared
// machine makes it the steadier measure of work done.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
