package gpiohost

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"

	"github.com/deskphone/deskphone/hal/pwmsys"
)

// Report says what periph's host drivers did.
type Report struct {
	Loaded, Skipped, Failed []string
}

func (r Report) String() string {
	return fmt.Sprintf("loaded %v, skipped %v, failed %v", r.Loaded, r.Skipped, r.Failed)
}

var (
	once    sync.Once
	report  Report
	initErr error
)

// Init starts periph's host drivers once; later calls return the first
// result.
func Init() (Report, error) {
	once.Do(func() {
		st, err := host.Init()
		if err != nil {
			initErr = fmt.Errorf("gpiohost: %w", err)
			return
		}
		report = fromState(st)
	})
	return report, initErr
}

func fromState(st *driverreg.State) Report {
	var r Report
	for _, d := range st.Loaded {
		r.Loaded = append(r.Loaded, d.String())
	}
	for _, f := range st.Skipped {
		r.Skipped = append(r.Skipped, fmt.Sprintf("%s (%v)", f.D, f.Err))
	}
	for _, f := range st.Failed {
		r.Failed = append(r.Failed, fmt.Sprintf("%s (%v)", f.D, f.Err))
	}
	return r
}

// pwmChannel is the channel of PWM0 (the controller at bus address
// 0x7e20c000) each PWM-capable header pin is on.
var pwmChannel = map[int]int{12: 0, 13: 1, 18: 0, 19: 1}

// Pin returns BCM GPIO n. Without pwm it is line n of the GPIO character
// device chip, named by its label ("pinctrl-bcm2711", what gpiodetect shows
// in brackets: the same on every boot) or its device name ("gpiochip0",
// which depends on probe order). With pwm it is the pin's channel of the
// kernel's PWM controller through sysfs (hal/pwmsys), which the board's
// device tree turns on (boards.Board.DeviceTreeSource). When neither is
// there, it is periph's registry name "GPIOn" (the memory-mapped bcm283x
// driver, which does PWM too, on kernels that let it map the SoC).
func Pin(chip string, n int, pwm bool) (gpio.PinIO, error) {
	var why []string
	if pwm {
		ch, ok := pwmChannel[n]
		if !ok {
			return nil, fmt.Errorf("gpiohost: GPIO%d has no PWM (GPIO 12, 13, 18 and 19 have)", n)
		}
		dir, err := pwmsys.FindChip(pwmsys.Root, "20c000.pwm")
		if err == nil {
			return pwmsys.Open(dir, ch, "GPIO"+strconv.Itoa(n), n)
		}
		why = append(why, err.Error())
	} else {
		var have []string
		for _, c := range gpioioctl.Chips {
			if c.Label() == chip || c.Name() == chip {
				if l := c.ByNumber(n); l != nil {
					return l, nil
				}
				return nil, fmt.Errorf("gpiohost: %s has no line %d", chip, n)
			}
			have = append(have, fmt.Sprintf("%s [%s]", c.Name(), c.Label()))
		}
		why = append(why, fmt.Sprintf("no GPIO chip %q (chips: %s)", chip, strings.Join(have, ", ")))
	}
	if p := gpioreg.ByName("GPIO" + strconv.Itoa(n)); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("gpiohost: no GPIO%d: %s; and no memory-mapped GPIO", n, strings.Join(why, "; "))
}

// I2C opens /dev/i2c-bus.
func I2C(bus int) (i2c.BusCloser, error) {
	b, err := i2creg.Open(strconv.Itoa(bus))
	if err != nil {
		return nil, fmt.Errorf("gpiohost: I2C bus %d: %w", bus, err)
	}
	return b, nil
}
