package lab

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/deskphone/deskphone/tools/panelclient"
)

// Impulse is one impulse MeasureMouthToEar put into A's microphone.
type Impulse struct {
	// Captured is when the impulse's sample was captured, as a codec
	// would capture it: the frame that A's frame clock takes at tick T
	// was captured during the period before T.
	Captured time.Time
	// Latency is from Captured to when B's earpiece played the sample;
	// 0 if it was not heard, or not timed (a reader woke too late to
	// tell which frame period it belonged to).
	Latency time.Duration
}

// FrameClock estimates a phone's frame clock from when its earpiece
// frames arrive: frame k arrives at the tick t0 + k frames or, when the
// reader woke late, after it; the earliest arrival for its frame is the
// closest.
type FrameClock struct {
	t0  time.Time
	off time.Duration // least arrival - (t0 + k frames) seen
	set bool
}

func (c *FrameClock) frame(k int, at time.Time) {
	if !c.set {
		c.t0, c.set = at, true
		c.off = 0
		return
	}
	c.off = min(c.off, at.Sub(c.t0)-time.Duration(k)*framePeriod)
}

// tick is one tick of the clock.
func (c *FrameClock) tick() time.Time { return c.t0.Add(c.off) }

// Phase is how long after a tick of A's frame clock B's ticks, modulo a
// frame: A's packet, sent at A's tick, plays at B's next tick, so the
// latency at no jitter is a frame plus the phase (the floor of
// docs/DESIGN.md), and a frame more when the phase is so near 0 that the
// packet comes just after B's tick.
func Phase(a, b *FrameClock) time.Duration {
	d := b.tick().Sub(a.tick()) % framePeriod
	if d < 0 {
		d += framePeriod
	}
	return d
}

// RecordClocked records ph's earpiece stream for d, as Record does, and
// estimates its frame clock from when each frame arrived. The panel client
// must take each frame as it comes (SetEarpieceBatch(0), in effect: a
// read after it), or the arrivals say little.
func RecordClocked(ph *Phone, d time.Duration) ([]int16, *FrameClock, error) {
	var c FrameClock
	out := make([]int16, 0, int(d/framePeriod+1)*frameLen)
	err := ph.Panel.RecordFunc(time.Now().Add(d), func(s []int16) {
		now := time.Now()
		ends := (len(out)+len(s))/frameLen - len(out)/frameLen
		out = append(out, s...)
		if ends > 0 {
			c.frame(len(out)/frameLen, now)
		}
	})
	if !c.set && err == nil {
		err = errors.New("lab: no earpiece frame in the recording")
	}
	return out, &c, err
}

// Measurement is what MeasureMouthToEar found.
type Measurement struct {
	Impulses []Impulse
	// Phase is B's frame clock's phase after A's, modulo a frame (0 to
	// 20 ms), estimated from the earpiece streams.
	Phase time.Duration
}

// Latency sums up the impulses of a stretch of a call.
type Latency struct {
	Mean, Max      time.Duration
	Measured, Sent int
}

// LatencyOf sums up the impulses captured in [from, to).
func LatencyOf(imp []Impulse, from, to time.Time) Latency {
	var l Latency
	var sum time.Duration
	for _, i := range imp {
		if i.Captured.Before(from) || !i.Captured.Before(to) {
			continue
		}
		l.Sent++
		if i.Latency > 0 {
			l.Measured++
			sum += i.Latency
			l.Max = max(l.Max, i.Latency)
		}
	}
	if l.Measured > 0 {
		l.Mean = sum / time.Duration(l.Measured)
	}
	return l
}

const (
	impulseEvery = 10    // frames between impulses: 200 ms, more than any latency here
	impulseAmp   = 20000 // the impulse's sample
	heardAbove   = 10000 // an earpiece sample this loud is the impulse
	framePeriod  = time.Second / 50
	frameLen     = panelclient.Frame
)

