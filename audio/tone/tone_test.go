package tone

import (
	"errors"
	"math"
	"testing"
)

const rate = 8000

func TestLevelCalibration(t *testing.T) {
	tests := []struct {
		name      string
		freq, amp float64
		detect    float64
		lo, hi    float64
	}{
		{"full scale on bin", 1000, 1, 1000, 0.98, 1.02},
		{"half amplitude", 1000, 0.5, 1000, 0.24, 0.26},
		{"off bin frequency", 1033, 1, 1033, 0.98, 1.02},
		{"other frequency", 1000, 1, 600, 0, 0.001},
		{"silence", 0, 0, 440, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]int16, 1600)
			var ph float64
			Sine(buf, tt.freq, tt.amp, rate, &ph)
			got := Level(buf, tt.detect, rate)
			if got < tt.lo || got > tt.hi {
				t.Fatalf("Level = %v, want in [%v, %v]", got, tt.lo, tt.hi)
			}
		})
	}
	if Level(nil, 440, rate) != 0 {
		t.Fatal("Level of no samples should be 0")
	}
}

func TestSineContinues(t *testing.T) {
	whole := make([]int16, 321)
	var ph float64
	Sine(whole, 697, 0.7, rate, &ph)
	parts := make([]int16, 321)
	ph = 0
	for _, r := range [][2]int{{0, 7}, {7, 160}, {160, 321}} {
		Sine(parts[r[0]:r[1]], 697, 0.7, rate, &ph)
	}
	for i := range whole {
		if d := int(whole[i]) - int(parts[i]); d < -1 || d > 1 {
			t.Fatalf("sample %d: whole %d, in parts %d", i, whole[i], parts[i])
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		locale, name string
		wantErr      bool
		first        float64
	}{
		{"us", "dial", false, 350},
		{"", "ringback", false, 440},
		{"US", "BUSY", false, 480},
		{"uk", "dial", false, 350},
		{"uk", "ringback", false, 400},
		{"eu", "busy", false, 425},
		{"EU", "waiting", false, 425},
		{"fr", "dial", true, 0},
		{"us", "howler", true, 0},
		{"uk", "none", true, 0},
	}
	for _, tt := range tests {
		c, err := Lookup(tt.locale, tt.name)
		if (err != nil) != tt.wantErr {
			t.Errorf("Lookup(%q, %q) error = %v", tt.locale, tt.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrUnknown) {
				t.Errorf("Lookup(%q, %q) error %v is not ErrUnknown", tt.locale, tt.name, err)
			}
			continue
		}
		if c.Segments[0].Freq[0] != tt.first {
			t.Errorf("Lookup(%q, %q) first freq %v, want %v", tt.locale, tt.name, c.Segments[0].Freq[0], tt.first)
		}
	}
	for _, loc := range Locales {
		for _, n := range Names {
			if n == "none" {
				continue
			}
			if _, err := Lookup(loc, n); err != nil {
				t.Errorf("locale %s lacks %s: %v", loc, n, err)
			}
		}
	}
}

// TestCadences plays every tone of every locale in 20 ms frames and checks,
// with Goertzel, that each frame lying wholly inside an "on" step carries
// the tone and each frame wholly inside an "off" step is silent.
func TestCadences(t *testing.T) {
	const frame = 160
	for _, loc := range Locales {
		for _, name := range Names {
			if name == "none" {
				continue
			}
			t.Run(loc+"/"+name, func(t *testing.T) {
				c, err := Lookup(loc, name)
				if err != nil {
					t.Fatal(err)
				}
				period := 0
				for _, s := range c.Segments {
					period += s.Ms * rate / 1000
				}
				if period == 0 {
					period = 2 * rate // continuous: look at 2 s
				}
				total := 2*period + 3*frame
				// stateAt says what the sample at i should be: -1 off, >=0 the segment index.
				stateAt := func(i int) int {
					i %= period
					for k, s := range c.Segments {
						n := s.Ms * rate / 1000
						if s.Ms == 0 || i < n {
							if s.Freq[0] == 0 {
								return -1
							}
							return k
						}
						i -= n
					}
					panic("unreachable")
				}
				want := Amplitude(c.DBm0) * Amplitude(c.DBm0)
				g := NewGenerator(rate)
				g.Set(c)
				buf := make([]int16, frame)
				var on, off int
				for start := 0; start+frame <= total; start += frame {
					clear(buf)
					g.Mix(buf)
					first, last := stateAt(start), stateAt(start+frame-1)
					if first != last {
						continue // straddles a step boundary
					}
					lvl := Level(buf, c.Segments[max(first, 0)].Freq[0], rate)
					if first < 0 {
						off++
						if lvl > 1e-12 {
							t.Fatalf("frame at %d ms: level %v in an off step", start/8, lvl)
						}
						continue
					}
					on++
					if lvl < want/4 {
						t.Fatalf("frame at %d ms: level %v in an on step, want about %v", start/8, lvl, want)
					}
				}
				hasOff := len(c.Segments) > 1
				if on == 0 || (hasOff && off == 0) {
					t.Fatalf("checked %d on and %d off frames", on, off)
				}
			})
		}
	}
}

// TestFrequencies checks each tone's first step carries exactly its
// frequencies at its level (100 ms windows resolve 10 Hz).
func TestFrequencies(t *testing.T) {
	for _, loc := range Locales {
		for _, name := range Names[:5] {
			c, _ := Lookup(loc, name)
			s := c.Segments[0]
			n := 800
			buf := make([]int16, n)
			g := NewGenerator(rate)
			g.Set(c)
			for i := 0; i < n; i += 80 { // in 10 ms pieces, as the engine might
				g.Mix(buf[i : i+80])
			}
			want := Amplitude(c.DBm0) * Amplitude(c.DBm0)
			for _, f := range s.Freq {
				if f == 0 {
					continue
				}
				if got := Level(buf, f, rate); math.Abs(got-want) > 0.35*want {
					t.Errorf("%s/%s: level at %v Hz = %v, want %v", loc, name, f, got, want)
				}
			}
			if got := Level(buf, 1000, rate); got > want/100 {
				t.Errorf("%s/%s: level at 1000 Hz = %v", loc, name, got)
			}
		}
	}
}

func NewGeneratorWith(c Cadence) *Generator {
	g := NewGenerator(rate)
	g.Set(c)
	return g
}

func TestMixSaturatesAndStops(t *testing.T) {
	c, _ := Lookup("us", "dial")
	c.DBm0 = 3.17 - 6.03 // just under half scale per component: the sum fits
	g := NewGenerator(rate)
	g.Set(c)
	alone := make([]int16, 400)
	NewGeneratorWith(c).Mix(alone)
	buf := make([]int16, 400)
	for i := range buf {
		buf[i] = 30000
	}
	g.Mix(buf)
	var peak bool
	for i, v := range buf {
		want := max(-32768, min(32767, 30000+int(alone[i])))
		if d := int(v) - want; d < -1 || d > 1 { // the sum of two rounded components may differ by 1
			t.Fatalf("sample %d = %d, want %d", i, v, want)
		}
		if v == math.MaxInt16 {
			peak = true
		}
	}
	if !peak {
		t.Fatal("expected saturation at +32767")
	}
	if g.Name() != "dial" || !g.Active() {
		t.Fatalf("Name = %q", g.Name())
	}
	g.Stop()
	clear(buf)
	g.Mix(buf)
	for _, v := range buf {
		if v != 0 {
			t.Fatal("stopped generator wrote samples")
		}
	}
	if g.Name() != "none" {
		t.Fatalf("Name after Stop = %q", g.Name())
	}
}

func TestNoAllocs(t *testing.T) {
	c, _ := Lookup("uk", "ringback")
	g := NewGenerator(rate)
	buf := make([]int16, 160)
	var ph float64
	if n := testing.AllocsPerRun(200, func() {
		g.Set(c)
		g.Mix(buf)
		Sine(buf, 1000, 0.5, rate, &ph)
		_ = Level(buf, 1000, rate)
		_, _ = Lookup("uk", "ringback")
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func BenchmarkMixFrame(b *testing.B) {
	c, _ := Lookup("us", "ringback")
	g := NewGenerator(rate)
	g.Set(c)
	buf := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		g.Mix(buf)
	}
}

func BenchmarkLevelFrame(b *testing.B) {
	buf := make([]int16, 160)
	var ph float64
	Sine(buf, 1000, 0.5, rate, &ph)
	b.ReportAllocs()
	for b.Loop() {
		_ = Level(buf, 1000, rate)
	}
}
