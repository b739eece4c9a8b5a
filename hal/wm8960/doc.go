// Package wm8960 sets up a Wolfson/Cirrus WM8960 codec over I2C for a
// phone's handset: reset, the power-up order of the datasheet (VMID and
// VREF first, then the clocks, then the analogue blocks), the PLL and
// dividers for 8, 16 and 48 kHz from the board's MCLK (24 MHz on the
// Waveshare WM8960 Audio HAT), the microphone (LINPUT1/RINPUT1 through the
// input PGAs and boost mixers) to the ADCs, the DACs to the headphone
// (earpiece) and speaker outputs, and the volumes, mute and microphone
// gain of hal.CodecControl.
//
// The codec is the I2S clock master (BCLK = 64 fs, one LRCLK shared by
// the ADC and DAC): the samples themselves move through the kernel's ALSA
// device (hal/alsa), and the codec's clock paces the phone's audio loop.
//
// The WM8960's control interface is write-only: each write is two bytes,
// the 7-bit register address and the 9-bit value's top bit, then the low
// eight bits. The driver keeps no state it cannot rewrite whole. It takes a
// periph i2c.Bus, so periph's i2ctest records and plays back the register
// sequence in tests.
package wm8960
