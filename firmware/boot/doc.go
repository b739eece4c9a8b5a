// Package boot does what the phone needs when it runs as PID 1 (in QEMU or
// from an initramfs on a board): mount the essential file systems, reap
// orphaned children, set the host name, and power off or reboot.
//
// Each mount is logged as it happens; a failed mount says what failed and
// that the phone carries on without it, and MountEssentials returns all
// failures joined. The functions work on Linux only; elsewhere they return
// an error wrapping errors.ErrUnsupported (IsPID1 works everywhere).
package boot
