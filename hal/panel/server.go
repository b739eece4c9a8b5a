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
	lineQueue  = 256 // lines waiting for a slow control client
	maxLine    = 1024
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
	status  func() string
	ctl     *ctlSession
	aud     *audSession // current audio client, or nil
	closers []io.Closer // listeners and ports

	codec codec

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
	return s
}

// SetStatus sets the function that answers a client's "status" request:
// the reply is "status " + f(), e.g. "status reg=1:registered phone=idle
// calls=0". f is called from the panel's own goroutine, so it must be safe
// to call concurrently with the phone.
func (s *Server) SetStatus(f func() string) {
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

// ctlSession is one control client.
type ctlSession struct {
	rw   io.ReadWriteCloser
	out  chan string
	done chan struct{}
	once sync.Once
}

func (c *ctlSession) close() {
	c.once.Do(func() {
		close(c.done)
		c.rw.Close()
	})
}

// send queues a line for the client, or drops it if the queue is full.
func (c *ctlSession) send(line string) {
	select {
	case c.out <- line:
	default:
	}
}

func (c *ctlSession) writeLoop() {
	buf := make([]byte, 0, maxLine)
	for {
		select {
		case <-c.done:
			return
		case l := <-c.out:
			buf = append(append(buf[:0], l...), '\n')
			if _, err := c.rw.Write(buf); err != nil && !errors.Is(err, errDropped) {
				c.close()
				return
			}
		}
	}
}

// errDropped is returned by a port's Write when it dropped the data because
// the host could not take it; the session carries on.
var errDropped = errors.New("panel: write dropped")

// serveControl makes rw the control client, replacing any other, and serves
// it until it ends. It returns when the client is gone.
func (s *Server) serveControl(rw io.ReadWriteCloser) {
	c := &ctlSession{rw: rw, out: make(chan string, lineQueue), done: make(chan struct{})}
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
	c.send("ready " + s.board + " " + s.version + " " + Version)
	c.send("audio " + s.codec.state())
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
		if !s.handle(c, string(line[:len(line)-1])) {
			return
		}
	}
}

// handle acts on one control line; false when the session must end.
func (s *Server) handle(c *ctlSession, line string) bool {
	req, err := parseControl(line)
	if err != nil {
		c.send("error " + Text(err.Error()))
		return true
	}
	if req.status {
		s.mu.Lock()
		f := s.status
		s.mu.Unlock()
		st := "phone=unknown calls=0"
		if f != nil {
			st = f()
		}
		c.send("status " + Text(st))
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

// line sends one line to the control client, if any; never blocks.
func (s *Server) line(l string) {
	s.mu.Lock()
	c := s.ctl
	s.mu.Unlock()
	if c != nil {
		c.send(l)
	}
}

// Reg sends "reg LINE STATE".
func (s *Server) Reg(line int, state string) {
	s.line("reg " + strconv.Itoa(line) + " " + token(state))
}

// Phone sends "phone STATE".
func (s *Server) Phone(state string) { s.line("phone " + token(state)) }

// Call sends "call ID STATE PEER".
func (s *Server) Call(id int, state, peer string) {
	s.line("call " + strconv.Itoa(id) + " " + token(state) + " " + Text(peer))
}

// Ring sends "ring on CADENCE" or "ring off".
func (s *Server) Ring(on bool, cadence string) {
	if on {
		s.line("ring on " + token(cadence))
		return
	}
	s.line("ring off")
}

// Tone sends "tone NAME".
func (s *Server) Tone(name string) { s.line("tone " + token(name)) }

// LED sends "led NAME STATE".
func (s *Server) LED(name, state string) { s.line("led " + token(name) + " " + token(state)) }

// Display sends "display ROW TEXT".
func (s *Server) Display(row int, text string) {
	s.line("display " + strconv.Itoa(row) + " " + Text(text))
}

// MWI sends "mwi LINE NEW/OLD".
func (s *Server) MWI(line, newMsgs, oldMsgs int) {
	s.line("mwi " + strconv.Itoa(line) + " " + strconv.Itoa(newMsgs) + "/" + strconv.Itoa(oldMsgs))
}

// Log sends "log TEXT".
func (s *Server) Log(text string) { s.line("log " + Text(text)) }

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
		c.mu.Unlock()
	}()
	dl, _ := rw.(interface{ SetReadDeadline(time.Time) error })
	gated := sess.d != nil && dl != nil
	buf := make([]byte, 4096)
	for {
		if gated {
			// While the clock runs Exchange reads the socket; this
			// goroutine waits for it to stop. The deadline that woke it
			// (startLocked) is cleared under the codec's lock, so that a
			// start after it always wakes the read below.
			c.mu.Lock()
			dl.SetReadDeadline(time.Time{})
			if c.running {
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
				a.rw.Write(f.b)
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
