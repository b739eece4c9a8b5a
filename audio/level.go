package audio

import "github.com/deskphone/deskphone/audio/tone"

// ToneLevel is the Goertzel power of freq in samples relative to a
// full-scale sine: 1.0 for a full-scale sine of exactly freq, 0.25 at half
// amplitude, near 0 for other frequencies (resolution about
// rate/len(samples) Hz). It does not allocate.
func ToneLevel(samples []int16, freq float64, rate int) float64 {
	return tone.Level(samples, freq, rate)
}

// Sine fills buf with a sine of freq at amplitude (0..1 of full scale),
// continuing from the phase *ph (radians) and leaving there the phase of the
// next sample.
func Sine(buf []int16, freq float64, amplitude float64, rate int, ph *float64) {
	tone.Sine(buf, freq, amplitude, rate, ph)
}
