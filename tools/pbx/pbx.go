package pbx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Registration limits (RFC 3261 section 10.3): a shorter request gets 423
// with Min-Expires; a longer one is cut to MaxExpires.
const (
	MinExpires     = 60
	MaxExpires     = 3600
	DefaultExpires = 3600
)

const (
	nonceLifetime  = 5 * time.Minute  // how long an issued nonce is accepted
	maxNonces      = 4096             // outstanding nonces kept at most
	cacheLifetime  = 32 * time.Second // Timer J/H-ish: our own final responses
	inviteLifetime = 3 * time.Minute  // forwarded INVITEs kept for CANCEL/ACK
	sweepEvery     = 100 * time.Millisecond
	t1             = 500 * time.Millisecond // RFC 3261 T1
	timerB         = 64 * t1
	maxDatagram    = 65535
)

// ErrClosed is returned by calls on a PBX that is not running.
var ErrClosed = errors.New("pbx: not running")

// Config configures a PBX.
type Config struct {
	// Listen is the UDP address to bind, "127.0.0.1:5060" when empty; port 0
	// picks a free port (see Addr).
	Listen string
	// Realm is the digest realm, "deskphone" when empty.
	Realm string
	// Users maps extension to password; DefaultUsers when nil.
	Users map[string]string
	// Logf, when set, receives one line per notable event.
	Logf func(format string, args ...any)
	// Trace, when set, is called with every ladder entry as it is recorded,
	// from the PBX's goroutine; it must not block for long.
	Trace func(Entry)

	// VoicemailNumber is the number that reaches the mailboxes
	// (voicemail.go), "8000" when empty; "8000*1002" leaves a message for
	// 1002.
	VoicemailNumber string
	// VoicemailDir holds one folder per mailbox (EXT/new, EXT/old, WAV
	// files); when empty Start makes a temporary folder (see VoicemailDir).
	VoicemailDir string
	// VoicemailMax is the longest message recorded, 60 s when zero.
	VoicemailMax time.Duration
	// NoVoicemailFallback turns off sending a call to the callee's mailbox
	// when the callee answers 486, 480 or 408 or is not registered.
	NoVoicemailFallback bool
	// NoAnswer, when set, is how long the PBX lets a callee ring before it
	// cancels the call there and sends it to the callee's mailbox (0: the
	// phone decides, with its own no-answer forwarding).
	NoAnswer time.Duration

	// MaxRelays bounds the calls whose media the PBX relays for phones
	// behind a NAT at once (relay.go), DefaultMaxRelays when zero; a call
	// beyond it keeps direct media.
	MaxRelays int
	// MediaIdle closes a call's media relay after that long without a
	// packet or a SIP message for the call, DefaultMediaIdle when zero.
	MediaIdle time.Duration
}

// PBX is a running (or ready to run) development PBX.
type PBX struct {
	cfg   Config
	token string // per-instance: in Record-Route users, branches, To tags
	now   func() time.Time

	conn *net.UDPConn
	addr *net.UDPAddr

	// resolve turns host:port into an address (tests: IP literals only);
	// write puts a datagram on the wire (tests: nowhere).
	resolve func(hostport string) (*net.UDPAddr, error)
	write   func(b []byte, dst *net.UDPAddr) error

	ladder ladder

	mu      sync.Mutex // guards started/running
	started bool
	calls   chan func()
	done    chan struct{}
	stop    sync.Once
	wg      sync.WaitGroup

	tmpVoicemail bool // VoicemailDir made by Start: removed by Close

	// Owned by the loop goroutine.
	st *state
}

// New checks cfg and returns a PBX; it does no I/O.
func New(cfg Config) (*PBX, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:5060"
	}
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		return nil, fmt.Errorf("pbx: listen address %q: %w", cfg.Listen, err)
	}
	if cfg.Realm == "" {
		cfg.Realm = "deskphone"
	}
	if strings.ContainsAny(cfg.Realm, "\"\\\r\n") {
		return nil, fmt.Errorf("pbx: bad realm %q", cfg.Realm)
	}
	if cfg.Users == nil {
		cfg.Users = DefaultUsers()
	}
	users := make(map[string]string, len(cfg.Users))
	for ext, pw := range cfg.Users {
		if ext == "" || pw == "" {
			return nil, fmt.Errorf("pbx: empty extension or password for %q", ext)
		}
		users[ext] = pw
	}
	cfg.Users = users
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.VoicemailNumber == "" {
		cfg.VoicemailNumber = DefaultVoicemailNumber
	}
	if _, clash := users[cfg.VoicemailNumber]; clash || strings.ContainsAny(cfg.VoicemailNumber, " \t@;<>\"*") {
		return nil, fmt.Errorf("pbx: bad voicemail number %q", cfg.VoicemailNumber)
	}
	if cfg.MaxRelays <= 0 {
		cfg.MaxRelays = DefaultMaxRelays
	}
	if cfg.MediaIdle <= 0 {
		cfg.MediaIdle = DefaultMediaIdle
	}
	if cfg.VoicemailMax <= 0 {
		cfg.VoicemailMax = DefaultVoicemailMax
	}
	tok := make([]byte, 4)
	_, _ = rand.Read(tok)
	p := &PBX{
		cfg:   cfg,
		token: hex.EncodeToString(tok),
		now:   time.Now,
		calls: make(chan func()),
		done:  make(chan struct{}),
	}
	p.ladder.size = LadderSize
	p.resolve = func(hp string) (*net.UDPAddr, error) { return net.ResolveUDPAddr("udp", hp) }
	p.write = func(b []byte, dst *net.UDPAddr) error {
		_, err := p.conn.WriteToUDP(b, dst)
		return err
	}
	p.st = newState()
	return p, nil
}

