package panel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// sysVirtioPorts is where the kernel names the virtio-serial ports; there is
// no udev in the guest, so /dev/vportNpM is found from here.
const sysVirtioPorts = "/sys/class/virtio-ports"

// hostPoll is how often a port without a host client looks for one: while
// none is connected, poll reports POLLHUP at once, so there is nothing to
// wait on.
const hostPoll = 100 * time.Millisecond

// OpenVirtio serves the panel on the virtio-serial ports named "panel" and
// "panel.audio" (the qemu board). The host side may connect and go away at
// any time; each host client is greeted with a ready line.
func (s *Server) OpenVirtio() error {
	ctl, err := findPort("panel")
	if err != nil {
		return err
	}
	aud, err := findPort("panel.audio")
	if err != nil {
		return err
	}
	pc, err := openPort(ctl)
	if err != nil {
		return err
	}
	pa, err := openPort(aud)
	if err != nil {
		pc.Close()
		return err
	}
	if err := s.addCloser(pc); err != nil {
		pa.Close()
		return err
	}
	if err := s.addCloser(pa); err != nil {
		return err
	}
	s.start()
	go pc.serve(s.serveControl)
	go pa.serve(s.serveAudio)
	return nil
}

// findPort returns the /dev path of the virtio-serial port with this name.
func findPort(name string) (string, error) {
	m, _ := filepath.Glob(filepath.Join(sysVirtioPorts, "*", "name"))
	for _, f := range m {
		b, err := os.ReadFile(f)
		if err != nil || strings.TrimSpace(string(b)) != name {
			continue
		}
		return "/dev/" + filepath.Base(filepath.Dir(f)), nil
	}
	return "", fmt.Errorf("panel: no virtio-serial port named %q", name)
}

// vport is one virtio-serial port, opened non-blocking.
type vport struct {
	mu     sync.RWMutex // fd use (R) against close (W)
	fd     int
	done   chan struct{}
	closed sync.Once
}

func openPort(path string) (*vport, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("panel: open %s: %w", path, err)
	}
	return &vport{fd: fd, done: make(chan struct{})}, nil
}

func (p *vport) Close() error {
	p.closed.Do(func() {
		close(p.done)
		p.mu.Lock()
		unix.Close(p.fd)
		p.fd = -1
		p.mu.Unlock()
	})
	return nil
}

// poll waits up to d for ev on the port; it returns the revents.
func (p *vport) poll(ev int16, d time.Duration) (int16, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.fd < 0 {
		return 0, ErrClosed
	}
	fds := []unix.PollFd{{Fd: int32(p.fd), Events: ev}}
	_, err := unix.Poll(fds, int(d/time.Millisecond))
	if err != nil && !errors.Is(err, unix.EINTR) {
		return 0, fmt.Errorf("panel: poll: %w", err)
	}
	return fds[0].Revents, nil
}

// serve waits for each host client in turn and serves it.
func (p *vport) serve(serve func(rwc)) {
	t := time.NewTicker(hostPoll)
	defer t.Stop()
	for {
		re, err := p.poll(unix.POLLIN, 0)
		if err != nil {
			return
		}
		if re&unix.POLLHUP == 0 {
			serve(&vsession{p: p, done: make(chan struct{})})
			continue
		}
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// vsession is the port while one host client is connected: reads end with
// io.EOF when the host goes away.
type vsession struct {
	p    *vport
	done chan struct{}
	once sync.Once
}

func (v *vsession) Close() error {
	v.once.Do(func() { close(v.done) })
	return nil
}

func (v *vsession) Read(b []byte) (int, error) {
	for {
		select {
		case <-v.done:
			return 0, io.EOF
		case <-v.p.done:
			return 0, io.EOF
		default:
		}
		re, err := v.p.poll(unix.POLLIN, hostPoll)
		if err != nil {
			return 0, err
		}
		if re&unix.POLLIN != 0 {
			n, err := v.read(b)
			if n > 0 {
				return n, nil
			}
			if err == nil || !errors.Is(err, unix.EAGAIN) {
				return 0, io.EOF // 0: the host went away
			}
			continue
		}
		if re&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			return 0, io.EOF
		}
	}
}

func (v *vsession) read(b []byte) (int, error) {
	v.p.mu.RLock()
	defer v.p.mu.RUnlock()
	if v.p.fd < 0 {
		return 0, ErrClosed
	}
	return unix.Read(v.p.fd, b)
}

// Write writes all of b, or drops the rest with errDropped if the host
// cannot take it within a moment: it never blocks the caller for long.
func (v *vsession) Write(b []byte) (int, error) {
	done := 0
	waited := false
	for done < len(b) {
		select {
		case <-v.done:
			return done, io.ErrClosedPipe
		default:
		}
		n, err := v.write(b[done:])
		if n > 0 {
			done += n
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			if waited {
				return done, errDropped
			}
			waited = true
			if _, err := v.p.poll(unix.POLLOUT, 20*time.Millisecond); err != nil {
				return done, err
			}
			continue
		}
		if err == nil {
			err = io.ErrShortWrite
		}
		return done, fmt.Errorf("panel: write: %w", err)
	}
	return done, nil
}

func (v *vsession) write(b []byte) (int, error) {
	v.p.mu.RLock()
	defer v.p.mu.RUnlock()
	if v.p.fd < 0 {
		return 0, ErrClosed
	}
	return unix.Write(v.p.fd, b)
}
