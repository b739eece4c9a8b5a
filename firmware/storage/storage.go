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
	off  int64 // where the first slot starts on dev
	slot int64 // bytes per slot
}

// New uses the first size bytes of dev (rounded down to an even number of
// 512-byte sectors) as two slots. It does not touch the device.
func New(dev Device, size int64) (*Store, error) { return NewAt(dev, 0, size) }

// NewAt is New over the size bytes of dev from off (a multiple of 512):
// one Region of a device that holds several.
func NewAt(dev Device, off, size int64) (*Store, error) {
	size &^= 1023
	if size < MinSize {
		return nil, fmt.Errorf("storage: region of %d bytes, want at least %d", size, MinSize)
	}
	if off < 0 || off%512 != 0 {
		return nil, fmt.Errorf("storage: region offset %d is not a multiple of 512", off)
	}
	return &Store{dev: dev, off: off, slot: size / 2}, nil
}

// Region is a part of the state device that holds one Store.
type Region struct {
	Name      string // for messages
	Off, Size int64
}

// The state device's layout, the one table of it: the configuration's
// first MiB, the boot record and the web certificate in the second, the
// firmware slots from SlotsOffset (firmware/update). A device smaller than
// a region's end holds the regions before it only (a 1 MiB QEMU disk made
// before the boot record and the web certificate had their regions keeps
// only the configuration).
var (
	// ConfigRegion holds the last good configuration (firmware/provision).
	ConfigRegion = Region{Name: "configuration", Off: 0, Size: DefaultSize}
	// RecordRegion holds the firmware's boot record (firmware/update).
	RecordRegion = Region{Name: "boot record", Off: DefaultSize, Size: 64 << 10}
	// WebRegion holds the web page's certificate and key (firmware/web).
	WebRegion = Region{Name: "web certificate", Off: DefaultSize + 64<<10, Size: 64 << 10}
)

// SlotsOffset is where the firmware slots begin (firmware/update): 2 MiB.
const SlotsOffset = 2 << 20

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
	off := s.off + int64(i)*s.slot
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
	if _, err := s.dev.WriteAt(buf, s.off+int64(slot)*s.slot); err != nil {
		return 0, fmt.Errorf("storage: slot %d: %w", slot, err)
	}
	if f, ok := s.dev.(interface{ Sync() error }); ok {
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("storage: sync: %w", err)
		}
	}
	return gen, nil
}

// Erase invalidates both slots (a factory reset): Load returns ErrEmpty
// until the next Save, whose generation starts again at 1.
func (s *Store) Erase() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero [headerSize]byte
	for i := range 2 {
		if _, err := s.dev.WriteAt(zero[:], s.off+int64(i)*s.slot); err != nil {
			return fmt.Errorf("storage: erase slot %d: %w", i, err)
		}
	}
	if f, ok := s.dev.(interface{ Sync() error }); ok {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("storage: sync: %w", err)
		}
	}
	return nil
}

// Open opens (creating when absent) a file or block device as the Store of
// its ConfigRegion. A regular file uses DefaultSize (it grows as slots are
// written); a device uses its size, capped at DefaultSize. Opening and
// every later read, write and sync are bounded by IOTimeout
// (WithDeadline). Close the file when done.
func Open(path string) (*Store, *os.File, error) { return OpenRegion(path, ConfigRegion) }

// OpenRegion is Open for one region of the device: a regular file grows to
// hold it; a block device must reach at least MinSize into it, and the
// region is cut to the device's end.
func OpenRegion(path string, r Region) (*Store, *os.File, error) {
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
		size := r.Size
		if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
			// A block device's Stat size is 0; seeking to its end tells.
			if n, err := f.Seek(0, io.SeekEnd); err == nil && n > 0 {
				size = min(n-r.Off, r.Size)
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
	s, err := NewAt(WithDeadline(o.f, IOTimeout), r.Off, o.size)
	if err != nil {
		o.f.Close()
		return nil, nil, fmt.Errorf("storage: %s: %s: %w", path, r.Name, err)
	}
	return s, o.f, nil
}
