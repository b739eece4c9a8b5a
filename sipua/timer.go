package sipua

import (
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// Session timers (RFC 4028): a confirmed call is kept alive by refreshes
// (a re-INVITE or an UPDATE, either way, each one counts: section 10)
// within the session interval both sides settle. The phone asks for
// Config.SessionExpires in its INVITEs (Session-Expires, Min-SE, Supported:
// timer; section 7.1), grants a caller what it asks for when it is not
// below our Min-SE (else 422 with our Min-SE, section 9), follows a 422
// once with the larger Min-SE (7.4), and reads who refreshes from the
// refresher parameter of the 2xx (7.2) or sets it in its own 2xx (9).
// The refresher refreshes at half the interval: by UPDATE without a body
// when the peer's Allow lists UPDATE (RFC 3311; a 405/501 falls back),
// else by re-INVITE with the current description (sendReInvite: a
// refresh that changes nothing keeps the o= version, RFC 3264 section
// 8). A refresh that gets 408 or 481 or no answer ends the call with a
// BYE; the other side ends it with a BYE when no refresh has come by
// the interval minus the smaller of 32 s and a third of it (section 10).

// defaultMinSE is the lowest session interval (RFC 4028 section 5: Min-SE
// defaults to, and must not be set below, 90 s).
const defaultMinSE = 90

// refresher is who refreshes a call's session.
type refresher uint8

const (
	refNone refresher = iota // no session timer
	refUs                    // we refresh (section 7.2 "uac" to our request; 9 "uas" in our 2xx)
	refPeer                  // the peer refreshes; we watch for the refreshes (section 10)
)

func (r refresher) String() string { return [...]string{"none", "us", "peer"}[r] }

// sessTimer is a call's session timer; the zero value is none.
type sessTimer struct {
	interval    int       // the session interval, seconds; 0: none
	who         refresher // who refreshes
	minSE       int       // a Min-SE larger than ours that a 422 or the peer's request named (7.4, 9)
	retried     bool      // a 422 was followed (once a call: section 7.4)
	peerUpdate  bool      // the peer's Allow lists UPDATE: refresh with it
	wantRefresh bool      // a refresh by re-INVITE is due (retried after a 491)
	// refreshA (our refresh, c.refresh) and expireA (the peer's deadline,
	// c.sessionExpired) are the call's, made when first armed (alarms)
	// and re-armed at each 2xx: a refresh, a hold or a resume allocates
	// no timer (alarm.go).
	refreshA, expireA *alarm
}

func (st *sessTimer) stop() {
	if st.refreshA != nil {
		st.refreshA.Stop()
		st.expireA.Stop()
	}
}

// armed reports whether a refresh or the peer's deadline waits.
func (st *sessTimer) armed() bool {
	return st.refreshA != nil && (st.refreshA.armed() || st.expireA.armed())
}

// alarms returns the call's session alarms, made at the first call.
func (c *call) alarms() (refresh, expire *alarm) {
	if c.st.refreshA == nil {
		c.st.refreshA, c.st.expireA = c.ua.newAlarm(c.refresh), c.ua.newAlarm(c.sessionExpired)
	}
	return c.st.refreshA, c.st.expireA
}

// refreshIn arms our session refresh d from now.
func (c *call) refreshIn(d time.Duration) {
	a, _ := c.alarms()
	a.reset(d)
}

// parseSE reads a Session-Expires value (RFC 4028 section 4):
// delta-seconds and the refresher parameter ("uac", "uas", or "").
func parseSE(v string) (secs int, ref string, ok bool) {
	num, params, _ := strings.Cut(v, ";")
	if num = strings.TrimSpace(num); num == "" {
		return 0, "", false // no header: without Atoi's error, which allocates
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return 0, "", false
	}
	for params != "" { // a scan: no slice
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "refresher") {
			ref = strings.ToLower(strings.TrimSpace(val)) // "uac" or "uas": lower already, no copy
		}
	}
	return n, ref, true
}

