package panel

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
)

// Addrs splits a panel address into its control and audio addresses, as
// (network, address) pairs for net.Listen and net.Dial:
// "unix:/path/p.sock" is /path/p.sock and /path/p.sock.audio;
// "tcp:host:port" is port and port+1.
func Addrs(addr string) (network, ctl, audio string, err error) {
	kind, rest, ok := strings.Cut(addr, ":")
	switch {
	case ok && kind == "unix" && rest != "":
		return "unix", rest, rest + ".audio", nil
	case ok && kind == "tcp":
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return "", "", "", fmt.Errorf("panel: address %q: %w", addr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65534 {
			return "", "", "", fmt.Errorf("panel: address %q: bad port", addr)
		}
		return "tcp", net.JoinHostPort(host, port), net.JoinHostPort(host, strconv.Itoa(p+1)), nil
	}
	return "", "", "", fmt.Errorf("panel: address %q: want unix:/path or tcp:host:port", addr)
}

// Listen serves the panel on addr ("unix:/path/p.sock" or
// "tcp:127.0.0.1:7000", see Addrs) and returns once both streams listen.
// A stale unix socket file at the path is replaced.
func (s *Server) Listen(addr string) error {
	network, ctl, aud, err := Addrs(addr)
	if err != nil {
		return err
	}
	lc, err := ListenStream(network, ctl)
	if err != nil {
		return err
	}
	la, err := ListenStream(network, aud)
	if err != nil {
		lc.Close()
		return err
	}
	if err := s.addCloser(lc); err != nil {
		la.Close()
		return err
	}
	if err := s.addCloser(la); err != nil {
		return err
	}
	s.start()
	go s.accept(lc, s.serveControl, false)
	go s.accept(la, s.serveAudio, true)
	return nil
}

// ListenStream listens on one of the addresses Addrs returns, replacing a
// stale unix socket file; tools that serve the panel's address forms (the
// panel hub) listen with it too.
func ListenStream(network, addr string) (net.Listener, error) {
	if network == "unix" {
		if fi, err := os.Lstat(addr); err == nil && fi.Mode().Type() == fs.ModeSocket {
			os.Remove(addr)
		}
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("panel: %w", err)
	}
	return l, nil
}

func (s *Server) accept(l net.Listener, serve func(c rwc), audio bool) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.done:
				return
			default:
			}
			continue
		}
		if audio {
			// Keep the kernel from queueing seconds of unread earpiece audio.
			type bufSetter interface {
				SetWriteBuffer(int) error
				SetReadBuffer(int) error
			}
			if b, ok := c.(bufSetter); ok {
				b.SetWriteBuffer(4096)
			}
		}
		go serve(c)
	}
}

func (s *Server) start() {
	s.startOnce.Do(func() { go s.earLoop() })
}
