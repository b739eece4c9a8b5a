package sdp

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinels a caller branches on; every *Error is one of them.
var (
	// ErrNotAcceptable: Answer cannot answer the offer; the UA answers 488
	// (RFC 3261 13.3.1.3, RFC 3264 section 6).
	ErrNotAcceptable = errors.New("sdp: offer not acceptable")
	// ErrBadAnswer: CheckAnswer refuses an answer to our offer; the UA ends
	// the attempt (CANCEL while early, BYE once confirmed).
	ErrBadAnswer = errors.New("sdp: bad answer")
)

// Reason says why an offer or an answer is refused.
type Reason uint8

const (
	NoAudio     Reason = iota + 1 // no audio m-line with a port
	NoCodec                       // audio, but no codec in common
	BadProto                      // audio only over a proto the phone does not do (RTP/SAVP while SRTP is off), or an answer's proto is not the offered one
	StreamCount                   // the answer's m-lines are not the offer's, one for one (RFC 3264 section 6)
	MediaType                     // an answer's m-line has another media type than the offered one
	Refused                       // the answer refuses our audio stream (port 0)
	NoCrypto                      // SRTP without a usable SDES key (RFC 4568 a=crypto): none, malformed, or a suite or parameter the phone does not do
)

func (r Reason) String() string {
	switch r {
	case NoAudio:
		return "no audio stream"
	case NoCodec:
		return "no codec in common"
	case BadProto:
		return "unsupported proto"
	case StreamCount:
		return "m-line count differs from the offer's"
	case MediaType:
		return "media type differs from the offer's"
	case Refused:
		return "audio stream refused"
	case NoCrypto:
		return "no usable SDES key"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Error is an offer Answer refuses (Answer false: the UA answers 488) or an
// answer CheckAnswer refuses (Answer true: the UA ends the attempt).
type Error struct {
	Reason Reason
	Answer bool   // about an answer to our offer, else about a peer's offer
	Stream int    // the m-line it is about (from 0); -1: the whole description
	Detail string // e.g. the proto or the codecs seen
}

func (e *Error) Error() string {
	b := []byte("sdp: ")
	if e.Answer {
		b = append(b, "answer: "...)
	} else {
		b = append(b, "offer: "...)
	}
	if e.Stream >= 0 {
		b = append(b, "m-line "...)
		b = strconv.AppendInt(b, int64(e.Stream), 10)
		b = append(b, ": "...)
	}
	b = append(b, e.Reason.String()...)
	if e.Detail != "" {
		b = append(b, " ("...)
		b = append(b, e.Detail...)
		b = append(b, ')')
	}
	return string(b)
}

// Is makes errors.Is(err, ErrNotAcceptable) or ErrBadAnswer hold.
func (e *Error) Is(target error) bool {
	return (target == ErrNotAcceptable && !e.Answer) || (target == ErrBadAnswer && e.Answer)
}

// plainRTP reports whether the phone takes a proto: RTP/AVP, or RTP/AVPF
// (RFC 4585), which it runs as AVP (it sends no feedback).
func plainRTP(proto string) bool {
	return strings.EqualFold(proto, "RTP/AVP") || strings.EqualFold(proto, "RTP/AVPF")
}

// takes reports whether the phone takes an audio stream over proto when
// its local m-line is local: plain RTP always, SRTP (RTP/SAVP, RTP/SAVPF
// run as SAVP) when local carries SDES keys (a=crypto: SRTP is on).
func takes(proto string, local *Media) bool {
	return plainRTP(proto) || (IsSAVP(proto) && local.HasCrypto())
}

func sameCodec(a, b Codec) bool {
	return strings.EqualFold(a.Name, b.Name) && a.Rate == b.Rate &&
		(a.Channels == b.Channels || a.Channels+b.Channels == 1)
}

// common returns the first codec of local (in local's order, telephone-event
// aside) that offered has, as offered.
func common(offered, local []Codec) (Codec, Codec, bool) {
	for _, lc := range local {
		if IsTelephoneEvent(lc) || lc.Name == "" {
			continue
		}
		for _, oc := range offered {
			if sameCodec(lc, oc) {
				return oc, lc, true
			}
		}
	}
	return Codec{}, Codec{}, false
}

// Select returns the m-line of offer that Answer takes with local's codecs:
// the first audio m-line with a port, RTP/AVP or RTP/AVPF (or RTP/SAVP and
// RTP/SAVPF when local has a=crypto lines: the phone does SRTP), and a
// codec local has. With none it returns an *Error (ErrNotAcceptable) saying why,
// about the best candidate: a plain RTP audio stream without a common codec
// (NoCodec), else audio over another proto such as RTP/SAVP (BadProto),
// else no audio with a port (NoAudio).
func Select(offer Session, local Media) (int, error) {
	why := Error{Reason: NoAudio, Stream: -1}
	for i := range offer.Media {
		m := &offer.Media[i]
		if !strings.EqualFold(m.Type, "audio") || m.Port == 0 {
			continue
		}
		if !takes(m.Proto, &local) {
			if why.Reason == NoAudio {
				why = Error{Reason: BadProto, Stream: i, Detail: m.Proto}
			}
			continue
		}
		if _, _, ok := common(m.Codecs, local.Codecs); ok {
			return i, nil
		}
		if why.Reason != NoCodec {
			why = Error{Reason: NoCodec, Stream: i, Detail: codecNames(m.Codecs)}
		}
	}
	e := why // only a failure allocates
	return -1, &e
}

func codecNames(cs []Codec) string {
	var b []byte
	for i, c := range cs {
		if i > 0 {
			b = append(b, ' ')
		}
		if c.Name == "" {
			b = strconv.AppendUint(b, uint64(c.PT), 10)
		} else {
			b = append(b, c.Name...)
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(c.Rate), 10)
		}
	}
	return string(b)
}

// FirstAudio returns the index of the first audio m-line, -1 if none.
func (s Session) FirstAudio() int {
	for i := range s.Media {
		if strings.EqualFold(s.Media[i].Type, "audio") {
			return i
		}
	}
	return -1
}

// Answer makes the RFC 3264 section 6 answer to offer from local, the
// phone's capabilities (its first audio m-line: codecs in preference
// order, port, ptime; session-level origin, name and c=).
//
// The answer has one m-line per offered m-line, in the same order. The
// phone accepts exactly one: the first audio stream Select takes, with the
// offered proto, the first local codec (in local order) the offer has,
// with the offer's payload type (and local's spelling of the name), and
// telephone-event/8000 (RFC 4733) with the offer's payload type when both
// sides have it; its ptime is local's, else the offer's. Every other m-line (video, image/T.38, application, a
// second audio stream, RTP/SAVP audio while local has no a=crypto) is
// refused with port 0, keeping its media type, proto and first format.
// Answer writes no a=crypto: the keys are the caller's (sipua picks one
// of the offer's lines and adds its own key).
//
// The accepted stream's direction mirrors the offered one (RFC 3264 6.1)
// and is set on the answer's Session.Direction (Marshal writes it on the
// m-line). With no stream to accept it returns an *Error (ErrNotAcceptable).
func Answer(offer Session, local Session) (Session, error) {
	li := local.FirstAudio()
	if li < 0 {
		return Session{}, &Error{Reason: NoAudio, Stream: -1, Detail: "no local audio"}
	}
	lm := &local.Media[li]
	ai, err := Select(offer, *lm)
	if err != nil {
		return Session{}, err
	}
	n := 2 // the accepted codec and telephone-event
	nf := 0
	for i := range offer.Media {
		if i != ai {
			if IsRTP(offer.Media[i].Proto) || len(offer.Media[i].Formats) == 0 {
				n++
			} else {
				nf++
			}
		}
	}
	codecs := make([]Codec, 0, n)
	var formats []string
	if nf > 0 {
		formats = make([]string, 0, nf)
	}
	a := Session{Origin: local.Origin, Name: local.Name, Host: local.Host, Time: local.Time,
		Media: make([]Media, len(offer.Media))}
	if a.Host == "" {
		a.Host = lm.Host
	}
	for i := range offer.Media {
		om := &offer.Media[i]
		if i != ai {
			r := Media{Type: om.Type, Proto: om.Proto}
			switch {
			case len(om.Codecs) > 0:
				codecs = append(codecs, Codec{PT: om.Codecs[0].PT})
				r.Codecs = codecs[len(codecs)-1 : len(codecs) : len(codecs)]
			case len(om.Formats) > 0:
				formats = append(formats, om.Formats[0])
				r.Formats = formats[len(formats)-1 : len(formats) : len(formats)]
			case IsRTP(om.Proto):
				codecs = append(codecs, Codec{})
				r.Codecs = codecs[len(codecs)-1 : len(codecs) : len(codecs)]
			default:
				r.Formats = []string{"*"}
			}
			a.Media[i] = r
			continue
		}
		oc, lc, _ := common(om.Codecs, lm.Codecs)
		start := len(codecs)
		codecs = append(codecs, Codec{PT: oc.PT, Name: lc.Name, Rate: oc.Rate, Channels: oc.Channels, Fmtp: lc.Fmtp})
		if lte, ok := lm.TelephoneEvent(); ok {
			if ote, ok := om.TelephoneEvent(); ok {
				ote.Fmtp = lte.Fmtp
				codecs = append(codecs, ote)
			}
		}
		am := Media{Type: om.Type, Port: lm.Port, Proto: om.Proto, Ptime: lm.Ptime,
			Codecs: codecs[start:len(codecs):len(codecs)]}
		if lm.Host != a.Host {
			am.Host = lm.Host
		}
		if am.Ptime == 0 {
			am.Ptime = om.Ptime
		}
		a.Media[i] = am
		switch dirOf(offer, i) {
		case "sendonly":
			a.Direction = "recvonly"
		case "recvonly":
			a.Direction = "sendonly"
		case "inactive":
			a.Direction = "inactive"
		default:
			a.Direction = lm.Direction
			if a.Direction == "" {
				a.Direction = local.Direction
			}
			if a.Direction == "" {
				a.Direction = "sendrecv"
			}
		}
	}
	return a, nil
}

// dirOf is m-line i's direction: its own, else the session's, else sendrecv.
func dirOf(s Session, i int) string {
	if d := s.Media[i].Direction; d != "" {
		return d
	}
	if s.Direction != "" {
		return s.Direction
	}
	return "sendrecv"
}

// CheckAnswer checks a peer's answer to our offer (the phone as offerer,
// RFC 3264 sections 5 and 6) and returns the index of the audio m-line to
// use: the first audio stream offered with a port and RTP/AVP, RTP/AVPF,
// RTP/SAVP or RTP/SAVPF that the answer accepts (our offers have one).
// The answer must have the offer's m-lines one for one (StreamCount), with
// the same media types (MediaType); the audio stream must be accepted
// (Refused), with the offered proto (BadProto: RTP/SAVP to our RTP/AVP,
// say) and a codec we offered (NoCodec). An m-line we offered with a port
// that the answer accepts must keep its proto too. The error is an *Error
// (ErrBadAnswer).
func CheckAnswer(offer, answer Session) (int, error) {
	bad := func(r Reason, i int, detail string) (int, error) {
		return -1, &Error{Reason: r, Answer: true, Stream: i, Detail: detail}
	}
	if len(answer.Media) != len(offer.Media) {
		return bad(StreamCount, -1, strconv.Itoa(len(answer.Media))+" for "+strconv.Itoa(len(offer.Media)))
	}
	ai, first := -1, -1
	for i := range offer.Media {
		om, am := &offer.Media[i], &answer.Media[i]
		if !strings.EqualFold(om.Type, am.Type) {
			return bad(MediaType, i, am.Type+" for "+om.Type)
		}
		if om.Port != 0 && am.Port != 0 && !strings.EqualFold(om.Proto, am.Proto) {
			return bad(BadProto, i, am.Proto+" for "+om.Proto)
		}
		if om.Port != 0 && strings.EqualFold(om.Type, "audio") && (plainRTP(om.Proto) || IsSAVP(om.Proto)) {
			if first < 0 {
				first = i
			}
			if ai < 0 && am.Port != 0 {
				ai = i
			}
		}
	}
	if first < 0 {
		return bad(NoAudio, -1, "none offered")
	}
	if ai < 0 {
		return bad(Refused, first, "")
	}
	if _, _, ok := common(offer.Media[ai].Codecs, answer.Media[ai].Codecs); !ok {
		return bad(NoCodec, ai, codecNames(answer.Media[ai].Codecs))
	}
	return ai, nil
}

// Reoffer returns the next offer within the session s describes (RFC 3264
// section 8): every m-line of s, in order, refused ones still with port 0,
// and the origin's version incremented. The Media slice is a copy, so the
// caller may change a port or a direction in it; codecs and attributes
// are shared with s.
func (s Session) Reoffer() Session {
	n := s
	n.Origin.Version++
	n.Media = append([]Media(nil), s.Media...)
	return n
}
