package g722

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The test signals, 16000 samples/s: speech-like (a vowel-like harmonic
// series on a 120 Hz fundamental with a syllable envelope and formant
// weights; bursts of white noise between silences) and tones.
type signal struct {
	name string
	gen  func(n int) []int16
}

func tone(f, amp float64) func(n int) []int16 {
	return func(n int) []int16 {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(amp * math.Sin(2*math.Pi*f*float64(i)/16000))
		}
		return s
	}
}

func vowel(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		t := float64(i) / 16000
		f0 := 120 * (1 + 0.05*math.Sin(2*math.Pi*3*t)) // intonation
		env := 0.5 - 0.5*math.Cos(2*math.Pi*4*t)       // four syllables a second
		var v float64
		for h := 1; h*120 < 7000; h++ {
			f := float64(h) * 120
			// Formants near 700, 1200 and 2600 Hz, and air above 4 kHz.
			w := 0.2 + math.Exp(-sq((f-700)/200)) + 0.6*math.Exp(-sq((f-1200)/250)) +
				0.3*math.Exp(-sq((f-2600)/300)) + 0.15*math.Exp(-sq((f-5000)/800))
			v += w / float64(h) * math.Sin(2*math.Pi*f0*float64(h)*t+float64(h))
		}
		s[i] = int16(9000 * env * v)
	}
	return s
}

func noiseBursts(n int) []int16 {
	r := rand.New(rand.NewPCG(1, 2))
	s := make([]int16, n)
	for i := range s {
		if (i/2400)%2 == 0 { // 150 ms bursts, 150 ms silences
			s[i] = int16(r.NormFloat64() * 3000)
		}
	}
	return s
}

func sq(x float64) float64 { return x * x }

var signals = []signal{
	{"vowel", vowel},
	{"noise", noiseBursts},
	{"300Hz", tone(300, 10000)},
	{"1kHz", tone(1000, 10000)},
	{"6kHz", tone(6000, 6000)},
}

// codecDelay is the samples the two QMFs delay a signal by (23 taps and
// the pairing): found by alignment, checked in TestRoundTrip.
const codecDelay = 22

// align returns the delay of out against in (0..64 samples) with the
// least error.
func align(in, out []int16) int {
	best, bestErr := 0, math.Inf(1)
	for d := range 65 {
		var e float64
		for i := 2000; i+d < len(out) && i < len(in)-100; i++ {
			e += sq(float64(in[i]) - float64(out[i+d]))
		}
		if e < bestErr {
			best, bestErr = d, e
		}
	}
	return best
}

// snr returns the overall SNR of out against in delayed by d, and the
// segmental SNR (mean over 20 ms segments of each one's SNR, each clamped
// to [-10, 60] dB; segments of the source below -50 dBov are skipped, as
// usual), both in dB, from 0.125 s on (the adaptation's start-up).
func snr(in, out []int16, d int) (overall, segmental float64) {
	const seg = 320
	var sig, noise float64
	var sum float64
	var segs int
	for start := 2000; start+seg+d <= len(out) && start+seg <= len(in); start += seg {
		var s, n float64
		for i := start; i < start+seg; i++ {
			x, y := float64(in[i]), float64(out[i+d])
			s += x * x
			n += sq(x - y)
		}
		sig += s
		noise += n
		if s/seg < sq(32768*math.Pow(10, -50.0/20)) {
			continue
		}
		v := 60.0
		if n > 0 {
			v = min(60, max(-10, 10*math.Log10(s/n)))
		}
		sum += v
		segs++
	}
	overall = 10 * math.Log10(sig/max(noise, 1))
	if segs > 0 {
		segmental = sum / float64(segs)
	}
	return overall, segmental
}

func TestRoundTrip(t *testing.T) {
	// Our encoder into our decoder: the floor the interop tests compare with.
	for _, s := range signals {
		in := s.gen(16000)
		code := make([]byte, len(in)/2)
		NewEncoder().Encode(code, in)
		out := make([]int16, len(in))
		NewDecoder().Decode(out, code)
		if d := align(in, out); d != codecDelay && !periodic(s.name) {
			t.Errorf("%s: delay %d, want %d", s.name, d, codecDelay)
		}
		o, seg := snr(in, out, codecDelay)
		t.Logf("%s: SNR %.1f dB, segmental %.1f dB", s.name, o, seg)
		if o < minSNR(s.name) {
			t.Errorf("%s: SNR %.1f dB < %.0f", s.name, o, minSNR(s.name))
		}
	}
}

