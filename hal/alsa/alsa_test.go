package alsa

import (
	"errors"
	"testing"
	"unsafe"
)

func TestABISizes(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the ioctl structures are laid out for 64-bit targets")
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"snd_pcm_hw_params", unsafe.Sizeof(hwParams{}), sizeofHwParams},
		{"snd_pcm_sw_params", unsafe.Sizeof(swParams{}), sizeofSwParams},
		{"snd_xferi", unsafe.Sizeof(xferi{}), sizeofXferi},
		{"hw_params.fifo_size offset", unsafe.Offsetof(hwParams{}.fifoSize), 536},
		{"hw_params.rmask offset", unsafe.Offsetof(hwParams{}.rmask), 512},
		{"sw_params.avail_min offset", unsafe.Offsetof(swParams{}.availMin), 16},
		{"sw_params.proto offset", unsafe.Offsetof(swParams{}.proto), 72},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	// The size is part of each _IOWR request number.
	for _, r := range []struct {
		req  uint32
		size uintptr
	}{{ioctlHwParams, sizeofHwParams}, {ioctlSwParams, sizeofSwParams}, {ioctlWriteiFr, sizeofXferi}, {ioctlReadiFr, sizeofXferi}} {
		if got := uintptr(r.req>>16) & 0x3fff; got != r.size {
			t.Errorf("request %#x encodes size %d, want %d", r.req, got, r.size)
		}
	}
}

func TestHwParamsSet(t *testing.T) {
	var h hwParams
	h.set(streamParams{rate: 8000, channels: 2, period: 80, periods: 4})
	if h.masks[paramFormat].bits[0] != 1<<formatS16LE || h.masks[paramAccess].bits[0] != 1<<accessRWInterleaved {
		t.Errorf("masks %+v", h.masks)
	}
	for _, c := range []struct{ p, v int }{
		{paramRate, 8000}, {paramChannels, 2}, {paramFrameBits, 32}, {paramPeriodSize, 80}, {paramPeriods, 4}, {paramBufferSize, 320},
	} {
		if iv := h.interval(c.p); iv.min != uint32(c.v) || iv.max != uint32(c.v) || iv.flags != intervalInteger {
			t.Errorf("param %d: %+v, want %d", c.p, iv, c.v)
		}
	}
	if h.rmask != ^uint32(0) {
		t.Error("rmask not all ones")
	}
}

