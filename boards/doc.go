// Package boards holds one table entry per board the firmware runs on: which
// hal it uses (the virtual panel, or GPIO, I2C and ALSA), its pins, buses,
// codec, ALSA device, kernel and boot configuration. Boards are data; the
// tests check every entry (no pin used twice, none on the I2C or I2S pins,
// a valid codec address, unique names).
//
// Boards: qemu (qemu-system-aarch64 -M virt, virtual panel over
// virtio-serial), sim (the host, virtual panel on a socket), rpi3b, rpi4b
// and rpizero2w (the reference wiring below).
//
// # Reference wiring (Raspberry Pi 3B, 4B, Zero 2 W)
//
// All numbers are BCM GPIO numbers on the 40-pin header. The WM8960 codec
// board (for example Waveshare's WM8960 Audio HAT) takes I2C1 (GPIO 2, 3) and
// I2S (GPIO 18-21); the phone's own parts keep off those and off the ID EEPROM
// (0, 1), the UART console (14, 15) and SPI0 (7-11).
//
//	| part                 | GPIO | header pin | direction, level                        |
//	|----------------------|------|------------|-----------------------------------------|
//	| keypad row 1 (1 2 3) | 5    | 29         | output, driven low to scan               |
//	| keypad row 2 (4 5 6) | 6    | 31         | output, driven low to scan               |
//	| keypad row 3 (7 8 9) | 13   | 33         | output, driven low to scan               |
//	| keypad row 4 (* 0 #) | 26   | 37         | output, driven low to scan               |
//	| keypad col 1         | 16   | 36         | input, pull-up; low = key on this column |
//	| keypad col 2         | 17   | 11         | input, pull-up                           |
//	| keypad col 3         | 27   | 13         | input, pull-up                           |
//	| hookswitch           | 22   | 15         | input, pull-up; high = handset lifted    |
//	| ringer driver        | 23   | 16         | output, high = ringing (via transistor)  |
//	| message lamp (MWI)   | 24   | 18         | output, high = lit                       |
//	| WM8960 I2C SDA/SCL   | 2, 3 | 3, 5       | I2C bus 1, codec at 0x1a                 |
//	| WM8960 I2S           | 18-21| 12,35,38,40| BCLK, LRCLK, DIN, DOUT                   |
//
// The keypad is a 3x4 matrix: each key joins one row to one column; a
// scanner (hal/keypad) drives one row low at a time, leaving the others as
// inputs, and reads which column is pulled low. A 4x4 keypad adds a fourth
// column on GPIO 25 (header pin 22) whose keys carry panel.md names (for
// example send, hold, transfer, cancel). The ringer pin drives a relay or an
// active buzzer high; a passive buzzer wants a hardware-PWM pin (GPIO 12 or
// 13, RingerPWM), which the image's device tree then muxes to the PWM
// controller (DeviceTreeSource) and the firmware drives through the
// kernel's PWM driver. The codec board's 24 MHz crystal is the WM8960's
// MCLK; its PLL makes the 8 and 16 kHz clocks and the codec is the I2S clock
// master, so the codec paces the phone's audio loop. The ALSA card is the
// phone's own (PhoneDTS: the I2S controller with codec-less stubs, so no kernel
// driver owns the WM8960); the firmware sets the codec registers itself
// (hal/wm8960) and moves samples through the card's two PCM devices
// (hal/alsa).
//
// # Kernel and boot
//
// A Raspberry Pi boots Debian's arm64 kernel (DebianKernel) with the Pi's
// own boot firmware; tools/piimage writes the SD card: config.txt (each
// board's section picks its device tree), the kernel, the device trees with
// the sound card added, and an initramfs of phoned and the board's Modules.
//
// Every entry is checked by the tests: no pin twice, none on I2C, I2S,
// EEPROM or UART pins, PWM only where the SoC has it, every dial key
// present and every other key a panel.md name, a cadence for the country, a
// valid codec address and clock.
package boards
