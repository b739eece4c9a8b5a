package audio

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio/jitter"
	"github.com/deskphone/deskphone/audio/tone"
)

// Config configures an Engine. Zero fields take their defaults.
type Config struct {
	Rate     int    // samples/s: 8000 (the default; G.711's only rate)
	Ptime    int    // ms per frame: 10, 20 (default) or 30
	Locale   string // call-progress tones: "us" (default) or "uk"
	JitterMs int    // initial jitter-buffer target, ms; default 40
	// JitterMaxMs is the jitter buffer's depth, ms, fixed at start: the
	// delay never grows beyond it. Default 200.
	JitterMaxMs int
}

const maxPacket = 1500

// Engine is one phone's media path; see the package documentation. Its
// methods are safe to call from different goroutines.
type Engine struct {
	cfg   Config
	frame int // samples per frame

	// ctl serialises StartStream and StopStream.
	ctl sync.Mutex
	// stopping tells the reader goroutine to exit.
	stopping atomic.Bool
	done     chan struct{}

	// onReceive, if set (tests only), is called after each datagram the
	// reader handled.
	onReceive func()

	mu   sync.Mutex // guards everything below
	tone *tone.Generator
	jb   *jitter.Buffer
	s    stream
	st   Stats

	txPkt     rtp.Packet
	txPayload []byte
	txBuf     []byte
	rxPayload []byte  // frame taken from the jitter buffer
	last      []int16 // last frame played from the network, for concealment
	conceal   int     // consecutive concealed frames
}

type stream struct {
	up        bool
	conn      *net.UDPConn
	remote    netip.AddrPort
	codec     Codec
	seq       uint16
	ts        uint32
	first     bool
	peerSSRC  uint32
	peerKnown bool
}

// Stats are the engine's counters, cumulative over its life.
type Stats struct {
	PacketsSent     uint64
	BytesSent       uint64 // RTP payload octets
	PacketsReceived uint64 // packets of the stream's payload type
	BytesReceived   uint64 // their payload octets
	Lost            uint64 // RFC 3550 cumulative packets lost
	Late            uint64 // arrived after their playout time
	Duplicate       uint64
	Concealed       uint64 // frames played by concealment
	Ignored         uint64 // other payload types (comfort noise, events)
	Invalid         uint64 // not RTP version 2, or malformed
	SendErrors      uint64
	ReadErrors      uint64 // reads that ended a stream's reader (conn closed under it)
	// Delay is the jitter buffer's current delay: frames waiting times ptime.
	Delay time.Duration
	// Target is the jitter buffer's current target delay.
	Target time.Duration
}

// NewEngine checks cfg and allocates every buffer the engine will use.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 8000
	}
	if cfg.Rate != 8000 {
		return nil, fmt.Errorf("audio: rate %d: G.711 runs at 8000 samples/s", cfg.Rate)
	}
	if cfg.Ptime == 0 {
		cfg.Ptime = 20
	}
	if cfg.Ptime != 10 && cfg.Ptime != 20 && cfg.Ptime != 30 {
		return nil, fmt.Errorf("audio: ptime %d ms: want 10, 20 or 30", cfg.Ptime)
	}
	if cfg.Locale == "" {
		cfg.Locale = "us"
	}
	if _, err := tone.Lookup(cfg.Locale, "dial"); err != nil {
		return nil, fmt.Errorf("audio: locale %q: %w", cfg.Locale, err)
	}
	if cfg.JitterMs == 0 {
		cfg.JitterMs = 40
	}
	if cfg.JitterMaxMs == 0 {
		cfg.JitterMaxMs = max(200, cfg.JitterMs+cfg.Ptime)
	}
	if cfg.JitterMs < 0 || cfg.JitterMaxMs < cfg.JitterMs+cfg.Ptime {
		return nil, fmt.Errorf("audio: jitter buffer %d ms in %d ms: want 0 < target <= depth - ptime",
			cfg.JitterMs, cfg.JitterMaxMs)
	}
	frame := cfg.Rate * cfg.Ptime / 1000
	target := max(1, (cfg.JitterMs+cfg.Ptime-1)/cfg.Ptime)
	depth := max(target+1, (cfg.JitterMaxMs+cfg.Ptime-1)/cfg.Ptime)
	jb, err := jitter.New(jitter.Config{
		Depth:      depth,
		FrameBytes: frame,
		Target:     target,
		Window:     2000 / cfg.Ptime, // adapt down after 2 s with slack
	})
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	e := &Engine{
		cfg:       cfg,
		frame:     frame,
		tone:      tone.NewGenerator(cfg.Rate),
		jb:        jb,
		txPayload: make([]byte, frame),
		txBuf:     make([]byte, maxPacket),
		rxPayload: make([]byte, frame),
		last:      make([]int16, frame),
	}
	e.txPkt.Version = 2
	e.txPkt.Payload = e.txPayload
	return e, nil
}

