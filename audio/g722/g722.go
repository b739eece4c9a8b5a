package g722

// The Recommendation's tables (G.722 section 6.2, the tables of the
// blocks named beside each).

// qmf is the QMF's coefficients h(0)..h(23) (times 2^13): symmetric, and
// summing to 2^13.
var qmf = [24]int32{
	3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
	3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3,
}

// q6 is QUANTL's decision levels (times 2^-12 of DETL's scale): interval
// m of the magnitude is [q6[m-1], q6[m]).
var q6 = [31]int32{
	0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650,
	714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980,
	2195, 2557, 2919, 0,
}

// iln and ilp are QUANTL's 6-bit codes of interval m (1..30) for a
// negative and a non-negative difference.
var iln = [31]int32{
	0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
	16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
}

var ilp = [31]int32{
	0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45,
	44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32,
}

// qm4 is INVQAL's 4-bit inverse quantiser (the predictor's input in every
// mode), indexed by the code's top four bits.
var qm4 = [16]int32{
	0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
	20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
}

// qm6 is INVQBL's 6-bit inverse quantiser (the decoder's output at 64
// kbit/s).
var qm6 = [64]int32{
	-136, -136, -136, -136, -24808, -21904, -19008, -16704,
	-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
	-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
	-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
	24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
	10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
	4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
	1688, 1360, 1040, 728, 432, 136, -432, -136,
}

// wl and rl42 are LOGSCL's log scale factor multipliers, by the magnitude
// of the 4-bit code.
var (
	wl   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	rl42 = [16]int32{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
)

// ilb is SCALEL's and SCALEH's antilog table.
var ilb = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// The higher band's tables: QUANTH's codes (ihn, ihp by interval 1..2),
// INVQAH's inverse quantiser (qm2), LOGSCH's multipliers (wh by rh2).
var (
	ihn = [3]int32{0, 1, 0}
	ihp = [3]int32{0, 3, 2}
	qm2 = [4]int32{-7408, -1616, 7408, 1616}
	wh  = [3]int32{0, -214, 798}
	rh2 = [4]int32{2, 1, 2, 1}
)

// Limits of the log scale factors (LOGSCL: 18432, LOGSCH: 22528).
const (
	maxNBL = 18432
	maxNBH = 22528
)

func sat16(x int32) int32 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return x
}

// limit is the LIMIT block: a reconstructed sub-band sample's 15-bit range.
func limit(x int32) int32 {
	if x > 16383 {
		return 16383
	}
	if x < -16384 {
		return -16384
	}
	return x
}

// mag is the quantisers' magnitude of a difference: the one's complement
// of a negative one (WD = |E| in the Recommendation's 16-bit arithmetic).
func mag(e int32) int32 {
	if e < 0 {
		return -(e + 1)
	}
	return e
}

// band is one sub-band's ADPCM state: its adaptive predictor and the log
// scale factor of its quantiser. The zero value is the Recommendation's
// reset state (all zero; DETL = 32 and DETH = 8 follow from nb = 0).
type band struct {
	s, sz int32    // the signal estimate and its zero section (PREDIC, FILTEZ)
	r     [2]int32 // reconstructed signal, the last two (RECONS)
	p     [2]int32 // partially reconstructed signal, the last two (PARREC)
	a     [2]int32 // pole coefficients a1, a2
	b     [6]int32 // zero coefficients b1..b6
	d     [6]int32 // quantised differences, the last six
	nb    int32    // log scale factor
	det   int32    // quantiser scale factor, from nb (SCALEL/SCALEH)
}

// scale is SCALEL (shift 8) and SCALEH (shift 10): the log scale factor's
// antilog.
func scale(nb, shift int32) int32 {
	wd1 := (nb >> 6) & 31
	wd2 := shift - (nb >> 11)
	var wd3 int32
	if wd2 < 0 {
		wd3 = ilb[wd1] << -wd2
	} else {
		wd3 = ilb[wd1] >> wd2
	}
	return wd3 << 2
}

