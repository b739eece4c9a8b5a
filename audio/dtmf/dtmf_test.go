package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPayload(t *testing.T) {
	p := Payload{Event: 11, End: true, Volume: 10, Duration: 1600}
	var b [4]byte
	p.MarshalTo(b[:])
	if b != [4]byte{11, 0x8a, 0x06, 0x40} {
		t.Fatalf("wire % x", b)
	}
	var q Payload
	if err := q.Unmarshal(b[:]); err != nil || q != p {
		t.Fatalf("round trip %+v %v", q, err)
	}
	if q.Unmarshal(b[:3]) == nil {
		t.Fatal("short payload accepted")
	}
	for i := range 16 {
		e, err := Event(Digit(uint8(i)))
		if err != nil || int(e) != i {
			t.Fatalf("event %d: %d %v", i, e, err)
		}
	}
	if _, err := Event('x'); err == nil {
		t.Fatal("x is a digit")
	}
}

func gen(buf []int16, d byte, amp float64, start int) {
	r, c, _ := Freqs(d)
	for i := range buf {
		t := float64(start+i) / 8000
		buf[i] = int16(amp * (math.Sin(2*math.Pi*r*t) + math.Sin(2*math.Pi*c*t)))
	}
}

// TestDetector: each digit, 50 ms on and 50 ms off at -10 dBm0 per tone
// with a little noise, is found exactly once; speech-like and single tones
// are not digits.
func TestDetector(t *testing.T) {
	d := NewDetector()
	rng := rand.New(rand.NewPCG(1, 1))
	var got []byte
	frame := make([]int16, 160)
	pos := 0
	for _, want := range []byte("0123456789*#ABCD") {
		for k := range 10 { // 5 frames on, 5 off, 20 ms each
			if k < 5 {
				gen(frame, want, 3000, pos)
			} else {
				clear(frame)
			}
			for i := range frame {
				frame[i] += int16(rng.NormFloat64() * 100)
			}
			d.Feed(frame, func(b byte) { got = append(got, b) })
			pos += 160
		}
	}
	if string(got) != "0123456789*#ABCD" {
		t.Fatalf("detected %q", got)
	}
	// A single 1 kHz tone, and 440+480 Hz (US ringback): no digits.
	for k := range 50 {
		for i := range frame {
			tt := float64(k*160+i) / 8000
			frame[i] = int16(8000*math.Sin(2*math.Pi*1000*tt) + 4000*math.Sin(2*math.Pi*440*tt) + 4000*math.Sin(2*math.Pi*480*tt))
		}
		if b := d.Feed(frame, nil); b != 0 {
			t.Fatalf("false digit %c", b)
		}
	}
}

func TestDetectorNoAllocs(t *testing.T) {
	d := NewDetector()
	frame := make([]int16, 160)
	gen(frame, '5', 3000, 0)
	if n := testing.AllocsPerRun(100, func() { d.Feed(frame, nil) }); n != 0 {
		t.Fatalf("allocs %v", n)
	}
}

// TestDetectorWideband: at 16000 samples/s each digit (50 ms on, 50 off)
// is found once, and a 1 kHz tone is no digit.
func TestDetectorWideband(t *testing.T) {
	d := NewDetectorRate(16000)
	frame := make([]int16, 320)
	var got []byte
	pos := 0
	for _, want := range []byte("159#D") {
		r, c, _ := Freqs(want)
		for k := range 10 {
			for i := range frame {
				tt := float64(pos+i) / 16000
				frame[i] = 0
				if k < 5 {
					frame[i] = int16(3000 * (math.Sin(2*math.Pi*r*tt) + math.Sin(2*math.Pi*c*tt)))
				}
			}
			d.Feed(frame, func(b byte) { got = append(got, b) })
			pos += 320
		}
	}
	if string(got) != "159#D" {
		t.Fatalf("detected %q", got)
	}
	for k := range 20 {
		for i := range frame {
			frame[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(k*320+i)/16000))
		}
		if b := d.Feed(frame, nil); b != 0 {
			t.Fatalf("false digit %c", b)
		}
	}
}
