package pwmsys

import (
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Root is where Linux lists PWM controllers.
const Root = "/sys/class/pwm"

// defaultPeriod is the period Out(High) and PWM(duty, 0) use when the
// channel has none yet (1 kHz); a 100 % duty cycle is a steady high at any
// period, and 1 ms is well inside what every controller can do.
const defaultPeriod = time.Millisecond

// Seams for the tests: sysfs files cannot be faked by plain files when the
// kernel's checks (duty cycle <= period) and write order matter.
var (
	// writeFile writes one sysfs attribute.
	writeFile = os.WriteFile
	// exportWait is how long Open waits for pwmM to appear after export;
	// without udev it appears before the write returns, with udev it may
	// take a moment.
	exportWait = time.Second
)

// FindChip returns the pwmchipN folder under root whose device link's last
// element ends with deviceSuffix (e.g. "20c000.pwm": the BCM2835/2711 PWM0
// controller at bus address 0x7e20c000, seen by Linux as 3f20c000.pwm on a
// Pi 3 and fe20c000.pwm on a Pi 4). The error lists the chips there are
// (name -> device).
func FindChip(root, deviceSuffix string) (string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("pwmsys: list PWM chips: %w", err)
	}
	var have []string
	for _, e := range entries {
		// In sysfs each pwmchipN is a symlink into /sys/devices, so the
		// entry's type says nothing; the name is what counts.
		if !strings.HasPrefix(e.Name(), "pwmchip") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		link, err := os.Readlink(filepath.Join(dir, "device"))
		if err != nil {
			have = append(have, e.Name()+" -> ?")
			continue
		}
		dev := filepath.Base(link)
		if strings.HasSuffix(dev, deviceSuffix) {
			return dir, nil
		}
		have = append(have, e.Name()+" -> "+dev)
	}
	if len(have) == 0 {
		return "", fmt.Errorf("pwmsys: no PWM chip under %s has a device ending in %q: there are none (is the PWM controller enabled in the device tree?)", root, deviceSuffix)
	}
	return "", fmt.Errorf("pwmsys: no PWM chip under %s has a device ending in %q (have %s)", root, deviceSuffix, strings.Join(have, ", "))
}

// Pin is one channel of a PWM chip. Out(High) is 100 % duty, Out(Low)
// turns the channel off; PWM(duty, f) sets period 1/f and the duty cycle
// and turns it on. It is an output only: In fails, Read returns the last
// level set, WaitForEdge returns false.
//
// A Pin is safe for concurrent use.
type Pin struct {
	chipDir string
	channel int
	dir     string // chipDir/pwmM
	name    string
	number  int

	mu     sync.Mutex
	level  gpio.Level // last level set: High while a PWM with duty > 0 runs
	pwm    bool       // the last setting was PWM with 0 < duty < 100 %
	closed bool
}

var _ gpio.PinIO = (*Pin)(nil)

// Open exports channel of the chip folder (from FindChip) and returns it as
// a pin named name (e.g. "GPIO12") with number (12).
//
// It changes nothing on the channel beyond exporting it (an already
// exported channel is fine); the caller's first Out or PWM sets it up.
func Open(chipDir string, channel int, name string, number int) (*Pin, error) {
	npwm, err := readInt(filepath.Join(chipDir, "npwm"))
	if err != nil {
		return nil, fmt.Errorf("pwmsys: %s: %w", name, err)
	}
	if channel < 0 || int64(channel) >= npwm {
		return nil, fmt.Errorf("pwmsys: %s: %s has channels 0 to %d, not %d", name, chipDir, npwm-1, channel)
	}
	p := &Pin{
		chipDir: chipDir,
		channel: channel,
		dir:     filepath.Join(chipDir, "pwm"+strconv.Itoa(channel)),
		name:    name,
		number:  number,
	}
	export := filepath.Join(chipDir, "export")
	if err := p.write(export, int64(channel)); err != nil && !errors.Is(err, syscall.EBUSY) {
		// EBUSY: already exported (by an earlier run, or by hand).
		return nil, err
	}
	enable := filepath.Join(p.dir, "enable")
	deadline := time.Now().Add(exportWait)
	for {
		_, err := os.Stat(enable)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pwmsys: %s: %w", name, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("pwmsys: %s: wrote %d to %s but %s did not appear within %v", name, channel, export, enable, exportWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p, nil
}

// Close turns the channel off and unexports it. Later calls do nothing.
func (p *Pin) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.level, p.pwm = gpio.Low, false
	// Unexport even if disabling failed, so the channel is handed back
	// either way.
	off := p.off()
	unexport := p.write(filepath.Join(p.chipDir, "unexport"), int64(p.channel))
	return errors.Join(off, unexport)
}

