// Package hal holds the phone-shaped hardware interfaces: key and hook input,
// the PCM codec that clocks the audio loop, and the observer through which the
// phone shows what a person sees and hears. Drivers live in sub-packages:
// hal/panel is the virtual panel of the qemu and sim boards.
package hal
