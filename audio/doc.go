// Package audio is the phone's media engine: RTP (github.com/pion/rtp),
// G.711 (github.com/zaf/g711, through the table-based audio/g711) and G.722
// (audio/g722, wideband) in frames of 10, 20 or 30 ms between the handset
// codec and the network, at 8000 or 16000 samples/s (Config.Rate), an adaptive
// jitter buffer placing packets by timestamp (audio/jitter), G.711
// Appendix I loss concealment (audio/plc), RFC 4733 DTMF and an in-band
// detector (audio/dtmf), RTCP reports, the call-progress tones a caller
// hears (audio/tone) and a local three-way conference (Conference).
//
// The Engine follows the fixed-allocation core of DESIGN.md: NewEngine
// allocates every buffer; Process (the audio loop, once per frame period) and
// the network reader goroutine (once per packet) allocate nothing, DTMF and
// RTCP included. With Config.PollReceive (the firmware's) there is no reader
// goroutine: Process sends, reads what arrived without blocking, and plays
// out, the frame's whole work in one wake-up. The codec is the clock: the engine has no timer of its own
// (RTCP intervals are counted in frames).
//
// Rates: the engine runs at Config.Rate (the device's); a stream's codec at
// its own (G.711 8000, G.722 16000), converted at the codec where they
// differ (internal/resample), so concealment, tones, in-band DTMF and a
// Conference all work at the engine's rate. Every codec's RTP clock is
// 8000 Hz (G.722's by RFC 3551 4.5.2) and so is telephone-event's: 8
// timestamp units and 8 payload octets a millisecond, so the jitter buffer
// is the same for all three. At 8000 a G.711 stream is the narrowband path
// byte for byte (no resampling, no state).
//
// Send: microphone frame -> G.711 or G.722 -> RTP (MarshalTo into the
// engine's buffer) -> SRTP when StreamOptions.SRTP has keys (srtp.go;
// SRTCP for the reports) -> UDP, or an RFC 4733 event packet while a digit
// is sent
// (SendDTMF: the event's start timestamp on each packet, growing durations,
// the end packet three times, the media clock running on).
//
// Receive: UDP -> source address check (StreamOptions.Source; the default,
// SourceIP, takes the SDP address's IP with any port, which works behind
// NATs such as QEMU's user network and still refuses strangers) -> SRTP
// authentication and decryption with keys (a packet that fails is dropped
// and counted in Stats.Unauthenticated) -> RTP (Unmarshal into a reused
// packet) -> RFC 3550 A.1 validation and the source lock (source.go: the
// first source believed after two packets in sequence is locked by
// address, port and SSRC; another takes over only once the locked one
// has been silent a second and it sent 25 packets in sequence, or, a new
// SSRC at the locked address, after 60 ms and two packets) -> by
// payload type: audio into the jitter buffer at its timestamp (so a far end
// with another packet time, timestamp jumps and talkspurts play right),
// telephone-events to ReadDigit, RFC 3389 comfort noise, RTCP (RFC 5761
// demultiplexing) -> at playout, decode, conceal, or comfort noise ->
// earpiece, mixed with the local tone.
//
// Stats counts what happened: RFC 3550 loss and interarrival jitter,
// late, duplicate, concealed, partial frames, probation, rejected sources,
// digits, RTCP, and what the far end reported (loss, jitter, round trip).
//
// Limits: G.711 and G.722 (64 kbit/s) only; after a lost G.722 frame the
// decoder goes on from its state (no G.722 Appendix III/IV concealment of
// the ADPCM state: concealment is the engine's, on the decoded audio);
// comfort noise is white at the
// far end's level (no spectral shaping) and is never sent (no voice
// activity detection); RTCP carries SR/RR and SDES CNAME only (no BYE, no
// extended reports) and runs only when StreamOptions ask for it.
package audio
