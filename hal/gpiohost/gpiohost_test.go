package gpiohost

import (
	"strings"
	"testing"
)

func TestInitOnAnyMachine(t *testing.T) {
	// periph's host.Init fails only on a broken driver registry: drivers
	// that find no hardware are reported as skipped or failed, not as err.
	r, err := Init()
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Init()
	if len(r.Loaded) != len(r2.Loaded) {
		t.Error("Init ran twice")
	}
	t.Log(r)
	if _, err := Pin("no-such-chip", 999, false); err == nil {
		t.Error("GPIO999 found")
	}
	if _, err := Pin("pinctrl-bcm2835", 23, true); err == nil || !strings.Contains(err.Error(), "GPIO23 has no PWM") {
		t.Errorf("PWM on GPIO23: %v", err)
	}
	if _, err := I2C(99); err == nil {
		t.Error("I2C bus 99 opened")
	}
}