// adapt is block 4 of either band, for the quantised difference d: the
// reconstructed signals, the predictor's coefficients (UPZERO, UPPOL2,
// UPPOL1), its delay lines (DELAYA/DELAYL) and the next estimate
// (FILTEP, FILTEZ, PREDIC).
func (b *band) adapt(d int32) {
	p := sat16(d + b.sz) // PARREC
	r := sat16(b.s + d)  // RECONS

	// UPZERO (sign-sign update with leakage 1-2^-8, 32640/32768: +128
	// when d and the difference i+1 back have one sign, zero counting as
	// positive, -128 when not, nothing when d is 0), the delay line of
	// the differences (DELAYA) and FILTEZ over the updated ones, in one
	// pass. FILTEZ doubles each difference without saturating: |d| is at
	// most 10228 (the lower band's largest DETL, 16384, times QM4's
	// largest 20456, over 2^15; the higher band's at most 3704), so 2d
	// fits in 16 bits.
	var sz int32
	in := d
	for i := range b.b {
		bi := (b.b[i] * 32640) >> 15
		if d != 0 {
			bi += 128 + 256*((d^b.d[i])>>31) // (d^di)>>31: -1 when the signs differ
		}
		b.b[i] = bi
		b.d[i], in = in, b.d[i]
		sz += (bi * (b.d[i] + b.d[i])) >> 15
	}
	b.sz = sat16(sz)

	// UPPOL2 and UPPOL1: the signs compare p with its last two values
	// (zero counts as positive, the sign bit's reading).
	sg0, sg1, sg2 := p < 0, b.p[0] < 0, b.p[1] < 0
	wd1 := sat16(b.a[0] << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = -wd1
	}
	wd2 = sat16(wd2) >> 7
	wd3 := int32(-128)
	if sg0 == sg2 {
		wd3 = 128
	}
	a2 := wd2 + wd3 + (b.a[1]*32512)>>15
	a2 = min(max(a2, -12288), 12288)
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	a1 := wd1 + (b.a[0]*32640)>>15
	lim := 15360 - a2
	a1 = min(max(a1, -lim), lim)
	b.a[0], b.a[1] = a1, a2

	// The other delay lines; FILTEP and PREDIC: the estimate of the
	// next sample.
	b.p[1], b.p[0] = b.p[0], p
	b.r[1], b.r[0] = b.r[0], r
	sp := (b.a[0]*sat16(b.r[0]+b.r[0]))>>15 + (b.a[1]*sat16(b.r[1]+b.r[1]))>>15
	b.s = sat16(sp + b.sz)
}

// lower is the lower band's quantised difference for the predictor
// (INVQAL) and its scale factor adaptation (LOGSCL, SCALEL), for the
// 6-bit code il; it returns the difference.
func (b *band) lower(il int32) int32 {
	il4 := il >> 2
	d := (b.det * qm4[il4]) >> 15
	nb := (b.nb*127)>>7 + wl[rl42[il4]]
	b.nb = min(max(nb, 0), maxNBL)
	b.det = scale(b.nb, 8)
	return d
}

// higher is INVQAH, LOGSCH and SCALEH for the 2-bit code ih.
func (b *band) higher(ih int32) int32 {
	d := (b.det * qm2[ih]) >> 15
	nb := (b.nb*127)>>7 + wh[rh2[ih]]
	b.nb = min(max(nb, 0), maxNBH)
	b.det = scale(b.nb, 10)
	return d
}

func (b *band) reset(shift int32) {
	*b = band{}
	b.det = scale(0, shift)
}

// Encoder is a G.722 encoder's state. Its zero value is not ready: use
// NewEncoder or Reset.
type Encoder struct {
	// x is the QMF's last 24 inputs, newest first, from x[xi]: each is
	// written twice (at i and i+24), so the window is always contiguous
	// and nothing is shifted.
	x      [48]int32
	xi     int
	lo, hi band
}

// NewEncoder returns an encoder in the reset state.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.Reset()
	return e
}

// Reset puts the encoder in the Recommendation's initial state (a new
// stream).
func (e *Encoder) Reset() {
	e.x, e.xi = [48]int32{}, 0
	e.lo.reset(8)
	e.hi.reset(10)
}

// Encode codes src (16000 samples/s) into dst, one octet per pair of
// samples, and returns the number of octets written: min(len(dst),
// len(src)/2). An odd last sample is not coded. It does not allocate.
func (e *Encoder) Encode(dst []byte, src []int16) int {
	n := min(len(dst), len(src)/2)
	dst, src = dst[:n], src[:2*n]
	for k := range dst {
		dst[k] = e.encodePair(int32(src[2*k]), int32(src[2*k+1]))
	}
	return n
}

