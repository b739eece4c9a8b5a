package sipua

import "time"

// An incoming call that rings: its ring timeout and the refresh of its 180.

// DefaultRingTimeout is Config.RingTimeout's default: three minutes, the
// gap after which a proxy may give up on an INVITE (RFC 3261 13.3.1.1),
// and longer than any PBX's own no-answer forwarding.
const DefaultRingTimeout = 3 * time.Minute

// provisionalEvery is how often a ringing call's 180 is sent again (RFC
// 3261 13.3.1.1: a non-100 provisional at least every minute, so that no
// proxy cancels the transaction and a lost 180 is made good).
const provisionalEvery = time.Minute

// armRingTimeout starts an incoming call's ring timeout (Config.RingTimeout):
// unanswered by then, the INVITE gets 480 Temporarily Unavailable and the
// call ends with CallEnded 480, the CANCEL that never came.
func (c *call) armRingTimeout() {
	d := c.ua.cfg.RingTimeout
	if d == 0 {
		d = DefaultRingTimeout
	}
	if d < 0 {
		return
	}
	c.stopRing = c.ua.after(d, func() {
		c.stopRing = nil
		if c.state != csIncoming && c.state != csRinging {
			return
		}
		c.ua.logf("sipua: call %d unanswered after %v: 480", c.id, d)
		c.stopRinging()
		c.respondInvite(480, nil)
		c.end(480)
	})
}

// rang is called after each 180 of a ringing call: the next one goes out
// provisionalEvery later while it still rings (13.3.1.1).
func (c *call) rang() {
	if c.stopRefresh != nil {
		c.stopRefresh()
	}
	every := c.ua.ringRefresh
	if every == 0 {
		every = provisionalEvery
	}
	c.stopRefresh = c.ua.after(every, func() {
		c.stopRefresh = nil
		if c.state != csRinging {
			return
		}
		c.respondInvite(180, nil)
		c.rang()
	})
}

// stopRinging stops both timers: the call was answered, refused or ended.
func (c *call) stopRinging() {
	if c.stopRing != nil {
		c.stopRing()
		c.stopRing = nil
	}
	if c.stopRefresh != nil {
		c.stopRefresh()
		c.stopRefresh = nil
	}
}
