// Package g711 is table-based G.711 (ITU-T G.711 mu-law and A-law) for 16-bit
// linear PCM, built at package initialisation from github.com/zaf/g711's
// per-sample functions so that its output is bit-exact with zaf's.
//
// The functions write into the caller's buffers and never allocate: they are
// the per-frame path of the audio engine. The tables take 16 KiB (mu-law
// encode, indexed by the sample's top 14 bits), 4 KiB (A-law encode, top 12
// bits) and 1 KiB (the two decode tables).
package g711
