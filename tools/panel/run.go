package panel

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/deskphone/deskphone/tools/panelclient"
)

var anyLine = regexp.MustCompile(``)

// Run shows the phone behind c on out and sends what the person types on in
// (a terminal in raw mode) until they quit, in ends, the phone goes away or
// ctx ends. width is the display box's width.
func Run(ctx context.Context, c *panelclient.Client, in io.Reader, out io.Writer, width int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := NewModel()
	var mu sync.Mutex // guards m and out
	redraw := func() {
		s := "\x1b[H\x1b[2J" + strings.ReplaceAll(m.Screen(width), "\n", "\x1b[K\r\n")
		io.WriteString(out, s)
	}
	mu.Lock()
	redraw()
	mu.Unlock()
	c.Send("status")

	errc := make(chan error, 2)
	go func() { // the phone's lines
		mark := 0
		for {
			if _, err := c.WaitAfter(ctx, mark, anyLine); err != nil {
				errc <- err
				return
			}
			lines := c.Lines(mark)
			mark += len(lines)
			mu.Lock()
			for _, l := range lines {
				m.Apply(l)
			}
			redraw()
			mu.Unlock()
		}
	}()
	go func() { // the keyboard
		buf := make([]byte, 64)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				mu.Lock()
				lines := KeyLines(m, buf[:n])
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
