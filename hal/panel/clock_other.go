//go:build !linux

package panel

import (
	"errors"
	"os"
	"time"
)

// newTimerfd is Linux's; elsewhere the clock is a time.Ticker.
func newTimerfd(time.Duration) (*os.File, error) { return nil, errors.New("no timerfd") }
