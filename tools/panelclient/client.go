package panelclient

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/hal/panel"
	"github.com/deskphone/deskphone/internal/quiet"
)

// maxHistory bounds the kept lines; the oldest are forgotten.
const maxHistory = 100000

// retryEvery is the pause between connection attempts while a phone starts.
// It is also long enough for a phone in QEMU to see that the host went away:
// a guest that misses a close and reconnect does not greet the new client.
const retryEvery = 300 * time.Millisecond

// readyWait is how long one attempt waits for the ready line before it
// hangs up and tries again.
const readyWait = 3 * time.Second

// Client is one connection to a phone's panel. Its methods are safe for
// concurrent use, except that audio reads and writes each belong to one
// goroutine at a time.
type Client struct {
	ctl   net.Conn
	audio net.Conn
	ready string

	mu      sync.Mutex
	lines   []string // lines[i] is line number base+i
	base    int
	notify  chan struct{} // closed and replaced on each new line
	readErr error

	wmu     sync.Mutex // control writes
	wbuf    []byte
	closeMu sync.Once

	// The earpiece ring, filled by drainAudio, and the stream's rate
	// (0: Rate).
	amu          sync.Mutex
	rate         int
	aring        []int16
	ahead, afill int
	anotify      chan struct{}
	aerr         error

	// batch is SetEarpieceBatch's period in nanoseconds (0: each frame
	// as it arrives); the rest is drainAudio's own.
	batch   atomic.Int64
	brc     syscall.RawConn
	bq      quiet.Socket
	btick   *time.Ticker
	bperiod time.Duration

	// The shared audio file (panel/4, ShareAudio), or nil: the socket.
	sh    atomic.Pointer[share]
	shDir string // where it is made: the audio socket's folder ("": not a unix socket)
}

// Dial connects to the phone's panel at addr, retrying until the phone has
// sent its ready line or ctx ends.
func Dial(ctx context.Context, addr string) (*Client, error) {
	network, ctlAddr, audAddr, err := panel.Addrs(addr)
	if err != nil {
		return nil, fmt.Errorf("panelclient: %w", err)
	}
	var d net.Dialer
	for {
		c, err := dialOnce(ctx, &d, network, ctlAddr, audAddr)
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("panelclient: dial %s: %w (last: %v)", addr, ctx.Err(), err)
		case <-time.After(retryEvery):
		}
	}
}

func dialOnce(ctx context.Context, d *net.Dialer, network, ctlAddr, audAddr string) (*Client, error) {
	ctl, err := d.DialContext(ctx, network, ctlAddr)
	if err != nil {
		return nil, err
	}
	c := &Client{ctl: ctl, notify: make(chan struct{})}
	if network == "unix" {
		c.shDir = filepath.Dir(audAddr)
	}
	go c.readLoop()
	// The ready line: the phone is there.
	rctx, cancel := context.WithTimeout(ctx, readyWait)
	l, err := c.Wait(rctx, regexp.MustCompile(`^ready `))
	cancel()
	if err != nil {
		ctl.Close()
		return nil, err
	}
	c.ready = l
	for {
		c.audio, err = d.DialContext(ctx, network, audAddr)
		if err == nil {
			c.aring = make([]int16, earKeep)
			c.anotify = make(chan struct{})
			go c.drainAudio()
			return c, nil
		}
		select {
		case <-ctx.Done():
			ctl.Close()
			return nil, err
		case <-time.After(retryEvery):
		}
	}
}

// Ready returns the phone's ready line, "ready BOARD VERSION panel/4".
func (c *Client) Ready() string { return c.ready }

func (c *Client) readLoop() {
	r := bufio.NewReader(c.ctl)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			c.mu.Lock()
			c.readErr = fmt.Errorf("panelclient: control stream: %w", err)
			close(c.notify)
			c.mu.Unlock()
			return
		}
		l = strings.TrimSuffix(l, "\n")
		c.mu.Lock()
		c.lines = append(c.lines, l)
		if len(c.lines) > maxHistory {
			n := len(c.lines) - maxHistory/2
			c.lines = append(c.lines[:0], c.lines[n:]...)
			c.base += n
		}
		close(c.notify)
		c.notify = make(chan struct{})
		c.mu.Unlock()
	}
}

