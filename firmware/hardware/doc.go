// Package hardware builds a hardware board's hal from its boards.Board
// entry: the keypad matrix and hookswitch become the phone's hal.Input, the
// ringer, message lamp and (logged) display its hal.Observer, and the WM8960
// codec (set up over I2C) with the ALSA PCM device its hal.Codec. The phone
// logic above it is the same as on the qemu and sim boards, whose hal is
// the virtual panel (hal/panel).
//
// New checks the board and touches nothing; Start starts periph's host
// drivers (through hal/gpiohost: this package never imports periph's host
// itself), opens the pins and the I2C bus, initialises each part and logs
// for each whether it loaded, was skipped or failed. A part that fails is
// left out (a phone without a ringer still makes calls); Start fails only
// when no part works.
package hardware
