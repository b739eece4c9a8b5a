package audio

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio/dtmf"
	"github.com/deskphone/deskphone/audio/jitter"
	"github.com/deskphone/deskphone/audio/plc"
	"github.com/deskphone/deskphone/audio/tone"
)

// Config configures an Engine. Zero fields take their defaults.
type Config struct {
	// Rate is the rate of the frames Process takes and gives, samples/s:
	// 8000 (the default) or 16000 (wideband, for G.722). A stream whose
	// codec runs at the other rate is resampled at the codec (a G.711
	// call on a 16 kHz device, say); at 8000 a G.711 stream is the
	// narrowband path byte for byte.
	Rate   int
	Ptime  int    // ms per frame: 10, 20 (default) or 30
	Locale string // call-progress tones: "us" (default) or "uk"
	// JitterMs is the jitter buffer's initial target, ms; default one
	// frame (Ptime), the smallest delay: it grows with each packet that
	// comes too late and comes back down after 2 s with slack.
	JitterMs int
	// JitterMaxMs is the jitter buffer's depth, ms, fixed at start: the
	// delay never grows beyond it. Default 200.
	JitterMaxMs int
	// Source is the default source check of StartStream (StreamOptions
	// can override it): SourceIP, the zero value, accepts media from the
	// SDP address's IP with any port, which works behind NATs such as
	// QEMU's user network.
	Source SourceMatch
	// InbandDTMF runs a Goertzel detector on the far end's audio of every
	// stream and reports the digits it hears through ReadDigit, for far
	// ends that send no RFC 4733 events (StreamOptions.InbandDTMF does it
	// for one stream).
	InbandDTMF bool
	// PollReceive has Process read the stream's sockets itself, without
	// blocking, before it plays out (Linux: recvmsg with MSG_DONTWAIT, the
	// kernel's receive timestamps for the jitter): no reader goroutine and
	// no wake-up per packet, the whole frame's work in one wake-up of the
	// audio loop (DESIGN.md, "Wake-ups"). The audio loop must then call
	// Process (or Receive) every frame period while a stream is up, as
	// the firmware's does while Active. Without it, or on other systems, a
	// reader goroutine per socket receives.
	PollReceive bool
}

// StreamOptions are the per-stream settings of StartStreamOptions, from the
// SDP.
type StreamOptions struct {
	// Source says which datagrams are media (see SourceMatch).
	Source SourceMatch
	// DTMFPayloadType is the payload type of RFC 4733 telephone-event
	// (a=rtpmap:<pt> telephone-event/8000); 0 means 101.
	DTMFPayloadType uint8
	// RTCP sends sender and receiver reports every RTCPInterval (default
	// 5 s, counted in frames: the codec is the clock) to RTCPRemote
	// through RTCPConn, and reads reports from RTCPConn. With RTCPMux
	// (RFC 5761) reports travel on the RTP connection and address
	// instead. With neither, no RTCP is sent; reports arriving on the RTP
	// connection are read all the same.
	RTCPConn     *net.UDPConn
	RTCPRemote   *net.UDPAddr
	RTCPMux      bool
	RTCPInterval time.Duration
	// CNAME is the RTCP canonical name; default "deskphone".
	CNAME string
	// InbandDTMF listens for DTMF tones in the far end's audio on this
	// stream (as Config.InbandDTMF): the fallback for a far end that did
	// not offer telephone-event.
	InbandDTMF bool
	// SRTP, if set, protects the stream (RFC 3711, srtp.go): every RTP
	// and RTCP packet sent is encrypted and tagged with SRTP.Local, and
	// only packets SRTP.Remote authenticates are played or counted (the
	// rest count in Stats.Unauthenticated). nil: RTP in the clear.
	SRTP *SRTPKeys
}

const maxPacket = 1500

