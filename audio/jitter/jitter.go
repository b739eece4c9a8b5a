package jitter

import (
	"errors"
	"fmt"
	"math/bits"
)

// PutResult says what Put did with a packet.
type PutResult int

const (
	// Stored: the packet waits for its playout time.
	Stored PutResult = iota + 1
	// Duplicate: that sequence number is already buffered; dropped.
	Duplicate
	// Late: its playout time has passed; dropped, and the target delay grows.
	Late
	// Restarted: a jump in sequence numbers; the buffer restarted at this packet.
	Restarted
	// Dropped: an oversized payload, or a backward jump not yet confirmed.
	Dropped
)

var putNames = [...]string{"", "stored", "duplicate", "late", "restarted", "dropped"}

func (r PutResult) String() string {
	if r > 0 && int(r) < len(putNames) {
		return putNames[r]
	}
	return "unknown"
}

// GetResult says what Get produced.
type GetResult int

const (
	// Frame: dst holds the payload due now.
	Frame GetResult = iota + 1
	// Missing: a frame is due but absent (lost, not yet arrived, or a frame
	// inserted to grow the delay): the caller conceals.
	Missing
	// Waiting: playout has not started (or restarted after the stream went
	// quiet): the caller plays silence.
	Waiting
)

var getNames = [...]string{"", "frame", "missing", "waiting"}

func (r GetResult) String() string {
	if r > 0 && int(r) < len(getNames) {
		return getNames[r]
	}
	return "unknown"
}

// Config sizes a Buffer.
type Config struct {
	// Depth is the most frames held (1..1024): the delay can never exceed it.
	Depth int
	// FrameBytes is the largest payload stored per frame.
	FrameBytes int
	// Target is the initial playout delay in frames (1..Depth-1, or 1 when
	// Depth is 1).
	Target int
	// Window is the adaptation window in frames; 0 means 100.
	Window int
	// Fill is the byte that stands for samples not received in a frame
	// received in part (PutTS): G.711's silence code.
	Fill byte
}

// Stats are cumulative over the Buffer's life (Reset keeps them).
type Stats struct {
	Received  uint64 // packets stored
	Duplicate uint64
	Late      uint64
	Dropped   uint64 // oversized, unconfirmed jumps, and frames dropped to shrink the delay
	Missing   uint64 // frames due but absent (including inserted ones)
	Inserted  uint64 // of Missing, frames inserted to grow the delay
	Restarts  uint64
	Partial   uint64 // frames played with part of their samples missing (PutTS)
	// Lost is RFC 3550's cumulative number of packets lost: expected
	// (from the sequence numbers seen) minus received (stored, late or
	// duplicate), never negative, summed over restarts.
	Lost uint64
}

type slot struct {
	seq  uint16
	n    int
	full bool   // holds (part of) frame seq
	have uint32 // granules received (PutTS)
	data []byte
}

// Buffer is a jitter buffer; see the package documentation.
type Buffer struct {
	cfg   Config
	slots []slot // len is a power of two >= Depth
	mask  uint16

	started, playing bool
	popped           bool   // a frame was due since begin: next never moves back
	next             uint16 // sequence number due at the next Get
	maxSeq           uint16 // highest sequence number stored
	target           int
	grow             int // frames still to insert
	winLeft, winMin  int
	winLow, winGaps  int // Gets with fewer than 2 frames; frames skipped by arrivals
	winLate          int // late packets in the window
	idle             int // consecutive Gets with nothing buffered

	jumpSeq uint16 // probation for a backward jump
	jumpSet bool

	// Timestamp placement (PutTS): frame anchorSeq starts at anchorTS.
	tsKnown   bool
	anchorSeq uint16
	anchorTS  uint32
	gran      int // bytes per granule of slot.have
	grains    int // granules per frame

	// Loss accounting for the current run: extended sequence span and
	// packets counted as received.
	extMin, extMax int64
	epochRecv      int64
	lostBefore     uint64

	st Stats
}

