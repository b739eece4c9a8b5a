// Package tone generates the call-progress tones a caller hears (dial,
// ringback, busy, congestion, call waiting) from per-locale cadence tables
// after ITU-T E.180 (Supplement 2, "Various tones used in national networks"),
// and measures tones with the Goertzel algorithm.
//
// Generator.Mix and Level never allocate: they run once per audio frame.
package tone
