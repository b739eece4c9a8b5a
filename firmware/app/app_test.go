package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/hal"
)

func TestUALines(t *testing.T) {
	cfg := config.Default()
	cfg.Lines[0] = config.Line{User: "1001", Password: "pw", Registrar: "127.0.0.1:5060", Expires: 300}
	cfg.Lines[2] = config.Line{User: "1003"} // after a gap: not used, and said
	var said []string
	lines := uaLines(cfg, func(f string, a ...any) { said = append(said, f) })
	if len(lines) != 1 || lines[0].User != "1001" || lines[0].Password != "pw" || lines[0].Expires != 300 {
		t.Fatalf("lines %+v", lines)
	}
	if len(said) != 1 || !strings.Contains(said[0], "gap") {
		t.Fatalf("said %q", said)
	}
}

type narrowCodec struct{ hal.Codec }

type wideCodec struct {
	hal.Codec
	wide bool
}

func (w wideCodec) Wideband() bool { return w.wide }

// TestEngineRate: 16 kHz only with a codec that says it can and
// audio.wideband on.
func TestEngineRate(t *testing.T) {
	on, off := config.Default(), config.Default()
	off.Wideband = false
	for _, tc := range []struct {
		name  string
		codec hal.Codec
		cfg   config.Config
		want  int
	}{
		{"wideband codec", wideCodec{wide: true}, on, 16000},
		{"audio.wideband off", wideCodec{wide: true}, off, 8000},
		{"card at 8 kHz only", wideCodec{wide: false}, on, 8000},
		{"narrowband codec", narrowCodec{}, on, 8000},
		{"no codec", nil, on, 8000},
	} {
		if got := engineRate(tc.codec, tc.cfg); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRouteIP(t *testing.T) {
	for _, tc := range []struct {
		line config.Line
		want string
	}{
		{config.Line{}, "127.0.0.1"},
		{config.Line{Registrar: "127.0.0.1:5060"}, "127.0.0.1"},
		{config.Line{Registrar: "192.0.2.1", OutboundProxy: "127.0.0.1:5070"}, "127.0.0.1"},
	} {
		l := uaLines(config.Config{Lines: [config.MaxLines]config.Line{{User: "x", Registrar: tc.line.Registrar, OutboundProxy: tc.line.OutboundProxy}}}, func(string, ...any) {})
		if got := routeIP(l[0]); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.line, got, tc.want)
		}
	}
}

// TestSimBadConfig: a sim phone with a broken file stops with an error that
// names the file and line, after its panel came up.
func TestSimBadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "phone.cfg")
	writeFile(t, file, "line.1.user = 1001\nsip.port = banana\n")
	b, _ := boards.ByName("sim")
	err := Run(context.Background(), Options{Board: b, ConfigFile: file, Panel: "unix:" + filepath.Join(dir, "p.sock")})
	if err == nil || !strings.Contains(err.Error(), "phone.cfg:2") || !strings.Contains(err.Error(), "sip.port") {
		t.Fatalf("err = %v", err)
	}
}

func writeFile(t *testing.T, name, s string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A hardware board whose codec failed has no codec: the audio loop says
// so instead of taking the phone (PID 1) down.
func TestAudioLoopWithoutCodec(t *testing.T) {
	eng, err := audio.NewEngine(audio.Config{Rate: 8000, Ptime: 20, Locale: "us"})
	if err != nil {
		t.Fatal(err)
	}
	err = audioLoop(context.Background(), nil, eng, &mixer{})
	if err == nil || !strings.Contains(err.Error(), "no working codec") {
		t.Errorf("audioLoop without a codec: %v", err)
	}
}

// pcm is a hal.PCM whose periods the test hands out: each Exchange waits
// for a tick and reports the earpiece frame it was given.
type pcm struct {
	tick    chan struct{}
	ears    chan []int16
	started chan bool // true at Start, false at Stop
}

func (c *pcm) Open(rate, frame int) error { return nil }
func (c *pcm) Close() error               { return nil }
func (c *pcm) Start() error               { c.started <- true; return nil }
func (c *pcm) Stop() error                { c.started <- false; return nil }
func (c *pcm) Exchange(ear, mic []int16) error {
	<-c.tick
	c.ears <- append([]int16(nil), ear...)
	return nil
}

// TestAudioLoopStopsWhenIdle: with no tone and no stream the loop stops a
// codec that can stop (after idleFrames) and exchanges nothing; a tone
// starts it again, and the first frame out carries the tone.
func TestAudioLoopStopsWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng, err := audio.NewEngine(audio.Config{PollReceive: true})
		if err != nil {
			t.Fatal(err)
		}
		c := &pcm{tick: make(chan struct{}), ears: make(chan []int16, 100), started: make(chan bool, 4)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- audioLoop(ctx, c, eng, &mixer{}) }()
		for range idleFrames {
			c.tick <- struct{}{}
			<-c.ears
		}
		if on := <-c.started; on {
			t.Fatal("Start while idle")
		}
		synctest.Wait() // the loop waits for activity, not in Exchange
		select {
		case c.tick <- struct{}{}:
			t.Fatal("an Exchange while stopped")
		default:
		}
		if err := eng.SetTone("dial"); err != nil {
			t.Fatal(err)
		}
		if on := <-c.started; !on {
			t.Fatal("not started for the tone")
		}
		c.tick <- struct{}{}
		if ear := <-c.ears; audio.ToneLevel(ear, 350, 8000) < 0.01 {
			t.Fatalf("the first frame after the start has no dial tone (350 Hz at %v)", audio.ToneLevel(ear, 350, 8000))
		}
		cancel() // seen before the next Exchange, or at the end of it
		for {
			select {
			case c.tick <- struct{}{}:
				<-c.ears
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				return
			}
		}
	})
}
