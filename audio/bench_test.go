package audio

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	zaf "github.com/zaf/g711"

	"github.com/deskphone/deskphone/audio/g711"
	"github.com/deskphone/deskphone/audio/g722"
)

// BenchmarkFrame moves one 20 ms frame each way (encode and packetise
// the microphone frame; parse a packet and decode it for the earpiece),
// without sockets:
//
//   - engine: the Engine's own path (PCMU on an 8 kHz engine; engine-G722:
//     G.722 on a 16 kHz one; engine-PCMU-16k: PCMU resampled on a 16 kHz
//     one): table G.711 or G.722's coder, MarshalTo into its
//     buffer, Unmarshal into a reused packet, the jitter buffer and the
//     mutex, as Process and the reader run it; engine-srtp the same with
//     SRTP both ways (srtp.go).
//   - core: the floor of that: table G.711 and pion's MarshalTo/Unmarshal
//     into reused buffers, no jitter buffer (core-G722: G.722's).
//   - convenience: zaf's slice API (EncodeUlaw/DecodeUlaw) and pion's
//     allocating Marshal and a new Packet per Unmarshal.
func BenchmarkFrame(b *testing.B) {
	mic := make([]int16, 160)
	var ph float64
	Sine(mic, 1000, 0.5, 8000, &ph)
	ear := make([]int16, 160)

	b.Run("engine", func(b *testing.B) { benchEngine(b, 8000, PCMU, false) })
	// engine-srtp: the same with SRTP (AES_CM_128_HMAC_SHA1_80) each way:
	// EncryptRTP and DecryptRTP into the engine's buffers.
	b.Run("engine-srtp", func(b *testing.B) { benchEngine(b, 8000, PCMU, true) })
	// Wideband, side by side: G.722 on a 16 kHz engine, and G.711 on one
	// (resampled at the codec, as a G.711 call on a wideband phone).
	b.Run("engine-G722", func(b *testing.B) { benchEngine(b, 16000, G722, false) })
	b.Run("engine-PCMU-16k", func(b *testing.B) { benchEngine(b, 16000, PCMU, false) })

	b.Run("core", func(b *testing.B) {
		benchCore(b, 0, func(p []byte) { g711.EncodeUlaw(p, mic) }, func(p []byte) { g711.DecodeUlaw(ear, p) })
		if ToneLevel(ear, 1000, 8000) < 0.2 {
			b.Fatal("no tone out")
		}
	})

	b.Run("core-G722", func(b *testing.B) {
		wmic, wear := make([]int16, 320), make([]int16, 320)
		var ph float64
		Sine(wmic, 1000, 0.5, 16000, &ph)
		enc, dec := g722.NewEncoder(), g722.NewDecoder()
		benchCore(b, 9, func(p []byte) { enc.Encode(p, wmic) }, func(p []byte) { dec.Decode(wear, p) })
		if ToneLevel(wear, 1000, 16000) < 0.2 {
			b.Fatal("no tone out")
		}
	})

	b.Run("convenience", func(b *testing.B) {
		lpcm := make([]byte, 320)
		tx := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}}
		b.ReportAllocs()
		for b.Loop() {
			for i, s := range mic {
				binary.LittleEndian.PutUint16(lpcm[2*i:], uint16(s))
			}
			tx.Payload = zaf.EncodeUlaw(lpcm)
			tx.SequenceNumber++
			tx.Timestamp += 160
			raw, err := tx.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			rx := &rtp.Packet{}
			if err := rx.Unmarshal(raw); err != nil {
				b.Fatal(err)
			}
			out := zaf.DecodeUlaw(rx.Payload)
			for i := range ear {
				ear[i] = int16(binary.LittleEndian.Uint16(out[2*i:]))
			}
		}
		if ToneLevel(ear, 1000, 8000) < 0.2 {
			b.Fatal("no tone out")
		}
	})
}

// benchCore is BenchmarkFrame's floor: encode a 20 ms payload (160
// octets), pion's MarshalTo and Unmarshal into reused buffers, decode.
func benchCore(b *testing.B, pt uint8, encode, decode func(payload []byte)) {
	payload := make([]byte, 160)
	buf := make([]byte, 1500)
	tx := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1, PayloadType: pt}, Payload: payload}
	var rx rtp.Packet
	b.ReportAllocs()
	for b.Loop() {
		encode(payload)
		tx.SequenceNumber++
		tx.Timestamp += 160
		n, err := tx.MarshalTo(buf)
		if err != nil {
			b.Fatal(err)
		}
		if err := rx.Unmarshal(buf[:n]); err != nil {
			b.Fatal(err)
		}
		decode(rx.Payload)
	}
}

