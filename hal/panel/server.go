package panel

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/deskphone/deskphone/hal"
)

// ErrClosed is returned once the Server (or its codec) is closed.
var ErrClosed = errors.New("panel: closed")

// Queue sizes: bounded, so a slow or absent client never holds the phone.
const (
	eventQueue = 64  // events waiting for the phone
	lineQueue  = 256 // lines waiting for a slow control client, about: outBuf bytes of them
	maxLine    = 1024
	// outBuf is how many bytes of lines wait for a slow control client;
	// a line that does not fit is dropped. Lines are built in place, so
	// the state lines of a call allocate nothing (DESIGN.md).
	outBuf = 64 * lineQueue
)

// Server is one phone's virtual panel. It implements hal.Input,
// hal.Observer and hal.Codec; all methods are safe for concurrent use.
type Server struct {
	board, version string
	events         chan hal.Event
	done           chan struct{}
	closeOnce      sync.Once
	startOnce      sync.Once

	mu      sync.Mutex
	status  func(b []byte) []byte // appends the status answer
	ctl     *ctlSession
	aud     *audSession // current audio client, or nil
	closers []io.Closer // listeners and ports

	codec codec
	st    shown // what the phone shows, replayed to each new client (state.go)

	// sessionHook, if set (by tests), is called with "control" or "audio"
	// once a new client is the current one.
	sessionHook func(kind string)
}

// rwc is one client's byte stream.
type rwc = io.ReadWriteCloser

var (
	_ hal.Input    = (*Server)(nil)
	_ hal.Observer = (*Server)(nil)
	_ hal.Codec    = (*Server)(nil)
)

// New returns a panel for a phone of the given board and firmware version.
// It does no I/O: Listen or OpenVirtio serves it.
func New(board, version string) *Server {
	s := &Server{
		board:   token(board),
		version: token(version),
		events:  make(chan hal.Event, eventQueue),
		done:    make(chan struct{}),
	}
	s.codec.init(s)
	s.st.init()
	return s
}

// SetStatus sets the function that answers a client's "status" request:
// the reply is "status " + f(), e.g. "status reg=1:registered phone=idle
// calls=0". f is called from the panel's own goroutine, so it must be safe
// to call concurrently with the phone.
func (s *Server) SetStatus(f func() string) {
	s.AppendStatusWith(func(b []byte) []byte { return append(b, f()...) })
}

// AppendStatusWith is SetStatus with a function that appends the answer to
// b and returns the extended buffer, so that answering allocates nothing.
// b is only valid during the call.
func (s *Server) AppendStatusWith(f func(b []byte) []byte) {
	s.mu.Lock()
	s.status = f
	s.mu.Unlock()
}

// Events returns the key and hook events from the control client, in order.
// It is never closed.
func (s *Server) Events() <-chan hal.Event { return s.events }

// Close closes the listeners, ports and clients and stops the codec; a
// blocked Exchange returns ErrClosed. Server.Close is the hal.Codec Close
// too and ends the whole panel; use Codec for a codec that can be closed
// and opened again between calls.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.codec.close()
		s.mu.Lock()
		cl := s.closers
		s.closers = nil
		ctl, aud := s.ctl, s.aud
		s.ctl, s.aud = nil, nil
		s.mu.Unlock()
		for _, c := range cl {
			c.Close()
		}
		if ctl != nil {
			ctl.close()
		}
		if aud != nil {
			aud.close()
		}
	})
	return nil
}

func (s *Server) addCloser(c io.Closer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		c.Close()
		return ErrClosed
	default:
	}
	s.closers = append(s.closers, c)
	return nil
}

func (s *Server) hook(kind string) {
	s.mu.Lock()
	h := s.sessionHook
	s.mu.Unlock()
	if h != nil {
		h(kind)
	}
}

// ctlSession is one control client. Lines wait in pend, built in place
// by the phone's goroutine; writeLoop swaps pend with the buffer it has
// written and writes the lines that waited.
type ctlSession struct {
	rw   io.ReadWriteCloser
	mu   sync.Mutex
	pend []byte        // lines waiting, cap outBuf
	wake chan struct{} // one token: pend has lines
	done chan struct{}
	once sync.Once

	evbuf [maxDial + 1]hal.Event // parseFast's events; read by serveControl only
}

