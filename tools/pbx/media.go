package pbx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/audio/g711"
)

// The PBX's media endpoint for voicemail calls: G.711 at 8 kHz in 20 ms
// packets, one UDP socket per call.
const (
	sampleRate  = 8000
	frameLen    = 160 // samples per 20 ms packet
	framePeriod = 20 * time.Millisecond
	promptAmp   = 0.3
)

// segment is audio the endpoint plays: a tone or a message.
type segment struct {
	samples []int16
	path    string // the message's WAV file; "" for tones
}

// tone returns d of a sine at freq (amplitude 0.3 of full scale).
func toneSamples(freq float64, d time.Duration) []int16 {
	s := make([]int16, int(d/time.Millisecond)*sampleRate/1000)
	var ph float64
	audio.Sine(s, freq, promptAmp, sampleRate, &ph)
	return s
}

func silence(d time.Duration) []int16 {
	return make([]int16, int(d/time.Millisecond)*sampleRate/1000)
}

// Prompt tones: what a caller hears when the mailbox answers.
const (
	PromptFreq = 440.0 // Hz, 1 s: "leave a message" (or "your messages")
	BeepFreq   = 880.0 // Hz, 250 ms: recording starts, or next message
)

func promptSegments() []segment {
	return []segment{
		{samples: toneSamples(PromptFreq, time.Second)},
		{samples: silence(200 * time.Millisecond)},
		{samples: toneSamples(BeepFreq, 250*time.Millisecond)},
	}
}

// endpoint is one voicemail call's RTP stream.
type endpoint struct {
	conn   *net.UDPConn
	remote *net.UDPAddr // from the offer; latched to where RTP comes from
	pt     uint8        // 0 PCMU or 8 PCMA
	play   []segment
	record bool
	max    time.Duration   // recording limit
	hangup bool            // end the call when everything is played
	stop   chan struct{}   // closed by the loop when the call ends
	done   <-chan struct{} // closed when the PBX stops
}

// result is what an endpoint leaves when it ends.
type result struct {
	samples []int16  // recorded (decoded) audio
	played  []string // messages played to the end
	limit   bool     // ended by itself (time limit or end of playback)
	packets int      // RTP packets received
}

// run plays and records until stop closes, the recording limit passes, or
// (hangup) the last segment is played. It closes the socket.
func (e *endpoint) run() result {
	defer e.conn.Close()
	var res result
	seq := uint16(rand.Uint32())
	ts := rand.Uint32()
	ssrc := rand.Uint32()
	frame := make([]int16, frameLen)
	pkt := make([]byte, 12+frameLen)
	buf := make([]byte, 2048)
	dec := make([]int16, 2048)
	maxSamples := int(e.max / time.Millisecond * sampleRate / 1000)
	seg, off := 0, 0
	start := time.Now()
	next := start
	latched := false
	for {
		select {
		case <-e.stop:
			// Hung up: what already arrived is still the message's.
			e.conn.SetReadDeadline(time.Now())
			for {
				n, _, err := e.conn.ReadFromUDP(buf)
				if err != nil {
					return res
				}
				e.take(&res, buf[:n], dec, maxSamples)
			}
		case <-e.done:
			return res
		default:
		}
		now := time.Now()
		if !now.Before(next) {
			// The next 20 ms of the play list, or silence.
			clear(frame)
			n := 0
			for n < frameLen && seg < len(e.play) {
				k := copy(frame[n:], e.play[seg].samples[off:])
				n += k
				off += k
				if off >= len(e.play[seg].samples) {
					if p := e.play[seg].path; p != "" {
						res.played = append(res.played, p)
					}
					seg, off = seg+1, 0
				}
			}
			h := rtp.Header{Version: 2, PayloadType: e.pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, Marker: seq == 0}
			if _, err := h.MarshalTo(pkt); err == nil {
				if e.pt == 8 {
					g711.EncodeAlaw(pkt[12:], frame)
				} else {
					g711.EncodeUlaw(pkt[12:], frame)
				}
				if e.remote != nil {
					e.conn.WriteToUDP(pkt, e.remote)
				}
			}
			seq++
			ts += frameLen
			next = next.Add(framePeriod)
			if now.Sub(next) > time.Second {
				next = now // fell far behind (a stopped process): no burst
			}
			if e.hangup && seg >= len(e.play) {
				res.limit = true
				return res
			}
			if e.record && now.Sub(start) >= e.max {
				res.limit = true
				return res
			}
		}
		e.conn.SetReadDeadline(next)
		n, src, err := e.conn.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return res
		}
		if !e.take(&res, buf[:n], dec, maxSamples) {
			continue
		}
		if !latched || !sameAddr(src, e.remote) {
			// Symmetric RTP (RFC 4961): answer where the caller sends from,
			// which behind a NAT is not the address in its SDP.
			e.remote, latched = src, true
		}
	}
}

