// Package alsa moves PCM samples through the kernel's ALSA PCM devices
// (/dev/snd/pcmC*D*[pc]) with plain ioctls from Go: no cgo, no alsa-lib.
//
// It does what a phone needs and no more: interleaved signed 16-bit
// little-endian samples, one or two channels, a fixed rate and period
// (5-10 ms), hw_params and sw_params set once, prepare, blocking
// read/write of whole periods into buffers allocated at Open, and xrun
// recovery (an underrun or overrun, or a stall the kernel reports as EIO,
// is counted, the stream prepared again and the transfer retried).
//
// PCM is a hal.Codec and a hal.PCM: the capture stream is the clock, so
// Exchange returns once per frame. The playback and capture devices may
// differ (the snd-aloop loopback plays into device 0 and captures from
// device 1); device names are ALSA's "hw:CARD=Loopback,DEV=0",
// "hw:Loopback,0" or "hw:0,0".
//
// The ioctl structures are laid out for 64-bit Linux (arm64, amd64); other
// targets build with stubs that return ErrUnsupported.
package alsa