// Engine is one phone's media path; see the package documentation. Its
// methods are safe to call from different goroutines.
type Engine struct {
	cfg   Config
	frame int // samples per frame at cfg.Rate
	ticks int // RTP timestamp units (and payload octets) per frame

	// muted replaces the microphone with silence (SetMute).
	muted atomic.Bool

	// ctl serialises StartStream and StopStream.
	ctl sync.Mutex
	// stopping tells the reader goroutine to exit.
	stopping atomic.Bool
	done     chan struct{}
	done2    chan struct{} // the RTCP connection's reader, if any
	// polls are the pollers of the last stream's sockets (RTP, and RTCP
	// on a socket of its own), kept under ctl: a stream started again on
	// the same sockets (a hold and its resume) reuses them, their buffers
	// and the sockets' epoll registrations (internal/quiet), allocating
	// nothing. They keep the last call's sockets referenced (closed by
	// then) until the next call's stream replaces them.
	polls [2]*poller

	// onReceive, if set (tests only), is called after each datagram the
	// reader handled (with PollReceive: inside Process, e.mu held).
	onReceive func()

	// activity is signalled when the engine starts needing the audio
	// loop (Activity); digitReady when a digit arrives (DigitReady).
	activity   chan struct{}
	digitReady chan struct{}

	mu   sync.Mutex // guards everything below
	tone *tone.Generator
	jb   *jitter.Buffer
	s    stream
	st   Stats

	txPkt     rtp.Packet
	rxPkt     rtp.Packet // PollReceive's reused packet
	txPayload []byte
	txBuf     []byte
	rxPayload []byte  // frame taken from the jitter buffer
	earBuf    []int16 // one frame for the earpiece
	coder     coder   // the stream's codec at cfg.Rate
	plc       *plc.Concealer
	det       *dtmf.Detector

	// Receive side (RFC 3550 A.1): the locked source and a candidate on
	// probation, whose last packet is held until it is validated.
	// heldPlayed: the held packet is already in the jitter buffer (the
	// stream's first source plays while on probation).
	// srcAddr and srcAt are the locked source's transport address and
	// the arrival of its last valid packet; candAddr the candidate's
	// (source.go, "The source lock").
	src, cand   rxSource
	srcAddr     netip.AddrPort
	srcAt       time.Time
	candAddr    netip.AddrPort
	locked      bool
	candOn      bool
	held        []byte
	heldN       int
	heldSeq     uint16
	heldTS      uint32
	heldMarker  bool
	heldOK      bool
	heldPlayed  bool
	lostBefore  int64 // packets lost by earlier sources
	epoch       time.Time
	rxEventTS   uint32
	rxEventOn   bool
	rxEventDone bool

	digits   [32]byte // received digits, a ring
	dHead    int
	dLen     int
	inbandFn func(byte)

	// DTMF being sent (RFC 4733 2.5).
	txq      [32]txDigit
	qHead    int
	qLen     int
	ev       txDigit
	evOn     bool
	evTS     uint32
	evFrames int
	evEnds   int
	evGap    int
	evPkt    rtp.Packet
	evBuf    [dtmf.Size]byte

	// RFC 3389 comfort noise.
	cnOn   bool
	cnAmp  int32
	cnSeed uint32

	// RTCP.
	rtcpBuf   []byte
	rtcpEvery int // frames between reports; 0: none
	rtcpLeft  int
	lastSR    uint32    // middle 32 bits of the far end's last SR
	lastSRAt  time.Time // when it came
	sentAtRR  uint64    // PacketsSent at the last report

	// SRTP (srtp.go): the protected packet being sent, the clear packet
	// received, and the same for RTCP; sized once, reused.
	srtpOut, srtpIn   []byte
	srtcpOut, srtcpIn []byte
	srtpTxHdr         rtp.Header
}

type txDigit struct {
	event  uint8
	frames int
}

type stream struct {
	up       bool
	conn     *net.UDPConn
	remote   netip.AddrPort
	codec    Codec
	seq      uint16
	ts       uint32
	first    bool
	opts     StreamOptions
	rtcpConn *net.UDPConn
	rtcpTo   netip.AddrPort
	// With PollReceive, the sockets' pollers (rtcpRx nil with RTCP on
	// conn or none); polled says no reader goroutine runs; rxDead that
	// a read failed (the caller closed a socket under the stream).
	rx, rtcpRx *poller
	polled     bool
	rxDead     bool
	rtcpSkip   int       // frames until the RTCP socket is read again (drain)
	rawTx      bool      // send through rx.sendTo
	rtcpTx     *poller   // RTCP's raw send (rx with RTCP on conn, else rtcpRx); nil: through Go's net
	srtp       *srtpPair // nil: RTP in the clear
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
	Rejected        uint64 // datagrams from an address the stream does not accept
	Probation       uint64 // packets of a source not (yet) validated (RFC 3550 A.1)
	// Foreign counts packets from another source (transport address or
	// SSRC) than the locked one while that one is alive: a stranger, or
	// the far end's stream moving (source.go, "The source lock").
	Foreign uint64
	// Unauthenticated counts SRTP and SRTCP packets that failed their
	// authentication or replay check (StreamOptions.SRTP): dropped.
	Unauthenticated uint64
	SourceChanges   uint64 // validated changes of the far end's SSRC
	Partial         uint64 // frames played with part of their samples missing
	Silent          uint64 // of Concealed, frames past 60 ms of loss (comfort silence)
	ComfortNoise    uint64 // frames of RFC 3389 comfort noise played
	DigitsReceived  uint64 // RFC 4733 events and in-band digits
	DigitsSent      uint64
	RTCPSent        uint64
	RTCPReceived    uint64
	// Jitter is RFC 3550's interarrival jitter of the far end's packets.
	Jitter time.Duration
	// FarLost, FarFraction, FarJitter and RTT come from the far end's last
	// report about our stream: its cumulative loss, fraction lost (in
	// 1/256), jitter, and the round trip (RFC 3550 6.4.1); 0 until one
	// came.
	FarLost     int64
	FarFraction uint8
	FarJitter   time.Duration
	RTT         time.Duration
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
	if cfg.Rate != 8000 && cfg.Rate != 16000 {
		return nil, fmt.Errorf("audio: rate %d: want 8000 or 16000 samples/s", cfg.Rate)
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
		cfg.JitterMs = cfg.Ptime
	}
	if cfg.JitterMaxMs == 0 {
		cfg.JitterMaxMs = max(200, cfg.JitterMs+cfg.Ptime)
	}
	if cfg.JitterMs < 0 || cfg.JitterMaxMs < cfg.JitterMs+cfg.Ptime {
		return nil, fmt.Errorf("audio: jitter buffer %d ms in %d ms: want 0 < target <= depth - ptime",
			cfg.JitterMs, cfg.JitterMaxMs)
	}
	frame := cfg.Rate * cfg.Ptime / 1000
	ticks := clockRate * cfg.Ptime / 1000
	target := max(1, (cfg.JitterMs+cfg.Ptime-1)/cfg.Ptime)
	depth := max(target+1, (cfg.JitterMaxMs+cfg.Ptime-1)/cfg.Ptime)
	jb, err := jitter.New(jitter.Config{
		Depth:      depth,
		FrameBytes: ticks, // octets a frame, as many as its timestamp units
		Target:     target,
		Fill:       0xff,             // mu-law silence; StartStream sets the codec's
		Window:     2000 / cfg.Ptime, // adapt down after 2 s with slack
	})
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	e := &Engine{
		cfg:        cfg,
		frame:      frame,
		ticks:      ticks,
		tone:       tone.NewGenerator(cfg.Rate),
		jb:         jb,
		txPayload:  make([]byte, ticks),
		txBuf:      make([]byte, maxPacket),
		rxPayload:  make([]byte, ticks),
		earBuf:     make([]int16, frame),
		coder:      newCoder(cfg.Rate, cfg.Ptime),
		plc:        plc.NewRate(cfg.Rate),
		held:       make([]byte, maxPacket),
		rtcpBuf:    make([]byte, 512),
		srtpOut:    make([]byte, 0, maxPacket+srtpSlack),
		srtpIn:     make([]byte, 0, maxPacket+srtpSlack),
		srtcpOut:   make([]byte, 0, 512+srtpSlack),
		srtcpIn:    make([]byte, 0, maxPacket+srtpSlack),
		epoch:      time.Now(),
		cnSeed:     0x9e3779b9,
		activity:   make(chan struct{}, 1),
		digitReady: make(chan struct{}, 1),
	}
	e.rxPkt.CSRC = make([]uint32, 0, 15)
	e.rxPkt.Extensions = make([]rtp.Extension, 0, 16)
	e.srtpTxHdr.CSRC = make([]uint32, 0, 15)
	e.det = dtmf.NewDetectorRate(cfg.Rate) // used while Config or StreamOptions asks
	e.inbandFn = e.pushDigit
	e.txPkt.Version = 2
	e.txPkt.Payload = e.txPayload
	e.evPkt.Version = 2
	e.evPkt.Payload = e.evBuf[:]
	return e, nil
}