// periodic says a signal's alignment is ambiguous (a tone: any period).
func periodic(name string) bool { return name != "vowel" && name != "noise" }

// minSNR is the overall SNR each signal must keep through a G.722 encode
// and decode, ours or ffmpeg's (measured about 5 dB above; see README).
func minSNR(name string) float64 {
	switch name {
	case "vowel":
		return 20
	case "noise":
		return 8
	case "6kHz":
		return 22
	}
	return 40
}

func TestResetState(t *testing.T) {
	var e Encoder
	e.Reset()
	if e.lo.det != 32 || e.hi.det != 8 {
		t.Fatalf("initial DETL %d DETH %d, want 32 and 8", e.lo.det, e.hi.det)
	}
	// Reset after a signal codes as from new.
	in := vowel(3200)
	want := make([]byte, 1600)
	e.Encode(want, in)
	e.Reset()
	got := make([]byte, 1600)
	e.Encode(got, in)
	if string(got) != string(want) {
		t.Fatal("Encoder.Reset does not restore the initial state")
	}
	d := NewDecoder()
	a, b := make([]int16, 3200), make([]int16, 3200)
	d.Decode(a, want)
	d.Reset()
	d.Decode(b, want)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("Decoder.Reset does not restore the initial state")
		}
	}
}

func TestLengths(t *testing.T) {
	e, d := NewEncoder(), NewDecoder()
	for _, tt := range []struct{ dst, src, want int }{
		{160, 320, 160}, {100, 320, 100}, {160, 201, 100}, {0, 10, 0}, {10, 1, 0},
	} {
		if n := e.Encode(make([]byte, tt.dst), make([]int16, tt.src)); n != tt.want {
			t.Errorf("Encode(%d, %d) = %d, want %d", tt.dst, tt.src, n, tt.want)
		}
	}
	for _, tt := range []struct{ dst, src, want int }{
		{320, 160, 320}, {321, 160, 320}, {101, 160, 100}, {1, 5, 0}, {10, 0, 0},
	} {
		if n := d.Decode(make([]int16, tt.dst), make([]byte, tt.src)); n != tt.want {
			t.Errorf("Decode(%d, %d) = %d, want %d", tt.dst, tt.src, n, tt.want)
		}
	}
}

// TestFullScale drives the encoder with full-scale square waves and
// decodes every code: the states stay within their limits.
func TestFullScale(t *testing.T) {
	in := make([]int16, 32000)
	for i := range in {
		if (i/7)%2 == 0 {
			in[i] = 32767
		} else {
			in[i] = -32768
		}
	}
	e, d := NewEncoder(), NewDecoder()
	code := make([]byte, len(in)/2)
	e.Encode(code, in)
	out := make([]int16, len(in))
	d.Decode(out, code)
	for _, b := range []*band{&e.lo, &e.hi, &d.lo, &d.hi} {
		if b.nb < 0 || b.nb > maxNBH || b.a[1] < -12288 || b.a[1] > 12288 || abs(b.a[0]) > 15360-b.a[1] {
			t.Fatalf("state out of range: %+v", *b)
		}
	}
}

func abs(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func TestNoAllocs(t *testing.T) {
	e, d := NewEncoder(), NewDecoder()
	pcm := vowel(320)
	code := make([]byte, 160)
	if n := testing.AllocsPerRun(100, func() {
		e.Encode(code, pcm)
		d.Decode(pcm, code)
	}); n != 0 {
		t.Fatalf("allocs per frame = %v", n)
	}
}

// FuzzDecode: any octets decode without a panic, into exactly two samples
// each, and the decoder's state stays within the Recommendation's limits.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xfe, 0xfd, 0xfc})
	f.Add([]byte{0x00, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff})
	d := NewDecoder()
	out := make([]int16, 4096)
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:min(len(data), 2048)]
		if n := d.Decode(out, data); n != 2*len(data) {
			t.Fatalf("decoded %d samples from %d octets", n, len(data))
		}
		for _, b := range []*band{&d.lo, &d.hi} {
			if b.nb < 0 || b.nb > maxNBH || b.a[1] < -12288 || b.a[1] > 12288 || abs(b.a[0]) > 15360-b.a[1] {
				t.Fatalf("state out of range: %+v", *b)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	e, pcm, code := NewEncoder(), vowel(320), make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		e.Encode(code, pcm)
	}
}

func BenchmarkDecode(b *testing.B) {
	d, pcm, code := NewDecoder(), make([]int16, 320), make([]byte, 160)
	NewEncoder().Encode(code, vowel(320))
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(pcm, code)
	}
}
