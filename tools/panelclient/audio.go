package panelclient

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"
)

// Rate and Frame are the panel's audio format until a client asks for
// another rate (SetRate, panel/3): 8000 samples/s, paced in 20 ms frames.
const (
	Rate  = 8000
	Frame = Rate / 50
)

// WideRate is panel/3's wideband audio rate (SetRate).
const WideRate = 16000

// SetRate asks the phone for its audio stream at rate samples/s (8000, or
// WideRate; panel/3's "audio rate" line) and waits for its answer; from
// then on both directions of the stream, Play, PlayTone and Record run at
// that rate. Earpiece audio received before is dropped. A phone older than
// panel/3 answers with an error line: SetRate fails and the stream stays
// at 8000.
func (c *Client) SetRate(ctx context.Context, rate int) error {
	mark := c.Mark()
	if err := c.Send("audio rate " + strconv.Itoa(rate)); err != nil {
		return err
	}
	l, err := c.WaitAfter(ctx, mark, regexp.MustCompile(`^(audio rate \d+|error .*)$`))
	if err != nil {
		return fmt.Errorf("panelclient: audio rate %d: %w", rate, err)
	}
	if l != "audio rate "+strconv.Itoa(rate) {
		return fmt.Errorf("panelclient: audio rate %d: the phone says %q", rate, l)
	}
	c.amu.Lock()
	c.rate = rate
	c.amu.Unlock()
	c.FlushAudio()
	return nil
}

// Rate is the audio stream's rate, samples/s (SetRate).
func (c *Client) Rate() int {
	c.amu.Lock()
	defer c.amu.Unlock()
	if c.rate == 0 {
		return Rate
	}
	return c.rate
}

// Play sends microphone audio in real time, one 20 ms frame per tick of a
// ticker, asking next for each frame; it stops when next returns false or
// ctx ends (then it returns nil).
func (c *Client) Play(ctx context.Context, next func(frame []int16) bool) error {
	t := time.NewTicker(time.Second / 50)
	defer t.Stop()
	f := make([]int16, c.Rate()/50)
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
	n, rate := 0, float64(c.Rate())
	return c.Play(ctx, func(f []int16) bool {
		for i := range f {
			f[i] = int16(float64(amp) * math.Sin(2*math.Pi*freq*float64(n)/rate))
			n++
		}
		return true
	})
}

// Record returns the earpiece audio that arrives from now for d (what came
// before is dropped).
func (c *Client) Record(d time.Duration) ([]int16, error) {
	out := make([]int16, 0, int(d.Seconds()*float64(c.Rate()))+c.Rate()/50)
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
