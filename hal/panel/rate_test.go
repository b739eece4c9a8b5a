package panel

import (
	"encoding/binary"
	"io"
	"math"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio/tone"
)

// level is the Goertzel power of freq relative to a full-scale sine (the
// media engine's measure; a test may borrow it).
var level = tone.Level

// TestAudioRate (panel/3): a phone whose codec runs at 16000 samples/s
// streams 8000 to a client that does not ask (panel/1 and panel/2
// clients: 1 kHz carried, 6 kHz filtered out rather than aliased to 2
// kHz), and 16000 once the client says "audio rate 16000" (6 kHz
// carried); the microphone follows the client's rate too.
func TestAudioRate(t *testing.T) {
	s, sock, hooks := startServer(t)
	tick, _ := fakeClock(s)
	if err := s.Open(16000, 320); err != nil {
		t.Fatal(err)
	}
	ctl := dialControl(t, sock)
	ac := dial(t, sock+".audio")
	waitHook(t, hooks, "control")
	waitHook(t, hooks, "audio")
	ear, mic := make([]int16, 320), make([]int16, 320)
	pos := 0
	frames := func(n, clientRate int) []int16 {
		t.Helper()
		var got []int16
		per := 320 * clientRate / 16000
		b := make([]byte, 2*per)
		for range n {
			for i := range ear {
				x := float64(pos+i) / 16000
				ear[i] = int16(8000*math.Sin(2*math.Pi*1000*x) + 8000*math.Sin(2*math.Pi*6000*x))
			}
			pos += 320
			tick <- time.Time{}
			if err := s.Exchange(ear, mic); err != nil {
				t.Fatal(err)
			}
			ac.SetReadDeadline(time.Now().Add(deadline))
			if _, err := io.ReadFull(ac, b); err != nil {
				t.Fatal(err)
			}
			for i := range per {
				got = append(got, int16(binary.LittleEndian.Uint16(b[2*i:])))
			}
		}
		return got
	}
	narrow := frames(10, 8000)[400:]
	// Converting allocates nothing either (the client's reads can wait:
	// a frame the socket cannot take is dropped).
	if n := testing.AllocsPerRun(20, func() {
		tick <- time.Time{}
		if err := s.Exchange(ear, mic); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Exchange with conversion: %v allocations", n)
	}
	drain := make([]byte, 64<<10)
	ac.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	for {
		if _, err := ac.Read(drain); err != nil {
			break
		}
	}
	t.Logf("at 8000: 1 kHz %.4f, 2 kHz (6 kHz aliased) %.6f", level(narrow, 1000, 8000), level(narrow, 2000, 8000))
	if level(narrow, 1000, 8000) < 0.05 || level(narrow, 2000, 8000) > 0.0005 {
		t.Fatal("the 8000 stream does not carry 1 kHz alone")
	}

	ctl.send("audio rate 44100")
	if l := ctl.line(); l != "error usage: audio rate 8000|16000" {
		t.Fatalf("bad rate: %q", l)
	}
	ctl.send("audio rate 16000")
	ctl.expect("audio rate 16000")
	wide := frames(10, 16000)[800:]
	t.Logf("at 16000: 1 kHz %.4f, 6 kHz %.4f", level(wide, 1000, 16000), level(wide, 6000, 16000))
	if level(wide, 1000, 16000) < 0.05 || level(wide, 6000, 16000) < 0.05 {
		t.Fatal("the 16000 stream does not carry 1 kHz and 6 kHz")
	}

	// Microphone at 16000: a frame of the client's comes through as sent.
	out := make([]byte, 640)
	for i := range 320 {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(i*10)))
	}
	ac.Write(out)
	waitParked(t, s)
	tick <- time.Time{}
	if err := s.Exchange(ear, mic); err != nil {
		t.Fatal(err)
	}
	for i, v := range mic {
		if v != int16(i*10) {
			t.Fatalf("mic[%d] = %d, want %d", i, v, i*10)
		}
	}
}
