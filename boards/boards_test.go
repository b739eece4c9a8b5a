package boards

import (
	"slices"
	"strings"
	"testing"
)

func TestInvariants(t *testing.T) {
	names := map[string]bool{}
	models := map[string]bool{}
	for _, b := range All() {
		if b.Name == "" || names[b.Name] {
			t.Errorf("board name %q empty or used twice", b.Name)
		}
		names[b.Name] = true
		if b.Model != "" {
			if models[b.Model] {
				t.Errorf("%s: model %q used twice", b.Name, b.Model)
			}
			models[b.Model] = true
		}
		if b.Panel != (b.Wiring == nil) || b.Panel != (b.Audio == nil) {
			t.Errorf("%s: a virtual-panel board has no wiring or codec, a hardware board has both", b.Name)
		}
		if b.Arch != "" && b.Arch != "arm64" && b.Arch != "amd64" {
			t.Errorf("%s: arch %q", b.Name, b.Arch)
		}
		if b.Name != "sim" && b.Kernel == "" {
			t.Errorf("%s: no kernel", b.Name)
		}
		if w := b.Wiring; w != nil {
			checkWiring(t, b.Name, w)
		}
		if b.Kernel == DebianKernel {
			checkPiBoot(t, b)
		}
		if b.Name != "sim" && !strings.HasPrefix(b.StateDevice, "/dev/") {
			t.Errorf("%s: state device %q", b.Name, b.StateDevice)
		}
		if a := b.Audio; a != nil {
			// 7-bit, outside the reserved 0x00-0x07 and 0x78-0x7f.
			if a.CodecAddr < 0x08 || a.CodecAddr > 0x77 {
				t.Errorf("%s: codec address %#x is not a valid 7-bit address", b.Name, a.CodecAddr)
			}
			if a.I2CBus < 0 || a.Codec == "" || a.ALSAPlayback == "" || a.ALSACapture == "" {
				t.Errorf("%s: audio %+v incomplete", b.Name, *a)
			}
			if a.Codec != "wm8960" {
				t.Errorf("%s: no driver for codec %q", b.Name, a.Codec)
			}
			if a.MCLK < 1_000_000 || a.MCLK > 50_000_000 || a.Channels < 1 || a.Channels > 2 || a.PeriodMs < 5 || a.PeriodMs > 10 {
				t.Errorf("%s: audio clock %d Hz, %d channels, period %d ms", b.Name, a.MCLK, a.Channels, a.PeriodMs)
			}
		}
	}
}

func checkWiring(t *testing.T, name string, w *Wiring) {
	t.Helper()
	used := map[GPIO]bool{}
	for _, p := range w.Pins() {
		if used[p] {
			t.Errorf("%s: %v used twice", name, p)
		}
		used[p] = true
		if p < 0 || p > 27 {
			t.Errorf("%s: %v is not on the 40-pin header", name, p)
		}
		if slices.Contains(I2CPins, p) || slices.Contains(I2SPins, p) || slices.Contains(reservedPins, p) {
			t.Errorf("%s: %v is an I2C, I2S, EEPROM or UART pin", name, p)
		}
	}
	if w.RingerPWM && !slices.Contains(PWMPins, w.Ringer) {
		t.Errorf("%s: ringer on %v has no hardware PWM", name, w.Ringer)
	}
	if !slices.Contains(countries, w.Country) {
		t.Errorf("%s: country %q has no ring cadence", name, w.Country)
	}
	if len(w.KeypadRows) == 0 || len(w.KeypadCols) == 0 || len(w.Keys) != len(w.KeypadRows) {
		t.Fatalf("%s: keypad %d rows x %d cols, keys for %d rows", name, len(w.KeypadRows), len(w.KeypadCols), len(w.Keys))
	}
	seen := map[string]bool{}
	for r, row := range w.Keys {
		if len(row) != len(w.KeypadCols) {
			t.Errorf("%s: key row %d has %d keys for %d columns", name, r, len(row), len(w.KeypadCols))
		}
		for _, k := range row {
			dial := len(k) == 1 && (k[0] >= '0' && k[0] <= '9' || k == "*" || k == "#")
			if seen[k] || !dial && !slices.Contains(namedKeys, k) {
				t.Errorf("%s: key %q repeated or not a panel.md key", name, k)
			}
			seen[k] = true
		}
	}
	for _, k := range strings.Split("1 2 3 4 5 6 7 8 9 * 0 #", " ") {
		if !seen[k] {
			t.Errorf("%s: keypad has no %q", name, k)
		}
	}
}

