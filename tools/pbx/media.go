package pbx

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/audio/g711"
	"github.com/deskphone/deskphone/tools/wav"
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

// encodeWAV returns samples as a mailbox's WAV file (tools/wav).
func encodeWAV(samples []int16) []byte { return wav.Encode(samples, sampleRate) }

// ReadWAV reads a mailbox message: a WAV file at the mailboxes' rate.
func ReadWAV(path string) ([]int16, error) {
	s, rate, err := wav.Read(path)
	if err != nil {
		return nil, fmt.Errorf("pbx: %w", err)
	}
	if rate != sampleRate {
		return nil, fmt.Errorf("pbx: %s is %d Hz, want %d", path, rate, sampleRate)
	}
	return s, nil
}
