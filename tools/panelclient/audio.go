package panelclient

import (
	"context"
	"math"
	"time"
)

// Rate and Frame are the panel's audio format: 8000 samples/s, paced in
// 20 ms frames.
const (
	Rate  = 8000
	Frame = Rate / 50
)

// Play sends microphone audio in real time, one 20 ms frame per tick of a
// ticker, asking next for each frame; it stops when next returns false or
// ctx ends (then it returns nil).
func (c *Client) Play(ctx context.Context, next func(frame []int16) bool) error {
	t := time.NewTicker(time.Second / 50)
	defer t.Stop()
	f := make([]int16, Frame)
	for {
		if !next(f) {
			return nil
		}
		if err := c.WriteAudio(f); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// PlayTone plays a sine of freq Hz and the given amplitude into the
// microphone stream in real time until ctx ends.
func (c *Client) PlayTone(ctx context.Context, freq float64, amp int16) error {
	n := 0
	return c.Play(ctx, func(f []int16) bool {
		for i := range f {
			f[i] = int16(float64(amp) * math.Sin(2*math.Pi*freq*float64(n)/Rate))
			n++
		}
		return true
	})
}

// Record returns the earpiece audio that arrives from now for d (what came
// before is dropped).
func (c *Client) Record(d time.Duration) ([]int16, error) {
	out := make([]int16, 0, int(d.Seconds()*Rate)+Frame)
	err := c.RecordFunc(time.Now().Add(d), func(s []int16) { out = append(out, s...) })
	return out, err
}

// RecordFunc hands the earpiece audio that arrives from now until the
// deadline to f, chunk by chunk (f must not keep the slice). What came
// before is dropped.
func (c *Client) RecordFunc(deadline time.Time, f func([]int16)) error {
	c.FlushAudio()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	buf := make([]int16, 1024)
	for {
		n, err := c.readAudio(buf, t.C)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // the deadline
		}
		f(buf[:n])
	}
}