// benchEngine is BenchmarkFrame's engine path on an engine at rate with
// codec: a 1 kHz tone through packet, receive and playout.
func benchEngine(b *testing.B, rate int, codec Codec, protect bool) {
	e, err := NewEngine(Config{Rate: rate})
	if err != nil {
		b.Fatal(err)
	}
	mic, ear := make([]int16, e.FrameSamples()), make([]int16, e.FrameSamples())
	var ph float64
	Sine(mic, 1000, 0.5, rate, &ph)
	e.s = stream{up: true, codec: codec, seq: 1, opts: StreamOptions{Source: SourceAny, DTMFPayloadType: 101}}
	e.txPkt.PayloadType = codec.PayloadType()
	e.coder.reset(codec)
	if protect {
		// The engine talks to itself: one key both ways.
		k, _ := testKeys(AESCM128SHA1_80)
		if e.s.srtp, err = newSRTPPair(&SRTPKeys{Profile: k.Profile, Local: k.Local, Remote: k.Local}); err != nil {
			b.Fatal(err)
		}
	}
	var rx rtp.Packet
	rx.CSRC = make([]uint32, 0, 15)
	// packet is what send puts on the wire: protected with SRTP.
	packet := func() []byte {
		e.mu.Lock()
		defer e.mu.Unlock()
		pkt := e.packet(mic)
		if protect {
			pkt, _ = e.protectRTP(pkt)
		}
		return pkt
	}
	// One packet ahead, so playout starts at the target of two frames.
	e.receive(&rx, packet(), netip.AddrPort{})
	e.receive(&rx, packet(), netip.AddrPort{}) // validates the source (RFC 3550 A.1)
	b.ReportAllocs()
	at := time.Now() // the reader stamps arrivals with its read
	for b.Loop() {
		pkt := packet()
		at = at.Add(20 * time.Millisecond)
		e.receiveAt(&rx, pkt, netip.AddrPort{}, at)
		e.mu.Lock()
		e.playout(ear)
		e.mu.Unlock()
	}
	// Amplitude 0.5: 0.25 once the resampler's history has filled (a
	// few frames in: make bench runs one).
	if st := e.Stats(); st.Concealed != 0 || st.Unauthenticated != 0 || ToneLevel(ear, 1000, rate) < 0.1 {
		b.Fatalf("the earpiece did not get the frames: level %v, %+v", ToneLevel(ear, 1000, rate), st)
	}
}

// BenchmarkProcessLoopback is a whole frame period of two engines in a call
// over 127.0.0.1: both Process calls (with their sendto) and both readers'
// receive, waited for. Dominated by the system calls and goroutine wake-ups.
func BenchmarkProcessLoopback(b *testing.B) {
	a, c := pair(b, Config{}, PCMU)
	w := newWaiter(b)
	micA, micB, earA, earB := make([]int16, 160), make([]int16, 160), make([]int16, 160), make([]int16, 160)
	var pa, pb float64
	Sine(micA, 1000, 0.5, 8000, &pa)
	Sine(micB, 600, 0.5, 8000, &pb)
	step := func() {
		a.e.Process(micA, earA)
		w.wait(c.recv, "packet at B")
		c.e.Process(micB, earB)
		w.wait(a.recv, "packet at A")
	}
	for range 5 { // past the jitter buffer's start
		step()
	}
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	if ToneLevel(earA, 600, 8000) < 0.2 || ToneLevel(earB, 1000, 8000) < 0.2 {
		b.Fatal("no tone out")
	}
}

