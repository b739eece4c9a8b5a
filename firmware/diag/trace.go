package diag

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/sipua"
)

// DefaultTraceRing is the SIP trace's size: a few hundred messages, the
// last calls and registrations.
const DefaultTraceRing = 256 << 10

// Trace is the SIP trace: every message the user agent sends or receives
// (sipua.Config.Trace calls Message), each as one record of the trace
// ring:
//
//	2026-12-02T07:00:00.123456Z sent UDP to 127.0.0.1:5060 (512 bytes)
//	REGISTER sip:... SIP/2.0
//	...
//	(a blank line)
//
// With log.sip = on (SetLog) each message goes into the log too, as one
// multi-line message "sip: sent UDP to 127.0.0.1:5060 (512 bytes)\n...".
// Message allocates nothing; it is safe for concurrent use.
type Trace struct {
	ring *Ring
	now  func() time.Time
	log  atomic.Pointer[io.Writer]

	mu  sync.Mutex
	buf []byte
}

// NewTrace returns a trace of size bytes (0: DefaultTraceRing); now is
// the clock (nil: time.Now).
func NewTrace(size int, now func() time.Time) *Trace {
	if size <= 0 {
		size = DefaultTraceRing
	}
	if now == nil {
		now = time.Now
	}
	return &Trace{ring: NewRing(size), now: now, buf: make([]byte, 0, 2048)}
}

// Ring is the trace's ring, for the web page's download (its WriteTo).
func (t *Trace) Ring() *Ring { return t.ring }

// SetLog sends every message from now on to w as well, one Write each
// (log.sip = on: the phone's Log); nil: the ring only.
func (t *Trace) SetLog(w io.Writer) {
	if w == nil {
		t.log.Store(nil)
		return
	}
	t.log.Store(&w)
}

// Message records one SIP message: sent (else received), over transport
// ("UDP", "TCP", "TLS"), to or from peer, the message's bytes as on the
// wire (a keepalive's CRLFs too).
func (t *Trace) Message(sent bool, transport string, peer netip.AddrPort, msg []byte) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := now.AppendFormat(t.buf[:0], rfc3339Micro)
	b = append(b, ' ')
	head := len(b)
	b = appendTraceHead(b, sent, transport, peer, len(msg))
	headEnd := len(b)
	b = append(b, '\n')
	b = append(b, msg...)
	if n := len(b); n > 0 && b[n-1] != '\n' {
		b = append(b, '\n')
	}
	b = append(b, '\n')
	_, _ = t.ring.Write(b)
	if w := t.log.Load(); w != nil {
		// "sip: " and the head, then the message: one log message,
		// built after the record in the same buffer.
		start := len(b)
		b = append(b, "sip: "...)
		b = append(b, b[head:headEnd]...)
		b = append(b, '\n')
		b = append(b, msg...)
		_, _ = (*w).Write(b[start:])
	}
	t.buf = b[:0]
}

// Hook is the user agent's trace hook (sipua.Config.Trace = t.Hook): each
// message it sends or receives, on any transport, into the trace.
func (t *Trace) Hook(dir sipua.TraceDir, transport string, peer *net.UDPAddr, msg []byte) {
	t.Message(dir == sipua.TraceSend, transport, unmapped(peer), msg)
}

// unmapped is peer as an address and port, an IPv4 address as such (not
// IPv4-mapped IPv6), without allocating; nil: the zero AddrPort.
func unmapped(peer *net.UDPAddr) netip.AddrPort {
	if peer == nil {
		return netip.AddrPort{}
	}
	ap := peer.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func appendTraceHead(b []byte, sent bool, transport string, peer netip.AddrPort, n int) []byte {
	if sent {
		b = append(b, "sent "...)
	} else {
		b = append(b, "received "...)
	}
	b = append(b, transport...)
	if sent {
		b = append(b, " to "...)
	} else {
		b = append(b, " from "...)
	}
	b = peer.AppendTo(b)
	b = append(b, " ("...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, " bytes)"...)
}
