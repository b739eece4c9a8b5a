package audio

import (
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio/dtmf"
	"github.com/deskphone/deskphone/audio/g711"
)

// TestSourceMatch: which source addresses a stream accepts. The SDP says
// 10.0.2.2:40000; behind QEMU's NAT the far end's media comes from
// 10.0.2.2 with another port, which SourceIP (the default) accepts.
func TestSourceMatch(t *testing.T) {
	sdp := netip.MustParseAddrPort("10.0.2.2:40000")
	tests := []struct {
		m    SourceMatch
		from string
		ok   bool
	}{
		{SourceIP, "10.0.2.2:40000", true},
		{SourceIP, "10.0.2.2:61234", true}, // NAT rewrote the port
		{SourceIP, "[::ffff:10.0.2.2]:61234", true},
		{SourceIP, "10.0.2.3:40000", false}, // a stranger
		{SourceAddrPort, "10.0.2.2:40000", true},
		{SourceAddrPort, "10.0.2.2:61234", false},
		{SourceAny, "192.0.2.9:1", true},
	}
	for _, tt := range tests {
		e, _ := NewEngine(Config{})
		e.s = stream{up: true, codec: PCMU, remote: sdp, opts: StreamOptions{Source: tt.m, DTMFPayloadType: 101}}
		var rx rtp.Packet
		for seq := range uint16(3) {
			p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 5},
				Payload: make([]byte, 160)}
			b, _ := p.Marshal()
			e.receive(&rx, b, netip.MustParseAddrPort(tt.from))
		}
		st := e.Stats()
		if got := st.PacketsReceived == 3; got != tt.ok || (st.Rejected == 3) == tt.ok {
			t.Errorf("%v from %s: %+v", tt.m, tt.from, st)
		}
	}
}

