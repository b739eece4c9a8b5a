package lab

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/tools/sound"
	"github.com/deskphone/deskphone/tools/wav"
)

// TestWAVSoundSim: the terminal panel's WAV path end to end, through two
// sim phones and the PBX: 1001's microphone plays a WAV file (-mic), 1002's
// earpiece is recorded into one (-record), and the recording holds the
// file's tone.
func TestWAVSoundSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002"}, nil)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "hello.wav"), filepath.Join(dir, "ear.wav")
	tone := make([]int16, 10*8000)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	if err := os.WriteFile(in, wav.Encode(tone, 8000), 0o644); err != nil {
		t.Fatal(err)
	}
	talk, err := sound.FromOptions(sound.Options{Sound: "none", Mic: in})
	if err != nil {
		t.Fatal(err)
	}
	defer talk.Close()
	listen, err := sound.FromOptions(sound.Options{Sound: "none", Record: out})
	if err != nil {
		t.Fatal(err)
	}

	f.Do("1001", "dial 1002")
	f.Expect("1002", `^ring on`)
	f.Do("1002", "hook off")
	f.Expect("1001", `^phone connected$`)
	a, b := f.Phone("1001").Panel, f.Phone("1002").Panel
	talk.Attach(a.ReadAudio, a.WriteAudio)
	listen.Attach(b.ReadAudio, b.WriteAudio)
	time.Sleep(2 * time.Second)
	if err := listen.Close(); err != nil {
		t.Fatal(err)
	}
	f.HangupAll()

	rec, rate, err := wav.Read(out)
	if err != nil || rate != 8000 {
		t.Fatalf("%s: %d Hz, %v", out, rate, err)
	}
	best := 0.0
	for s := rec; len(s) >= 1600; s = s[1600:] {
		best = max(best, audio.ToneLevel(s[:1600], 440, 8000))
	}
	if len(rec) < 8000 || best < MinLevel {
		t.Errorf("1002's recording: %d samples, 440 Hz at %.4f (want at least %.3f)", len(rec), best, MinLevel)
	}
}
