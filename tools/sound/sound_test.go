package sound

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jfreymuth/pulse"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/hal/panel"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/panelclient"
	"github.com/deskphone/deskphone/tools/wav"
)

const rate = panelclient.Rate

// phone is a panel Server running the audio loop of a phone whose
// earpiece plays a sine of ear Hz; it keeps what the microphone brought.
type phone struct {
	c   *panelclient.Client
	mu  sync.Mutex
	mic []int16
}

func startPhone(t *testing.T, ear float64) *phone {
	t.Helper()
	s := panel.New("sim", "test")
	t.Cleanup(func() { s.Close() })
	addr := "unix:" + filepath.Join(t.TempDir(), "p.sock")
	if err := s.Listen(addr); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(rate, rate/50); err != nil {
		t.Fatal(err)
	}
	p := &phone{}
	go func() {
		out := make([]int16, rate/50)
		in := make([]int16, rate/50)
		n := 0
		for {
			for i := range out {
				out[i] = int16(8000 * math.Sin(2*math.Pi*ear*float64(n)/rate))
				n++
			}
			if s.Exchange(out, in) != nil {
				return
			}
			p.mu.Lock()
			if len(p.mic) < 10*rate {
				p.mic = append(p.mic, in...)
			}
			p.mu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := panelclient.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p.c = c
	return p
}

func (p *phone) heard() []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.mic...)
}

// peak is the highest ToneLevel of freq over 200 ms windows of s.
func peak(s []int16, freq float64, r int) float64 {
	best := 0.0
	for w := r / 5; len(s) >= w; s = s[w:] {
		best = max(best, audio.ToneLevel(s[:w], freq, r))
	}
	return best
}

// TestPulseAudio: against a real PulseAudio with null sinks, the bridge
// plays the earpiece (1 kHz) on the "speakers" sink, whose monitor a
// second client records, and takes the microphone from the "mic" sink's
// monitor, into which a third client plays 600 Hz: the phone hears it.
func TestPulseAudio(t *testing.T) {
	server := testtool.PulseAudio(t, "speakers", "mic")
	ph := startPhone(t, 1000)
	d, err := OpenPulse(server, rate)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.UseSink("speakers"); err != nil {
		t.Fatal(err)
	}
	if err := d.UseSource("mic.monitor"); err != nil {
		t.Fatal(err)
	}
	snd, err := Start(d)
	if err != nil {
		t.Fatal(err)
	}
	snd.Attach(ph.c.ReadAudio, ph.c.WriteAudio)
	meter := &snd.Meter

	// Someone speaks into the "microphone": 600 Hz into the mic sink.
	pc, err := pulse.NewClient(pulse.ClientServerString(server))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	micSink, err := pc.SinkByID("mic")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	voice, err := pc.NewPlayback(pulse.Int16Reader(func(b []int16) (int, error) {
		for i := range b {
			b[i] = int16(8000 * math.Sin(2*math.Pi*600*float64(n)/16000))
			n++
		}
		return len(b), nil
	}), pulse.PlaybackMono, pulse.PlaybackSampleRate(16000), pulse.PlaybackSink(micSink))
	if err != nil {
		t.Fatal(err)
	}
	defer voice.Close()
	voice.Start()

	// What the speakers played.
	spk, err := pc.SinkByID("speakers")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var played []int16
	rec, err := pc.NewRecord(pulse.Int16Writer(func(b []int16) (int, error) {
		mu.Lock()
		played = append(played, b...)
		mu.Unlock()
		return len(b), nil
	}), pulse.RecordMono, pulse.RecordSampleRate(16000), pulse.RecordMonitor(spk))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	rec.Start()

	time.Sleep(2 * time.Second)
	mu.Lock()
	got := append([]int16(nil), played...)
	mu.Unlock()
	if lv := peak(got, 1000, 16000); lv < 0.02 {
		t.Errorf("the speakers' monitor has 1 kHz at %.4f (%d samples): the earpiece was not played", lv, len(got))
	}
	if lv := peak(ph.heard(), 600, rate); lv < 0.02 {
		t.Errorf("the phone's microphone has 600 Hz at %.4f: the host's microphone did not reach it", lv)
	}
	ear, mic := meter.Levels()
	if ear < -30 || mic < -40 {
		t.Errorf("meter: ear %.1f dB, mic %.1f dB", ear, mic)
	}
	t.Logf("levels: %s", meter.Bars())
}

