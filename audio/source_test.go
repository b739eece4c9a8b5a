package audio

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio/g711"
)

// TestSourceProbation follows RFC 3550 A.1: a new source is valid after two
// packets in sequence; large jumps need confirming; loss is counted.
func TestSourceProbation(t *testing.T) {
	var s rxSource
	s.start(7, 100, minSequential)
	steps := []struct {
		seq  uint16
		want bool
	}{
		{100, false}, // probation
		{101, true},  // valid
		{102, true},
		{104, true},   // 103 lost
		{103, true},   // reordered: counted
		{9000, false}, // jump: not believed
		{9001, true},  // confirmed: restart
		{9002, true},
		{65535, false},
		{0, true}, // confirmed after a jump across the wrap
		{1, true},
	}
	for i, st := range steps {
		if got := s.update(st.seq); got != st.want {
			t.Fatalf("step %d seq %d: valid %v", i, st.seq, got)
		}
	}
	if s.lost() != 0 || s.extMax() != 1 {
		t.Fatalf("lost %d ext %d", s.lost(), s.extMax())
	}
	s.start(1, 65534, minSequential)
	for _, q := range []uint16{65534, 65535, 0, 2, 3} {
		s.update(q)
	}
	if s.lost() != 1 || s.extMax() != 65536+3 {
		t.Fatalf("across the wrap: lost %d ext %d", s.lost(), s.extMax())
	}
	if f := s.fraction(); f != 256/5 { // 1 of 5 since 65535, the first valid
		t.Fatalf("fraction %d", f)
	}
}

func TestJitterEstimate(t *testing.T) {
	var s rxSource
	// Packets every 160 ticks arriving alternately 0 and 80 ticks late:
	// |D| = 80 each time; the estimate converges to 80.
	for k := range 2000 {
		s.arrival(uint32(k*160), uint32(k*160+80*(k%2)))
	}
	if j := s.jitter >> 4; j < 75 || j > 80 {
		t.Fatalf("jitter %d, want about 80", j)
	}
}

// TestSourceLock follows the source lock (source.go) with arrival times
// of its own: a stranger at the same IP address and another port, with a
// new SSRC or the far end's, plays nothing while the far end sends; a
// stream that really moved (the old one silent a second, the new one 25
// packets in sequence) is followed; a new SSRC from the locked address and
// port takes over once the old one is silent three frames.
func TestSourceLock(t *testing.T) {
	e, err := NewEngine(Config{JitterMs: 20})
	if err != nil {
		t.Fatal(err)
	}
	e.s = stream{up: true, codec: PCMU, opts: StreamOptions{Source: SourceIP, DTMFPayloadType: 101}}
	e.s.remote = netip.MustParseAddrPort("10.0.0.1:4000")
	real, other, moved := e.s.remote, netip.MustParseAddrPort("10.0.0.1:4002"), netip.MustParseAddrPort("10.0.0.1:4004")
	var pkt rtp.Packet
	ear := make([]int16, e.FrameSamples())
	payload := func(v int16) []byte { return bytes.Repeat([]byte{g711.Ulaw(v)}, 160) }
	at := time.Unix(1000, 0)
	var realSeq, spraySeq, movedSeq uint16 = 100, 5000, 9000
	frame := func(step string, want int16, sends ...func()) {
		t.Helper()
		for _, send := range sends {
			send()
		}
		at = at.Add(20 * time.Millisecond)
		e.mu.Lock()
		e.playout(ear)
		e.mu.Unlock()
		if w := g711.UlawSample(g711.Ulaw(want)); ear[0] != w || ear[159] != w {
			t.Fatalf("%s: ear %d .. %d, want %d (%+v)", step, ear[0], ear[159], w, e.Stats())
		}
	}
	fromReal := func() {
		e.receiveAt(&pkt, packetBytes(t, 0, realSeq, 7, payload(1000)), real, at)
		realSeq++
	}
	spray := func(ssrc uint32) func() {
		return func() {
			e.receiveAt(&pkt, packetBytes(t, 0, spraySeq, ssrc, payload(-3000)), other, at)
			spraySeq++
		}
	}
	for range 2 {
		frame("the call, before the spray", 1000, fromReal)
	}
	for range 200 {
		frame("new SSRC from another port", 1000, fromReal, spray(99))
	}
	for range 200 {
		frame("the far end's SSRC from another port", 1000, spray(7), fromReal)
	}
	for i := range 200 {
		frame("both", 1000, fromReal, spray(7+92*uint32(i%2)))
	}
	if st := e.Stats(); st.SourceChanges != 0 || st.Foreign != 600 {
		t.Fatalf("after the spray: %+v", st)
	}

	// The far end moves to port 4004 and the old port falls silent: after
	// a second of silence, 25 packets in sequence take over.
	fromMoved := func() {
		e.receiveAt(&pkt, packetBytes(t, 0, movedSeq, 7, payload(-3000)), moved, at)
		movedSeq++
	}
	n := 0
	for e.Stats().SourceChanges == 0 {
		if n++; n > 100 {
			t.Fatalf("the moved stream was not followed after %d frames: %+v", n, e.Stats())
		}
		e.mu.Lock()
		e.receiveLocked(&pkt, packetBytes(t, 0, movedSeq, 7, payload(-3000)), moved, at)
		movedSeq++
		at = at.Add(20 * time.Millisecond)
		e.playout(ear)
		e.mu.Unlock()
	}
	if n < 50 || n > 51 { // one second of silence: 50 frames
		t.Fatalf("followed after %d frames, want 50 (moveQuiet)", n)
	}
	for range 3 {
		frame("the moved stream", -3000, fromMoved)
	}

	// A new SSRC at the locked address and port: three frames of silence
	// of the old SSRC and two packets.
	at = at.Add(60 * time.Millisecond)
	for i := range 3 {
		e.receiveAt(&pkt, packetBytes(t, 0, uint16(700+i), 42, payload(5000)), moved, at)
		at = at.Add(20 * time.Millisecond)
	}
	if st := e.Stats(); st.SourceChanges != 2 || e.src.ssrc != 42 {
		t.Fatalf("SSRC change at the same address: %+v", st)
	}
}
