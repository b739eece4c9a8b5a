package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/deskphone/deskphone/firmware/hardware"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/hal/panel"
)

// front is what a person touches, sees and hears on a board: the virtual
// panel of the qemu and sim boards, or a hardware board's keypad, hook,
// ringer, lamps and codec.
type front struct {
	in        hal.Input
	out       hal.Observer
	codec     hal.Codec
	setStatus func(func([]byte) []byte) // the panel's status answer (appended); nil on hardware
	close     func()                    // idempotent
}

// openFront opens the board's front: on the sim board the panel listens on
// o.Panel; on the qemu board it opens the virtio-serial ports first, so that
// a person sees the boot (without them the phone runs headless); a hardware
// board starts its hal through firmware/hardware, each part logging loaded
// or failed.
func openFront(ctx context.Context, o Options, step func(string, ...any)) (front, error) {
	if !o.Board.Panel {
		hw, err := hardware.New(o.Board, hardware.Options{Logf: o.Logf})
		if err == nil {
			err = hw.Start(ctx)
		}
		if err != nil {
			if hw != nil {
				hw.Close()
			}
			return front{}, fmt.Errorf("app: board %s: %w", o.Board.Name, err)
		}
		step("hardware of board %s started", o.Board.Name)
		return front{in: hw, out: hw, codec: hw.Codec(), close: onceFunc(func() { hw.Close() })}, nil
	}
	pnl := panel.New(o.Board.Name, o.Version)
	f := front{in: pnl, out: pnl, codec: pnl, setStatus: pnl.AppendStatusWith, close: onceFunc(func() { pnl.Close() })}
	if o.Board.Name == "sim" {
		if err := pnl.Listen(o.Panel); err != nil {
			return front{}, fmt.Errorf("app: panel: %w", err)
		}
		step("virtual panel on %s", o.Panel)
		return f, nil
	}
	if err := pnl.OpenVirtio(); err != nil {
		step("virtual panel: %v; the phone runs without a panel", err)
	} else {
		step("virtual panel on virtio-serial")
	}
	return f, nil
}

func onceFunc(f func()) func() {
	var once sync.Once
	return func() { once.Do(f) }
}
