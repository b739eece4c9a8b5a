package audio

import (
	"fmt"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTP (RFC 3711) of a stream: StreamOptions.SRTP carries the two master
// keys the signalling agreed (SDES, RFC 4568: the UA's a=crypto lines),
// and the engine protects every RTP and RTCP packet it sends with the
// local key and drops every packet it receives that the remote key does
// not authenticate, before the packet reaches the source lock
// (source.go), so a stranger's packets never count as the far end's.
// pion/srtp's EncryptRTP/DecryptRTP and their RTCP twins write into the
// engine's buffers, sized once in NewEngine, so the frame stays without
// allocation.

// SRTPProfile is an SRTP crypto suite (RFC 4568 section 6.2).
type SRTPProfile uint8

// The suites the phone offers and answers, in its order of preference.
const (
	// AES_CM_128_HMAC_SHA1_80: AES-128 counter mode, an 80-bit HMAC-SHA1
	// tag on SRTP and SRTCP.
	AESCM128SHA1_80 SRTPProfile = iota + 1
	// AES_CM_128_HMAC_SHA1_32: the same with a 32-bit tag on SRTP (SRTCP
	// keeps 80 bits, RFC 4568 6.2.2).
	AESCM128SHA1_32
)

func (p SRTPProfile) String() string {
	switch p {
	case AESCM128SHA1_80:
		return "AES_CM_128_HMAC_SHA1_80"
	case AESCM128SHA1_32:
		return "AES_CM_128_HMAC_SHA1_32"
	}
	return fmt.Sprintf("SRTPProfile(%d)", uint8(p))
}

// SRTPKeyLen is the length of a master key and salt together (RFC 3711
// 8.2: 128-bit key, 112-bit salt), as SDES carries them.
const SRTPKeyLen = 30

// SRTPKeys are the master keys of one stream.
type SRTPKeys struct {
	Profile SRTPProfile
	// Local protects what the engine sends (its RTP and RTCP); Remote
	// authenticates and decrypts what it receives. Each is the master key
	// followed by the master salt, SRTPKeyLen bytes. StartStreamOptions
	// copies nothing: the contexts it makes keep their own derived keys.
	Local, Remote []byte
}

// srtpSlack is what SRTP adds to a packet at most: the 10-byte tag, and
// for SRTCP the 4-byte index before it.
const srtpSlack = 16

// srtpPair is a stream's two SRTP contexts: one per direction, since each
// side keys what it sends (RFC 4568 6.1).
type srtpPair struct {
	tx, rx *srtp.Context
}

func newSRTPPair(k *SRTPKeys) (*srtpPair, error) {
	var prof srtp.ProtectionProfile
	switch k.Profile {
	case AESCM128SHA1_80:
		prof = srtp.ProtectionProfileAes128CmHmacSha1_80
	case AESCM128SHA1_32:
		prof = srtp.ProtectionProfileAes128CmHmacSha1_32
	default:
		return nil, fmt.Errorf("audio: SRTP: unknown profile %d", uint8(k.Profile))
	}
	if len(k.Local) != SRTPKeyLen || len(k.Remote) != SRTPKeyLen {
		return nil, fmt.Errorf("audio: SRTP: keys of %d and %d bytes, want %d", len(k.Local), len(k.Remote), SRTPKeyLen)
	}
	tx, err := srtp.CreateContext(k.Local[:16], k.Local[16:], prof)
	if err != nil {
		return nil, fmt.Errorf("audio: SRTP: %w", err)
	}
	// RFC 3711 3.3.2: a replay list of at least 64 packets.
	rx, err := srtp.CreateContext(k.Remote[:16], k.Remote[16:], prof,
		srtp.SRTPReplayProtection(64), srtp.SRTCPReplayProtection(64))
	if err != nil {
		return nil, fmt.Errorf("audio: SRTP: %w", err)
	}
	return &srtpPair{tx: tx, rx: rx}, nil
}

// protectRTP returns b encrypted and tagged, in e.srtpOut; e.mu is held.
func (e *Engine) protectRTP(b []byte) ([]byte, error) {
	return e.s.srtp.tx.EncryptRTP(e.srtpOut[:0], b, &e.srtpTxHdr)
}

// unprotectRTP returns b decrypted in e.srtpIn, or an error when it is not
// authentic (a wrong tag, a replay); e.mu is held.
func (e *Engine) unprotectRTP(b []byte, hdr *rtp.Header) ([]byte, error) {
	return e.s.srtp.rx.DecryptRTP(e.srtpIn[:0], b, hdr)
}

func (e *Engine) protectRTCP(b []byte) ([]byte, error) {
	var h rtcp.Header
	return e.s.srtp.tx.EncryptRTCP(e.srtcpOut[:0], b, &h)
}

func (e *Engine) unprotectRTCP(b []byte) ([]byte, error) {
	var h rtcp.Header
	return e.s.srtp.rx.DecryptRTCP(e.srtcpIn[:0], b, &h)
}
