package panel

import (
	"context"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/deskphone/deskphone/tools/sound"
)

// Terminal runs the terminal panel for phones on a person's terminal: when
// in is a terminal it is put in raw mode (and restored on return), and the
// display box fits out's width. Otherwise it is Run with a 40-column box.
func Terminal(ctx context.Context, phones []Attached, in io.Reader, out io.Writer, snd *sound.Sound) error {
	width := 40
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		old, err := term.MakeRaw(int(f.Fd()))
		if err != nil {
			return err
		}
		defer term.Restore(int(f.Fd()), old)
	}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			width = min(max(w-2, 24), 60)
		}
		io.WriteString(out, "\x1b[?25l")           // hide the cursor
		defer io.WriteString(out, "\x1b[?25h\r\n") // and show it again
	}
	return Run(ctx, phones, in, out, Options{Width: width, Sound: snd})
}
