package g711

import zaf "github.com/zaf/g711"

var (
	// ulawEnc is indexed by uint16(sample)>>2: zaf's mu-law encoder uses
	// only the sample's top 14 bits (it shifts right by 2 after taking the
	// one's complement, and ^x>>2 == ^(x>>2) for an arithmetic shift).
	ulawEnc [1 << 14]byte
	// alawEnc is indexed by uint16(sample)>>4: zaf's A-law encoder uses only
	// the top 12 bits.
	alawEnc [1 << 12]byte
	ulawDec [256]int16
	alawDec [256]int16
)

func init() {
	for i := range ulawEnc {
		ulawEnc[i] = zaf.EncodeUlawFrame(int16(uint16(i) << 2))
	}
	for i := range alawEnc {
		alawEnc[i] = zaf.EncodeAlawFrame(int16(uint16(i) << 4))
	}
	for i := range 256 {
		ulawDec[i] = zaf.DecodeUlawFrame(uint8(i))
		alawDec[i] = zaf.DecodeAlawFrame(uint8(i))
	}
}

// Ulaw encodes one sample to mu-law.
func Ulaw(s int16) byte { return ulawEnc[uint16(s)>>2] }

// Alaw encodes one sample to A-law.
func Alaw(s int16) byte { return alawEnc[uint16(s)>>4] }

// UlawSample decodes one mu-law code.
func UlawSample(c byte) int16 { return ulawDec[c] }

// AlawSample decodes one A-law code.
func AlawSample(c byte) int16 { return alawDec[c] }

// EncodeUlaw encodes src into dst (one byte per sample) and returns the number
// of samples encoded: min(len(dst), len(src)).
func EncodeUlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = ulawEnc[uint16(s)>>2]
	}
	return n
}

// EncodeAlaw encodes src into dst (one byte per sample) and returns the number
// of samples encoded: min(len(dst), len(src)).
func EncodeAlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = alawEnc[uint16(s)>>4]
	}
	return n
}

// DecodeUlaw decodes src into dst and returns the number of samples
// decoded: min(len(dst), len(src)).
func DecodeUlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = ulawDec[c]
	}
	return n
}

// DecodeAlaw decodes src into dst and returns the number of samples
// decoded: min(len(dst), len(src)).
func DecodeAlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = alawDec[c]
	}
	return n
}

// UlawSilence and AlawSilence are the codes of a zero sample.
const (
	UlawSilence byte = 0xFF
	AlawSilence byte = 0xD5
)
