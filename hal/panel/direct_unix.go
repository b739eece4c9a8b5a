//go:build unix

package panel

import (
	"errors"
	"io"
	"os"
	"syscall"
	"time"
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
//
// It keeps the timer's schedule (next: the first expiry not yet read,
// from when the timer was armed and the expirations each read counts), so
// that a wait with the next expiry more than half a period away goes to
// the poller before it reads: a read then would only find nothing
// (EAGAIN), a system call each frame for nothing. A wait nearer to the
// expiry, or after it (a late loop), reads first, since the runtime
// forgets a readiness that came before the wait began (RawConn.Read
// resets it), and the expiry already in the timerfd would otherwise cost
// a whole period. The schedule is the kernel's own, so the choice holds
// however late the loop wakes (an emulated board's loop can wake many
// milliseconds late: judging by the time since the last wake, an earlier
// try waited out expiries that had come and lost them).
type rawClock struct {
	rc     syscall.RawConn
	buf    [8]byte
	fn     func(fd uintptr) bool
	period time.Duration
	next   time.Time // the first expiry not yet read
	first  bool      // this wait goes to the poller before its read
	got    uint64    // the expirations the last read counted
	early  int       // waits that went to the poller before their read
}

// newRawClock reads f, armed at or just after armed to expire each
// period.
func newRawClock(f *os.File, armed time.Time, period time.Duration) *rawClock {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	k := &rawClock{rc: rc, period: period, next: armed.Add(period)}
	k.fn = k.read
	return k
}

func (k *rawClock) read(fd uintptr) bool {
	if k.first {
		k.first = false
		k.early++
		return false
	}
	n, err := rawIO(syscall.SYS_READ, fd, k.buf[:])
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return false
	}
	if err == nil && n == len(k.buf) {
		// The expirations since the last read.
		k.got = *(*uint64)(unsafe.Pointer(&k.buf[0]))
		k.next = k.next.Add(time.Duration(k.got) * k.period)
	}
	return true
}

// wait returns at the next expiry, or an error once the timerfd is closed.
func (k *rawClock) wait() error {
	k.first = time.Until(k.next) > k.period/2
	return k.rc.Read(k.fn)
}