// namedKeys are panel.md's named keys; countries hal/ringer's cadences.
var (
	namedKeys = strings.Fields("send hold transfer conf redial dnd fwd vm mute speaker line1 line2 line3 line4 ok cancel up down volup voldown")
	countries = strings.Fields("us ca uk au de nl it fr jp se")
)

// A 4x4 keypad (the fourth column's keys named) passes the same checks.
func TestWiring4x4(t *testing.T) {
	w := rpiWiring("pinctrl-bcm2711")
	w.KeypadCols = append(w.KeypadCols, 25)
	w.Keys = [][]string{{"1", "2", "3", "send"}, {"4", "5", "6", "hold"}, {"7", "8", "9", "transfer"}, {"*", "0", "#", "cancel"}}
	w.Ringer, w.RingerPWM = 12, true
	checkWiring(t, "rpi-4x4", w)
}

func TestByName(t *testing.T) {
	for _, n := range []string{"qemu", "sim", "rpi3b", "rpi4b", "rpizero2w"} {
		b, ok := ByName(n)
		if !ok || b.Name != n {
			t.Errorf("ByName(%q) = %q, %v", n, b.Name, ok)
		}
	}
	if _, ok := ByName("rpi5"); ok {
		t.Error("ByName(rpi5) found a board")
	}
	// The table is not shared with callers.
	b, _ := ByName("rpi4b")
	b.Wiring.KeypadRows[0] = 2
	if b2, _ := ByName("rpi4b"); b2.Wiring.KeypadRows[0] == 2 {
		t.Error("a caller changed the table")
	}
}

