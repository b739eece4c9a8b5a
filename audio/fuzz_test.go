package audio

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzReceive feeds arbitrary datagrams through the receive path (RTP
// parsing into a reused packet, source validation, RTCP, telephone-events,
// the jitter buffer by timestamp, G.711 decoding, concealment) and plays frames out after each;
// and the same datagram through a 16 kHz engine whose stream is G.722 (payload type 9: G.722
// decoding, the resampler-free wideband path, concealment at 16 kHz).
func FuzzReceive(f *testing.F) {
	f.Add([]byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0, 0, 0, 7, 0xff, 0x7f, 0x00})
	f.Add([]byte{0x90, 0x80, 0x12, 0x34, 0, 0, 0, 0, 1, 2, 3, 4, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0})
	f.Add([]byte{0x80, 101, 0x00, 0x02, 0, 0, 1, 0x40, 0, 0, 0, 7, 5, 0x8a, 0, 160})                       // telephone-event
	f.Add([]byte{0x81, 200, 0, 7, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}) // RTCP SR
	e, err := NewEngine(Config{JitterMs: 20, JitterMaxMs: 100})
	if err != nil {
		f.Fatal(err)
	}
	e.s = stream{up: true, codec: PCMU, opts: StreamOptions{Source: SourceAny, DTMFPayloadType: 101}} // receive and play out only: no socket
	w, err := NewEngine(Config{Rate: 16000, JitterMs: 20, JitterMaxMs: 100})
	if err != nil {
		f.Fatal(err)
	}
	w.s = stream{up: true, codec: G722, opts: StreamOptions{Source: SourceAny, DTMFPayloadType: 101}}
	w.coder.reset(G722)
	var pkt rtp.Packet
	ear := make([]int16, e.FrameSamples())
	wear := make([]int16, w.FrameSamples())
	f.Fuzz(func(t *testing.T, data []byte) {
		before := e.Stats()
		wasLocked, wasSSRC := e.locked, e.src.ssrc
		e.receive(&pkt, data, netip.AddrPort{})
		validated := !wasLocked || wasSSRC != e.src.ssrc // a held packet may count too
		after := e.Stats()
		// Two when the datagram validates a source on probation: the held
		// packet counts too.
		if d := after.PacketsReceived - before.PacketsReceived; d > 2 {
			t.Fatalf("one datagram counted as %d packets", d)
		}
		if !validated && after.PacketsReceived == before.PacketsReceived+1 && (len(pkt.Payload) > len(data) ||
			after.BytesReceived-before.BytesReceived != uint64(len(pkt.Payload))) {
			t.Fatalf("payload accounting: %d bytes from a %d-byte datagram", len(pkt.Payload), len(data))
		}
		for range 2 {
			e.mu.Lock()
			e.playout(ear)
			e.mu.Unlock()
		}
		if st := e.Stats(); st.Delay > 100*time.Millisecond {
			t.Fatalf("delay %v beyond the buffer's depth", st.Delay)
		}
		if len(data) > 1 { // the same as G.722 (payload type 9)
			data = append([]byte(nil), data...)
			data[1] = data[1]&0x80 | 9
		}
		w.receive(&pkt, data, netip.AddrPort{})
		for range 2 {
			w.mu.Lock()
			w.playout(wear)
			w.mu.Unlock()
		}
		if st := w.Stats(); st.Delay > 100*time.Millisecond {
			t.Fatalf("G.722: delay %v beyond the buffer's depth", st.Delay)
		}
	})
}