func newCtlSession(rw io.ReadWriteCloser) *ctlSession {
	return &ctlSession{rw: rw, pend: make([]byte, 0, outBuf), wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (c *ctlSession) close() {
	c.once.Do(func() {
		close(c.done)
		c.rw.Close()
	})
}

// send queues a line for the client, or drops it if the queue is full.
func (c *ctlSession) send(line string) { c.build(line, nil) }

// build queues one line for the client: prefix, then what add appends
// (nil: nothing), then a newline. A line that does not fit in what is left
// of the queue is dropped; while less than maxLine is left every line is
// (so a full queue allocates nothing either). add is called with c.mu held.
func (c *ctlSession) build(prefix string, add func(b []byte) []byte) {
	c.mu.Lock()
	n := len(c.pend)
	if cap(c.pend)-n < maxLine {
		c.mu.Unlock()
		return
	}
	b := append(c.pend, prefix...)
	if add != nil {
		b = add(b)
	}
	b = append(b, '\n')
	if cap(b) != cap(c.pend) || len(b) > outBuf {
		// It did not fit: the line is dropped and the queue stays as it was.
		c.pend = c.pend[:n]
		c.mu.Unlock()
		return
	}
	c.pend = b
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *ctlSession) writeLoop() {
	out := make([]byte, 0, outBuf)
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		out, c.pend = c.pend, out[:0]
		c.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		if _, err := c.rw.Write(out); err != nil && !errors.Is(err, errDropped) {
			c.close()
			return
		}
	}
}

// errDropped is returned by a port's Write when it dropped the data because
// the host could not take it; the session carries on.
var errDropped = errors.New("panel: write dropped")

// serveControl makes rw the control client, replacing any other, and serves
// it until it ends. It returns when the client is gone.
func (s *Server) serveControl(rw io.ReadWriteCloser) {
	c := newCtlSession(rw)
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		rw.Close()
		return
	default:
	}
	old := s.ctl
	s.ctl = c
	s.mu.Unlock()
	if old != nil {
		old.close()
	}
	// A new client gets the audio stream at 8000 samples/s until it asks
	// for another rate (panel/3): a panel/1 or panel/2 client never does.
	s.codec.setClientRate(8000)
	c.send("ready " + s.board + " " + s.version + " " + Version)
	c.send("audio " + s.codec.state())
	s.replay(c)
	go c.writeLoop()
	s.hook("control")

	defer func() {
		c.close()
		s.mu.Lock()
		if s.ctl == c {
			s.ctl = nil
		}
		s.mu.Unlock()
	}()
	br := bufio.NewReaderSize(rw, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Too long: skip to its end and say so.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return
			}
			c.send("error line longer than " + strconv.Itoa(maxLine) + " bytes")
			continue
		}
		if err != nil {
			// A last line without its newline is not a line.
			return
		}
		if !s.handle(c, line[:len(line)-1]) {
			return
		}
	}
}

// handle acts on one control line; false when the session must end.
// The usual lines (a key, the hook, a dial, status) are read without an
// allocation (parseFast); the rest, and the errors, through parseControl.
func (s *Server) handle(c *ctlSession, line []byte) bool {
	req, ok := parseFast(line, &c.evbuf)
	if !ok {
		var err error
		if req, err = parseControl(string(line)); err != nil {
			c.send("error " + Text(err.Error()))
			return true
		}
	}
	if req.state {
		s.replay(c)
	}
	if req.rate != 0 {
		s.codec.setClientRate(req.rate)
		c.send("audio rate " + strconv.Itoa(req.rate))
		return true
	}
	if req.shm != "" {
		if err := s.codec.share(req.shm); err != nil {
			c.send("error " + Text(err.Error()))
		} else if req.shm == "off" {
			c.send("audio shm off")
		} else {
			c.send("audio shm on")
		}
		return true
	}
	if req.status {
		s.mu.Lock()
		f := s.status
		s.mu.Unlock()
		c.build("status ", func(b []byte) []byte {
			if f == nil {
				return append(b, "phone=unknown calls=0"...)
			}
			return cleanTail(f(b), len(b))
		})
	}
	for _, e := range req.events {
		select {
		case s.events <- e:
		case <-c.done:
			return false
		case <-s.done:
			return false
		}
	}
	return true
}

// session is the current control client, or nil.
func (s *Server) session() *ctlSession {
	s.mu.Lock()
	c := s.ctl
	s.mu.Unlock()
	return c
}

// line sends one line to the control client, if any; never blocks.
func (s *Server) line(l string) {
	if c := s.session(); c != nil {
		c.send(l)
	}
}

// The lines below are built in the session's queue (ctlSession.build):
// nothing is allocated for a line whose text is clean, whatever its numbers.
// Each is kept in the state (state.go) first, under the state's lock, so a
// new client's replay and the lines after it are in order.

// Reg sends "reg LINE STATE".
func (s *Server) Reg(line int, state string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.setReg(line, state)
	if c := s.session(); c != nil {
		c.build("reg ", func(b []byte) []byte {
			b = strconv.AppendInt(b, int64(line), 10)
			b = append(b, ' ')
			return append(b, token(state)...)
		})
	}
}

// Phone sends "phone STATE".
func (s *Server) Phone(state string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.phone = state
	s.word("phone ", state)
}

// word sends prefix and one word.
func (s *Server) word(prefix, w string) {
	if c := s.session(); c != nil {
		c.build(prefix, func(b []byte) []byte { return append(b, token(w)...) })
	}
}

// Call sends "call ID STATE PEER".
func (s *Server) Call(id int, state, peer string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.setCall(id, state, peer)
	if c := s.session(); c != nil {
		c.build("call ", func(b []byte) []byte { return appendCall(b, id, state, peer) })
	}
}