// TestSendDTMF checks the RFC 4733 packets on the wire: the event's start
// timestamp on every packet, durations growing by a frame, the marker on
// the first, the end packet three times, sequence numbers contiguous with
// the audio, and the audio timestamp still running after the digit.
// TestSendDTMF: a digit's RFC 4733 packets on the wire, at narrowband and
// at wideband (G.722 on a 16 kHz engine: telephone-event's clock and the
// media timestamp still run at 8000 Hz, 160 a frame).
func TestSendDTMF(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		codec Codec
	}{{Config{}, PCMA}, {Config{Rate: 16000}, G722}} {
		t.Run(tc.codec.String(), func(t *testing.T) {
			pt := tc.codec.PayloadType()
			e, _ := NewEngine(tc.cfg)
			conn, peer := listen(t), listen(t)
			if err := e.StartStreamOptions(conn, peer.LocalAddr().(*net.UDPAddr), tc.codec,
				StreamOptions{DTMFPayloadType: 96}); err != nil {
				t.Fatal(err)
			}
			defer e.StopStream()
			if err := e.SendDTMF('x', 0); err == nil {
				t.Fatal("x accepted")
			}
			mic, ear := make([]int16, e.FrameSamples()), make([]int16, e.FrameSamples())
			e.Process(mic, ear) // one audio packet
			if err := e.SendDTMF('#', 100*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			for range 10 {
				e.Process(mic, ear)
			}
			buf := make([]byte, 1500)
			var pkts []rtp.Packet
			peer.SetReadDeadline(time.Now().Add(deadline))
			for range 11 {
				n, _, err := peer.ReadFrom(buf)
				if err != nil {
					t.Fatal(err)
				}
				var p rtp.Packet
				if err := p.Unmarshal(append([]byte(nil), buf[:n]...)); err != nil {
					t.Fatal(err)
				}
				pkts = append(pkts, p)
			}
			audio0 := pkts[0]
			want := []struct {
				pt     uint8
				marker bool
				end    bool
				dur    uint16
			}{
				{pt, true, false, 0},
				{96, true, false, 160}, {96, false, false, 320}, {96, false, false, 480}, {96, false, false, 640},
				{96, false, true, 800}, {96, false, true, 800}, {96, false, true, 800},
				{pt, false, false, 0}, {pt, false, false, 0}, // 40 ms between digits... audio
				{pt, false, false, 0},
			}
			for i, p := range pkts {
				w := want[i]
				if p.SequenceNumber != audio0.SequenceNumber+uint16(i) || p.PayloadType != w.pt {
					t.Fatalf("packet %d: seq %d pt %d", i, p.SequenceNumber, p.PayloadType)
				}
				if p.PayloadType == 96 {
					var ev dtmf.Payload
					if err := ev.Unmarshal(p.Payload); err != nil {
						t.Fatal(err)
					}
					if p.Timestamp != audio0.Timestamp+160 || p.Marker != w.marker || ev.End != w.end ||
						ev.Duration != w.dur || ev.Event != 11 || ev.Volume != 10 {
						t.Fatalf("event packet %d: ts %d marker %v %+v", i, p.Timestamp-audio0.Timestamp, p.Marker, ev)
					}
				} else if p.Timestamp != audio0.Timestamp+uint32(i)*160 {
					t.Fatalf("audio packet %d: ts +%d", i, p.Timestamp-audio0.Timestamp)
				}
			}
			if !pkts[8].Marker {
				// The first audio packet after a digit starts a talkspurt.
				t.Fatal("no marker after the digit")
			}
			if st := e.Stats(); st.DigitsSent != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestReceiveDTMF: an event's packets (start, updates, three ends) give
// one digit; a second event with a new timestamp another; in-band digits
// are heard with Config.InbandDTMF.
func TestReceiveDTMF(t *testing.T) {
	e, _ := NewEngine(Config{})
	e.s = stream{up: true, codec: PCMU, opts: StreamOptions{Source: SourceAny, DTMFPayloadType: 101}}
	var rx rtp.Packet
	seq := uint16(10)
	put := func(pt uint8, ts uint32, payload []byte) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 3},
			Payload: payload}
		seq++
		b, _ := p.Marshal()
		e.receive(&rx, b, netip.AddrPort{})
	}
	ev := func(code uint8, end bool, dur uint16) []byte {
		b := make([]byte, 4)
		dtmf.Payload{Event: code, End: end, Volume: 10, Duration: dur}.MarshalTo(b)
		return b
	}
	put(0, 0, make([]byte, 160))
	put(0, 160, make([]byte, 160))
	for _, d := range []uint16{160, 320, 480, 480, 480} {
		put(101, 320, ev(7, d == 480, d))
	}
	put(101, 1600, ev(10, false, 160))
	put(101, 1600, ev(10, true, 320))
	var got []byte
	for {
		d, ok := e.ReadDigit()
		if !ok {
			break
		}
		got = append(got, d)
	}
	if string(got) != "7*" {
		t.Fatalf("digits %q", got)
	}

	// In band, across the network between two engines: with the engine's
	// Config, with the stream's option, and not at all without either.
	for _, tc := range []struct {
		cfg, stream bool
		want        byte // 0: no digit
	}{{true, false, '9'}, {false, true, '9'}, {false, false, 0}} {
		a, b := pair(t, Config{InbandDTMF: tc.cfg}, PCMU)
		if tc.stream {
			if err := b.e.StartStreamOptions(b.conn, a.conn.LocalAddr().(*net.UDPAddr), PCMU, StreamOptions{InbandDTMF: true}); err != nil {
				t.Fatal(err)
			}
		}
		w := newWaiter(t)
		mic, ear := make([]int16, 160), make([]int16, 160)
		silent := make([]int16, 160)
		tmp := make([]int16, 160)
		var ph1, ph2 float64
		for k := range 40 {
			clear(mic)
			if k >= 5 && k < 10 {
				Sine(mic, 852, 0.15, 8000, &ph1)
				Sine(tmp, 1477, 0.15, 8000, &ph2)
				for i := range mic {
					mic[i] += tmp[i]
				}
			}
			a.e.Process(mic, ear)
			w.wait(b.recv, "packet at B")
			b.e.Process(silent, ear)
		}
		d, ok := b.e.ReadDigit()
		if tc.want == 0 && ok || tc.want != 0 && (!ok || d != tc.want) {
			t.Fatalf("config %v stream %v: in-band digit %q %v, want %q", tc.cfg, tc.stream, d, ok, tc.want)
		}
	}
}

// TestRTCP: two engines exchange reports over RTCP-mux; pion/rtcp parses
// ours; each learns the other's loss and jitter and a round-trip time.
func TestRTCP(t *testing.T) {
	cfg := Config{}
	var s [2]side
	for i := range s {
		e, _ := NewEngine(cfg)
		s[i] = side{e: e, conn: listen(t), recv: notify(e)}
	}
	opts := StreamOptions{RTCPMux: true, RTCPInterval: 100 * time.Millisecond, CNAME: "alice@example"}
	for i := range s {
		if err := s[i].e.StartStreamOptions(s[i].conn, s[1-i].conn.LocalAddr().(*net.UDPAddr), PCMU, opts); err != nil {
			t.Fatal(err)
		}
		defer s[i].e.StopStream()
	}
	w := newWaiter(t)
	mic, ear := make([]int16, 160), make([]int16, 160)
	for range 12 {
		for i := range s {
			s[i].e.Process(mic, ear)
			w.wait(s[1-i].recv, "datagram")
			if (s[i].e.Stats().PacketsSent)%5 == 0 {
				w.wait(s[1-i].recv, "report")
			}
		}
	}
	for i := range s {
		st := s[i].e.Stats()
		// The round trip on loopback can be below RTCP's resolution
		// (1/65536 s): 0 is a true figure here, a negative one never.
		if st.RTCPSent < 2 || st.RTCPReceived < 2 || st.FarLost != 0 || st.RTT < 0 || st.RTT > time.Second {
			t.Fatalf("side %d: %+v", i, st)
		}
	}
	// Our compound packet, as pion/rtcp reads it.
	e := s[0].e
	e.mu.Lock()
	n := buildRTCP(e.rtcpBuf, 0x1234, true, time.Now(), 99, 10, 1600,
		&reportBlock{ssrc: 0x5678, fraction: 64, lost: -3, extMax: 70000, jitter: 12, lsr: 5, dlsr: 6}, "bob")
	raw := append([]byte(nil), e.rtcpBuf[:n]...)
	e.mu.Unlock()
	pkts, err := rtcp.Unmarshal(raw)
	if err != nil || len(pkts) != 2 {
		t.Fatalf("pion/rtcp: %v, %d packets", err, len(pkts))
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok || sr.SSRC != 0x1234 || sr.RTPTime != 99 || sr.PacketCount != 10 || sr.OctetCount != 1600 || len(sr.Reports) != 1 {
		t.Fatalf("SR %+v", pkts[0])
	}
	r := sr.Reports[0]
	if r.SSRC != 0x5678 || r.FractionLost != 64 || r.TotalLost != 0xfffffd || r.LastSequenceNumber != 70000 ||
		r.Jitter != 12 || r.LastSenderReport != 5 || r.Delay != 6 {
		t.Fatalf("report %+v", r)
	}
	sd, ok := pkts[1].(*rtcp.SourceDescription)
	if !ok || len(sd.Chunks) != 1 || string(sd.Chunks[0].Items[0].Text) != "bob" {
		t.Fatalf("SDES %+v", pkts[1])
	}
	// And a receiver report built by pion parses here.
	rr := &rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: 0x1234, FractionLost: 3, TotalLost: 7,
		LastSequenceNumber: 5, Jitter: 80, LastSenderReport: 1, Delay: 2}}}
	b, _ := rr.Marshal()
	var info rtcpInfo
	if !parseRTCP(b, 0x1234, &info) || !info.haveBlk || info.blk.lost != 7 || info.blk.jitter != 80 || info.blk.fraction != 3 {
		t.Fatalf("parsed %+v", info)
	}
	if parseRTCP(b[:len(b)-4], 0x1234, &info) {
		t.Fatal("truncated report accepted")
	}
}