// FrameSamples is the number of samples in one frame at Config.Rate (160
// at 20 ms and 8000 samples/s, 320 at 16000).
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
	e.signal()
	return nil
}

// Active reports whether the engine needs the audio loop: a stream is up
// or a tone is playing. An audio loop whose codec can stop stops it while
// no engine is active and waits on Activity (DESIGN.md, "Wake-ups").
func (e *Engine) Active() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.s.up || e.tone.Active()
}

// Activity is signalled (it holds at most one signal) when the engine may
// have become Active: a tone set, a stream started. A loop waiting for
// work checks Active after taking the signal, and before waiting.
func (e *Engine) Activity() <-chan struct{} { return e.activity }

func (e *Engine) signal() {
	select {
	case e.activity <- struct{}{}:
	default:
	}
}

// Tone is the name of the tone playing, or "none".
func (e *Engine) Tone() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tone.Name()
}

// StartStream sends and receives RTP on conn: Process sends each microphone
// frame to remote, and a goroutine reads conn into the jitter buffer until
// StopStream (with Config.PollReceive, Process reads conn itself). The SSRC and the first sequence number and timestamp are
// random; the first packet carries the marker bit. A stream already up is
// stopped first. The engine clears conn's read deadline and uses it for
// StopStream. Media is accepted as Config.Source says; telephone-events
// with payload type 101; no RTCP is sent (see StartStreamOptions).
func (e *Engine) StartStream(conn *net.UDPConn, remote *net.UDPAddr, codec Codec) error {
	return e.StartStreamOptions(conn, remote, codec, StreamOptions{Source: e.cfg.Source})
}

