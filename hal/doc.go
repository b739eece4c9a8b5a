// Package hal holds the phone-shaped hardware interfaces: key and hook input,
// the PCM codec that clocks the audio loop, and the observer through which the
// phone shows what a person sees and hears; and, for hardware boards, the
// parts behind them: Keypad (key events with long press), Hook, Ringer
// (named cadences), CodecControl (volume, mute, microphone gain), PCM (a
// Codec that starts and stops) and Indicators (lamps, display rows).
//
// Drivers live in sub-packages: hal/panel is the virtual panel, the whole hal
// of the qemu and sim boards; on a Raspberry Pi, hal/keypad, hal/hook and
// hal/ringer drive GPIOs and hal/wm8960 the codec's registers through
// periph.io's small types (gpio.PinIO, gpio.PinIn, gpio.PinOut, i2c.Bus),
// hal/alsa moves the samples through the kernel's ALSA PCM device, and
// hal/gpiohost is the only package that starts periph's host drivers.
// firmware/hardware assembles them from a board's entry in boards.
package hal
