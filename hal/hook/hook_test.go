package hook

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func TestSwitch(t *testing.T) {
	tests := []struct {
		name    string
		offHigh bool
		edges   [][]gpio.Level // bursts of edges, each burst followed by quiet
		want    []bool
	}{
		{"replace and lift", true, [][]gpio.Level{{gpio.Low}, {gpio.High}}, []bool{false, true}},
		{"bouncing replace counts once", true, [][]gpio.Level{{gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low}}, []bool{false}},
		{"bounce back to where it was", true, [][]gpio.Level{{gpio.Low, gpio.High}}, nil},
		{"low while lifted", false, [][]gpio.Level{{gpio.Low}, {gpio.High}}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pin := &gpiotest.Pin{N: "hook", Num: 22, EdgesChan: make(chan gpio.Level)}
				s := New(pin, Options{OffHookHigh: tt.offHigh})
				if err := s.Init(); err != nil {
					t.Fatal(err)
				}
				// The pull-up holds the line high at start.
				if s.OffHook() != tt.offHigh {
					t.Fatalf("OffHook at start %v", s.OffHook())
				}
				start := s.OffHook()
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- s.Run(ctx) }()
				defer func() { cancel(); <-done }()
				for _, burst := range tt.edges {
					for _, l := range burst {
						time.Sleep(2 * time.Millisecond)
						pin.EdgesChan <- l
					}
					time.Sleep(100 * time.Millisecond)
				}
				synctest.Wait()
				var got []bool
				for len(s.Changes()) > 0 {
					got = append(got, <-s.Changes())
				}
				if len(got) != len(tt.want) {
					t.Fatalf("changes %v, want %v", got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Fatalf("changes %v, want %v", got, tt.want)
					}
				}
				if len(got) > 0 && s.OffHook() != got[len(got)-1] || len(got) == 0 && s.OffHook() != start {
					t.Errorf("OffHook %v after %v", s.OffHook(), got)
				}
			})
		})
	}
}

func TestMissedEdgeCaughtByPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pin := &gpiotest.Pin{N: "hook", EdgesChan: make(chan gpio.Level)}
		s := New(pin, Options{OffHookHigh: false})
		if err := s.Init(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		defer func() { cancel(); <-done }()
		pin.Out(gpio.Low) // the level changes with no edge reported
		start := time.Now()
		if off := <-s.Changes(); !off {
			t.Fatal("got on-hook")
		}
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Errorf("poll took %v", d)
		}
	})
}