// take decodes one RTP packet into the recording; it reports whether the
// datagram was RTP.
func (e *endpoint) take(res *result, b []byte, dec []int16, maxSamples int) bool {
	var p rtp.Packet
	if p.Unmarshal(b) != nil || p.Version != 2 {
		return false
	}
	res.packets++
	if !e.record || len(res.samples) >= maxSamples {
		return true
	}
	var k int
	switch p.PayloadType {
	case 0:
		k = g711.DecodeUlaw(dec, p.Payload)
	case 8:
		k = g711.DecodeAlaw(dec, p.Payload)
	default:
		return true // telephone-event, comfort noise
	}
	if room := maxSamples - len(res.samples); k > room {
		k = room
	}
	res.samples = append(res.samples, dec[:k]...)
	return true
}

func sameAddr(a, b *net.UDPAddr) bool {
	return a != nil && b != nil && a.IP.Equal(b.IP) && a.Port == b.Port
}

// WAV files: RIFF, PCM, 8 kHz, 16 bit, mono (the 44-byte canonical header).

// encodeWAV returns samples as a WAV file.
func encodeWAV(samples []int16) []byte {
	data := 2 * len(samples)
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVE")
	copy(b[12:], "fmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)           // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)            // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)            // mono
	binary.LittleEndian.PutUint32(b[24:], sampleRate)   // sample rate
	binary.LittleEndian.PutUint32(b[28:], sampleRate*2) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)            // block align
	binary.LittleEndian.PutUint16(b[34:], 16)           // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

// DecodeWAV reads a WAV file of 16-bit mono PCM at 8 kHz (what the
// mailboxes hold) and returns its samples.
func DecodeWAV(b []byte) ([]int16, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("pbx: not a RIFF WAVE file")
	}
	var fmtOK bool
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		if size > len(body) {
			size = len(body)
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, errors.New("pbx: WAV fmt chunk too short")
			}
			format := binary.LittleEndian.Uint16(body[0:])
			ch := binary.LittleEndian.Uint16(body[2:])
			rate := binary.LittleEndian.Uint32(body[4:])
			bits := binary.LittleEndian.Uint16(body[14:])
			if format != 1 || ch != 1 || rate != sampleRate || bits != 16 {
				return nil, fmt.Errorf("pbx: WAV is format %d, %d channels, %d Hz, %d bits; want PCM mono 8000 Hz 16 bits", format, ch, rate, bits)
			}
			fmtOK = true
		case "data":
			if !fmtOK {
				return nil, errors.New("pbx: WAV data before fmt")
			}
			s := make([]int16, size/2)
			for i := range s {
				s[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return s, nil
		}
		off += 8 + size + size%2
	}
	return nil, errors.New("pbx: WAV without data chunk")
}

// ReadWAV reads a mailbox message (DecodeWAV).
func ReadWAV(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pbx: %w", err)
	}
	return DecodeWAV(b)
}
