package panel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/internal/resample"
)

// earFrames is how many earpiece frames may wait for the audio client.
const earFrames = 4

// micKeep is how much microphone audio is kept when the client sends
// faster than real time.
const micKeep = 200 * time.Millisecond

type frameBuf struct {
	b    []byte // room for a frame at 16000 samples/s
	n    int    // bytes of b in use
	pool chan *frameBuf
}

// codec is the virtual codec: a frame clock, the earpiece and the
// microphone. With a socket client (direct) Exchange writes each earpiece
// frame and reads what the microphone sent itself, without blocking, so a
// frame period is one wake-up; with another client (the virtio-serial
// port) the earpiece goes through earLoop and the microphone comes through
// serveAudio's reads. While the clock is stopped (Stop, panel.md's
// "audio off") nothing wakes: serveAudio reads and drops what a client
// still sends.
type codec struct {
	s *Server

	// newTicker, when set (tests), replaces the clock: each value on its
	// channel is one period. Unset, the clock is a timerfd (Linux) or a
	// time.Ticker.
	newTicker func(time.Duration) (<-chan time.Time, func())
	full      chan *frameBuf // earpiece frames for earLoop

	mu      sync.Mutex
	open    bool // Open called, not closed
	running bool // the frame clock ticks: Open or Start, not Stop
	prime   bool // the next Exchange does not wait for a tick (the first after Start)
	frame   int
	period  time.Duration
	tick    <-chan time.Time // the clock, or nil with tfd
	tfd     *os.File         // the timerfd clock, or nil
	tclk    *rawClock        // its raw reader (nil: tfd.Read)
	tbuf    []byte           // tfd.Read's buffer
	stop    func()
	closed  chan struct{} // closed when the codec closes
	stopped chan struct{} // closed when the clock stops (serveAudio waits on it)
	pool    chan *frameBuf
	sess    *audSession // the current audio client, or nil
	// parked says serveAudio waits for the clock to stop, its read over:
	// Exchange reads the socket only then.
	parked bool

	// mic ring, guarded by mu; odd and carry are a byte waiting for its
	// other half.
	ring       []int16
	head, fill int
	odd        bool
	carry      byte

	// The direct path's buffers: one earpiece frame as s16le, the part of
	// one the socket did not take, the microphone's read buffer.
	earB  []byte
	pend  []byte
	pendN int
	rd    []byte

	// micHook, if set (by tests), is signalled after samples arrive.
	micHook chan struct{}

	// The audio client's rate (panel/3's "audio rate"; 8000 for a client
	// that does not ask), guarded by mu, and the codec's own (Open's).
	// Where they differ Exchange converts (internal/resample) with the
	// state below, its own: up and down are reset when the pair changes.
	clientRate int
	rate       int
	convRate   int // the client rate the converters run for; 0: none yet
	up         resample.Up
	down       resample.Down
	earC, micC []int16 // a frame at the client's rate
}

// audSession is one audio client.
type audSession struct {
	rw   io.ReadWriteCloser
	d    *direct // nil: not a socket
	done chan struct{}
	once sync.Once
	// shm, guarded by the codec's mu: the client's shared audio file
	// (panel/4), which carries the stream instead of the socket while it
	// is mapped; nil: none.
	shm *SharedAudio
}

// path is how Exchange reaches the client without blocking, or nil when
// earLoop and serveAudio carry its audio (a client that is no socket);
// the codec's mu is held.
func (a *audSession) path() framePath {
	switch {
	case a.shm != nil:
		return a.shm
	case a.d != nil:
		return a.d
	}
	return nil
}

// framePath is a client's audio as Exchange reads and writes it: what is
// there now, never waiting (direct: the socket; SharedAudio: the rings).
type framePath interface {
	tryRead(b []byte) (int, error)
	tryWrite(b []byte) (int, error)
}

// wakeRead ends serveAudio's blocked read of the socket (a deadline in the
// past), so that it looks again at whether Exchange reads; the codec's mu
// is held.
func (a *audSession) wakeRead() {
	if dl, ok := a.rw.(interface{ SetReadDeadline(time.Time) error }); ok {
		dl.SetReadDeadline(time.Unix(1, 0))
	}
}

// local reports whether the client is on a unix socket.
func (a *audSession) local() bool {
	_, ok := a.rw.(*net.UnixConn)
	return ok
}

func (a *audSession) close() {
	a.once.Do(func() {
		close(a.done)
		a.rw.Close()
	})
}

