package audio

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio/g711"
	"github.com/deskphone/deskphone/internal/testtool"
)

// testKeys returns the two sides' SRTP keys of one stream: a's Local is
// b's Remote and the other way round.
func testKeys(p SRTPProfile) (a, b *SRTPKeys) {
	ka, kb := bytes.Repeat([]byte{0xa5}, SRTPKeyLen), bytes.Repeat([]byte{0x3c}, SRTPKeyLen)
	ka[0], kb[0] = 1, 2
	return &SRTPKeys{Profile: p, Local: ka, Remote: kb}, &SRTPKeys{Profile: p, Local: kb, Remote: ka}
}

// srtpPairOf is pair with SRTP both ways; rtcp multiplexes SRTCP (RFC
// 5761) every 100 ms (its datagrams then signal recv too).
func srtpPairOf(t testing.TB, cfg Config, p SRTPProfile, rtcp bool) (a, b side) {
	ka, kb := testKeys(p)
	for _, s := range []*side{&a, &b} {
		e, err := NewEngine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		*s = side{e: e, conn: listen(t), recv: notify(e)}
	}
	for _, x := range []struct {
		s    side
		to   *net.UDPConn
		keys *SRTPKeys
	}{{a, b.conn, ka}, {b, a.conn, kb}} {
		err := x.s.e.StartStreamOptions(x.s.conn, x.to.LocalAddr().(*net.UDPAddr), PCMU,
			StreamOptions{SRTP: x.keys, RTCPMux: rtcp, RTCPInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.s.e.StopStream)
	}
	return a, b
}

// TestSRTPEndToEnd: with both suites, A's 1 kHz tone reaches B's earpiece
// through SRTP, nothing fails to authenticate, and what A puts on the wire is no G.711 that carries the
// tone (tapped with a second socket that B's packets never reach).
func TestSRTPEndToEnd(t *testing.T) {
	for _, p := range []SRTPProfile{AESCM128SHA1_80, AESCM128SHA1_32} {
		t.Run(p.String(), func(t *testing.T) {
			a, b := srtpPairOf(t, Config{}, p, false)
			step, earB := twoWay(t, a, b)
			for range 60 {
				step()
			}
			sa, sb := a.e.Stats(), b.e.Stats()
			if ToneLevel(earB, 1000, 8000) < 0.2 || sb.PacketsReceived != 60 || sb.Unauthenticated != 0 || sa.Unauthenticated != 0 {
				t.Fatalf("B hears 1 kHz at %.2f; A %+v; B %+v", ToneLevel(earB, 1000, 8000), sa, sb)
			}
			// The wire: the packet A sends, protected, against the same
			// packet in the clear.
			mic := make([]int16, 160)
			var ph float64
			Sine(mic, 1000, 0.5, 8000, &ph)
			a.e.mu.Lock()
			clearPkt := append([]byte(nil), a.e.packet(mic)...)
			wire, err := a.e.protectRTP(clearPkt)
			a.e.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			tag := 10
			if p == AESCM128SHA1_32 {
				tag = 4
			}
			if len(wire) != len(clearPkt)+tag || !bytes.Equal(wire[:12], clearPkt[:12]) {
				t.Fatalf("SRTP packet of %d bytes for %d", len(wire), len(clearPkt))
			}
			heard, onWire := make([]int16, 160), make([]int16, 160)
			g711.DecodeUlaw(heard, clearPkt[12:])
			g711.DecodeUlaw(onWire, wire[12:12+160])
			if lc, lw := ToneLevel(heard, 1000, 8000), ToneLevel(onWire, 1000, 8000); lc < 0.2 || lw > 0.05 {
				t.Fatalf("1 kHz level: in the clear %.3f, on the wire %.3f", lc, lw)
			}
		})
	}
}

// TestSRTPRefusesForgeries: packets in the clear, packets protected with
// another key, and a replay of a genuine packet are dropped before the
// source lock; B keeps hearing A.
func TestSRTPRefusesForgeries(t *testing.T) {
	a, b := srtpPairOf(t, Config{}, AESCM128SHA1_80, false)
	step, earB := twoWay(t, a, b)
	for range 5 {
		step()
	}
	stranger := listen(t)
	w := newWaiter(t)
	forge := func(pkt []byte) {
		t.Helper()
		if _, err := stranger.WriteToUDP(pkt, b.conn.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		w.wait(b.recv, "the forgery at B")
	}
	other, err := newSRTPPair(&SRTPKeys{Profile: AESCM128SHA1_80, Local: bytes.Repeat([]byte{9}, 30), Remote: bytes.Repeat([]byte{9}, 30)})
	if err != nil {
		t.Fatal(err)
	}
	a.e.mu.Lock()
	ssrc := a.e.txPkt.SSRC
	a.e.mu.Unlock()
	loud := bytes.Repeat([]byte{g711.Ulaw(20000)}, 160)
	for i := range 40 {
		plain := packetBytes(t, 0, uint16(60000+i), ssrc, loud)
		forge(plain)
		wrong, err := other.tx.EncryptRTP(nil, plain, &rtp.Header{})
		if err != nil {
			t.Fatal(err)
		}
		forge(wrong)
		step()
	}
	// A replay: the last packet A sent, again, from a stranger's port.
	a.e.mu.Lock()
	last := append([]byte(nil), a.e.srtpOut[:12+160+10]...) // protectRTP wrote it there
	a.e.mu.Unlock()
	forge(last)
	st := b.e.Stats()
	if st.Unauthenticated != 81 || st.PacketsReceived != 45 || ToneLevel(earB, 1000, 8000) < 0.2 {
		t.Fatalf("B hears 1 kHz at %.2f: %+v", ToneLevel(earB, 1000, 8000), st)
	}
}

// TestSRTCP: reports cross both ways as SRTCP (RFC 3711 3.4), each
// authenticated, and give the round trip.
func TestSRTCP(t *testing.T) {
	a, b := srtpPairOf(t, Config{}, AESCM128SHA1_80, true)
	mic, ear := make([]int16, 160), make([]int16, 160)
	deadline := time.Now().Add(deadline)
	for {
		a.e.Process(mic, ear)
		b.e.Process(mic, ear)
		sa, sb := a.e.Stats(), b.e.Stats()
		if sa.Unauthenticated+sb.Unauthenticated != 0 {
			t.Fatalf("A %+v\nB %+v", sa, sb)
		}
		if sa.RTCPReceived >= 2 && sb.RTCPReceived >= 2 && sa.RTT > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SRTCP across: A %+v\nB %+v", sa, sb)
		}
		select {
		case <-a.recv:
		case <-b.recv:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestNoAllocsSRTP: TestNoAllocsStream with SRTP both ways.
func TestNoAllocsSRTP(t *testing.T) {
	a, b := srtpPairOf(t, Config{}, AESCM128SHA1_80, false)
	step, earB := twoWay(t, a, b)
	for range 20 {
		step()
	}
	// pion/srtp takes its keystream buffer from a sync.Pool, which the
	// race detector empties at random: under -race only the audio is
	// checked; make unit (no -race) counts the allocations.
	if n := testing.AllocsPerRun(500, step); n != 0 && !raceEnabled {
		t.Fatalf("allocs per frame = %v", n)
	}
	if st := b.e.Stats(); st.PacketsReceived != 521 || st.Unauthenticated != 0 || ToneLevel(earB, 1000, 8000) < 0.2 {
		t.Fatalf("B: %+v, hears 1000 Hz at %v", st, ToneLevel(earB, 1000, 8000))
	}
}

func TestSRTPKeysChecked(t *testing.T) {
	e, _ := NewEngine(Config{})
	conn, peer := listen(t), listen(t)
	for _, k := range []*SRTPKeys{
		{Profile: 0, Local: make([]byte, 30), Remote: make([]byte, 30)},
		{Profile: AESCM128SHA1_80, Local: make([]byte, 16), Remote: make([]byte, 30)},
	} {
		err := e.StartStreamOptions(conn, peer.LocalAddr().(*net.UDPAddr), PCMU, StreamOptions{SRTP: k})
		if err == nil {
			t.Fatalf("%+v accepted", k)
		}
	}
}

// TestSourceLockSpray is a call between two engines over 127.0.0.1 at
// the real frame rate (50 packets/s each way). A stranger at the same IP
// address, from another port, sprays B with a 2 kHz tone at 50 packets/s,
// first with a new SSRC, then with A's SSRC, then alternating: B's
// earpiece keeps A's 1 kHz and never plays 2 kHz. With SRTP every sprayed
// packet fails authentication. Then A really moves: its stream restarts
// on another port (another SSRC) and the old one stops; B follows it
// within a few seconds (a second of silence and 25 packets: source.go).
func TestSourceLockSpray(t *testing.T) {
	testtool.Long(t, "make race")
	for _, protect := range []bool{false, true} {
		name := "RTP"
		if protect {
			name = "SRTP"
		}
		t.Run(name, func(t *testing.T) {
			var a, b side
			if protect {
				a, b = srtpPairOf(t, Config{}, AESCM128SHA1_80, false)
			} else {
				a, b = pair(t, Config{}, PCMU)
			}
			w := newWaiter(t)
			stranger := listen(t)
			micA, micB, earA, earB := make([]int16, 160), make([]int16, 160), make([]int16, 160), make([]int16, 160)
			var pa, pb, ps float64
			spray := make([]int16, 160)
			payload := make([]byte, 160)
			var seq uint16 = 3000
			a.e.mu.Lock()
			ssrcA := a.e.txPkt.SSRC
			a.e.mu.Unlock()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			heard, sprayed := 0, 0
			frame := func(sprayWith uint32, moved bool) {
				<-tick.C
				Sine(micA, 1000, 0.5, 8000, &pa)
				Sine(micB, 600, 0.5, 8000, &pb)
				a.e.Process(micA, earA)
				w.wait(b.recv, "A's packet at B")
				if sprayWith != 0 {
					Sine(spray, 2000, 0.7, 8000, &ps)
					g711.EncodeUlaw(payload, spray)
					seq++
					p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160,
						SSRC: sprayWith}, Payload: payload}
					raw, err := p.Marshal()
					if err != nil {
						t.Fatal(err)
					}
					if _, err := stranger.WriteToUDP(raw, b.conn.LocalAddr().(*net.UDPAddr)); err != nil {
						t.Fatal(err)
					}
					w.wait(b.recv, "the spray at B")
				}
				b.e.Process(micB, earB)
				if !moved {
					w.wait(a.recv, "B's packet at A")
				}
				if ToneLevel(earB, 1000, 8000) > 0.2 {
					heard++
				}
				if ToneLevel(earB, 2000, 8000) > 0.05 {
					sprayed++
				}
			}
			for range 5 {
				frame(0, false)
			}
			heard = 0
			for i := range 150 {
				switch {
				case i < 50:
					frame(0x5eed, false)
				case i < 100:
					frame(ssrcA, false)
				default:
					frame([]uint32{0x5eed, ssrcA}[i%2], false)
				}
			}
			st := b.e.Stats()
			if sprayed != 0 || heard < 140 || st.SourceChanges != 0 {
				t.Fatalf("during the spray B played 2 kHz in %d frames and 1 kHz in %d of 150: %+v", sprayed, heard, st)
			}
			if protect && st.Unauthenticated != 150 || !protect && st.Foreign != 150 {
				t.Fatalf("the spray was not counted as such: %+v", st)
			}

			// A moves to another port; its old one falls silent.
			a.e.StopStream()
			moved := listen(t)
			opts := StreamOptions{}
			if protect {
				ka, _ := testKeys(AESCM128SHA1_80)
				opts.SRTP = ka
			}
			if err := a.e.StartStreamOptions(moved, b.conn.LocalAddr().(*net.UDPAddr), PCMU, opts); err != nil {
				t.Fatal(err)
			}
			for n := 0; b.e.Stats().SourceChanges == 0; n++ {
				if n == 250 {
					t.Fatalf("B did not follow A's move in 5 s: %+v", b.e.Stats())
				}
				frame(0, true)
			}
			heard = 0
			for range 10 {
				frame(0, true)
			}
			if heard < 9 {
				t.Fatalf("after the move B hears 1 kHz in %d of 10 frames", heard)
			}
		})
	}
}
