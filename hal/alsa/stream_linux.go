//go:build linux && (arm64 || amd64)

package alsa

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

type linuxStream struct {
	path           string
	fd             int
	channels       int
	period, buffer int
	startThreshold int
	rate           int

	// The descriptor in the runtime's netpoller (nil: it could not be,
	// and the transfers are blocking ioctls): a transfer that finds too
	// few frames (EAGAIN) parks its goroutine until the device's poll says
	// a period is there (capture) or room is (playback), instead of
	// blocking its thread in an ioctl entered the runtime's way, which
	// wakes the runtime's sysmon thread to watch it every frame
	// (DESIGN.md, "Wake-ups").
	f     *os.File
	rc    syscall.RawConn
	xfer  xferi
	req   uintptr
	errno unix.Errno
	fn    func(fd uintptr) bool // s.try, bound once
	stall time.Duration         // no period for this long: a stalled device (EIO)
}

func openStream(name string, capture bool, p streamParams) (stream, error) {
	d, err := ParseDevice(name)
	if err != nil {
		return nil, err
	}
	cards, _ := os.ReadFile("/proc/asound/cards")
	card, err := CardIndex(d.Card, cards)
	if err != nil {
		return nil, err
	}
	path := d.Path(card, capture)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("alsa: open %s: %w", path, err)
	}
	s := &linuxStream{path: path, fd: fd, channels: p.channels, startThreshold: p.startThreshold, rate: p.rate}
	if err := s.setup(p); err != nil {
		unix.Close(fd)
		return nil, err
	}
	s.poll()
	return s, nil
}

// poll puts the descriptor in the runtime's netpoller, or back in
// blocking mode where that cannot be (SetReadDeadline says whether the
// file is polled).
func (s *linuxStream) poll() {
	f := os.NewFile(uintptr(s.fd), s.path)
	rc, err := f.SyscallConn()
	if err != nil || f.SetReadDeadline(time.Time{}) != nil {
		unix.SetNonblock(s.fd, false)
		s.f = f // closes the descriptor
		return
	}
	s.f, s.rc = f, rc
	s.fn = s.try
	// The kernel's own wait for a period in a blocking transfer gives up
	// after 10 s (EIO); a polled one after two buffers' time, at least 1 s.
	s.stall = max(time.Second, 2*time.Duration(s.buffer)*time.Second/time.Duration(max(s.rate, 1)))
}

func (s *linuxStream) ioctl(req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), req, uintptr(arg))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

func (s *linuxStream) setup(p streamParams) error {
	var hw hwParams
	hw.set(p)
	if err := s.ioctl(ioctlHwParams, unsafe.Pointer(&hw)); err != nil {
		return fmt.Errorf("alsa: %s: hw_params (%d Hz, %d ch, period %d x %d): %w", s.path, p.rate, p.channels, p.period, p.periods, err)
	}
	s.period = int(hw.interval(paramPeriodSize).min)
	s.buffer = int(hw.interval(paramBufferSize).min)
	sw := swParams{
		availMin:       uint64(s.period),
		startThreshold: uint64(min(p.startThreshold, s.buffer)),
		stopThreshold:  uint64(s.buffer),
	}
	if err := s.ioctl(ioctlSwParams, unsafe.Pointer(&sw)); err != nil {
		return fmt.Errorf("alsa: %s: sw_params: %w", s.path, err)
	}
	return s.prepare()
}

func (s *linuxStream) granted() (int, int) { return s.period, s.buffer }

func (s *linuxStream) prepare() error {
	if err := s.ioctl(ioctlPrepare, nil); err != nil {
		return fmt.Errorf("alsa: %s: prepare: %w", s.path, err)
	}
	return nil
}

func (s *linuxStream) start() error {
	if err := s.ioctl(ioctlStart, nil); err != nil {
		return fmt.Errorf("alsa: %s: start: %w", s.path, err)
	}
	return nil
}

