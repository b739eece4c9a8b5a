package ringer

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Cadence is on, off, on, off, ... durations; it repeats. One entry (on)
// rings without a break.
type Cadence []time.Duration

func ms(v ...int) Cadence {
	c := make(Cadence, len(v))
	for i, x := range v {
		c[i] = time.Duration(x) * time.Millisecond
	}
	return c
}

var cadences = map[string]Cadence{
	"us": ms(2000, 4000), "ca": ms(2000, 4000),
	"uk": ms(400, 200, 400, 2000), "au": ms(400, 200, 400, 2000),
	"de": ms(1000, 4000), "nl": ms(1000, 4000), "it": ms(1000, 4000),
	"fr": ms(1500, 3500), "jp": ms(1000, 2000), "se": ms(1000, 5000),
	"continuous": ms(1000),
}

// CadenceOf returns the named cadence (a country code or "continuous").
func CadenceOf(name string) (Cadence, bool) {
	c, ok := cadences[strings.ToLower(name)]
	return c, ok
}

// Names lists the cadences, sorted.
func Names() []string {
	var n []string
	for k := range cadences {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Options describe the ringer's wiring.
type Options struct {
	// Country is the cadence "normal" and "" stand for; default "us".
	Country string
	// PWM: drive the "on" parts as a 50 % square wave at Frequency (a
	// passive buzzer on a PWM-capable pin); otherwise the pin is high (a
	// relay, or an active buzzer).
	PWM       bool
	Frequency physic.Frequency // default 2 kHz
}

// Ringer rings one pin.
type Ringer struct {
	pin  gpio.PinOut
	opts Options

	mu      sync.Mutex
	cadence Cadence // nil: silent
	wake    chan struct{}
	pinErr  error
}

// New returns a ringer on pin; it checks the country and touches no pin.
func New(pin gpio.PinOut, o Options) (*Ringer, error) {
	if o.Country == "" {
		o.Country = "us"
	}
	if _, ok := CadenceOf(o.Country); !ok {
		return nil, fmt.Errorf("ringer: no cadence for country %q (have %s)", o.Country, strings.Join(Names(), ", "))
	}
	if o.Frequency == 0 {
		o.Frequency = 2 * physic.KiloHertz
	}
	return &Ringer{pin: pin, opts: o, wake: make(chan struct{}, 1)}, nil
}

// Init drives the pin low.
func (r *Ringer) Init() error {
	if err := r.pin.Out(gpio.Low); err != nil {
		return fmt.Errorf("ringer: %s: %w", r.pin, err)
	}
	return nil
}

// Ring starts ringing with the named cadence ("normal" or "" is the
// country's), restarting it from its first "on" part. Run does the ringing.
func (r *Ringer) Ring(name string) error {
	if name == "" || name == "normal" {
		name = r.opts.Country
	}
	c, ok := CadenceOf(name)
	if !ok {
		return fmt.Errorf("ringer: unknown cadence %q", name)
	}
	r.set(c)
	return nil
}

// Silence stops ringing.
func (r *Ringer) Silence() error {
	r.set(nil)
	return nil
}

func (r *Ringer) set(c Cadence) {
	r.mu.Lock()
	r.cadence = c
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Ringer) drive(on bool) error {
	var err error
	switch {
	case on && r.opts.PWM:
		err = r.pin.PWM(gpio.DutyHalf, r.opts.Frequency)
	case on:
		err = r.pin.Out(gpio.High)
	default:
		err = r.pin.Out(gpio.Low)
	}
	if err != nil {
		return fmt.Errorf("ringer: %s: %w", r.pin, err)
	}
	return nil
}

// Run plays the cadence asked for until ctx ends, then leaves the pin low.
func (r *Ringer) Run(ctx context.Context) error {
	var (
		c     Cadence
		i     int
		timer = time.NewTimer(time.Hour)
	)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return r.drive(false)
		case <-r.wake:
			r.mu.Lock()
			c = r.cadence
			r.mu.Unlock()
			timer.Stop()
			i = 0
			if err := r.drive(c != nil); err != nil {
				return err
			}
			if len(c) > 1 {
				timer.Reset(c[0])
			}
		case <-timer.C:
			i = (i + 1) % len(c)
			if err := r.drive(i%2 == 0); err != nil {
				return err
			}
			timer.Reset(c[i])
		}
	}
}