// New allocates a Buffer.
func New(cfg Config) (*Buffer, error) {
	if cfg.Depth < 1 || cfg.Depth > 1024 {
		return nil, fmt.Errorf("jitter: depth %d out of range 1..1024", cfg.Depth)
	}
	if cfg.FrameBytes < 1 {
		return nil, errors.New("jitter: frame size must be positive")
	}
	maxT := max(1, cfg.Depth-1)
	if cfg.Target < 1 || cfg.Target > maxT {
		return nil, fmt.Errorf("jitter: target %d out of range 1..%d", cfg.Target, maxT)
	}
	if cfg.Window == 0 {
		cfg.Window = 100
	}
	if cfg.Window < 1 {
		return nil, fmt.Errorf("jitter: window %d must be positive", cfg.Window)
	}
	n := 1 << bits.Len(uint(cfg.Depth-1))
	b := &Buffer{cfg: cfg, slots: make([]slot, n), mask: uint16(n - 1)}
	b.gran = (cfg.FrameBytes + 31) / 32
	b.grains = (cfg.FrameBytes + b.gran - 1) / b.gran
	data := make([]byte, n*cfg.FrameBytes)
	for i := range b.slots {
		b.slots[i].data = data[i*cfg.FrameBytes : (i+1)*cfg.FrameBytes : (i+1)*cfg.FrameBytes]
	}
	b.Reset()
	return b, nil
}

// Reset forgets the stream (for a new source): buffered frames are dropped,
// the target returns to its initial value, statistics are kept.
func (b *Buffer) Reset() {
	b.foldLoss()
	for i := range b.slots {
		b.slots[i].full = false
	}
	b.started, b.playing = false, false
	b.target = b.cfg.Target
	b.grow = 0
	b.idle = 0
	b.jumpSet = false
	b.tsKnown = false
}

func (b *Buffer) foldLoss() {
	if b.started {
		b.lostBefore += b.runLost()
	}
	b.extMin, b.extMax, b.epochRecv = 0, 0, 0
}

func (b *Buffer) runLost() uint64 {
	if !b.started {
		return 0
	}
	if l := b.extMax - b.extMin + 1 - b.epochRecv; l > 0 {
		return uint64(l)
	}
	return 0
}

// restart begins a new run at seq, keeping the adapted target.
func (b *Buffer) restart(seq uint16) {
	t, k := b.target, b.tsKnown
	b.Reset()
	b.target, b.tsKnown = t, k
	b.begin(seq)
}

func (b *Buffer) begin(seq uint16) {
	b.started, b.popped = true, false
	b.next, b.maxSeq = seq, seq
	b.extMin, b.extMax, b.epochRecv = int64(seq), int64(seq), 0
}

func (b *Buffer) maxTarget() int { return max(1, b.cfg.Depth-1) }

// Put offers one packet's payload, one whole frame numbered seq; it is
// copied, never kept.
func (b *Buffer) Put(seq uint16, payload []byte) PutResult {
	if len(payload) > b.cfg.FrameBytes {
		b.st.Dropped++
		return Dropped
	}
	b.tsKnown = false // the two numberings do not mix
	return b.put(seq, 0, payload, true)
}

