package panel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/deskphone/deskphone/hal"
)

// Version is the panel protocol version announced in the ready line.
const Version = "panel/4"

// namedKeys are the named keys of panel.md, besides 0-9, * and #.
var namedKeys = map[string]bool{
	"send": true, "hold": true, "transfer": true, "conf": true, "redial": true,
	"dnd": true, "fwd": true, "vm": true, "mute": true, "speaker": true,
	"line1": true, "line2": true, "line3": true, "line4": true,
	"ok": true, "cancel": true, "up": true, "down": true,
	"volup": true, "voldown": true,
}

// ValidKey reports whether k is a key of panel.md: "0"-"9", "*", "#" or a
// named key such as "send" or "voldown".
func ValidKey(k string) bool {
	if len(k) == 1 && isDigit(k[0]) {
		return true
	}
	return namedKeys[k]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' || c == '*' || c == '#' }

// request is one parsed control line from a client.
type request struct {
	events []hal.Event // to deliver to the phone, in order
	status bool        // answer with a status line
	state  bool        // replay the state (panel/3)
	rate   int         // "audio rate R" (panel/3): the audio stream's rate asked for; 0: none
	shm    string      // "audio shm PATH|off" (panel/4): the shared audio file, or "off"; "": none
}

// maxDial bounds the digits of one dial line.
const maxDial = 64

var errEmpty = errors.New("empty line")

// keyNames maps each key of panel.md to its name, so that a key read from
// a line is a string made once (parseFast).
var keyNames = func() map[string]string {
	m := make(map[string]string, len(namedKeys)+12)
	for k := range namedKeys {
		m[k] = k
	}
	for _, d := range "0123456789*#" {
		m[string(d)] = string(d)
	}
	return m
}()

// parseFast parses the usual control lines exactly as parseControl does,
// without an allocation: "hook off", "hook on", "status", "key K" and
// "dial DIGITS" written the canonical way (single spaces). The events are
// put in buf. ok is false for any other line: parseControl reads it.
func parseFast(line []byte, buf *[maxDial + 1]hal.Event) (req request, ok bool) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	switch string(line) { // compared in place: no copy
	case "hook off":
		buf[0] = hal.Event{Kind: hal.HookOff}
		return request{events: buf[:1]}, true
	case "hook on":
		buf[0] = hal.Event{Kind: hal.HookOn}
		return request{events: buf[:1]}, true
	case "status":
		return request{status: true}, true
	case "state":
		return request{state: true}, true
	}
	switch {
	case len(line) > 4 && string(line[:4]) == "key ":
		name, ok := keyNames[string(line[4:])] // looked up in place
		if !ok {
			return request{}, false
		}
		buf[0] = hal.Event{Kind: hal.KeyPress, Key: name}
		return request{events: buf[:1]}, true
	case len(line) > 5 && string(line[:5]) == "dial ":
		d := line[5:]
		if len(d) > maxDial {
			return request{}, false
		}
		for i, c := range d {
			if !isDigit(c) {
				return request{}, false
			}
			buf[i] = hal.Event{Kind: hal.KeyPress, Key: keyNames[string(d[i:i+1])]}
		}
		buf[len(d)] = hal.Event{Kind: hal.KeyPress, Key: "send"}
		return request{events: buf[:len(d)+1]}, true
	}
	return request{}, false
}

// parseControl parses one control line (without its newline) of panel.md.
// The error text is what follows "error " in the reply.
func parseControl(line string) (request, error) {
	line = strings.TrimSuffix(line, "\r")
	f := strings.Fields(line)
	if len(f) == 0 {
		return request{}, errEmpty
	}
	switch f[0] {
	case "hook":
		if len(f) != 2 {
			return request{}, errors.New("usage: hook off|on")
		}
		switch f[1] {
		case "off":
			return request{events: []hal.Event{{Kind: hal.HookOff}}}, nil
		case "on":
			return request{events: []hal.Event{{Kind: hal.HookOn}}}, nil
		}
		return request{}, fmt.Errorf("bad hook state %s", quote(f[1]))
	case "key":
		if len(f) != 2 {
			return request{}, errors.New("usage: key K")
		}
		if !ValidKey(f[1]) {
			return request{}, fmt.Errorf("bad key %s", quote(f[1]))
		}
		return request{events: []hal.Event{{Kind: hal.KeyPress, Key: f[1]}}}, nil
	case "dial":
		if len(f) != 2 {
			return request{}, errors.New("usage: dial DIGITS")
		}
		d := f[1]
		if len(d) > maxDial {
			return request{}, fmt.Errorf("dial: more than %d digits", maxDial)
		}
		ev := make([]hal.Event, 0, len(d)+1)
		for i := 0; i < len(d); i++ {
			if !isDigit(d[i]) {
				return request{}, fmt.Errorf("dial: bad digit %s", quote(d[i:i+1]))
			}
			ev = append(ev, hal.Event{Kind: hal.KeyPress, Key: d[i : i+1]})
		}
		ev = append(ev, hal.Event{Kind: hal.KeyPress, Key: "send"})
		return request{events: ev}, nil
	case "status":
		if len(f) != 1 {
			return request{}, errors.New("usage: status")
		}
		return request{status: true}, nil
	case "state":
		if len(f) != 1 {
			return request{}, errors.New("usage: state")
		}
		return request{state: true}, nil
	case "audio":
		// panel/3: the client asks for the audio stream's rate; panel/4:
		// for its shared audio file, or the socket again.
		switch {
		case len(f) == 3 && f[1] == "rate" && (f[2] == "8000" || f[2] == "16000"):
			r, _ := strconv.Atoi(f[2])
			return request{rate: r}, nil
		case len(f) == 3 && f[1] == "shm" && (f[2] == "off" || strings.HasPrefix(f[2], "/")):
			return request{shm: f[2]}, nil
		case len(f) >= 2 && f[1] == "shm":
			return request{}, errors.New("usage: audio shm /PATH|off")
		}
		return request{}, errors.New("usage: audio rate 8000|16000")
	}
	return request{}, fmt.Errorf("unknown command %s", quote(f[0]))
}

// quote makes s printable and short, for an error line.
func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return strconv.Quote(s)
}

// Text cleans s for the free text at the end of a line (peer, display, log):
// valid UTF-8, no control characters (each becomes a space), so a line stays
// one line.
func Text(s string) string {
	if isClean(s, false) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// token cleans s for a one-word field (state, name, cadence): as Text, and
// spaces become '_'; an empty word becomes "-".
func token(s string) string {
	if s == "" {
		return "-"
	}
	if isClean(s, true) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, s)
}

// appendText appends text to b cleaned as Text does; clean text (the
// usual) is copied without an allocation.
func appendText(text, b []byte) []byte {
	if isCleanBytes(text) {
		return append(b, text...)
	}
	return append(b, Text(string(text))...)
}

// cleanTail cleans b[from:] as Text does, in place when it is clean.
func cleanTail(b []byte, from int) []byte {
	if isCleanBytes(b[from:]) {
		return b
	}
	t := Text(string(b[from:]))
	return append(b[:from], t...)
}

// isCleanBytes is isClean for text as bytes: printable ASCII is clean at
// once, the rest is looked at as a string (a copy).
func isCleanBytes(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return isClean(string(b), false)
		}
	}
	return true
}

func isClean(s string, noSpace bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || noSpace && c == ' ' {
			if c >= 0x80 {
				return isCleanSlow(s, noSpace)
			}
			return false
		}
	}
	return true
}

func isCleanSlow(s string, noSpace bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || noSpace && unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
