package tone

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrUnknown is returned for a locale or tone name that has no table.
var ErrUnknown = errors.New("tone: unknown")

// Segment is one step of a cadence: up to two frequencies played together
// (both zero: silence) for Ms milliseconds. Ms == 0 means for ever.
type Segment struct {
	Freq [2]float64
	Ms   int
}

// Cadence is a named tone: its segments repeat in order.
type Cadence struct {
	Name string
	// DBm0 is the level of each frequency component (G.711 digital
	// milliwatt reference: a full-scale sine is +3.17 dBm0).
	DBm0     float64
	Segments []Segment
}

// Names lists the tones every locale defines, and "none".
var Names = []string{"dial", "ringback", "busy", "congestion", "waiting", "none"}

// Locales lists the locales with tables.
var Locales = []string{"us", "uk", "eu"}

func on(f1, f2 float64, ms int) Segment { return Segment{Freq: [2]float64{f1, f2}, Ms: ms} }
func off(ms int) Segment                { return Segment{Ms: ms} }

// Tables after ITU-T E.180 Suppl. 2 (United States: the precise tone plan;
// United Kingdom: BT SIN 350 as listed there; "eu": the CEPT 425 Hz plan).
var tables = []struct {
	locale string
	tones  []Cadence
}{
	{"us", []Cadence{
		{Name: "dial", DBm0: -13, Segments: []Segment{on(350, 440, 0)}},
		{Name: "ringback", DBm0: -19, Segments: []Segment{on(440, 480, 2000), off(4000)}},
		{Name: "busy", DBm0: -24, Segments: []Segment{on(480, 620, 500), off(500)}},
		{Name: "congestion", DBm0: -24, Segments: []Segment{on(480, 620, 250), off(250)}},
		{Name: "waiting", DBm0: -13, Segments: []Segment{on(440, 0, 300), off(9700)}},
	}},
	{"uk", []Cadence{
		{Name: "dial", DBm0: -13, Segments: []Segment{on(350, 450, 0)}},
		{Name: "ringback", DBm0: -19, Segments: []Segment{on(400, 450, 400), off(200), on(400, 450, 400), off(2000)}},
		{Name: "busy", DBm0: -19, Segments: []Segment{on(400, 0, 375), off(375)}},
		{Name: "congestion", DBm0: -19, Segments: []Segment{on(400, 0, 400), off(350), on(400, 0, 225), off(525)}},
		{Name: "waiting", DBm0: -19, Segments: []Segment{on(400, 0, 100), off(4000)}},
	}},
	// CEPT/ETSI (ITU-T E.180's recommended 425 Hz plan, as ETSI TR 101
	// 041 lists it for most of continental Europe).
	{"eu", []Cadence{
		{Name: "dial", DBm0: -13, Segments: []Segment{on(425, 0, 0)}},
		{Name: "ringback", DBm0: -19, Segments: []Segment{on(425, 0, 1000), off(4000)}},
		{Name: "busy", DBm0: -19, Segments: []Segment{on(425, 0, 500), off(500)}},
		{Name: "congestion", DBm0: -19, Segments: []Segment{on(425, 0, 250), off(250)}},
		{Name: "waiting", DBm0: -19, Segments: []Segment{on(425, 0, 200), off(200), on(425, 0, 200), off(9000)}},
	}},
}

// Lookup returns the cadence of tone name in locale (both case-insensitive;
// an empty locale is "us"). It does not allocate.
func Lookup(locale, name string) (Cadence, error) {
	if locale == "" {
		locale = "us"
	}
	for _, t := range tables {
		if !strings.EqualFold(t.locale, locale) {
			continue
		}
		for _, c := range t.tones {
			if strings.EqualFold(c.Name, name) {
				return c, nil
			}
		}
		return Cadence{}, fmt.Errorf("%w tone %q in locale %q", ErrUnknown, name, locale)
	}
	return Cadence{}, fmt.Errorf("%w locale %q", ErrUnknown, locale)
}

// Amplitude converts a dBm0 level to a fraction of full scale (for G.711,
// 0 dBm0 is 3.17 dB below a full-scale sine).
func Amplitude(dBm0 float64) float64 { return math.Pow(10, (dBm0-3.17)/20) }

// osc is a quadrature oscillator: a unit phasor rotated once per sample.
type osc struct {
	re, im float64 // current phasor; the output is im
	cd, sd float64 // cos and sin of the per-sample phase step
}