// Send sends one control line, such as "hook off" or "dial 201".
func (c *Client) Send(line string) error {
	if strings.ContainsAny(line, "\n") {
		return errors.New("panelclient: a line must not hold a newline")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := io.WriteString(c.ctl, line+"\n"); err != nil {
		return fmt.Errorf("panelclient: send: %w", err)
	}
	return nil
}

// Mark returns the number of the next line to come; WaitAfter(mark, ...)
// sees only lines from there on.
func (c *Client) Mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base + len(c.lines)
}

// Lines returns the kept lines from mark on.
func (c *Client) Lines(mark int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := max(mark-c.base, 0)
	if i > len(c.lines) {
		return nil
	}
	return append([]string(nil), c.lines[i:]...)
}

// Wait returns the first line, of all the phone has sent, that matches re,
// waiting for it until ctx ends.
func (c *Client) Wait(ctx context.Context, re *regexp.Regexp) (string, error) {
	return c.WaitAfter(ctx, 0, re)
}

// WaitAfter is Wait for lines numbered mark or later (see Mark).
func (c *Client) WaitAfter(ctx context.Context, mark int, re *regexp.Regexp) (string, error) {
	for {
		c.mu.Lock()
		i := max(mark-c.base, 0)
		for ; i < len(c.lines); i++ {
			if re.MatchString(c.lines[i]) {
				l := c.lines[i]
				c.mu.Unlock()
				return l, nil
			}
		}
		mark = c.base + len(c.lines)
		n, rerr := c.notify, c.readErr
		c.mu.Unlock()
		if rerr != nil {
			return "", fmt.Errorf("panelclient: waiting for %q: %w", re, rerr)
		}
		select {
		case <-n:
		case <-ctx.Done():
			return "", fmt.Errorf("panelclient: waiting for %q: %w", re, ctx.Err())
		}
	}
}

var statusRE = regexp.MustCompile(`^status `)

// Status asks the phone for its status and returns what follows "status ".
func (c *Client) Status(ctx context.Context) (string, error) {
	m := c.Mark()
	if err := c.Send("status"); err != nil {
		return "", err
	}
	l, err := c.WaitAfter(ctx, m, statusRE)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(l, "status "), nil
}

// WriteAudio sends microphone samples to the phone: on the audio socket,
// or after ShareAudio into the shared file's ring (what it has no room
// for is dropped, as the phone drops what its ring cannot keep).
func (c *Client) WriteAudio(s []int16) error {
	if cap(c.wbuf) < 2*len(s) {
		c.wbuf = make([]byte, 2*len(s))
	}
	b := c.wbuf[:2*len(s)]
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if sh := c.sh.Load(); sh != nil && sh.writeMic(b) {
		return nil
	}
	if _, err := c.audio.Write(b); err != nil {
		return fmt.Errorf("panelclient: audio: %w", err)
	}
	return nil
}

// earKeep is how much earpiece audio the client keeps unread: it drains
// the stream all the time, so the phone (and QEMU between it and us) never
// waits on a client that is not listening.
const earKeep = WideRate // 1 s at the wideband rate

// SetEarpieceBatch makes the client take the earpiece stream in batches,
// every d, instead of as each frame arrives (d 0: as each arrives, the
// default). The audio socket then leaves the Go runtime's epoll interest
// here (internal/quiet), so a frame the phone writes wakes nothing in this
// process. It is for measuring the phone itself (tools/perf): a reader
// woken by each frame is a wake-up that the kernel, for a local socket's
// write, puts on the writer's processor, where it preempts the phone a
// moment after its write (perf sched: most of a sim phone's nonvoluntary
// switches in a call), as no codec chip does. What the stream says about
// the phone's timing is lost to d: MeasureMouthToEar in tools/lab needs 0.
// It takes effect after the next read.
func (c *Client) SetEarpieceBatch(d time.Duration) { c.batch.Store(int64(max(d, 0))) }

// MeasureBatch is the SetEarpieceBatch period of the tools that measure a
// phone in a call (tools/perf, tools/lab's BenchmarkWakeups): five frames.
const MeasureBatch = 100 * time.Millisecond

