package g711

import (
	"encoding/binary"
	"math"
	"testing"

	zaf "github.com/zaf/g711"
)

func TestEncodeBitExactAllInputs(t *testing.T) {
	src := make([]int16, 65536)
	for i := range src {
		src[i] = int16(uint16(i))
	}
	u := make([]byte, len(src))
	a := make([]byte, len(src))
	if n := EncodeUlaw(u, src); n != len(src) {
		t.Fatalf("EncodeUlaw n = %d", n)
	}
	if n := EncodeAlaw(a, src); n != len(src) {
		t.Fatalf("EncodeAlaw n = %d", n)
	}
	for i, s := range src {
		if want := zaf.EncodeUlawFrame(s); u[i] != want || Ulaw(s) != want {
			t.Fatalf("ulaw(%d) = %#x/%#x, zaf %#x", s, u[i], Ulaw(s), want)
		}
		if want := zaf.EncodeAlawFrame(s); a[i] != want || Alaw(s) != want {
			t.Fatalf("alaw(%d) = %#x/%#x, zaf %#x", s, a[i], Alaw(s), want)
		}
	}
	// And against zaf's slice API (little-endian bytes).
	lpcm := make([]byte, 2*len(src))
	for i, s := range src {
		binary.LittleEndian.PutUint16(lpcm[2*i:], uint16(s))
	}
	if got, want := string(u), string(zaf.EncodeUlaw(lpcm)); got != want {
		t.Fatal("EncodeUlaw differs from zaf.EncodeUlaw")
	}
	if got, want := string(a), string(zaf.EncodeAlaw(lpcm)); got != want {
		t.Fatal("EncodeAlaw differs from zaf.EncodeAlaw")
	}
}

func TestDecodeBitExactAllCodes(t *testing.T) {
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	u := make([]int16, 256)
	a := make([]int16, 256)
	DecodeUlaw(u, codes)
	DecodeAlaw(a, codes)
	zu := zaf.DecodeUlaw(codes)
	za := zaf.DecodeAlaw(codes)
	for i, c := range codes {
		if want := zaf.DecodeUlawFrame(c); u[i] != want || UlawSample(c) != want ||
			int16(binary.LittleEndian.Uint16(zu[2*i:])) != want {
			t.Fatalf("ulaw decode(%#x) = %d, zaf %d", c, u[i], want)
		}
		if want := zaf.DecodeAlawFrame(c); a[i] != want || AlawSample(c) != want ||
			int16(binary.LittleEndian.Uint16(za[2*i:])) != want {
			t.Fatalf("alaw decode(%#x) = %d, zaf %d", c, a[i], want)
		}
	}
}

func TestSilence(t *testing.T) {
	if Ulaw(0) != UlawSilence || Alaw(0) != AlawSilence {
		t.Fatalf("silence codes: ulaw %#x alaw %#x", Ulaw(0), Alaw(0))
	}
	if UlawSample(UlawSilence) != 0 || AlawSample(AlawSilence) != 8 {
		// A-law has no zero: its smallest magnitude decodes to +-8.
		t.Fatalf("silence decode: %d %d", UlawSample(UlawSilence), AlawSample(AlawSilence))
	}
}

func TestLengths(t *testing.T) {
	tests := []struct {
		name       string
		dst, src   int
		wantN      int
		encode     func([]byte, []int16) int
		decode     func([]int16, []byte) int
		useEncoder bool
	}{
		{"ulaw enc short dst", 3, 5, 3, EncodeUlaw, nil, true},
		{"alaw enc short src", 5, 2, 2, EncodeAlaw, nil, true},
		{"ulaw dec short dst", 1, 4, 1, nil, DecodeUlaw, false},
		{"alaw dec empty", 4, 0, 0, nil, DecodeAlaw, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n int
			if tt.useEncoder {
				n = tt.encode(make([]byte, tt.dst), make([]int16, tt.src))
			} else {
				n = tt.decode(make([]int16, tt.dst), make([]byte, tt.src))
			}
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d", n, tt.wantN)
			}
		})
	}
}

// TestRoundTripError checks the companding error stays within G.711's
// segment quantisation (a sanity check of the tables' wiring, not of zaf).
func TestRoundTripError(t *testing.T) {
	for i := -32768; i < 32768; i += 7 {
		s := int16(i)
		for _, c := range []struct {
			name string
			got  int16
		}{
			{"ulaw", UlawSample(Ulaw(s))},
			{"alaw", AlawSample(Alaw(s))},
		} {
			diff := math.Abs(float64(c.got) - float64(s))
			limit := math.Max(64, math.Abs(float64(s))/16+64)
			if diff > limit {
				t.Fatalf("%s round trip of %d = %d (error %v > %v)", c.name, s, c.got, diff, limit)
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	src := make([]int16, 160)
	b := make([]byte, 160)
	if n := testing.AllocsPerRun(100, func() {
		EncodeUlaw(b, src)
		DecodeUlaw(src, b)
		EncodeAlaw(b, src)
		DecodeAlaw(src, b)
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func frame() []int16 {
	f := make([]int16, 160)
	for i := range f {
		f[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	return f
}

func BenchmarkEncodeUlawTable(b *testing.B) {
	src, dst := frame(), make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		EncodeUlaw(dst, src)
	}
}

func BenchmarkEncodeUlawZafSlice(b *testing.B) {
	src := frame()
	lpcm := make([]byte, 320)
	for i, s := range src {
		binary.LittleEndian.PutUint16(lpcm[2*i:], uint16(s))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = zaf.EncodeUlaw(lpcm)
	}
}

func BenchmarkDecodeUlawTable(b *testing.B) {
	src, dst := make([]byte, 160), make([]int16, 160)
	EncodeUlaw(src, frame())
	b.ReportAllocs()
	for b.Loop() {
		DecodeUlaw(dst, src)
	}
}

func BenchmarkDecodeUlawZafSlice(b *testing.B) {
	src := make([]byte, 160)
	EncodeUlaw(src, frame())
	b.ReportAllocs()
	for b.Loop() {
		_ = zaf.DecodeUlaw(src)
	}
}
