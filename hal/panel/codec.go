package panel

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/deskphone/deskphone/hal"
)

// earFrames is how many earpiece frames may wait for the audio client.
const earFrames = 4

// micKeep is how much microphone audio is kept when the client sends
// faster than real time.
const micKeep = 200 * time.Millisecond

type frameBuf struct {
	b    []byte
	pool chan *frameBuf
}

// codec is the virtual codec: a frame clock, the earpiece queue and the
// microphone ring.
type codec struct {
	s *Server

	newTicker func(time.Duration) (<-chan time.Time, func())
	full      chan *frameBuf // earpiece frames for earLoop

	mu     sync.Mutex
	open   bool
	frame  int
	tick   <-chan time.Time
	stop   func()
	closed chan struct{} // closed when the codec closes
	pool   chan *frameBuf

	// mic ring, guarded by mu
	ring       []int16
	head, fill int

	// micHook, if set (by tests), is signalled after samples arrive.
	micHook chan struct{}
}

func (c *codec) init(s *Server) {
	c.s = s
	c.newTicker = realTicker
	c.full = make(chan *frameBuf, earFrames)
	c.ring = make([]int16, 8000*int(micKeep/time.Millisecond)/1000)
}

// Open starts the frame clock: rate samples/s, frame samples a frame.
func (s *Server) Open(rate, frame int) error { return s.codec.openCodec(rate, frame) }

// Exchange waits for the next frame period, sends ear to the audio client
// (dropped if it cannot take it now) and fills mic from what the client sent
// (silence where nothing arrived). It does not allocate.
func (s *Server) Exchange(ear, mic []int16) error { return s.codec.exchange(ear, mic) }

// Codec returns the panel's hal.Codec whose Close stops only the frame
// clock, so the phone can close and open it again between calls. Server's
// own Close ends the whole panel.
func (s *Server) Codec() hal.Codec { return codecView{&s.codec} }

type codecView struct{ c *codec }

func (v codecView) Open(rate, frame int) error      { return v.c.openCodec(rate, frame) }
func (v codecView) Exchange(ear, mic []int16) error { return v.c.exchange(ear, mic) }
func (v codecView) Close() error                    { v.c.close(); return nil }

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
	defer c.mu.Unlock()
	c.frame = frame
	c.pool = make(chan *frameBuf, earFrames)
	for range earFrames {
		c.pool <- &frameBuf{b: make([]byte, 2*frame), pool: c.pool}
	}
	n := max(rate*int(micKeep/time.Millisecond)/1000, 2*frame)
	if len(c.ring) != n {
		c.ring = make([]int16, n)
	}
	c.head, c.fill = 0, 0
	c.closed = make(chan struct{})
	c.tick, c.stop = c.newTicker(period)
	c.open = true
	return nil
}

func (c *codec) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open {
		return
	}
	c.open = false
	c.stop()
	close(c.closed)
}

func (c *codec) exchange(ear, mic []int16) error {
	c.mu.Lock()
	open, frame, tick, closed, pool := c.open, c.frame, c.tick, c.closed, c.pool
	c.mu.Unlock()
	if !open {
		return ErrClosed
	}
	if len(ear) != frame || len(mic) != frame {
		return fmt.Errorf("panel: codec: frame is %d samples, got ear %d mic %d", frame, len(ear), len(mic))
	}
	select {
	case <-tick:
	case <-closed:
		return ErrClosed
	}
	// Earpiece: to the client if a buffer is free, else dropped.
	select {
	case f := <-pool:
		for i, v := range ear {
			binary.LittleEndian.PutUint16(f.b[2*i:], uint16(v))
		}
		select {
		case c.full <- f:
		default: // frames of an earlier Open still queued
			pool <- f
		}
	default:
	}
	// Microphone: what has arrived, silence for the rest.
	c.mu.Lock()
	n := min(c.fill, len(mic))
	for i := range n {
		mic[i] = c.ring[c.head]
		c.head++
		if c.head == len(c.ring) {
			c.head = 0
		}
	}
	c.fill -= n
	c.mu.Unlock()
	clear(mic[n:])
	return nil
}

// push adds one microphone sample, dropping the oldest when the ring is full.
func (c *codec) push(v int16) {
	c.mu.Lock()
	c.pushLocked(v)
	c.mu.Unlock()
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

// pushBytes adds s16le samples (len(b) even).
func (c *codec) pushBytes(b []byte) {
	c.mu.Lock()
	for i := 0; i+1 < len(b); i += 2 {
		c.pushLocked(int16(binary.LittleEndian.Uint16(b[i:])))
	}
	c.mu.Unlock()
	if c.micHook != nil {
		select {
		case c.micHook <- struct{}{}:
		default:
		}
	}
}
