package keypad

import (
	"context"
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/hal"
	"periph.io/x/conn/v3/gpio"
)

// Options tune the scanner; zero values take the defaults.
type Options struct {
	ScanInterval time.Duration // default 5 ms
	Debounce     time.Duration // default 20 ms
	LongPress    time.Duration // default 800 ms
	// Settle is how long a driven row is given before its columns are
	// read; default 0 (a few microseconds pass in the GPIO calls anyway).
	Settle time.Duration
}

type keyState struct {
	raw, down, longSent bool
	since, downAt       time.Time
}

// Matrix is one key matrix.
type Matrix struct {
	rows   []gpio.PinIO
	cols   []gpio.PinIn
	keys   [][]string
	opts   Options
	events chan hal.KeyEvent
	state  []keyState // row-major
	scan   []uint32   // last raw scan, one column mask per row
	ghosts atomic.Uint64
	lost   atomic.Uint64
}

// New returns a scanner for the matrix with keys[r][c] at row r, column c.
// It touches no pin.
func New(rows []gpio.PinIO, cols []gpio.PinIn, keys [][]string, o Options) (*Matrix, error) {
	if len(rows) == 0 || len(rows) > 8 || len(cols) == 0 || len(cols) > 32 {
		return nil, fmt.Errorf("keypad: %d rows x %d columns: want 1-8 x 1-32", len(rows), len(cols))
	}
	if len(keys) != len(rows) {
		return nil, fmt.Errorf("keypad: keys for %d rows, %d rows wired", len(keys), len(rows))
	}
	for r, k := range keys {
		if len(k) != len(cols) {
			return nil, fmt.Errorf("keypad: row %d has %d keys for %d columns", r, len(k), len(cols))
		}
	}
	if o.ScanInterval == 0 {
		o.ScanInterval = 5 * time.Millisecond
	}
	if o.Debounce == 0 {
		o.Debounce = 20 * time.Millisecond
	}
	if o.LongPress == 0 {
		o.LongPress = 800 * time.Millisecond
	}
	return &Matrix{
		rows: rows, cols: cols, keys: keys, opts: o,
		events: make(chan hal.KeyEvent, 64),
		state:  make([]keyState, len(rows)*len(cols)),
		scan:   make([]uint32, len(rows)),
	}, nil
}

// Init sets every row to an input with a pull-up (idle) and every column
// to an input with a pull-up.
func (m *Matrix) Init() error {
	for i, p := range m.rows {
		if err := p.In(gpio.PullUp, gpio.NoEdge); err != nil {
			return fmt.Errorf("keypad: row %d (%s): %w", i, p, err)
		}
	}
	for i, p := range m.cols {
		if err := p.In(gpio.PullUp, gpio.NoEdge); err != nil {
			return fmt.Errorf("keypad: column %d (%s): %w", i, p, err)
		}
	}
	return nil
}

// KeyEvents implements hal.Keypad.
func (m *Matrix) KeyEvents() <-chan hal.KeyEvent { return m.events }

// Ghosts is how many scans were set aside as ambiguous; Lost how many
// events were dropped because nobody read them.
func (m *Matrix) Ghosts() uint64 { return m.ghosts.Load() }
func (m *Matrix) Lost() uint64   { return m.lost.Load() }

// Scan drives each row low in turn and returns the columns read low, one
// mask per row. The slice is reused by the next Scan.
func (m *Matrix) Scan() ([]uint32, error) {
	for r, row := range m.rows {
		if err := row.Out(gpio.Low); err != nil {
			return nil, fmt.Errorf("keypad: row %d (%s): %w", r, row, err)
		}
		if m.opts.Settle > 0 {
			time.Sleep(m.opts.Settle)
		}
		var mask uint32
		for c, col := range m.cols {
			if col.Read() == gpio.Low {
				mask |= 1 << c
			}
		}
		m.scan[r] = mask
		if err := row.In(gpio.PullUp, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("keypad: row %d (%s): %w", r, row, err)
		}
	}
	return m.scan, nil
}

// Ambiguous reports whether a scan could contain a ghost key: two rows
// sharing a column while, between them, more than one column is down.
func Ambiguous(scan []uint32) bool {
	for i := range scan {
		for j := i + 1; j < len(scan); j++ {
			if scan[i]&scan[j] != 0 && bits.OnesCount32(scan[i]|scan[j]) > 1 {
				return true
			}
		}
	}
	return false
}

// Step scans once at time now and sends the events that follow.
func (m *Matrix) Step(now time.Time) error {
	scan, err := m.Scan()
	if err != nil {
		return err
	}
	m.Apply(scan, now)
	return nil
}

// Apply runs the debouncer over one scan taken at now.
func (m *Matrix) Apply(scan []uint32, now time.Time) {
	if Ambiguous(scan) {
		m.ghosts.Add(1)
		return
	}
	nc := len(m.cols)
	for r := range m.rows {
		for c := range nc {
			k := &m.state[r*nc+c]
			raw := scan[r]&(1<<c) != 0
			if raw != k.raw {
				k.raw, k.since = raw, now
			}
			if k.raw != k.down && now.Sub(k.since) >= m.opts.Debounce {
				k.down = k.raw
				k.longSent = false
				k.downAt = now
				m.send(hal.KeyEvent{Key: m.keys[r][c], Down: k.down})
			}
			if k.down && !k.longSent && now.Sub(k.downAt) >= m.opts.LongPress {
				k.longSent = true
				m.send(hal.KeyEvent{Key: m.keys[r][c], Down: true, Long: true})
			}
		}
	}
}

func (m *Matrix) send(e hal.KeyEvent) {
	select {
	case m.events <- e:
	default:
		m.lost.Add(1)
	}
}

// Run scans every ScanInterval until ctx ends; it returns the first GPIO
// error.
func (m *Matrix) Run(ctx context.Context) error {
	t := time.NewTicker(m.opts.ScanInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if err := m.Step(now); err != nil {
				return err
			}
		}
	}
}