func TestParseDevice(t *testing.T) {
	tests := []struct {
		in   string
		want Device
		bad  bool
	}{
		{in: "hw:CARD=Loopback,DEV=1", want: Device{"Loopback", 1, -1}},
		{in: "hw:CARD=wm8960soundcard,DEV=0", want: Device{"wm8960soundcard", 0, -1}},
		{in: "hw:0,0", want: Device{"0", 0, -1}},
		{in: "hw:1", want: Device{"1", 0, -1}},
		{in: "hw:Loopback,1,3", want: Device{"Loopback", 1, 3}},
		{in: "hw:DEV=1,CARD=x", want: Device{"x", 1, -1}},
		{in: "plughw:0,0", bad: true},
		{in: "hw:", bad: true},
		{in: "hw:DEV=1", bad: true},
		{in: "hw:0,x", bad: true},
		{in: "hw:0,0,0,0", bad: true},
		{in: "hw:0,300", bad: true},
		{in: "hw:FOO=1", bad: true},
		{in: "hw:a/b", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseDevice(tt.in)
		if (err != nil) != tt.bad || !tt.bad && got != tt.want {
			t.Errorf("ParseDevice(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

const procCards = ` 0 [Loopback       ]: Loopback - Loopback
                      Loopback 1
 1 [wm8960soundcard]: simple-card - wm8960-soundcard
                      wm8960-soundcard
`

func TestCardIndex(t *testing.T) {
	for _, c := range []struct {
		card string
		want int
		bad  bool
	}{{"Loopback", 0, false}, {"wm8960soundcard", 1, false}, {"3", 3, false}, {"Headphones", 0, true}, {"99", 0, true}} {
		got, err := CardIndex(c.card, []byte(procCards))
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("CardIndex(%q) = %d, %v", c.card, got, err)
		}
	}
	if p := (Device{Device: 1}).Path(2, true); p != "/dev/snd/pcmC2D1c" {
		t.Errorf("Path = %s", p)
	}
}

func FuzzParseDevice(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDevice(s)
		if err != nil {
			return
		}
		if d.Card == "" || d.Device < 0 || d.Device > 255 || d.Subdevice < -1 || d.Subdevice > 255 {
			t.Fatalf("ParseDevice(%q) = %+v", s, d)
		}
	})
}

func FuzzCardIndex(f *testing.F) {
	f.Add("Loopback", []byte(procCards))
	f.Fuzz(func(t *testing.T, card string, cards []byte) {
		if n, err := CardIndex(card, cards); err == nil && (n < 0 || n > 1<<31) {
			t.Fatal(n)
		}
	})
}

// fakeStream is a loopback in memory: what is written is read back after
// the prefill, one frame at a time.
type fakeStream struct {
	ch      int
	q       *[]int16
	xrunsIn int
	started bool
}

func (s *fakeStream) readFrames(buf []int16, n int) (int, error) {
	if len(*s.q) < n*s.ch {
		return 0, errors.New("fake: empty")
	}
	copy(buf, (*s.q)[:n*s.ch])
	*s.q = (*s.q)[n*s.ch:]
	return 0, nil
}

func (s *fakeStream) writeFrames(buf []int16, n int) (int, error) {
	*s.q = append(*s.q, buf[:n*s.ch]...)
	x := s.xrunsIn
	s.xrunsIn = 0
	return x, nil
}
func (s *fakeStream) prepare() error      { return nil }
func (s *fakeStream) start() error        { s.started = true; return nil }
func (s *fakeStream) drop() error         { return nil }
func (s *fakeStream) close() error        { return nil }
func (s *fakeStream) granted() (int, int) { return 80, 320 }

func TestPCMExchangeStereo(t *testing.T) {
	q := new([]int16)
	p := New(Config{Playback: "hw:0,0", Channels: 2})
	p.play = &fakeStream{ch: 2, q: q, xrunsIn: 1}
	capt := &fakeStream{ch: 2, q: q}
	p.capt = capt
	p.rate, p.frame, p.channels, p.prefill = 8000, 80, 2, 80
	p.pbuf, p.cbuf = make([]int16, 160), make([]int16, 160)
	ear, mic := make([]int16, 80), make([]int16, 80)
	for i := range ear {
		ear[i] = int16(i + 1)
	}
	if err := p.Exchange(ear, mic); err != nil {
		t.Fatal(err)
	}
	if !capt.started || mic[0] != 0 {
		t.Fatalf("first frame: started %v, mic[0] %d (want the prefill silence)", capt.started, mic[0])
	}
	if err := p.Exchange(make([]int16, 80), mic); err != nil {
		t.Fatal(err)
	}
	for i := range mic {
		if mic[i] != ear[i] {
			t.Fatalf("mic[%d] = %d, want %d", i, mic[i], ear[i])
		}
	}
	if st := p.Stats(); st.Underruns != 1 || st.Frames != 160 {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenChecks(t *testing.T) {
	for _, c := range []struct {
		cfg         Config
		rate, frame int
	}{
		{Config{Playback: "hw:0"}, 11025, 110},
		{Config{Playback: "hw:0", Channels: 3}, 8000, 160},
		{Config{Playback: "hw:0", PeriodMs: 20}, 8000, 160},
		{Config{Playback: "hw:0"}, 8000, 130},
	} {
		if err := New(c.cfg).Open(c.rate, c.frame); err == nil {
			t.Errorf("Open(%+v, %d, %d) worked", c.cfg, c.rate, c.frame)
		}
	}
}

func BenchmarkExchangeStereo(b *testing.B) {
	q := new([]int16)
	p := New(Config{Playback: "hw:0,0", Channels: 2})
	p.play, p.capt = &fakeStream{ch: 2, q: q}, &fakeStream{ch: 2, q: q}
	p.rate, p.frame, p.channels, p.prefill = 8000, 160, 2, 160
	p.pbuf, p.cbuf = make([]int16, 320), make([]int16, 320)
	base := make([]int16, 0, 4096)
	ear, mic := make([]int16, 160), make([]int16, 160)
	*q = append(base, make([]int16, 320)...) // the prefill
	b.ReportAllocs()
	for b.Loop() {
		*q = append(base[:0], make([]int16, 320)...)
		if err := p.Exchange(ear, mic); err != nil {
			b.Fatal(err)
		}
	}
}
