// Package panelhub shares one phone's virtual panel (docs/panel.md) among
// any number of clients: a person's terminal panel, a test, a second
// terminal, each attaching and detaching when it likes. The phone has one
// client per stream (a new one replaces the old, and over QEMU's
// virtio-serial there is only one); the hub is that client, and serves the
// same address forms itself.
//
//   - Control: every line from the phone goes to every client, except a
//     state replay (panel/3's "state begin" ... "state end"), which goes to
//     the client that asked for it. Lines from any client go to the phone.
//     A new client is greeted with the phone's ready and audio lines and
//     the replay of what the phone shows, so it starts where the others are.
//   - Audio: at 8000 samples/s and on the socket (a client's "audio rate
//     16000" and panel/4's "audio shm" are refused: the one stream serves
//     them all); the earpiece goes to every audio client (a slow one loses
//     frames, never holds the others); the microphone is the last audio
//     client to attach (the others' is read and dropped), handed back to
//     the one before when it leaves.
//
// When the phone goes away (it restarts, QEMU reboots it) the hub dials it
// again and routes its greeting's replay to every client.
package panelhub

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/hal/panel"
)

// earQueue is how many earpiece chunks wait for a slow audio client.
const earQueue = 32

// Hub is one phone's shared panel.
type Hub struct {
	phoneAddr, addr string
	logf            func(string, ...any)

	mu      sync.Mutex
	ctl     net.Conn // to the phone; nil while it is away
	aud     net.Conn
	ready   string // the phone's last ready line
	audio   string // and its last audio line
	clients map[*ctlClient]bool
	auds    []*audClient // in the order they attached: the last has the microphone
	asked   []*ctlClient // clients waiting for a replay, in request order
	replay  *ctlClient   // the client the replay now coming goes to; nil: all
	inState bool         // between state begin and state end

	closers []io.Closer
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

type ctlClient struct {
	c    net.Conn
	out  chan string
	done chan struct{}
	once sync.Once
}

func (c *ctlClient) close() { c.once.Do(func() { close(c.done); c.c.Close() }) }

// send queues a line; a client that falls 256 lines behind loses lines.
func (c *ctlClient) send(l string) {
	select {
	case c.out <- l:
	default:
	}
}

type audClient struct {
	c   net.Conn
	ear chan []byte
	odd []byte // a microphone byte waiting for its pair
}

// New serves the phone whose panel is at phoneAddr on addr (both panel.md
// address forms: unix:PATH or tcp:HOST:PORT). It returns once addr listens;
// the phone is dialled (and dialled again whenever it goes away) until
// Close.
func New(phoneAddr, addr string, logf func(string, ...any)) (*Hub, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	network, ctlAddr, audAddr, err := panel.Addrs(addr)
	if err != nil {
		return nil, fmt.Errorf("panelhub: %w", err)
	}
	if _, _, _, err := panel.Addrs(phoneAddr); err != nil {
		return nil, fmt.Errorf("panelhub: phone: %w", err)
	}
	lc, err := panel.ListenStream(network, ctlAddr)
	if err != nil {
		return nil, fmt.Errorf("panelhub: %w", err)
	}
	la, err := panel.ListenStream(network, audAddr)
	if err != nil {
		lc.Close()
		return nil, fmt.Errorf("panelhub: %w", err)
	}
	h := &Hub{phoneAddr: phoneAddr, addr: addr, logf: logf, clients: map[*ctlClient]bool{},
		closers: []io.Closer{lc, la}, done: make(chan struct{})}
	h.wg.Add(3)
	go h.acceptCtl(lc)
	go h.acceptAudio(la)
	go h.phoneLoop()
	return h, nil
}

// Addr is where the hub serves the phone's panel.
func (h *Hub) Addr() string { return h.addr }

// Close stops the hub and hangs up on the phone and every client.
func (h *Hub) Close() error {
	h.once.Do(func() {
		close(h.done)
		h.mu.Lock()
		for _, c := range h.closers {
			c.Close()
		}
		for c := range h.clients {
			c.close()
		}
		for _, a := range h.auds {
			a.c.Close()
		}
		if h.ctl != nil {
			h.ctl.Close()
			h.aud.Close()
		}
		h.mu.Unlock()
		h.wg.Wait()
		if network, ctl, aud, err := panel.Addrs(h.addr); err == nil && network == "unix" {
			removeSocket(ctl)
			removeSocket(aud)
		}
	})
	return nil
}

// phoneLoop keeps the hub connected to the phone.
func (h *Hub) phoneLoop() {
	defer h.wg.Done()
	network, ctlAddr, audAddr, _ := panel.Addrs(h.phoneAddr)
	var d net.Dialer
	for {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-h.done:
			case <-ctx.Done():
			}
			cancel()
		}()
		ctl, err := d.DialContext(ctx, network, ctlAddr)
		var aud net.Conn
		if err == nil {
			aud, err = d.DialContext(ctx, network, audAddr)
			if err != nil {
				ctl.Close()
			}
		}
		if err == nil {
			h.servePhone(ctl, aud)
		}
		cancel()
		select {
		case <-h.done:
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// servePhone relays one connection to the phone until it ends.
func (h *Hub) servePhone(ctl, aud net.Conn) {
	h.mu.Lock()
	select {
	case <-h.done:
		h.mu.Unlock()
		ctl.Close()
		aud.Close()
		return
	default:
	}
	h.ctl, h.aud = ctl, aud
	h.asked, h.replay, h.inState = nil, nil, false
	h.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the earpiece to every audio client
		defer wg.Done()
		buf := make([]byte, 4096)
		odd := 0 // a byte of a sample carried to the next read
		for {
			n, err := aud.Read(buf[odd:])
			if n += odd; n > 1 {
				// Whole samples only, so a client that loses a chunk
				// stays aligned.
				even := n &^ 1
				chunk := append([]byte(nil), buf[:even]...) // one copy, read by every client
				h.mu.Lock()
				for _, a := range h.auds {
					select {
					case a.ear <- chunk:
					default: // slow: this client loses the chunk
					}
				}
				h.mu.Unlock()
				odd = copy(buf, buf[even:n])
			} else {
				odd = n
			}
			if err != nil {
				ctl.Close() // the phone went: end the control side too
				return
			}
		}
	}()
	r := bufio.NewReaderSize(ctl, 4096)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			break
		}
		h.fromPhone(strings.TrimSuffix(l, "\n"))
	}
	aud.Close()
	wg.Wait()
	h.mu.Lock()
	h.ctl, h.aud = nil, nil
	h.mu.Unlock()
	select {
	case <-h.done:
	default:
		h.logf("panelhub: %s: the phone went away; dialling it again", h.phoneAddr)
	}
}

