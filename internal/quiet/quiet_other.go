//go:build !linux

package quiet

import "syscall"

// Socket is Linux's (quiet_linux.go): elsewhere nothing is taken out of
// the runtime's poller, and the wake-ups stay.
type Socket struct{}

// Mute reports false: nothing was changed.
func (*Socket) Mute(syscall.RawConn) bool { return false }

// Unmute does nothing.
func (*Socket) Unmute(syscall.RawConn) {}