// drainAudio reads the earpiece stream into the ring until it ends.
func (c *Client) drainAudio() {
	buf := make([]byte, 4096)
	var carry byte
	odd := false
	for {
		var n int
		var err error
		if sh := c.sh.Load(); sh != nil {
			n, err = c.readShared(sh, buf)
		} else if d := time.Duration(c.batch.Load()); d > 0 {
			n, err = c.readBatch(buf, d)
		} else {
			c.unbatch()
			n, err = c.audio.Read(buf)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// ShareAudio's nudge: the stream moved to the file.
			c.audio.SetReadDeadline(time.Time{})
			n, err = 0, nil
		}
		b := buf[:n]
		c.amu.Lock()
		if odd && len(b) > 0 {
			c.pushLocked(int16(uint16(carry) | uint16(b[0])<<8))
			b = b[1:]
			odd = false
		}
		for ; len(b) >= 2; b = b[2:] {
			c.pushLocked(int16(binary.LittleEndian.Uint16(b)))
		}
		if len(b) == 1 {
			carry, odd = b[0], true
		}
		if err != nil {
			c.aerr = fmt.Errorf("panelclient: audio: %w", err)
		}
		if n > 0 || err != nil {
			close(c.anotify)
			c.anotify = make(chan struct{})
		}
		c.amu.Unlock()
		if err != nil {
			return
		}
	}
}

// readBatch is drainAudio's read in batches: what is waiting on the audio
// socket, read without blocking (up to len(buf): a fuller socket is read
// again at once), else nothing until the next tick of every d.
func (c *Client) readBatch(buf []byte, d time.Duration) (int, error) {
	if c.brc == nil {
		sc, ok := c.audio.(syscall.Conn)
		if !ok {
			return c.audio.Read(buf)
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return c.audio.Read(buf)
		}
		c.brc = rc
		c.bq.Mute(rc) // where it cannot, the socket still wakes this process, and nothing waits
	}
	if c.btick == nil || c.bperiod != d {
		if c.btick != nil {
			c.btick.Stop()
		}
		c.btick, c.bperiod = time.NewTicker(d), d
	}
	for {
		n, rerr, err := readNow(c.brc, buf)
		if err != nil {
			return 0, err
		}
		switch {
		case rerr == syscall.EAGAIN || rerr == syscall.EINTR:
			if c.sh.Load() != nil {
				return 0, nil // ShareAudio: the earpiece comes through the file
			}
			<-c.btick.C
		case rerr != nil:
			return 0, rerr
		case n == 0:
			return 0, io.EOF
		default:
			return n, nil
		}
	}
}

// readNow reads what waits on the socket, never waiting for the poller
// (the socket may be out of its interest): rerr is the read's own error
// (EAGAIN: nothing waits), err RawConn's (closed, a deadline).
func readNow(rc syscall.RawConn, buf []byte) (n int, rerr, err error) {
	err = rc.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), buf)
		return true
	})
	return n, rerr, err
}

// unbatch gives the audio socket back to the runtime's poller after
// SetEarpieceBatch(0).
func (c *Client) unbatch() {
	if c.brc == nil {
		return
	}
	c.bq.Unmute(c.brc)
	c.btick.Stop()
	c.brc, c.btick, c.bperiod = nil, nil, 0
}

func (c *Client) pushLocked(v int16) {
	i := (c.ahead + c.afill) % len(c.aring)
	c.aring[i] = v
	if c.afill < len(c.aring) {
		c.afill++
	} else {
		c.ahead = (c.ahead + 1) % len(c.aring)
	}
}

// ReadAudio reads earpiece samples into s, blocking until at least one
// arrives; it returns how many. Up to a second of audio that nobody read is
// kept; older audio is dropped.
func (c *Client) ReadAudio(s []int16) (int, error) {
	return c.readAudio(s, nil)
}

// readAudio is ReadAudio that gives up (0, nil) when stop is closed.
func (c *Client) readAudio(s []int16, stop <-chan time.Time) (int, error) {
	if len(s) == 0 {
		return 0, nil
	}
	for {
		c.amu.Lock()
		if c.afill > 0 {
			n := min(c.afill, len(s))
			for i := range n {
				s[i] = c.aring[c.ahead]
				c.ahead = (c.ahead + 1) % len(c.aring)
			}
			c.afill -= n
			c.amu.Unlock()
			return n, nil
		}
		notify, err := c.anotify, c.aerr
		c.amu.Unlock()
		if err != nil {
			return 0, err
		}
		select {
		case <-notify:
		case <-stop:
			return 0, nil
		}
	}
}

// FlushAudio drops the earpiece audio received so far and not yet read.
func (c *Client) FlushAudio() {
	c.amu.Lock()
	c.ahead, c.afill = 0, 0
	c.amu.Unlock()
}

// Close closes both streams.
func (c *Client) Close() error {
	c.closeMu.Do(func() {
		c.ctl.Close()
		if c.audio != nil {
			c.audio.Close()
		}
		if sh := c.sh.Swap(nil); sh != nil {
			sh.close()
		}
	})
	return nil
}
