// Package gpiohost is the one place the firmware starts periph's host
// drivers (periph.io/x/host/v3: bcm283x on a Raspberry Pi, the GPIO
// character device through gpioioctl, /dev/i2c-N through sysfs) and looks
// up the pins and buses a board names. Init says which drivers loaded,
// were skipped or failed; Pin and I2C hand out periph's small types, which
// the hal drivers (keypad, hook, ringer, wm8960) take.
package gpiohost
