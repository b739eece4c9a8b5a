//go:build !linux

package panel

import "syscall"

// quiet is Linux's (quiet_linux.go).
type quiet struct{}

func (*quiet) mute(syscall.RawConn) bool { return false }
func (*quiet) unmute(syscall.RawConn)    {}