// fromPhone routes one line from the phone.
func (h *Hub) fromPhone(l string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case strings.HasPrefix(l, "ready "):
		h.ready = l
	case l == "audio on" || l == "audio off":
		h.audio = l
	case l == "state begin":
		h.inState, h.replay = true, nil
		if len(h.asked) > 0 {
			h.replay, h.asked = h.asked[0], h.asked[1:]
		}
	}
	if h.inState && h.replay != nil {
		h.replay.send(l)
	} else {
		for c := range h.clients {
			c.send(l)
		}
	}
	if l == "state end" {
		h.inState, h.replay = false, nil
	}
}

// toPhone sends one line to the phone; a client's "state" is noted so its
// replay comes back to it alone.
func (h *Hub) toPhone(from *ctlClient, l string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctl == nil {
		from.send("error the phone is not connected")
		return
	}
	switch t := strings.TrimSpace(l); {
	case t == "state":
		h.asked = append(h.asked, from)
	case strings.HasPrefix(t, "audio rate"):
		// One audio stream serves every client: it stays at the rate
		// each new panel client starts at (8000, panel.md).
		if t == "audio rate 8000" {
			from.send("audio rate 8000")
		} else {
			from.send("error a shared panel's audio stays at 8000 samples/s")
		}
		return
	case strings.HasPrefix(t, "audio shm"):
		// The phone's one audio stream is the hub's, fanned out to every
		// client: no client's file may take it (panel/4).
		from.send("error a shared panel's audio stays on its socket")
		return
	}
	h.ctl.SetWriteDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(h.ctl, l+"\n")
}

func (h *Hub) acceptCtl(l net.Listener) {
	defer h.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		cl := &ctlClient{c: c, out: make(chan string, 256), done: make(chan struct{})}
		h.mu.Lock()
		if h.ready == "" {
			h.mu.Unlock()
			// Not greeted by the phone yet: the client dials again
			// (panelclient retries until it sees ready).
			c.Close()
			continue
		}
		h.clients[cl] = true
		cl.send(h.ready)
		if h.audio != "" {
			cl.send(h.audio)
		}
		h.mu.Unlock()
		h.toPhone(cl, "state")
		h.wg.Add(2)
		go h.writeCtl(cl)
		go h.readCtl(cl)
	}
}

func (h *Hub) writeCtl(c *ctlClient) {
	defer h.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case <-h.done:
			return
		case l := <-c.out:
			c.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.WriteString(c.c, l+"\n"); err != nil {
				c.close()
				return
			}
		}
	}
}

func (h *Hub) readCtl(c *ctlClient) {
	defer h.wg.Done()
	r := bufio.NewReaderSize(c.c, 4096)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			break
		}
		h.toPhone(c, strings.TrimSuffix(l, "\n"))
	}
	c.close()
	h.mu.Lock()
	delete(h.clients, c)
	for i, a := range h.asked {
		if a == c {
			h.asked = append(h.asked[:i], h.asked[i+1:]...)
			break
		}
	}
	if h.replay == c {
		h.replay = nil
	}
	h.mu.Unlock()
}

func (h *Hub) acceptAudio(l net.Listener) {
	defer h.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		a := &audClient{c: c, ear: make(chan []byte, earQueue)}
		h.mu.Lock()
		h.auds = append(h.auds, a)
		h.mu.Unlock()
		h.wg.Add(2)
		go h.writeAudio(a)
		go h.readAudio(a)
	}
}

func (h *Hub) writeAudio(a *audClient) {
	defer h.wg.Done()
	for {
		select {
		case <-h.done:
			return
		case b, ok := <-a.ear:
			if !ok {
				return
			}
			a.c.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := a.c.Write(b); err != nil && !errors.Is(err, net.ErrClosed) {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue // slow: drop and go on
				}
				return
			}
		}
	}
}

// readAudio takes the client's microphone; while it is the last to have
// attached its samples go to the phone, whole ones only.
func (h *Hub) readAudio(a *audClient) {
	defer h.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, err := a.c.Read(buf)
		if n > 0 {
			h.mu.Lock()
			mine := len(h.auds) > 0 && h.auds[len(h.auds)-1] == a
			if mine && h.aud != nil {
				b := append(a.odd, buf[:n]...)
				even := len(b) &^ 1
				h.aud.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				h.aud.Write(b[:even])
				a.odd = append(a.odd[:0], b[even:]...)
			}
			h.mu.Unlock()
		}
		if err != nil {
			break
		}
	}
	a.c.Close()
	h.mu.Lock()
	for i, x := range h.auds {
		if x == a {
			h.auds = append(h.auds[:i], h.auds[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
}