// StartStreamOptions is StartStream with the stream's options.
func (e *Engine) StartStreamOptions(conn *net.UDPConn, remote *net.UDPAddr, codec Codec, opts StreamOptions) error {
	if conn == nil || remote == nil {
		return errors.New("audio: StartStream needs a connection and a remote address")
	}
	if !codec.valid() {
		return fmt.Errorf("audio: invalid codec %d", int(codec))
	}
	if opts.Source < SourceIP || opts.Source > SourceAny {
		return fmt.Errorf("audio: invalid source match %d", int(opts.Source))
	}
	ap := unmapped(remote.AddrPort())
	if !ap.IsValid() || ap.Port() == 0 {
		return fmt.Errorf("audio: invalid remote address %v", remote)
	}
	if opts.DTMFPayloadType == 0 {
		opts.DTMFPayloadType = 101
	}
	if opts.DTMFPayloadType > 127 || opts.DTMFPayloadType == codec.PayloadType() {
		return fmt.Errorf("audio: invalid telephone-event payload type %d", opts.DTMFPayloadType)
	}
	if opts.CNAME == "" {
		opts.CNAME = "deskphone"
	}
	if opts.RTCPInterval == 0 {
		opts.RTCPInterval = 5 * time.Second
	}
	var rtcpTo netip.AddrPort
	rtcpConn := opts.RTCPConn
	switch {
	case opts.RTCPMux:
		rtcpConn, rtcpTo = conn, ap
	case rtcpConn != nil:
		if opts.RTCPRemote == nil {
			return errors.New("audio: RTCP needs a remote address")
		}
		rtcpTo = unmapped(opts.RTCPRemote.AddrPort())
	}
	var sp *srtpPair
	if opts.SRTP != nil {
		var err error
		if sp, err = newSRTPPair(opts.SRTP); err != nil {
			return err
		}
	}
	e.ctl.Lock()
	defer e.ctl.Unlock()
	e.stopLocked()
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("audio: start stream: %w", err)
	}
	second := rtcpConn != nil && rtcpConn != conn
	if second {
		if err := rtcpConn.SetReadDeadline(time.Time{}); err != nil {
			return fmt.Errorf("audio: start stream: %w", err)
		}
	}

	var rx, rtcpRx *poller
	if e.cfg.PollReceive {
		if rx = e.pollerFor(0, conn); rx != nil && second {
			if rtcpRx = e.pollerFor(1, rtcpConn); rtcpRx == nil {
				rx = nil // both polled or neither
			}
		}
	}
	rawTx := false
	var rtcpTx *poller
	if rx != nil {
		rawTx = rx.setRemote(ap)
		rx.mute()
		switch {
		case rtcpRx != nil:
			if rtcpRx.setRemote(rtcpTo) {
				rtcpTx = rtcpRx
			}
			rtcpRx.mute()
		case rtcpConn == conn && rawTx && rtcpTo == ap:
			rtcpTx = rx // RTCP on the RTP socket, to the same remote
		}
	}

	e.mu.Lock()
	e.s = stream{
		up:       true,
		conn:     conn,
		remote:   ap,
		codec:    codec,
		seq:      uint16(rand.Uint32()),
		ts:       rand.Uint32(),
		first:    true,
		opts:     opts,
		rtcpConn: rtcpConn,
		rtcpTo:   rtcpTo,
		rx:       rx,
		rtcpRx:   rtcpRx,
		polled:   rx != nil,
		rawTx:    rawTx,
		rtcpTx:   rtcpTx,
		srtp:     sp,
	}
	e.txPkt.SSRC = rand.Uint32()
	e.txPkt.PayloadType = codec.PayloadType()
	e.evPkt.SSRC = e.txPkt.SSRC
	e.evPkt.PayloadType = opts.DTMFPayloadType
	e.jb.Reset()
	e.jb.SetFill(codec.silence())
	e.coder.reset(codec)
	e.plc.Reset()
	e.det.Reset()
	e.foldLoss()
	e.locked, e.candOn, e.heldOK, e.heldPlayed, e.rxEventOn, e.cnOn = false, false, false, false, false, false
	e.qLen, e.evOn, e.evGap = 0, false, 0
	e.rtcpEvery = 0
	if rtcpConn != nil {
		e.rtcpEvery = max(1, int(opts.RTCPInterval/(time.Duration(e.cfg.Ptime)*time.Millisecond)))
	}
	e.rtcpLeft = e.rtcpEvery
	e.lastSR = 0
	e.mu.Unlock()

	e.signal()
	if rx != nil {
		return nil // Process reads the sockets
	}
	e.stopping.Store(false)
	e.done = make(chan struct{})
	e.done2 = nil
	go e.read(conn, e.done)
	if second {
		e.done2 = make(chan struct{})
		go e.read(rtcpConn, e.done2)
	}
	return nil
}

// pollerFor is the poller of conn in slot i of polls (0: RTP, 1: RTCP):
// the kept one when it is conn's, else a new one kept in its place; nil
// when conn cannot be polled. e.ctl is held.
func (e *Engine) pollerFor(i int, conn *net.UDPConn) *poller {
	if p := e.polls[i]; p != nil && p.conn == conn {
		return p
	}
	p := newPoller(conn)
	e.polls[i] = p
	return p
}

func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
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
	up, conn, rc, polled := e.s.up, e.s.conn, e.s.rtcpConn, e.s.polled
	rx, rtcpRx := e.s.rx, e.s.rtcpRx
	e.s.up, e.s.conn, e.s.rtcpConn = false, nil, nil
	e.s.rx, e.s.rtcpRx, e.s.polled, e.s.rawTx, e.s.rtcpTx = nil, nil, false, false, nil
	e.s.srtp = nil
	e.foldLoss()
	e.mu.Unlock()
	for _, p := range [2]*poller{rx, rtcpRx} {
		if p != nil {
			p.unmute() // the runtime's epoll has the socket back
		}
	}
	if !up || polled {
		return // with PollReceive no reader runs: Process reads under e.mu
	}
	e.stopping.Store(true)
	// A deadline in the past wakes a blocked read at once. Errors mean
	// the caller closed conn already: the reader has exited or will.
	_ = conn.SetReadDeadline(time.Unix(1, 0))
	<-e.done
	_ = conn.SetReadDeadline(time.Time{})
	if e.done2 != nil {
		_ = rc.SetReadDeadline(time.Unix(1, 0))
		<-e.done2
		_ = rc.SetReadDeadline(time.Time{})
		e.done2 = nil
	}
}

