package boards

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// GPIO is a BCM GPIO number on the 40-pin header.
type GPIO int

func (g GPIO) String() string { return "GPIO" + strconv.Itoa(int(g)) }

// Wiring is how a board's keypad, hookswitch, ringer and lamp are wired.
type Wiring struct {
	// GPIOChip is the SoC's GPIO character device by its label (stable,
	// unlike gpiochipN, which follows probe order: the firmware's GPIO
	// expander is a chip too).
	GPIOChip    string
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
	Codec     string // driver name: "wm8960"
	I2CBus    int    // /dev/i2c-N the codec is set up on
	CodecAddr uint16 // 7-bit I2C address
	// ALSAPlayback and ALSACapture are the PCM devices the samples move
	// through (the phone's own sound card, PhoneDTS, has one of each).
	ALSAPlayback string
	ALSACapture  string
	MCLK         int // the codec's master clock in Hz (its PLL makes the sample clocks)
	Channels     int // PCM channels the ALSA device takes (2: the I2S codec is stereo)
	PeriodMs     int // ALSA period, 5-10 ms
}

// Board is one board the firmware runs on.
type Board struct {
	Name  string // "qemu", "sim", "rpi4b", ...
	Model string // device-tree model prefix (/proc/device-tree/model); "" never matches
	Panel bool   // the hal is the virtual panel (hal/panel), not GPIO and ALSA
	Arch  string // GOARCH of the image; "" means the host's
	// Kernel is where the kernel comes from: a Go module path, or
	// DebianKernel; "" for sim.
	Kernel string
	// DeviceTrees are the device trees of the board's models, as paths in
	// the kernel package's dtbs folder; the image adds the phone's sound
	// card (PhoneDTS) to each.
	DeviceTrees []string
	// Modules are the kernel modules the image's initramfs carries and
	// the firmware loads at boot, each after its dependencies.
	Modules []string
	// Config is the board's section of the boot configuration: config.txt
	// lines on a Raspberry Pi, conditional filters ([pi4]) included.
	Config []string
	// StateDevice is the block device the last good configuration is kept
	// on ("" on sim, which keeps it in a file beside the configuration).
	StateDevice string
	// PWMPinctrl names, per GPIO, the device tree's pin group that puts the
	// GPIO on the PWM controller (/soc/pwm@7e20c000): DeviceTreeSource uses
	// it for a ringer on PWM.
	PWMPinctrl map[GPIO]string
	Wiring     *Wiring // nil on virtual-panel boards
	Audio      *Audio  // nil on virtual-panel boards
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

// rpiWiring is the reference wiring on a Pi whose SoC GPIO chip has this
// label: "pinctrl-bcm2835" (BCM2837: 3B, Zero 2 W), "pinctrl-bcm2711" (4B).
func rpiWiring(chip string) *Wiring {
	return &Wiring{
		GPIOChip:    chip,
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
	return &Audio{Codec: "wm8960", I2CBus: 1, CodecAddr: 0x1a,
		ALSAPlayback: "hw:CARD=" + SoundCard + ",DEV=0", ALSACapture: "hw:CARD=" + SoundCard + ",DEV=1",
		MCLK: 24_000_000, Channels: 2, PeriodMs: 10}
}

// DebianKernel names Debian's arm64 kernel package (linux-image-arm64), which
// tools/setup/debian-kernel.sh fetches: it has the Raspberry Pi's I2S
// controller, the simple sound card and the network drivers as modules.
const DebianKernel = "debian:linux-image-arm64"

// SoundCard is the ALSA id of the phone's sound card on a Raspberry Pi.
const SoundCard = "phone"

// PhoneDTS is device-tree source the image appends to each Raspberry Pi
// device tree (decompiled from the kernel package's). It makes the header's
// I2C bus (I2C1, GPIO 2/3) /dev/i2c-1 with an alias, whatever order the
// buses probe in. It turns the I2S controller on, on GPIO 18-21, and adds
// a sound card named SoundCard with
// one playback and one capture PCM. The card's codecs are the kernel's
// codec-less S/PDIF stubs (linux,spdif-dit and linux,spdif-dir): they take
// any rate from 8 kHz and 16-24 bit samples and touch no hardware, so the
// kernel never writes a WM8960 register. The firmware sets the codec up
// over I2C itself (hal/wm8960), and the codec is the I2S clock master,
// which the card says with bitclock-master and frame-master. Nodes are
// named by path, since Debian's device trees carry no labels.
//
//go:embed phone.dtsi
var PhoneDTS string

// DeviceTreeSource is what the image appends to each of the board's
// device trees: PhoneDTS, and for a ringer on PWM (a passive buzzer) the
// PWM controller turned on with the ringer's pin muxed to it.
func (b Board) DeviceTreeSource() (string, error) {
	src := PhoneDTS
	if b.Wiring == nil || !b.Wiring.RingerPWM {
		return src, nil
	}
	group, ok := b.PWMPinctrl[b.Wiring.Ringer]
	if !ok {
		return "", fmt.Errorf("boards: %s: the ringer on %s wants PWM, which the board has on %v only", b.Name, b.Wiring.Ringer, slices.Sorted(maps.Keys(b.PWMPinctrl)))
	}
	return src + fmt.Sprintf(`
// The ringer's pin (%s) on the PWM controller, for a passive buzzer.
&{/soc/pwm@7e20c000} {
	pinctrl-names = "default";
	pinctrl-0 = <&{/soc/gpio@7e200000/%s}>;
	status = "okay";
};
`, b.Wiring.Ringer, group), nil
}

// bcm2837PWM and bcm2711PWM are the pin groups of GPIO 12 and 13 (PWM0
// channels 0 and 1) in the mainline device trees.
func bcm2837PWM() map[GPIO]string { return map[GPIO]string{12: "pwm0_gpio12", 13: "pwm1_gpio13"} }
func bcm2711PWM() map[GPIO]string { return map[GPIO]string{12: "pwm0_0_gpio12", 13: "pwm0_1_gpio13"} }

func rpiModules() []string {
	return []string{
		// Sound: the I2S controller, the card and its stub codecs.
		"snd-soc-bcm2835-i2s", "snd-soc-simple-card", "snd-soc-spdif-tx", "snd-soc-spdif-rx",
		// The codec's control bus, the buzzer's PWM, the SD card (the
		// configuration kept on partition 2), the watchdog that restarts.
		"i2c-bcm2835", "i2c-dev", "pwm-bcm2835", "sdhci-iproc", "bcm2835", "bcm2835_wdt",
		// Wired network: GENET on a Pi 4; SMSC95xx or LAN78xx on DWC2 USB
		// on a Pi 3; a USB CDC or RNDIS adapter on a Zero 2 W (and QEMU's
		// usb-net).
		"genet", "broadcom", "mdio-bcm-unimac", "phy-generic", "dwc2",
		"smsc95xx", "lan78xx", "cdc_ether", "rndis_host",
	}
}

// all returns fresh copies of the table, so callers cannot change it.
func all() []Board {
	return []Board{
		{Name: "qemu", Model: "linux,dummy-virt", Panel: true, Arch: "arm64", Kernel: "github.com/gokrazy/kernel.arm64", StateDevice: "/dev/vda"},
		{Name: "sim", Panel: true},
		// The 3B entry also runs a 3B+ ("Raspberry Pi 3 Model B+"); the
		// firmware's [pi3+] filter picks its device tree.
		{Name: "rpi3b", Model: "Raspberry Pi 3 Model B", Arch: "arm64", Kernel: DebianKernel,
			DeviceTrees: []string{"broadcom/bcm2837-rpi-3-b.dtb", "broadcom/bcm2837-rpi-3-b-plus.dtb"},
			Config:      []string{"[pi3]", "device_tree=bcm2837-rpi-3-b.dtb", "[pi3+]", "device_tree=bcm2837-rpi-3-b-plus.dtb"},
			Modules:     rpiModules(), StateDevice: "/dev/mmcblk0p2", Wiring: rpiWiring("pinctrl-bcm2835"), Audio: wm8960(), PWMPinctrl: bcm2837PWM()},
		{Name: "rpi4b", Model: "Raspberry Pi 4 Model B", Arch: "arm64", Kernel: DebianKernel,
			DeviceTrees: []string{"broadcom/bcm2711-rpi-4-b.dtb"},
			Config:      []string{"[pi4]", "device_tree=bcm2711-rpi-4-b.dtb"},
			Modules:     rpiModules(), StateDevice: "/dev/mmcblk0p2", Wiring: rpiWiring("pinctrl-bcm2711"), Audio: wm8960(), PWMPinctrl: bcm2711PWM()},
		{Name: "rpizero2w", Model: "Raspberry Pi Zero 2 W", Arch: "arm64", Kernel: DebianKernel,
			DeviceTrees: []string{"broadcom/bcm2837-rpi-zero-2-w.dtb"},
			Config:      []string{"[pi02]", "device_tree=bcm2837-rpi-zero-2-w.dtb"},
			Modules:     rpiModules(), StateDevice: "/dev/mmcblk0p2", Wiring: rpiWiring("pinctrl-bcm2835"), Audio: wm8960(), PWMPinctrl: bcm2837PWM()},
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
