package audio

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio/g711"
	"github.com/deskphone/deskphone/audio/g722"
)

const deadline = 5 * time.Second

func TestNewEngine(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		frame int
		err   string
	}{
		{"defaults", Config{}, 160, ""},
		{"10 ms", Config{Ptime: 10}, 80, ""},
		{"30 ms uk", Config{Ptime: 30, Locale: "uk"}, 240, ""},
		{"explicit", Config{Rate: 8000, Ptime: 20, Locale: "US", JitterMs: 60, JitterMaxMs: 100}, 160, ""},
		{"wideband", Config{Rate: 16000}, 320, ""},
		{"rate", Config{Rate: 44100}, 0, "rate"},
		{"ptime", Config{Ptime: 25}, 0, "ptime"},
		{"locale", Config{Locale: "xx"}, 0, "locale"},
		{"negative jitter", Config{JitterMs: -1}, 0, "jitter"},
		{"jitter deeper than max", Config{JitterMs: 100, JitterMaxMs: 100}, 0, "jitter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEngine(tt.cfg)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), "audio: ") || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want audio: ...%s...", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.FrameSamples() != tt.frame {
				t.Fatalf("FrameSamples = %d, want %d", e.FrameSamples(), tt.frame)
			}
		})
	}
}

func TestToneIntoEar(t *testing.T) {
	tests := []struct {
		locale, tone string
		freqs        []float64
		absent       float64
	}{
		{"us", "dial", []float64{350, 440}, 450},
		{"uk", "dial", []float64{350, 450}, 440},
		{"us", "ringback", []float64{440, 480}, 400},
		{"uk", "busy", []float64{400}, 480},
		{"eu", "dial", []float64{425}, 350},
	}
	for _, tt := range tests {
		for _, rate := range []int{8000, 16000} { // narrowband and wideband engines
			t.Run(tt.locale+"/"+tt.tone+"/"+strconv.Itoa(rate), func(t *testing.T) {
				e, err := NewEngine(Config{Locale: tt.locale, Rate: rate})
				if err != nil {
					t.Fatal(err)
				}
				if err := e.SetTone(tt.tone); err != nil {
					t.Fatal(err)
				}
				// 100 ms of ear audio, in frames, to resolve 10 Hz.
				n := e.FrameSamples()
				ear := make([]int16, 5*n)
				mic := make([]int16, n)
				for i := 0; i < len(ear); i += n {
					e.Process(mic, ear[i:i+n])
				}
				for _, f := range tt.freqs {
					if l := ToneLevel(ear, f, rate); l < 1e-3 {
						t.Errorf("level at %v Hz = %v", f, l)
					}
				}
				if l := ToneLevel(ear, tt.absent, rate); l > 1e-4 {
					t.Errorf("level at %v Hz = %v, want none", tt.absent, l)
				}
				if e.Tone() != tt.tone {
					t.Errorf("Tone() = %q", e.Tone())
				}
				if err := e.SetTone("none"); err != nil {
					t.Fatal(err)
				}
				e.Process(mic, ear[:n])
				for _, v := range ear[:n] {
					if v != 0 {
						t.Fatal("tone none: ear not silent")
					}
				}
			})
		}
	}
	e, _ := NewEngine(Config{})
	if err := e.SetTone("howler"); err == nil || !strings.HasPrefix(err.Error(), "audio: ") {
		t.Fatalf("SetTone(howler) = %v", err)
	}
}

// waiter waits for events on a channel with a deadline, without allocating.
type waiter struct {
	t     testing.TB
	timer *time.Timer
}

func newWaiter(t testing.TB) *waiter {
	tm := time.NewTimer(time.Hour)
	t.Cleanup(func() { tm.Stop() })
	return &waiter{t: t, timer: tm}
}

func (w *waiter) wait(ch <-chan struct{}, what string) {
	w.timer.Reset(deadline)
	select {
	case <-ch:
	case <-w.timer.C:
		w.t.Fatalf("no %s within %v", what, deadline)
	}
}

