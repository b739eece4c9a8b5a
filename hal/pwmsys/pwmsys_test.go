package pwmsys

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// write is one sysfs write the fake kernel saw: the path relative to the
// chip folder and the value.
type write struct{ path, value string }

// fakeKernel is a /sys/class/pwm tree in a temporary folder with one chip,
// pwmchip0 (npwm 2, device 3f20c000.pwm). Channel 0's folder exists up front
// (a plain file cannot create it on export); channel 1's never appears.
// Writes go through it (writeFile) and get the kernel's checks: a file must
// exist, duty_cycle <= period, period > 0, enable is 0 or 1 and needs a
// period (either value: Linux 6.1 refuses enable 0 too while the period is
// 0), and exporting an exported channel is EBUSY.
type fakeKernel struct {
	t        *testing.T
	root     string
	chip     string
	writes   []write
	exported map[string]bool
	reject   map[string]error // relative path -> error to return
}

func newFake(t *testing.T) *fakeKernel {
	t.Helper()
	tmp := t.TempDir()
	k := &fakeKernel{
		t:        t,
		root:     filepath.Join(tmp, "class", "pwm"),
		exported: map[string]bool{},
		reject:   map[string]error{},
	}
	k.chip = filepath.Join(k.root, "pwmchip0")
	dev := filepath.Join(tmp, "devices", "3f20c000.pwm")
	mkdir(t, dev)
	mkdir(t, k.chip)
	if err := os.Symlink(dev, filepath.Join(k.chip, "device")); err != nil {
		t.Fatal(err)
	}
	put(t, filepath.Join(k.chip, "npwm"), "2\n")
	put(t, filepath.Join(k.chip, "export"), "")
	put(t, filepath.Join(k.chip, "unexport"), "")
	mkdir(t, filepath.Join(k.chip, "pwm0"))
	for _, f := range []string{"period", "duty_cycle", "enable"} {
		put(t, filepath.Join(k.chip, "pwm0", f), "0\n")
	}

	oldWrite, oldWait := writeFile, exportWait
	writeFile = k.writeFile
	exportWait = 100 * time.Millisecond
	t.Cleanup(func() { writeFile, exportWait = oldWrite, oldWait })
	return k
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (k *fakeKernel) writeFile(path string, data []byte, perm os.FileMode) error {
	rel, err := filepath.Rel(k.chip, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		k.t.Fatalf("write outside the chip: %s", path)
	}
	k.writes = append(k.writes, write{filepath.ToSlash(rel), string(data)})
	fail := func(errno error) error { return &fs.PathError{Op: "write", Path: path, Err: errno} }
	if err := k.reject[filepath.ToSlash(rel)]; err != nil {
		return fail(err)
	}
	if _, err := os.Stat(path); err != nil {
		return fail(syscall.ENOENT) // sysfs creates no files
	}
	v, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil || v < 0 {
		return fail(syscall.EINVAL)
	}
	dir := filepath.Dir(path)
	switch filepath.Base(path) {
	case "export":
		if k.exported[string(data)] {
			return fail(syscall.EBUSY)
		}
		k.exported[string(data)] = true
	case "unexport":
		if !k.exported[string(data)] {
			return fail(syscall.EINVAL)
		}
		delete(k.exported, string(data))
	case "period":
		if v == 0 || k.read(filepath.Join(dir, "duty_cycle")) > v {
			return fail(syscall.EINVAL)
		}
	case "duty_cycle":
		if p := k.read(filepath.Join(dir, "period")); p == 0 || v > p {
			return fail(syscall.EINVAL)
		}
	case "enable":
		if v > 1 || k.read(filepath.Join(dir, "period")) == 0 {
			return fail(syscall.EINVAL)
		}
	}
	return os.WriteFile(path, append(data, '\n'), perm)
}

func (k *fakeKernel) read(path string) int64 {
	k.t.Helper()
	v, err := readInt(path)
	if err != nil {
		k.t.Fatal(err)
	}
	return v
}

// state returns channel 0's period, duty_cycle and enable.
func (k *fakeKernel) state() [3]int64 {
	k.t.Helper()
	d := filepath.Join(k.chip, "pwm0")
	return [3]int64{k.read(filepath.Join(d, "period")), k.read(filepath.Join(d, "duty_cycle")), k.read(filepath.Join(d, "enable"))}
}

// take returns the writes since the last call.
func (k *fakeKernel) take() []write {
	w := k.writes
	k.writes = nil
	return w
}

func (k *fakeKernel) open(t *testing.T) *Pin {
	t.Helper()
	p, err := Open(k.chip, 0, "GPIO12", 12)
	if err != nil {
		t.Fatal(err)
	}
	k.take()
	return p
}

func TestFindChip(t *testing.T) {
	k := newFake(t)
	// A second controller, and a chip whose device link is missing.
	other := filepath.Join(k.root, "pwmchip2")
	mkdir(t, other)
	if err := os.Symlink("../../../3f300000.pwm", filepath.Join(other, "device")); err != nil {
		t.Fatal(err)
	}
	mkdir(t, filepath.Join(k.root, "pwmchip4"))

	for _, suffix := range []string{"20c000.pwm", "3f20c000.pwm"} {
		got, err := FindChip(k.root, suffix)
		if err != nil || got != k.chip {
			t.Errorf("FindChip(%q) = %q, %v; want %q", suffix, got, err, k.chip)
		}
	}
	if got, err := FindChip(k.root, "300000.pwm"); err != nil || got != other {
		t.Errorf("FindChip(300000.pwm) = %q, %v; want %q", got, err, other)
	}

	_, err := FindChip(k.root, "fe20c000.pwm")
	if err == nil {
		t.Fatal("FindChip(fe20c000.pwm) found a chip on a Pi 3 tree")
	}
	for _, want := range []string{`"fe20c000.pwm"`, "pwmchip0 -> 3f20c000.pwm", "pwmchip2 -> 3f300000.pwm", "pwmchip4 -> ?"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	empty := t.TempDir()
	if _, err := FindChip(empty, "20c000.pwm"); err == nil || !strings.Contains(err.Error(), "there are none") {
		t.Errorf("FindChip on an empty class = %v; want an error saying there are none", err)
	}
	if _, err := FindChip(filepath.Join(empty, "missing"), "20c000.pwm"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("FindChip on a missing class = %v; want fs.ErrNotExist", err)
	}
}

func TestOpen(t *testing.T) {
	k := newFake(t)
	p, err := Open(k.chip, 0, "GPIO12", 12)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.take(), []write{{"export", "0"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Open wrote %v; want %v", got, want)
	}
	if p.Name() != "GPIO12" || p.Number() != 12 || p.String() != "GPIO12(pwmchip0/pwm0)" {
		t.Errorf("Name, Number, String = %q, %d, %q", p.Name(), p.Number(), p.String())
	}
	if got := k.state(); got != [3]int64{0, 0, 0} {
		t.Errorf("Open changed the channel: period, duty, enable = %v", got)
	}

	// Exporting again is EBUSY in the kernel, which is fine.
	if _, err := Open(k.chip, 0, "GPIO12", 12); err != nil {
		t.Errorf("Open of an exported channel: %v", err)
	}
	if got, want := k.take(), []write{{"export", "0"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("second Open wrote %v; want %v", got, want)
	}
}

func TestOpenChannelNeverAppears(t *testing.T) {
	k := newFake(t)
	start := time.Now()
	_, err := Open(k.chip, 1, "GPIO13", 13)
	if err == nil {
		t.Fatal("Open succeeded without pwm1")
	}
	if waited := time.Since(start); waited < exportWait {
		t.Errorf("Open gave up after %v; want at least %v", waited, exportWait)
	}
	for _, want := range []string{"GPIO13", filepath.Join(k.chip, "export"), filepath.Join(k.chip, "pwm1", "enable"), "did not appear"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if got, want := k.take(), []write{{"export", "1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Open wrote %v; want %v", got, want)
	}
}

func TestOpenBadChannel(t *testing.T) {
	k := newFake(t)
	for _, ch := range []int{2, -1} {
		_, err := Open(k.chip, ch, "GPIO12", 12)
		if err == nil || !strings.Contains(err.Error(), "channels 0 to 1") {
			t.Errorf("Open channel %d = %v; want an error naming channels 0 to 1", ch, err)
		}
	}
	if len(k.writes) != 0 {
		t.Errorf("Open of a bad channel wrote %v", k.writes)
	}
	if _, err := Open(filepath.Join(k.root, "pwmchip9"), 0, "GPIO12", 12); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing chip = %v; want fs.ErrNotExist", err)
	}
}

// TestRinging walks the pin through what hal/ringer does to it and checks
// the files and the order of the writes after each step.
func TestRinging(t *testing.T) {
	k := newFake(t)
	p := k.open(t)

	steps := []struct {
		name   string
		do     func() error
		writes []write
		state  [3]int64 // period, duty_cycle, enable
		level  gpio.Level
		fn     string
	}{
		{
			name:   "PWM 50% 2kHz from nothing: period first",
			do:     func() error { return p.PWM(gpio.DutyHalf, 2*physic.KiloHertz) },
			writes: []write{{"pwm0/period", "500000"}, {"pwm0/duty_cycle", "250000"}, {"pwm0/enable", "1"}},
			state:  [3]int64{500000, 250000, 1}, level: gpio.High, fn: "PWM",
		},
		{
			name:   "PWM 50% 5kHz: period below the duty in force, so duty first",
			do:     func() error { return p.PWM(gpio.DutyHalf, 5*physic.KiloHertz) },
			writes: []write{{"pwm0/duty_cycle", "100000"}, {"pwm0/period", "200000"}, {"pwm0/enable", "1"}},
			state:  [3]int64{200000, 100000, 1}, level: gpio.High, fn: "PWM",
		},
		{
			name:   "PWM 25% 1kHz: longer period, so period first",
			do:     func() error { return p.PWM(gpio.DutyMax/4, physic.KiloHertz) },
			writes: []write{{"pwm0/period", "1000000"}, {"pwm0/duty_cycle", "250000"}, {"pwm0/enable", "1"}},
			state:  [3]int64{1000000, 250000, 1}, level: gpio.High, fn: "PWM",
		},
		{
			name:   "Out(Low) turns it off",
			do:     func() error { return p.Out(gpio.Low) },
			writes: []write{{"pwm0/enable", "0"}},
			state:  [3]int64{1000000, 250000, 0}, level: gpio.Low, fn: "Out/Low",
		},
		{
			name:   "Out(High) keeps the period, duty = period",
			do:     func() error { return p.Out(gpio.High) },
			writes: []write{{"pwm0/period", "1000000"}, {"pwm0/duty_cycle", "1000000"}, {"pwm0/enable", "1"}},
			state:  [3]int64{1000000, 1000000, 1}, level: gpio.High, fn: "Out/High",
		},
		{
			name:   "PWM 50% 2kHz after 100%: duty first",
			do:     func() error { return p.PWM(gpio.DutyHalf, 2*physic.KiloHertz) },
			writes: []write{{"pwm0/duty_cycle", "250000"}, {"pwm0/period", "500000"}, {"pwm0/enable", "1"}},
			state:  [3]int64{500000, 250000, 1}, level: gpio.High, fn: "PWM",
		},
		{
			name:   "PWM duty 0 is Out(Low)",
			do:     func() error { return p.PWM(0, 2*physic.KiloHertz) },
			writes: []write{{"pwm0/enable", "0"}},
			state:  [3]int64{500000, 250000, 0}, level: gpio.Low, fn: "Out/Low",
		},
		{
			name:   "PWM frequency 0 keeps the period",
			do:     func() error { return p.PWM(gpio.DutyMax/4, 0) },
			writes: []write{{"pwm0/period", "500000"}, {"pwm0/duty_cycle", "125000"}, {"pwm0/enable", "1"}},
			state:  [3]int64{500000, 125000, 1}, level: gpio.High, fn: "PWM",
		},
		{
			name:   "PWM 100% is a steady high at 1/f",
			do:     func() error { return p.PWM(gpio.DutyMax, 4*physic.KiloHertz) },
			writes: []write{{"pwm0/period", "250000"}, {"pwm0/duty_cycle", "250000"}, {"pwm0/enable", "1"}},
			state:  [3]int64{250000, 250000, 1}, level: gpio.High, fn: "Out/High",
		},
		{
			name:   "Halt turns it off",
			do:     p.Halt,
			writes: []write{{"pwm0/enable", "0"}},
			state:  [3]int64{250000, 250000, 0}, level: gpio.Low, fn: "Out/Low",
		},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := k.take(); !reflect.DeepEqual(got, s.writes) {
			t.Errorf("%s: wrote %v; want %v", s.name, got, s.writes)
		}
		if got := k.state(); got != s.state {
			t.Errorf("%s: period, duty_cycle, enable = %v; want %v", s.name, got, s.state)
		}
		if got := p.Read(); got != s.level {
			t.Errorf("%s: Read = %v; want %v", s.name, got, s.level)
		}
		if got := p.Function(); got != s.fn {
			t.Errorf("%s: Function = %q; want %q", s.name, got, s.fn)
		}
	}

	if err := p.PWM(gpio.DutyHalf, 2*physic.KiloHertz); err != nil {
		t.Fatal(err)
	}
	k.take()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := k.take(), []write{{"pwm0/enable", "0"}, {"unexport", "0"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Close wrote %v; want %v", got, want)
	}
	if got := k.state(); got[2] != 0 {
		t.Errorf("Close left enable %d", got[2])
	}
	if p.Read() != gpio.Low {
		t.Error("Read after Close is High")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, do := range map[string]func() error{
		"Out":  func() error { return p.Out(gpio.High) },
		"PWM":  func() error { return p.PWM(gpio.DutyHalf, physic.KiloHertz) },
		"Halt": p.Halt,
	} {
		if err := do(); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("%s after Close = %v; want an error saying it is closed", name, err)
		}
	}
	if len(k.writes) != 0 {
		t.Errorf("a closed pin wrote %v", k.writes)
	}
}

// A fresh channel has period 0; Out(High) and PWM(duty, 0) must set one
// (the kernel refuses a duty cycle or enable without it).
func TestFreshChannelDefaultPeriod(t *testing.T) {
	for _, c := range []struct {
		name  string
		do    func(p *Pin) error
		state [3]int64
	}{
		{"Out(High)", func(p *Pin) error { return p.Out(gpio.High) }, [3]int64{1000000, 1000000, 1}},
		{"PWM(50%, 0)", func(p *Pin) error { return p.PWM(gpio.DutyHalf, 0) }, [3]int64{1000000, 500000, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := newFake(t)
			p := k.open(t)
			if err := c.do(p); err != nil {
				t.Fatal(err)
			}
			if got := k.state(); got != c.state {
				t.Errorf("period, duty_cycle, enable = %v; want %v", got, c.state)
			}
		})
	}
}

func TestPWMRejectsBadInput(t *testing.T) {
	k := newFake(t)
	p := k.open(t)
	for _, c := range []struct {
		duty gpio.Duty
		f    physic.Frequency
		want string
	}{
		{gpio.DutyMax + 1, physic.KiloHertz, "outside 0 to 16777216"},
		{-1, physic.KiloHertz, "outside 0 to 16777216"},
		{gpio.DutyHalf, -physic.KiloHertz, "negative"},
		{gpio.DutyHalf, 3 * physic.GigaHertz, "rounds to 0 ns"},
	} {
		err := p.PWM(c.duty, c.f)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "GPIO12") {
			t.Errorf("PWM(%d, %s) = %v; want an error naming GPIO12 and saying %q", c.duty, c.f, err, c.want)
		}
	}
	if len(k.writes) != 0 {
		t.Errorf("rejected input wrote %v", k.writes)
	}
}

// The kernel refuses a value (here every period, as a controller would
// one it cannot make); the error names the file and value and keeps the
// errno.
func TestKernelRejects(t *testing.T) {
	k := newFake(t)
	p := k.open(t)
	k.reject["pwm0/period"] = syscall.EINVAL
	err := p.PWM(gpio.DutyHalf, 2*physic.KiloHertz)
	if err == nil {
		t.Fatal("PWM succeeded though the kernel refused the period")
	}
	period := filepath.Join(k.chip, "pwm0", "period")
	for _, want := range []string{"GPIO12", "write 500000 to " + period, syscall.EINVAL.Error()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Count(err.Error(), period) != 1 {
		t.Errorf("error %q repeats the path", err)
	}
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("error %q does not wrap EINVAL", err)
	}
	if got := k.state(); got[2] != 0 {
		t.Error("a refused period left the channel enabled")
	}
	if p.Read() != gpio.Low {
		t.Error("Read is High after a failed PWM")
	}

	delete(k.reject, "pwm0/period")
	if err := p.PWM(gpio.DutyHalf, 2*physic.KiloHertz); err != nil {
		t.Fatal(err)
	}
	k.reject["pwm0/enable"] = syscall.EIO
	if err := p.Out(gpio.Low); !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), filepath.Join(k.chip, "pwm0", "enable")) {
		t.Errorf("Out(Low) with enable refused = %v; want EIO naming the enable file", err)
	}

	// Close still unexports when disabling fails, and reports the failure.
	err = p.Close()
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("Close = %v; want the enable write's EIO", err)
	}
	if w := k.take(); len(w) == 0 || w[len(w)-1] != (write{"unexport", "0"}) {
		t.Errorf("Close wrote %v; want it to end with unexport 0", w)
	}

	k.reject["export"] = syscall.EACCES
	if _, err := Open(k.chip, 0, "GPIO12", 12); !errors.Is(err, syscall.EACCES) || !strings.Contains(err.Error(), "write 0 to "+filepath.Join(k.chip, "export")) {
		t.Errorf("Open with export refused = %v; want EACCES naming the export file", err)
	}
}

func TestOutputOnly(t *testing.T) {
	k := newFake(t)
	p := k.open(t)
	if err := p.In(gpio.PullUp, gpio.BothEdges); err == nil || !strings.Contains(err.Error(), "GPIO12") {
		t.Errorf("In = %v; want an error naming the pin", err)
	}
	if p.WaitForEdge(time.Hour) {
		t.Error("WaitForEdge saw an edge on an output")
	}
	if p.Pull() != gpio.PullNoChange || p.DefaultPull() != gpio.PullNoChange {
		t.Errorf("Pull, DefaultPull = %v, %v; want PullNoChange", p.Pull(), p.DefaultPull())
	}
	if p.Read() != gpio.Low || p.Function() != "Out/Low" {
		t.Errorf("a fresh pin reads %v, function %q; want Low, Out/Low", p.Read(), p.Function())
	}
	if len(k.writes) != 0 {
		t.Errorf("In, Read, WaitForEdge, Pull wrote %v", k.writes)
	}
}

func TestDutyOf(t *testing.T) {
	for _, c := range []struct {
		period time.Duration
		duty   gpio.Duty
		want   time.Duration
	}{
		{500000, gpio.DutyHalf, 250000},
		{500000, gpio.DutyMax, 500000},
		{500000, 0, 0},
		{3, gpio.DutyHalf, 2}, // 1.5 rounds up
		{1000, 1, 0},          // 1/16777216 of 1 µs
		// 1 µHz: a 1e15 ns period; period*duty needs more than 64 bits.
		{physic.MicroHertz.Period(), gpio.DutyMax, 1e15},
		{physic.MicroHertz.Period(), gpio.DutyHalf, 5e14},
		{1<<63 - 1, gpio.DutyMax, 1<<63 - 1},
	} {
		if got := dutyOf(c.period, c.duty); got != c.want {
			t.Errorf("dutyOf(%d, %d) = %d; want %d", c.period, c.duty, got, c.want)
		}
	}
}

// A channel fresh from export has period 0, and Linux 6.1 refuses even
// enable 0 then: Out(Low) on it (the ringer's Init) and Close write nothing
// to enable.
func TestOffFreshChannel(t *testing.T) {
	k := newFake(t)
	p := k.open(t)
	k.take()
	if err := p.Out(gpio.Low); err != nil {
		t.Fatalf("Out(Low) on a fresh channel: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close of a fresh channel: %v", err)
	}
	if got, want := k.take(), []write{{"unexport", "0"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("wrote %v; want %v", got, want)
	}
}
