// Package jitter is a fixed-size jitter buffer (a ring of frame slots) for
// one RTP stream, clocked by its reader: the audio loop calls Get once per
// frame period, the network reader calls Put or PutTS per packet.
//
// All memory is allocated by New; Put and Get copy payloads into and out of
// the buffer's own slots and never allocate. A Buffer is not safe for
// concurrent use: its owner serialises Put and Get (the audio engine holds a
// mutex).
//
// Playout starts once Target frames are buffered, and never with less than
// one packet's worth: before playout PutTS raises the target to the frames a
// packet covers (2 for 30 or 40 ms packets into 20 ms frames), so a packet
// longer than a frame plays without a gap (TestPutTSPacketTime). The delay
// adapts: a packet that arrives after its playout time raises the target by
// one frame (one frame of concealment is inserted); a whole adaptation
// window in which at least one frame more than needed was always waiting (a
// moment short only because the newest packet was lost does not count) and
// nothing came late lowers it by one (one frame is dropped); the target
// never stays above what the last window needed, so a slow far-end clock
// cannot ratchet it up. Clock drift of 100 ppm either way costs one
// concealed or dropped frame per 200 s and does not grow or starve the
// buffer (TestDrift plays an hour). Sequence numbers wrap; a jump of more
// than the depth restarts the buffer (a backward jump only once a second
// packet confirms it, as RFC 3550 A.1's probation does).
//
// PutTS places packets by RTP timestamp instead of sequence number, which is
// what the engine uses: a far end with another packet time (one packet
// filling parts of two frames), timestamps jumping, talkspurts behind or off
// the playout clock's frame grid. Put and PutTS do not mix within a run.
package jitter