func (o *osc) set(freq float64, rate int) {
	d := 2 * math.Pi * freq / float64(rate)
	o.cd, o.sd = math.Cos(d), math.Sin(d)
	o.re, o.im = 1, 0
}

// Generator plays a cadence into audio frames. Its zero value is silent; it
// is not safe for concurrent use.
type Generator struct {
	rate   int
	cad    Cadence
	active bool
	amp    float64 // of each component, in sample units
	seg    int     // current segment
	left   int     // samples left in the current segment; <0: for ever
	osc    [2]osc
}

// NewGenerator returns a silent generator for rate samples/s.
func NewGenerator(rate int) *Generator { return &Generator{rate: rate} }

// Set starts cadence c from its beginning. It does not allocate.
func (g *Generator) Set(c Cadence) {
	g.cad = c
	g.active = len(c.Segments) > 0
	g.amp = Amplitude(c.DBm0) * 32767
	g.enter(0)
}

// Stop silences the generator.
func (g *Generator) Stop() { g.active = false; g.cad = Cadence{} }

// Active reports whether a tone is playing (including its silent steps).
func (g *Generator) Active() bool { return g.active }

// Name is the current tone's name, or "none".
func (g *Generator) Name() string {
	if !g.active {
		return "none"
	}
	return g.cad.Name
}

func (g *Generator) enter(i int) {
	g.seg = i
	s := g.cad.Segments[i]
	if s.Ms == 0 {
		g.left = -1
	} else {
		g.left = s.Ms * g.rate / 1000
	}
	for k := range g.osc {
		g.osc[k].set(s.Freq[k], g.rate)
	}
}

// Mix adds the next len(dst) samples of the tone to dst, saturating at full
// scale. A silent generator leaves dst unchanged.
func (g *Generator) Mix(dst []int16) {
	for len(dst) > 0 && g.active {
		n := len(dst)
		if g.left >= 0 && g.left < n {
			n = g.left
		}
		g.mixSegment(dst[:n])
		dst = dst[n:]
		if g.left >= 0 {
			g.left -= n
			if g.left == 0 {
				g.enter((g.seg + 1) % len(g.cad.Segments))
			}
		}
	}
}

func (g *Generator) mixSegment(dst []int16) {
	s := g.cad.Segments[g.seg]
	if s.Freq[0] == 0 && s.Freq[1] == 0 {
		return
	}
	// Components with no frequency have a zero step and stay at im = 0.
	a, b := &g.osc[0], &g.osc[1]
	are, aim, bre, bim := a.re, a.im, b.re, b.im
	for i, v := range dst {
		dst[i] = sat(int32(v) + int32(math.Round(g.amp*(aim+bim))))
		are, aim = are*a.cd-aim*a.sd, are*a.sd+aim*a.cd
		bre, bim = bre*b.cd-bim*b.sd, bre*b.sd+bim*b.cd
	}
	// Renormalise once per call so rounding never grows or shrinks the
	// phasors.
	ma := 1 / math.Sqrt(are*are+aim*aim)
	mb := 1 / math.Sqrt(bre*bre+bim*bim)
	a.re, a.im = are*ma, aim*ma
	b.re, b.im = bre*mb, bim*mb
}

func sat(v int32) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}

// Level is the Goertzel power of freq in samples relative to a full-scale
// sine: 1.0 for a sine of amplitude 32767 at exactly freq, 0.25 at half
// amplitude, near 0 for other frequencies (the resolution is about
// rate/len(samples) Hz). It does not allocate.
func Level(samples []int16, freq float64, rate int) float64 {
	n := len(samples)
	if n == 0 || rate <= 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	a := 2 / (float64(n) * 32767)
	return p * a * a
}

// Sine fills buf with a sine of freq at amplitude (0..1 of full scale),
// starting at phase *ph (radians) and leaving there the phase of the sample
// after the last, so successive calls continue the wave.
func Sine(buf []int16, freq, amplitude float64, rate int, ph *float64) {
	amplitude = math.Max(0, math.Min(1, amplitude))
	step := 2 * math.Pi * freq / float64(rate)
	p := *ph
	for i := range buf {
		buf[i] = int16(math.Round(amplitude * 32767 * math.Sin(p)))
		p += step
	}
	*ph = math.Mod(p, 2*math.Pi)
}