// foldLoss adds the current source's loss to the total; e.mu is held.
func (e *Engine) foldLoss() {
	if e.locked {
		e.lostBefore += int64(max(0, e.src.lost()))
	}
	e.locked = false
}

// read is a reader goroutine of one stream.
func (e *Engine) read(conn *net.UDPConn, done chan struct{}) {
	defer close(done)
	buf := make([]byte, maxPacket)
	var pkt rtp.Packet
	pkt.CSRC = make([]uint32, 0, 15)
	pkt.Extensions = make([]rtp.Extension, 0, 16)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
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
		e.receiveAt(&pkt, buf[:n], from, time.Now())
		if e.onReceive != nil {
			e.onReceive()
		}
	}
}

// accepts reports whether a datagram from from belongs to the stream;
// e.mu is held.
func (e *Engine) accepts(from netip.AddrPort) bool {
	from = unmapped(from)
	switch e.s.opts.Source {
	case SourceAny:
		return true
	case SourceAddrPort:
		return from == e.s.remote || (e.s.rtcpTo.IsValid() && from == e.s.rtcpTo)
	}
	return from.Addr() == e.s.remote.Addr() || (e.s.rtcpTo.IsValid() && from.Addr() == e.s.rtcpTo.Addr())
}

// receive handles one datagram from from, arriving now; pkt is the
// caller's reused packet.
func (e *Engine) receive(pkt *rtp.Packet, b []byte, from netip.AddrPort) {
	e.receiveAt(pkt, b, from, time.Now())
}

// receiveAt is receive of a datagram that arrived at (stamped by the
// reader with the read, for the interarrival jitter).
func (e *Engine) receiveAt(pkt *rtp.Packet, b []byte, from netip.AddrPort, at time.Time) {
	e.mu.Lock()
	e.receiveLocked(pkt, b, from, at)
	e.mu.Unlock()
}

// receiveLocked is receiveAt with e.mu held.
func (e *Engine) receiveLocked(pkt *rtp.Packet, b []byte, from netip.AddrPort, at time.Time) {
	if len(b) < 8 || b[0]>>6 != 2 {
		e.st.Invalid++
		return
	}
	if !e.s.up {
		return
	}
	if !e.accepts(from) {
		e.st.Rejected++
		return
	}
	if b[1] >= 192 && b[1] <= 223 { // RTCP (RFC 5761 4)
		if e.s.srtp != nil {
			dec, err := e.unprotectRTCP(b)
			if err != nil {
				e.st.Unauthenticated++
				return
			}
			b = dec
		}
		e.receiveRTCP(b)
		return
	}
	if len(b) < 12 {
		e.st.Invalid++
		return
	}
	if e.s.srtp != nil {
		// Only what the far end's key authenticates goes on (RFC 3711
		// 3.3): a stranger's packets never reach the source lock.
		dec, err := e.unprotectRTP(b, &pkt.Header)
		if err != nil {
			e.st.Unauthenticated++
			return
		}
		b = dec
	}
	if pkt.Unmarshal(b) != nil {
		e.st.Invalid++
		return
	}
	pt := pkt.PayloadType
	if pt != e.s.codec.PayloadType() && pt != e.s.opts.DTMFPayloadType && pt != ptCN {
		e.st.Ignored++
		return
	}
	seq := pkt.SequenceNumber
	switch {
	case e.locked && pkt.SSRC == e.src.ssrc && from == e.srcAddr:
		if !e.src.update(seq) {
			e.st.Probation++
			return
		}
		e.srcAt = at
	case e.locked:
		if !e.challenge(pkt, from, at) {
			return
		}
	default:
		// The stream's first source must send minSequential packets
		// in sequence first (RFC 3550 A.1); it is then locked.
		fresh := !e.candOn || e.cand.ssrc != pkt.SSRC || e.candAddr != from
		if fresh {
			e.cand.start(pkt.SSRC, seq, minSequential)
			e.candOn, e.candAddr = true, from
		}
		if !e.cand.update(seq) {
			e.st.Probation++
			e.heldN = copy(e.held, pkt.Payload)
			e.heldSeq, e.heldTS, e.heldMarker, e.heldOK = seq, pkt.Timestamp, pkt.Marker, pt == e.s.codec.PayloadType()
			e.heldPlayed = false
			if !e.locked && e.heldOK {
				// The stream's first source: nothing else plays,
				// so its audio goes to the jitter buffer at once
				// rather than a packet later, which would add a
				// frame of delay to the call's start; it counts
				// only once validated. Another SSRC's packets
				// before then replace it.
				if fresh {
					e.jb.Reset()
				}
				e.deliver(pkt.Timestamp, pkt.Marker, pkt.Payload)
				e.heldPlayed = true
			}
			return
		}
		e.src, e.srcAddr, e.srcAt, e.locked, e.candOn = e.cand, from, at, true, false
		e.rxEventOn = false
		if e.heldOK && e.heldSeq == seq-1 {
			// The packet held in probation counts too.
			e.src.baseSeq--
			e.src.received++
			e.st.PacketsReceived++
			e.st.BytesReceived += uint64(e.heldN)
			if !e.heldPlayed {
				e.deliver(e.heldTS, e.heldMarker, e.held[:e.heldN])
			}
		}
		e.heldOK, e.heldPlayed = false, false
	}
	if pt == e.s.opts.DTMFPayloadType {
		e.event(pkt)
		return
	}
	if pt == ptCN {
		e.comfortNoise(pkt.Payload)
		return
	}
	e.st.PacketsReceived++
	e.st.BytesReceived += uint64(len(pkt.Payload))
	e.cnOn = false // speech again
	e.src.arrival(pkt.Timestamp, uint32(at.Sub(e.epoch)*clockRate/time.Second))
	e.deliver(pkt.Timestamp, pkt.Marker, pkt.Payload)
}