// FrameSamples is the number of samples in one frame (160 at 20 ms).
func (e *Engine) FrameSamples() int { return e.frame }

// Config returns the configuration in use, defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// SetTone plays a call-progress tone of the engine's locale into the
// earpiece, mixed over any far-end audio: "dial", "ringback", "busy",
// "congestion", "waiting", or "none" (or "") to stop. Setting the tone
// already playing leaves its cadence running.
func (e *Engine) SetTone(name string) error {
	if name == "" || name == "none" {
		e.mu.Lock()
		e.tone.Stop()
		e.mu.Unlock()
		return nil
	}
	c, err := tone.Lookup(e.cfg.Locale, name)
	if err != nil {
		return fmt.Errorf("audio: %w", err)
	}
	e.mu.Lock()
	if e.tone.Name() != c.Name {
		e.tone.Set(c)
	}
	e.mu.Unlock()
	return nil
}

// Tone is the name of the tone playing, or "none".
func (e *Engine) Tone() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tone.Name()
}

// StartStream sends and receives RTP on conn: Process sends each microphone
// frame to remote, and a goroutine reads conn into the jitter buffer until
// StopStream. The SSRC and the first sequence number and timestamp are
// random; the first packet carries the marker bit. A stream already up is
// stopped first. The engine clears conn's read deadline and uses it for
// StopStream.
func (e *Engine) StartStream(conn *net.UDPConn, remote *net.UDPAddr, codec Codec) error {
	if conn == nil || remote == nil {
		return errors.New("audio: StartStream needs a connection and a remote address")
	}
	if !codec.valid() {
		return fmt.Errorf("audio: invalid codec %d", int(codec))
	}
	ap := remote.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !ap.IsValid() || ap.Port() == 0 {
		return fmt.Errorf("audio: invalid remote address %v", remote)
	}
	e.ctl.Lock()
	defer e.ctl.Unlock()
	e.stopLocked()
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("audio: start stream: %w", err)
	}

	e.mu.Lock()
	e.s = stream{
		up:     true,
		conn:   conn,
		remote: ap,
		codec:  codec,
		seq:    uint16(rand.Uint32()),
		ts:     rand.Uint32(),
		first:  true,
	}
	e.txPkt.SSRC = rand.Uint32()
	e.txPkt.PayloadType = codec.PayloadType()
	e.jb.Reset()
	clear(e.last)
	e.conceal = 0
	e.mu.Unlock()

	e.stopping.Store(false)
	e.done = make(chan struct{})
	go e.read(conn, e.done)
	return nil
}

// StopStream stops sending and receiving and returns once the reader
// goroutine has exited, leaving conn open with no read deadline. It is safe
// to call with no stream up.
func (e *Engine) StopStream() {
	e.ctl.Lock()
	defer e.ctl.Unlock()
	e.stopLocked()
}

func (e *Engine) stopLocked() {
	e.mu.Lock()
	up, conn := e.s.up, e.s.conn
	e.s.up, e.s.conn = false, nil
	e.mu.Unlock()
	if !up {
		return
	}
	e.stopping.Store(true)
	// A deadline in the past wakes a blocked read at once. Errors mean
	// the caller closed conn already: the reader has exited or will.
	_ = conn.SetReadDeadline(time.Unix(1, 0))
	<-e.done
	_ = conn.SetReadDeadline(time.Time{})
}

// read is the reader goroutine of one stream.
func (e *Engine) read(conn *net.UDPConn, done chan struct{}) {
	defer close(done)
	buf := make([]byte, maxPacket)
	var pkt rtp.Packet
	pkt.CSRC = make([]uint32, 0, 15)
	pkt.Extensions = make([]rtp.Extension, 0, 16)
	for {
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if e.stopping.Load() {
			return
		}
		if err != nil {
			// Closed by the caller, or a deadline not ours: the stream
			// can receive no more.
			e.mu.Lock()
			e.st.ReadErrors++
			e.mu.Unlock()
			return
		}
		e.receive(&pkt, buf[:n])
		if e.onReceive != nil {
			e.onReceive()
		}
	}
}