func appendCall(b []byte, id int, state, peer string) []byte {
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, ' ')
	b = append(b, token(state)...)
	b = append(b, ' ')
	return append(b, Text(peer)...)
}

// Ring sends "ring on CADENCE" or "ring off".
func (s *Server) Ring(on bool, cadence string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.ringOn, s.st.ring = on, cadence
	if on {
		s.word("ring on ", cadence)
		return
	}
	s.line("ring off")
}

// Tone sends "tone NAME".
func (s *Server) Tone(name string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.tone = name
	s.word("tone ", name)
}

// LED sends "led NAME STATE".
func (s *Server) LED(name, state string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.setLED(name, state)
	if c := s.session(); c != nil {
		c.build("led ", func(b []byte) []byte { return appendLED(b, name, state) })
	}
}

func appendLED(b []byte, name, state string) []byte {
	b = append(b, token(name)...)
	b = append(b, ' ')
	return append(b, token(state)...)
}

// Display sends "display ROW TEXT".
func (s *Server) Display(row int, text string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.setRow(row, nil, text)
	if c := s.session(); c != nil {
		c.build("display ", func(b []byte) []byte {
			b = strconv.AppendInt(b, int64(row), 10)
			b = append(b, ' ')
			return append(b, Text(text)...)
		})
	}
}

// DisplayBytes is Display with the text as bytes, copied before it returns
// (hal.DisplayWriter).
func (s *Server) DisplayBytes(row int, text []byte) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.setRow(row, text, "")
	if c := s.session(); c != nil {
		c.build("display ", func(b []byte) []byte {
			b = strconv.AppendInt(b, int64(row), 10)
			b = append(b, ' ')
			return appendText(text, b)
		})
	}
}

// MWI sends "mwi LINE NEW/OLD".
func (s *Server) MWI(line, newMsgs, oldMsgs int) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.setMWI(line, newMsgs, oldMsgs)
	if c := s.session(); c != nil {
		c.build("mwi ", func(b []byte) []byte { return appendMWI(b, line, newMsgs, oldMsgs) })
	}
}

func appendMWI(b []byte, line, n, o int) []byte {
	b = strconv.AppendInt(b, int64(line), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '/')
	return strconv.AppendInt(b, int64(o), 10)
}

// Log sends "log TEXT" (not kept: a log line is news, not state).
func (s *Server) Log(text string) {
	if c := s.session(); c != nil {
		c.build("log ", func(b []byte) []byte { return append(b, Text(text)...) })
	}
}

// serveAudio makes rw the audio client, replacing any other, and feeds what
// it sends into the microphone ring until it ends.
func (s *Server) serveAudio(rw io.ReadWriteCloser) {
	sess := &audSession{rw: rw, d: newDirect(rw), done: make(chan struct{})}
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		rw.Close()
		return
	default:
	}
	old := s.aud
	s.aud = sess
	s.mu.Unlock()
	if old != nil {
		old.close()
	}
	c := &s.codec
	c.mu.Lock()
	c.sess, c.odd, c.pendN, c.parked = sess, false, 0, false
	c.mu.Unlock()
	s.hook("audio")
	defer func() {
		sess.close()
		s.mu.Lock()
		if s.aud == sess {
			s.aud = nil
		}
		s.mu.Unlock()
		c.mu.Lock()
		if c.sess == sess {
			c.sess = nil
		}
		sh := sess.shm
		sess.shm = nil
		c.mu.Unlock()
		if sh != nil {
			sh.Close()
		}
	}()
	dl, _ := rw.(interface{ SetReadDeadline(time.Time) error })
	gated := sess.d != nil && dl != nil
	buf := make([]byte, 4096)
	for {
		if gated {
			// While the clock runs Exchange reads the socket; this
			// goroutine waits for it to stop. (With shared audio it
			// reads on: the client's audio comes through the file, and
			// its socket says only when it goes.) The deadline that woke it
			// (startLocked) is cleared under the codec's lock, so that a
			// start after it always wakes the read below.
			c.mu.Lock()
			dl.SetReadDeadline(time.Time{})
			if c.running && sess.shm == nil {
				stopped := c.stopped
				c.parked = true
				sess.d.mute() // no wake-up per arrival: Exchange reads
				c.mu.Unlock()
				select {
				case <-stopped:
					sess.d.unmute() // the read below waits in the netpoller
					continue
				case <-sess.done:
					return
				case <-s.done:
					return
				}
			}
			c.mu.Unlock()
		}
		n, err := rw.Read(buf)
		if n > 0 {
			c.pushBytes(buf[:n])
		}
		if err != nil {
			if gated && errors.Is(err, os.ErrDeadlineExceeded) {
				continue // the clock started
			}
			return
		}
	}
}

// earLoop writes earpiece frames to the audio client.
func (s *Server) earLoop() {
	for {
		select {
		case <-s.done:
			return
		case f := <-s.codec.full:
			s.mu.Lock()
			a := s.aud
			s.mu.Unlock()
			if a != nil {
				a.rw.Write(f.b[:f.n])
			}
			f.pool <- f
		}
	}
}

// realTicker is the virtual codec's crystal.
func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}