func (e *Engine) deliver(ts uint32, marker bool, payload []byte) {
	e.jb.PutTS(ts, marker, payload)
}

// event handles an RFC 4733 telephone-event packet: a digit is reported
// once, at the first packet of its event (a new timestamp); e.mu is held.
func (e *Engine) event(pkt *rtp.Packet) {
	var p dtmf.Payload
	if p.Unmarshal(pkt.Payload) != nil {
		e.st.Invalid++
		return
	}
	if e.rxEventOn && pkt.Timestamp == e.rxEventTS {
		return // a continuation or a repeated end of the same event
	}
	e.rxEventOn, e.rxEventTS = true, pkt.Timestamp
	if d := dtmf.Digit(p.Event); d != 0 {
		e.pushDigit(d)
	}
}

func (e *Engine) pushDigit(d byte) {
	e.st.DigitsReceived++
	if e.dLen == len(e.digits) {
		e.dHead = (e.dHead + 1) % len(e.digits) // full: forget the oldest
		e.dLen--
	}
	e.digits[(e.dHead+e.dLen)%len(e.digits)] = d
	e.dLen++
	select {
	case e.digitReady <- struct{}{}:
	default:
	}
}

// DigitReady is signalled (it holds at most one signal) when a digit has
// arrived for ReadDigit, so that a reader waits on it instead of polling
// (each poll is a wake-up: DESIGN.md, "Wake-ups").
func (e *Engine) DigitReady() <-chan struct{} { return e.digitReady }

// ReadDigit returns the oldest DTMF digit received (RFC 4733 events, or
// heard in band with Config.InbandDTMF) and not yet read: '0'-'9', '*',
// '#', 'A'-'D'. The engine keeps the last 32.
func (e *Engine) ReadDigit() (byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dLen == 0 {
		return 0, false
	}
	d := e.digits[e.dHead]
	e.dHead = (e.dHead + 1) % len(e.digits)
	e.dLen--
	return d, true
}

// SendDTMF queues a digit to send as RFC 4733 events of the given duration
// (0 means 100 ms; at least 40 ms), at -10 dBm0, the end packet sent three
// times, 40 ms of audio between digits. Up to 32 digits wait.
func (e *Engine) SendDTMF(digit byte, d time.Duration) error {
	ev, err := dtmf.Event(digit)
	if err != nil {
		return fmt.Errorf("audio: %w", err)
	}
	if d == 0 {
		d = 100 * time.Millisecond
	}
	d = max(d, 40*time.Millisecond)
	pt := time.Duration(e.cfg.Ptime) * time.Millisecond
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.s.up {
		return errors.New("audio: SendDTMF with no stream")
	}
	if e.qLen == len(e.txq) {
		return errors.New("audio: DTMF queue full")
	}
	e.txq[(e.qHead+e.qLen)%len(e.txq)] = txDigit{event: ev, frames: int((d + pt - 1) / pt)}
	e.qLen++
	return nil
}

// Process is called by the audio loop once per frame period. mic is the
// frame just captured: it is encoded and sent when a stream is up (or an
// RFC 4733 event packet instead, while a digit is being sent). ear is
// filled with the frame to play: the far end (from the jitter buffer;
// concealment when a packet is missing; silence before the stream starts)
// mixed with the local tone. Both should be FrameSamples long: a short mic
// is padded with silence, and only len(ear) samples are written. Neither is
// kept. Process does not allocate.
func (e *Engine) Process(mic, ear []int16) {
	if e.muted.Load() {
		mic = nil // the frame is padded with silence
	}
	e.process(mic, ear)
}

// process is Process without the mute: a Conference applies the mute to the
// phone's microphone itself, so the far ends still hear each other.
func (e *Engine) process(mic, ear []int16) {
	e.mu.Lock()
	if len(ear) > e.frame {
		clear(ear[e.frame:])
		ear = ear[:e.frame]
	}
	if e.s.up {
		e.send(mic)
		e.drain()
		e.playout(e.earBuf)
		if e.cfg.InbandDTMF || e.s.opts.InbandDTMF {
			e.det.Feed(e.earBuf, e.inbandFn)
		}
		copy(ear, e.earBuf)
		if e.rtcpEvery > 0 {
			if e.rtcpLeft--; e.rtcpLeft <= 0 {
				e.rtcpLeft = e.rtcpEvery
				e.sendRTCP()
			}
		}
	} else {
		clear(ear)
	}
	e.tone.Mix(ear)
	e.mu.Unlock()
}

