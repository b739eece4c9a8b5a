package panel

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/hal"
	halpanel "github.com/deskphone/deskphone/hal/panel"
	"github.com/deskphone/deskphone/tools/panelclient"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestScreenGolden(t *testing.T) {
	m := NewModel()
	for _, l := range []string{
		"ready sim v0.1 panel/1",
		"reg 1 registered",
		"reg 2 failed:403",
		"phone connected",
		"display 0 Ext 201       12:00",
		"display 1 Talking to Alice",
		"display 7 off the screen",
		"led mwi blink",
		"led mute on",
		"led line1 on",
		"led speaker on",
		"mwi 1 2/5",
		"ring on normal",
		"ring off",
		"tone ringback",
		"tone none",
		"call 1 connected Alice <sip:alice@pbx>",
		"call 2 ended:486 Bob",
		"status reg=1:registered phone=connected calls=1",
		"log hello",
		"error bad key \"x\"",
		"bogus line",
	} {
		m.Apply(l)
	}
	m.OffHook = true
	got := m.Screen(34)
	golden := filepath.Join("testdata", "screen.golden")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("screen:\n%s\nwant:\n%s", got, want)
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		lines []string
		check func(m *Model) bool
	}{
		{[]string{"ring on normal"}, func(m *Model) bool { return m.Ring == "normal" }},
		{[]string{"ring on normal", "ring off"}, func(m *Model) bool { return m.Ring == "" }},
		{[]string{"tone busy"}, func(m *Model) bool { return m.Tone == "busy" }},
		{[]string{"call 3 incoming Carol"}, func(m *Model) bool { return m.Calls[3] == Call{"incoming", "Carol"} }},
		{[]string{"call 3 incoming Carol", "call 3 ended:200 Carol"}, func(m *Model) bool { return len(m.Calls) == 0 }},
		{[]string{"display 3 last row"}, func(m *Model) bool { return m.Display[3] == "last row" }},
		{[]string{"display x nope"}, func(m *Model) bool { return m.Logs[0] == "? display x nope" }},
		{[]string{"log 1", "log 2", "log 3", "log 4", "log 5", "log 6"}, func(m *Model) bool {
			return len(m.Logs) == maxLogs && m.Logs[0] == "2" && m.Logs[4] == "6"
		}},
		{[]string{"mwi 1 0/3"}, func(m *Model) bool { return m.MWI[1] == "0/3" }},
		{[]string{"audio on"}, func(m *Model) bool { return m.Audio && len(m.Logs) == 0 }},
		{[]string{"audio on", "audio off"}, func(m *Model) bool { return !m.Audio && len(m.Logs) == 0 }},
		{[]string{"audio rate 16000"}, func(m *Model) bool { return m.AudioRate == 16000 && len(m.Logs) == 0 }},
		{[]string{"audio rate x"}, func(m *Model) bool { return m.AudioRate == 0 && m.Logs[0] == "? audio rate x" }},
		{[]string{"led dnd on", "led dnd off"}, func(m *Model) bool { return m.LEDs["dnd"] == "off" }},
	}
	for _, tt := range tests {
		m := NewModel()
		for _, l := range tt.lines {
			m.Apply(l)
		}
		if !tt.check(m) {
			t.Errorf("after %q: model %+v", tt.lines, m)
		}
	}
}

func TestKeyLines(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"12*#", "key 1|key 2|key *|key #"},
		{"\r", "key send"},
		{"h", "hook off"},
		{"h ", "hook off|hook on"},
		{"HTCRDFVMSO+-", "key hold|key transfer|key conf|key redial|key dnd|key fwd|key vm|key mute|key speaker|key ok|key volup|key voldown"},
		{"\x1b", "key cancel"},
		{"\x1b[A\x1b[B", "key up|key down"},
		{"\x1bOP\x1bOS", "key line1|key line4"},
		{"\x1b[1;5A5", "key 5"},
		{"s", "status"},
		{"zx!", ""},
		{"5q6", "key 5|" + Quit},
		{"\x03", Quit},
	}
	for _, tt := range tests {
		m := NewModel()
		got := strings.Join(KeyLines(m, []byte(tt.in)), "|")
		if got != tt.want {
			t.Errorf("KeyLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRun drives Run against a real panel server over a unix socket, with
// pipes for the terminal: keys reach the phone, and the phone's lines reach
// the screen.
func TestRun(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "p.sock")
	s := halpanel.New("sim", "v0.1")
	defer s.Close()
	if err := s.Listen("unix:" + sock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := panelclient.Dial(ctx, "unix:"+sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, []Attached{{"1001", c}}, inR, outW, Options{Width: 30}) }()
	screens := make(chan string, 1000)
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, err := outR.Read(buf)
			if err != nil {
				close(screens)
				return
			}
			screens <- string(buf[:n])
		}
	}()
	waitScreen := func(re string) {
		t.Helper()
		r := regexp.MustCompile(re)
		acc := ""
		for {
			select {
			case sc, ok := <-screens:
				if !ok {
					t.Fatalf("screen closed waiting for %q", re)
				}
				acc += sc
				if r.MatchString(acc) {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %q on screen; last: %q", re, acc[max(0, len(acc)-500):])
			}
		}
	}
	// Run asks for the status at start; the panel has answered it once
	// this client is current.
	waitScreen(`status: phone=unknown`)
	inW.Write([]byte("h"))
	if e := <-s.Events(); e.Kind != hal.HookOff {
		t.Fatalf("event %+v", e)
	}
	waitScreen(`handset: OFF HOOK`)
	inW.Write([]byte("20\r"))
	for _, k := range []string{"2", "0", "send"} {
		if e := <-s.Events(); e.Key != k {
			t.Fatalf("event %+v, want key %s", e, k)
		}
	}
	s.Display(0, "Calling 20")
	s.LED("mwi", "on")
	s.Call(1, "ringing", "Bob")
	waitScreen(`(?s)\|Calling 20 +\|.*\[\*mwi\].*call 1: ringing  Bob`)
	inW.Write([]byte("q"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("Run did not quit on q")
	}
}
