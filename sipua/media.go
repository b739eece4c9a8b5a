package sipua

import (
	"fmt"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sdp"
)

// session turns local Media into an SDP session (G.722, PCMU, PCMA):
// one audio m-line, RTP/AVP, with the direction at session level (Marshal
// writes it on the m-line; Hold changes it there). With SRTP on it carries
// fresh a=crypto keys, over RTP/SAVP when required, RTP/AVP (best effort)
// when optional (srtp.go).
func (m Media) session(version uint64, mode SRTPMode) (sdp.Session, error) {
	s := sdp.Session{Origin: sdp.Origin{User: "-", SessionID: uint64(time.Now().Unix()), Version: version},
		Host: m.Host, Direction: "sendrecv"}
	a := sdp.Media{Type: "audio", Port: m.Port, Proto: "RTP/AVP", Ptime: m.Ptime}
	if mode == SRTPRequired {
		a.Proto = "RTP/SAVP"
	}
	if mode != SRTPOff {
		a.Attrs = offerCryptos()
	}
	if a.Ptime == 0 {
		a.Ptime = 20
	}
	if m.Host == "" || m.Port <= 0 || m.Port > 65535 {
		return sdp.Session{}, fmt.Errorf("sipua: media needs a host and a port, got %q:%d", m.Host, m.Port)
	}
	if len(m.Codecs) == 0 {
		return sdp.Session{}, fmt.Errorf("sipua: media without codecs")
	}
	for _, name := range m.Codecs {
		c, ok := sdp.StaticCodec(name)
		if !ok || (c.Name != "PCMU" && c.Name != "PCMA" && c.Name != "G722") {
			return sdp.Session{}, fmt.Errorf("sipua: unsupported codec %q", name)
		}
		a.Codecs = append(a.Codecs, c)
	}
	te := m.TelephoneEvent
	if te == 0 {
		te = 101
	}
	a.Codecs = append(a.Codecs, sdp.Codec{PT: te, Name: "telephone-event", Rate: 8000, Fmtp: "0-16"}) // RFC 4733 7.1.1
	s.Media = []sdp.Media{a}
	return s, nil
}

// g711 is what the phone plays (G.711, and G.722 with its 8000 Hz RTP
// clock, RFC 3551 4.5.2): the local side with which audio picks a remote
// description's audio stream.
var g711 = sdp.Media{Type: "audio", Proto: "RTP/AVP", Codecs: []sdp.Codec{
	{PT: 9, Name: "G722", Rate: 8000}, {PT: 0, Name: "PCMU", Rate: 8000}, {PT: 8, Name: "PCMA", Rate: 8000}}}

// audio returns "the audio stream" of a remote description, the one the UA
// talks about: the m-line sdp.Answer takes (the first audio stream with a
// port, RTP/AVP or RTP/AVPF, and G.711 or G.722), else the first audio m-line, else
// a zero Media.
func audio(s sdp.Session) sdp.Media {
	if i, err := sdp.Select(s, g711); err == nil {
		return s.Media[i]
	}
	if i := s.FirstAudio(); i >= 0 {
		return s.Media[i]
	}
	return sdp.Media{}
}

// servable says why an offer has no audio stream the phone can take
// (nil: it has one): audio with a port, RTP/AVP or RTP/AVPF, and G.711
// (sdp.Select); RTP/SAVP with a usable key too when the line's SRTP is
// on, and only a stream with a usable key when it is required. An offer
// of RTP/SAVP only with SRTP off, video only or T.38 only is not.
func servable(offer sdp.Session, mode SRTPMode) error { return srtpServable(offer, mode) }

// mediaOf turns a remote SDP session's audio stream into Media (codec names
// in its order).
func mediaOf(s sdp.Session) *Media { return streamMedia(audio(s)) }

func streamMedia(a sdp.Media) *Media {
	m := &Media{Host: a.Host, Port: a.Port, Ptime: a.Ptime, Direction: a.Direction}
	if m.Ptime == 0 {
		m.Ptime = 20
	}
	if m.Direction == "" {
		m.Direction = "sendrecv"
	}
	if te, ok := a.TelephoneEvent(); ok {
		m.TelephoneEvent = te.PT
	}
	for _, c := range a.Codecs {
		if c.Name != "" && !sdp.IsTelephoneEvent(c) {
			m.Codecs = append(m.Codecs, strings.ToUpper(c.Name))
		}
	}
	return m
}

// answered is the remote media of an answer to our offer, checked by
// sdp.CheckAnswer (its *sdp.Error says why an answer is refused: the UA
// then ends the attempt): the first codec of the answer's audio stream
// that we offered comes first; telephone-event is kept only when both
// sides have it.
func answered(offer, answer sdp.Session) (*Media, error) {
	i, err := sdp.CheckAnswer(offer, answer)
	if err != nil {
		return nil, err // an *sdp.Error, errors.Is sdp.ErrBadAnswer
	}
	om, am := offer.Media[i], answer.Media[i]
	keys, err := answerKeys(om, am)
	if err != nil {
		return nil, err
	}
	for _, ac := range am.Codecs {
		if sdp.IsTelephoneEvent(ac) {
			continue
		}
		for _, oc := range om.Codecs {
			if strings.EqualFold(ac.Name, oc.Name) && ac.Rate == oc.Rate {
				m := streamMedia(am)
				m.Codecs = []string{strings.ToUpper(oc.Name)}
				if _, ok := om.TelephoneEvent(); !ok {
					m.TelephoneEvent = 0
				}
				m.SRTP = keys
				return m, nil
			}
		}
	}
	return nil, ErrNoCodec // CheckAnswer found one
}

// chosen is our offer narrowed to what the answer m chose, for re-offers:
// the audio stream keeps the chosen codec (and telephone-event) only; the
// other m-lines stay as they are.
func chosen(offer sdp.Session, m *Media) sdp.Session {
	s := offer
	s.Media = append([]sdp.Media(nil), offer.Media...)
	for i := range s.Media {
		a := &s.Media[i]
		if a.Port == 0 || !strings.EqualFold(a.Type, "audio") {
			continue
		}
		var cs []sdp.Codec
		for _, oc := range a.Codecs {
			if strings.EqualFold(oc.Name, m.Codecs[0]) || (m.TelephoneEvent != 0 && sdp.IsTelephoneEvent(oc)) {
				cs = append(cs, oc)
			}
		}
		a.Codecs = cs
		break
	}
	return s
}

// negotiated is the remote media of a call whose offer we answered with
// ans (sdp.Answer): the offer's accepted audio stream, with the codec and
// telephone-event of our answer; our ptime when the offer had none.
func negotiated(offer, ans sdp.Session) *Media {
	for i, a := range ans.Media {
		if a.Port == 0 || i >= len(offer.Media) {
			continue
		}
		o := offer.Media[i]
		remote := streamMedia(o)
		remote.Codecs = []string{strings.ToUpper(a.Codecs[0].Name)}
		remote.TelephoneEvent = 0
		if te, ok := a.TelephoneEvent(); ok {
			remote.TelephoneEvent = te.PT
		}
		if a.Ptime > 0 && o.Ptime == 0 {
			remote.Ptime = a.Ptime
		}
		return remote
	}
	return mediaOf(offer) // not an answer of sdp.Answer's
}