func (c *codec) init(s *Server) {
	c.s = s
	c.tbuf = make([]byte, 8)
	c.full = make(chan *frameBuf, earFrames)
	c.rd = make([]byte, 4096)
	c.clientRate = 8000
	c.sizeRingLocked()
}

// setClientRate sets the audio client's rate: 8000 or 16000.
func (c *codec) setClientRate(r int) {
	c.mu.Lock()
	if r != c.clientRate {
		c.clientRate = r
		c.head, c.fill, c.odd = 0, 0, false // microphone audio at the old rate
		c.sizeRingLocked()
	}
	c.mu.Unlock()
}

// sizeRingLocked makes the microphone ring hold micKeep at the client's
// rate (at least two frames); c.mu is held.
func (c *codec) sizeRingLocked() {
	n := c.clientRate * int(micKeep/time.Millisecond) / 1000
	if c.rate > 0 {
		n = max(n, 2*c.frame*c.clientRate/c.rate)
	}
	if len(c.ring) != n {
		c.ring = make([]int16, n)
		c.head, c.fill = 0, 0
	}
}

// Open starts the frame clock: rate samples/s, frame samples a frame.
func (s *Server) Open(rate, frame int) error { return s.codec.openCodec(rate, frame) }

// Exchange waits for the next frame period, sends ear to the audio client
// (dropped if it cannot take it now) and fills mic from what the client sent
// (silence where nothing arrived). A stopped clock starts again. It does
// not allocate.
func (s *Server) Exchange(ear, mic []int16) error { return s.codec.exchange(ear, mic) }

// Stop stops the frame clock (hal.PCM) and tells the control client
// "audio off": no wake-up until Start or Exchange.
func (s *Server) Stop() error { s.codec.stopClock(); return nil }

// Start starts the frame clock again (hal.PCM) and tells the control
// client "audio on"; the first Exchange after it does not wait for a
// period (a codec chip takes its first frame at once too), and microphone
// audio from before it is dropped.
func (s *Server) Start() error { return s.codec.startClock() }

// Codec returns the panel's hal.Codec (a hal.PCM) whose Close stops only
// the frame clock, so the phone can close and open it again between calls.
// Server's own Close ends the whole panel.
func (s *Server) Codec() hal.Codec { return codecView{&s.codec} }

type codecView struct{ c *codec }

func (v codecView) Open(rate, frame int) error      { return v.c.openCodec(rate, frame) }
func (v codecView) Exchange(ear, mic []int16) error { return v.c.exchange(ear, mic) }
func (v codecView) Close() error                    { v.c.close(); return nil }
func (v codecView) Start() error                    { return v.c.startClock() }
func (v codecView) Stop() error                     { v.c.stopClock(); return nil }

// Wideband (Server's and its Codec's): the panel runs at 16000 samples/s,
// converting for an audio client at 8000 (panel.md, panel/3).
func (v codecView) Wideband() bool { return true }

// Wideband: see codecView.Wideband.
func (s *Server) Wideband() bool { return true }

var (
	_ hal.PCM      = codecView{}
	_ hal.Wideband = codecView{}
	_ hal.PCM      = (*Server)(nil)
	_ hal.Wideband = (*Server)(nil)
)

func (c *codec) openCodec(rate, frame int) error {
	if rate < 1000 || rate > 192000 || frame < 1 || frame > rate {
		return fmt.Errorf("panel: codec: bad rate %d or frame %d", rate, frame)
	}
	select {
	case <-c.s.done:
		return ErrClosed
	default:
	}
	period := time.Duration(frame) * time.Second / time.Duration(rate)
	c.close()
	c.mu.Lock()
	c.frame, c.period, c.rate, c.convRate = frame, period, rate, 0
	// Buffers hold a frame at the client's rate, up to twice the codec's
	// (a 16000 client of an 8000 codec).
	wide := 2 * frame
	c.pool = make(chan *frameBuf, earFrames)
	for range earFrames {
		c.pool <- &frameBuf{b: make([]byte, 2*wide), pool: c.pool}
	}
	c.sizeRingLocked()
	c.earC, c.micC = make([]int16, wide), make([]int16, wide)
	c.earB, c.pend, c.pendN = make([]byte, 2*wide), make([]byte, 2*wide), 0
	c.closed = make(chan struct{})
	c.open = true
	c.startLocked()
	c.prime = false // Open's first period is a whole one
	c.mu.Unlock()
	c.s.line("audio on")
	return nil
}