// BenchmarkDirection splits BenchmarkFrame by direction, for one 20 ms
// PCMU frame:
//
//   - send: microphone frame -> G.711 -> RTP into the send buffer (the
//     engine's packet step: table G.711, pion's MarshalTo) against zaf's
//     slice API and pion's allocating Marshal;
//   - receive: datagram -> RTP (Unmarshal into a reused packet) -> source
//     validation -> jitter buffer -> decode or conceal -> earpiece frame
//     (the engine's receive and playout steps) against a new Packet per
//     Unmarshal and zaf's slice API;
//   - send/engine-srtp and receive/engine-srtp: the engine's steps with
//     SRTP (AES_CM_128_HMAC_SHA1_80) added: EncryptRTP, DecryptRTP.
func BenchmarkDirection(b *testing.B) {
	mic := make([]int16, 160)
	var ph float64
	Sine(mic, 1000, 0.5, 8000, &ph)
	ear := make([]int16, 160)
	newEngine := func(b *testing.B) *Engine {
		e, err := NewEngine(Config{})
		if err != nil {
			b.Fatal(err)
		}
		e.s = stream{up: true, codec: PCMU, seq: 1, opts: StreamOptions{Source: SourceAny, DTMFPayloadType: 101}}
		e.txPkt.PayloadType = 0
		return e
	}
	b.Run("send/engine", func(b *testing.B) {
		e := newEngine(b)
		b.ReportAllocs()
		for b.Loop() {
			e.mu.Lock()
			_ = e.packet(mic)
			e.mu.Unlock()
		}
	})
	b.Run("send/engine-srtp", func(b *testing.B) {
		e := newEngine(b)
		k, _ := testKeys(AESCM128SHA1_80)
		var err error
		if e.s.srtp, err = newSRTPPair(k); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			e.mu.Lock()
			if _, err := e.protectRTP(e.packet(mic)); err != nil {
				b.Fatal(err)
			}
			e.mu.Unlock()
		}
	})
	b.Run("send/convenience", func(b *testing.B) {
		lpcm := make([]byte, 320)
		tx := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}}
		b.ReportAllocs()
		for b.Loop() {
			for i, s := range mic {
				binary.LittleEndian.PutUint16(lpcm[2*i:], uint16(s))
			}
			tx.Payload = zaf.EncodeUlaw(lpcm)
			tx.SequenceNumber++
			tx.Timestamp += 160
			if _, err := tx.Marshal(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("receive/engine", func(b *testing.B) {
		e := newEngine(b)
		src := newEngine(b)
		var rx rtp.Packet
		var raw []byte
		for range 2 {
			src.mu.Lock()
			raw = src.packet(mic)
			src.mu.Unlock()
			e.receive(&rx, raw, netip.AddrPort{})
		}
		seq, ts := binary.BigEndian.Uint16(raw[2:]), binary.BigEndian.Uint32(raw[4:])
		b.ReportAllocs()
		at := time.Now() // the reader stamps arrivals with its read
		for b.Loop() {
			// The next packet: the same payload, the next header.
			seq++
			ts += 160
			binary.BigEndian.PutUint16(raw[2:], seq)
			binary.BigEndian.PutUint32(raw[4:], ts)
			at = at.Add(20 * time.Millisecond)
			e.receiveAt(&rx, raw, netip.AddrPort{}, at)
			e.mu.Lock()
			e.playout(ear)
			e.mu.Unlock()
		}
		if st := e.Stats(); st.Concealed != 0 {
			b.Fatalf("%+v", st)
		}
	})
	// receive/engine-srtp: receive/engine with SRTP; the far end's
	// packets are protected 1024 at a time with the timer stopped.
	b.Run("receive/engine-srtp", func(b *testing.B) {
		e := newEngine(b)
		src := newEngine(b)
		ke, ks := testKeys(AESCM128SHA1_80)
		var err error
		if e.s.srtp, err = newSRTPPair(ke); err != nil {
			b.Fatal(err)
		}
		if src.s.srtp, err = newSRTPPair(ks); err != nil {
			b.Fatal(err)
		}
		var rx rtp.Packet
		rx.CSRC = make([]uint32, 0, 15)
		batch := make([][]byte, 1024)
		fill := func() {
			for i := range batch {
				src.mu.Lock()
				p, err := src.protectRTP(src.packet(mic))
				src.mu.Unlock()
				if err != nil {
					b.Fatal(err)
				}
				batch[i] = append(batch[i][:0], p...)
			}
		}
		fill()
		e.receive(&rx, batch[0], netip.AddrPort{})
		e.receive(&rx, batch[1], netip.AddrPort{})
		next := 2
		b.ReportAllocs()
		at := time.Now()
		b.ResetTimer()
		for range b.N {
			if next == len(batch) {
				b.StopTimer()
				fill()
				next = 0
				b.StartTimer()
			}
			at = at.Add(20 * time.Millisecond)
			e.receiveAt(&rx, batch[next], netip.AddrPort{}, at)
			next++
			e.mu.Lock()
			e.playout(ear)
			e.mu.Unlock()
		}
		if st := e.Stats(); st.Concealed != 0 || st.Unauthenticated != 0 {
			b.Fatalf("%+v", st)
		}
	})
	b.Run("receive/convenience", func(b *testing.B) {
		tx := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
		g711.EncodeUlaw(tx.Payload, mic)
		raw, _ := tx.Marshal()
		b.ReportAllocs()
		for b.Loop() {
			rx := &rtp.Packet{}
			if err := rx.Unmarshal(raw); err != nil {
				b.Fatal(err)
			}
			out := zaf.DecodeUlaw(rx.Payload)
			for i := range ear {
				ear[i] = int16(binary.LittleEndian.Uint16(out[2*i:]))
			}
		}
	})
}
