// Command panel is the terminal panel: it shows a phone's display, lamps,
// ringer and call state and works its keys and hook from the keyboard,
// through the phone's virtual panel.
//
//	panel -panel unix:/tmp/phone1/p.sock
//	panel -panel tcp:127.0.0.1:7000 -audio-in hello.raw -audio-out ear.raw
//
// Audio files are raw s16le mono at 8000 samples/s.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/deskphone/deskphone/tools/panel"
	"github.com/deskphone/deskphone/tools/panelclient"
)

func main() {
	addr := flag.String("panel", "unix:/tmp/phone/p.sock", "the phone's panel: unix:/path or tcp:host:port")
	audioIn := flag.String("audio-in", "", "play this raw s16le 8 kHz file into the microphone")
	audioOut := flag.String("audio-out", "", "record the earpiece into this raw s16le 8 kHz file")
	wait := flag.Duration("wait", time.Minute, "how long to wait for the phone to come up")
	flag.Parse()
	if err := run(*addr, *audioIn, *audioOut, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "panel:", err)
		os.Exit(1)
	}
}

func run(addr, audioIn, audioOut string, wait time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Fprintf(os.Stderr, "waiting for the phone at %s ...\n", addr)
	dctx, cancel := context.WithTimeout(ctx, wait)
	c, err := panelclient.Dial(dctx, addr)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()

	if audioIn != "" {
		f, err := os.Open(audioIn)
		if err != nil {
			return err
		}
		defer f.Close()
		go c.Play(ctx, func(frame []int16) bool {
			return binary.Read(f, binary.LittleEndian, frame) == nil
		})
	}
	if audioOut != "" {
		f, err := os.Create(audioOut)
		if err != nil {
			return err
		}
		defer f.Close()
		go c.RecordFunc(time.Now().Add(24*time.Hour), func(s []int16) {
			binary.Write(f, binary.LittleEndian, s)
		})
	}

	err = panel.Terminal(ctx, []panel.Attached{{Name: addr, C: c}}, os.Stdin, os.Stdout)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