// MeasureMouthToEar measures in real time, for d, the phone-added
// mouth-to-ear latency from phone a to phone b (in a call, or about to be:
// impulses before the call's audio flows are simply not heard). Every
// 200 ms an impulse goes into A's microphone stream at a random sample of
// a frame; its time out of B's earpiece stream is the latency, timed as
// audio.BenchmarkJitterScenarios times it in simulated time: from the
// sample's capture to its playout.
//
// The panel's own frame is not counted. The microphone frame is written as
// A's earpiece frame arrives (A's frame clock just ticked) and taken at the
// next tick, so the impulse is timed from that tick less a frame, where a
// codec would have captured it, not from when it was written. The panel
// sends each earpiece frame a tick after the engine made it (Exchange sends
// the frame of the previous period), so the playout is timed a frame
// before the earpiece frame arrives. Both times are read from the
// earpiece streams' arrival, so the socket's own delay cancels; a reader
// that woke late (a chunk with more than one frame, or a frame more than
// 5 ms off its period) leaves that impulse untimed rather than wrong.
func MeasureMouthToEar(ctx context.Context, a, b *Phone, d time.Duration) (Measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var (
		mu   sync.Mutex
		imps []Impulse
		// heard: B's earpiece, when each loud sample played (valid
		// false: its frame's arrival is not known to a few ms).
		heard []struct {
			at    time.Time
			valid bool
		}
	)
	var clockA, clockB FrameClock
	errc := make(chan error, 2)
	// A: one microphone frame per earpiece frame, an impulse every
	// impulseEvery frames.
	go func() {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		mic := make([]int16, frameLen)
		var n int          // samples of A's earpiece stream read
		var last time.Time // arrival of the last frame boundary
		pending := -1      // the impulse in the frame written last: its sample, -1 none
		pendingOK := false
		frames := 0
		err := a.Panel.RecordFunc(deadline, func(s []int16) {
			now := time.Now()
			ends := (n+len(s))/frameLen - n/frameLen // frames completed by this chunk
			n += len(s)
			if ends == 0 {
				return
			}
			onTime := ends == 1 && !last.IsZero() && absDur(now.Sub(last)-framePeriod) < 5*time.Millisecond
			last = now
			clockA.frame(n/frameLen, now)
			if pending >= 0 {
				// This tick took the frame written at the last one.
				c := now.Add(-framePeriod + time.Duration(pending)*time.Second/panelclient.Rate)
				mu.Lock()
				imps = append(imps, Impulse{Captured: c, Latency: -1})
				if !pendingOK || !onTime {
					imps[len(imps)-1].Latency = -2 // not timed
				}
				mu.Unlock()
				pending = -1
			}
			// One frame per chunk, even one that ends more than one
			// frame: the ticks missed took silence, and frames written
			// for them would wait in the panel's ring.
			clear(mic)
			frames++
			if frames%impulseEvery == 0 {
				pending = rng.IntN(frameLen)
				pendingOK = onTime
				mic[pending] = impulseAmp
			}
			a.Panel.WriteAudio(mic)
		})
		errc <- err
	}()
	// B: the loud samples of its earpiece stream.
	go func() {
		var n int // samples read
		var frameAt time.Time
		var frameOK bool
		var last time.Time
		err := b.Panel.RecordFunc(deadline, func(s []int16) {
			now := time.Now()
			frames := (n+len(s)+frameLen-1)/frameLen - (n+frameLen-1)/frameLen
			for i, v := range s {
				j := n + i
				if j%frameLen == 0 {
					// A frame begins in this chunk: it arrived now, or
					// earlier if the chunk holds more than one.
					frameOK = frames == 1 && !last.IsZero() && absDur(now.Sub(last)-framePeriod) < 5*time.Millisecond
					frameAt, last = now, now
					clockB.frame(j/frameLen, now)
				}
				if v > heardAbove || v < -heardAbove {
					pos := time.Duration(j%frameLen) * time.Second / panelclient.Rate
					mu.Lock()
					heard = append(heard, struct {
						at    time.Time
						valid bool
					}{frameAt.Add(-framePeriod + pos), frameOK})
					mu.Unlock()
				}
			}
			n += len(s)
		})
		errc <- err
	}()
	var errs []error
	for range 2 {
		errs = append(errs, <-errc)
	}
	if err := errors.Join(errs...); err != nil {
		return Measurement{}, err
	}
	// Each impulse is the first loud sample played after it was captured
	// and before the next; a later one (concealment repeating it) is not.
	for k := range imps {
		end := deadline
		if k+1 < len(imps) {
			end = imps[k+1].Captured
		}
		lat := imps[k].Latency
		imps[k].Latency = 0
		for _, h := range heard {
			if h.at.After(imps[k].Captured) && h.at.Before(end) {
				if lat == -1 && h.valid {
					imps[k].Latency = h.at.Sub(imps[k].Captured)
				}
				break
			}
		}
	}
	return Measurement{Impulses: imps, Phase: Phase(&clockA, &clockB)}, nil
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
