package sipua

import (
	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Late offer (RFC 3261 13.2.1 and 13.3.1.4, RFC 3264 section 5): an
// INVITE with no body asks the callee to offer. CallIncoming then has no
// Remote; Answer puts our offer (all we can do) in the 200 and returns
// no media; the ACK carries the answer, and CallAnswered follows it with
// the peer's media. An ACK without a usable answer ends the call with a
// BYE (Reason 488): nothing else can refuse an answer that comes in an
// ACK. (A re-INVITE without a body is the same exchange inside the
// call: handleReInvite and reAcked in session.go.)

// offerMedia is the peer's offer as Media for CallIncoming; nil for a
// late offer.
func (c *call) offerMedia() *Media {
	if c.lateOffer {
		return nil
	}
	return mediaOf(c.remoteOffer)
}

// answerFor is the description Answer puts in its 200: the answer to the
// INVITE's offer from local, or, for a late offer, local itself (our
// offer).
func (c *call) answerFor(local sdp.Session) (sdp.Session, error) {
	if c.lateOffer {
		return local, nil
	}
	return sdp.Answer(c.remoteOffer, local)
}

// lateAnswer takes the answer in the ACK of our late-offer 200; it
// reports false when there was none we can use and the call is being
// ended.
func (c *call) lateAnswer(ack *sipmsg.Message) bool {
	c.lateOffer = false
	ans, err := sdp.Parse(ack.Body)
	var m *Media
	if err == nil {
		m, err = answered(c.local, ans)
	}
	if err != nil {
		c.ua.logf("sipua: call %d: no usable answer in the ACK: %v", c.id, err)
		c.sendBye(reasonFor(488))
		return false
	}
	c.remote = m
	c.ua.emit(Event{Kind: CallAnswered, Line: c.line.n, Call: c.id, Peer: c.peer, Remote: m})
	return true
}