// String returns the pin's name and the channel behind it, e.g.
// "GPIO12(pwmchip0/pwm0)".
func (p *Pin) String() string {
	return fmt.Sprintf("%s(%s/pwm%d)", p.name, filepath.Base(p.chipDir), p.channel)
}

// Name returns the name given to Open.
func (p *Pin) Name() string { return p.name }

// Number returns the number given to Open.
func (p *Pin) Number() int { return p.number }

// Function returns "PWM" while a square wave runs, otherwise "Out/Low" or
// "Out/High".
//
// Deprecated: periph v3 keeps it in pin.Pin; it goes in v4.
func (p *Pin) Function() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pwm {
		return "PWM"
	}
	return "Out/" + p.level.String()
}

// Halt turns the channel off, like Out(Low); it stays exported.
func (p *Pin) Halt() error {
	return p.Out(gpio.Low)
}

// In fails: the channel is an output only.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	return fmt.Errorf("pwmsys: %s is a PWM output; it cannot be an input", p)
}

// Read returns the last level set: Low after Out(Low), Halt or PWM with duty
// 0, High after Out(High) or while a PWM with a non-zero duty runs. It does
// not sample the pin (sysfs PWM cannot).
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge returns false at once: an output sees no edges.
func (p *Pin) WaitForEdge(timeout time.Duration) bool { return false }

// Pull returns gpio.PullNoChange: sysfs PWM neither sets nor reports the
// pull resistor.
func (p *Pin) Pull() gpio.Pull { return gpio.PullNoChange }

// DefaultPull returns gpio.PullNoChange, as Pull.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.PullNoChange }

// Out(Low) turns the channel off. Out(High) turns it on at 100 % duty: the
// duty cycle is set to the period in force, or to 1 ms with the period when
// none is set yet.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return err
	}
	if l == gpio.Low {
		if err := p.off(); err != nil {
			return err
		}
		p.level, p.pwm = gpio.Low, false
		return nil
	}
	period, err := readDuration(filepath.Join(p.dir, "period"))
	if err != nil {
		return fmt.Errorf("pwmsys: %s: %w", p, err)
	}
	if period <= 0 {
		period = defaultPeriod
	}
	if err := p.apply(period, period); err != nil {
		return err
	}
	p.level, p.pwm = gpio.High, false
	return nil
}

// PWM sets the period to 1/f and the duty cycle to duty/gpio.DutyMax of it,
// and turns the channel on. Following periph's conventions, duty 0 is
// Out(Low), and f 0 keeps the period in force (1 ms when none is set yet).
// duty must be within 0 to gpio.DutyMax; f must be positive and at most
// 2 GHz (above, the period rounds to 0 ns). Whether the controller can make
// the period is the kernel driver's call: it refuses with EINVAL, which the
// error reports with the file and value.
func (p *Pin) PWM(duty gpio.Duty, f physic.Frequency) error {
	if !duty.Valid() {
		return fmt.Errorf("pwmsys: %s: duty %d is outside 0 to %d (gpio.DutyMax)", p, duty, gpio.DutyMax)
	}
	if f < 0 {
		return fmt.Errorf("pwmsys: %s: frequency %s is negative", p, f)
	}
	if duty == 0 {
		return p.Out(gpio.Low)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return err
	}
	var period time.Duration
	if f == 0 {
		cur, err := readDuration(filepath.Join(p.dir, "period"))
		if err != nil {
			return fmt.Errorf("pwmsys: %s: %w", p, err)
		}
		period = cur
		if period <= 0 {
			period = defaultPeriod
		}
	} else {
		// Period rounds to the nearest ns and is at most 1e15 ns (1 µHz),
		// which fits the kernel's u64 period.
		period = f.Period()
		if period <= 0 {
			return fmt.Errorf("pwmsys: %s: frequency %s is too high: its period rounds to 0 ns", p, f)
		}
	}
	if err := p.apply(period, dutyOf(period, duty)); err != nil {
		return err
	}
	p.level, p.pwm = gpio.High, duty != gpio.DutyMax
	return nil
}

