package panelhub

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/hal/panel"
	"github.com/deskphone/deskphone/tools/panelclient"
)

const deadline = 10 * time.Second

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// start is a phone's panel (the sim board's Server) with a hub in front.
func start(t *testing.T) (*panel.Server, *Hub) {
	t.Helper()
	dir := t.TempDir()
	s := panel.New("sim", "v1")
	t.Cleanup(func() { s.Close() })
	if err := s.Listen("unix:" + filepath.Join(dir, "phone.sock")); err != nil {
		t.Fatal(err)
	}
	h, err := New("unix:"+filepath.Join(dir, "phone.sock"), "unix:"+filepath.Join(dir, "hub.sock"), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return s, h
}

func dial(t *testing.T, h *Hub) *panelclient.Client {
	t.Helper()
	c, err := panelclient.Dial(ctx(t), h.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wait(t *testing.T, c *panelclient.Client, mark int, re string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx(t), deadline)
	defer cancel()
	if _, err := c.WaitAfter(wctx, mark, regexp.MustCompile(re)); err != nil {
		t.Fatalf("no %q: %v; got:\n%s", re, err, strings.Join(c.Lines(mark), "\n"))
	}
}

// TestTwoClients: a test's client and a person's both see what the phone
// shows, both drive it, and one that attaches later is shown the state
// and its replay alone.
func TestTwoClients(t *testing.T) {
	s, h := start(t)
	s.Display(1, "Talking to 1002")
	s.Phone("connected")
	a := dial(t, h)
	if !strings.HasPrefix(a.Ready(), "ready sim v1 panel/") {
		t.Fatalf("ready %q", a.Ready())
	}
	wait(t, a, 0, `^display 1 Talking to 1002$`)
	wait(t, a, 0, `^state end$`)
	markA := a.Mark()

	b := dial(t, h) // attaches in the middle of the call
	wait(t, b, 0, `^phone connected$`)
	wait(t, b, 0, `^state end$`)
	time.Sleep(100 * time.Millisecond)
	for _, l := range a.Lines(markA) {
		if strings.HasPrefix(l, "state") || strings.HasPrefix(l, "phone ") {
			t.Errorf("b's replay reached a: %q", l)
		}
	}

	// A line from the phone reaches both; a key from either reaches it.
	markA, markB := a.Mark(), b.Mark()
	s.Tone("busy")
	wait(t, a, markA, `^tone busy$`)
	wait(t, b, markB, `^tone busy$`)
	for _, c := range []*panelclient.Client{a, b} {
		if err := c.Send("key 5"); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-s.Events():
			if e.Kind != hal.KeyPress || e.Key != "5" {
				t.Fatalf("event %+v", e)
			}
		case <-time.After(deadline):
			t.Fatal("a key from a client did not reach the phone")
		}
	}

	// b leaves; a goes on.
	b.Close()
	markA = a.Mark()
	s.Tone("none")
	wait(t, a, markA, `^tone none$`)
}

// TestAudioShared: the earpiece reaches every audio client; the
// microphone is the client that attached last, then again the one before
// it when it leaves.
func TestAudioShared(t *testing.T) {
	s, h := start(t)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	heard := make(chan int16, 1024)
	go func() {
		ear := make([]int16, 160)
		mic := make([]int16, 160)
		for i := range ear {
			ear[i] = 1234
		}
		for s.Exchange(ear, mic) == nil {
			for _, v := range mic {
				if v != 0 {
					select {
					case heard <- v:
					default:
					}
					break
				}
			}
		}
	}()
	a := dial(t, h)
	b := dial(t, h)
	for _, c := range []*panelclient.Client{a, b} {
		rec, err := c.Record(300 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec) < 400 || slices.ContainsFunc(rec, func(v int16) bool { return v != 1234 }) {
			t.Fatalf("earpiece: %d samples, want about 2400 of 1234", len(rec))
		}
	}
	micFrom := func(c *panelclient.Client, v int16) bool {
		t.Helper()
		frame := make([]int16, 160)
		for i := range frame {
			frame[i] = v
		}
		end := time.Now().Add(3 * time.Second)
		for time.Now().Before(end) {
			c.WriteAudio(frame)
			select {
			case got := <-heard:
				if got == v {
					return true
				}
			case <-time.After(20 * time.Millisecond):
			}
		}
		return false
	}
	if micFrom(a, 111) {
		t.Error("the first client's microphone reached the phone while the second is attached")
	}
	if !micFrom(b, 222) {
		t.Error("the last client's microphone did not reach the phone")
	}
	b.Close()
	time.Sleep(100 * time.Millisecond)
	if !micFrom(a, 333) {
		t.Error("after the last left, the one before did not get the microphone back")
	}
}

// TestPhoneRestarts: a phone that goes away and comes back (a reboot) is
// dialled again and every client sees its new state.
func TestPhoneRestarts(t *testing.T) {
	dir := t.TempDir()
	sock := "unix:" + filepath.Join(dir, "phone.sock")
	s := panel.New("sim", "v1")
	if err := s.Listen(sock); err != nil {
		t.Fatal(err)
	}
	h, err := New(sock, "unix:"+filepath.Join(dir, "hub.sock"), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	a := dial(t, h)
	s.Close()
	s2 := panel.New("sim", "v2")
	defer s2.Close()
	s2.Display(0, "back")
	if err := s2.Listen(sock); err != nil {
		t.Fatal(err)
	}
	wait(t, a, 0, `^display 0 back$`)
}

// TestRefusesOwnStream: a hub's client cannot take the phone's one audio
// stream for itself: "audio rate 16000" and panel/4's "audio shm" get an
// error line from the hub, and the phone never sees them.
func TestRefusesOwnStream(t *testing.T) {
	_, h := start(t)
	c := dial(t, h)
	if err := c.ShareAudio(ctx(t), 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "stays on its socket") {
		t.Fatalf("ShareAudio through a hub: %v, want the hub's refusal", err)
	}
	if err := c.SetRate(ctx(t), panelclient.WideRate); err == nil {
		t.Fatal("audio rate 16000 through a hub accepted")
	}
}
