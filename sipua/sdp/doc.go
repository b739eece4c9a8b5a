// Package sdp reads and writes session descriptions (RFC 4566) with every
// m-line, and makes the offer/answer choices of RFC 3264 for a G.711 desk
// phone.
//
// A Session holds the session-level fields (origin, name, c=, b=,
// direction, other attributes) and Media, one per m-line in order: media
// type, port, proto, codecs (payload types with rtpmap and fmtp) or
// formats, c= (the media level wins), b=, ptime, direction and every other
// attribute, kept opaquely so a re-offer can repeat it; HasCrypto says
// whether SDES keys are there and ParseCrypto (crypto.go, fuzzed) reads
// them strictly (RFC 4568).
//
// Answer (RFC 3264 section 6) answers an offer line for line: it accepts
// the first audio stream over RTP/AVP or RTP/AVPF (or RTP/SAVP when the
// local description has a=crypto: SRTP on) with a codec the phone has and
// refuses every other m-line with port 0 (video, image/T.38, application,
// a second audio stream, other SRTP profiles such as UDP/TLS/RTP/SAVPF).
// With nothing to accept it returns an *Error that is ErrNotAcceptable: the
// UA answers 488. CheckAnswer checks a peer's answer to our offer (same
// m-lines, same protos, our audio stream accepted with a codec we offered)
// and returns an *Error that is ErrBadAnswer: the UA ends the attempt.
// Reoffer (section 8) keeps every m-line of the session, refused ones
// still with port 0, with the next origin version. Parse errors are
// *ParseError, with the line; the parser is fuzzed (testdata/fuzz) and
// tested on offers written after real phones and PBXs (testdata/offers,
// with golden answers in testdata/answers).
//
// # Own parser, not pion/sdp
//
// github.com/pion/sdp/v3 was measured against this package side by side
// in one run (a PBX's audio+video offer, testdata/offers/asterisk-video.sdp,
// parsed, answered by the same rules and written; 2-core VM, five runs at
// load averages 6 to 14 from other work, so the times are noisy, the
// allocations are not):
//
//	                    own                        pion/sdp/v3
//	parse+answer+write  11-24 us, 6 allocs, 1.7 kB  17-52 us, 50 allocs, 3.7 kB
//	parse only          6-8 us,   4 allocs, 1.2 kB  10-14 us, 24 allocs, 2.3 kB
//
// The own parser is kept: a fixed handful of allocations per description
// (the text, then one pool each for m-lines, codecs, opaque attributes,
// formats and b= lines, only those present) against pion's one or more per
// line, as the fixed-allocation core asks (docs/DESIGN.md); pion's model
// is generic (attributes as strings, ports and addresses behind pointers)
// so the phone would still need its own layer for codecs, directions and
// the answer rules; and pion v3.0.20 refuses offers a phone must answer:
// its media types are a fixed list without "image", so an audio+T.38
// offer (testdata/offers/freeswitch-t38.sdp) fails with "invalid value
// `image`" where RFC 3264 wants `m=image 0 udptl t38` back, and its
// lexer wants the lines in RFC 4566 order with o= and s= present, where
// this parser reads them in any order. The comparison lives in the
// benchmark module tools/sipbench, so neither the firmware nor this
// module depends on pion/sdp/v3:
//
//	cd tools/sipbench && go test -run '^$' -bench 'ParseAnswer|SDP' -benchmem .
//
// (TestPionAnswerAgrees there checks that the two answers say the same.)
//
// Strings in a parsed Session share one copy of the text; Marshal
// allocates once, AppendTo not at all when the buffer has room.
package sdp