// PutTS offers a payload of one byte per sample whose first sample has RTP
// timestamp ts: the buffer places it by timestamp, not by sequence number,
// so a far end sending packets of another duration than the frame (10 ms
// packets into 20 ms frames, 30 ms into 20 ms, and so on) or skipping
// timestamps in silence plays at the right time. A payload may cover several
// frames, or parts of two; a frame partly received plays with its gaps
// filled with Config.Fill. marker (RTP's marker bit: the start of a
// talkspurt) lets the buffer restart its playout clock at this packet when
// nothing is waiting, which is where the delay adapts at no cost. The
// payload is copied, never kept.
func (b *Buffer) PutTS(ts uint32, marker bool, payload []byte) PutResult {
	if len(payload) > b.cfg.Depth*b.cfg.FrameBytes {
		b.st.Dropped++
		return Dropped
	}
	F := int64(b.cfg.FrameBytes)
	if !b.playing {
		// One packet's worth is the least delay that plays a packet
		// longer than a frame without a gap.
		if need := (len(payload) + b.cfg.FrameBytes - 1) / b.cfg.FrameBytes; need > b.target {
			b.target = min(need, b.maxTarget())
		}
	}
	if !b.tsKnown || !b.started {
		b.tsKnown = true
		b.anchorSeq, b.anchorTS = b.next, ts
		if !b.started {
			b.anchorSeq = 0
		}
	}
	rel := int64(int32(ts - b.anchorTS))
	fo := rel / F
	off := rel % F
	if off < 0 {
		off += F
		fo--
	}
	seq := b.anchorSeq + uint16(fo)
	jumped := false
	if b.started {
		d := int(int16(seq - b.next))
		switch {
		case rel >= int64(17*b.cfg.Depth)*F || rel <= -int64(16*b.cfg.Depth)*F || d >= b.cfg.Depth:
			// A timestamp jump: start again at this packet, on a
			// frame grid of its own.
			b.st.Restarts++
			if d < b.cfg.Depth {
				seq = b.next + uint16(b.cfg.Depth)
			}
			b.restart(seq)
			b.anchorSeq, b.anchorTS, off = seq, ts, 0
			jumped = true
		case marker && b.Delay() == 0 && d < 0:
			// A talkspurt behind the playout clock (a far end that
			// stopped its clock in silence): start playout again at it.
			seq = b.next
			b.restart(seq)
			b.anchorSeq, b.anchorTS, off = seq, ts, 0
			jumped = true
		case marker && b.playing && b.Delay() == 0 && off != 0:
			// A new talkspurt off the frame grid: realign the grid on it.
			b.anchorSeq, b.anchorTS = seq+1, ts
			seq, off = seq+1, 0
		}
	}
	res := Stored
	if jumped {
		res = Restarted
	}
	for first := true; len(payload) > 0; first = false {
		n := min(len(payload), int(F-off))
		r := b.put(seq, int(off), payload[:n], first)
		if first {
			if !jumped || r != Stored {
				res = r
			}
			if r == Restarted || r == Stored {
				// Keep the anchor near: timestamp differences
				// stay small however long the call.
				b.anchorSeq, b.anchorTS = seq, ts-uint32(off)
			}
		} else if r != Stored && r != Restarted {
			res = r
		}
		if r == Dropped && first {
			return r
		}
		payload = payload[n:]
		ts += uint32(n)
		seq++
		off = 0
	}
	return res
}

// put stores part of frame seq at byte offset off; count says whether the
// packet counts for loss, lateness and duplicates (the first part of a
// packet does).
func (b *Buffer) put(seq uint16, off int, payload []byte, count bool) PutResult {
	if !b.started {
		b.begin(seq)
		b.store(seq, off, payload, count)
		return Stored
	}
	depth := b.cfg.Depth
	d := int(int16(seq - b.next))
	switch {
	case d >= depth:
		b.st.Restarts++
		b.restart(seq)
		b.store(seq, off, payload, count)
		return Restarted
	case d >= 0:
		if s := &b.slots[seq&b.mask]; s.full && s.seq == seq && s.have&b.span(off, len(payload)) == b.span(off, len(payload)) {
			if count {
				b.st.Duplicate++
				b.epochRecv++
			}
			return Duplicate
		}
		b.store(seq, off, payload, count)
		return Stored
	case !b.popped && int(int16(b.maxSeq-seq)) < depth:
		// Reordered before playout started: start earlier.
		b.extMin -= int64(b.next - seq)
		b.next = seq
		b.store(seq, off, payload, count)
		return Stored
	case d >= -16*depth:
		if !count {
			return Late
		}
		b.st.Late++
		b.winLate++
		b.epochRecv++
		if b.playing && b.target < b.maxTarget() {
			b.target++
			b.grow++
		}
		return Late
	}
	// A backward jump: believe it when the next packet follows it.
	if b.jumpSet && uint16(seq-b.jumpSeq) >= 1 && uint16(seq-b.jumpSeq) <= 4 {
		b.st.Restarts++
		b.restart(seq)
		b.store(seq, off, payload, count)
		return Restarted
	}
	b.jumpSeq, b.jumpSet = seq, true
	b.st.Dropped++
	return Dropped
}

// span is the mask of the granules that bytes [off, off+n) of a frame fill
// completely (the last granule counts when the bytes reach the frame's end).
func (b *Buffer) span(off, n int) uint32 {
	g := b.gran
	lo := (off + g - 1) / g
	end := off + n
	hi := end / g
	if end >= b.cfg.FrameBytes {
		hi = b.grains
	}
	if hi <= lo {
		return 0
	}
	return (uint32(1)<<(hi-lo) - 1) << lo
}

