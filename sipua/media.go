package sipua

import (
	"fmt"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sdp"
)

// session turns local Media into an SDP session (G.711 only: PCMU, PCMA).
func (m Media) session(version uint64) (sdp.Session, error) {
	s := sdp.Session{Origin: sdp.Origin{User: "-", SessionID: uint64(time.Now().Unix()), Version: version},
		Host: m.Host, Port: m.Port, Ptime: m.Ptime, Direction: "sendrecv"}
	if s.Ptime == 0 {
		s.Ptime = 20
	}
	if m.Host == "" || m.Port <= 0 || m.Port > 65535 {
		return sdp.Session{}, fmt.Errorf("sipua: media needs a host and a port, got %q:%d", m.Host, m.Port)
	}
	if len(m.Codecs) == 0 {
		return sdp.Session{}, fmt.Errorf("sipua: media without codecs")
	}
	for _, name := range m.Codecs {
		c, ok := sdp.StaticCodec(name)
		if !ok || (c.Name != "PCMU" && c.Name != "PCMA") {
			return sdp.Session{}, fmt.Errorf("sipua: unsupported codec %q", name)
		}
		s.Codecs = append(s.Codecs, c)
	}
	te := m.TelephoneEvent
	if te == 0 {
		te = 101
	}
	s.Codecs = append(s.Codecs, sdp.Codec{PT: te, Name: "telephone-event", Rate: 8000}) // RFC 4733
	return s, nil
}

// mediaOf turns a remote SDP session into Media (codec names in its order).
func mediaOf(s sdp.Session) *Media {
	m := &Media{Host: s.Host, Port: s.Port, Ptime: s.Ptime, Direction: s.Direction}
	if m.Ptime == 0 {
		m.Ptime = 20
	}
	if te, ok := s.TelephoneEvent(); ok {
		m.TelephoneEvent = te.PT
	}
	for _, c := range s.Codecs {
		if c.Name != "" && !sdp.IsTelephoneEvent(c) {
			m.Codecs = append(m.Codecs, strings.ToUpper(c.Name))
		}
	}
	return m
}

// answered is the remote media of an answer to our offer: the first codec of
// the answer that we offered comes first; telephone-event is kept only when
// both sides have it. An answer the phone cannot play fails with ErrNoCodec
// (RFC 3264 section 6): one that rejects the stream (port 0), one over
// another transport than the RTP/AVP offered (RTP/SAVP, UDP/TLS/RTP/SAVPF:
// no SRTP here), or one without a codec of the offer. Every answer comes
// through here, whether in a 2xx, a re-INVITE's 2xx or ACK, or an 18x (early
// media, RFC 3960): an unplayable one never starts a stream.
func answered(offer, answer sdp.Session) (*Media, error) {
	if answer.Port == 0 {
		return nil, fmt.Errorf("%w: the answer rejects the audio stream", ErrNoCodec)
	}
	if answer.Proto != "" && !strings.EqualFold(answer.Proto, "RTP/AVP") {
		return nil, fmt.Errorf("%w: the answer's transport is %s, not RTP/AVP", ErrNoCodec, answer.Proto)
	}
	for _, ac := range answer.Codecs {
		if sdp.IsTelephoneEvent(ac) {
			continue
		}
		for _, oc := range offer.Codecs {
			if strings.EqualFold(ac.Name, oc.Name) && ac.Rate == oc.Rate {
				m := mediaOf(answer)
				m.Codecs = []string{strings.ToUpper(oc.Name)}
				if _, ok := offer.TelephoneEvent(); !ok {
					m.TelephoneEvent = 0
				}
				return m, nil
			}
		}
	}
	return nil, ErrNoCodec
}
