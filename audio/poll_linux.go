//go:build linux

package audio

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"github.com/deskphone/deskphone/internal/quiet"
)

// poller reads a stream's socket without blocking, for Config.PollReceive:
// recvmsg(MSG_DONTWAIT) on the socket's descriptor inside RawConn.Read (which
// holds the descriptor against a concurrent Close), with the kernel's
// receive timestamp (SO_TIMESTAMPNS) as each datagram's arrival time, so
// the interarrival jitter is the network's and not the audio loop's. All
// buffers are the poller's: a read allocates nothing.
type poller struct {
	conn *net.UDPConn // the socket (Engine.pollerFor keeps a poller for it)
	rc   syscall.RawConn
	buf  []byte
	// Filled by each read.
	n     int
	from  netip.AddrPort
	at    time.Time
	errno syscall.Errno
	empty bool // nothing waiting (EAGAIN)

	sa  syscall.RawSockaddrAny
	oob [64]byte
	iov syscall.Iovec
	msg syscall.Msghdr
	fn  func(fd uintptr) bool // p.recv, bound once

	// The send side: the socket's family, the remote as a raw sockaddr.
	family int
	to4    syscall.RawSockaddrInet4
	to6    syscall.RawSockaddrInet6
	toOK   bool
	out    []byte
	sent   int
	serr   syscall.Errno
	sfn    func(fd uintptr) bool // p.send, bound once

	q quiet.Socket
}

func newPoller(conn *net.UDPConn) *poller {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	family := 0
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
		family, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_DOMAIN)
	}); err != nil || serr != nil {
		return nil
	}
	p := &poller{conn: conn, rc: rc, buf: make([]byte, maxPacket), family: family}
	p.fn, p.sfn = p.recv, p.send
	return p
}

// setRemote sets where sendTo sends; false when the socket's family
// cannot reach it (then the caller sends through Go's net).
func (p *poller) setRemote(to netip.AddrPort) bool {
	p.toOK = false
	a := to.Addr()
	port := [2]byte{byte(to.Port() >> 8), byte(to.Port())}
	switch {
	case p.family == syscall.AF_INET && a.Is4():
		p.to4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a.As4()}
		*(*[2]byte)(unsafe.Pointer(&p.to4.Port)) = port
		p.toOK = true
	case p.family == syscall.AF_INET6:
		p.to6 = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: a.As16()} // v4 as ::ffff:a.b.c.d
		*(*[2]byte)(unsafe.Pointer(&p.to6.Port)) = port
		p.toOK = true
	}
	return p.toOK
}

// sendTo sends b to the remote without blocking the thread: a raw
// sendto, since a UDP socket's send never waits (a full buffer drops, as
// Go's would report EAGAIN then wait).
func (p *poller) sendTo(b []byte) error {
	p.out = b
	if err := p.rc.Write(p.sfn); err != nil {
		return err
	}
	p.out = nil
	if p.serr != 0 {
		return p.serr
	}
	return nil
}

func (p *poller) send(fd uintptr) bool {
	to, n := unsafe.Pointer(&p.to4), unsafe.Sizeof(p.to4)
	if p.family == syscall.AF_INET6 {
		to, n = unsafe.Pointer(&p.to6), unsafe.Sizeof(p.to6)
	}
	for {
		r, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p.out[0])), uintptr(len(p.out)), 0, uintptr(to), n)
		if e == syscall.EINTR {
			continue
		}
		p.sent, p.serr = int(r), e
		return true
	}
}

// mute and unmute: see internal/quiet.
func (p *poller) mute()   { p.q.Mute(p.rc) }
func (p *poller) unmute() { p.q.Unmute(p.rc) }

// read takes the next datagram waiting, if any: ok with p.buf[:p.n] from
// p.from at p.at; !ok and p.empty when none is waiting; !ok and err when
// the socket failed (closed under the engine).
func (p *poller) read() (ok bool, err error) {
	if err := p.rc.Read(p.fn); err != nil {
		return false, err
	}
	if p.empty {
		return false, nil
	}
	if p.errno != 0 {
		return false, p.errno
	}
	return true, nil
}

// recv is the RawConn.Read callback: one recvmsg, never waiting.
func (p *poller) recv(fd uintptr) bool {
	p.empty, p.errno = false, 0
	p.iov.Base = &p.buf[0]
	p.iov.SetLen(len(p.buf))
	p.msg.Name = (*byte)(unsafe.Pointer(&p.sa))
	p.msg.Namelen = uint32(unsafe.Sizeof(p.sa))
	p.msg.Iov = &p.iov
	p.msg.Iovlen = 1
	p.msg.Control = &p.oob[0]
	p.msg.SetControllen(len(p.oob))
	p.msg.Flags = 0
	for {
		// Raw: it never blocks, and a syscall entered the runtime's way
		// would wake its sysmon thread each time (DESIGN.md, "Wake-ups").
		n, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&p.msg)), syscall.MSG_DONTWAIT)
		switch e {
		case 0:
			p.n = int(n)
			p.from = p.addr()
			p.at = p.stamp()
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			p.empty = true
			return true
		}
		p.errno = e
		return true
	}
}

// addr is the datagram's source address.
func (p *poller) addr() netip.AddrPort {
	switch p.sa.Addr.Family {
	case syscall.AF_INET:
		s := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&p.sa))
		pp := (*[2]byte)(unsafe.Pointer(&s.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(s.Addr), uint16(pp[0])<<8|uint16(pp[1]))
	case syscall.AF_INET6:
		s := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&p.sa))
		pp := (*[2]byte)(unsafe.Pointer(&s.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(s.Addr), uint16(pp[0])<<8|uint16(pp[1]))
	}
	return netip.AddrPort{}
}

// stamp is the datagram's arrival: the kernel's timestamp, carried over to
// the monotonic clock (now less how long ago it came), or now without one.
func (p *poller) stamp() time.Time {
	now := time.Now()
	hdr := syscall.CmsgLen(0)
	if int(p.msg.Controllen) < hdr+int(unsafe.Sizeof(syscall.Timespec{})) {
		return now
	}
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&p.oob[0]))
	if h.Level != syscall.SOL_SOCKET || h.Type != syscall.SO_TIMESTAMPNS {
		return now
	}
	ts := (*syscall.Timespec)(unsafe.Pointer(&p.oob[syscall.CmsgSpace(0)]))
	ago := now.Sub(time.Unix(ts.Unix()))
	if ago < 0 || ago > time.Second {
		return now // the wall clock stepped
	}
	return now.Add(-ago)
}