// Start binds the UDP socket and starts serving until ctx ends or Close.
func (p *PBX) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return errors.New("pbx: already started")
	}
	select {
	case <-p.done:
		return ErrClosed // closed before it started
	default:
	}
	la, err := net.ResolveUDPAddr("udp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("pbx: listen address: %w", err)
	}
	if err := p.openMailboxes(); err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp", la)
	if err != nil {
		return fmt.Errorf("pbx: listen: %w", err)
	}
	p.conn = conn
	p.addr = conn.LocalAddr().(*net.UDPAddr)
	if p.addr.IP.IsUnspecified() {
		// Advertise loopback when bound to all interfaces.
		p.addr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.addr.Port}
	}
	p.started = true
	pkts := make(chan packet, 64)
	p.wg.Add(3)
	go p.read(pkts)
	go p.loop(pkts)
	go func() {
		defer p.wg.Done()
		select {
		case <-ctx.Done():
			p.shutdown()
		case <-p.done:
		}
	}()
	p.cfg.Logf("pbx: listening on udp %s, realm %q, %d users", p.addr, p.cfg.Realm, len(p.cfg.Users))
	return nil
}

// Addr returns the address the PBX listens on (nil before Start).
func (p *PBX) Addr() *net.UDPAddr {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addr == nil {
		return nil
	}
	a := *p.addr
	return &a
}

// Close stops the PBX and waits for its goroutines.
func (p *PBX) Close() error {
	p.shutdown()
	p.wg.Wait()
	if p.tmpVoicemail {
		os.RemoveAll(p.cfg.VoicemailDir)
	}
	return nil
}

func (p *PBX) shutdown() {
	p.stop.Do(func() {
		close(p.done)
		p.mu.Lock()
		if p.conn != nil {
			p.conn.Close()
		}
		p.mu.Unlock()
	})
}

// do runs f on the loop goroutine and waits for it.
func (p *PBX) do(f func()) error {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		return ErrClosed
	}
	fin := make(chan struct{})
	select {
	case p.calls <- func() { f(); close(fin) }:
	case <-p.done:
		return ErrClosed
	}
	<-fin
	return nil
}

// Registered reports whether ext has a live binding.
func (p *PBX) Registered(ext string) bool {
	var ok bool
	_ = p.do(func() { ok = len(p.st.live(ext, p.now())) > 0 })
	return ok
}

// WaitRegistered returns when ext has a live binding, or with an error when
// ctx ends or the PBX stops first.
func (p *PBX) WaitRegistered(ctx context.Context, ext string) error {
	for {
		var ok bool
		var ch chan struct{}
		err := p.do(func() {
			if len(p.st.live(ext, p.now())) > 0 {
				ok = true
				return
			}
			ch = make(chan struct{})
			p.st.waiters[ext] = append(p.st.waiters[ext], ch)
		})
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("pbx: waiting for %s to register: %w", ext, ctx.Err())
		case <-p.done:
			return ErrClosed
		}
	}
}

// Ladder returns a copy of the recorded messages, oldest first (at most
// LadderSize, the most recent).
func (p *PBX) Ladder() []Entry { return p.ladder.snapshot() }

type packet struct {
	data []byte
	src  *net.UDPAddr
	at   time.Time
}

func (p *PBX) read(out chan<- packet) {
	defer p.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, src, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			select {
			case <-p.done:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			p.cfg.Logf("pbx: read: %v", err)
			p.shutdown()
			return
		}
		pk := packet{data: append([]byte(nil), buf[:n]...), src: src}
		select {
		case out <- pk:
		case <-p.done:
			return
		}
	}
}

func (p *PBX) loop(in <-chan packet) {
	defer p.wg.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	defer func() {
		for id := range p.st.relays {
			p.closeRelay(id)
		}
	}()
	for {
		select {
		case pk := <-in:
			p.handle(pk.data, pk.src)
		case f := <-p.calls:
			f()
		case <-t.C:
			p.retransmit(p.now())
			p.tickUAC(p.now())
			p.tickVoicemail(p.now())
			p.st.sweep(p.now())
			p.sweepRelays()
		case <-p.done:
			return
		}
	}
}

// record adds a ladder entry and traces it.
func (p *PBX) record(dir string, peer *net.UDPAddr, m *sipmsg.Message, raw []byte) {
	e := newEntry(p.now(), dir, peer, m, raw)
	p.ladder.add(e)
	if p.cfg.Trace != nil {
		p.cfg.Trace(e)
	}
}

// send marshals m, records it and writes it to dst; it returns the bytes.
func (p *PBX) send(m *sipmsg.Message, dst *net.UDPAddr) []byte {
	raw := m.AppendTo(nil)
	p.sendRaw(m, raw, dst)
	return raw
}

func (p *PBX) sendRaw(m *sipmsg.Message, raw []byte, dst *net.UDPAddr) {
	if dst == nil {
		return
	}
	if dst.IP.Equal(p.addr.IP) && dst.Port == p.addr.Port {
		p.cfg.Logf("pbx: not sending %q to myself", startLine(m))
		return
	}
	p.record("out", dst, m, raw)
	if err := p.write(raw, dst); err != nil {
		p.cfg.Logf("pbx: send to %s: %v", dst, err)
	}
}

func startLine(m *sipmsg.Message) string {
	if m == nil {
		return ""
	}
	if m.IsRequest() {
		return m.Method + " " + m.RequestURI
	}
	return fmt.Sprintf("%d %s", m.StatusCode, m.Reason)
}
