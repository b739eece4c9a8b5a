//go:build unix

package panel

import (
	"errors"
	"io"
	"os"
	"syscall"
	"unsafe"

	"github.com/deskphone/deskphone/internal/quiet"
)

// direct reads and writes an audio client's socket from the codec's own
// Exchange, without blocking (the descriptor is non-blocking, as Go's
// sockets are; RawConn holds it against a concurrent Close), so a frame
// period costs one wake-up of the audio loop and none of a reader or writer
// goroutine. Its callbacks are bound once: a call allocates nothing.
type direct struct {
	rc       syscall.RawConn
	b        []byte
	n        int
	err      error
	rfn, wfn func(fd uintptr) bool
	q        quiet.Socket
}

// mute and unmute: see internal/quiet.
func (d *direct) mute()   { d.q.Mute(d.rc) }
func (d *direct) unmute() { d.q.Unmute(d.rc) }

// newDirect returns the direct path of a socket client, or nil for a
// client that is no socket (the qemu board's virtio-serial port).
func newDirect(rw io.ReadWriteCloser) *direct {
	sc, ok := rw.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	d := &direct{rc: rc}
	d.rfn, d.wfn = d.read, d.write
	return d
}

// read and write are raw system calls: the descriptor never blocks, and a
// call entered the runtime's way (syscall.Read) would wake its sysmon
// thread each frame (DESIGN.md, "Wake-ups").
func (d *direct) read(fd uintptr) bool  { return d.raw(syscall.SYS_READ, fd) }
func (d *direct) write(fd uintptr) bool { return d.raw(syscall.SYS_WRITE, fd) }

// raw runs one read or write of d.b on fd (inside RawConn.Control): d.n
// and d.err say what came of it; nothing waiting (EAGAIN) is 0 and no
// error, a read of 0 bytes the client's end (io.EOF).
func (d *direct) raw(trap, fd uintptr) bool {
	for {
		n, err := rawIO(trap, fd, d.b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			d.n, d.err = 0, nil
		case err != nil:
			d.n, d.err = 0, err
		case n == 0 && trap == syscall.SYS_READ:
			d.n, d.err = 0, io.EOF
		default:
			d.n, d.err = n, nil
		}
		return true
	}
}

// tryRead reads what the client has sent (len(b) > 0): 0 and no error
// when nothing is waiting; io.EOF or another error when the client went.
func (d *direct) tryRead(b []byte) (int, error) {
	d.b = b
	err := d.rc.Read(d.rfn)
	d.b = nil
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, nil // the reader goroutine's wake-up, not yet cleared
	}
	if err != nil {
		return 0, err
	}
	return d.n, d.err
}

// tryWrite writes what the socket takes now of b.
func (d *direct) tryWrite(b []byte) (int, error) {
	d.b = b
	err := d.rc.Write(d.wfn)
	d.b = nil
	if err != nil {
		return 0, err
	}
	return d.n, d.err
}

func rawIO(trap, fd uintptr, b []byte) (int, error) {
	r, _, e := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// rawClock reads a timerfd through Go's netpoller: the wait parks the
// goroutine (no thread blocked in a read), the read itself is raw.
type rawClock struct {
	rc  syscall.RawConn
	buf [8]byte
	fn  func(fd uintptr) bool
}

func newRawClock(f *os.File) *rawClock {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	k := &rawClock{rc: rc}
	k.fn = k.read
	return k
}

func (k *rawClock) read(fd uintptr) bool {
	_, err := rawIO(syscall.SYS_READ, fd, k.buf[:])
	return err != syscall.EAGAIN && err != syscall.EINTR
}

// wait returns at the next expiry, or an error once the timerfd is closed.
func (k *rawClock) wait() error { return k.rc.Read(k.fn) }
