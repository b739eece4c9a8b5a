package ringer

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
)

// scope records when the pin changed, relative to its creation.
type scope struct {
	gpiotest.Pin
	mu    sync.Mutex
	start time.Time
	log   []change
}

type change struct {
	at time.Duration
	on bool
}

func (s *scope) add(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.log); n > 0 && s.log[n-1].on == on {
		return
	}
	s.log = append(s.log, change{time.Since(s.start), on})
}

func (s *scope) Out(l gpio.Level) error { s.add(bool(l)); return s.Pin.Out(l) }
func (s *scope) PWM(d gpio.Duty, f physic.Frequency) error {
	s.add(d > 0)
	return s.Pin.PWM(d, f)
}

func TestCadences(t *testing.T) {
	s := func(v ...int) []change {
		var c []change
		for i, x := range v {
			c = append(c, change{time.Duration(x) * time.Millisecond, i%2 == 0})
		}
		return c
	}
	tests := []struct {
		country, ring string
		pwm           bool
		for_          time.Duration
		want          []change
	}{
		{"us", "normal", false, 7 * time.Second, s(0, 2000, 6000)},
		{"uk", "normal", false, 3900 * time.Millisecond, s(0, 400, 600, 1000, 3000, 3400, 3600)},
		{"us", "de", false, 5900 * time.Millisecond, s(0, 1000, 5000)},
		{"fr", "", true, 6 * time.Second, s(0, 1500, 5000)},
		{"jp", "continuous", false, 5 * time.Second, s(0)},
	}
	for _, tt := range tests {
		t.Run(tt.country+"/"+tt.ring, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pin := &scope{start: time.Now()}
				r, err := New(pin, Options{Country: tt.country, PWM: tt.pwm})
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Init(); err != nil {
					t.Fatal(err)
				}
				pin.log = nil
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- r.Run(ctx) }()
				if err := r.Ring(tt.ring); err != nil {
					t.Fatal(err)
				}
				time.Sleep(tt.for_)
				synctest.Wait()
				if !slices.Equal(pin.log, tt.want) {
					t.Errorf("pin %v, want %v", pin.log, tt.want)
				}
				if tt.pwm && (pin.D != 0 && pin.D != gpio.DutyHalf || pin.F != 2*physic.KiloHertz) {
					t.Errorf("PWM %v at %v", pin.D, pin.F)
				}
				r.Silence()
				synctest.Wait()
				if pin.L != gpio.Low {
					t.Error("still ringing after Silence")
				}
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

func TestBadNames(t *testing.T) {
	if _, err := New(&gpiotest.Pin{}, Options{Country: "xx"}); err == nil {
		t.Error("country xx accepted")
	}
	r, _ := New(&gpiotest.Pin{}, Options{})
	if err := r.Ring("bellcore-dr9"); err == nil {
		t.Error("unknown cadence accepted")
	}
	for _, n := range Names() {
		c, ok := CadenceOf(n)
		if !ok || len(c) == 0 || len(c) > 1 && len(c)%2 != 0 {
			t.Errorf("cadence %s: %v", n, c)
		}
	}
}
