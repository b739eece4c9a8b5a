//go:build !linux

package sntp

import (
	"errors"
	"time"
)

// SetSystem is not done off Linux.
func SetSystem(time.Time) error {
	return errors.New("sntp: setting the system clock is done on Linux only")
}
