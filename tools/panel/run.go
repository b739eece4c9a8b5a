package panel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/tools/panelclient"
	"github.com/deskphone/deskphone/tools/sound"
)

var anyLine = regexp.MustCompile(``)

// Attached is one phone the terminal panel drives.
type Attached struct {
	Name string // shown in the header, e.g. the extension
	C    *panelclient.Client
}

// SwitchKey moves the terminal panel to the next phone.
const SwitchKey = '\t'

// Options are the terminal panel's.
type Options struct {
	Width int // the display box's width
	// Sound, when set, carries the shown phone's audio to the host's
	// sound (tools/sound) and back; the screen shows its level bars.
	Sound *sound.Sound
}

// Run shows one of phones on out and sends what the person types on in (a
// terminal in raw mode) to it, Tab switching to the next, until they quit,
// in ends, a phone goes away or ctx ends. Every phone's lines are applied
// to its own model all the time, so a switch shows the phone as it is; the
// sound follows the phone shown.
func Run(ctx context.Context, phones []Attached, in io.Reader, out io.Writer, o Options) error {
	if len(phones) == 0 {
		return errors.New("panel: no phone")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	models := make([]*Model, len(phones))
	for i := range models {
		models[i] = NewModel()
	}
	var mu sync.Mutex // guards models, sel and out
	sel := 0
	redraw := func() {
		s := "\x1b[H\x1b[2J" + header(phones, sel)
		if o.Sound != nil {
			s += o.Sound.Levels() + "\x1b[K\r\n"
		}
		s += strings.ReplaceAll(models[sel].Screen(o.Width), "\n", "\x1b[K\r\n")
		io.WriteString(out, s)
	}
	attach := func() {
		if o.Sound != nil {
			o.Sound.Attach(phones[sel].C.ReadAudio, phones[sel].C.WriteAudio)
		}
	}
	mu.Lock()
	attach()
	redraw()
	mu.Unlock()
	if o.Sound != nil {
		defer o.Sound.Detach()
		go func() { // the level bars move
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					mu.Lock()
					redraw()
					mu.Unlock()
				}
			}
		}()
	}

	errc := make(chan error, len(phones)+1)
	for i, p := range phones {
		p.C.Send("status")
		go func() { // the phone's lines
			mark := 0
			for {
				if _, err := p.C.WaitAfter(ctx, mark, anyLine); err != nil {
					errc <- fmt.Errorf("%s: %w", p.Name, err)
					return
				}
				lines := p.C.Lines(mark)
				mark += len(lines)
				mu.Lock()
				stale := false
				for _, l := range lines {
					models[i].Apply(l)
					stale = stale || statusChanged(l)
				}
				if i == sel {
					redraw()
				}
				mu.Unlock()
				if stale {
					p.C.Send("status") // keeps the status line live
				}
			}
		}()
	}
	go func() { // the keyboard
		buf := make([]byte, 64)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				for _, chunk := range splitSwitch(buf[:n]) {
					mu.Lock()
					if chunk == nil { // Tab
						sel = (sel + 1) % len(phones)
						attach()
						redraw()
						mu.Unlock()
						continue
					}
					c := phones[sel].C
					lines := KeyLines(models[sel], chunk)
					mu.Unlock()
					for _, l := range lines {
						if l == Quit {
							errc <- nil
							return
						}
						if err := c.Send(l); err != nil {
							errc <- err
							return
						}
					}
					mu.Lock()
					redraw()
					mu.Unlock()
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				errc <- err
				return
			}
		}
	}()
	select {
	case err := <-errc:
		if ctx.Err() != nil {
			return nil
		}
		return err
	case <-ctx.Done():
		return nil
	}
}

// splitSwitch splits keyboard input at each SwitchKey: the keys between
// (non-nil) and a nil chunk for each switch, in order.
func splitSwitch(in []byte) [][]byte {
	var out [][]byte
	for {
		i := strings.IndexByte(string(in), SwitchKey)
		if i < 0 {
			if len(in) > 0 {
				out = append(out, in)
			}
			return out
		}
		if i > 0 {
			out = append(out, in[:i])
		}
		out = append(out, nil)
		in = in[i+1:]
	}
}

// header names the phones, the shown one in brackets, when there are
// several.
func header(phones []Attached, sel int) string {
	if len(phones) < 2 {
		return ""
	}
	var b strings.Builder
	b.WriteString("phones:")
	for i, p := range phones {
		if i == sel {
			b.WriteString(" [" + p.Name + "]")
		} else {
			b.WriteString("  " + p.Name + " ")
		}
	}
	b.WriteString("   Tab: next phone\x1b[K\r\n")
	return b.String()
}

// statusChanged reports whether a line from the phone changes what its
// status answer says (registration, phone state, calls).
func statusChanged(l string) bool {
	return strings.HasPrefix(l, "phone ") || strings.HasPrefix(l, "reg ") || strings.HasPrefix(l, "call ")
}