func (b *Buffer) store(seq uint16, off int, payload []byte, count bool) {
	s := &b.slots[seq&b.mask]
	if !s.full || s.seq != seq {
		if !count {
			b.epochRecv++ // a frame first reached by a packet's tail
		}
		s.seq, s.full, s.have, s.n = seq, true, 0, 0
		if off > 0 || len(payload) < b.cfg.FrameBytes && b.tsKnown {
			for i := range s.data {
				s.data[i] = b.cfg.Fill
			}
		}
	}
	copy(s.data[off:], payload)
	s.have |= b.span(off, len(payload))
	if b.tsKnown {
		s.n = b.cfg.FrameBytes
	} else {
		s.n = max(s.n, off+len(payload))
	}
	if d := int16(seq - b.maxSeq); d > 0 {
		if b.playing && d > 1 {
			b.winGaps += int(d) - 1
		}
		b.maxSeq = seq
		b.extMax += int64(d)
	}
	if count {
		b.epochRecv++
		b.st.Received++
	}
	b.jumpSet = false
}

// Delay is the number of frames from the one due next to the newest
// received, inclusive: the current buffering delay in frames.
func (b *Buffer) Delay() int {
	if !b.started {
		return 0
	}
	return max(0, int(int16(b.maxSeq-b.next))+1)
}

// ready is Delay less the newest frame when only part of it has come
// (PutTS): the frames playout can count on.
func (b *Buffer) ready() int {
	f := b.Delay()
	if f > 0 && b.tsKnown {
		if s := &b.slots[b.maxSeq&b.mask]; s.full && s.seq == b.maxSeq && s.have != 1<<b.grains-1 {
			f--
		}
	}
	return f
}

// Target is the current target delay in frames.
func (b *Buffer) Target() int { return b.target }

// Playing reports whether playout has started.
func (b *Buffer) Playing() bool { return b.playing }

// Stats returns the cumulative statistics.
func (b *Buffer) Stats() Stats {
	s := b.st
	s.Lost = b.lostBefore + b.runLost()
	return s
}

// Get takes the frame due now into dst (at least FrameBytes long) and
// returns its length and what it is; n is 0 unless the result is Frame.
func (b *Buffer) Get(dst []byte) (n int, r GetResult) {
	if !b.started {
		return 0, Waiting
	}
	f := b.ready()
	if !b.playing {
		if f < b.target {
			return 0, Waiting
		}
		b.playing, b.popped = true, true
		b.winLeft, b.winMin = b.cfg.Window, f
		b.winLow, b.winGaps, b.winLate = 0, 0, 0
		b.idle = 0
	}
	if f == 0 {
		b.idle++
		if b.idle > b.cfg.Depth {
			// The stream went quiet: rebuffer from the next packet.
			b.playing = false
			b.grow = 0
			b.next = b.maxSeq + 1
			return 0, Waiting
		}
	} else {
		b.idle = 0
	}
	if b.grow > 0 {
		b.grow--
		b.st.Missing++
		b.st.Inserted++
		return 0, Missing
	}
	b.winMin = min(b.winMin, f)
	if f < 2 {
		b.winLow++
	}
	b.winLeft--
	if b.winLeft <= 0 {
		// A frame more than needed always waited, except when a loss
		// made the newest frame absent (a gap in what came, at most
		// once per lost packet): one can go.
		if b.winMin >= 2 || b.winLow <= b.winGaps && b.winLate == 0 {
			// A frame more than needed was always waiting: drop one.
			b.drop()
			b.target = max(1, b.target-1)
		} else {
			// The target never stays above what a window needed:
			// drift from a slow far end must not ratchet it up.
			b.target = max(1, min(b.target, b.winMin+1))
		}
		b.winLeft, b.winMin = b.cfg.Window, int(^uint(0)>>1)
		b.winLow, b.winGaps, b.winLate = 0, 0, 0
	}
	return b.pop(dst)
}

func (b *Buffer) drop() {
	s := &b.slots[b.next&b.mask]
	if s.full && s.seq == b.next {
		s.full = false
	}
	b.next++
	b.st.Dropped++
}

func (b *Buffer) pop(dst []byte) (int, GetResult) {
	seq := b.next
	b.next++
	s := &b.slots[seq&b.mask]
	if !s.full || s.seq != seq {
		b.st.Missing++
		return 0, Missing
	}
	s.full = false
	if b.tsKnown && s.have != 1<<b.grains-1 {
		b.st.Partial++
	}
	return copy(dst, s.data[:s.n]), Frame
}

// SetFill sets Config.Fill (for a new stream's codec).
func (b *Buffer) SetFill(f byte) { b.cfg.Fill = f }