func TestByModel(t *testing.T) {
	tests := []struct{ model, want string }{
		{"Raspberry Pi 4 Model B Rev 1.4", "rpi4b"},
		{"Raspberry Pi 4 Model B Rev 1.5\x00", "rpi4b"},
		{"Raspberry Pi 3 Model B Rev 1.2", "rpi3b"},
		{"Raspberry Pi 3 Model B+", "rpi3b"}, // the mainline tree's model
		{"Raspberry Pi 3 Model A Plus Rev 1.0", ""},
		{"Raspberry Pi Zero 2 W Rev 1.0", "rpizero2w"},
		{"linux,dummy-virt", "qemu"},
		{"Raspberry Pi 5 Model B Rev 1.0", ""},
		{"Raspberry Pi Zero W Rev 1.1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		b, ok := ByModel(tt.model)
		if ok != (tt.want != "") || b.Name != tt.want {
			t.Errorf("ByModel(%q) = %q, %v; want %q", tt.model, b.Name, ok, tt.want)
		}
	}
}

func TestAllSorted(t *testing.T) {
	var names []string
	for _, b := range All() {
		names = append(names, b.Name)
	}
	if !slices.IsSorted(names) || len(names) != 5 {
		t.Errorf("All() = %v", names)
	}
}

// checkPiBoot checks what a Raspberry Pi image is built from: device trees,
// a config.txt section that picks each of them, modules, and the sound card.
func checkPiBoot(t *testing.T, b Board) {
	t.Helper()
	if len(b.DeviceTrees) == 0 || len(b.Modules) == 0 || len(b.Config) == 0 {
		t.Errorf("%s: device trees %v, modules %v, config %v: a Pi image needs all three", b.Name, b.DeviceTrees, b.Modules, b.Config)
	}
	if !strings.HasPrefix(b.Config[0], "[") {
		t.Errorf("%s: config section %q does not start with a filter such as [pi4]", b.Name, b.Config)
	}
	for _, dt := range b.DeviceTrees {
		if !strings.HasPrefix(dt, "broadcom/") || !strings.HasSuffix(dt, ".dtb") {
			t.Errorf("%s: device tree %q is not a broadcom/*.dtb of the kernel package", b.Name, dt)
		}
		if !slices.Contains(b.Config, "device_tree="+strings.TrimPrefix(dt, "broadcom/")) {
			t.Errorf("%s: config %v never picks %s", b.Name, b.Config, dt)
		}
	}
	for _, need := range []string{"snd-soc-bcm2835-i2s", "snd-soc-simple-card", "snd-soc-spdif-tx", "snd-soc-spdif-rx", "i2c-bcm2835", "i2c-dev"} {
		if !slices.Contains(b.Modules, need) {
			t.Errorf("%s: module %s missing: the sound card or the codec's bus would not come up", b.Name, need)
		}
	}
	if want := map[string]string{"rpi4b": "pinctrl-bcm2711"}[b.Name]; b.Wiring.GPIOChip != want && (want != "" || b.Wiring.GPIOChip != "pinctrl-bcm2835") {
		t.Errorf("%s: GPIO chip %q: the SoC's chip is pinctrl-bcm2711 on a Pi 4, pinctrl-bcm2835 on the BCM2837 boards", b.Name, b.Wiring.GPIOChip)
	}
	for g := range b.PWMPinctrl {
		if !slices.Contains(PWMPins, g) || slices.Contains(I2SPins, g) {
			t.Errorf("%s: PWM pin group for %v, which is no free PWM pin", b.Name, g)
		}
	}
	if src, err := b.DeviceTreeSource(); err != nil || src != PhoneDTS {
		t.Errorf("%s: the reference wiring's ringer is no PWM buzzer, yet its device tree source differs (%v)", b.Name, err)
	}
	if b.Audio.I2CBus != 1 {
		t.Errorf("%s: codec on I2C bus %d, but PhoneDTS makes the header's bus number 1", b.Name, b.Audio.I2CBus)
	}
	for _, dev := range []string{b.Audio.ALSAPlayback, b.Audio.ALSACapture} {
		if !strings.HasPrefix(dev, "hw:CARD="+SoundCard+",") {
			t.Errorf("%s: PCM %q is not on the phone's card %q", b.Name, dev, SoundCard)
		}
	}
}

// The device-tree source names the card, both stub codecs, the codec as
// clock master, the I2S pins the boards keep free, and the codec's bus.
func TestPhoneDTS(t *testing.T) {
	for _, want := range []string{
		`simple-audio-card,name = "` + SoundCard + `";`,
		`compatible = "linux,spdif-dit";`, `compatible = "linux,spdif-dir";`,
		`bitclock-master = <&deskphone_playback>;`, `frame-master = <&deskphone_capture>;`,
		`pinctrl-0 = <&{/soc/gpio@7e200000/pcm_gpio18}>;`, `status = "okay";`,
		`i2c1 = &{/soc/i2c@7e804000};`,
	} {
		if !strings.Contains(PhoneDTS, want) {
			t.Errorf("sound card source lacks %s", want)
		}
	}
	// pcm_gpio18 is GPIO 18-21, the pins I2SPins reserves.
	if !slices.Equal(I2SPins, []GPIO{18, 19, 20, 21}) {
		t.Errorf("I2S pins %v, but the card takes pcm_gpio18 (GPIO 18-21)", I2SPins)
	}
	if strings.Count(PhoneDTS, "{") != strings.Count(PhoneDTS, "}") {
		t.Error("sound card source has unbalanced braces")
	}
}

// A passive buzzer on GPIO 12 gets the PWM controller, with the board's own
// pin group; one on a pin without PWM is refused.
func TestDeviceTreeSourceRingerPWM(t *testing.T) {
	for name, group := range map[string]string{"rpi3b": "pwm0_gpio12", "rpi4b": "pwm0_0_gpio12", "rpizero2w": "pwm0_gpio12"} {
		b, _ := ByName(name)
		b.Wiring.Ringer, b.Wiring.RingerPWM = 12, true
		src, err := b.DeviceTreeSource()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(src, PhoneDTS) || !strings.Contains(src, "&{/soc/pwm@7e20c000} {") ||
			!strings.Contains(src, "pinctrl-0 = <&{/soc/gpio@7e200000/"+group+"}>;") {
			t.Errorf("%s: source for a PWM ringer:\n%s", name, src[len(PhoneDTS):])
		}
		b.Wiring.Ringer = 23
		if _, err := b.DeviceTreeSource(); err == nil || !strings.Contains(err.Error(), "GPIO23") {
			t.Errorf("%s: PWM ringer on GPIO23: %v", name, err)
		}
	}
}
