package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Stream defaults.
const (
	DefaultMaxMessage  = 64 << 10
	DefaultMaxConns    = 64
	DefaultIdleTimeout = 5 * time.Minute
	DefaultDialTimeout = 5 * time.Second
	writeTimeout       = 10 * time.Second
	sendQueue          = 32
)

// Errors Stream.Send returns.
var (
	ErrTooManyConns = errors.New("transport: too many connections")
	ErrQueueFull    = errors.New("transport: connection send queue full")
	ErrStreamClosed = errors.New("transport: stream transport closed")
)

// StreamConfig configures a Stream.
type StreamConfig struct {
	// TLS makes this a TLS transport. Server is the listener's
	// configuration (it needs Certificates; nil: TLS is only dialled).
	// Client is the dialler's: RootCAs (nil: the system roots) and the
	// client certificate (Certificates) a server that asks gets;
	// ServerName is set per connection, and the server's certificate is
	// always verified against it (a failure is a *CertError).
	TLS         bool
	ServerTLS   *tls.Config
	ClientTLS   *tls.Config
	MaxMessage  int           // bytes; 0 = DefaultMaxMessage
	MaxConns    int           // live connections, both ways; 0 = DefaultMaxConns
	IdleTimeout time.Duration // a connection with no traffic either way is closed; 0 = DefaultIdleTimeout
	DialTimeout time.Duration // connect and TLS handshake; 0 = DefaultDialTimeout
	// Handler gets every message (b is fresh and owned by it) with the
	// connection's remote address. Called from the connection's reader.
	Handler func(b []byte, from *net.UDPAddr)
	// Oversize is called with the head of a message over MaxMessage; it may
	// return a response (413) to write before the connection is closed.
	// nil: the connection is just closed.
	Oversize func(head []byte, from *net.UDPAddr) []byte
	// Closed is called, from the connection's goroutine, when a
	// connection has closed; dialErr is why one we opened never came up
	// (connect or TLS handshake), nil otherwise. nil: none.
	Closed func(remote *net.UDPAddr, dialErr error)
	// Logf reports connection events; nil = silent.
	Logf func(format string, args ...any)
}

// Stream is the TCP or TLS transport (RFC 3261 section 18.3): a listener, a
// table of connections keyed by remote address that requests and responses
// reuse, framing by Content-Length, RFC 5626 CRLF keepalives (a ping is
// answered with a pong), idle timeout and a bound on connections.
type Stream struct {
	cfg    StreamConfig
	ln     net.Listener
	mu     sync.Mutex
	conns  map[netip.AddrPort]*streamConn
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

type streamConn struct {
	s       *Stream
	remote  netip.AddrPort
	addr    *net.UDPAddr
	out     chan []byte
	done    chan struct{}
	once    sync.Once
	lastUse atomic.Int64 // unix nanoseconds of the last read or write
	heard   atomic.Bool  // something came from the peer
}

// NewStream returns a Stream that does no I/O until Listen or Send.
func NewStream(cfg StreamConfig) *Stream {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Stream{cfg: cfg, conns: map[netip.AddrPort]*streamConn{}, ctx: ctx, cancel: cancel}
}

func (s *Stream) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

func (s *Stream) name() string {
	if s.cfg.TLS {
		return "tls"
	}
	return "tcp"
}

// Listen binds addr and accepts connections (in the background) until Close.
func (s *Stream) Listen(addr string) error {
	if s.cfg.TLS && (s.cfg.ServerTLS == nil || len(s.cfg.ServerTLS.Certificates) == 0 && s.cfg.ServerTLS.GetCertificate == nil) {
		return errors.New("transport: TLS listener without a certificate")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrStreamClosed
	}
	s.ln = ln
	s.wg.Add(1)
	s.mu.Unlock()
	go s.accept(ln)
	return nil
}

// LocalAddr is the listener's address (nil without Listen).
func (s *Stream) LocalAddr() *net.TCPAddr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr().(*net.TCPAddr)
}

