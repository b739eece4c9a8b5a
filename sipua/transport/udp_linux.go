package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// recvErr asks the kernel to report ICMP errors (port, host or network
// unreachable) for datagrams the unconnected socket sent (IP_RECVERR, ip(7);
// IPV6_RECVERR for IPv6): without it Linux reports them to connected UDP
// sockets only, and a request to a closed port waits for timer F. Each
// error is queued with the destination of the datagram it is about
// (ReadError).
func recvErr(c *net.UDPConn) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVERR, 1)
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVERR, 1)
	})
}

// ReadError takes one ICMP error from the socket's error queue, without
// waiting: the destination of the datagram it is about and the error
// (syscall.ECONNREFUSED for a port unreachable). ok is false when the
// queue is empty. A reader whose ReadFrom failed calls it until then.
func (u *UDP) ReadError() (to netip.AddrPort, cause error, ok bool) {
	raw, err := u.conn.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, nil, false
	}
	var buf [512]byte
	var oob [512]byte
	var oobn int
	var from syscall.Sockaddr
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		_, oobn, _, from, rerr = syscall.Recvmsg(int(fd), buf[:], oob[:], syscall.MSG_ERRQUEUE|syscall.MSG_DONTWAIT)
		return true // never wait: an empty queue is EAGAIN
	})
	if err != nil || rerr != nil {
		return netip.AddrPort{}, nil, false
	}
	switch a := from.(type) {
	case *syscall.SockaddrInet4:
		to = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		to = netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	default:
		return netip.AddrPort{}, nil, false
	}
	cause = errors.New("transport: ICMP error")
	if cms, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, cm := range cms {
			if (cm.Header.Level == syscall.IPPROTO_IP && cm.Header.Type == syscall.IP_RECVERR ||
				cm.Header.Level == syscall.IPPROTO_IPV6 && cm.Header.Type == syscall.IPV6_RECVERR) && len(cm.Data) >= 4 {
				// struct sock_extended_err starts with ee_errno (u32).
				cause = syscall.Errno(binary.NativeEndian.Uint32(cm.Data))
			}
		}
	}
	return to, cause, true
}

// icmpErr reports whether a send failed with the error an earlier ICMP
// report left on the socket (IP_RECVERR makes the next send return it,
// whatever its destination): the send is tried again once.
func icmpErr(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTDOWN)
}