func listen(t testing.TB) *net.UDPConn {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// notify makes e signal ch after every datagram its reader handles.
func notify(e *Engine) chan struct{} {
	ch := make(chan struct{}, 4096)
	e.onReceive = func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return ch
}

type side struct {
	e    *Engine
	conn *net.UDPConn
	recv chan struct{}
}

// pair returns two engines streaming to each other over 127.0.0.1.
func pair(t testing.TB, cfg Config, codec Codec) (a, b side) { return pairAt(t, cfg, cfg, codec) }

// pairAt is pair with each side's own configuration.
func pairAt(t testing.TB, cfgA, cfgB Config, codec Codec) (a, b side) {
	for i, s := range []*side{&a, &b} {
		e, err := NewEngine([]Config{cfgA, cfgB}[i])
		if err != nil {
			t.Fatal(err)
		}
		*s = side{e: e, conn: listen(t), recv: notify(e)}
	}
	if err := a.e.StartStream(a.conn, b.conn.LocalAddr().(*net.UDPAddr), codec); err != nil {
		t.Fatal(err)
	}
	if err := b.e.StartStream(b.conn, a.conn.LocalAddr().(*net.UDPAddr), codec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.e.StopStream)
	t.Cleanup(b.e.StopStream)
	return a, b
}

// TestEndToEnd: a 1 kHz sine into A's microphone comes out of B's earpiece,
// and 600 Hz the other way, for both codecs and all packet times; with no
// network jitter the jitter buffer adapts down to one frame.
func TestEndToEnd(t *testing.T) {
	for _, codec := range []Codec{PCMU, PCMA} {
		for _, ptime := range []int{10, 20, 30} {
			t.Run(codec.String()+"/"+time.Duration(ptime*int(time.Millisecond)).String(), func(t *testing.T) {
				a, b := pair(t, Config{Ptime: ptime}, codec)
				w := newWaiter(t)
				n := a.e.FrameSamples()
				micA, micB := make([]int16, n), make([]int16, n)
				earA, earB := make([]int16, n), make([]int16, n)
				var pa, pb float64
				frames := 7000 / ptime // 7 s: past three adaptation windows
				for i := range frames {
					Sine(micA, 1000, 0.5, 8000, &pa)
					Sine(micB, 600, 0.5, 8000, &pb)
					// Waiting for each packet before the far end's next
					// Process makes the timing deterministic: B always has
					// A's packet of this period, A has B's of the last.
					a.e.Process(micA, earA)
					w.wait(b.recv, "packet at B")
					b.e.Process(micB, earB)
					w.wait(a.recv, "packet at A")
					if i < 5 {
						continue
					}
					for _, c := range []struct {
						name      string
						ear       []int16
						want, not float64
					}{{"B", earB, 1000, 600}, {"A", earA, 600, 1000}} {
						if l := ToneLevel(c.ear, c.want, 8000); l < 0.2 {
							t.Fatalf("frame %d: %s hears %v Hz at %v, want about 0.25", i, c.name, c.want, l)
						}
						if l := ToneLevel(c.ear, c.not, 8000); l > 0.01 {
							t.Fatalf("frame %d: %s hears %v Hz at %v", i, c.name, c.not, l)
						}
					}
				}
				for _, s := range []side{a, b} {
					st := s.e.Stats()
					if st.PacketsSent != uint64(frames) || st.PacketsReceived != uint64(frames) ||
						st.BytesSent != uint64(frames*n) || st.BytesReceived != uint64(frames*n) {
						t.Errorf("counts: %+v", st)
					}
					if st.Lost != 0 || st.Late != 0 || st.Concealed != 0 || st.Invalid != 0 || st.SendErrors != 0 {
						t.Errorf("errors: %+v", st)
					}
					if want := time.Duration(ptime) * time.Millisecond; st.Target != want || st.Delay > want {
						t.Errorf("jitter buffer delay %v target %v, want %v", st.Delay, st.Target, want)
					}
				}
			})
		}
	}
}

func TestToneMixedOverFarEnd(t *testing.T) {
	a, b := pair(t, Config{}, PCMU)
	w := newWaiter(t)
	if err := a.e.SetTone("ringback"); err != nil {
		t.Fatal(err)
	}
	mic, silent, ear := make([]int16, 160), make([]int16, 160), make([]int16, 160)
	var ph float64
	for i := range 20 {
		Sine(mic, 1000, 0.5, 8000, &ph)
		a.e.Process(silent, ear)
		b.e.Process(mic, make([]int16, 160))
		w.wait(a.recv, "packet at A")
		w.wait(b.recv, "packet at B")
		if i > 5 && (ToneLevel(ear, 1000, 8000) < 0.2 || ToneLevel(ear, 440, 8000) < 1e-3) {
			t.Fatalf("frame %d: want far end and ringback: 1000 Hz %v, 440 Hz %v",
				i, ToneLevel(ear, 1000, 8000), ToneLevel(ear, 440, 8000))
		}
	}
}

// TestWire checks the packets an engine sends, bit for bit: G.722's on a
// 16 kHz engine too, payload type 9, 160 octets a 20 ms frame (our
// encoder's, fresh at each stream's start) and the timestamp advancing 160
// a packet, the 8000 Hz clock of RFC 3551 4.5.2 although it samples at 16
// kHz.
func TestWire(t *testing.T) {
	for _, codec := range []Codec{PCMU, PCMA, G722} {
		t.Run(codec.String(), func(t *testing.T) {
			rate := codec.Rate()
			e, err := NewEngine(Config{Rate: rate})
			if err != nil {
				t.Fatal(err)
			}
			conn, sink := listen(t), listen(t)
			var ssrcs []uint32
			for round := range 2 {
				if err := e.StartStream(conn, sink.LocalAddr().(*net.UDPAddr), codec); err != nil {
					t.Fatal(err)
				}
				mic, ear := make([]int16, e.FrameSamples()), make([]int16, e.FrameSamples())
				var ph float64
				var first rtp.Packet
				buf := make([]byte, 1500)
				enc := g722.NewEncoder()
				for i := range 5 {
					Sine(mic, 700, 0.8, rate, &ph)
					e.Process(mic, ear)
					sink.SetReadDeadline(time.Now().Add(deadline))
					n, _, err := sink.ReadFromUDP(buf)
					if err != nil {
						t.Fatal(err)
					}
					var p rtp.Packet
					if err := p.Unmarshal(buf[:n]); err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						first = p
						ssrcs = append(ssrcs, p.SSRC)
					}
					want := make([]byte, 160)
					switch codec {
					case PCMU:
						g711.EncodeUlaw(want, mic)
					case PCMA:
						g711.EncodeAlaw(want, mic)
					default:
						enc.Encode(want, mic)
					}
					if p.Version != 2 || p.PayloadType != codec.PayloadType() || p.Marker != (i == 0) ||
						p.SSRC != first.SSRC || p.SequenceNumber != first.SequenceNumber+uint16(i) ||
						p.Timestamp != first.Timestamp+uint32(160*i) || string(p.Payload) != string(want) ||
						len(p.CSRC) != 0 || p.Extension || p.Padding {
						t.Fatalf("round %d packet %d: %+v", round, i, p.Header)
					}
				}
				e.StopStream()
			}
			if ssrcs[0] == ssrcs[1] {
				t.Fatalf("same SSRC %#x for two streams", ssrcs[0])
			}
		})
	}
}

