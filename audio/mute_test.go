package audio

import (
	"testing"
	"time"
)

// TestMute: while muted the far end hears silence in place of the
// microphone, the stream goes on, and a frame costs no allocation.
func TestMute(t *testing.T) {
	a, b := pair(t, Config{}, PCMU)
	w := newWaiter(t)
	mic, earA, earB := make([]int16, 160), make([]int16, 160), make([]int16, 160)
	var ph float64
	step := func() {
		Sine(mic, 1000, 0.5, 8000, &ph)
		a.e.Process(mic, earA)
		w.wait(b.recv, "packet at B")
		b.e.Process(earB[:0:0], earB)
	}
	for range 20 {
		step()
	}
	if l := ToneLevel(earB, 1000, 8000); l < 0.1 {
		t.Fatalf("unmuted: B hears 1000 Hz at %v", l)
	}
	a.e.SetMute(true)
	if !a.e.Muted() || b.e.Muted() {
		t.Fatal("Muted does not follow SetMute")
	}
	for range 20 {
		step()
	}
	if l := ToneLevel(earB, 1000, 8000); l > 0.001 {
		t.Fatalf("muted: B hears 1000 Hz at %v", l)
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Fatalf("allocs per muted frame = %v", n)
	}
	sent := a.e.Stats().PacketsSent
	if sent < 240 {
		t.Fatalf("the stream stopped while muted: %d packets", sent)
	}
	// Digits still go while muted.
	if err := a.e.SendDTMF('5', 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	a.e.SetMute(false)
	for range 20 {
		step()
	}
	if l := ToneLevel(earB, 1000, 8000); l < 0.1 {
		t.Fatalf("unmuted again: B hears 1000 Hz at %v", l)
	}
}
