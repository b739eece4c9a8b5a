//go:build !linux

package transport

import (
	"net"
	"net/netip"
)

// recvErr: ICMP errors are read on Linux only.
func recvErr(*net.UDPConn) {}

// ReadError: elsewhere no ICMP error is queued.
func (u *UDP) ReadError() (netip.AddrPort, error, bool) { return netip.AddrPort{}, nil, false }

func icmpErr(error) bool { return false }
