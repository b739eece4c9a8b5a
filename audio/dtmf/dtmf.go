package dtmf

import (
	"encoding/binary"
	"errors"
	"math"
)

// ErrDigit is returned for a character that is no DTMF digit.
var ErrDigit = errors.New("dtmf: not a digit (want 0-9, *, #, A-D)")

const digits = "0123456789*#ABCD"

// Event returns the RFC 4733 event code of a digit: 0-9, * (10), # (11),
// A-D (12-15; a-d accepted).
func Event(d byte) (uint8, error) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	for i := range len(digits) {
		if digits[i] == d {
			return uint8(i), nil
		}
	}
	return 0, ErrDigit
}

// Digit returns the digit of an event code, or 0 for codes 16 and up.
func Digit(event uint8) byte {
	if int(event) < len(digits) {
		return digits[event]
	}
	return 0
}

// Payload is one RFC 4733 telephone-event payload (section 2.3).
type Payload struct {
	Event    uint8
	End      bool
	Volume   uint8  // 0..63: -dBm0
	Duration uint16 // in timestamp units since the event's start
}

// Size is the length of a payload on the wire.
const Size = 4

// MarshalTo writes p into b (at least Size bytes) and returns Size.
func (p Payload) MarshalTo(b []byte) int {
	b[0] = p.Event
	b[1] = p.Volume & 0x3f
	if p.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], p.Duration)
	return Size
}

// Unmarshal parses the first Size bytes of b.
func (p *Payload) Unmarshal(b []byte) error {
	if len(b) < Size {
		return errors.New("dtmf: short telephone-event payload")
	}
	p.Event = b[0]
	p.End = b[1]&0x80 != 0
	p.Volume = b[1] & 0x3f
	p.Duration = binary.BigEndian.Uint16(b[2:])
	return nil
}

var (
	rowFreq = [4]float64{697, 770, 852, 941}
	colFreq = [4]float64{1209, 1336, 1477, 1633}
	keypad  = [4][4]byte{{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}}
)

// Freqs returns the row and column frequencies of a digit.
func Freqs(d byte) (row, col float64, err error) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	for r := range 4 {
		for c := range 4 {
			if keypad[r][c] == d {
				return rowFreq[r], colFreq[c], nil
			}
		}
	}
	return 0, 0, ErrDigit
}

// Detector finds DTMF digits in 8000 samples/s audio (or 16000, with
// NewDetectorRate): Goertzel power on the eight frequencies over blocks of
// BlockSamples (twice as many at 16000: the same 13.25 ms), a digit when one row and
// one column stand out (above an absolute floor, at least 8 dB over the
// other frequencies of their group, twist within 8 dB) in two blocks in a
// row, reported once until the tone stops.
type Detector struct {
	coeff [8]float64
	buf   [2 * BlockSamples]int16
	block int // samples per block at the detector's rate
	n     int
	cand  byte // digit seen in the last block
	held  byte // digit reported and still sounding
}

// BlockSamples is the detector's block: 13.25 ms at 8000 samples/s (the
// classic 106-sample block resolves the DTMF frequencies).
const BlockSamples = 106

// NewDetector returns a Detector for 8000 samples/s.
func NewDetector() *Detector { return NewDetectorRate(8000) }

// NewDetectorRate returns a Detector for rate samples/s: 8000 or 16000
// (another rate panics).
func NewDetectorRate(rate int) *Detector {
	if rate != 8000 && rate != 16000 {
		panic("dtmf: detector rate must be 8000 or 16000")
	}
	d := &Detector{block: BlockSamples * rate / 8000}
	for i, f := range append(rowFreq[:], colFreq[:]...) {
		d.coeff[i] = 2 * math.Cos(2*math.Pi*f/float64(rate))
	}
	return d
}

// Reset forgets partial blocks and held digits.
func (d *Detector) Reset() { d.n, d.cand, d.held = 0, 0, 0 }

// Feed analyses samples and calls found (which may be nil) for each digit
// that starts in them. It returns the last digit found in this call, or 0.
func (d *Detector) Feed(samples []int16, found func(byte)) byte {
	var last byte
	for len(samples) > 0 {
		k := copy(d.buf[d.n:d.block], samples)
		d.n += k
		samples = samples[k:]
		if d.n < d.block {
			break
		}
		d.n = 0
		got := d.analyse()
		switch {
		case got == 0:
			d.held = 0
		case got == d.cand && got != d.held:
			d.held = got
			last = got
			if found != nil {
				found(got)
			}
		}
		d.cand = got
	}
	return last
}

func (d *Detector) analyse() byte {
	var p [8]float64
	var total float64
	buf := d.buf[:d.block]
	for _, x := range buf {
		total += float64(x) * float64(x)
	}
	for i, c := range d.coeff {
		var s1, s2 float64
		for _, x := range buf {
			s0 := float64(x) + c*s1 - s2
			s2, s1 = s1, s0
		}
		p[i] = s1*s1 + s2*s2 - c*s1*s2
	}
	r, c := argmax(p[:4]), 4+argmax(p[4:])
	// Absolute floor: each tone at least about -30 dBm0 (power of a sine of
	// amplitude A over N samples is (A*N/2)^2).
	n := float64(d.block)
	floor := (1000.0 * n / 2) * (1000.0 * n / 2)
	if p[r] < floor || p[c] < floor {
		return 0
	}
	for i := range 8 {
		if i == r || i == c {
			continue
		}
		ref := p[r]
		if i >= 4 {
			ref = p[c]
		}
		if p[i]*6.3 > ref { // 8 dB
			return 0
		}
	}
	if p[r] > 6.3*p[c] || p[c] > 6.3*p[r] { // twist
		return 0
	}
	// The two tones must carry most of the block's energy (not speech).
	tone := (p[r] + p[c]) * 2 / n
	if tone < 0.6*total {
		return 0
	}
	return keypad[r][c-4]
}

func argmax(p []float64) int {
	m := 0
	for i := range p {
		if p[i] > p[m] {
			m = i
		}
	}
	return m
}