// dutyOf returns duty/gpio.DutyMax of period, rounded to the nearest ns.
// The product can exceed 64 bits (a 1e15 ns period times 1<<24), so it is
// taken in 128.
func dutyOf(period time.Duration, duty gpio.Duty) time.Duration {
	hi, lo := bits.Mul64(uint64(period), uint64(duty))
	lo, carry := bits.Add64(lo, uint64(gpio.DutyMax/2), 0)
	// hi < 1<<23 (period < 1<<63, duty <= 1<<24), so Div64 cannot overflow.
	q, _ := bits.Div64(hi+carry, lo, uint64(gpio.DutyMax))
	return time.Duration(q)
}

// apply sets period and duty cycle, then enables the channel. The kernel
// checks duty_cycle <= period at every write, so the period goes first
// unless it is shorter than the duty cycle in force; then the new duty
// cycle (which is at most the new period, hence shorter than the old one)
// goes first. The duty cycle in force is read back rather than remembered,
// so a failed write or another writer cannot mislead the order.
func (p *Pin) apply(period, duty time.Duration) error {
	curDuty, err := readDuration(filepath.Join(p.dir, "duty_cycle"))
	if err != nil {
		return fmt.Errorf("pwmsys: %s: %w", p, err)
	}
	periodFile := filepath.Join(p.dir, "period")
	dutyFile := filepath.Join(p.dir, "duty_cycle")
	first, second := periodFile, dutyFile
	firstV, secondV := period, duty
	if period < curDuty {
		first, second = dutyFile, periodFile
		firstV, secondV = duty, period
	}
	if err := p.write(first, int64(firstV)); err != nil {
		return err
	}
	if err := p.write(second, int64(secondV)); err != nil {
		return err
	}
	return p.write(filepath.Join(p.dir, "enable"), 1)
}

// off turns the channel off. A channel that is off already is left alone:
// Linux 6.1 refuses any write to enable, 0 included, while the period is 0,
// which is how a channel comes out of export (found on the kernel in QEMU's
// raspi3b: the ringer's first Out(Low) failed with EINVAL).
func (p *Pin) off() error {
	enable := filepath.Join(p.dir, "enable")
	if cur, err := readInt(enable); err == nil && cur == 0 {
		return nil
	}
	return p.write(enable, 0)
}

func (p *Pin) usable() error {
	if p.closed {
		return fmt.Errorf("pwmsys: %s is closed", p)
	}
	return nil
}

// write writes v in decimal to the sysfs attribute path. The error names
// the pin, the value and the file, and wraps the kernel's errno (EINVAL for
// a value the driver refuses, EBUSY for an exported channel).
func (p *Pin) write(path string, v int64) error {
	s := strconv.FormatInt(v, 10)
	if err := writeFile(path, []byte(s), 0o644); err != nil {
		// os.WriteFile's *PathError repeats the path; keep its cause.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("pwmsys: %s: write %s to %s: %w", p.name, s, path, err)
	}
	return nil
}

// readInt reads a sysfs attribute holding one decimal integer.
func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return v, nil
}

// readDuration reads a sysfs attribute holding nanoseconds.
func readDuration(path string) (time.Duration, error) {
	v, err := readInt(path)
	return time.Duration(v), err
}
