package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"time"
)

// Device is where the slots live.
type Device interface {
	io.ReaderAt
	io.WriterAt
}

const (
	magic      = "DPS1"
	headerSize = 20
	// DefaultSize is the size Open uses when a file is new or its size
	// cannot be learnt: 1 MiB, two slots of 512 KiB.
	DefaultSize = 1 << 20
	// MinSize is the smallest device: two slots of 4 KiB.
	MinSize = 8 << 10
)

var (
	// ErrEmpty is returned by Load when neither slot holds a valid copy.
	ErrEmpty = errors.New("storage: no valid copy")
	// ErrTooLarge is returned by Save for data that does not fit a slot.
	ErrTooLarge = errors.New("storage: data larger than a slot")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Store is two slots on a device. Its methods are safe for concurrent use.
type Store struct {
	mu   sync.Mutex
	dev  Device
	slot int64 // bytes per slot
}

// New uses the first size bytes of dev (rounded down to an even number of
// 512-byte sectors) as two slots. It does not touch the device.
func New(dev Device, size int64) (*Store, error) {
	size &^= 1023
	if size < MinSize {
		return nil, fmt.Errorf("storage: device of %d bytes, want at least %d", size, MinSize)
	}
	return &Store{dev: dev, slot: size / 2}, nil
}

// MaxData is the largest payload Save takes.
func (s *Store) MaxData() int { return int(s.slot) - headerSize }

// Copy is what one slot holds.
type Copy struct {
	Slot       int // 0 or 1
	Generation uint64
	Data       []byte
}

// readSlot returns the slot's copy, or an error saying why it is not valid.
func (s *Store) readSlot(i int) (Copy, error) {
	off := int64(i) * s.slot
	var h [headerSize]byte
	if _, err := s.dev.ReadAt(h[:], off); err != nil && !errors.Is(err, io.EOF) {
		return Copy{}, fmt.Errorf("storage: slot %d: %w", i, err)
	} else if err != nil {
		return Copy{}, fmt.Errorf("storage: slot %d: empty", i)
	}
	if string(h[:4]) != magic {
		return Copy{}, fmt.Errorf("storage: slot %d: no magic", i)
	}
	gen := binary.BigEndian.Uint64(h[4:12])
	n := binary.BigEndian.Uint32(h[12:16])
	if int64(n) > s.slot-headerSize || gen == 0 {
		return Copy{}, fmt.Errorf("storage: slot %d: bad header", i)
	}
	data := make([]byte, n)
	if n > 0 {
		if _, err := s.dev.ReadAt(data, off+headerSize); err != nil {
			return Copy{}, fmt.Errorf("storage: slot %d: %w", i, err)
		}
	}
	sum := crc32.Update(crc32.Checksum(h[4:16], castagnoli), castagnoli, data)
	if sum != binary.BigEndian.Uint32(h[16:20]) {
		return Copy{}, fmt.Errorf("storage: slot %d: CRC mismatch", i)
	}
	return Copy{Slot: i, Generation: gen, Data: data}, nil
}

// newest returns the newest valid copy; ok is false when there is none.
// errs says why each slot that is not valid was refused.
func (s *Store) newest() (c Copy, ok bool, errs []error) {
	for i := range 2 {
		got, err := s.readSlot(i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok || got.Generation > c.Generation {
			c, ok = got, true
		}
	}
	return c, ok, errs
}

// Load returns the newest valid copy, or ErrEmpty (wrapped with why each
// slot was refused) when there is none.
func (s *Store) Load() (Copy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok, errs := s.newest()
	if !ok {
		return Copy{}, fmt.Errorf("%w: %w", ErrEmpty, errors.Join(errs...))
	}
	return c, nil
}

// Save writes data as the newest copy into the slot that does not hold the
// current newest one, and returns the generation written. The previous
// copy stays intact until the next Save.
func (s *Store) Save(data []byte) (uint64, error) {
	if len(data) > s.MaxData() {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), s.MaxData())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok, _ := s.newest()
	slot, gen := 0, uint64(1)
	if ok {
		slot, gen = 1-cur.Slot, cur.Generation+1
	}
	buf := make([]byte, headerSize+len(data))
	copy(buf, magic)
	binary.BigEndian.PutUint64(buf[4:12], gen)
	binary.BigEndian.PutUint32(buf[12:16], uint32(len(data)))
	copy(buf[headerSize:], data)
	binary.BigEndian.PutUint32(buf[16:20], crc32.Update(crc32.Checksum(buf[4:16], castagnoli), castagnoli, data))
	if _, err := s.dev.WriteAt(buf, int64(slot)*s.slot); err != nil {
		return 0, fmt.Errorf("storage: slot %d: %w", slot, err)
	}
	if f, ok := s.dev.(interface{ Sync() error }); ok {
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("storage: sync: %w", err)
		}
	}
	return gen, nil
}

// Open opens (creating when absent) a file or block device as a Store. A
// regular file uses DefaultSize (it grows as slots are written); a device
// uses its size, capped at DefaultSize. Opening and every later read,
// write and sync are bounded by IOTimeout (WithDeadline). Close the file
// when done.
func Open(path string) (*Store, *os.File, error) {
	type opened struct {
		f    *os.File
		size int64
		err  error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			done <- opened{err: err}
			return
		}
		size := int64(DefaultSize)
		if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
			// A block device's Stat size is 0; seeking to its end tells.
			if n, err := f.Seek(0, io.SeekEnd); err == nil && n > 0 {
				size = n
			}
		}
		done <- opened{f: f, size: size}
	}()
	var o opened
	select {
	case o = <-done:
	case <-time.After(IOTimeout):
		go func() { // close the file should the open ever finish
			if o := <-done; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, nil, fmt.Errorf("storage: %s: %w: opening took more than %s", path, ErrTimeout, IOTimeout)
	}
	if o.err != nil {
		return nil, nil, fmt.Errorf("storage: %w", o.err)
	}
	s, err := New(WithDeadline(o.f, IOTimeout), min(o.size, DefaultSize))
	if err != nil {
		o.f.Close()
		return nil, nil, fmt.Errorf("storage: %s: %w", path, err)
	}
	return s, o.f, nil
}
