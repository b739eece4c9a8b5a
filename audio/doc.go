// Package audio is the phone's media engine: RTP (github.com/pion/rtp) and
// G.711 (github.com/zaf/g711, through the table-based audio/g711) in frames
// of 10, 20 or 30 ms between the handset codec and the network, a jitter
// buffer (audio/jitter) with simple loss concealment, and the call-progress
// tones a caller hears (audio/tone).
//
// The Engine follows the fixed-allocation core of DESIGN.md: NewEngine
// allocates every buffer; Process (the audio loop, once per frame period) and
// the network reader goroutine (once per packet) allocate nothing. The codec
// is the clock: the engine has no timer of its own.
//
// Limits of this first version: the far end must send frames of the
// negotiated packet time (one payload of FrameSamples codes per packet, as
// SDP's a=ptime asks); comfort noise (PT 13) and telephone-events are counted
// as ignored; there is no RTCP.
package audio
