package panel

import (
	"slices"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/hal"
)

func FuzzParseControl(f *testing.F) {
	for _, s := range []string{"hook off", "key send", "dial 123#", "status", "key", "", "key  5", "dial 12x", "hook on\r", "key volup\r", "state", "audio rate 16000", "audio shm /tmp/a", "audio shm off", "audio shm a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		req, err := parseControl(line)
		// The allocation-free reader agrees wherever it answers.
		var buf [maxDial + 1]hal.Event
		if fast, ok := parseFast([]byte(line), &buf); ok {
			if err != nil || fast.status != req.status || !slices.Equal(fast.events, req.events) {
				t.Fatalf("%q: parseFast %+v, parseControl %+v (%v)", line, fast, req, err)
			}
		}
		if req.rate != 0 && req.rate != 8000 && req.rate != 16000 {
			t.Fatalf("%q: audio rate %d", line, req.rate)
		}
		if req.shm != "" && req.shm != "off" && (!strings.HasPrefix(req.shm, "/") || strings.ContainsAny(req.shm, " \t\r\n")) {
			t.Fatalf("%q: audio shm %q", line, req.shm)
		}
		if err != nil {
			if len(req.events) != 0 || req.status || req.rate != 0 || req.state || req.shm != "" {
				t.Fatalf("%q: error %v with a request", line, err)
			}
			if e := Text(err.Error()); strings.ContainsAny(e, "\n\r") {
				t.Fatalf("%q: error text %q breaks the line", line, e)
			}
			return
		}
		// Exactly one of: events, a status request, a replay, an audio
		// rate, a shared audio file.
		asks := 0
		for _, b := range []bool{len(req.events) > 0, req.status, req.state, req.rate != 0, req.shm != ""} {
			if b {
				asks++
			}
		}
		if asks != 1 {
			t.Fatalf("%q: status %v with %d events, rate %d", line, req.status, len(req.events), req.rate)
		}
		for _, e := range req.events {
			switch e.Kind {
			case hal.HookOff, hal.HookOn:
				if e.Key != "" {
					t.Fatalf("%q: hook event with key %q", line, e.Key)
				}
			case hal.KeyPress:
				if !ValidKey(e.Key) {
					t.Fatalf("%q: invalid key %q", line, e.Key)
				}
			default:
				t.Fatalf("%q: event kind %v", line, e.Kind)
			}
		}
	})
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"plain", "a\nb", "\xff\x00", "tab\there", "é\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Text(s), token(s)} {
			if strings.ContainsAny(out, "\n\r\x00") {
				t.Fatalf("%q -> %q keeps a control character", s, out)
			}
		}
		if strings.Contains(token(s), " ") || token(s) == "" {
			t.Fatalf("token(%q) = %q", s, token(s))
		}
	})
}