// parseMinSE reads a Min-SE value (section 5); 0 when absent or bad.
func parseMinSE(v string) int {
	num, _, _ := strings.Cut(v, ";")
	if num = strings.TrimSpace(num); num == "" {
		return 0
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// hasOption reports whether a list header of m (Supported, Allow,
// Require) names tag.
func hasOption(m *sipmsg.Message, header, tag string) bool {
	for v := range m.Values(header) {
		if strings.EqualFold(strings.TrimSpace(v), tag) {
			return true
		}
	}
	return false
}

// uasTimer settles the session timer of a request we answer with a 2xx
// (an INVITE, a re-INVITE or an UPDATE; RFC 4028 section 9), from what
// it asks for (se and ref of its Session-Expires, 0 and "" without one;
// its Min-SE; whether it says Supported: timer) and what we want (ours,
// 0 = off) and allow (ourMin). reject asks for a 422: the interval asked
// for is below our minimum and the UAC can take a 422. The interval is
// the one asked for, or ours when that is smaller and allowed by both
// Min-SEs (the UAS may reduce it, never below Min-SE); a request asking
// for none gets ours. The refresher is the one asked for; when none is,
// the UAC if it supports timers, else we (a UAC without the extension
// cannot refresh on purpose, but answers our re-INVITEs).
func uasTimer(se int, ref string, reqMin int, uacSupports bool, ours, ourMin int) (interval int, who refresher, reject bool) {
	if ours == 0 {
		return 0, refNone, false // off: Session-Expires is ignored, as by a UAS without the extension
	}
	if se > 0 {
		if se < ourMin {
			if uacSupports {
				return 0, refNone, true
			}
			se = ourMin // a proxy asked for it (section 8): it cannot take a 422
		}
		interval = se
		if ours < interval && ours >= max(reqMin, ourMin) {
			interval = ours
		}
	} else {
		interval = max(ours, reqMin, ourMin)
	}
	switch {
	case ref == "uac" && uacSupports, ref == "" && uacSupports:
		who = refPeer
	default:
		who = refUs
	}
	return interval, who, false
}

// uacTimer reads the session timer a 2xx to our request settles (RFC 4028
// section 7.2): none without Session-Expires; the refresher is the UAC
// (we) unless it says uas; an interval below our Min-SE (which a UAS must
// not grant) is taken as our Min-SE.
func uacTimer(se int, ref string, ourMin int) (interval int, who refresher) {
	if se <= 0 {
		return 0, refNone
	}
	if ref == "uas" {
		return max(se, ourMin), refPeer
	}
	return max(se, ourMin), refUs
}

// refreshAt is when the refresher refreshes: half the interval (section 10).
func refreshAt(interval time.Duration) time.Duration { return interval / 2 }

// expireAt is when the side that does not refresh gives up on a session
// no refresh came for: the interval minus the smaller of 32 s and a third
// of it (section 10).
func expireAt(interval time.Duration) time.Duration {
	return interval - min(32*time.Second, interval/3)
}

// minSE is the Min-SE our requests of this call carry.
func (c *call) minSE() int { return max(c.st.minSE, c.ua.minSE) }

// sessionHeaders puts Supported and, with session timers on, the session
// timer headers on a request of ours (INVITE, re-INVITE, UPDATE): the
// interval we want (7.1), or in a running session its interval with the
// refresher kept as it is (7.4: refresher=uac when we refresh).
func (c *call) sessionHeaders(m *sipmsg.Message) {
	m.Add("Supported", c.ua.supported())
	if c.ua.cfg.SessionExpires == 0 {
		return
	}
	v := itoa(max(c.ua.cfg.SessionExpires, c.minSE()))
	switch c.st.who {
	case refUs:
		v = itoa(c.st.interval) + ";refresher=uac"
	case refPeer:
		v = itoa(c.st.interval) + ";refresher=uas"
	}
	m.Add("Session-Expires", v)
	m.Add("Min-SE", itoa(c.minSE()))
}

// sessionTooSmall answers 422 with our Min-SE to a request (INVITE,
// re-INVITE, UPDATE) whose Session-Expires is below it, when the UAC
// supports timers (RFC 4028 section 9); it reports whether it did.
func (ua *UA) sessionTooSmall(srv *transaction.Server, m *sipmsg.Message) bool {
	se, ref, _ := parseSE(m.Get("Session-Expires"))
	if _, _, reject := uasTimer(se, ref, 0, hasOption(m, "Supported", "timer"), ua.cfg.SessionExpires, ua.minSE); !reject {
		return false
	}
	ua.logf("sipua: %s with Session-Expires %d below our Min-SE %d: 422", m.Method, se, ua.minSE)
	ua.respond(srv, 422, "", func(r *sipmsg.Message) {
		addToTag(r, sipmsg.NewTag())
		r.Add("Min-SE", itoa(ua.minSE))
	})
	return true
}

// sessionAnswer settles the session timer of a request we answer with the
// 2xx r (RFC 4028 section 9) and puts it on r: Supported, Session-Expires
// with the refresher, Require: timer when the UAC refreshes. The timer
// starts again (section 10: each 2xx is a refresh).
func (c *call) sessionAnswer(req, r *sipmsg.Message) {
	r.Add("Supported", c.ua.supported())
	if req.Has("Allow") {
		c.st.peerUpdate = hasOption(req, "Allow", "UPDATE")
	}
	se, ref, _ := parseSE(req.Get("Session-Expires"))
	reqMin := parseMinSE(req.Get("Min-SE"))
	if reqMin > c.st.minSE {
		c.st.minSE = reqMin
	}
	c.st.interval, c.st.who, _ = uasTimer(se, ref, reqMin, hasOption(req, "Supported", "timer"), c.ua.cfg.SessionExpires, c.ua.minSE)
	switch c.st.who {
	case refPeer:
		r.Add("Require", "timer")
		r.Add("Session-Expires", itoa(c.st.interval)+";refresher=uac")
	case refUs:
		r.Add("Session-Expires", itoa(c.st.interval)+";refresher=uas")
	}
	c.armTimer()
}

// sessionAnswered takes the session timer a 2xx to our INVITE, re-INVITE
// or UPDATE settles (RFC 4028 section 7.2) and starts it again.
func (c *call) sessionAnswered(r *sipmsg.Message) {
	if r.Has("Allow") {
		c.st.peerUpdate = hasOption(r, "Allow", "UPDATE")
	}
	if c.ua.cfg.SessionExpires == 0 {
		return
	}
	se, ref, _ := parseSE(r.Get("Session-Expires"))
	c.st.interval, c.st.who = uacTimer(se, ref, c.minSE())
	c.armTimer()
}

// armTimer starts the session timer from now: the refresher's refresh at
// half the interval, or the other side's deadline (section 10).
func (c *call) armTimer() {
	c.st.stop()
	c.st.wantRefresh = false
	if c.st.interval == 0 || c.state == csEnded {
		return
	}
	d := time.Duration(c.st.interval) * time.Second
	if c.st.who == refUs {
		c.refreshIn(refreshAt(d))
		return
	}
	_, expire := c.alarms()
	expire.reset(expireAt(d))
}

// refresh sends the session refresh (RFC 4028 section 7.4/9): an UPDATE
// when the peer allows it, else a re-INVITE; while a re-INVITE or UPDATE
// of ours is out (its 2xx refreshes too) or the peer's re-INVITE waits for
// its ACK, it tries again a second later.
func (c *call) refresh() {
	if c.state != csConfirmed || c.st.who != refUs {
		return
	}
	switch {
	case c.reinvTx != nil || c.upd.tx != nil || c.reSrv != nil || c.stopGlare != nil:
		c.refreshIn(time.Second)
	case c.st.peerUpdate:
		c.sendUpdate()
	default:
		c.st.wantRefresh = true
		c.sendReInvite()
	}
}

// sessionExpired ends a call whose peer did not refresh it in time (RFC
// 4028 section 10).
func (c *call) sessionExpired() {
	if c.state != csConfirmed {
		return
	}
	c.ua.logf("sipua: call %d: no session refresh within %d s", c.id, c.st.interval)
	c.sendBye(`SIP;cause=408;text="Session expired"`)
}

// retry422 follows a 422 to one of our requests (RFC 4028 section 7.4,
// once a call): the request again through the request sender (same
// Call-ID, the next CSeq, credentials kept) with the 422's Min-SE and a
// Session-Expires raised to it. It reports whether it re-sent.
func (c *call) retry422(o *outReq, r *sipmsg.Message) bool {
	min := parseMinSE(r.Get("Min-SE"))
	if c.ua.cfg.SessionExpires == 0 || c.st.retried || min <= c.minSE() || (o.mayResend != nil && !o.mayResend()) {
		return false
	}
	c.st.retried = true
	c.st.minSE = min
	err := o.resendWith(func(m *sipmsg.Message) {
		se, ref, _ := parseSE(m.Get("Session-Expires"))
		v := itoa(max(se, min))
		if ref != "" {
			v += ";refresher=" + ref
		}
		m.Set("Session-Expires", v)
		m.Set("Min-SE", itoa(min))
	})
	if err != nil {
		c.ua.logf("sipua: call %d %s after 422: %v", c.id, o.req.Method, err)
		return false
	}
	c.ua.logf("sipua: call %d: 422, %s again with Min-SE %d", c.id, o.req.Method, min)
	if c.dlg == nil { // the initial INVITE: a new transaction, as after a redirect
		c.provisional, c.early, c.state = false, nil, csCalling
	}
	return true
}
