// Command phoned is the desk phone's firmware: one static binary that runs as
// PID 1 on a phone (or in QEMU), or as a process on a PC with the sim board.
//
//	phoned                                  # as /init: board from the device tree's model
//	phoned -board sim -config phone.cfg -panel unix:/tmp/p.sock
//	phoned -board sim -tftp 127.0.0.1:6969 -mac 52:54:00:12:34:56 -panel unix:/tmp/p.sock
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/app"
	"github.com/deskphone/deskphone/firmware/boot"
	"github.com/deskphone/deskphone/firmware/diag"
	"github.com/deskphone/deskphone/firmware/provision"
	"github.com/deskphone/deskphone/firmware/update"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	started := time.Now()
	oneProcessor()
	boardName := flag.String("board", "", "board: qemu, sim, rpi3b, rpi4b, rpizero2w (default: from the device tree; qemu when PID 1)")
	cfgFile := flag.String("config", "", "configuration file (sim board)")
	panelAddr := flag.String("panel", "unix:/tmp/phoned.sock", "virtual panel address (sim board): unix:PATH or tcp:HOST:PORT")
	bindIP := flag.String("bind", "127.0.0.1", "local address for SIP and RTP (sim board)")
	slotName := flag.String("slot", "", "the A/B slot this phoned runs from (set by the boot loader)")
	tftp := flag.String("tftp", "", "TFTP server host:port to provision from instead of -config (sim board; needs -mac)")
	macFlag := flag.String("mac", "", "the phone's MAC, naming its own file on the -tftp server (sim board)")
	flag.Parse()

	// Every line goes through the phone's Log: the console as before
	// ("phoned: 15:04:05.000000 ..."), the recent-log ring of the web
	// page, and syslog once log.syslog is read (firmware/diag).
	logs := diag.NewLog(diag.LogConfig{Console: os.Stderr, Prefix: "phoned: "})
	log.SetFlags(0)
	log.SetPrefix("")
	log.SetOutput(logs)
	running := update.Factory
	if *slotName != "" {
		s, err := update.ParseSlot(*slotName)
		if err != nil {
			fail(err)
		}
		running = s
	}
	if boot.IsPID1() {
		// As init: the file systems first, the board is read from /proc.
		if err := boot.MountEssentials(log.Printf); err != nil {
			log.Printf("mounting file systems failed: %v; the phone goes on without them", err)
		}
		// An image for real hardware carries its drivers as modules (the
		// Pi's sound card, I2C, network); the QEMU image has none.
		if _, err := os.Stat(boot.ModulesDir + "/modules.load"); err == nil {
			if _, err := boot.LoadModules(boot.ModulesDir, log.Printf); err != nil {
				log.Printf("some kernel modules failed (above); the phone goes on with the rest")
			}
		}
	}
	board, err := pickBoard(*boardName)
	if err != nil {
		fail(err)
	}
	var mac net.HardwareAddr
	if *macFlag != "" {
		if mac, err = net.ParseMAC(*macFlag); err != nil {
			fail(err)
		}
	}
	log.Printf("deskphone %s on board %s", version, board.Name)
	var fw *update.Updater
	notice := ""
	if board.Name != "sim" && board.StateDevice != "" {
		fw, notice = firmware(board, running)
	}
	if boot.IsPID1() {
		go boot.ReapChildren() // after the boot loader: it waits for its child itself
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = app.Run(ctx, app.Options{
		Board: board, Version: version, ConfigFile: *cfgFile, Panel: *panelAddr,
		BindIP: *bindIP, Logf: log.Printf, Log: logs, Started: started, TFTP: *tftp, MAC: mac,
		Firmware: fw, Notice: notice,
	})
	if errors.Is(err, update.ErrRestart) {
		if !boot.IsPID1() {
			os.Exit(0) // the boot loader starts what the record names now
		}
		err = provision.Restart() // the boot loader, from a fresh start
	}
	if err != nil {
		fail(err)
	}
}

// firmware opens the board's A/B slots (docs/DESIGN.md, "Firmware
// updates"). As PID 1 this phoned is the factory image and the boot
// loader: when the boot record names a slot, it runs that slot's phoned
// as its child for as long as the record does, and returns only when the
// factory image is to run, here. It returns the updater of the running
// phone (nil: no slots) and the last rollback's note, to show.
func firmware(board boards.Board, running update.Slot) (*update.Updater, string) {
	dev, _, err := update.OpenDevice(board.StateDevice) // open for the process's lifetime
	if err != nil {
		log.Printf("firmware: %v; no A/B updates", err)
		return nil, ""
	}
	if boot.IsPID1() && running == update.Factory {
		l := &update.Loader{
			Dev: dev, FactoryVersion: version, RunDir: "/run/deskphone",
			Args: []string{"-board", board.Name}, Start: boot.StartChild, Logf: log.Printf,
		}
		l.Run() // returns when the factory image is to run
	}
	u := &update.Updater{Dev: dev, Running: running, Version: version, Arch: runtime.GOARCH, Logf: log.Printf}
	note := u.Note()
	if note != "" {
		log.Printf("firmware: %s", note)
	}
	return u, note
}

func pickBoard(name string) (boards.Board, error) {
	if name != "" {
		b, ok := boards.ByName(name)
		if !ok {
			return boards.Board{}, fmt.Errorf("unknown board %q", name)
		}
		return b, nil
	}
	if raw, err := os.ReadFile("/proc/device-tree/model"); err == nil {
		model := strings.TrimRight(string(raw), "\x00\n")
		if b, ok := boards.ByModel(model); ok {
			log.Printf("board %s picked by the device tree's model %q", b.Name, model)
			return b, nil
		}
		// Guessing would drive the wrong pins: refuse, and say what is known.
		var known []string
		for _, b := range boards.All() {
			if b.Model != "" {
				known = append(known, fmt.Sprintf("%q (%s)", b.Model, b.Name))
			}
		}
		return boards.Board{}, fmt.Errorf("the device tree's model %q is no board this firmware knows: %s; give -board", model, strings.Join(known, ", "))
	}
	if boot.IsPID1() {
		b, _ := boards.ByName("qemu")
		return b, nil
	}
	return boards.Board{}, fmt.Errorf("no -board given and the device tree names none")
}

// oneProcessor runs the phone's goroutines on one processor (P) unless
// GOMAXPROCS says otherwise. A phone's work is one call's frame tick and
// the SIP that steers it, never enough to keep two cores busy; with a P
// per core the scheduler wakes an idle M to steal every goroutine made
// runnable, and each P keeps its own caches. On one P, the sim phone in
// make perf wakes about 6 times a second idle instead of 15-17, and its
// anonymous memory is 0.3 MB smaller. Blocking system calls still get
// threads of their own, so a slow flash write never stalls the audio.
func oneProcessor() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// fail reports a fatal error. As PID 1 the phone must not exit (the kernel
// would panic): it says so and restarts itself after a pause.
func fail(err error) {
	log.Printf("fatal: %v", err)
	if boot.IsPID1() {
		log.Printf("restarting in 5 s")
		time.Sleep(5 * time.Second)
		boot.Reboot()
	}
	os.Exit(1)
}
