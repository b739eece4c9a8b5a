// Command alsainit is PID 1 of the ALSA loopback test (package
// tools/alsatest): it mounts /proc, /sys and /dev, loads the modules
// listed in /modules/modules.load, runs the loopback check through
// hal/alsa at each rate and channel count, prints one ALSATEST line per
// run and ALSATEST DONE, and powers off.
package main

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/deskphone/deskphone/hal/alsa"
	"golang.org/x/sys/unix"
)

func main() {
	fail := 0
	if err := setup(); err != nil {
		fmt.Printf("ALSATEST FAIL setup: %v\n", err)
		fail++
	} else {
		for _, c := range []struct{ rate, ch, periodMs, frameMs int }{
			{8000, 1, 10, 20}, {16000, 2, 5, 10}, {8000, 2, 10, 10},
		} {
			if err := loopback(c.rate, c.ch, c.periodMs, c.frameMs); err != nil {
				fmt.Printf("ALSATEST FAIL %d Hz %d ch: %v\n", c.rate, c.ch, err)
				fail++
			}
		}
	}
	fmt.Printf("ALSATEST DONE failures=%d\n", fail)
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func setup() error {
	for _, m := range []struct{ src, dst, fs string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"},
	} {
		if err := unix.Mount(m.src, m.dst, m.fs, 0, ""); err != nil && err != unix.EBUSY {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	list, err := os.ReadFile("/modules/modules.load")
	if err != nil {
		return err
	}
	for _, name := range strings.Fields(string(list)) {
		if err := loadModule("/modules/" + name); err != nil {
			return err
		}
	}
	// The loopback card's nodes appear once devtmpfs has them.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat("/dev/snd/pcmC0D1c"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cards, _ := os.ReadFile("/proc/asound/cards")
			return fmt.Errorf("no /dev/snd/pcmC0D1c; /proc/asound/cards: %q", cards)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// loadModule loads a kernel module with finit_module; compressed modules
// (.ko.xz, .ko.zst, .ko.gz) are handed to the kernel as they are, for it
// to decompress (MODULE_INIT_COMPRESSED_FILE, CONFIG_MODULE_DECOMPRESS).
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	if !strings.HasSuffix(path, ".ko") {
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), "", flags); err != nil && err != unix.EEXIST {
		return fmt.Errorf("finit_module %s: %w", path, err)
	}
	fmt.Printf("alsainit: loaded %s\n", path)
	return nil
}

// loopback plays one second of a 1 kHz tone (with a ramp so no two
// periods are alike) into hw:Loopback,0 and captures hw:Loopback,1 through
// one hal/alsa PCM, then looks for the tone in the capture, sample for
// sample.
func loopback(rate, channels, periodMs, frameMs int) error {
	pcm := alsa.New(alsa.Config{
		Playback: "hw:CARD=Loopback,DEV=0", Capture: "hw:CARD=Loopback,DEV=1",
		Channels: channels, PeriodMs: periodMs,
	})
	frame := rate * frameMs / 1000
	if err := pcm.Open(rate, frame); err != nil {
		return err
	}
	defer pcm.Close()
	tone := make([]int16, rate)
	for i := range tone {
		amp := 8000 + 16000*float64(i)/float64(len(tone))
		tone[i] = int16(amp*math.Sin(2*math.Pi*1000*float64(i)/float64(rate)+0.3)) | 1
	}
	frames := 2*len(tone)/frame + 1
	got := make([]int16, 0, frames*frame)
	ear := make([]int16, frame)
	mic := make([]int16, frame)
	start := time.Now()
	for f := range frames {
		clear(ear)
		if off := f * frame; off < len(tone) {
			copy(ear, tone[off:])
		}
		if err := pcm.Exchange(ear, mic); err != nil {
			return fmt.Errorf("frame %d: %w", f, err)
		}
		got = append(got, mic...)
	}
	took := time.Since(start)
	st := pcm.Stats()
	at := -1
	for i := range got {
		if got[i] != 0 {
			at = i
			break
		}
	}
	if at < 0 {
		return fmt.Errorf("captured only silence (%d samples)", len(got))
	}
	if len(got)-at < len(tone) {
		return fmt.Errorf("tone starts at sample %d, too late to compare", at)
	}
	for i, s := range tone {
		if got[at+i] != s {
			return fmt.Errorf("sample %d of the tone: got %d, want %d (tone found at %d)", i, got[at+i], s, at)
		}
	}
	for _, s := range got[at+len(tone):] {
		if s != 0 {
			return fmt.Errorf("noise after the tone")
		}
	}
	fmt.Printf("ALSATEST PASS %d Hz %d ch period %d frames (%d ms), buffer %d, frame %d: %d samples back unchanged, delay %d samples (%.1f ms), %d frames in %v, xruns %d/%d\n",
		rate, channels, st.PeriodSize, periodMs, st.BufferSize, frame, len(tone), at, float64(at)*1000/float64(rate),
		frames, took.Round(time.Millisecond), st.Underruns, st.Overruns)
	return nil
}
