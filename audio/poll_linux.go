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
// recvmmsg(MSG_DONTWAIT) on the socket's descriptor inside RawConn.Read
// (which holds the descriptor against a concurrent Close), up to rxBatch
// datagrams a call, with the kernel's receive timestamp (SO_TIMESTAMPNS)
// as each datagram's arrival time, so the interarrival jitter is the
// network's and not the audio loop's. All buffers are the poller's: a
// read allocates nothing.
type poller struct {
	conn *net.UDPConn // the socket (Engine.pollerFor keeps a poller for it)
	rc   syscall.RawConn
	// Filled by each read: the datagram in buf[:n].
	buf   []byte
	n     int
	from  netip.AddrPort
	at    time.Time
	errno syscall.Errno
	empty bool // nothing waiting (EAGAIN)

	// The batch the last recvmmsg filled: got datagrams, next the one
	// read hands out next; now is when the call returned.
	slots [rxBatch]rxSlot
	msgs  [rxBatch]mmsghdr
	got   int
	next  int
	now   time.Time
	fn    func(fd uintptr) bool // p.recv, bound once

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

// rxBatch is how many datagrams one recvmmsg takes. A frame's drain finds
// one packet in the usual case; a batch that comes back short says the
// socket was empty, so the drain ends without the read that would only
// find it empty (drained): one system call a frame instead of two.
const rxBatch = 4

// rxSlot is one datagram's room in a batch.
type rxSlot struct {
	buf []byte
	sa  syscall.RawSockaddrAny
	oob [64]byte
	iov syscall.Iovec
}

// mmsghdr is the kernel's struct mmsghdr: a msghdr and the length the
// kernel received into it.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
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
	p := &poller{conn: conn, rc: rc, family: family}
	for i := range p.slots {
		sl, m := &p.slots[i], &p.msgs[i]
		sl.buf = make([]byte, maxPacket)
		sl.iov.Base = &sl.buf[0]
		sl.iov.SetLen(len(sl.buf))
		m.hdr.Iov = &sl.iov
		m.hdr.Iovlen = 1
	}
	p.buf = p.slots[0].buf
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
func (p *poller) mute() { p.q.Mute(p.rc) }
func (p *poller) unmute() {
	p.got, p.next = 0, 0 // a batch not handed out is the stopped stream's
	p.q.Unmute(p.rc)
}

// read takes the next datagram waiting, if any: ok with p.buf[:p.n] from
// p.from at p.at; !ok and p.empty when none is waiting; !ok and err when
// the socket failed (closed under the engine). It hands out the last
// batch's datagrams first, then asks the socket again.
func (p *poller) read() (ok bool, err error) {
	if p.next >= p.got {
		if err := p.rc.Read(p.fn); err != nil {
			return false, err
		}
		if p.empty {
			return false, nil
		}
		if p.errno != 0 {
			return false, p.errno
		}
	}
	sl, m := &p.slots[p.next], &p.msgs[p.next]
	p.next++
	p.buf, p.n = sl.buf, int(m.len)
	p.from = addr(&sl.sa)
	p.at = p.stamp(&m.hdr, &sl.oob)
	return true, nil
}

// drained says the socket had nothing more when the batch that read last
// handed out from was taken: it came back short and is all handed out.
func (p *poller) drained() bool { return p.next >= p.got && p.got < rxBatch }

// recv is the RawConn.Read callback: one recvmmsg, never waiting.
func (p *poller) recv(fd uintptr) bool {
	p.empty, p.errno, p.got, p.next = false, 0, 0, 0
	for i := range p.msgs {
		sl, m := &p.slots[i], &p.msgs[i]
		m.hdr.Name = (*byte)(unsafe.Pointer(&sl.sa))
		m.hdr.Namelen = uint32(unsafe.Sizeof(sl.sa))
		m.hdr.Control = &sl.oob[0]
		m.hdr.SetControllen(len(sl.oob))
		m.hdr.Flags = 0
		m.len = 0
	}
	for {
		// Raw: it never blocks, and a syscall entered the runtime's way
		// would wake its sysmon thread each time (DESIGN.md, "Wake-ups").
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&p.msgs[0])), rxBatch, syscall.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			p.got = int(n)
			p.empty = n == 0
			p.now = time.Now()
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

// addr is a datagram's source address.
func addr(sa *syscall.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case syscall.AF_INET:
		s := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		pp := (*[2]byte)(unsafe.Pointer(&s.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(s.Addr), uint16(pp[0])<<8|uint16(pp[1]))
	case syscall.AF_INET6:
		s := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		pp := (*[2]byte)(unsafe.Pointer(&s.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(s.Addr), uint16(pp[0])<<8|uint16(pp[1]))
	}
	return netip.AddrPort{}
}

// stamp is a datagram's arrival: the kernel's timestamp, carried over to
// the monotonic clock (when its batch was taken less how long before that
// it came), or then without one.
func (p *poller) stamp(h *syscall.Msghdr, oob *[64]byte) time.Time {
	now := p.now
	hdr := syscall.CmsgLen(0)
	if int(h.Controllen) < hdr+int(unsafe.Sizeof(syscall.Timespec{})) {
		return now
	}
	c := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	if c.Level != syscall.SOL_SOCKET || c.Type != syscall.SO_TIMESTAMPNS {
		return now
	}
	ts := (*syscall.Timespec)(unsafe.Pointer(&oob[syscall.CmsgSpace(0)]))
	ago := now.Sub(time.Unix(ts.Unix()))
	if ago < 0 || ago > time.Second {
		return now // the wall clock stepped
	}
	return now.Add(-ago)
}