// encodePair is the transmit QMF and both sub-band encoders for the
// samples x0 (earlier) and x1.
func (e *Encoder) encodePair(x0, x1 int32) byte {
	if e.xi -= 2; e.xi < 0 {
		e.xi = 22
	}
	i := e.xi
	e.x[i], e.x[i+1], e.x[i+24], e.x[i+25] = x1, x0, x1, x0
	w := (*[24]int32)(e.x[i : i+24]) // w[k]: the input k samples back
	// xA sums the even coefficients over the newest sample and every
	// second before it, xB the odd ones over the others (the QMF's
	// polyphase halves).
	var xa, xb int32
	for k := 0; k < 24; k += 2 {
		xa += qmf[k] * w[k]
		xb += qmf[k+1] * w[k+1]
	}
	xl := limit((xa + xb) >> 14)
	xh := limit((xa - xb) >> 14)

	// Lower band: SUBTRA, QUANTL.
	el := sat16(xl - e.lo.s)
	// The interval m: the least of 1..29 whose upper decision level is
	// above wd, else 30 (the levels grow with m: a binary search).
	wd := mag(el)
	lo, hi := int32(1), int32(30)
	for lo < hi {
		m := (lo + hi) / 2
		if wd < (q6[m]*e.lo.det)>>12 {
			hi = m
		} else {
			lo = m + 1
		}
	}
	m := lo
	il := ilp[m]
	if el < 0 {
		il = iln[m]
	}
	e.lo.adapt(e.lo.lower(il))

	// Higher band: SUBTRA, QUANTH.
	eh := sat16(xh - e.hi.s)
	mh := int32(1)
	if mag(eh) >= (564*e.hi.det)>>12 {
		mh = 2
	}
	ih := ihp[mh]
	if eh < 0 {
		ih = ihn[mh]
	}
	e.hi.adapt(e.hi.higher(ih))
	return byte(ih<<6 | il)
}

// Decoder is a G.722 decoder's state (64 kbit/s mode). Its zero value is
// not ready: use NewDecoder or Reset.
type Decoder struct {
	// xd and xs are the receive QMF's last 12 inputs rl-rh and rl+rh,
	// newest first from xi, each written twice (as Encoder.x).
	xd, xs [24]int32
	xi     int
	lo, hi band
}

// NewDecoder returns a decoder in the reset state.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.Reset()
	return d
}

// Reset puts the decoder in the initial state (a new stream).
func (d *Decoder) Reset() {
	d.xd, d.xs, d.xi = [24]int32{}, [24]int32{}, 0
	d.lo.reset(8)
	d.hi.reset(10)
}

// Decode decodes src into dst (16000 samples/s, two samples per octet) and
// returns the number of samples written: 2*min(len(src), len(dst)/2).
// Every octet is a valid code. It does not allocate.
func (d *Decoder) Decode(dst []int16, src []byte) int {
	n := min(len(src), len(dst)/2)
	dst, src = dst[:2*n], src[:n]
	for k, c := range src {
		dst[2*k], dst[2*k+1] = d.decodeOctet(c)
	}
	return 2 * n
}

func (d *Decoder) decodeOctet(c byte) (int16, int16) {
	il, ih := int32(c&0x3f), int32(c>>6)

	// Lower band: INVQBL (6 bits) for the output, INVQAL (4 bits) for
	// the predictor.
	rl := limit(d.lo.s + (d.lo.det*qm6[il])>>15)
	d.lo.adapt(d.lo.lower(il))

	// Higher band.
	dh := d.hi.higher(ih)
	rh := limit(d.hi.s + dh)
	d.hi.adapt(dh)

	// Receive QMF.
	if d.xi--; d.xi < 0 {
		d.xi = 11
	}
	i := d.xi
	d.xd[i], d.xd[i+12] = rl-rh, rl-rh
	d.xs[i], d.xs[i+12] = rl+rh, rl+rh
	xd, xs := (*[12]int32)(d.xd[i:i+12]), (*[12]int32)(d.xs[i:i+12])
	var y0, y1 int32
	for k := range 12 {
		y0 += qmf[2*k] * xd[k]
		y1 += qmf[2*k+1] * xs[k]
	}
	return int16(sat16(y0 >> 11)), int16(sat16(y1 >> 11))
}
