package audio

import (
	"strings"

	"github.com/deskphone/deskphone/audio/g711"
)

// Codec is a G.711 variant.
type Codec int

const (
	// PCMU is G.711 mu-law, RTP payload type 0.
	PCMU Codec = iota + 1
	// PCMA is G.711 A-law, RTP payload type 8.
	PCMA
)

// CodecByName returns the codec named "PCMU" or "PCMA" (case-insensitive).
func CodecByName(name string) (Codec, bool) {
	switch {
	case strings.EqualFold(name, "PCMU"):
		return PCMU, true
	case strings.EqualFold(name, "PCMA"):
		return PCMA, true
	}
	return 0, false
}

// PayloadType is the codec's static RTP payload type (RFC 3551), or 255 for
// an invalid Codec.
func (c Codec) PayloadType() uint8 {
	switch c {
	case PCMU:
		return 0
	case PCMA:
		return 8
	}
	return 255
}

func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return "unknown"
}

func (c Codec) valid() bool { return c == PCMU || c == PCMA }

func (c Codec) encode(dst []byte, src []int16) int {
	if c == PCMA {
		return g711.EncodeAlaw(dst, src)
	}
	return g711.EncodeUlaw(dst, src)
}

func (c Codec) decode(dst []int16, src []byte) int {
	if c == PCMA {
		return g711.DecodeAlaw(dst, src)
	}
	return g711.DecodeUlaw(dst, src)
}

func (c Codec) silence() byte {
	if c == PCMA {
		return g711.AlawSilence
	}
	return g711.UlawSilence
}