// TestFarEndPacketTimes: a far end sending 10, 30 or 40 ms packets (or
// its own timestamps with silence suppression: comfort noise, a gap, a new
// talkspurt with the marker bit) plays into a 20 ms engine without
// concealment, and comfort noise fills the gap at its level.
func TestFarEndPacketTimes(t *testing.T) {
	for _, ps := range []int{80, 240, 320} {
		e, _ := NewEngine(Config{JitterMs: 20})
		e.s = stream{up: true, codec: PCMU, opts: StreamOptions{Source: SourceAny, DTMFPayloadType: 101}}
		var rx rtp.Packet
		var seq uint16 = 65530
		ts := uint32(0xfffff000)
		var sent, played int
		ear := make([]int16, 160)
		var ph float64
		tone := make([]int16, ps)
		payload := make([]byte, ps)
		put := func(pt uint8, marker bool, p []byte) {
			pk := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: seq,
				Timestamp: ts, SSRC: 4}, Payload: p}
			seq++
			b, _ := pk.Marshal()
			e.receive(&rx, b, netip.AddrPort{})
		}
		speech := func(frames int, marker bool) {
			for k := range frames {
				for sent < played+2*160 {
					Sine(tone, 700, 0.3, 8000, &ph)
					g711.EncodeUlaw(payload, tone)
					put(0, marker && sent == 0, payload)
					ts += uint32(ps)
					sent += ps
				}
				e.mu.Lock()
				e.playout(ear)
				e.mu.Unlock()
				played += 160
				if k > 4 && ToneLevel(ear, 700, 8000) < 0.05 {
					t.Fatalf("%d ms packets: frame %d: level %v", ps/8, k, ToneLevel(ear, 700, 8000))
				}
			}
		}
		speech(50, true)
		// Silence suppression: one CN packet at -40 dBov, 400 ms without
		// packets (the timestamp runs on), then a talkspurt.
		put(ptCN, false, []byte{40})
		var rms float64
		for range 20 {
			e.mu.Lock()
			e.playout(ear)
			e.mu.Unlock()
			var s float64
			for _, v := range ear {
				s += float64(v) * float64(v)
			}
			rms = math.Sqrt(s / 160)
		}
		ts += 20 * 160
		sent, played = 0, 0
		speech(50, true)
		st := e.Stats()
		want := 32768 * math.Pow(10, -40.0/20) // -40 dBov
		t.Logf("%d ms packets: comfort noise RMS %.0f (want %.0f), %+v", ps/8, rms, want, st)
		if rms < want/2 || rms > want*2 || st.ComfortNoise < 15 || st.Lost != 0 || st.Late != 0 {
			t.Fatalf("%d ms packets: noise RMS %.0f, %+v", ps/8, rms, st)
		}
	}
}

