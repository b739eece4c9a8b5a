package alsa

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnsupported is returned on targets without ALSA support here.
var ErrUnsupported = errors.New("alsa: not supported on this platform")

// Device is a parsed "hw:" PCM name.
type Device struct {
	Card      string // card index ("0") or id ("Loopback")
	Device    int
	Subdevice int // -1: the first free one
}

// ParseDevice parses "hw:CARD=id,DEV=n[,SUBDEV=m]", "hw:id[,n[,m]]" or
// "hw:n[,n[,m]]".
func ParseDevice(name string) (Device, error) {
	rest, ok := strings.CutPrefix(name, "hw:")
	if !ok || rest == "" {
		return Device{}, fmt.Errorf("alsa: device %q: want hw:CARD[,DEV[,SUBDEV]]", name)
	}
	d := Device{Subdevice: -1}
	parts := strings.Split(rest, ",")
	if len(parts) > 3 {
		return Device{}, fmt.Errorf("alsa: device %q: too many fields", name)
	}
	for i, p := range parts {
		key, val, named := strings.Cut(p, "=")
		if !named {
			val = p
			key = [...]string{"CARD", "DEV", "SUBDEV"}[i]
		}
		switch key {
		case "CARD":
			if val == "" || strings.ContainsAny(val, " /") {
				return Device{}, fmt.Errorf("alsa: device %q: bad card %q", name, val)
			}
			d.Card = val
		case "DEV", "SUBDEV":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 255 {
				return Device{}, fmt.Errorf("alsa: device %q: bad %s %q", name, key, val)
			}
			if key == "DEV" {
				d.Device = n
			} else {
				d.Subdevice = n
			}
		default:
			return Device{}, fmt.Errorf("alsa: device %q: unknown field %q", name, key)
		}
	}
	if d.Card == "" {
		return Device{}, fmt.Errorf("alsa: device %q: no card", name)
	}
	return d, nil
}

// CardIndex resolves a card index or id against the contents of
// /proc/asound/cards (lines such as " 0 [Loopback       ]: Loopback - Loopback").
func CardIndex(card string, procCards []byte) (int, error) {
	if n, err := strconv.Atoi(card); err == nil {
		if n < 0 || n > 31 {
			return 0, fmt.Errorf("alsa: card %d out of range", n)
		}
		return n, nil
	}
	sc := bufio.NewScanner(strings.NewReader(string(procCards)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		num, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, "[") {
			continue
		}
		id, _, ok := strings.Cut(rest[1:], "]")
		if ok && strings.TrimSpace(id) == card {
			return n, nil
		}
	}
	return 0, fmt.Errorf("alsa: no sound card %q", card)
}

// Path returns the device node of card index n in direction capture or
// playback.
func (d Device) Path(card int, capture bool) string {
	c := byte('p')
	if capture {
		c = 'c'
	}
	return fmt.Sprintf("/dev/snd/pcmC%dD%d%c", card, d.Device, c)
}
