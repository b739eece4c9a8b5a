// Package resample converts audio between 8000 and 16000 samples/s, the
// phone's two rates (G.711's and G.722's). It is the one converter of the
// firmware, shared by two layers (so it lives in internal): the media
// engine, where a stream's codec and the engine (the device, a
// conference) run at different rates, and the virtual panel, whose
// audio client may take 8000 while the phone runs at 16000 (panel.md).
//
// Both directions use one half-band low-pass FIR filter (49 taps, Kaiser
// window, beta 8; cut-off at 4 kHz): half of its taps are zero, so each
// output sample costs 24 multiplies, and the filter passes an 8000-sample
// signal's own samples unchanged through Up. Up and Down delay by Delay
// samples at 8000/s (2*Delay at 16000). Both are fixed-size values that
// keep the filter's history across calls, allocate nothing, and are not
// safe for concurrent use. Their zero values are ready (silent history).
package resample

import "math"

const (
	// taps is the filter's non-zero taps beside its centre.
	taps = 24
	// Delay is the delay of either direction, samples at 8000/s.
	Delay = taps / 2
)

// g is the odd phase of the half-band filter, doubled (Q15): the weights
// of x[n-k], summing to 1.
var g [taps]int32

func init() {
	const beta = 8.0
	var f [taps]float64
	var sum float64
	for k := range taps {
		// Tap j = 2k+1 of the 49 (centre 24): offset m = j-24 (odd).
		m := float64(2*k + 1 - 2*Delay)
		x := m / 2
		sinc := math.Sin(math.Pi*x) / (math.Pi * x)
		r := m / (2 * Delay)
		w := i0(beta*math.Sqrt(1-r*r)) / i0(beta)
		f[k] = sinc * w // 2 * (0.5 * sinc): the doubled half-band tap
		sum += f[k]
	}
	for k := range taps {
		g[k] = int32(math.Round(f[k] / sum * 32768))
	}
}

// i0 is the zeroth-order modified Bessel function of the first kind (its
// series), for the Kaiser window.
func i0(x float64) float64 {
	s, t := 1.0, 1.0
	for k := 1; k < 30; k++ {
		t *= (x / 2) / float64(k)
		s += t * t
	}
	return s
}

// line is a delay line whose last N samples are always one contiguous
// window, newest first (each sample is written twice).
type line[A ~[2 * taps]int32] struct {
	buf A
	pos int
}

func (l *line[A]) push(x int32) {
	if l.pos--; l.pos < 0 {
		l.pos = taps - 1
	}
	l.buf[l.pos], l.buf[l.pos+taps] = x, x
}

// window returns w with w[k] = x[n-k].
func (l *line[A]) window() []int32 { return l.buf[l.pos : l.pos+taps] }

func fir(w []int32) int64 {
	var acc int64
	for k, c := range g {
		acc += int64(c) * int64(w[k])
	}
	return acc
}

func sat(x int64) int16 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return int16(x)
}

// Up converts 8000 samples/s to 16000.
type Up struct {
	x line[[2 * taps]int32]
}

// Process writes two samples into dst for each of src and returns the
// number written: 2*min(len(src), len(dst)/2).
func (u *Up) Process(dst, src []int16) int {
	n := min(len(src), len(dst)/2)
	for i, s := range src[:n] {
		u.x.push(int32(s))
		w := u.x.window()
		dst[2*i] = int16(w[Delay])
		dst[2*i+1] = sat((fir(w) + 1<<14) >> 15)
	}
	return 2 * n
}

// Reset silences the history (a new stream).
func (u *Up) Reset() { *u = Up{} }

// Down converts 16000 samples/s to 8000 (low-pass filtered below 4 kHz).
type Down struct {
	even [Delay + 1]int32 // the even samples, a ring: the one Delay back is used
	ei   int
	odd  line[[2 * taps]int32]
}

// Process writes one sample into dst for each pair of src and returns the
// number written: min(len(src)/2, len(dst)). An odd last sample is
// dropped.
func (d *Down) Process(dst, src []int16) int {
	n := min(len(src)/2, len(dst))
	for i := range n {
		d.even[d.ei] = int32(src[2*i])
		if d.ei++; d.ei == len(d.even) {
			d.ei = 0
		}
		// d.ei is now the oldest: the even sample Delay pairs back.
		acc := int64(d.even[d.ei])<<15 + fir(d.odd.window())
		dst[i] = sat((acc + 1<<15) >> 16)
		d.odd.push(int32(src[2*i+1]))
	}
	return n
}

// Reset silences the history (a new stream).
func (d *Down) Reset() { *d = Down{} }
