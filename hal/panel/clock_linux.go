//go:build linux

package panel

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// newTimerfd is the virtual codec's crystal on Linux: a timerfd ticking
// every d, read through Go's netpoller. Unlike a time.Ticker it is no Go
// timer, so the runtime's sysmon thread, which sleeps until the next Go
// timer, is not woken each period as well (DESIGN.md, "Wake-ups").
func newTimerfd(d time.Duration) (*os.File, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	ts := unix.NsecToTimespec(int64(d))
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: ts, Value: ts}, nil); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "panel-clock"), nil
}
