package sntp

import (
	"time"

	"golang.org/x/sys/unix"
)

// SetSystem sets the system clock (CLOCK_REALTIME) to t; it needs
// CAP_SYS_TIME, which the phone has as PID 1.
func SetSystem(t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unix.ClockSettime(unix.CLOCK_REALTIME, &ts)
}