func (s *linuxStream) drop() error {
	if err := s.ioctl(ioctlDrop, nil); err != nil && !errors.Is(err, unix.EBADFD) {
		return fmt.Errorf("alsa: %s: drop: %w", s.path, err)
	}
	return nil
}

func (s *linuxStream) close() error {
	if s.fd < 0 {
		return nil
	}
	var err error
	if s.f != nil {
		err = s.f.Close() // wakes a transfer parked on it
	} else {
		err = unix.Close(s.fd)
	}
	s.fd = -1
	return err
}

// recover brings a stream back after an xrun (EPIPE) or a suspend
// (ESTRPIPE), as snd_pcm_recover does.
func (s *linuxStream) recover(err error) error {
	if errors.Is(err, unix.ESTRPIPE) {
		for {
			e := s.ioctl(ioctlResume, nil)
			if e == nil {
				return nil
			}
			if !errors.Is(e, unix.EAGAIN) {
				break
			}
		}
	}
	return s.prepare()
}

func (s *linuxStream) transfer(req uintptr, buf []int16, n int, capture bool) (int, error) {
	if len(buf) < n*s.channels {
		return 0, fmt.Errorf("alsa: %s: buffer of %d samples for %d frames", s.path, len(buf), n)
	}
	xruns := 0
	done := 0
	for done < n {
		x := xferi{buf: uintptr(unsafe.Pointer(&buf[done*s.channels])), frames: uint64(n - done)}
		var err error
		if s.rc != nil {
			x.result, err = s.polled(req, x, capture)
		} else {
			err = s.ioctl(req, unsafe.Pointer(&x))
		}
		runtime.KeepAlive(buf)
		switch {
		case err == nil:
			done += int(x.result)
		case errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ESTRPIPE) || errors.Is(err, unix.EIO):
			// EIO: no period came within the kernel's wait (about 1.1
			// buffer times); the stream is restarted like after an xrun.
			xruns++
			if xruns > 100 {
				return xruns, fmt.Errorf("alsa: %s: xrun recovery keeps failing: %w", s.path, err)
			}
			if e := s.recover(err); e != nil {
				return xruns, e
			}
			if capture {
				if e := s.start(); e != nil {
					return xruns, e
				}
			}
		case errors.Is(err, unix.EAGAIN):
			continue
		default:
			return xruns, fmt.Errorf("alsa: %s: transfer: %w", s.path, err)
		}
	}
	return xruns, nil
}

// polled is one transfer of a polled stream: the ioctl, raw and never
// blocking, inside RawConn.Read (capture) or Write (playback), which park
// the goroutine while it finds nothing to move. It returns the frames
// moved; EIO when no period came within s.stall.
func (s *linuxStream) polled(req uintptr, x xferi, capture bool) (int64, error) {
	s.xfer, s.req, s.errno = x, req, 0
	var err error
	if capture {
		s.f.SetReadDeadline(time.Now().Add(s.stall))
		err = s.rc.Read(s.fn)
	} else {
		s.f.SetWriteDeadline(time.Now().Add(s.stall))
		err = s.rc.Write(s.fn)
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, unix.EIO
	case err != nil:
		return 0, err
	case s.errno != 0:
		return 0, s.errno
	}
	return s.xfer.result, nil
}

// try is the RawConn callback: the transfer's ioctl once; false (wait)
// when the device has nothing to move yet.
func (s *linuxStream) try(fd uintptr) bool {
	for {
		_, _, e := unix.RawSyscall(unix.SYS_IOCTL, fd, s.req, uintptr(unsafe.Pointer(&s.xfer)))
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		s.errno = e
		return true
	}
}

func (s *linuxStream) readFrames(buf []int16, n int) (int, error) {
	return s.transfer(ioctlReadiFr, buf, n, true)
}

func (s *linuxStream) writeFrames(buf []int16, n int) (int, error) {
	return s.transfer(ioctlWriteiFr, buf, n, false)
}