func (s *Stream) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: do not spin
			continue
		}
		ap := addrPort(c.RemoteAddr())
		sc, err := s.add(ap, false)
		if err != nil {
			s.logf("transport: %s from %v refused: %v", s.name(), ap, err)
			c.Close()
			continue
		}
		if s.cfg.TLS {
			c = tls.Server(c, s.cfg.ServerTLS)
		}
		sc.start(c, nil)
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func key(a *net.UDPAddr) netip.AddrPort {
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// add registers a new connection to ap (not yet started). With the table
// full, a connection we open (evict) closes the least recently used one;
// one a peer opens is refused.
func (s *Stream) add(ap netip.AddrPort, evict bool) (*streamConn, error) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStreamClosed
	}
	if len(s.conns) >= s.cfg.MaxConns {
		if !evict {
			return nil, ErrTooManyConns
		}
		var lru *streamConn
		for _, c := range s.conns {
			if lru == nil || c.lastUse.Load() < lru.lastUse.Load() {
				lru = c
			}
		}
		delete(s.conns, lru.remote)
		go lru.close()
	}
	if old := s.conns[ap]; old != nil {
		// The peer reconnected from the same address: the new one wins.
		go old.close()
	}
	sc := &streamConn{s: s, remote: ap, addr: net.UDPAddrFromAddrPort(ap), out: make(chan []byte, sendQueue), done: make(chan struct{})}
	sc.lastUse.Store(time.Now().UnixNano())
	s.conns[ap] = sc
	s.wg.Add(1)
	return sc, nil
}

// Has reports whether a connection to or from to is open (or opening).
func (s *Stream) Has(to *net.UDPAddr) bool {
	if to == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[key(to)] != nil
}

// Len is the number of connections.
func (s *Stream) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Send queues b on the connection to to, opening one if there is none
// (TLS: verifying the server as serverName, or as to's IP address when
// serverName is ""). A connection that then fails to open drops what was
// queued (and logs it); Send itself does not wait for the network.
// b must not be changed after the call.
func (s *Stream) Send(b []byte, to *net.UDPAddr, serverName string) error {
	if to == nil {
		return errors.New("transport: no destination")
	}
	ap := key(to)
	s.mu.Lock()
	sc := s.conns[ap]
	s.mu.Unlock()
	if sc != nil {
		select {
		case <-sc.done: // closing: a new one takes its place
			sc = nil
		default:
		}
	}
	if sc == nil {
		var err error
		if sc, err = s.add(ap, true); err != nil {
			return fmt.Errorf("transport: %s to %v: %w", s.name(), to, err)
		}
		sc.start(nil, &dialInfo{serverName: serverName})
	}
	// Queued first: a connection that has just failed to open (its dial
	// already refused) reports why through Closed, which a random pick
	// between a free queue and done would now and then have turned into
	// this error instead (TestStreamDialFails).
	select {
	case sc.out <- b:
		return nil
	default:
	}
	select {
	case <-sc.done:
		return fmt.Errorf("transport: %s to %v: connection closed", s.name(), to)
	default:
		return fmt.Errorf("transport: %s to %v: %w", s.name(), to, ErrQueueFull)
	}
}

// CloseConn closes the connection to or from to, if any.
func (s *Stream) CloseConn(to *net.UDPAddr) {
	s.mu.Lock()
	sc := s.conns[key(to)]
	s.mu.Unlock()
	if sc != nil {
		sc.close()
	}
}

// Close closes the listener and every connection and waits for their
// goroutines.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln := s.ln
	conns := make([]*streamConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.close()
	}
	s.wg.Wait()
	return nil
}

type dialInfo struct{ serverName string }

// start runs the connection: c is an accepted connection, or nil with d to
// dial. The writer goroutine owns dialling; the reader starts once the
// connection is up.
func (sc *streamConn) start(c net.Conn, d *dialInfo) {
	up := make(chan net.Conn, 1)
	if c != nil {
		up <- c
	}
	go sc.writer(up, d)
}

func (sc *streamConn) close() { sc.closeWith(nil) }

// closeWith closes the connection (once); dialErr says why it never opened.
func (sc *streamConn) closeWith(dialErr error) {
	sc.once.Do(func() {
		close(sc.done)
		s := sc.s
		s.mu.Lock()
		if s.conns[sc.remote] == sc {
			delete(s.conns, sc.remote)
		}
		s.mu.Unlock()
		if s.cfg.Closed != nil {
			s.cfg.Closed(sc.addr, dialErr)
		}
	})
}

func (sc *streamConn) dial(d *dialInfo) (net.Conn, error) {
	s := sc.s
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.DialTimeout)
	defer cancel()
	go func() {
		select {
		case <-sc.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var nd net.Dialer
	c, err := nd.DialContext(ctx, "tcp", sc.remote.String())
	if err != nil {
		return nil, err
	}
	if !s.cfg.TLS {
		return c, nil
	}
	cfg := &tls.Config{}
	if s.cfg.ClientTLS != nil {
		cfg = s.cfg.ClientTLS.Clone()
	}
	cfg.InsecureSkipVerify = false // a server always proves who it is
	cfg.ServerName = d.serverName
	if cfg.ServerName == "" {
		cfg.ServerName = sc.remote.Addr().String()
	}
	d.serverName = cfg.ServerName // for a RefusedError
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, certError(cfg.ServerName, err)
	}
	return tc, nil
}

