// Command pwmcheck is PID 1 of the kernel PWM check (tools/piimage's
// TestKernelPWMOnRaspi3b): on QEMU's Raspberry Pi 3B, with a device tree
// that puts GPIO 12 on the PWM controller (boards.Board.DeviceTreeSource
// for a passive buzzer), it drives the ringer (hal/ringer) through the pin
// gpiohost hands out for PWM (the kernel's pwm-bcm2835 through sysfs,
// hal/pwmsys) and reads back what the kernel holds: the period and duty
// cycle of the buzzer's tone and the channel turned on and off with the
// cadence. It prints PWMCHECK lines and powers off.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskphone/deskphone/firmware/boot"
	"github.com/deskphone/deskphone/hal/gpiohost"
	"github.com/deskphone/deskphone/hal/pwmsys"
	"github.com/deskphone/deskphone/hal/ringer"
	"golang.org/x/sys/unix"
)

var failures int

// check prints a PWMCHECK PASS or FAIL line and returns ok.
func check(ok bool, format string, args ...any) bool {
	verdict := "PASS"
	if !ok {
		verdict = "FAIL"
		failures++
	}
	fmt.Printf("PWMCHECK %s "+format+"\n", append([]any{verdict}, args...)...)
	return ok
}

func main() {
	if err := boot.MountEssentials(logf); err != nil {
		check(false, "mount: %v", err)
	}
	if _, err := boot.LoadModules(boot.ModulesDir, logf); err != nil {
		check(false, "modules: %v", err)
	}
	run()
	fmt.Printf("PWMCHECK DONE failures=%d\n", failures)
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func read(dir, f string) string {
	b, err := os.ReadFile(filepath.Join(dir, f))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}

func run() {
	// The controller's sysfs folder appears once pwm-bcm2835 has probed.
	var chip string
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if chip, err = pwmsys.FindChip(pwmsys.Root, "20c000.pwm"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if !check(err == nil, "PWM controller: %s %v", chip, err) {
		return
	}
	if r, err := gpiohost.Init(); err != nil {
		logf("periph host: %v", err)
	} else {
		logf("periph host: %s", r)
	}
	pin, err := gpiohost.Pin("pinctrl-bcm2835", 12, true)
	if !check(err == nil, "GPIO12 for PWM: %v %v", pin, err) {
		return
	}
	ch := filepath.Join(chip, "pwm0")
	r, err := ringer.New(pin, ringer.Options{Country: "uk", PWM: true})
	if err == nil {
		err = r.Init()
	}
	if !check(err == nil, "ringer on %s: %v", pin, err) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	// us: 2 s on, 4 s off; 300 ms in, the tone is on at 2 kHz, 50 %.
	r.Ring("us")
	time.Sleep(300 * time.Millisecond)
	check(read(ch, "enable") == "1" && read(ch, "period") == "500000" && read(ch, "duty_cycle") == "250000",
		"ringing: enable %s period %s ns duty %s ns (want 1, 500000, 250000: 2 kHz, 50 %%)", read(ch, "enable"), read(ch, "period"), read(ch, "duty_cycle"))
	r.Silence()
	time.Sleep(300 * time.Millisecond)
	check(read(ch, "enable") == "0", "silenced: enable %s", read(ch, "enable"))

	// uk: 400 on, 200 off, 400 on, 2000 off: the channel goes on, off, on.
	// A guest the host pauses for longer than the 200 ms gap can miss it;
	// such a run is tried again, up to three times.
	var seen []string
	for try := 1; try <= 3; try++ {
		r.Silence()
		time.Sleep(100 * time.Millisecond)
		r.Ring("uk")
		seen = seen[:0]
		for start := time.Now(); time.Since(start) < 1300*time.Millisecond; time.Sleep(20 * time.Millisecond) {
			if v := read(ch, "enable"); len(seen) == 0 || seen[len(seen)-1] != v {
				seen = append(seen, v)
			}
		}
		// (The first sample may come before the ringer's goroutine has
		// turned the channel on.)
		if strings.Contains(strings.Join(seen, ""), "1010") {
			break
		}
		logf("uk cadence try %d: enable went %s", try, strings.Join(seen, " "))
	}
	check(strings.Contains(strings.Join(seen, ""), "1010"), "uk cadence: enable went %s (want 1, 0, 1, 0 in it)", strings.Join(seen, " "))

	cancel()
	err = <-done
	check(err == nil && read(ch, "enable") == "0", "ringer stopped: %v, enable %s", err, read(ch, "enable"))
	if c, ok := pin.(io.Closer); ok {
		err = c.Close()
		_, serr := os.Stat(ch)
		check(err == nil && os.IsNotExist(serr), "closed: %v; %s %v", err, ch, serr)
	}
}

func logf(f string, a ...any) { fmt.Printf("pwmcheck: "+f+"\n", a...) }
