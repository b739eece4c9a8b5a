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
	"sync"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/panel"
	"github.com/deskphone/deskphone/tools/pbx"
)

func main() {
	phones := flag.String("phones", "1001", "comma-separated extensions, one phone each (1001-1010)")
	listen := flag.String("pbx", "127.0.0.1:5060", "the development PBX's UDP address")
	board := flag.String("board", "qemu", "where the phones run: qemu or sim")
	dir := flag.String("dir", "", "run folder: configs, consoles, the PBX's ladder and voicemail, sockets; kept after the run (default: a new $TMPDIR/deskphone-run-YYYYMMDD-HHMMSS)")
	flag.Parse()
	if err := run(strings.Split(*phones, ","), *listen, *board, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		os.Exit(1)
	}
}

func run(exts []string, listen, board, dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The run folder stays after the run: the consoles, the PBX's ladder
	// and its voicemail say why a call failed.
	dir, err := runDir(dir)
	if err != nil {
		return err
	}
	fmt.Printf("Run folder (kept): %s\n", dir)
	// What the run built is not worth keeping (tens of MB a run).
	defer func() {
		for _, f := range []string{"phoned-host", "phoned-arm64", "initrd.gz"} {
			os.Remove(filepath.Join(dir, f))
		}
	}()
	defer fmt.Printf("\nThe run's consoles (console-EXT.log, run.log), the PBX's SIP ladder (ladder.txt, every message whole in sip.txt) and voicemail (voicemail/EXT/new) are in %s\n", dir)
	logFile, err := os.Create(filepath.Join(dir, "run.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	logf := func(format string, args ...any) {
		fmt.Fprintf(logFile, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}
	trace, err := ladderFiles(dir)
	if err != nil {
		return err
	}
	defer trace.close()

	fmt.Printf("Building the firmware and booting %d phone(s) in %s; PBX on %s ...\n", len(exts), board, listen)
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	l, err := lab.Start(sctx, lab.Options{
		Board: lab.Board(board), Exts: exts, Dir: dir, PBXListen: listen,
		Console: logFile, Logf: logf, Trace: trace.add,
		VoicemailDir: filepath.Join(dir, "voicemail"),
	})
	cancel()
	if err != nil {
		return err
	}
	defer l.Close()

	fmt.Printf("\nDevelopment PBX: %s, extensions 1001-1010, password pw+extension (1001: pw1001); voicemail %s (the vm key), %s*EXT leaves a message for EXT.\n",
		l.PBX.Addr(), l.PBX.VoicemailNumber(), l.PBX.VoicemailNumber())
	for _, ph := range l.Phones {
		fmt.Printf("Phone %s: panel %s, SIP on host port %d\n", ph.Ext, ph.PanelAddr, ph.SIPPort)
	}
	if len(l.Phones) > 1 {
		fmt.Printf("Attach to another phone from a second terminal: go run ./tools/cmd/panel -panel %s\n", l.Phones[1].PanelAddr)
	}
	fmt.Printf("Consoles: %s (and console-EXT.log); the PBX's ladder: %s\n\nPress Enter to attach the terminal panel to %s (q quits)...",
		filepath.Join(dir, "run.log"), filepath.Join(dir, "ladder.txt"), exts[0])
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

// runDir makes the run folder: dir when given, else
// $TMPDIR/deskphone-run-YYYYMMDD-HHMMSS (with -2, -3, ... when a run of
// the same second has it).
func runDir(dir string) (string, error) {
	if dir != "" {
		return dir, os.MkdirAll(dir, 0o755)
	}
	base := filepath.Join(os.TempDir(), "deskphone-run-"+time.Now().Format("20060102-150405"))
	dir = base
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil || !errors.Is(err, os.ErrExist) || i > 100 {
			return dir, err
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

// ladderLog writes the PBX's ladder as it happens: one line per message
// in ladder.txt, and each message whole after its line in sip.txt.
type ladderLog struct {
	mu          sync.Mutex
	ladder, sip *os.File
}

func ladderFiles(dir string) (*ladderLog, error) {
	l := &ladderLog{}
	var err error
	if l.ladder, err = os.Create(filepath.Join(dir, "ladder.txt")); err != nil {
		return nil, err
	}
	if l.sip, err = os.Create(filepath.Join(dir, "sip.txt")); err != nil {
		l.ladder.Close()
		return nil, err
	}
	return l, nil
}

func (l *ladderLog) add(e pbx.Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := e.String()
	fmt.Fprintln(l.ladder, line)
	fmt.Fprintf(l.sip, "%s\n%s\n\n", line, strings.TrimRight(string(e.Raw), "\r\n"))
}

func (l *ladderLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ladder.Close()
	l.sip.Close()
}
