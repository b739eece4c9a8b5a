package sdp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoCommonCodec is returned by Answer when the offer has none of the local
// codecs (or rejects the stream); the UA answers 488.
var ErrNoCommonCodec = errors.New("sdp: no common codec")

// Origin is the o= line's identity.
type Origin struct {
	User               string // "-" if empty
	SessionID, Version uint64
}

// Codec is one payload type of the audio stream.
type Codec struct {
	PT   uint8
	Name string // "PCMU", "PCMA", "telephone-event", ...
	Rate int    // clock rate, Hz
}

// Session is one session description with (at most) one audio stream.
type Session struct {
	Origin    Origin
	Host      string  // c= connection address (media level wins over session level)
	Port      int     // m=audio port; 0 = stream rejected
	Proto     string  // m=audio transport protocol as written ("RTP/AVP", "RTP/SAVP", ...); "" when built by hand: RTP/AVP
	Codecs    []Codec // in the order of the m= line
	Ptime     int     // a=ptime, ms; 0 = not given
	Direction string  // "sendrecv" (default), "sendonly", "recvonly", "inactive"
}

// static holds the RFC 3551 static payload types a phone meets.
var static = map[uint8]Codec{
	0: {0, "PCMU", 8000}, 3: {3, "GSM", 8000}, 4: {4, "G723", 8000}, 8: {8, "PCMA", 8000},
	9: {9, "G722", 8000}, 18: {18, "G729", 8000},
}

// StaticCodec returns the static codec with that name (case-insensitive).
func StaticCodec(name string) (Codec, bool) {
	for _, c := range static {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Codec{}, false
}

// Parse parses a session description. Only the first m=audio stream is read.
func Parse(b []byte) (Session, error) {
	var s Session
	var sessHost, mediaHost string
	inAudio, seenAudio, seenV := false, false, false
	rtpmap := map[uint8]Codec{}
	var pts []uint8
	for _, ln := range strings.Split(string(b), "\n") {
		ln = strings.TrimRight(ln, "\r")
		if ln == "" {
			continue
		}
		if len(ln) < 2 || ln[1] != '=' {
			return Session{}, fmt.Errorf("sdp: bad line %.40q", ln)
		}
		typ, val := ln[0], ln[2:]
		if !seenV {
			if typ != 'v' || val != "0" {
				return Session{}, fmt.Errorf("sdp: does not start with v=0")
			}
			seenV = true
			continue
		}
		switch typ {
		case 'o':
			f := strings.Fields(val)
			if len(f) != 6 {
				return Session{}, fmt.Errorf("sdp: bad o= line %.60q", val)
			}
			s.Origin.User = f[0]
			s.Origin.SessionID, _ = strconv.ParseUint(f[1], 10, 64)
			s.Origin.Version, _ = strconv.ParseUint(f[2], 10, 64)
		case 'c':
			f := strings.Fields(val)
			if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
				return Session{}, fmt.Errorf("sdp: bad c= line %.60q", val)
			}
			host, _, _ := strings.Cut(f[2], "/") // drop multicast TTL
			if !seenAudio && !inAudio {
				sessHost = host
			} else if inAudio {
				mediaHost = host
			}
		case 'm':
			if seenAudio {
				inAudio = false
				continue
			}
			f := strings.Fields(val)
			if len(f) < 3 {
				return Session{}, fmt.Errorf("sdp: bad m= line %.60q", val)
			}
			if f[0] != "audio" {
				inAudio = false
				continue
			}
			port, _, _ := strings.Cut(f[1], "/")
			p, err := strconv.Atoi(port)
			if err != nil || p < 0 || p > 65535 {
				return Session{}, fmt.Errorf("sdp: bad port in %.60q", val)
			}
			s.Port = p
			s.Proto = f[2]
			for _, ptS := range f[3:] {
				pt, err := strconv.ParseUint(ptS, 10, 7)
				if err != nil {
					return Session{}, fmt.Errorf("sdp: bad payload type %.10q", ptS)
				}
				pts = append(pts, uint8(pt))
			}
			inAudio, seenAudio = true, true
		case 'a':
			if seenAudio && !inAudio {
				continue
			}
			name, arg, _ := strings.Cut(val, ":")
			switch name {
			case "rtpmap":
				ptS, enc, ok := strings.Cut(arg, " ")
				pt, err := strconv.ParseUint(ptS, 10, 7)
				if !ok || err != nil {
					return Session{}, fmt.Errorf("sdp: bad rtpmap %.40q", arg)
				}
				encName, rest, _ := strings.Cut(strings.TrimSpace(enc), "/")
				rateS, _, _ := strings.Cut(rest, "/")
				rate, err := strconv.Atoi(rateS)
				if err != nil || encName == "" {
					return Session{}, fmt.Errorf("sdp: bad rtpmap %.40q", arg)
				}
				rtpmap[uint8(pt)] = Codec{uint8(pt), encName, rate}
			case "ptime":
				if n, err := strconv.Atoi(strings.TrimSpace(arg)); err == nil && n > 0 {
					s.Ptime = n
				}
			case "sendrecv", "sendonly", "recvonly", "inactive":
				if inAudio || s.Direction == "" {
					s.Direction = name
				}
			}
		}
	}
	if !seenV {
		return Session{}, fmt.Errorf("sdp: empty description")
	}
	if !seenAudio {
		return Session{}, fmt.Errorf("sdp: no audio stream")
	}
	for _, pt := range pts {
		if c, ok := rtpmap[pt]; ok {
			s.Codecs = append(s.Codecs, c)
		} else if c, ok := static[pt]; ok {
			s.Codecs = append(s.Codecs, c)
		} else {
			s.Codecs = append(s.Codecs, Codec{PT: pt})
		}
	}
	s.Host = sessHost
	if mediaHost != "" {
		s.Host = mediaHost
	}
	if s.Host == "" {
		return Session{}, fmt.Errorf("sdp: no connection address")
	}
	if s.Direction == "" {
		s.Direction = "sendrecv"
	}
	return s, nil
}

