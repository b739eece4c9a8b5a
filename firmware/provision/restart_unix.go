//go:build unix

package provision

import (
	"fmt"
	"os"
	"syscall"
)

// Restart replaces the running phoned with a fresh copy of itself (same
// arguments and environment, same process ID, so it works as PID 1): the
// way the phone applies a new configuration, from a clean start, as desk
// phones reboot for one. It returns only on failure.
func Restart() error {
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	err = syscall.Exec(exe, os.Args, os.Environ())
	return fmt.Errorf("provision: restart %s: %w", exe, err)
}
