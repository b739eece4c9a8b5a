package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// MaxDatagram is the largest datagram read; SIP over UDP stays well below.
const MaxDatagram = 65535

// UDP is a bound SIP UDP socket.
type UDP struct {
	conn *net.UDPConn
}

// Listen binds a UDP socket at addr ("0.0.0.0:5060", "127.0.0.1:0").
func Listen(addr string) (*UDP, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	c, err := net.ListenUDP("udp", a)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	recvErr(c)
	return &UDP{conn: c}, nil
}

// LocalAddr is the bound address.
func (u *UDP) LocalAddr() *net.UDPAddr { return u.conn.LocalAddr().(*net.UDPAddr) }

// Send sends one datagram to to.
func (u *UDP) Send(b []byte, to *net.UDPAddr) error {
	if to == nil {
		return errors.New("transport: no destination")
	}
	// AddrPort and WriteToUDPAddrPort allocate nothing (WriteToUDP builds
	// a syscall.Sockaddr per send).
	ap := to.AddrPort()
	if a := ap.Addr(); a.Is4In6() {
		ap = netip.AddrPortFrom(a.Unmap(), ap.Port())
	}
	_, err := u.conn.WriteToUDPAddrPort(b, ap)
	if err != nil && icmpErr(err) {
		// the error an ICMP report about an earlier datagram left on
		// the socket (any destination's): it is gone now, try again
		_, err = u.conn.WriteToUDPAddrPort(b, ap)
	}
	if err != nil {
		return fmt.Errorf("transport: send to %v: %w", to, err)
	}
	return nil
}

// Serve reads datagrams until the socket is closed, calling fn with each
// (b is fresh for every call and owned by fn). It returns nil after Close.
func (u *UDP) Serve(fn func(b []byte, from *net.UDPAddr)) error {
	buf := make([]byte, MaxDatagram)
	for {
		n, from, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// ICMP port unreachable surfaces here on Linux; keep reading.
			continue
		}
		b := make([]byte, n)
		copy(b, buf[:n])
		fn(b, from)
	}
}

// ReadFrom reads one datagram into b (at most len(b) bytes) without
// allocating: the source is a netip.AddrPort. It is for a reader that
// manages its own buffers (the UA's receive ring); Serve is the
// allocating convenience.
func (u *UDP) ReadFrom(b []byte) (int, netip.AddrPort, error) {
	return u.conn.ReadFromUDPAddrPort(b)
}

// Close closes the socket; Serve returns.
func (u *UDP) Close() error { return u.conn.Close() }

// Resolve resolves "host[:port]" to a UDP address, port 5060 by default.
func Resolve(hostport string) (*net.UDPAddr, error) {
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		hostport = net.JoinHostPort(trimBrackets(hostport), "5060")
	}
	a, err := net.ResolveUDPAddr("udp", hostport)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	return a, nil
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

// LocalIPFor returns the local address the kernel would use to reach remote
// (no packet is sent: a connected UDP socket only picks a route).
func LocalIPFor(remote *net.UDPAddr) (net.IP, error) {
	c, err := net.DialUDP("udp", nil, remote)
	if err != nil {
		return nil, fmt.Errorf("transport: route to %v: %w", remote, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP, nil
}