// startLocked starts the clock of an open codec; c.mu is held.
func (c *codec) startLocked() {
	c.tick, c.tfd, c.tclk = nil, nil, nil
	armed := time.Now() // the timerfd's schedule starts at or just after this
	switch f, err := newTimerfd(c.period); {
	case c.newTicker != nil:
		c.tick, c.stop = c.newTicker(c.period)
	case err == nil:
		c.tfd, c.tclk, c.stop = f, newRawClock(f, armed, c.period), func() { f.Close() }
	default:
		c.tick, c.stop = realTicker(c.period)
	}
	c.running, c.prime = true, true
	c.head, c.fill, c.odd, c.pendN = 0, 0, false, 0
	c.stopped = make(chan struct{})
	c.parked = false
	if c.sess != nil && c.sess.shm != nil {
		c.sess.shm.skipMic()
	} else if c.sess != nil && c.sess.d != nil {
		c.sess.wakeRead() // from now Exchange reads
	}
}

func (c *codec) startClock() error {
	c.mu.Lock()
	if !c.open {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.running {
		c.mu.Unlock()
		return nil
	}
	c.startLocked()
	c.mu.Unlock()
	c.s.line("audio on")
	return nil
}

// stopLocked stops the clock; c.mu is held. It reports whether it ran.
func (c *codec) stopLocked() bool {
	if !c.running {
		return false
	}
	c.running = false
	c.stop()
	close(c.stopped)
	return true
}

func (c *codec) stopClock() {
	c.mu.Lock()
	was := c.stopLocked()
	c.mu.Unlock()
	if was {
		c.s.line("audio off")
	}
}

func (c *codec) close() {
	c.mu.Lock()
	if !c.open {
		c.mu.Unlock()
		return
	}
	c.open = false
	was := c.stopLocked()
	close(c.closed)
	c.mu.Unlock()
	if was {
		c.s.line("audio off")
	}
}

// state is "on" while the clock runs, else "off" (panel.md).
func (c *codec) state() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return "on"
	}
	return "off"
}

func (c *codec) exchange(ear, mic []int16) error {
	c.mu.Lock()
	started := false
	if c.open && !c.running {
		c.startLocked() // hal.PCM: Exchange starts a stopped codec
		started = true
	}
	open, frame, tick, tfd, tclk, closed, pool, prime := c.open, c.frame, c.tick, c.tfd, c.tclk, c.closed, c.pool, c.prime
	c.prime = false
	clientRate, rate := c.clientRate, c.rate
	c.mu.Unlock()
	if started {
		c.s.line("audio on")
	}
	if !open {
		return ErrClosed
	}
	if len(ear) != frame || len(mic) != frame {
		return fmt.Errorf("panel: codec: frame is %d samples, got ear %d mic %d", frame, len(ear), len(mic))
	}
	switch {
	case prime:
	case tclk != nil:
		if err := tclk.wait(); err != nil {
			return ErrClosed
		}
	case tfd != nil:
		// The expirations since the last read; a late reader does not
		// catch up (as a Ticker drops ticks). Closed: Stop or Close.
		if _, err := tfd.Read(c.tbuf); err != nil {
			return ErrClosed
		}
	default:
		select {
		case <-tick:
		case <-closed:
			return ErrClosed
		}
	}
	// The earpiece at the client's rate (the converters are this
	// goroutine's: only Exchange uses them).
	out := ear
	if clientRate != c.convRate {
		c.up.Reset()
		c.down.Reset()
		c.convRate = clientRate
	}
	switch {
	case clientRate > rate:
		out = c.earC[:c.up.Process(c.earC, ear)]
	case clientRate < rate:
		out = c.earC[:c.down.Process(c.earC, ear)]
	}
	c.mu.Lock()
	sess := c.sess
	var path framePath
	if sess != nil {
		path = sess.path()
	}
	var gone *audSession
	if path != nil {
		// The microphone: from the shared rings always; from the
		// socket once serveAudio's read is parked.
		read := c.parked || sess.shm != nil
		if !c.writeDirect(path, out) || read && !c.readDirect(path) {
			gone = sess
		}
	}
	c.mu.Unlock()
	if gone != nil {
		gone.close() // serveAudio ends the session
	}
	if path == nil {
		// Earpiece: to earLoop if a buffer is free, else dropped.
		select {
		case f := <-pool:
			for i, v := range out {
				binary.LittleEndian.PutUint16(f.b[2*i:], uint16(v))
			}
			f.n = 2 * len(out)
			select {
			case c.full <- f:
			default: // frames of an earlier Open still queued
				pool <- f
			}
		default:
		}
	}
	// Microphone: what has arrived, silence for the rest, at the
	// client's rate, then at the codec's.
	in := mic
	if clientRate != rate {
		in = c.micC[:len(mic)*clientRate/rate]
	}
	c.mu.Lock()
	n := min(c.fill, len(in))
	for i := range n {
		in[i] = c.ring[c.head]
		c.head++
		if c.head == len(c.ring) {
			c.head = 0
		}
	}
	c.fill -= n
	c.mu.Unlock()
	clear(in[n:])
	switch {
	case clientRate > rate:
		c.down.Process(mic, in)
	case clientRate < rate:
		c.up.Process(mic, in)
	}
	return nil
}

