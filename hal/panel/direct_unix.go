//go:build unix

package panel

import (
	"errors"
	"io"
	"os"
	"syscall"
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
}

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

func (d *direct) read(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), d.b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			d.n, d.err = 0, nil
		case err != nil:
			d.n, d.err = 0, err
		case n == 0:
			d.n, d.err = 0, io.EOF
		default:
			d.n, d.err = n, nil
		}
		return true
	}
}

func (d *direct) write(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), d.b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			d.n, d.err = 0, nil
		case err != nil:
			d.n, d.err = 0, err
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
