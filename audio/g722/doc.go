// Package g722 is ITU-T G.722 (7 kHz audio coding within 64 kbit/s) in its
// 64 kbit/s mode, for 16-bit linear PCM at 16000 samples/s, written from
// the Recommendation's description of the algorithm (its sections 3 and
// 4 and the block descriptions of section 6).
//
// The encoder splits each pair of input samples with the 24-tap
// quadrature mirror filter (QMF) into a lower and a higher sub-band sample
// at 8000 samples/s; the lower band is coded with 6-bit ADPCM, the higher
// with 2-bit ADPCM, and each pair becomes one octet: the two higher-band
// bits on top (IH << 6 | IL). Each band has the Recommendation's adaptive
// quantiser (a logarithmic scale factor, LOGSCL/SCALEL) and its
// pole-zero predictor (two poles, six zeros, sign-sign adapted: UPPOL1,
// UPPOL2, UPZERO). The lower band's predictor is driven by the 4-bit
// truncation of its code, so a decoder at 48 or 56 kbit/s tracks it too;
// this decoder reconstructs with all six bits (the 64 kbit/s mode).
//
// Encoder and Decoder are fixed-size values (no heap): Encode and Decode
// write into the caller's buffers and never allocate; they are the
// per-frame path of the audio engine. A 20 ms frame is 320 samples and
// 160 octets.
//
// The RTP clock of G.722 is 8000 Hz although it samples at 16 kHz (RFC
// 3551 4.5.2): that is for the caller (package audio) to know; this
// package knows only samples and octets.
package g722
