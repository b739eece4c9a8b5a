package keypad

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/hal"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// board is a key matrix without diodes: a column reads low when a chain of
// pressed keys joins it to the row driven low (which is how ghosts arise).
type board struct {
	mu      sync.Mutex
	rows    []*gpiotest.Pin
	pressed map[[2]int]bool
	nc      int
}

type colPin struct {
	gpiotest.Pin
	b *board
	c int
}

func (p *colPin) Read() gpio.Level { return p.b.read(p.c) }

func (b *board) read(col int) gpio.Level {
	b.mu.Lock()
	defer b.mu.Unlock()
	nr := len(b.rows)
	// Union-find over rows 0..nr-1 and columns nr..nr+nc-1.
	parent := make([]int, nr+b.nc)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	for k, down := range b.pressed {
		if down {
			parent[find(k[0])] = find(nr + k[1])
		}
	}
	for r, p := range b.rows {
		if p.Read() == gpio.Low && find(r) == find(nr+col) {
			return gpio.Low
		}
	}
	return gpio.High
}

func (b *board) press(r, c int, down bool) {
	b.mu.Lock()
	b.pressed[[2]int{r, c}] = down
	b.mu.Unlock()
}

func newBoard(t *testing.T, nr, nc int, keys [][]string, o Options) (*board, *Matrix) {
	b := &board{pressed: map[[2]int]bool{}, nc: nc}
	var rows []gpio.PinIO
	for r := range nr {
		p := &gpiotest.Pin{N: "row", Num: r}
		b.rows = append(b.rows, p)
		rows = append(rows, p)
	}
	var cols []gpio.PinIn
	for c := range nc {
		cols = append(cols, &colPin{Pin: gpiotest.Pin{N: "col", Num: c}, b: b, c: c})
	}
	m, err := New(rows, cols, keys, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(); err != nil {
		t.Fatal(err)
	}
	return b, m
}

var keys3x4 = [][]string{{"1", "2", "3"}, {"4", "5", "6"}, {"7", "8", "9"}, {"*", "0", "#"}}
var keys4x4 = [][]string{{"1", "2", "3", "send"}, {"4", "5", "6", "hold"}, {"7", "8", "9", "transfer"}, {"*", "0", "#", "cancel"}}

func drain(m *Matrix) []hal.KeyEvent {
	var got []hal.KeyEvent
	for {
		select {
		case e := <-m.events:
			got = append(got, e)
		default:
			return got
		}
	}
}

func TestMatrix(t *testing.T) {
	type action struct {
		at     time.Duration
		r, c   int
		down   bool
		bounce bool // a contact bounce: down and up again before the next scan
	}
	tests := []struct {
		name    string
		keys    [][]string
		actions []action
		until   time.Duration
		want    []hal.KeyEvent
	}{
		{"press and release 5", keys3x4, []action{{at: 10 * time.Millisecond, r: 1, c: 1, down: true}, {at: 100 * time.Millisecond, r: 1, c: 1}},
			200 * time.Millisecond, []hal.KeyEvent{{Key: "5", Down: true}, {Key: "5"}}},
		{"bounce shorter than debounce is ignored", keys3x4, []action{{at: 10 * time.Millisecond, r: 0, c: 0, down: true}, {at: 20 * time.Millisecond, r: 0, c: 0}},
			200 * time.Millisecond, nil},
		{"long press", keys3x4, []action{{at: 0, r: 3, c: 1, down: true}, {at: time.Second, r: 3, c: 1}},
			1200 * time.Millisecond, []hal.KeyEvent{{Key: "0", Down: true}, {Key: "0", Down: true, Long: true}, {Key: "0"}}},
		{"two keys in one column", keys3x4, []action{{at: 0, r: 0, c: 2, down: true}, {at: 0, r: 3, c: 2, down: true}},
			100 * time.Millisecond, []hal.KeyEvent{{Key: "3", Down: true}, {Key: "#", Down: true}}},
		{"ghost: the fourth corner never appears", keys3x4, []action{
			{at: 0, r: 0, c: 0, down: true}, {at: 50 * time.Millisecond, r: 0, c: 1, down: true}, {at: 100 * time.Millisecond, r: 1, c: 0, down: true},
			{at: 200 * time.Millisecond, r: 1, c: 0}},
			300 * time.Millisecond, []hal.KeyEvent{{Key: "1", Down: true}, {Key: "2", Down: true}}},
		{"4x4 named key", keys4x4, []action{{at: 0, r: 0, c: 3, down: true}, {at: 50 * time.Millisecond, r: 0, c: 3}},
			100 * time.Millisecond, []hal.KeyEvent{{Key: "send", Down: true}, {Key: "send"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, m := newBoard(t, len(tt.keys), len(tt.keys[0]), tt.keys, Options{})
			t0 := time.Unix(0, 0)
			step := m.opts.ScanInterval
			ai := 0
			for at := time.Duration(0); at <= tt.until; at += step {
				for ai < len(tt.actions) && tt.actions[ai].at <= at {
					a := tt.actions[ai]
					b.press(a.r, a.c, a.down)
					ai++
				}
				if err := m.Step(t0.Add(at)); err != nil {
					t.Fatal(err)
				}
			}
			if got := drain(m); !slices.Equal(got, tt.want) {
				t.Errorf("events %v, want %v", got, tt.want)
			}
			// Every row is back to an idle input after a scan.
			for _, r := range b.rows {
				if r.Read() != gpio.High || r.Pull() != gpio.PullUp {
					t.Errorf("row %v left at %v, pull %v", r, r.Read(), r.Pull())
				}
			}
		})
	}
}

func TestGhostCounted(t *testing.T) {
	b, m := newBoard(t, 4, 3, keys3x4, Options{})
	b.press(0, 0, true)
	b.press(0, 1, true)
	b.press(1, 0, true)
	scan, err := m.Scan()
	if err != nil {
		t.Fatal(err)
	}
	// The raw scan shows the ghost at row 1, column 1.
	if scan[1] != 0b011 || !Ambiguous(scan) {
		t.Fatalf("scan %b", scan)
	}
	m.Apply(scan, time.Unix(1, 0))
	if m.Ghosts() != 1 {
		t.Errorf("ghosts %d", m.Ghosts())
	}
}

func TestAmbiguous(t *testing.T) {
	tests := []struct {
		scan []uint32
		want bool
	}{
		{[]uint32{0, 0, 0, 0}, false},
		{[]uint32{0b011, 0, 0, 0}, false}, // two keys in one row
		{[]uint32{0b001, 0b001, 0, 0}, false},
		{[]uint32{0b011, 0b001, 0, 0}, true},
		{[]uint32{0b001, 0b010, 0b100, 0}, false},
		{[]uint32{0b101, 0, 0, 0b100}, true},
	}
	for _, tt := range tests {
		if got := Ambiguous(tt.scan); got != tt.want {
			t.Errorf("Ambiguous(%b) = %v", tt.scan, got)
		}
	}
}

func TestNewChecksShape(t *testing.T) {
	p := &gpiotest.Pin{}
	if _, err := New([]gpio.PinIO{p, p}, []gpio.PinIn{p}, [][]string{{"1"}}, Options{}); err == nil {
		t.Error("2 rows with keys for 1 worked")
	}
	if _, err := New([]gpio.PinIO{p}, []gpio.PinIn{p}, [][]string{{"1", "2"}}, Options{}); err == nil {
		t.Error("1 column with 2 keys worked")
	}
	if _, err := New(nil, nil, nil, Options{}); err == nil {
		t.Error("empty matrix worked")
	}
}

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, m := newBoard(t, 4, 3, keys3x4, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		b.press(2, 2, true)
		if e := <-m.KeyEvents(); e != (hal.KeyEvent{Key: "9", Down: true}) {
			t.Errorf("event %v", e)
		}
		b.press(2, 2, false)
		if e := <-m.KeyEvents(); e != (hal.KeyEvent{Key: "9"}) {
			t.Errorf("event %v", e)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkStep is one scan of a 3x4 matrix on plain gpiotest pins and
// its debounce: no allocation.
func BenchmarkStep(b *testing.B) {
	var rows []gpio.PinIO
	var cols []gpio.PinIn
	for i := range 4 {
		rows = append(rows, &gpiotest.Pin{Num: i})
	}
	for i := range 3 {
		cols = append(cols, &gpiotest.Pin{Num: 10 + i})
	}
	m, err := New(rows, cols, keys3x4, Options{})
	if err != nil {
		b.Fatal(err)
	}
	m.Init()
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(5 * time.Millisecond)
		m.Step(now)
	}
}

// rectangle is the definition Ambiguous must match: three corners of some
// rectangle of rows i, j and columns a, b are down.
func rectangle(scan []uint32) bool {
	for i := range scan {
		for j := range scan {
			if i == j {
				continue
			}
			for a := range 32 {
				for b := range 32 {
					if a == b {
						continue
					}
					at := func(r, c int) bool { return scan[r]&(1<<c) != 0 }
					n := 0
					for _, v := range []bool{at(i, a), at(i, b), at(j, a), at(j, b)} {
						if v {
							n++
						}
					}
					if n >= 3 {
						return true
					}
				}
			}
		}
	}
	return false
}

func FuzzAmbiguous(f *testing.F) {
	f.Add([]byte{0b011, 0b001, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 8 {
			b = b[:8]
		}
		scan := make([]uint32, len(b))
		for i, x := range b {
			scan[i] = uint32(x & 0x0f) // a 4-column matrix
		}
		if got, want := Ambiguous(scan), rectangle(scan); got != want {
			t.Fatalf("Ambiguous(%b) = %v, three corners of a rectangle: %v", scan, got, want)
		}
	})
}
