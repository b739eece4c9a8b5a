package audio

import (
	"encoding/binary"
	"time"
)

// RTCP (RFC 3550 section 6), built and parsed by hand into the engine's own
// buffers so that reports allocate nothing: a compound packet of a sender
// report (or a receiver report when nothing was sent since the last one)
// with one report block about the far end's source, and an SDES CNAME.

const (
	rtcpSR   = 200
	rtcpRR   = 201
	rtcpSDES = 202
	rtcpBYE  = 203
)

// ntpTime is t as a 64-bit NTP timestamp.
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	s := uint64(t.Unix() + unixToNTP)
	f := uint64(t.Nanosecond()) << 32 / 1e9
	return s<<32 | f
}

// reportBlock is one RFC 3550 6.4.1 report block.
type reportBlock struct {
	ssrc     uint32
	fraction uint8
	lost     int32
	extMax   uint32
	jitter   uint32
	lsr      uint32
	dlsr     uint32
}

func putBlock(b []byte, r reportBlock) {
	binary.BigEndian.PutUint32(b[0:], r.ssrc)
	binary.BigEndian.PutUint32(b[4:], uint32(r.fraction)<<24|uint32(r.lost)&0xffffff)
	binary.BigEndian.PutUint32(b[8:], r.extMax)
	binary.BigEndian.PutUint32(b[12:], r.jitter)
	binary.BigEndian.PutUint32(b[16:], r.lsr)
	binary.BigEndian.PutUint32(b[20:], r.dlsr)
}

// buildRTCP writes a compound report into b (at least 128 bytes) and
// returns its length. sender says whether to send an SR; blk, if non-nil,
// is the one report block.
func buildRTCP(b []byte, ssrc uint32, sender bool, now time.Time, rtpTS uint32, packets, octets uint32,
	blk *reportBlock, cname string) int {
	n := 0
	rc := 0
	if blk != nil {
		rc = 1
	}
	if sender {
		words := 6 + 6*rc // length in 32-bit words minus one
		b[0] = 0x80 | byte(rc)
		b[1] = rtcpSR
		binary.BigEndian.PutUint16(b[2:], uint16(words))
		binary.BigEndian.PutUint32(b[4:], ssrc)
		binary.BigEndian.PutUint64(b[8:], ntpTime(now))
		binary.BigEndian.PutUint32(b[16:], rtpTS)
		binary.BigEndian.PutUint32(b[20:], packets)
		binary.BigEndian.PutUint32(b[24:], octets)
		n = 28
	} else {
		words := 1 + 6*rc
		b[0] = 0x80 | byte(rc)
		b[1] = rtcpRR
		binary.BigEndian.PutUint16(b[2:], uint16(words))
		binary.BigEndian.PutUint32(b[4:], ssrc)
		n = 8
	}
	if blk != nil {
		putBlock(b[n:], *blk)
		n += 24
	}
	// SDES with one chunk: SSRC, CNAME item, end, padding to 32 bits.
	cn := min(len(cname), 255)
	chunk := 4 + 2 + cn + 1
	chunk = (chunk + 3) &^ 3
	s := b[n:]
	s[0] = 0x81
	s[1] = rtcpSDES
	binary.BigEndian.PutUint16(s[2:], uint16(chunk/4))
	binary.BigEndian.PutUint32(s[4:], ssrc)
	s[8] = 1 // CNAME
	s[9] = byte(cn)
	copy(s[10:], cname[:cn])
	clear(s[10+cn : 4+chunk])
	return n + 4 + chunk
}

// rtcpInfo is what a received compound packet told us.
type rtcpInfo struct {
	srSSRC  uint32
	lsr     uint32 // middle 32 bits of the NTP time of the last SR; 0 if none
	haveBlk bool
	blk     reportBlock // the block about our source
}

// parseRTCP walks a compound packet. It reports false for one that is not
// valid RTCP (RFC 3550 A.2: version 2, first packet SR or RR, lengths
// adding up).
func parseRTCP(b []byte, ours uint32, info *rtcpInfo) bool {
	if len(b) < 8 || b[0]>>6 != 2 || (b[1] != rtcpSR && b[1] != rtcpRR) {
		return false
	}
	for len(b) >= 4 {
		if b[0]>>6 != 2 {
			return false
		}
		l := (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4
		if l > len(b) {
			return false
		}
		p := b[:l]
		rc := int(p[0] & 0x1f)
		var blocks []byte
		switch p[1] {
		case rtcpSR:
			if l < 28 {
				return false
			}
			info.srSSRC = binary.BigEndian.Uint32(p[4:])
			info.lsr = uint32(binary.BigEndian.Uint64(p[8:]) >> 16)
			blocks = p[28:]
		case rtcpRR:
			if l < 8 {
				return false
			}
			blocks = p[8:]
		}
		for i := 0; i < rc && len(blocks) >= 24; i++ {
			if binary.BigEndian.Uint32(blocks) == ours {
				w := binary.BigEndian.Uint32(blocks[4:])
				info.haveBlk = true
				info.blk = reportBlock{
					ssrc:     ours,
					fraction: uint8(w >> 24),
					lost:     int32(w<<8) >> 8,
					extMax:   binary.BigEndian.Uint32(blocks[8:]),
					jitter:   binary.BigEndian.Uint32(blocks[12:]),
					lsr:      binary.BigEndian.Uint32(blocks[16:]),
					dlsr:     binary.BigEndian.Uint32(blocks[20:]),
				}
			}
			blocks = blocks[24:]
		}
		b = b[l:]
	}
	return len(b) == 0
}