// packetBytes marshals one RTP packet for the receive-side tests.
func packetBytes(t testing.TB, pt uint8, seq uint16, ssrc uint32, payload []byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq,
		Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReceive sends crafted packets to an engine and checks what its
// earpiece plays and what it counts.
func TestReceive(t *testing.T) {
	e, err := NewEngine(Config{JitterMs: 20})
	if err != nil {
		t.Fatal(err)
	}
	recv := notify(e)
	conn, peer := listen(t), listen(t)
	if err := e.StartStream(conn, peer.LocalAddr().(*net.UDPAddr), PCMU); err != nil {
		t.Fatal(err)
	}
	defer e.StopStream()
	w := newWaiter(t)
	send := func(b []byte) {
		t.Helper()
		if _, err := peer.WriteToUDP(b, conn.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		w.wait(recv, "datagram handled")
	}
	payload := func(v int16) []byte {
		p := make([]byte, 160)
		for i := range p {
			p[i] = g711.Ulaw(v)
		}
		return p
	}
	mic, ear := make([]int16, 160), make([]int16, 160)
	expect := func(step string, v int16) {
		t.Helper()
		e.Process(mic, ear)
		for i, s := range ear {
			if s != v {
				t.Fatalf("%s: ear[%d] = %d, want %d", step, i, s, v)
			}
		}
	}
	a, b := g711.UlawSample(g711.Ulaw(1000)), g711.UlawSample(g711.Ulaw(-3000))
	expect("before any packet", 0)
	// Probation (RFC 3550 A.1): the stream's first source plays at once
	// (waiting for the second packet would add a frame of delay) and
	// counts once the next packet validates it.
	send(packetBytes(t, 0, 100, 7, payload(1000)))
	if st := e.Stats(); st.PacketsReceived != 0 || st.Probation != 1 {
		t.Fatalf("source on probation: %+v", st)
	}
	expect("packet 100, source on probation", a)
	send(packetBytes(t, 0, 101, 7, payload(-3000))) // valid: 100 and 101 counted
	send(packetBytes(t, 8, 102, 7, payload(1000)))  // wrong payload type: ignored
	send(packetBytes(t, 96, 102, 7, []byte{40}))    // unknown payload type: ignored
	send([]byte{0x80, 0, 1})                        // too short
	send(append([]byte{0x40}, make([]byte, 20)...)) // RTP version 1
	expect("packet 101", b)
	// 102 lost: concealed from the history (a constant repeats, fading
	// after 10 ms).
	e.Process(mic, ear)
	if ear[0] != b || ear[159] == 0 || ear[159] < b {
		t.Fatalf("102 lost: concealed %d .. %d", ear[0], ear[159])
	}
	send(packetBytes(t, 0, 103, 7, payload(1000)))
	e.Process(mic, ear)
	if ear[159] != a {
		t.Fatalf("packet 103 after the cross-fade: %d", ear[159])
	}
	// Another SSRC from the same address while SSRC 7 is alive: it plays
	// nothing (the source lock, source.go; its take-over after the old
	// SSRC falls silent is TestSourceLock's).
	send(packetBytes(t, 0, 9000, 99, payload(-3000)))
	send(packetBytes(t, 0, 9001, 99, payload(-3000)))
	e.Process(mic, ear)
	if ear[159] == b {
		t.Fatal("a second SSRC took over while the first was alive")
	}
	st := e.Stats()
	// Lost: 102 never came.
	want := Stats{PacketsReceived: 3, BytesReceived: 480, Concealed: 2, Ignored: 2, Invalid: 2, Lost: 1,
		Probation: 1, Foreign: 2}
	st.Delay, st.Target, st.PacketsSent, st.BytesSent, st.Jitter = 0, 0, 0, 0, 0
	if st != want {
		t.Fatalf("stats\n got %+v\nwant %+v", st, want)
	}
}

// TestProbationPlaysAtOnce: the stream's first source plays from its
// first packet, before a second validates it (RFC 3550 A.1), so the call
// starts at the jitter buffer's smallest delay; a packet of another SSRC
// before then replaces what the first put in the buffer.
func TestProbationPlaysAtOnce(t *testing.T) {
	e, err := NewEngine(Config{JitterMs: 20})
	if err != nil {
		t.Fatal(err)
	}
	e.s = stream{up: true, codec: PCMU, opts: StreamOptions{Source: SourceAny, DTMFPayloadType: 101}} // receive and play out only
	var pkt rtp.Packet
	ear := make([]int16, e.FrameSamples())
	payload := func(v int16) []byte { return bytes.Repeat([]byte{g711.Ulaw(v)}, 160) }
	play := func(step string, want int16) {
		t.Helper()
		e.mu.Lock()
		e.playout(ear)
		e.mu.Unlock()
		if ear[0] != g711.UlawSample(g711.Ulaw(want)) || ear[159] != ear[0] {
			t.Fatalf("%s: ear %d .. %d, want %d", step, ear[0], ear[159], want)
		}
	}
	e.receive(&pkt, packetBytes(t, 0, 499, 5, payload(5000)), netip.AddrPort{}) // a stray
	e.receive(&pkt, packetBytes(t, 0, 500, 7, payload(-3000)), netip.AddrPort{})
	play("first packet of SSRC 7, on probation", -3000)
	e.receive(&pkt, packetBytes(t, 0, 501, 7, payload(1000)), netip.AddrPort{}) // validates 7
	play("second packet", 1000)
	if st := e.Stats(); st.PacketsReceived != 2 || st.Probation != 2 || st.Delay != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStopStream(t *testing.T) {
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.StopStream() // none up: no effect
	conn, peer := listen(t), listen(t)
	if err := e.StartStream(conn, peer.LocalAddr().(*net.UDPAddr), PCMA); err != nil {
		t.Fatal(err)
	}
	mic, ear := make([]int16, 160), make([]int16, 160)
	e.Process(mic, ear)
	e.StopStream()
	e.StopStream()
	e.Process(mic, ear)
	if st := e.Stats(); st.PacketsSent != 1 {
		t.Fatalf("sent %d packets, want 1 (none after StopStream)", st.PacketsSent)
	}
	// The reader has exited: a datagram to conn is the caller's to read,
	// and conn has no deadline left (the read below sets its own).
	if _, err := peer.WriteToUDP([]byte("hello"), conn.LocalAddr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(deadline))
	buf := make([]byte, 100)
	n, _, err := conn.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read after StopStream: %q, %v", buf[:n], err)
	}

	// A caller that closes conn first: StopStream still returns.
	if err := e.StartStream(conn, peer.LocalAddr().(*net.UDPAddr), PCMA); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	done := make(chan struct{})
	go func() { e.StopStream(); close(done) }()
	select {
	case <-done:
	case <-time.After(deadline):
		t.Fatal("StopStream hangs after the conn was closed")
	}
}

func TestStartStreamErrors(t *testing.T) {
	e, _ := NewEngine(Config{})
	conn := listen(t)
	addr := conn.LocalAddr().(*net.UDPAddr)
	tests := []struct {
		name   string
		conn   *net.UDPConn
		remote *net.UDPAddr
		codec  Codec
	}{
		{"nil conn", nil, addr, PCMU},
		{"nil remote", conn, nil, PCMU},
		{"bad codec", conn, addr, 4},
		{"port 0", conn, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, PCMU},
	}
	for _, tt := range tests {
		if err := e.StartStream(tt.conn, tt.remote, tt.codec); err == nil || !strings.HasPrefix(err.Error(), "audio: ") {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

// twoWay returns step, one 20 ms frame each way between a and b (a 1 kHz
// sine from A, 600 Hz from B, each packet waited for at the other end), and
// B's earpiece buffer, which step fills.
func twoWay(t *testing.T, a, b side) (step func(), earB []int16) {
	w := newWaiter(t)
	micA, micB := make([]int16, 160), make([]int16, 160)
	earA := make([]int16, 160)
	earB = make([]int16, 160)
	var pa, pb float64
	return func() {
		Sine(micA, 1000, 0.5, 8000, &pa)
		Sine(micB, 600, 0.5, 8000, &pb)
		a.e.Process(micA, earA)
		if !b.e.cfg.PollReceive { // polled: B's Process reads A's packet itself
			w.wait(b.recv, "packet at B")
		}
		b.e.Process(micB, earB)
		if !a.e.cfg.PollReceive {
			w.wait(a.recv, "packet at A")
		}
	}, earB
}

// TestNoAllocsStream: Process with a stream up in both directions, the
// readers' work included (AllocsPerRun counts every goroutine's
// allocations), allocates nothing.
func TestNoAllocsStream(t *testing.T) {
	a, b := pair(t, Config{}, PCMU)
	step, earB := twoWay(t, a, b)
	for range 20 {
		step()
	}
	if n := testing.AllocsPerRun(500, step); n != 0 {
		t.Fatalf("allocs per frame = %v", n)
	}
	if st := b.e.Stats(); st.PacketsReceived != 521 || ToneLevel(earB, 1000, 8000) < 0.2 {
		t.Fatalf("B received %d, hears 1000 Hz at %v", st.PacketsReceived, ToneLevel(earB, 1000, 8000))
	}
}

// TestNoAllocsReceivePath measures the receive path alone, deterministically.
func TestNoAllocsReceivePath(t *testing.T) {
	e, _ := NewEngine(Config{})
	conn, sink := listen(t), listen(t)
	if err := e.StartStream(conn, sink.LocalAddr().(*net.UDPAddr), PCMA); err != nil {
		t.Fatal(err)
	}
	defer e.StopStream()
	if err := e.SetTone("waiting"); err != nil {
		t.Fatal(err)
	}
	pkt := packetBytes(t, 8, 0, 1, make([]byte, 160))
	var rx rtp.Packet
	rx.CSRC = make([]uint32, 0, 15)
	mic, ear := make([]int16, 160), make([]int16, 160)
	var seq uint16
	if n := testing.AllocsPerRun(1000, func() {
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
		seq++
		e.receive(&rx, pkt, sink.LocalAddr().(*net.UDPAddr).AddrPort())
		e.Process(mic, ear)
		_ = e.Stats()
	}); n != 0 {
		t.Fatalf("allocs per frame = %v", n)
	}
	if st := e.Stats(); st.PacketsReceived != 1001 || st.PacketsSent != 1001 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCallNoGC runs 60 s worth of frames (3000 at 20 ms) of a call between
// two engines over loopback and checks that no GC cycle ran and that the
// whole process allocated far less than once per frame. (Not exactly zero:
// the runtime now and then allocates a sudog for a goroutine blocking on a
// channel or a contended mutex, as this test's waiting does; the memory
// profile shows no allocation under Process or the reader. AllocsPerRun
// above, an average per frame, is 0.)
func TestCallNoGC(t *testing.T) {
	a, b := pair(t, Config{}, PCMA)
	step, _ := twoWay(t, a, b)
	for range 20 {
		step()
	}
	if err := a.e.SetTone("waiting"); err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range 3000 {
		step()
	}
	runtime.ReadMemStats(&m1)
	if m1.Mallocs-m0.Mallocs > 30 || m1.NumGC != m0.NumGC {
		t.Fatalf("during the call: %d allocations, %d GC cycles", m1.Mallocs-m0.Mallocs, m1.NumGC-m0.NumGC)
	}
	if st := a.e.Stats(); st.PacketsReceived != 3020 || st.Concealed != 0 || st.Lost != 0 {
		t.Fatalf("A: %+v", st)
	}
}