// writer dials if needed, starts the reader, then writes what is queued
// until the connection closes.
func (sc *streamConn) writer(up chan net.Conn, d *dialInfo) {
	s := sc.s
	defer s.wg.Done()
	var c net.Conn
	if d != nil {
		var err error
		if c, err = sc.dial(d); err != nil {
			s.logf("transport: %s to %v: %v", s.name(), sc.remote, err)
			sc.closeWith(fmt.Errorf("transport: %s to %v: %w", s.name(), sc.remote, err))
			return
		}
		s.logf("transport: %s connected to %v", s.name(), sc.remote)
	} else {
		c = <-up
		if tc, ok := c.(*tls.Conn); ok {
			_ = tc.SetDeadline(time.Now().Add(s.cfg.DialTimeout))
			if err := tc.Handshake(); err != nil {
				s.logf("transport: tls from %v: %v", sc.remote, err)
				c.Close()
				sc.close()
				return
			}
			_ = tc.SetDeadline(time.Time{})
		}
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc.read(c, d)
	}()
	defer func() {
		c.Close()
		<-readerDone
	}()
	for {
		select {
		case b := <-sc.out:
			_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := c.Write(b); err != nil {
				s.logf("transport: %s to %v: %v", s.name(), sc.remote, err)
				if d != nil && s.cfg.TLS && !sc.heard.Load() {
					// A server that refused us in its handshake may have
					// closed before this write: its alert is for the
					// reader to find (read), which then says so. Else
					// the write's error says it.
					select {
					case <-readerDone:
					case <-time.After(2 * time.Second):
					}
					sc.closeWith(fmt.Errorf("transport: %s to %v: %w", s.name(), sc.remote, &RefusedError{Name: d.serverName, Err: err}))
					return
				}
				sc.close()
				return
			}
			sc.lastUse.Store(time.Now().UnixNano())
		case <-sc.done:
			return
		}
	}
}

// read frames messages until the connection fails, goes idle or breaks the
// framing rules.
//
// A TLS connection we opened (d != nil) that the server ends (with an
// alert, a reset or a close) before sending anything refused us in its
// handshake (TLS 1.3 finishes the client's side first, so a server that
// wants a client certificate it did not get says so here): that is a
// connection that never came up, closed with a *RefusedError as the dial
// error, so its requests fail at once.
func (sc *streamConn) read(c net.Conn, d *dialInfo) {
	s := sc.s
	defer sc.close()
	f := newFramer(s.cfg.MaxMessage)
	for {
		for {
			kind, msg, err := f.next()
			if errors.Is(err, errNeedMore) {
				break
			}
			if err != nil {
				s.logf("transport: %s from %v: %v; closing", s.name(), sc.remote, err)
				if errors.Is(err, ErrTooBig) && msg != nil && s.cfg.Oversize != nil {
					if r := s.cfg.Oversize(append([]byte(nil), msg...), sc.addr); r != nil {
						_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
						_, _ = c.Write(r)
					}
				}
				return
			}
			switch kind {
			case framePing:
				select { // pong (RFC 5626 section 3.5.1)
				case sc.out <- crlf:
				default:
				}
			case frameMessage:
				if s.cfg.Handler != nil {
					s.cfg.Handler(append([]byte(nil), msg...), sc.addr)
				}
			}
		}
		buf := f.space()
		if len(buf) == 0 { // cannot happen: next reports ErrTooBig first
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		n, err := c.Read(buf)
		if n > 0 {
			f.wrote(n)
			sc.lastUse.Store(time.Now().UnixNano())
			sc.heard.Store(true)
			continue
		}
		if err != nil && d != nil && s.cfg.TLS && !sc.heard.Load() && refusal(err) {
			s.logf("transport: %s to %v: %v", s.name(), sc.remote, err)
			sc.closeWith(fmt.Errorf("transport: %s to %v: %w", s.name(), sc.remote, &RefusedError{Name: d.serverName, Err: err}))
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if time.Since(time.Unix(0, sc.lastUse.Load())) < s.cfg.IdleTimeout {
					continue // writes kept it busy
				}
				s.logf("transport: %s %v idle; closing", s.name(), sc.remote)
			}
			return
		}
	}
}

// refusal reports whether a read error on a TLS connection we opened,
// before anything came on it, is the server ending it: a TLS alert
// (crypto/tls reports one as a *net.OpError with Op "remote error"), or
// the reset or close that may overtake the alert; not our own close or
// the idle timeout.
func refusal(err error) bool {
	var ne net.Error
	return !errors.Is(err, net.ErrClosed) && !(errors.As(err, &ne) && ne.Timeout())
}
