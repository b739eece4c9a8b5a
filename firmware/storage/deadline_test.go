package storage

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// stuckDevice blocks every call until release is closed, as a dying SD
// card's I/O can in the kernel. calls is atomic: the deadline wrapper
// calls the device on its own goroutine while the test reads the count.
type stuckDevice struct {
	release chan struct{}
	calls   atomic.Int32
}

func (s *stuckDevice) ReadAt(p []byte, off int64) (int, error) {
	s.calls.Add(1)
	<-s.release
	for i := range p {
		p[i] = 0xee // late bytes must not reach the caller's buffer
	}
	return len(p), nil
}

func (s *stuckDevice) WriteAt(p []byte, off int64) (int, error) {
	s.calls.Add(1)
	<-s.release
	return len(p), nil
}

func TestDeadlineStuckDevice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dev := &stuckDevice{release: make(chan struct{})}
		defer close(dev.release)
		st, err := New(WithDeadline(dev, IOTimeout), 64<<10)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = st.Load()
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Load on a stuck device: %v, want ErrTimeout", err)
		}
		if took := time.Since(start); took != IOTimeout {
			t.Errorf("Load gave up after %s, want %s", took, IOTimeout)
		}
		start = time.Now()
		if _, err := st.Save([]byte("line.1.user = 1001\n")); !errors.Is(err, ErrTimeout) {
			t.Errorf("Save after a timeout: %v, want ErrTimeout at once", err)
		}
		if time.Since(start) != 0 || dev.calls.Load() != 1 {
			t.Errorf("after a timeout the device was called again (%d calls) or the caller waited %s", dev.calls.Load(), time.Since(start))
		}
	})
}

func TestDeadlinePassesThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := &memDevice{b: make([]byte, 64<<10)}
		st, err := New(WithDeadline(mem, time.Second), 64<<10)
		if err != nil {
			t.Fatal(err)
		}
		want := []byte("sip.port = 5060\n")
		if _, err := st.Save(want); err != nil {
			t.Fatal(err)
		}
		c, err := st.Load()
		if err != nil || !bytes.Equal(c.Data, want) {
			t.Fatalf("Load = %q, %v", c.Data, err)
		}
	})
}

type memDevice struct{ b []byte }

func (m *memDevice) ReadAt(p []byte, off int64) (int, error) { return copy(p, m.b[off:]), nil }
func (m *memDevice) WriteAt(p []byte, off int64) (int, error) {
	return copy(m.b[off:], p), nil
}