// Marshal writes the session description (CRLF line ends) into a new
// buffer (one allocation).
func (s Session) Marshal() []byte { return s.AppendTo(make([]byte, 0, 256)) }

// AppendTo appends the session description (CRLF line ends) to b.
func (s Session) AppendTo(b []byte) []byte {
	ip := "IP4"
	if strings.Contains(s.Host, ":") {
		ip = "IP6"
	}
	user := s.Origin.User
	if user == "" {
		user = "-"
	}
	b = append(b, "v=0\r\no="...)
	b = append(b, user...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, s.Origin.SessionID, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, s.Origin.Version, 10)
	b = append(b, " IN "...)
	b = append(b, ip...)
	b = append(b, ' ')
	b = append(b, s.Host...)
	b = append(b, "\r\ns=-\r\nc=IN "...)
	b = append(b, ip...)
	b = append(b, ' ')
	b = append(b, s.Host...)
	b = append(b, "\r\nt=0 0\r\nm=audio "...)
	b = strconv.AppendInt(b, int64(s.Port), 10)
	b = append(b, ' ')
	if s.Proto == "" {
		b = append(b, "RTP/AVP"...)
	} else {
		b = append(b, s.Proto...)
	}
	for _, c := range s.Codecs {
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(c.PT), 10)
	}
	b = append(b, "\r\n"...)
	for _, c := range s.Codecs {
		if c.Name != "" {
			b = append(b, "a=rtpmap:"...)
			b = strconv.AppendUint(b, uint64(c.PT), 10)
			b = append(b, ' ')
			b = append(b, c.Name...)
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(c.Rate), 10)
			b = append(b, "\r\n"...)
		}
		if IsTelephoneEvent(c) {
			b = append(b, "a=fmtp:"...) // RFC 4733 section 7.1.1: DTMF events
			b = strconv.AppendUint(b, uint64(c.PT), 10)
			b = append(b, " 0-16\r\n"...)
		}
	}
	if s.Ptime > 0 {
		b = append(b, "a=ptime:"...)
		b = strconv.AppendInt(b, int64(s.Ptime), 10)
		b = append(b, "\r\n"...)
	}
	dir := s.Direction
	if dir == "" {
		dir = "sendrecv"
	}
	b = append(b, "a="...)
	b = append(b, dir...)
	return append(b, "\r\n"...)
}

// IsTelephoneEvent reports whether c is RFC 4733 telephone-event.
func IsTelephoneEvent(c Codec) bool { return strings.EqualFold(c.Name, "telephone-event") }

// TelephoneEvent returns the session's telephone-event/8000 payload, if any.
func (s Session) TelephoneEvent() (Codec, bool) {
	for _, c := range s.Codecs {
		if IsTelephoneEvent(c) && c.Rate == 8000 {
			return c, true
		}
	}
	return Codec{}, false
}

// Answer makes the RFC 3264 answer to offer from the local capabilities: the
// first local codec (in local order) that the offer has, with the offer's
// payload type; the answer's ptime is local's (else the offer's) and its
// direction mirrors the offer's. It fails with ErrNoCommonCodec when there is
// none or the offer's stream is rejected (port 0).
//
// When both sides have telephone-event/8000 (RFC 4733), the answer carries it
// too, with the offer's payload type, after the audio codec; it is never
// chosen as the audio codec.
func Answer(offer Session, local Session) (Session, error) {
	if offer.Port == 0 {
		return Session{}, fmt.Errorf("%w: offered stream is rejected", ErrNoCommonCodec)
	}
	for _, lc := range local.Codecs {
		if IsTelephoneEvent(lc) {
			continue
		}
		for _, oc := range offer.Codecs {
			if strings.EqualFold(lc.Name, oc.Name) && lc.Rate == oc.Rate {
				a := local
				a.Codecs = []Codec{oc}
				if te, ok := local.TelephoneEvent(); ok {
					if ote, ok := offer.TelephoneEvent(); ok && ote.Rate == te.Rate {
						a.Codecs = append(a.Codecs, ote)
					}
				}
				if a.Ptime == 0 {
					a.Ptime = offer.Ptime
				}
				switch offer.Direction {
				case "sendonly":
					a.Direction = "recvonly"
				case "recvonly":
					a.Direction = "sendonly"
				case "inactive":
					a.Direction = "inactive"
				default:
					if a.Direction == "" {
						a.Direction = "sendrecv"
					}
				}
				return a, nil
			}
		}
	}
	return Session{}, ErrNoCommonCodec
}
