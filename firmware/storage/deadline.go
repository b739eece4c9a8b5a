package storage

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrTimeout is returned when the device did not answer in time.
var ErrTimeout = errors.New("storage: the device did not answer in time")

// IOTimeout bounds each read, write, sync and open of a device Open opens.
// A failing SD card can hang I/O in the kernel for minutes; the phone must
// still come up (without its stored configuration) rather than wait.
const IOTimeout = 5 * time.Second

// WithDeadline wraps dev so that a read, write or sync that takes longer
// than d fails with ErrTimeout instead of blocking its caller. After one
// timeout the device counts as gone and later calls fail at once: the
// stuck call may still hold it. Reads and writes go through private
// buffers, so a call that returns late never touches the caller's.
func WithDeadline(dev Device, d time.Duration) Device {
	return &deadlineDevice{dev: dev, d: d}
}

type deadlineDevice struct {
	dev  Device
	d    time.Duration
	mu   sync.Mutex
	hung bool
}

type result struct {
	n   int
	err error
}

func (x *deadlineDevice) do(what string, op func() (int, error)) (int, error) {
	x.mu.Lock()
	hung := x.hung
	x.mu.Unlock()
	if hung {
		return 0, fmt.Errorf("%w: %s: an earlier call is still stuck", ErrTimeout, what)
	}
	done := make(chan result, 1)
	go func() {
		n, err := op()
		done <- result{n, err}
	}()
	t := time.NewTimer(x.d)
	defer t.Stop()
	select {
	case r := <-done:
		return r.n, r.err
	case <-t.C:
		x.mu.Lock()
		x.hung = true
		x.mu.Unlock()
		return 0, fmt.Errorf("%w: %s took more than %s", ErrTimeout, what, x.d)
	}
}

func (x *deadlineDevice) ReadAt(p []byte, off int64) (int, error) {
	buf := make([]byte, len(p))
	n, err := x.do("read", func() (int, error) { return x.dev.ReadAt(buf, off) })
	copy(p, buf[:n])
	return n, err
}

func (x *deadlineDevice) WriteAt(p []byte, off int64) (int, error) {
	buf := append([]byte(nil), p...)
	return x.do("write", func() (int, error) { return x.dev.WriteAt(buf, off) })
}

// Sync flushes the device when it can be flushed (a file, a block device).
func (x *deadlineDevice) Sync() error {
	s, ok := x.dev.(interface{ Sync() error })
	if !ok {
		return nil
	}
	_, err := x.do("sync", func() (int, error) { return 0, s.Sync() })
	return err
}