// maxDrain bounds the datagrams one Process reads from each socket (a
// flood waits in the kernel, or is dropped there, instead of stalling the
// audio loop).
const maxDrain = 32

// rtcpDrainEvery is how many frames apart drain reads the RTCP socket: a
// report comes every few seconds (RFC 3550 6.2), and nothing in it is late
// at 200 ms, while a read of an empty socket each frame is a system call
// of the phone's few per frame for nothing (a tenth of them in a call).
const rtcpDrainEvery = 10

// Receive reads what has arrived on the stream's sockets (with
// PollReceive; otherwise it does nothing): for an engine whose stream is
// up while the audio loop does not Process it (a held call kept on an
// engine that is not mixed). Process does it itself.
func (e *Engine) Receive() {
	e.mu.Lock()
	if e.s.up {
		e.drain()
	}
	e.mu.Unlock()
}

// drain reads every datagram waiting on the polled sockets, without
// blocking; e.mu is held.
func (e *Engine) drain() {
	if !e.s.polled || e.s.rxDead {
		return
	}
	rtcp := e.s.rtcpRx
	if e.s.rtcpSkip--; e.s.rtcpSkip > 0 {
		rtcp = nil
	} else {
		e.s.rtcpSkip = rtcpDrainEvery
	}
	for _, p := range [2]*poller{e.s.rx, rtcp} {
		if p == nil {
			continue
		}
		for range maxDrain {
			ok, err := p.read()
			if err != nil {
				// Closed by the caller: the stream receives no more.
				e.st.ReadErrors++
				e.s.rxDead = true
				return
			}
			if !ok {
				break
			}
			e.receiveLocked(&e.rxPkt, p.buf[:p.n], p.from, p.at)
			if e.onReceive != nil {
				e.onReceive()
			}
			if p.drained() {
				break
			}
		}
	}
}

// packet builds the next RTP packet from mic into txBuf; e.mu is held.
func (e *Engine) packet(mic []int16) []byte {
	e.coder.encode(e.txPayload, mic)
	e.txPkt.SequenceNumber = e.s.seq
	e.txPkt.Timestamp = e.s.ts
	e.txPkt.Marker = e.s.first
	e.s.seq++
	e.s.ts += uint32(e.ticks)
	e.s.first = false
	m, err := e.txPkt.MarshalTo(e.txBuf)
	if err != nil { // cannot happen: txBuf holds any frame
		return nil
	}
	return e.txBuf[:m]
}

// eventPacket builds the next telephone-event packet into txBuf, or
// returns nil when no digit is being sent; e.mu is held. RFC 4733 2.5:
// every packet of an event carries the timestamp of its start and the
// duration so far; the first has the marker bit; the end packet is sent
// three times; the media timestamp keeps running.
func (e *Engine) eventPacket() []byte {
	if !e.evOn {
		if e.evGap > 0 {
			e.evGap--
			return nil
		}
		if e.qLen == 0 {
			return nil
		}
		e.ev = e.txq[e.qHead]
		e.qHead = (e.qHead + 1) % len(e.txq)
		e.qLen--
		e.evOn, e.evTS, e.evFrames, e.evEnds = true, e.s.ts, 0, 0
	}
	first := e.evFrames == 0
	if e.evFrames < e.ev.frames {
		e.evFrames++
	}
	end := e.evFrames == e.ev.frames
	dur := min(e.evFrames*e.ticks, 0xffff) // telephone-event's clock is 8000 Hz with every codec
	p := dtmf.Payload{Event: e.ev.event, End: end, Volume: 10, Duration: uint16(dur)}
	p.MarshalTo(e.evBuf[:])
	e.evPkt.SequenceNumber = e.s.seq
	e.evPkt.Timestamp = e.evTS
	e.evPkt.Marker = first
	e.s.seq++
	e.s.ts += uint32(e.ticks)
	if end {
		if e.evEnds++; e.evEnds == 3 {
			e.evOn = false
			e.evGap = max(1, 40/e.cfg.Ptime)
			e.st.DigitsSent++
		}
	}
	m, err := e.evPkt.MarshalTo(e.txBuf)
	if err != nil {
		return nil
	}
	return e.txBuf[:m]
}

func (e *Engine) send(mic []int16) {
	b := e.eventPacket()
	if b == nil {
		b = e.packet(mic)
	} else if !e.evOn {
		// The digit is over: the next audio packet starts a talkspurt.
		e.s.first = true
	}
	if b == nil {
		e.st.SendErrors++
		return
	}
	plain := len(b)
	if e.s.srtp != nil {
		var err error
		if b, err = e.protectRTP(b); err != nil {
			e.st.SendErrors++
			return
		}
	}
	if e.s.rawTx {
		if err := e.s.rx.sendTo(b); err != nil {
			e.st.SendErrors++
			return
		}
	} else if _, err := e.s.conn.WriteToUDPAddrPort(b, e.s.remote); err != nil {
		e.st.SendErrors++
		return
	}
	e.st.PacketsSent++
	e.st.BytesSent += uint64(plain - 12)
}

