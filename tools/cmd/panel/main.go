// Command panel is the terminal panel: it shows a phone's display, lamps,
// ringer and call state and works its keys and hook from the keyboard,
// through the phone's virtual panel, and carries its audio to the host's
// sound (tools/sound).
//
//	panel -panel unix:/tmp/phone1/p.sock
//	panel -panel tcp:127.0.0.1:7000 -sound none -mic hello.wav -record ear.wav
//
// WAV files are 16-bit mono at the panel's rate (8000 samples/s).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/deskphone/deskphone/tools/panel"
	"github.com/deskphone/deskphone/tools/panelclient"
	"github.com/deskphone/deskphone/tools/sound"
)

func main() {
	addr := flag.String("panel", "unix:/tmp/phone/p.sock", "the phone's panel: unix:/path or tcp:host:port")
	var so sound.Options
	sound.Flags(flag.CommandLine, &so)
	wait := flag.Duration("wait", time.Minute, "how long to wait for the phone to come up")
	flag.Parse()
	if err := run(*addr, so, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "panel:", err)
		os.Exit(1)
	}
}

func run(addr string, so sound.Options, wait time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	snd, err := sound.FromOptions(so)
	if err != nil {
		return err
	}
	if snd != nil {
		defer snd.Close()
	}
	fmt.Fprintf(os.Stderr, "waiting for the phone at %s ...\n", addr)
	dctx, cancel := context.WithTimeout(ctx, wait)
	c, err := panelclient.Dial(dctx, addr)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	err = panel.Terminal(ctx, []panel.Attached{{Name: addr, C: c}}, os.Stdin, os.Stdout, snd)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
