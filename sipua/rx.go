package sipua

import (
	"errors"
	"net"
	"net/netip"

	"github.com/deskphone/deskphone/sipua/transport"
)

// The receive ring: the UDP reader reads each datagram into a slot of a
// fixed ring and hands the slot to the loop, which parses it into its one
// reused message (ua.rxMsg) and gives the slot back. Receiving allocates
// nothing: a retransmission, a keepalive or a stray response costs no
// heap at all, and what the UA keeps of a message it copies where it
// keeps it (receive). When the loop is behind and every slot is taken,
// the reader waits, and the kernel's socket buffer absorbs or drops the
// rest: a flood costs a bounded amount of memory.
const (
	rxSlots    = 16
	rxSlotSize = 4 << 10 // SIP over UDP stays below 1300 bytes (RFC 3261 18.1.1); larger datagrams get a buffer of their own
)

// rxSlot is one datagram: its bytes and its source.
type rxSlot struct {
	b    []byte
	n    int
	from net.UDPAddr
	ip   [16]byte // from.IP's storage
}

// unreachable runs on the loop when an ICMP error came back for a
// datagram sent to to (the reader, readUDP): a line whose REGISTER went
// there says so at once, rather than after four sends or timer F. The
// transaction goes on: over UDP the datagram may have raced the peer's
// start, and a retransmission may yet be answered.
func (ua *UA) unreachable(to netip.AddrPort, cause error) {
	a := net.UDPAddrFromAddrPort(to)
	for _, l := range ua.lines {
		if l.regTx != nil && sameAddr(l.regTx.to, a) && !l.regICMP {
			l.regICMP = true
			l.troubled("nothing listens at " + l.server(a) + " (" + cause.Error() + "; retrying)")
		}
	}
}

// readUDP is the UDP reader: it runs until the socket is closed.
func (ua *UA) readUDP(conn *transport.UDP) {
	for range rxSlots {
		s := &rxSlot{b: make([]byte, rxSlotSize)}
		s.from.IP = s.ip[:]
		ua.rxFree <- s
	}
	scratch := make([]byte, transport.MaxDatagram)
	for {
		n, from, err := conn.ReadFrom(scratch)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// An ICMP error (port unreachable) for a datagram sent
			// earlier (transport's IP_RECVERR): the requests waiting
			// on that address fail at once.
			for {
				to, cause, ok := conn.ReadError()
				if !ok {
					break
				}
				ua.post(func() { ua.unreachable(to, cause) })
			}
			continue
		}
		var s *rxSlot
		select {
		case s = <-ua.rxFree:
		case <-ua.stop:
			return
		}
		if n > len(s.b) {
			s.b = make([]byte, n) // an oversized datagram: this slot keeps the larger buffer
		}
		s.n = copy(s.b, scratch[:n])
		if a := from.Addr(); a.Is4() || a.Is4In6() {
			v4 := a.Unmap().As4()
			s.from.IP = s.ip[:4]
			copy(s.from.IP, v4[:])
		} else {
			v6 := a.As16()
			s.from.IP = s.ip[:16]
			copy(s.from.IP, v6[:])
		}
		s.from.Port, s.from.Zone = int(from.Port()), ""
		select {
		case ua.rx <- s:
		case <-ua.stop:
			return
		}
	}
}
