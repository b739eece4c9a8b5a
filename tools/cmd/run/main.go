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
	"sync"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/panel"
	"github.com/deskphone/deskphone/tools/panelclient"
	"github.com/deskphone/deskphone/tools/pbx"
	"github.com/deskphone/deskphone/tools/sound"
)

func main() {
	phones := flag.String("phones", "1001", "comma-separated extensions, one phone each (1001-1010)")
	listen := flag.String("pbx", "127.0.0.1:5060", "the development PBX's UDP address")
	board := flag.String("board", "qemu", "where the phones run: qemu or sim")
	dir := flag.String("dir", "", "run folder: configs, consoles, the PBX's ladder and voicemail, sockets; kept after the run (default: a new $TMPDIR/deskphone-run-YYYYMMDD-HHMMSS)")
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
		Console: logFile, Logf: logf, Trace: trace.add, SharedPanels: true, WebPassword: webPassword,
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
		if ph.WebURL != "" {
			fmt.Printf("  web page: %s/ (password %s; the certificate is the phone's own, self-signed: accept it)\n", ph.WebURL, webPassword)
		}
	}
	fmt.Printf("Consoles: %s (and console-EXT.log); the PBX's ladder: %s\n", filepath.Join(dir, "run.log"), filepath.Join(dir, "ladder.txt"))
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
