// Command phoned is the desk phone's firmware: one static binary that runs as
// PID 1 on a phone (or in QEMU), or as a process on a PC with the sim board.
//
//	phoned                                  # as /init: board from the device tree's model
//	phoned -board sim -config phone.cfg -panel unix:/tmp/p.sock
//	phoned -board sim -tftp 127.0.0.1:6969 -mac 52:54:00:12:34:56 -panel unix:/tmp/p.sock
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/app"
	"github.com/deskphone/deskphone/firmware/boot"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	started := time.Now()
	boardName := flag.String("board", "", "board: qemu, sim, rpi3b, rpi4b, rpizero2w (default: from the device tree; qemu when PID 1)")
	cfgFile := flag.String("config", "", "configuration file (sim board)")
	panelAddr := flag.String("panel", "unix:/tmp/phoned.sock", "virtual panel address (sim board): unix:PATH or tcp:HOST:PORT")
	bindIP := flag.String("bind", "127.0.0.1", "local address for SIP and RTP (sim board)")
	tftp := flag.String("tftp", "", "TFTP server host:port to provision from instead of -config (sim board; needs -mac)")
	macFlag := flag.String("mac", "", "the phone's MAC, naming its own file on the -tftp server (sim board)")
	flag.Parse()

	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("phoned: ")
	if boot.IsPID1() {
		// As init: the file systems first, the board is read from /proc.
		if err := boot.MountEssentials(log.Printf); err != nil {
			log.Printf("mounting file systems failed: %v; the phone goes on without them", err)
		}
		go boot.ReapChildren()
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = app.Run(ctx, app.Options{
		Board: board, Version: version, ConfigFile: *cfgFile, Panel: *panelAddr,
		BindIP: *bindIP, Logf: log.Printf, Started: started, TFTP: *tftp, MAC: mac,
	})
	if err != nil {
		fail(err)
	}
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
