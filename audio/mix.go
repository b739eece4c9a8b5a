package audio

import "errors"

// Conference is a local three-way conference: this phone's user and two
// far ends, each on its own Engine (one per call, same frame size). The
// user hears both far ends; each far end hears the user and the other far
// end. The far ends' audio reaches each other one frame later (each
// engine's Process sends before it plays out). The engines run at one
// rate (Config.Rate) whatever their codecs: a wideband (G.722) leg and a
// narrowband (G.711) one mix at 16000 samples/s, each engine resampling at
// its codec (audio/resample), so the narrowband far end hears the
// wideband one low-pass filtered, and the mix does no rate conversion of
// its own. Conference allocates its
// buffers in NewConference and nothing per frame; it is driven by one
// audio loop.
type Conference struct {
	a, b         *Engine
	earA, earB   []int16 // this period's far-end frames
	prevA, prevB []int16 // last period's, mixed into the other's send
	micA, micB   []int16
	frame        int
}

// NewConference joins two engines' streams into one conference.
func NewConference(a, b *Engine) (*Conference, error) {
	if a == nil || b == nil || a == b {
		return nil, errors.New("audio: a conference needs two engines")
	}
	if a.frame != b.frame || a.cfg.Rate != b.cfg.Rate {
		return nil, errors.New("audio: conference engines must have the same rate and frame size")
	}
	n := a.frame
	return &Conference{a: a, b: b, frame: n,
		earA: make([]int16, n), earB: make([]int16, n),
		prevA: make([]int16, n), prevB: make([]int16, n),
		micA: make([]int16, n), micB: make([]int16, n)}, nil
}

// Process is Engine.Process for the conference: mic goes to both far ends
// (each with the other far end mixed in), ear gets both far ends (and both
// engines' tones).
func (c *Conference) Process(mic, ear []int16) {
	n := min(len(mic), c.frame)
	if c.a.Muted() { // the phone's microphone is muted (A's engine holds the key)
		n = 0
	}
	clear(c.micA)
	clear(c.micB)
	copy(c.micA, mic[:n])
	copy(c.micB, mic[:n])
	MixInto(c.micA, c.prevB)
	MixInto(c.micB, c.prevA)
	c.a.process(c.micA, c.earA)
	c.b.process(c.micB, c.earB)
	m := min(len(ear), c.frame)
	copy(ear[:m], c.earA)
	MixInto(ear[:m], c.earB)
	clear(ear[m:])
	c.prevA, c.earA = c.earA, c.prevA
	c.prevB, c.earB = c.earB, c.prevB
}

// MixInto adds src to dst sample by sample (up to the shorter length),
// saturating at full scale.
func MixInto(dst, src []int16) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		v := int32(dst[i]) + int32(s)
		if v > 32767 {
			v = 32767
		} else if v < -32768 {
			v = -32768
		}
		dst[i] = int16(v)
	}
}
