package storage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// mem is a device in memory that can tear writes and fail.
type mem struct {
	b []byte
	// tearAfter, when >= 0, makes the next WriteAt write only that many
	// bytes and fail (a power cut in the middle of a write).
	tearAfter int
	failRead  bool
}

func newMem(n int) *mem { return &mem{b: make([]byte, n), tearAfter: -1} }

func (m *mem) ReadAt(p []byte, off int64) (int, error) {
	if m.failRead {
		return 0, errors.New("read error")
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, errors.New("short")
	}
	return n, nil
}

func (m *mem) WriteAt(p []byte, off int64) (int, error) {
	if m.tearAfter >= 0 {
		n := copy(m.b[off:], p[:min(m.tearAfter, len(p))])
		m.tearAfter = -1
		return n, errors.New("power cut")
	}
	return copy(m.b[off:], p), nil
}

func mustNew(t *testing.T, d Device, size int64) *Store {
	t.Helper()
	s, err := New(d, size)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSaveLoad(t *testing.T) {
	d := newMem(16 << 10)
	s := mustNew(t, d, 16<<10)
	if _, err := s.Load(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("blank device: %v, want ErrEmpty", err)
	}
	for i, want := range []string{"one", "two", "", "four"} {
		gen, err := s.Save([]byte(want))
		if err != nil || gen != uint64(i+1) {
			t.Fatalf("Save %q = %d, %v", want, gen, err)
		}
		c, err := s.Load()
		if err != nil || string(c.Data) != want || c.Generation != gen || c.Slot != i%2 {
			t.Fatalf("Load after %q = %+v, %v", want, c, err)
		}
		// A new Store over the same device (a reboot) sees the same.
		c2, err := mustNew(t, d, 16<<10).Load()
		if err != nil || string(c2.Data) != want || c2.Generation != gen {
			t.Fatalf("Load after reboot = %+v, %v", c2, err)
		}
	}
	if _, err := s.Save(make([]byte, s.MaxData()+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if _, err := s.Save(make([]byte, s.MaxData())); err != nil {
		t.Errorf("exactly full: %v", err)
	}
	if _, err := New(d, MinSize-1); err == nil {
		t.Error("tiny device accepted")
	}
}

// TestFaults: whatever happens to the slot being written, the previous
// copy is what Load returns; whatever happens to both, ErrEmpty.
func TestFaults(t *testing.T) {
	const size = 16 << 10
	half := int64(size / 2)
	tests := []struct {
		name  string
		fault func(m *mem, s *Store) // after "old" (gen 1, slot 0) and "new" (gen 2, slot 1) were saved
		want  string                 // "" = ErrEmpty
	}{
		{"none", func(*mem, *Store) {}, "new"},
		{"payload bit flip in newest", func(m *mem, _ *Store) { m.b[half+headerSize+1] ^= 0x10 }, "old"},
		{"generation flipped in newest", func(m *mem, _ *Store) { m.b[half+11] ^= 1 }, "old"},
		{"length grown in newest", func(m *mem, _ *Store) { m.b[half+15]++ }, "old"},
		{"huge length in newest", func(m *mem, _ *Store) { m.b[half+12] = 0xff }, "old"},
		{"crc flipped in newest", func(m *mem, _ *Store) { m.b[half+19] ^= 1 }, "old"},
		{"magic gone in newest", func(m *mem, _ *Store) { m.b[half] = 0 }, "old"},
		{"older slot bad", func(m *mem, _ *Store) { m.b[headerSize] ^= 1 }, "new"},
		{"both bad", func(m *mem, _ *Store) { m.b[3] = 'X'; m.b[half+headerSize] ^= 1 }, ""},
		{"both erased", func(m *mem, _ *Store) { clear(m.b) }, ""},
		{"erased to 0xff", func(m *mem, _ *Store) { copy(m.b, bytes.Repeat([]byte{0xff}, len(m.b))) }, ""},
	}
	// Torn writes at every length of a third save: it goes to slot 0 (over
	// "old"); whatever got written, "new" must come back, unless the whole
	// slot was written.
	for cut := 0; cut <= headerSize+len("third"); cut++ {
		want := "new"
		if cut == headerSize+len("third") {
			want = "third"
		}
		tests = append(tests, struct {
			name  string
			fault func(m *mem, s *Store)
			want  string
		}{fmt.Sprintf("torn third save at %d", cut), func(m *mem, s *Store) {
			m.tearAfter = cut
			if _, err := s.Save([]byte("third")); err == nil && cut < headerSize+len("third") {
				panic("torn write not reported")
			}
		}, want})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMem(size)
			s := mustNew(t, m, size)
			for _, d := range []string{"old", "new"} {
				if _, err := s.Save([]byte(d)); err != nil {
					t.Fatal(err)
				}
			}
			tt.fault(m, s)
			c, err := mustNew(t, m, size).Load()
			if tt.want == "" {
				if !errors.Is(err, ErrEmpty) {
					t.Fatalf("Load = %+v, %v; want ErrEmpty", c, err)
				}
				return
			}
			if err != nil || string(c.Data) != tt.want {
				t.Fatalf("Load = %q, %v; want %q", c.Data, err, tt.want)
			}
			// The next save goes over the slot that is not the one returned
			// and is then the newest.
			if _, err := s.Save([]byte("next")); err != nil {
				t.Fatal(err)
			}
			c2, err := s.Load()
			if err != nil || string(c2.Data) != "next" || c2.Slot == c.Slot {
				t.Fatalf("after next save: %+v, %v (previous in slot %d)", c2, err, c.Slot)
			}
			c3, _ := s.readSlot(c.Slot)
			if string(c3.Data) != tt.want {
				t.Fatalf("the previous copy was overwritten: %q", c3.Data)
			}
		})
	}
}

func TestReadError(t *testing.T) {
	m := newMem(MinSize)
	s := mustNew(t, m, MinSize)
	s.Save([]byte("x"))
	m.failRead = true
	if _, err := s.Load(); !errors.Is(err, ErrEmpty) || !bytes.Contains([]byte(err.Error()), []byte("read error")) {
		t.Errorf("Load with read errors: %v", err)
	}
}

func TestOpenFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state")
	s, f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save([]byte("b")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s, f, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := s.Load()
	if err != nil || string(c.Data) != "b" || c.Generation != 2 {
		t.Fatalf("reopened: %+v, %v", c, err)
	}
	if _, _, err := Open(filepath.Join(p, "sub")); err == nil {
		t.Error("Open under a file succeeded")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// TestRegions: the configuration and the web certificate share one file
// and neither Save touches the other's copy.
func TestRegions(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state")
	cfg, f1, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f1.Close()
	web, f2, err := OpenRegion(p, WebRegion)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	for i := 0; i < 3; i++ {
		if _, err := cfg.Save(bytes.Repeat([]byte("c"), cfg.MaxData())); err != nil {
			t.Fatal(err)
		}
		if _, err := web.Save([]byte("cert")); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := web.Load(); err != nil || string(c.Data) != "cert" || c.Generation != 3 {
		t.Fatalf("web region: %+v, %v", c, err)
	}
	if c, err := cfg.Load(); err != nil || len(c.Data) != cfg.MaxData() || c.Generation != 3 {
		t.Fatalf("config region: %d bytes gen %d, %v", len(c.Data), c.Generation, err)
	}
	// A factory reset erases one region and leaves the other.
	if err := web.Erase(); err != nil {
		t.Fatal(err)
	}
	if _, err := web.Load(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("after Erase: %v", err)
	}
	if c, err := cfg.Load(); err != nil || c.Generation != 3 {
		t.Fatalf("config region after the web region's Erase: %v", err)
	}
	if gen, err := web.Save([]byte("new")); err != nil || gen != 1 {
		t.Fatalf("Save after Erase: generation %d, %v", gen, err)
	}
	if web.MaxData() != int(WebRegion.Size/2-headerSize) {
		t.Errorf("web region holds %d bytes", web.MaxData())
	}
	if _, err := NewAt(newMem(MinSize), 100, MinSize); err == nil {
		t.Error("an offset inside a sector was taken")
	}
}

func BenchmarkSaveLoad(b *testing.B) {
	m := newMem(DefaultSize)
	s, _ := New(m, DefaultSize)
	data := bytes.Repeat([]byte("line.1.user = 1001\n"), 100)
	b.ReportAllocs()
	for b.Loop() {
		s.Save(data)
		s.Load()
	}
}

// FuzzLoad: whatever is on the device, Load neither panics nor returns
// data that was not saved whole, and a Save after it is read back.
func FuzzLoad(f *testing.F) {
	m := newMem(MinSize)
	s, _ := New(m, MinSize)
	s.Save([]byte("seed"))
	s.Save([]byte("line.1.user = 1001\n"))
	f.Add(append([]byte(nil), m.b...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := newMem(MinSize)
		copy(m.b, b)
		s, _ := New(m, MinSize)
		c, err := s.Load()
		if err == nil && len(c.Data) > s.MaxData() {
			t.Fatalf("Load returned %d bytes", len(c.Data))
		}
		gen, err := s.Save([]byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		c2, err := s.Load()
		if err != nil || string(c2.Data) != "x" || c2.Generation != gen {
			t.Fatalf("after Save: %+v, %v", c2, err)
		}
	})
}

// TestLayout: the regions of the state device do not overlap, and the
// firmware slots begin after them.
func TestLayout(t *testing.T) {
	rs := []Region{ConfigRegion, RecordRegion, WebRegion}
	for i, a := range rs {
		if a.Off+a.Size > SlotsOffset {
			t.Errorf("%s ends at %d, past the slots at %d", a.Name, a.Off+a.Size, SlotsOffset)
		}
		for _, b := range rs[i+1:] {
			if a.Off < b.Off+b.Size && b.Off < a.Off+a.Size {
				t.Errorf("%s and %s overlap", a.Name, b.Name)
			}
		}
	}
}