// share maps the shared audio file at path for the current audio client
// (panel/4), or with "off" gives the client its socket back. Only a client
// on a local socket can share: a file it names is on the phone's machine.
func (c *codec) share(path string) error {
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if path == "off" {
		if sess != nil {
			c.unshare(sess)
		}
		return nil
	}
	if sess == nil || sess.d == nil || !sess.local() {
		return errors.New("audio shm: no audio client on a local socket")
	}
	a, err := MapShared(path)
	if err != nil {
		return fmt.Errorf("audio shm: %w", err)
	}
	c.mu.Lock()
	old := sess.shm
	if c.sess != sess { // the client went meanwhile
		c.mu.Unlock()
		a.Close()
		return errors.New("audio shm: the audio client went")
	}
	sess.shm = a
	a.skipMic()
	c.pendN = 0
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// unshare gives sess its socket back.
func (c *codec) unshare(sess *audSession) {
	c.mu.Lock()
	a := sess.shm
	sess.shm = nil
	c.pendN = 0
	if a != nil && c.running && sess.d != nil {
		// serveAudio reads the socket on while the file is shared:
		// wake it, so that it parks and Exchange reads again.
		sess.wakeRead()
	}
	c.mu.Unlock()
	if a != nil {
		a.Close()
	}
}

// writeDirect writes one earpiece frame to a socket or shared client without
// blocking: first the rest of a frame the socket did not take, and this
// frame only if that went (whole frames are dropped, so the stream stays
// aligned). It reports false when the client is gone; c.mu is held.
func (c *codec) writeDirect(d framePath, ear []int16) bool {
	if c.pendN > 0 {
		n, err := d.tryWrite(c.pend[:c.pendN])
		if err != nil {
			return false
		}
		c.pendN = copy(c.pend, c.pend[n:c.pendN])
		if c.pendN > 0 {
			return true // still behind: this frame is dropped
		}
	}
	b := c.earB[:2*len(ear)]
	for i, v := range ear {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	n, err := d.tryWrite(b)
	if err != nil {
		return false
	}
	c.pendN = copy(c.pend, b[n:])
	return true
}

// readDirect takes what a socket client has sent into the microphone
// ring, without blocking; false when the client is gone; c.mu is held.
func (c *codec) readDirect(d framePath) bool {
	for range 8 { // 32 KiB a frame at most: a client far ahead loses the rest in the ring anyway
		n, err := d.tryRead(c.rd)
		if err != nil {
			return false
		}
		if n == 0 {
			break
		}
		c.pushBytesLocked(c.rd[:n])
		if n < len(c.rd) {
			break // a stream socket's read takes all that is waiting: the next would be empty
		}
	}
	return true
}

func (c *codec) pushLocked(v int16) {
	i := c.head + c.fill
	if i >= len(c.ring) {
		i -= len(c.ring)
	}
	c.ring[i] = v
	if c.fill < len(c.ring) {
		c.fill++
		return
	}
	c.head++
	if c.head == len(c.ring) {
		c.head = 0
	}
}

// pushBytesLocked adds s16le samples, a byte left over waiting for the
// next; c.mu is held.
func (c *codec) pushBytesLocked(b []byte) {
	if c.odd && len(b) > 0 {
		c.pushLocked(int16(uint16(c.carry) | uint16(b[0])<<8))
		b = b[1:]
		c.odd = false
	}
	for ; len(b) >= 2; b = b[2:] {
		c.pushLocked(int16(binary.LittleEndian.Uint16(b)))
	}
	if len(b) == 1 {
		c.carry, c.odd = b[0], true
	}
}

// pushBytes adds s16le samples from serveAudio's reads.
func (c *codec) pushBytes(b []byte) {
	c.mu.Lock()
	c.pushBytesLocked(b)
	c.mu.Unlock()
	if c.micHook != nil {
		select {
		case c.micHook <- struct{}{}:
		default:
		}
	}
}
