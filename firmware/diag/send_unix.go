//go:build unix

package diag

import "syscall"

// rawSend writes b on the non-blocking socket fd once: EAGAIN (the buffer
// is full) and ECONNREFUSED (an ICMP port unreachable came back) are
// errors the caller drops the datagram for.
func rawSend(fd uintptr, b []byte) error {
	_, err := syscall.Write(int(fd), b)
	return err
}
