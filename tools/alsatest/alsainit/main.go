// Command alsainit is PID 1 of the ALSA loopback test (package
// tools/alsatest): it mounts /proc, /sys and /dev, loads the modules
// listed in /modules/modules.load, runs the loopback check through
// hal/alsa at each rate and channel count, prints one ALSATEST line per
// run and ALSATEST DONE, and powers off.
package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/firmware/boot"
	"github.com/deskphone/deskphone/firmware/hardware"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/hal/alsa"
	"github.com/deskphone/deskphone/hal/wm8960"
	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

func main() {
	runtime.GOMAXPROCS(1) // as phoned runs (firmware/cmd/phoned)
	fail := 0
	if err := setup(); err != nil {
		fmt.Printf("ALSATEST FAIL setup: %v\n", err)
		fail++
	} else {
		for _, c := range []struct{ rate, ch, periodMs, frameMs int }{
			{8000, 1, 10, 20}, {16000, 2, 5, 10}, {8000, 2, 10, 10},
		} {
			err := loopback(c.rate, c.ch, c.periodMs, c.frameMs)
			// An xrun breaks the tone; on a loaded host QEMU's guest can
			// stall longer than the cushion. Such runs are retried; a
			// difference without an xrun is a failure at once.
			for try := 1; errors.Is(err, errXrun) && try < 3; try++ {
				fmt.Printf("ALSATEST RETRY %d Hz %d ch: %v\n", c.rate, c.ch, err)
				err = loopback(c.rate, c.ch, c.periodMs, c.frameMs)
			}
			if err != nil {
				fmt.Printf("ALSATEST FAIL %d Hz %d ch: %v\n", c.rate, c.ch, err)
				fail++
			}
		}
		// The phone's own settings (prefill one frame, the default ring):
		// the figure for the latency budget. An xrun here is reported, not
		// failed: QEMU on a loaded host is no real-time SoC.
		if err := loopbackWith(8000, 2, 10, 20, 0, 0); errors.Is(err, errXrun) {
			fmt.Printf("ALSATEST INFO phone defaults: %v\n", err)
		} else if err != nil {
			fmt.Printf("ALSATEST FAIL phone defaults: %v\n", err)
			fail++
		}
		if err := recovery(); err != nil {
			fmt.Printf("ALSATEST FAIL recovery: %v\n", err)
			fail++
		}
		err := hardwareCodec()
		for try := 1; errors.Is(err, errXrun) && try < 3; try++ {
			fmt.Printf("ALSATEST RETRY hardware codec: %v\n", err)
			err = hardwareCodec()
		}
		if err != nil {
			fmt.Printf("ALSATEST FAIL hardware codec: %v\n", err)
			fail++
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
	if _, err := boot.LoadModules(boot.ModulesDir, func(f string, a ...any) { fmt.Printf("alsainit: "+f+"\n", a...) }); err != nil {
		return err
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

// prefillMs is the playback cushion: QEMU's guest can be descheduled for
// tens of milliseconds on a loaded host, which a phone on its own SoC is
// not; the phone's default is one frame.
// The kernel gives up on a read or write (EIO) after about 1.1 buffer
// times without a period: bufferMs keeps that above such pauses.
const (
	prefillMs = 200
	bufferMs  = 1000
)

var errXrun = errors.New("xrun during the run")

// makeTone is n samples of a 1 kHz tone whose amplitude ramps up, so no
// two periods are alike; no sample is zero.
func makeTone(rate, n int) []int16 {
	tone := make([]int16, n)
	for i := range tone {
		amp := 8000 + 16000*float64(i)/float64(n)
		tone[i] = int16(amp*math.Sin(2*math.Pi*1000*float64(i)/float64(rate)+0.3)) | 1
	}
	return tone
}

// playAndFind plays tone through pcm, one frame per Exchange, then
// silence, and checks that the capture gives the tone back sample for
// sample after some leading silence. It returns where it started.
func playAndFind(pcm hal.Codec, tone []int16, frame int) (int, error) {
	frames := (len(tone)+frame-1)/frame + 40
	got := make([]int16, 0, frames*frame)
	ear := make([]int16, frame)
	mic := make([]int16, frame)
	for f := range frames {
		clear(ear)
		if off := f * frame; off < len(tone) {
			copy(ear, tone[off:])
		}
		if err := pcm.Exchange(ear, mic); err != nil {
			return 0, fmt.Errorf("frame %d: %w", f, err)
		}
		got = append(got, mic...)
	}
	at := -1
	for i := range got {
		if got[i] != 0 {
			at = i
			break
		}
	}
	if at < 0 {
		return 0, fmt.Errorf("captured only silence (%d samples)", len(got))
	}
	if len(got)-at < len(tone) {
		return 0, fmt.Errorf("tone starts at sample %d, too late to compare", at)
	}
	for i, s := range tone {
		if got[at+i] != s {
			return 0, fmt.Errorf("sample %d of the tone: got %d, want %d (tone found at %d)", i, got[at+i], s, at)
		}
	}
	for _, s := range got[at+len(tone):] {
		if s != 0 {
			return 0, fmt.Errorf("noise after the tone")
		}
	}
	return at, nil
}

// loopback plays one second of tone into hw:Loopback,0 and captures
// hw:Loopback,1 through one hal/alsa PCM.
func loopback(rate, channels, periodMs, frameMs int) error {
	return loopbackWith(rate, channels, periodMs, frameMs, prefillMs, bufferMs/periodMs)
}

// loopbackWith is loopback with the prefill and ring length given (0: the
// phone's defaults).
func loopbackWith(rate, channels, periodMs, frameMs, prefill, periods int) error {
	pcm := alsa.New(alsa.Config{
		Playback: "hw:CARD=Loopback,DEV=0", Capture: "hw:CARD=Loopback,DEV=1",
		Channels: channels, PeriodMs: periodMs, PrefillMs: prefill, Periods: periods,
	})
	frame := rate * frameMs / 1000
	if err := pcm.Open(rate, frame); err != nil {
		return err
	}
	defer pcm.Close()
	tone := makeTone(rate, rate)
	start := time.Now()
	sw := switches()
	at, err := playAndFind(pcm, tone, frame)
	sw = switches() - sw
	st := pcm.Stats()
	if err != nil {
		if st.Underruns+st.Overruns > 0 {
			return fmt.Errorf("%w (%d underruns, %d overruns): %v", errXrun, st.Underruns, st.Overruns, err)
		}
		return err
	}
	took := time.Since(start)
	frames := st.Frames / uint64(frame)
	fmt.Printf("ALSATEST PASS %d Hz %d ch period %d frames (%d ms), buffer %d, prefill %d ms, frame %d: %d samples back unchanged, delay %d samples (%.1f ms), %d frames in %v, xruns %d/%d, wake-ups %.2f a frame\n",
		rate, channels, st.PeriodSize, periodMs, st.BufferSize, prefill, frame, len(tone), at, float64(at)*1000/float64(rate),
		frames, took.Round(time.Millisecond), st.Underruns, st.Overruns, float64(sw)/float64(max(frames, 1)))
	return nil
}

// hardwareCodec runs firmware/hardware's Codec, the one a Raspberry Pi
// phone uses, over the loopback: the WM8960 is set up over a recording I2C
// bus (QEMU's virt machine has no codec), the samples go through ALSA.
func hardwareCodec() error {
	bus := &i2ctest.Record{}
	wm := wm8960.New(bus, wm8960.DefaultAddr, wm8960.Options{})
	if err := wm.Init(); err != nil {
		return err
	}
	codec := hardware.NewCodec(wm, alsa.New(alsa.Config{
		Playback: "hw:Loopback,0", Capture: "hw:Loopback,1", Channels: 2,
		PeriodMs: 10, PrefillMs: prefillMs, Periods: bufferMs / 10,
	}))
	var c hal.Codec = codec
	if err := c.Open(16000, 320); err != nil {
		return err
	}
	defer c.Close()
	tone := makeTone(16000, 16000)
	at, err := playAndFind(codec, tone, 320)
	if st := codec.Stats(); err != nil && st.Underruns+st.Overruns > 0 {
		return fmt.Errorf("%w (%d underruns, %d overruns): %v", errXrun, st.Underruns, st.Overruns, err)
	}
	if err != nil {
		return err
	}
	fmt.Printf("ALSATEST PASS hardware codec (WM8960 over %d recorded I2C writes, ALSA stereo 16 kHz, 20 ms frames): %d samples back unchanged, delay %d samples\n",
		len(bus.Ops), len(tone), at)
	return nil
}

// recovery stalls the audio loop for 1.2 s, longer than the buffer (the capture overruns, the
// playback underruns), then checks that the PCM recovered and a tone passes
// unchanged; then Stop and a restart by Exchange, and the tone again.
func recovery() error {
	const rate, frame = 8000, 80
	pcm := alsa.New(alsa.Config{Playback: "hw:Loopback,0", Capture: "hw:Loopback,1", PeriodMs: 10, PrefillMs: prefillMs, Periods: bufferMs / 10})
	if err := pcm.Open(rate, frame); err != nil {
		return err
	}
	defer pcm.Close()
	buf := make([]int16, frame)
	for range 20 {
		if err := pcm.Exchange(buf, buf); err != nil {
			return err
		}
	}
	time.Sleep(1200 * time.Millisecond)
	tone := makeTone(rate, rate/2)
	if _, err := playAndFind(pcm, tone, frame); err != nil {
		return fmt.Errorf("after the stall: %w", err)
	}
	st := pcm.Stats()
	if st.Overruns == 0 && st.Underruns == 0 {
		return fmt.Errorf("a 1.2 s stall caused no xrun")
	}
	if err := pcm.Stop(); err != nil {
		return err
	}
	if _, err := playAndFind(pcm, tone, frame); err != nil {
		return fmt.Errorf("after Stop: %w", err)
	}
	fmt.Printf("ALSATEST PASS recovery: a 1.2 s stall gave %d underrun(s) and %d overrun(s), recovered; Stop and restart; the tone passed unchanged both times\n",
		st.Underruns, st.Overruns)
	return nil
}

// switches is the context switches of all this process's threads so far,
// voluntary and not (the wake-up measure of make perf, tools/perf).
func switches() int {
	tasks, _ := os.ReadDir("/proc/self/task")
	n := 0
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/status")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 2 && (f[0] == "voluntary_ctxt_switches:" || f[0] == "nonvoluntary_ctxt_switches:") {
				v, _ := strconv.Atoi(f[1])
				n += v
			}
		}
	}
	return n
}
