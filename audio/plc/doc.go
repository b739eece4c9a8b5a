// Package plc conceals lost G.711 frames after ITU-T G.711 Appendix I: the
// pitch period of the last 48.75 ms of speech is found by normalised cross
// correlation (5 to 15 ms), the last period is repeated (the last three
// after 10 ms of loss, which sounds less buzzy), the repetition fades by 20%
// per 10 ms after the first 10 ms and is silent after 60 ms, and the first
// good frame after a loss is cross-faded from the synthetic signal (a
// quarter period plus 4 ms per 10 ms lost, at most 10 ms).
//
// Unlike Appendix I the output is not delayed by 3.75 ms to smooth the
// start of a loss: the repetition starts one pitch period back, which
// continues a periodic signal without a step, and the phone keeps the
// latency. A Concealer works at 8000 samples/s (New) or, every length doubled,
// at 16000 (NewRate: G.722's wideband), on frames of any length,
// allocates nothing after New, and is not safe for concurrent use.
package plc