// playout fills ear (a frame) from the jitter buffer; e.mu is held.
func (e *Engine) playout(ear []int16) {
	n, r := e.jb.Get(e.rxPayload)
	switch r {
	case jitter.Frame:
		e.coder.decode(ear, e.rxPayload[:n])
		e.plc.Good(ear)
	case jitter.Missing:
		if e.cnOn {
			e.noise(ear)
			return
		}
		e.st.Concealed++
		e.plc.Conceal(ear)
	default:
		if e.cnOn {
			e.noise(ear)
			return
		}
		clear(ear)
	}
}

// ptCN is RFC 3389 comfort noise's static payload type.
const ptCN = 13

// comfortNoise takes an RFC 3389 payload: the far end stopped sending
// speech; until it sends again the earpiece gets white noise at the level
// it asks for (its first byte, -dBov; spectral coefficients are ignored);
// the frames buffered before it play first; e.mu is held.
func (e *Engine) comfortNoise(p []byte) {
	level := 127
	if len(p) > 0 {
		level = int(p[0] & 0x7f)
	}
	// Uniform noise of amplitude a has an RMS of a/sqrt(3).
	e.cnAmp = int32(32768 * math.Pow(10, -float64(level)/20) * math.Sqrt(3))
	e.cnOn = true
}

// noise fills ear with comfort noise; e.mu is held.
func (e *Engine) noise(ear []int16) {
	e.st.ComfortNoise++
	x, a := e.cnSeed, int64(e.cnAmp)
	for i := range ear {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		ear[i] = int16((int64(int32(x)) * a) >> 31)
	}
	e.cnSeed = x
	e.plc.Good(ear)
}

// sendRTCP sends a compound report; e.mu is held.
func (e *Engine) sendRTCP() {
	now := time.Now()
	var blk *reportBlock
	var rb reportBlock
	if e.locked {
		rb = reportBlock{
			ssrc:     e.src.ssrc,
			fraction: e.src.fraction(),
			lost:     e.src.lost(),
			extMax:   e.src.extMax(),
			jitter:   e.src.jitter >> 4,
		}
		if e.lastSR != 0 {
			rb.lsr = e.lastSR
			rb.dlsr = uint32(now.Sub(e.lastSRAt) * 65536 / time.Second)
		}
		blk = &rb
	}
	sender := e.st.PacketsSent != e.sentAtRR
	e.sentAtRR = e.st.PacketsSent
	// The RTP timestamp of now: the one of the next frame.
	n := buildRTCP(e.rtcpBuf, e.txPkt.SSRC, sender, now, e.s.ts, uint32(e.st.PacketsSent), uint32(e.st.BytesSent),
		blk, e.s.opts.CNAME)
	out := e.rtcpBuf[:n]
	if e.s.srtp != nil {
		var err error
		if out, err = e.protectRTCP(out); err != nil {
			e.st.SendErrors++
			return
		}
	}
	// Raw, as RTP's (send): a write entered the runtime's way wakes its
	// sysmon thread, which then naps a dozen times before it sleeps again.
	if e.s.rtcpTx != nil {
		if err := e.s.rtcpTx.sendTo(out); err != nil {
			e.st.SendErrors++
			return
		}
	} else if _, err := e.s.rtcpConn.WriteToUDPAddrPort(out, e.s.rtcpTo); err != nil {
		e.st.SendErrors++
		return
	}
	e.st.RTCPSent++
}

// receiveRTCP takes a report from the far end; e.mu is held.
func (e *Engine) receiveRTCP(b []byte) {
	var info rtcpInfo
	if !parseRTCP(b, e.txPkt.SSRC, &info) {
		e.st.Invalid++
		return
	}
	e.st.RTCPReceived++
	now := time.Now()
	if info.lsr != 0 {
		e.lastSR, e.lastSRAt = info.lsr, now
	}
	if info.haveBlk {
		bk := info.blk
		e.st.FarLost = int64(bk.lost)
		e.st.FarFraction = bk.fraction
		e.st.FarJitter = time.Duration(bk.jitter) * time.Second / clockRate
		if bk.lsr != 0 {
			mid := uint32(ntpTime(now) >> 16)
			if rtt := int32(mid - bk.lsr - bk.dlsr); rtt >= 0 {
				e.st.RTT = time.Duration(rtt) * time.Second / 65536
			}
		}
	}
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.st
	js := e.jb.Stats()
	s.Late, s.Duplicate, s.Partial = js.Late, js.Duplicate, js.Partial
	lost := e.lostBefore
	if e.locked {
		lost += int64(max(0, e.src.lost()))
	}
	s.Lost = uint64(lost)
	s.Silent = e.plc.Silent
	if e.locked {
		s.Jitter = time.Duration(e.src.jitter>>4) * time.Second / clockRate
	}
	pt := time.Duration(e.cfg.Ptime) * time.Millisecond
	s.Delay = time.Duration(e.jb.Delay()) * pt
	s.Target = time.Duration(e.jb.Target()) * pt
	return s
}
