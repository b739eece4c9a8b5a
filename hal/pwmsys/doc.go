// Package pwmsys drives one channel of a Linux kernel PWM controller through
// sysfs (/sys/class/pwm, Documentation/ABI/testing/sysfs-class-pwm) and
// presents it as a periph gpio.PinIO, so hal/ringer can sound a passive
// buzzer with pin.PWM(gpio.DutyHalf, f) and silence it with
// pin.Out(gpio.Low).
//
// Why not periph's bcm283x driver: on Debian's arm64 kernel it cannot map
// the GPIO and PWM registers (there is no /dev/gpiomem and the kernel is
// built with STRICT_DEVMEM), so the PWM must be driven by the kernel's own
// driver (pwm-bcm2835), which the board's device tree turns on with the pin
// muxed to it.
//
// FindChip picks the controller by its platform device (the BCM2835/2711
// PWM0 block at bus address 0x7e20c000 is 3f20c000.pwm on a Pi 3 and
// fe20c000.pwm on a Pi 4, so the suffix "20c000.pwm" finds either); Open
// exports one of its channels. Everything goes through plain file reads and
// writes, so the package builds everywhere and its tests run on a fake tree.
//
// The kernel refuses a duty cycle longer than the period and a period of 0,
// so Pin orders its writes: the period first, unless the new period is
// shorter than the duty cycle in force, then the duty cycle first. The
// channel is assumed to have normal polarity (the kernel's default after
// export); Pin never writes polarity.
package pwmsys
