package plc

import "math"

// The lengths at 8000 samples/s; a Concealer at 16000 doubles each
// (maxScale: the arrays hold the widest).
const (
	histLen8  = 390 // 48.75 ms of history
	minPitch8 = 40  // 200 Hz
	maxPitch8 = 120 // 66.7 Hz
	corrLen8  = 160 // correlation window, 20 ms
	tenMs8    = 80
	maxOLA8   = 80
	silentAt8 = 480 // 60 ms
	fadeStep8 = 32  // cross-fade added per 10 ms lost: 4 ms
	maxScale  = 2
)

// lengths are the Concealer's lengths in samples at its rate.
type lengths struct {
	histLen, minPitch, maxPitch, corrLen, tenMs, maxOLA, silentAt, fadeStep int
}

func lengthsAt(k int) lengths {
	return lengths{histLen8 * k, minPitch8 * k, maxPitch8 * k, corrLen8 * k, tenMs8 * k, maxOLA8 * k, silentAt8 * k, fadeStep8 * k}
}

// Concealer holds the history of one stream.
type Concealer struct {
	lengths
	ring   [histLen8 * maxScale]int16 // history, a ring: the oldest sample at head
	head   int
	hist   [histLen8 * maxScale]int16      // the history in order, made when a loss begins
	orig   [3 * maxPitch8 * maxScale]int16 // the history when the loss began
	pbuf   [3 * maxPitch8 * maxScale]int16 // the periods being repeated
	plen   int                             // samples of pbuf in use
	pos    int                             // next sample of pbuf
	pitch  int
	erased int // samples concealed in the current loss; 0: none
	// Concealed counts frames Conceal produced; Silent those of them past
	// 60 ms of loss (played as silence).
	Concealed, Silent uint64
}

// New returns a Concealer at 8000 samples/s with silent history.
func New() *Concealer { return &Concealer{lengths: lengthsAt(1)} }

// NewRate returns a Concealer at rate samples/s: 8000 or 16000 (G.722's
// wideband); every length (history, pitch range, fades) scales with it.
// Another rate panics: the engine checks its rate first.
func NewRate(rate int) *Concealer {
	if rate != 8000 && rate != 16000 {
		panic("plc: rate must be 8000 or 16000")
	}
	return &Concealer{lengths: lengthsAt(rate / 8000)}
}

// Reset forgets the history (a new stream).
func (c *Concealer) Reset() {
	*c = Concealer{lengths: c.lengths, Concealed: c.Concealed, Silent: c.Silent}
}

// Erasing reports whether the last frame was concealed.
func (c *Concealer) Erasing() bool { return c.erased > 0 }

// Good takes a frame decoded from the network. If it ends a loss, its start
// is cross-faded in place from the synthetic signal. It then joins the
// history.
func (c *Concealer) Good(frame []int16) {
	if c.erased > 0 {
		n := min(len(frame), c.maxOLA, c.pitch/4+(c.erased/c.tenMs)*c.fadeStep)
		if n > 0 {
			var syn [maxOLA8 * maxScale]int16
			c.synth(syn[:n])
			for i := range n {
				w := float64(i+1) / float64(n+1)
				frame[i] = int16(math.Round(float64(syn[i])*(1-w) + float64(frame[i])*w))
			}
		}
		c.erased = 0
	}
	c.push(frame)
}

func (c *Concealer) push(f []int16) {
	if len(f) >= c.histLen {
		copy(c.ring[:c.histLen], f[len(f)-c.histLen:])
		c.head = 0
		return
	}
	n := copy(c.ring[c.head:c.histLen], f)
	copy(c.ring[:], f[n:])
	c.head = (c.head + len(f)) % c.histLen
}

// linearise puts the history in order into hist.
func (c *Concealer) linearise() {
	n := copy(c.hist[:c.histLen], c.ring[c.head:c.histLen])
	copy(c.hist[n:c.histLen], c.ring[:c.head])
}

// Conceal fills out with the synthetic continuation of the history.
func (c *Concealer) Conceal(out []int16) {
	c.Concealed++
	if c.erased == 0 {
		c.linearise()
		c.pitch = c.findPitch()
		copy(c.orig[:3*c.maxPitch], c.hist[c.histLen-3*c.maxPitch:c.histLen])
		c.setPeriods(1)
	}
	if c.erased >= c.silentAt {
		c.Silent++
		clear(out)
		c.erased += len(out)
		c.push(out)
		return
	}
	c.synth(out)
	c.push(out)
}

// setPeriods repeats the last n pitch periods before the loss. Called at a
// period boundary, it keeps the phase.
func (c *Concealer) setPeriods(n int) {
	c.plen = n * c.pitch
	copy(c.pbuf[:c.plen], c.orig[3*c.maxPitch-c.plen:3*c.maxPitch])
	c.pos = 0
}

// synth writes the next len(out) synthetic samples, fading, and advances
// the erasure.
func (c *Concealer) synth(out []int16) {
	for i := range out {
		e := c.erased
		if e >= c.tenMs && c.pos == 0 && c.plen == c.pitch {
			c.setPeriods(3)
		}
		g := 1.0
		if e >= c.tenMs {
			g = 1 - 0.2*float64(e-c.tenMs)/float64(c.tenMs)
		}
		if g <= 0 {
			out[i] = 0
		} else {
			out[i] = int16(math.Round(g * float64(c.pbuf[c.pos])))
		}
		c.pos++
		if c.pos >= c.plen {
			c.pos = 0
		}
		c.erased++
	}
}

// findPitch returns the lag in minPitch..maxPitch whose window best matches
// the last corrLen samples (normalised cross correlation).
func (c *Concealer) findPitch() int {
	end := c.hist[c.histLen-c.corrLen : c.histLen]
	best, bestT := -math.MaxFloat64, c.maxPitch
	for t := c.minPitch; t <= c.maxPitch; t++ {
		w := c.hist[c.histLen-c.corrLen-t : c.histLen-t]
		var xy, yy float64
		for i, x := range end {
			y := float64(w[i])
			xy += float64(x) * y
			yy += y * y
		}
		if yy == 0 {
			continue
		}
		if r := xy / math.Sqrt(yy); r > best {
			best, bestT = r, t
		}
	}
	return bestT
}
