package boards

import (
	"sort"
	"strconv"
	"strings"
)

// GPIO is a BCM GPIO number on the 40-pin header.
type GPIO int

func (g GPIO) String() string { return "GPIO" + strconv.Itoa(int(g)) }

// Wiring is how a board's keypad, hookswitch, ringer and lamp are wired.
type Wiring struct {
	GPIOChip    string     // GPIO character device, e.g. "gpiochip0"
	KeypadRows  []GPIO     // outputs, driven low one at a time to scan
	KeypadCols  []GPIO     // inputs with pull-ups
	Keys        [][]string // Keys[row][col]: the panel.md key name at each crossing
	Hook        GPIO       // input with pull-up
	HookOffHigh bool       // the hook input reads high while the handset is lifted
	Ringer      GPIO       // output, high rings
	// RingerPWM drives the ringer pin as a square wave (a passive buzzer
	// on a hardware-PWM pin, see PWMPins) instead of high.
	RingerPWM bool
	MWILamp   GPIO // output, high lights the message lamp
	// Country picks the ring cadence the phone's "normal" ring uses
	// (hal/ringer: us, uk, de, fr, ...).
	Country string
}

// Pins returns every GPIO the wiring uses, in a fixed order.
func (w *Wiring) Pins() []GPIO {
	p := append(append([]GPIO(nil), w.KeypadRows...), w.KeypadCols...)
	return append(p, w.Hook, w.Ringer, w.MWILamp)
}

// Audio is a board's handset codec.
type Audio struct {
	Codec      string // driver name: "wm8960"
	I2CBus     int    // /dev/i2c-N the codec is set up on
	CodecAddr  uint16 // 7-bit I2C address
	ALSADevice string // PCM device the samples move through
	MCLK       int    // the codec's master clock in Hz (its PLL makes the sample clocks)
	Channels   int    // PCM channels the ALSA device takes (2: the I2S codec is stereo)
	PeriodMs   int    // ALSA period, 5-10 ms
}

// Board is one board the firmware runs on.
type Board struct {
	Name  string // "qemu", "sim", "rpi4b", ...
	Model string // device-tree model prefix (/proc/device-tree/model); "" never matches
	Panel bool   // the hal is the virtual panel (hal/panel), not GPIO and ALSA
	Arch  string // GOARCH of the image; "" means the host's
	// Kernel is the Go module the kernel comes from; "" for sim.
	Kernel string
	// Config is the boot configuration (config.txt lines on a Raspberry Pi).
	Config []string
	Wiring *Wiring // nil on virtual-panel boards
	Audio  *Audio  // nil on virtual-panel boards
}

// BCM GPIO numbers no phone part may take.
var (
	I2CPins      = []GPIO{2, 3}           // I2C1: the codec's control bus
	I2SPins      = []GPIO{18, 19, 20, 21} // PCM to and from the codec
	reservedPins = []GPIO{0, 1, 14, 15}   // ID EEPROM, UART console
	// PWMPins can carry the SoC's hardware PWM (PWM0/PWM1).
	PWMPins = []GPIO{12, 13, 18, 19}
)

func keypad3x4() [][]string {
	return [][]string{{"1", "2", "3"}, {"4", "5", "6"}, {"7", "8", "9"}, {"*", "0", "#"}}
}

func rpiWiring() *Wiring {
	return &Wiring{
		GPIOChip:    "gpiochip0",
		KeypadRows:  []GPIO{5, 6, 13, 26},
		KeypadCols:  []GPIO{16, 17, 27},
		Keys:        keypad3x4(),
		Hook:        22,
		HookOffHigh: true,
		Ringer:      23,
		MWILamp:     24,
		Country:     "us",
	}
}

func wm8960() *Audio {
	return &Audio{Codec: "wm8960", I2CBus: 1, CodecAddr: 0x1a, ALSADevice: "hw:CARD=wm8960soundcard,DEV=0",
		MCLK: 24_000_000, Channels: 2, PeriodMs: 10}
}

func rpiConfig() []string {
	return []string{"arm_64bit=1", "dtparam=i2c_arm=on", "dtparam=i2s=on", "dtoverlay=wm8960-soundcard"}
}

// all returns fresh copies of the table, so callers cannot change it.
func all() []Board {
	return []Board{
		{Name: "qemu", Model: "linux,dummy-virt", Panel: true, Arch: "arm64", Kernel: "github.com/gokrazy/kernel.arm64"},
		{Name: "sim", Panel: true},
		{Name: "rpi3b", Model: "Raspberry Pi 3 Model B", Arch: "arm64", Kernel: "github.com/gokrazy/kernel.rpi", Config: rpiConfig(), Wiring: rpiWiring(), Audio: wm8960()},
		{Name: "rpi4b", Model: "Raspberry Pi 4 Model B", Arch: "arm64", Kernel: "github.com/gokrazy/kernel.rpi", Config: rpiConfig(), Wiring: rpiWiring(), Audio: wm8960()},
		{Name: "rpizero2w", Model: "Raspberry Pi Zero 2 W", Arch: "arm64", Kernel: "github.com/gokrazy/kernel.rpi", Config: rpiConfig(), Wiring: rpiWiring(), Audio: wm8960()},
	}
}

// All returns every board, sorted by name.
func All() []Board {
	b := all()
	sort.Slice(b, func(i, j int) bool { return b[i].Name < b[j].Name })
	return b
}

// ByName returns the board with this name.
func ByName(name string) (Board, bool) {
	for _, b := range all() {
		if b.Name == name {
			return b, true
		}
	}
	return Board{}, false
}

// ByModel returns the board whose model prefix is the longest that starts
// dtModel, the device tree's model string (e.g. "Raspberry Pi 4 Model B Rev
// 1.4"; a trailing NUL, as /proc/device-tree/model has, is ignored).
func ByModel(dtModel string) (Board, bool) {
	dtModel = strings.TrimRight(dtModel, "\x00\n")
	var best Board
	found := false
	for _, b := range all() {
		if b.Model == "" || !strings.HasPrefix(dtModel, b.Model) {
			continue
		}
		if !found || len(b.Model) > len(best.Model) {
			best, found = b, true
		}
	}
	return best, found
}
