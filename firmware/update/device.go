package update

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/deskphone/deskphone/firmware/storage"
)

// The state device's layout is storage's table: the first MiB is the
// configuration's storage.Store (as before A/B: storage.Open uses at most
// DefaultSize), so a phone updated to this layout keeps its last good
// configuration; the boot record is storage.RecordRegion; slot A, then
// slot B, start at storage.SlotsOffset.
const (
	slotsOffset = storage.SlotsOffset
	slotAlign   = 1 << 20
	// MinSlot is the smallest slot: a device too small for two is a
	// phone without A/B (only the factory image boots).
	MinSlot = 8 << 20
	// chunk is how much one write or read-back moves.
	chunk = 256 << 10
)

// ErrNoSlots is returned when the state device has no room for two slots.
var ErrNoSlots = errors.New("update: the state device has no room for firmware slots")

// Device is the A/B part of the state device: the boot record and two
// slots, each holding one image (header and payload) as downloaded.
type Device struct {
	dev      storage.Device
	records  *storage.Store
	SlotSize int64
}

// syncer is what a device that can be flushed has.
type syncer interface{ Sync() error }

// NewDevice lays the boot record and slots out on dev of size bytes.
func NewDevice(dev storage.Device, size int64) (*Device, error) {
	slot := ((size - slotsOffset) / 2) &^ (slotAlign - 1)
	if slot < MinSlot {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrNoSlots, size, slotsOffset+2*MinSlot)
	}
	st, err := storage.New(offsetDevice{dev, storage.RecordRegion.Off}, storage.RecordRegion.Size)
	if err != nil {
		return nil, err
	}
	return &Device{dev: dev, records: st, SlotSize: slot}, nil
}

// OpenDevice opens the state device at path (a block device, or a file
// on the sim board) with every operation bounded by storage.IOTimeout.
// Close the file when done.
func OpenDevice(path string) (*Device, *os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("update: %w", err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("update: %s: %w", path, err)
	}
	d, err := NewDevice(storage.WithDeadline(f, storage.IOTimeout), size)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("update: %s: %w", path, err)
	}
	return d, f, nil
}

// offsetDevice is dev seen from off on.
type offsetDevice struct {
	dev storage.Device
	off int64
}

func (o offsetDevice) ReadAt(p []byte, off int64) (int, error)  { return o.dev.ReadAt(p, o.off+off) }
func (o offsetDevice) WriteAt(p []byte, off int64) (int, error) { return o.dev.WriteAt(p, o.off+off) }
func (o offsetDevice) Sync() error {
	if s, ok := o.dev.(syncer); ok {
		return s.Sync()
	}
	return nil
}

// Record reads the boot record; a device that has none (new, or both
// copies torn) boots the factory image.
func (d *Device) Record() (Record, error) {
	c, err := d.records.Load()
	if errors.Is(err, storage.ErrEmpty) {
		return Record{Active: Factory, Confirmed: true}, nil
	}
	if err != nil {
		return Record{}, err
	}
	return UnmarshalRecord(c.Data)
}

// WriteRecord writes r as the newest copy (and syncs); the older copy
// stays until the next write.
func (d *Device) WriteRecord(r Record) error {
	_, err := d.records.Save(r.Marshal())
	return err
}

func (d *Device) slotOffset(s Slot) (int64, error) {
	switch s {
	case A:
		return slotsOffset, nil
	case B:
		return slotsOffset + d.SlotSize, nil
	}
	return 0, fmt.Errorf("update: %s is no slot on the device", s)
}

// SlotWriter writes one image into a slot as it arrives: the header
// first, then the payload in chunks. Nothing else refers to the slot
// while it is written (the record changes only after Finish).
type SlotWriter struct {
	d    *Device
	off  int64
	n    int64
	buf  []byte
	max  int64
	err  error
	slot Slot
}

// WriteSlot starts writing slot s.
func (d *Device) WriteSlot(s Slot) (*SlotWriter, error) {
	off, err := d.slotOffset(s)
	if err != nil {
		return nil, err
	}
	// The first sector is zeroed first: a slot torn after this has no
	// header to be mistaken for an image (the hash would refuse it too).
	if _, err := d.dev.WriteAt(make([]byte, HeaderSize), off); err != nil {
		return nil, fmt.Errorf("update: slot %s: %w", s, err)
	}
	return &SlotWriter{d: d, off: off, max: d.SlotSize, slot: s}, nil
}

func (w *SlotWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.n+int64(len(w.buf))+int64(len(p)) > w.max {
		w.err = fmt.Errorf("update: the image is larger than slot %s (%d bytes)", w.slot, w.max)
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= chunk {
		w.err = w.flush()
	}
	return len(p), w.err
}

func (w *SlotWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.d.dev.WriteAt(w.buf, w.off+w.n); err != nil {
		return fmt.Errorf("update: slot %s: %w", w.slot, err)
	}
	w.n += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// Written is how many bytes went to the device so far.
func (w *SlotWriter) Written() int64 { return w.n }

// Finish writes what is buffered, syncs, and reads the slot back: it
// returns an error unless the slot holds h and a payload whose SHA-256
// is h's.
func (w *SlotWriter) Finish(h Header) error {
	if w.err == nil {
		w.err = w.flush()
	}
	if w.err != nil {
		return w.err
	}
	if s, ok := w.d.dev.(syncer); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("update: slot %s: sync: %w", w.slot, err)
		}
	}
	got, err := w.d.ReadSlot(w.slot, io.Discard)
	if err != nil {
		return fmt.Errorf("update: slot %s read back: %w", w.slot, err)
	}
	if got != h {
		return fmt.Errorf("update: slot %s read back %s, wrote %s", w.slot, got.Version, h.Version)
	}
	return nil
}

// ReadSlot reads slot s's image: its header, and its payload into w,
// checked against the header's SHA-256 (a torn or rotted slot fails).
func (d *Device) ReadSlot(s Slot, w io.Writer) (Header, error) {
	off, err := d.slotOffset(s)
	if err != nil {
		return Header{}, err
	}
	hb := make([]byte, HeaderSize)
	if _, err := d.dev.ReadAt(hb, off); err != nil {
		return Header{}, fmt.Errorf("update: slot %s: %w", s, err)
	}
	h, err := ParseHeader(hb)
	if err != nil {
		return Header{}, fmt.Errorf("update: slot %s: %w", s, err)
	}
	if HeaderSize+h.Length > d.SlotSize {
		return Header{}, fmt.Errorf("update: slot %s: image of %d bytes in a slot of %d", s, h.Length, d.SlotSize)
	}
	sum := sha256.New()
	buf := make([]byte, chunk)
	for done := int64(0); done < h.Length; {
		n := min(int64(len(buf)), h.Length-done)
		if _, err := d.dev.ReadAt(buf[:n], off+HeaderSize+done); err != nil {
			return Header{}, fmt.Errorf("update: slot %s: %w", s, err)
		}
		sum.Write(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			return Header{}, fmt.Errorf("update: slot %s: %w", s, err)
		}
		done += n
	}
	if [32]byte(sum.Sum(nil)) != h.SHA256 {
		return Header{}, fmt.Errorf("update: slot %s: the payload does not match its SHA-256 (torn or damaged)", s)
	}
	return h, nil
}
