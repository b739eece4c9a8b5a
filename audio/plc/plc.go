package plc

import "math"

const (
	histLen  = 390 // 48.75 ms of history
	minPitch = 40  // 200 Hz
	maxPitch = 120 // 66.7 Hz
	corrLen  = 160 // correlation window, 20 ms
	tenMs    = 80
	maxOLA   = 80
	silentAt = 480 // 60 ms
)

// Concealer holds the history of one stream.
type Concealer struct {
	ring   [histLen]int16 // history, a ring: the oldest sample at head
	head   int
	hist   [histLen]int16      // the history in order, made when a loss begins
	orig   [3 * maxPitch]int16 // the history when the loss began
	pbuf   [3 * maxPitch]int16 // the periods being repeated
	plen   int                 // samples of pbuf in use
	pos    int                 // next sample of pbuf
	pitch  int
	erased int // samples concealed in the current loss; 0: none
	// Concealed counts frames Conceal produced; Silent those of them past
	// 60 ms of loss (played as silence).
	Concealed, Silent uint64
}

// New returns a Concealer with silent history.
func New() *Concealer { return &Concealer{} }

// Reset forgets the history (a new stream).
func (c *Concealer) Reset() { *c = Concealer{Concealed: c.Concealed, Silent: c.Silent} }

// Erasing reports whether the last frame was concealed.
func (c *Concealer) Erasing() bool { return c.erased > 0 }

// Good takes a frame decoded from the network. If it ends a loss, its start
// is cross-faded in place from the synthetic signal. It then joins the
// history.
func (c *Concealer) Good(frame []int16) {
	if c.erased > 0 {
		n := min(len(frame), maxOLA, c.pitch/4+(c.erased/tenMs)*32)
		if n > 0 {
			var syn [maxOLA]int16
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
	if len(f) >= histLen {
		copy(c.ring[:], f[len(f)-histLen:])
		c.head = 0
		return
	}
	n := copy(c.ring[c.head:], f)
	copy(c.ring[:], f[n:])
	c.head = (c.head + len(f)) % histLen
}

// linearise puts the history in order into hist.
func (c *Concealer) linearise() {
	n := copy(c.hist[:], c.ring[c.head:])
	copy(c.hist[n:], c.ring[:c.head])
}

// Conceal fills out with the synthetic continuation of the history.
func (c *Concealer) Conceal(out []int16) {
	c.Concealed++
	if c.erased == 0 {
		c.linearise()
		c.pitch = c.findPitch()
		copy(c.orig[:], c.hist[histLen-len(c.orig):])
		c.setPeriods(1)
	}
	if c.erased >= silentAt {
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
	copy(c.pbuf[:c.plen], c.orig[len(c.orig)-c.plen:])
	c.pos = 0
}

// synth writes the next len(out) synthetic samples, fading, and advances
// the erasure.
func (c *Concealer) synth(out []int16) {
	for i := range out {
		e := c.erased
		if e >= tenMs && c.pos == 0 && c.plen == c.pitch {
			c.setPeriods(3)
		}
		g := 1.0
		if e >= tenMs {
			g = 1 - 0.2*float64(e-tenMs)/tenMs
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
	end := c.hist[histLen-corrLen:]
	best, bestT := -math.MaxFloat64, maxPitch
	for t := minPitch; t <= maxPitch; t++ {
		w := c.hist[histLen-corrLen-t : histLen-t]
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
