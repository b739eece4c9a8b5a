// Command run is `make run`: the development PBX and one phone (or more)
// booted in QEMU, with the terminal panel attached to every phone (Tab
// switches between them).
//
//	go run ./tools/cmd/run                     # PBX on 127.0.0.1:5060, phone 1001 in QEMU
//	go run ./tools/cmd/run -phones 1001,1002   # two phones; Tab switches the panel between them
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/panel"
	"github.com/deskphone/deskphone/tools/panelclient"
	"github.com/deskphone/deskphone/tools/sound"
)

func main() {
	phones := flag.String("phones", "1001", "comma-separated extensions, one phone each (1001-1010)")
	listen := flag.String("pbx", "127.0.0.1:5060", "the development PBX's UDP address")
	board := flag.String("board", "qemu", "where the phones run: qemu or sim")
	dir := flag.String("dir", "", "work folder: configs, consoles, sockets (default: a new temporary one)")
	webPassword := flag.String("web-password", "admin", "every phone's admin.password: the password of its web page")
	var so sound.Options
	sound.Flags(flag.CommandLine, &so)
	flag.Parse()
	if err := run(strings.Split(*phones, ","), *listen, *board, *dir, *webPassword, so); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		os.Exit(1)
	}
}

func run(exts []string, listen, board, dir, webPassword string, so sound.Options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dir == "" {
		d, err := os.MkdirTemp("", "deskphone-run-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	logFile, err := os.Create(filepath.Join(dir, "run.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	logf := func(format string, args ...any) {
		fmt.Fprintf(logFile, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}

	fmt.Printf("Building the firmware and booting %d phone(s) in %s; PBX on %s ...\n", len(exts), board, listen)
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	l, err := lab.Start(sctx, lab.Options{
		Board: lab.Board(board), Exts: exts, Dir: dir, PBXListen: listen,
		Console: logFile, Logf: logf, SharedPanels: true, WebPassword: webPassword,
	})
	cancel()
	if err != nil {
		return err
	}
	defer l.Close()

	fmt.Printf("\nDevelopment PBX: %s, extensions 1001-1010, password pw+extension (1001: pw1001).\n", l.PBX.Addr())
	for _, ph := range l.Phones {
		fmt.Printf("Phone %s: panel %s, SIP on host port %d\n", ph.Ext, ph.PanelAddr, ph.SIPPort)
		if ph.WebURL != "" {
			fmt.Printf("  web page: %s/ (password %s; the certificate is the phone's own, self-signed: accept it)\n", ph.WebURL, webPassword)
		}
	}
	fmt.Printf("Consoles and the PBX log: %s\n", filepath.Join(dir, "run.log"))
	fmt.Printf("Any number of panels can attach to a phone, now or later: go run ./tools/cmd/panel -panel ADDRESS\n")
	// The shown phone's audio on the host's sound (PulseAudio or PipeWire
	// when found; -sound, -mic, -record).
	snd, err := sound.FromOptions(so)
	if err != nil {
		return err
	}
	if snd != nil {
		defer snd.Close()
		fmt.Printf("Sound: %s\n", snd.Levels())
	} else {
		fmt.Printf("Sound: none (no PulseAudio or PipeWire server found; -sound alsa:hw:0,0, -mic FILE.wav, -record FILE.wav)\n")
	}

	// The terminal is one more client of each phone's shared panel: the
	// lab keeps its own, so attaching and detaching end nothing.
	for {
		fmt.Printf("\nPress Enter to attach the terminal panel (Tab switches between phones, q detaches); Ctrl-C ends the run ...")
		entered := make(chan struct{})
		go func() {
			buf := make([]byte, 1)
			os.Stdin.Read(buf)
			close(entered)
		}()
		select {
		case <-ctx.Done():
			fmt.Println()
			return nil
		case <-entered:
		}
		if err := attach(ctx, l.Phones, snd); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// attach runs the terminal panel on every phone until the person detaches.
func attach(ctx context.Context, lphones []*lab.Phone, snd *sound.Sound) error {
	var phones []panel.Attached
	for _, ph := range lphones {
		c, err := panelclient.Dial(ctx, ph.PanelAddr)
		if err != nil {
			return err
		}
		defer c.Close()
		phones = append(phones, panel.Attached{Name: ph.Ext, C: c})
	}
	err := panel.Terminal(ctx, phones, os.Stdin, os.Stdout, snd)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
