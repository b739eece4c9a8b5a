package hook

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Options tune the switch; zero values take the defaults.
type Options struct {
	// OffHookHigh: the input reads high while the handset is lifted (a
	// switch to ground that opens when the handset is lifted, with the
	// pull-up). False: low while lifted.
	OffHookHigh bool
	Debounce    time.Duration // default 30 ms
	Poll        time.Duration // re-read without an edge; default 250 ms
}

// Switch is one hookswitch.
type Switch struct {
	pin     gpio.PinIn
	opts    Options
	off     atomic.Bool
	changes chan bool
}

// New returns the switch on pin. It touches no pin.
func New(pin gpio.PinIn, o Options) *Switch {
	if o.Debounce == 0 {
		o.Debounce = 30 * time.Millisecond
	}
	if o.Poll == 0 {
		o.Poll = 250 * time.Millisecond
	}
	return &Switch{pin: pin, opts: o, changes: make(chan bool, 16)}
}

// Init makes the pin an input with a pull-up and edge detection on both
// edges, and reads the state the phone starts in (no event is sent for it).
func (s *Switch) Init() error {
	if err := s.pin.In(gpio.PullUp, gpio.BothEdges); err != nil {
		return fmt.Errorf("hook: %s: %w", s.pin, err)
	}
	s.off.Store(s.level(s.pin.Read()))
	return nil
}

func (s *Switch) level(l gpio.Level) bool { return bool(l) == s.opts.OffHookHigh }

// OffHook implements hal.Hook.
func (s *Switch) OffHook() bool { return s.off.Load() }

// Changes implements hal.Hook.
func (s *Switch) Changes() <-chan bool { return s.changes }

// Run waits for edges until ctx ends (it notices within Poll).
func (s *Switch) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if !s.pin.WaitForEdge(s.opts.Poll) {
			s.settled(ctx) // the poll: a missed edge shows here
			continue
		}
		// Bounces: wait until no edge has come for the debounce time.
		for s.pin.WaitForEdge(s.opts.Debounce) {
			if ctx.Err() != nil {
				return nil
			}
		}
		s.settled(ctx)
	}
	return nil
}

func (s *Switch) settled(ctx context.Context) {
	now := s.level(s.pin.Read())
	if now == s.off.Load() {
		return
	}
	s.off.Store(now)
	select {
	case s.changes <- now:
	case <-ctx.Done():
	}
}
