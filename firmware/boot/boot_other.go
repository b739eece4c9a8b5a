//go:build !linux

package boot

import (
	"errors"
	"fmt"
)

// MountEssentials is Linux only.
func MountEssentials(logf func(string, ...any)) error {
	return fmt.Errorf("boot: mount: %w", errors.ErrUnsupported)
}

// ReapChildren does nothing outside Linux.
func ReapChildren() {}

// SetHostname is Linux only.
func SetHostname(name string) error {
	return fmt.Errorf("boot: set hostname: %w", errors.ErrUnsupported)
}

// PowerOff is Linux only.
func PowerOff() error { return fmt.Errorf("boot: power off: %w", errors.ErrUnsupported) }

// Reboot is Linux only.
func Reboot() error { return fmt.Errorf("boot: reboot: %w", errors.ErrUnsupported) }

// StartChild is Linux only.
func StartChild(path string, args []string) (wait func() string, kill func(), err error) {
	return nil, nil, fmt.Errorf("boot: start %s: %w", path, errors.ErrUnsupported)
}

// DropStartPages is Linux only.
func DropStartPages() (before, after int, err error) {
	return 0, 0, fmt.Errorf("boot: drop start pages: %w", errors.ErrUnsupported)
}
