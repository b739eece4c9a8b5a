package phone

import "github.com/deskphone/deskphone/sipua"

// Early media (RFC 3960): what the earpiece plays while an outgoing call
// is not answered yet. The user agent's CallProgress carries Remote when
// the 18x had SDP the phone can play (an answer the user agent accepted:
// G.711 over RTP/AVP, the stream not rejected); an unplayable one comes
// without Remote and counts as no SDP.
//
// The rule, the gateway model's (section 3) local policy of section 3.2
// as desk phones apply it:
//
//  1. An 18x with playable SDP whose direction lets the far end send
//     (sendrecv, sendonly): its stream plays and local ringback stops
//     (3.2: incoming media, "play them and do not generate local
//     ringing"), call state "early".
//  2. An 18x without SDP once early media plays: the stream keeps
//     playing. A 180 says the callee is alerted "regardless of the status
//     of the early media session" (3.2); the session lives on in its
//     early dialog, and a PBX's announcement or in-band ringback would be
//     cut by switching back. Forks ringing behind it change nothing either.
//  3. An 18x whose SDP says the far end sends nothing (inactive or
//     recvonly, as a UAS that stops its early media says in a new
//     description): the stream stops and local ringback plays again. This
//     is the one way back to local ringback: the far end has to say so.
//  4. An 18x without SDP before any early media: local ringback, state
//     "ringing" (as before early media existed).
//
// Not done: the P-Early-Media header (RFC 5009) that IMS networks use to
// gate early media, and watching whether RTP actually arrives (3.2's
// "no incoming media packets": a stream that is negotiated but silent
// stays silent).
func (p *Phone) onProgress(c *call, ev sipua.Event) {
	switch {
	case ev.Remote != nil && farEndSends(ev.Remote):
		if c.media && sameStream(c.remote, ev.Remote) {
			break // a repeated 18x: the stream plays on unbroken
		}
		p.startMedia(ev.Remote)
		if c.media {
			p.setTone("none")
			p.callState("early")
		} else { // the stream could not start: ringback rather than silence
			p.setTone("ringback")
			p.callState("ringing")
		}
	case ev.Remote != nil: // rule 3
		p.stopEarlyMedia(c)
		p.setTone("ringback")
		p.callState("ringing")
	case !c.media: // rule 4; with media, rule 2: nothing changes
		p.setTone("ringback")
		p.callState("ringing")
	}
	p.setState(Ringback)
}

// sameStream reports whether two remote descriptions make the same stream.
func sameStream(a, b *sipua.Media) bool {
	return a != nil && b != nil && a.Host == b.Host && a.Port == b.Port && len(a.Codecs) > 0 && len(b.Codecs) > 0 &&
		a.Codecs[0] == b.Codecs[0] && a.TelephoneEvent == b.TelephoneEvent
}

// farEndSends reports whether a remote description lets the far end send
// audio to us.
func farEndSends(m *sipua.Media) bool {
	return m.Direction != "inactive" && m.Direction != "recvonly"
}

// stopEarlyMedia stops an unanswered call's early stream (the answer
// starts it again).
func (p *Phone) stopEarlyMedia(c *call) {
	if !c.media {
		return
	}
	p.eng(c).StopStream()
	c.media = false
	if !c.second {
		p.dtmfPoll.stop()
	}
}
