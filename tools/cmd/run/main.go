// Command run is `make run`: the development PBX and one phone (or more)
// booted in QEMU, with the terminal panel attached to the first phone.
//
//	go run ./tools/cmd/run                     # PBX on 127.0.0.1:5060, phone 1001 in QEMU
//	go run ./tools/cmd/run -phones 1001,1002   # two phones; the panel shows 1001
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
)

func main() {
	phones := flag.String("phones", "1001", "comma-separated extensions, one phone each (1001-1010)")
	listen := flag.String("pbx", "127.0.0.1:5060", "the development PBX's UDP address")
	board := flag.String("board", "qemu", "where the phones run: qemu or sim")
	dir := flag.String("dir", "", "work folder: configs, consoles, sockets (default: a new temporary one)")
	webPassword := flag.String("web-password", "admin", "every phone's admin.password: the password of its web page")
	flag.Parse()
	if err := run(strings.Split(*phones, ","), *listen, *board, *dir, *webPassword); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		os.Exit(1)
	}
}

func run(exts []string, listen, board, dir, webPassword string) error {
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
		Console: logFile, Logf: logf, WebPassword: webPassword,
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
	if len(l.Phones) > 1 {
		fmt.Printf("Attach to another phone from a second terminal: go run ./tools/cmd/panel -panel %s\n", l.Phones[1].PanelAddr)
	}
	fmt.Printf("Consoles and the PBX log: %s\n\nPress Enter to attach the terminal panel to %s (q quits)...", filepath.Join(dir, "run.log"), exts[0])
	buf := make([]byte, 1)
	os.Stdin.Read(buf)

	first := l.Phones[0]
	// The terminal takes over the first phone's panel connection: a new
	// client replaces the old one (panel.md), so it keeps the lab's.
	err = panel.Terminal(ctx, first.Panel, os.Stdin, os.Stdout)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