// TestWAV: -mic plays a WAV file into the phone's microphone and -record
// writes the earpiece into one.
func TestWAV(t *testing.T) {
	ph := startPhone(t, 1000)
	snd, in, out := wavSound(t, 1)
	snd.Attach(ph.c.ReadAudio, ph.c.WriteAudio)
	time.Sleep(1500 * time.Millisecond)
	if err := snd.Close(); err != nil {
		t.Fatal(err)
	}
	if lv := peak(ph.heard(), 440, rate); lv < 0.02 {
		t.Errorf("the phone did not hear the WAV file: 440 Hz at %.4f", lv)
	}
	s, r, err := wav.Read(out)
	if err != nil || r != rate {
		t.Fatalf("record: %d Hz, %v", r, err)
	}
	if len(s) < rate/2 || peak(s, 1000, rate) < 0.02 {
		t.Errorf("record: %d samples, 1 kHz at %.4f", len(s), peak(s, 1000, rate))
	}

	if _, err := Open(Options{Rate: 16000, Sound: "none", Mic: in}); err == nil {
		t.Error("an 8 kHz file taken for a 16 kHz phone")
	}
	if _, err := Open(Options{Rate: rate, Sound: "bogus"}); err == nil {
		t.Error("bogus sound taken")
	}
}

func TestRing(t *testing.T) {
	r := NewRing(4)
	r.Push([]int16{1, 2, 3, 4, 5, 6}) // the oldest dropped
	got := make([]int16, 6)
	if n := r.Pull(got); n != 4 || got[0] != 3 || got[3] != 6 || got[4] != 0 {
		t.Errorf("Pull = %d %v", n, got)
	}
}

func TestBars(t *testing.T) {
	m := &Meter{}
	if got := m.Bars(); got != "ear [............]   -inf  mic [............]   -inf" {
		t.Errorf("silence: %q", got)
	}
	m.Ear([]int16{16384})
	if got := m.Bars(); !strings.HasPrefix(got, "ear [###########.]  -6 dB  mic") {
		t.Errorf("-6 dB: %q", got)
	}
}

// TestAttachMoves: the sound follows the phone shown: after Attach to a
// second phone its earpiece is recorded and the microphone goes to it.
func TestAttachMoves(t *testing.T) {
	a, b := startPhone(t, 1000), startPhone(t, 1500)
	snd, _, out := wavSound(t, 3)
	snd.Attach(a.c.ReadAudio, a.c.WriteAudio)
	time.Sleep(800 * time.Millisecond)
	snd.Attach(b.c.ReadAudio, b.c.WriteAudio)
	heardA := len(a.heard())
	time.Sleep(800 * time.Millisecond)
	if err := snd.Close(); err != nil {
		t.Fatal(err)
	}
	if peak(b.heard(), 440, rate) < 0.02 {
		t.Error("the second phone did not get the microphone")
	}
	if s := a.heard()[heardA:]; peak(s, 440, rate) > 0.01 {
		t.Error("the first phone kept the microphone after the switch")
	}
	rec, _, err := wav.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if peak(rec, 1000, rate) < 0.02 || peak(rec, 1500, rate) < 0.02 {
		t.Errorf("record: 1 kHz %.3f, 1.5 kHz %.3f: want both phones' earpieces in turn", peak(rec, 1000, rate), peak(rec, 1500, rate))
	}
}

// wavSound is a Sound whose microphone plays secs of 440 Hz from a WAV
// file (in) and which records the earpiece into another (out).
func wavSound(t *testing.T, secs int) (snd *Sound, in, out string) {
	t.Helper()
	dir := t.TempDir()
	in, out = filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.wav")
	tone := make([]int16, secs*rate)
	for i := range tone {
		tone[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	if err := os.WriteFile(in, wav.Encode(tone, rate), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(Options{Rate: rate, Sound: "none", Mic: in, Record: out})
	if err != nil {
		t.Fatal(err)
	}
	if snd, err = Start(d); err != nil {
		t.Fatal(err)
	}
	return snd, in, out
}
