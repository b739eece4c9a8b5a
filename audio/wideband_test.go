package audio

import (
	"testing"

	"github.com/deskphone/deskphone/audio/dtmf"
)

// TestWideband: A's microphone carries 1 kHz and 6 kHz; B's earpiece gets
// 1 kHz in every combination, and 6 kHz only when the codec is G.722 and
// both devices run at 16 kHz (G.711, or a narrowband device at either
// end, cuts it off). B sends 600 Hz back. No packet is lost, late or
// concealed, and each 20 ms packet is 160 octets.
func TestWideband(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rateA, rateB int
		codec        Codec
		wide         bool
	}{
		{"G722 16k-16k", 16000, 16000, G722, true},
		{"PCMU 16k-16k", 16000, 16000, PCMU, false},
		{"PCMA 16k-8k", 16000, 8000, PCMA, false},
		{"G722 8k-16k", 8000, 16000, G722, false},
		{"G722 16k-8k", 16000, 8000, G722, false},
		{"G722 8k-8k", 8000, 8000, G722, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pairAt(t, Config{Rate: tc.rateA}, Config{Rate: tc.rateB}, tc.codec)
			w := newWaiter(t)
			micA, earA := make([]int16, a.e.FrameSamples()), make([]int16, a.e.FrameSamples())
			micB, earB := make([]int16, b.e.FrameSamples()), make([]int16, b.e.FrameSamples())
			hi := make([]int16, len(micA))
			var p1, p2, p3 float64
			const frames = 50
			var lo1k, hi6k, back float64
			for i := range frames {
				Sine(micA, 1000, 0.3, tc.rateA, &p1)
				if tc.rateA == 16000 {
					Sine(hi, 6000, 0.3, tc.rateA, &p2)
					MixInto(micA, hi)
				}
				Sine(micB, 600, 0.3, tc.rateB, &p3)
				a.e.Process(micA, earA)
				w.wait(b.recv, "packet at B")
				b.e.Process(micB, earB)
				w.wait(a.recv, "packet at A")
				if i >= 10 {
					lo1k += ToneLevel(earB, 1000, tc.rateB) / (frames - 10)
					if tc.rateB == 16000 {
						hi6k += ToneLevel(earB, 6000, tc.rateB) / (frames - 10)
					}
					back += ToneLevel(earA, 600, tc.rateA) / (frames - 10)
				}
			}
			t.Logf("B hears 1 kHz at %.3f, 6 kHz at %.4f; A hears 600 Hz at %.3f", lo1k, hi6k, back)
			// Amplitude 0.3: a level of 0.09 when carried whole.
			if lo1k < 0.06 || back < 0.06 {
				t.Errorf("1 kHz at %.3f, 600 Hz back at %.3f: want about 0.09", lo1k, back)
			}
			if tc.wide && hi6k < 0.05 {
				t.Errorf("6 kHz at %.4f through G.722: want about 0.09", hi6k)
			}
			if !tc.wide && hi6k > 0.001 {
				t.Errorf("6 kHz at %.4f: narrowband cannot carry it", hi6k)
			}
			for _, s := range []side{a, b} {
				st := s.e.Stats()
				if st.PacketsReceived != frames || st.BytesReceived != frames*160 || st.BytesSent != frames*160 ||
					st.Lost != 0 || st.Late != 0 || st.Concealed != 0 || st.Invalid != 0 {
					t.Errorf("stats %+v", st)
				}
			}
		})
	}
}

// TestInbandDTMFWideband: digits in a G.722 stream's audio are heard on a
// 16 kHz engine.
func TestInbandDTMFWideband(t *testing.T) {
	a, b := pairAt(t, Config{Rate: 16000}, Config{Rate: 16000, InbandDTMF: true}, G722)
	w := newWaiter(t)
	mic, ear := make([]int16, 320), make([]int16, 320)
	var pr, pc float64
	for _, d := range []byte("47#") {
		row, col, _ := dtmf.Freqs(d)
		for k := range 10 { // 100 ms on, 100 off
			clear(mic)
			if k < 5 {
				buf := make([]int16, 320)
				Sine(mic, row, 0.25, 16000, &pr)
				Sine(buf, col, 0.25, 16000, &pc)
				MixInto(mic, buf)
			}
			a.e.Process(mic, ear)
			w.wait(b.recv, "packet at B")
			b.e.Process(make([]int16, 320), ear)
		}
	}
	var got []byte
	for {
		d, ok := b.e.ReadDigit()
		if !ok {
			break
		}
		got = append(got, d)
	}
	if string(got) != "47#" {
		t.Fatalf("heard %q, want \"47#\"", got)
	}
}
