package audio

import (
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// Source validation and reception statistics after RFC 3550 appendices A.1
// (sequence number validation with probation), A.3 (expected and lost
// packets) and A.8 (interarrival jitter).
//
// # The source lock
//
// A stream plays one source: its transport address (IP and port) and
// SSRC, latched from the first source that passes RFC 3550 A.1's
// probation (minSequential packets in sequence) from an address the
// stream accepts (SourceMatch). Any other source, a stranger at the SDP's
// IP address with another port, or one that reuses the far end's SSRC, is
// a challenger (Stats.Foreign) and plays nothing while the locked source
// is alive. It takes over only on sustained evidence that the far end's
// stream moved, as symmetric-RTP latching intends (RFC 3550 A.1, 8.2):
//
//   - from another transport address, the locked source silent for
//     moveQuiet and the challenger moveRun packets in sequence, in a row
//     (a NAT rebinding, a far end moving its media port without a
//     re-INVITE);
//   - a new SSRC from the locked address and port (a PBX restarting its
//     stream, a transfer inside a B2BUA): the old SSRC silent for
//     ssrcQuiet and minSequential packets in sequence, which plays a
//     far end's SSRC change within a few frames.
//
// A re-INVITE that moves the media restarts the stream (StartStream) and
// so the lock. With SRTP (srtp.go) only authenticated packets get here,
// so a stranger cannot even be a challenger.

const (
	minSequential = 2 // packets in sequence before a source is valid
	// moveRun and moveQuiet: a source at another transport address takes
	// over after moveRun packets in sequence (0.5 s at 20 ms) once the
	// locked one has been silent for moveQuiet.
	moveRun   = 25
	moveQuiet = time.Second
	// ssrcQuiet: a new SSRC at the locked transport address takes over
	// (after minSequential packets) once the old SSRC has been silent this
	// long: three 20 ms frames.
	ssrcQuiet   = 60 * time.Millisecond
	maxDropout  = 3000 // forward jump still treated as in sequence
	maxMisorder = 100  // backward jump still treated as reordering
	seqMod      = 1 << 16
)

// SourceMatch says which datagrams a stream accepts, by their source address.
type SourceMatch int

const (
	// SourceIP (the default) accepts media from the IP address of the remote
	// in the SDP, from any port. It rejects strangers while still working
	// behind a NAT that rewrites ports, such as QEMU's user network, where
	// media arrives from 10.0.2.2:<any port> although the SDP says
	// 10.0.2.2:<forwarded port>.
	SourceIP SourceMatch = iota
	// SourceAddrPort accepts media only from exactly the remote address and
	// port of the SDP.
	SourceAddrPort
	// SourceAny accepts media from anywhere (no protection against a
	// stranger injecting packets; the SSRC lock still applies).
	SourceAny
)

func (m SourceMatch) String() string {
	switch m {
	case SourceIP:
		return "ip"
	case SourceAddrPort:
		return "addr-port"
	case SourceAny:
		return "any"
	}
	return "unknown"
}

// rxSource is the reception state of one SSRC (RFC 3550 A.1).
type rxSource struct {
	ssrc          uint32
	maxSeq        uint16
	cycles        uint32 // shifted count of sequence number cycles
	baseSeq       uint32
	badSeq        uint32
	probation     int
	need          int // packets in sequence to leave probation
	received      uint32
	expectedPrior uint32
	receivedPrior uint32
	transit       int32
	jitter        uint32 // RFC 3550 A.8, scaled by 16
	haveTransit   bool
}

func (s *rxSource) init(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1
	s.cycles = 0
	s.received = 0
	s.receivedPrior = 0
	s.expectedPrior = 0
	s.haveTransit = false
	s.jitter = 0
}

// start puts a new SSRC on probation for need packets in sequence.
func (s *rxSource) start(ssrc uint32, seq uint16, need int) {
	*s = rxSource{ssrc: ssrc}
	s.init(seq)
	s.maxSeq = seq - 1
	s.probation, s.need = need, need
}

// update is RFC 3550 A.1's update_seq: it reports whether the packet is
// valid (the source out of probation and the sequence number plausible).
func (s *rxSource) update(seq uint16) bool {
	udelta := seq - s.maxSeq
	if s.probation > 0 {
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.init(seq)
				s.received++
				return true
			}
		} else {
			s.probation = s.need - 1
			s.maxSeq = seq
		}
		return false
	}
	switch {
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
	case udelta <= seqMod-maxMisorder:
		if uint32(seq) == s.badSeq {
			s.init(seq) // the other side restarted without telling us
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	default:
		// duplicate or reordered
	}
	s.received++
	return true
}

// extMax is the extended highest sequence number received.
func (s *rxSource) extMax() uint32 { return s.cycles + uint32(s.maxSeq) }

// lost is RFC 3550 A.3's cumulative number of packets lost (clamped to the
// 24-bit signed field RTCP carries).
func (s *rxSource) lost() int32 {
	expected := int64(s.extMax()) - int64(s.baseSeq) + 1
	l := expected - int64(s.received)
	return int32(max(-0x800000, min(0x7fffff, l)))
}

// fraction is RFC 3550 A.3's fraction lost since the last call, in 1/256.
func (s *rxSource) fraction() uint8 {
	expected := s.extMax() - s.baseSeq + 1
	ei := expected - s.expectedPrior
	s.expectedPrior = expected
	ri := s.received - s.receivedPrior
	s.receivedPrior = s.received
	if ei == 0 || int32(ei-ri) <= 0 {
		return 0
	}
	return uint8(((ei - ri) << 8) / ei)
}

// arrival updates the interarrival jitter (A.8) for a packet with RTP
// timestamp ts arriving at arrival (in timestamp units).
func (s *rxSource) arrival(ts, arrival uint32) {
	transit := int32(arrival - ts)
	if s.haveTransit {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		s.jitter += uint32(d) - ((s.jitter + 8) >> 4)
	}
	s.transit, s.haveTransit = transit, true
}

// challenge weighs a packet of another source than the locked one (see
// "The source lock") and reports whether that source now is the stream's;
// e.mu is held.
func (e *Engine) challenge(pkt *rtp.Packet, from netip.AddrPort, at time.Time) bool {
	need, quiet := moveRun, moveQuiet
	if from == e.srcAddr {
		need, quiet = minSequential, ssrcQuiet
	}
	if !e.candOn || e.cand.ssrc != pkt.SSRC || e.candAddr != from {
		e.cand.start(pkt.SSRC, pkt.SequenceNumber, need)
		e.candOn, e.candAddr = true, from
	}
	if !e.cand.update(pkt.SequenceNumber) || at.Sub(e.srcAt) < quiet {
		e.st.Foreign++
		return false
	}
	e.st.SourceChanges++
	e.foldLoss()
	e.jb.Reset()
	e.src, e.srcAddr, e.srcAt, e.locked, e.candOn = e.cand, from, at, true, false
	e.rxEventOn, e.heldOK, e.heldPlayed = false, false, false
	return true
}
