package netbench

import (
	"syscall"
	"time"
)

// processCPU returns the user plus system CPU time of this process so far
// (the embedded server included), or 0 if the platform cannot say.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