// receive handles one datagram; pkt is the caller's reused packet.
func (e *Engine) receive(pkt *rtp.Packet, b []byte) {
	if len(b) < 12 || b[0]>>6 != 2 {
		e.mu.Lock()
		e.st.Invalid++
		e.mu.Unlock()
		return
	}
	err := pkt.Unmarshal(b)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case err != nil:
		e.st.Invalid++
		return
	case !e.s.up:
		return
	case pkt.PayloadType != e.s.codec.PayloadType():
		e.st.Ignored++
		return
	}
	if !e.s.peerKnown || pkt.SSRC != e.s.peerSSRC {
		// A new source (first packet, or the far end changed): start over.
		if e.s.peerKnown {
			e.jb.Reset()
		}
		e.s.peerSSRC, e.s.peerKnown = pkt.SSRC, true
	}
	e.st.PacketsReceived++
	e.st.BytesReceived += uint64(len(pkt.Payload))
	e.jb.Put(pkt.SequenceNumber, pkt.Payload)
}

// Process is called by the audio loop once per frame period. mic is the
// frame just captured: it is encoded and sent when a stream is up. ear is
// filled with the frame to play: the far end (from the jitter buffer;
// concealment when a packet is missing; silence before the stream starts)
// mixed with the local tone. Both should be FrameSamples long: a short mic
// is padded with silence, and only len(ear) samples are written. Neither is
// kept. Process does not allocate.
func (e *Engine) Process(mic, ear []int16) {
	e.mu.Lock()
	if len(ear) > e.frame {
		clear(ear[e.frame:])
		ear = ear[:e.frame]
	}
	if e.s.up {
		e.send(mic)
		e.playout(ear)
	} else {
		clear(ear)
	}
	e.tone.Mix(ear)
	e.mu.Unlock()
}

// packet builds the next RTP packet from mic into txBuf; e.mu is held.
func (e *Engine) packet(mic []int16) []byte {
	c := e.s.codec
	n := c.encode(e.txPayload, mic)
	if n < len(e.txPayload) {
		sil := c.silence()
		for i := n; i < len(e.txPayload); i++ {
			e.txPayload[i] = sil
		}
	}
	e.txPkt.SequenceNumber = e.s.seq
	e.txPkt.Timestamp = e.s.ts
	e.txPkt.Marker = e.s.first
	e.s.seq++
	e.s.ts += uint32(e.frame)
	e.s.first = false
	m, err := e.txPkt.MarshalTo(e.txBuf)
	if err != nil { // cannot happen: txBuf holds any frame
		return nil
	}
	return e.txBuf[:m]
}

func (e *Engine) send(mic []int16) {
	b := e.packet(mic)
	if b == nil {
		e.st.SendErrors++
		return
	}
	if _, err := e.s.conn.WriteToUDPAddrPort(b, e.s.remote); err != nil {
		e.st.SendErrors++
		return
	}
	e.st.PacketsSent++
	e.st.BytesSent += uint64(len(e.txPayload))
}

// playout fills ear (at most a frame) from the jitter buffer; e.mu is held.
func (e *Engine) playout(ear []int16) {
	n, r := e.jb.Get(e.rxPayload)
	switch r {
	case jitter.Frame:
		k := e.s.codec.decode(e.last, e.rxPayload[:n])
		clear(e.last[k:])
		copy(ear, e.last)
		e.conceal = 0
	case jitter.Missing:
		// Repeat the last frame, halving it each time; silence after
		// three. Crude, but hides a single lost packet well enough.
		e.st.Concealed++
		e.conceal++
		if e.conceal > 3 {
			clear(ear)
			return
		}
		sh := e.conceal - 1
		for i := range ear {
			ear[i] = e.last[i] >> sh
		}
	default:
		clear(ear)
	}
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.st
	js := e.jb.Stats()
	s.Lost, s.Late, s.Duplicate = js.Lost, js.Late, js.Duplicate
	pt := time.Duration(e.cfg.Ptime) * time.Millisecond
	s.Delay = time.Duration(e.jb.Delay()) * pt
	s.Target = time.Duration(e.jb.Target()) * pt
	return s
}
