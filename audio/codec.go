package audio

import (
	"strings"

	"github.com/deskphone/deskphone/audio/g711"
	"github.com/deskphone/deskphone/audio/g722"
	"github.com/deskphone/deskphone/internal/resample"
)

// Codec is a stream's audio codec: G.711 (narrowband) or G.722 (wideband).
type Codec int

const (
	// PCMU is G.711 mu-law, RTP payload type 0.
	PCMU Codec = iota + 1
	// PCMA is G.711 A-law, RTP payload type 8.
	PCMA
	// G722 is ITU-T G.722 at 64 kbit/s, RTP payload type 9: 16000
	// samples/s, yet an RTP clock of 8000 Hz (RFC 3551 4.5.2), so a 20 ms
	// frame is 160 octets and advances the timestamp by 160, as G.711's.
	G722
)

// clockRate is the RTP clock of every codec the engine speaks (RFC 3551
// 4.5.2 for G.722) and of telephone-event (RFC 4733): the timestamp
// advances 8 per millisecond, and so does the payload (8 octets a
// millisecond: G.711's one a sample, G.722's one per two samples of 16
// kHz), so the jitter buffer's frames are the same size for all three.
const clockRate = 8000

// CodecByName returns the codec named "PCMU", "PCMA" or "G722"
// (case-insensitive).
func CodecByName(name string) (Codec, bool) {
	switch {
	case strings.EqualFold(name, "PCMU"):
		return PCMU, true
	case strings.EqualFold(name, "PCMA"):
		return PCMA, true
	case strings.EqualFold(name, "G722"):
		return G722, true
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
	case G722:
		return 9
	}
	return 255
}

// Rate is the codec's sampling rate, samples/s: 8000, or 16000 for G.722.
func (c Codec) Rate() int {
	if c == G722 {
		return 16000
	}
	return 8000
}

func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	case G722:
		return "G722"
	}
	return "unknown"
}

func (c Codec) valid() bool { return c == PCMU || c == PCMA || c == G722 }

// silence is the octet the jitter buffer fills a missing part of a frame
// with: a zero sample's code in G.711; in G.722, the octet of the smallest
// difference in both bands (0xFF: lower-band code 63, higher-band 3),
// which leaves a quiet stream quiet.
func (c Codec) silence() byte {
	switch c {
	case PCMA:
		return g711.AlawSilence
	case G722:
		return 0xff
	}
	return g711.UlawSilence
}

// coder is a stream's codec at the engine's rate: G.711's tables, or
// G.722's encoder and decoder state, and the resampler where the codec's
// rate is not the engine's (a G.711 call on a 16 kHz device, a G.722 call
// on an 8 kHz one). Its buffers are allocated once in NewEngine.
type coder struct {
	codec Codec
	rate  int // the engine's
	enc   g722.Encoder
	dec   g722.Decoder
	up    resample.Up
	down  resample.Down
	mic   []int16 // a frame at the engine's rate: a short microphone frame padded
	pcm   []int16 // a frame at the codec's rate (the wider of the two)
}

func newCoder(rate, ptime int) coder {
	return coder{rate: rate, mic: make([]int16, rate*ptime/1000), pcm: make([]int16, 16*ptime)}
}

// reset starts a stream with codec: every state back to silence.
func (c *coder) reset(codec Codec) {
	c.codec = codec
	c.enc.Reset()
	c.dec.Reset()
	c.up.Reset()
	c.down.Reset()
}

// narrow reports whether the stream runs G.711 at the engine's rate: the
// engine's original path, byte for byte (a sample a byte, no state).
func (c *coder) narrow() bool { return c.codec != G722 && c.rate == 8000 }

// encode codes one frame of mic (at the engine's rate; a short one is
// padded with silence) into payload, the frame's octets (8 a ms).
func (c *coder) encode(payload []byte, mic []int16) {
	if c.narrow() {
		var n int
		if c.codec == PCMA {
			n = g711.EncodeAlaw(payload, mic)
		} else {
			n = g711.EncodeUlaw(payload, mic)
		}
		sil := c.codec.silence()
		for i := n; i < len(payload); i++ {
			payload[i] = sil
		}
		return
	}
	if len(mic) < len(c.mic) {
		n := copy(c.mic, mic)
		clear(c.mic[n:])
		mic = c.mic
	}
	mic = mic[:len(c.mic)]
	pcm := mic
	switch {
	case c.codec.Rate() > c.rate:
		pcm = c.pcm[:c.up.Process(c.pcm, mic)]
	case c.codec.Rate() < c.rate:
		pcm = c.pcm[:c.down.Process(c.pcm, mic)]
	}
	switch c.codec {
	case G722:
		c.enc.Encode(payload, pcm)
	case PCMA:
		g711.EncodeAlaw(payload, pcm)
	default:
		g711.EncodeUlaw(payload, pcm)
	}
}

// decode decodes a frame's payload (all or part of one) into ear, a frame
// at the engine's rate; what the payload does not cover is silent.
func (c *coder) decode(ear []int16, payload []byte) {
	if c.narrow() {
		var k int
		if c.codec == PCMA {
			k = g711.DecodeAlaw(ear, payload)
		} else {
			k = g711.DecodeUlaw(ear, payload)
		}
		clear(ear[k:])
		return
	}
	wide := c.codec.Rate() == 16000
	pcm := c.pcm[:len(ear)*c.codec.Rate()/c.rate]
	if c.codec.Rate() == c.rate {
		pcm = ear
	}
	var k int
	switch {
	case wide:
		k = c.dec.Decode(pcm, payload)
	case c.codec == PCMA:
		k = g711.DecodeAlaw(pcm, payload)
	default:
		k = g711.DecodeUlaw(pcm, payload)
	}
	clear(pcm[k:])
	switch {
	case c.codec.Rate() > c.rate:
		c.down.Process(ear, pcm)
	case c.codec.Rate() < c.rate:
		c.up.Process(ear, pcm)
	}
}