// TestNoAllocsDTMFAndRTCP: with digits being sent and RTCP reports going
// both ways every frame (RTCP-mux), the frame path still allocates nothing.
func TestNoAllocsDTMFAndRTCP(t *testing.T) {
	var s [2]side
	for i := range s {
		e, _ := NewEngine(Config{})
		s[i] = side{e: e, conn: listen(t), recv: notify(e)}
	}
	opts := StreamOptions{RTCPMux: true, RTCPInterval: time.Millisecond}
	for i := range s {
		if err := s[i].e.StartStreamOptions(s[i].conn, s[1-i].conn.LocalAddr().(*net.UDPAddr), PCMA, opts); err != nil {
			t.Fatal(err)
		}
		defer s[i].e.StopStream()
	}
	w := newWaiter(t)
	mic, ear := make([]int16, 160), make([]int16, 160)
	step := func() {
		if s[0].e.Stats().DigitsSent == s[0].e.Stats().PacketsSent%5 {
			_ = s[0].e.SendDTMF('5', 40*time.Millisecond)
		}
		for i := range s {
			s[i].e.Process(mic, ear)
			w.wait(s[1-i].recv, "packet")
			w.wait(s[1-i].recv, "report")
		}
		for {
			if _, ok := s[1].e.ReadDigit(); !ok {
				break
			}
		}
	}
	for range 20 {
		step()
	}
	if n := testing.AllocsPerRun(300, step); n != 0 {
		t.Fatalf("allocs per frame %v", n)
	}
	a, b := s[0].e.Stats(), s[1].e.Stats()
	if a.DigitsSent == 0 || b.DigitsReceived == 0 || b.RTCPReceived < 300 || a.RTCPReceived < 300 {
		t.Fatalf("A %+v\nB %+v", a, b)
	}
}

// TestRTCPOwnPort: reports on their own connections (RTP port + 1, as
// without RFC 5761), read by a second reader that StopStream ends too.
func TestRTCPOwnPort(t *testing.T) {
	var s [2]side
	var rc [2]*net.UDPConn
	for i := range s {
		e, _ := NewEngine(Config{})
		s[i] = side{e: e, conn: listen(t), recv: notify(e)}
		rc[i] = listen(t)
	}
	for i := range s {
		opts := StreamOptions{RTCPConn: rc[i], RTCPRemote: rc[1-i].LocalAddr().(*net.UDPAddr), RTCPInterval: 20 * time.Millisecond}
		if err := s[i].e.StartStreamOptions(s[i].conn, s[1-i].conn.LocalAddr().(*net.UDPAddr), PCMU, opts); err != nil {
			t.Fatal(err)
		}
	}
	w := newWaiter(t)
	mic, ear := make([]int16, 160), make([]int16, 160)
	for range 10 {
		for i := range s {
			s[i].e.Process(mic, ear)
			w.wait(s[1-i].recv, "packet")
			w.wait(s[1-i].recv, "report")
		}
	}
	for i := range s {
		s[i].e.StopStream()
		st := s[i].e.Stats()
		if st.RTCPReceived != 10 || st.RTCPSent != 10 || st.PacketsReceived != 10 {
			t.Fatalf("side %d: %+v", i, st)
		}
	}
	if err := s[0].e.StartStreamOptions(s[0].conn, s[1].conn.LocalAddr().(*net.UDPAddr), PCMU,
		StreamOptions{RTCPConn: rc[0]}); err == nil {
		t.Fatal("RTCP without a remote accepted")
	}
}
