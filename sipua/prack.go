package sipua

import (
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/dialog"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
	"github.com/deskphone/deskphone/sipua/transport"
)

// Reliable provisional responses (RFC 3262, "100rel"), both directions.
//
// As caller: the INVITE says Supported: 100rel (supportedHeader); every
// reliable 18x (Require: 100rel, RSeq) gets a PRACK (RAck: rseq cseq
// method) in the early dialog of its To tag, one per fork, through the one
// request sender (a challenged PRACK is answered like any request). A
// reliable 18x with SDP carries the answer to the INVITE's offer (section
// 5, RFC 3264): the 2xx that follows need not repeat it.
//
// As callee: the INVITE's 180s (Ring) go reliably when it says Require:
// 100rel, or Supported: 100rel and Config.Reliable100rel is set: with
// Require: 100rel and an RSeq (random start, then one more each),
// retransmitted at T1, 2*T1, 4*T1, ... until the PRACK comes; one at a time,
// and the 200 (Answer) after the last one's PRACK (section 3). Without a
// PRACK within 64*T1 the INVITE is refused 500.

// relState is where the callee's reliable provisionals are (RFC 3262
// section 3).
type relState int

const (
	relUnset   relState = iota // no provisional sent yet: not decided
	relOff                     // provisionals go unreliably (the INVITE neither requires nor, as configured, gets 100rel)
	relIdle                    // reliable; none waits for its PRACK
	relUnacked                 // a reliable provisional is retransmitted until its PRACK
	relFinal                   // the final response went: a PRACK now gets 481
)

func (s relState) String() string {
	return [...]string{"unset", "off", "idle", "unacked", "final"}[s]
}

// prack is a call's reliable-provisional state.
type prack struct {
	// caller: one entry per early dialog (To tag) that sent a reliable 18x
	forks map[string]*relFork

	// callee
	state    relState
	rseq     uint32            // RSeq of the last reliable provisional built
	unacked  *sipmsg.Message   // the one retransmitted until PRACKed
	unackedN uint32            // its RSeq
	queue    []*sipmsg.Message // built while another was unacknowledged: sent one at a time (section 3)
	heldOK   *sipmsg.Message   // the 2xx, held until the PRACK (section 3)
	stop     func()            // the retransmission timer
}

// relFork is the caller's state of one early dialog's reliable 18x.
type relFork struct {
	cseq   uint32  // the INVITE's CSeq they answer (a new INVITE after a 3xx starts over)
	rseq   uint32  // the last in-order RSeq (section 4)
	prack  *outReq // its PRACK
	done   bool    // the PRACK got its final response
	hop    *net.UDPAddr
	answer []byte // the SDP answer a reliable 18x carried (section 5)
}

// maxRelQueue bounds the provisionals waiting behind an unacknowledged one.
const maxRelQueue = 4

// reliable18x PRACKs r if it is a reliable provisional (RFC 3262 section
// 4) and reports whether it is news for the phone (a CallProgress). A
// retransmission (the RSeq just PRACKed in that dialog) is not news; while
// its PRACK has no answer the same PRACK (same CSeq and branch) is sent
// again, since the UAS retransmits until it sees one (section 4 says a UAC
// SHOULD NOT, "although doing so does not create a protocol error": the
// UAS's transaction absorbs it). One whose RSeq is not one more than the
// last is out of order: neither PRACKed nor processed (section 4). An 18x
// that says Require: 100rel but cannot be PRACKed (no RSeq, no To tag or
// Contact for a dialog) is taken as unreliable.
func (c *call) reliable18x(r *sipmsg.Message) bool {
	if !hasOption(r, "Require", "100rel") {
		return true
	}
	rseq, err := strconv.ParseUint(strings.TrimSpace(r.Get("RSeq")), 10, 32)
	tag := r.ToTag()
	d := c.early[tag]
	cseq, method, cerr := r.CSeq()
	if err != nil || rseq == 0 || d == nil || cerr != nil {
		c.ua.logf("sipua: call %d: reliable %d without a usable RSeq or early dialog: taken as unreliable", c.id, r.StatusCode)
		return true
	}
	f := c.rel.forks[tag]
	if f == nil || f.cseq != cseq {
		if c.rel.forks == nil {
			c.rel.forks = map[string]*relFork{}
		}
		f = &relFork{cseq: cseq, hop: c.hopOf(d)}
		c.rel.forks[tag] = f
	} else {
		switch {
		case uint32(rseq) == f.rseq:
			if !f.done && f.prack != nil {
				c.ua.sendMsg(f.prack.req, f.hop)
			}
			return false
		case uint32(rseq) != f.rseq+1:
			c.ua.logf("sipua: call %d: reliable %d with RSeq %d after %d: out of order, ignored", c.id, r.StatusCode, rseq, f.rseq)
			return false
		}
	}
	f.rseq, f.done = uint32(rseq), false
	if len(r.Body) > 0 && f.answer == nil {
		f.answer = r.Body
	}
	pr := c.inDialog(d, "PRACK")
	pr.Add("RAck", strconv.FormatUint(rseq, 10)+" "+strconv.FormatUint(uint64(cseq), 10)+" "+method)
	o, err := c.ua.request(c.line, d, pr, f.hop, &outReq{
		onResponse: func(o *outReq, resp *sipmsg.Message) {
			if resp.StatusCode < 200 || f.prack != o {
				return
			}
			f.done = true
			if resp.StatusCode >= 300 { // the call goes on: the PRACK only acknowledges
				c.ua.logf("sipua: call %d PRACK: %d", c.id, resp.StatusCode)
			}
		},
		onError: func(_ *outReq, err error) { c.ua.logf("sipua: call %d PRACK: %v", c.id, err) },
	})
	if err != nil {
		c.ua.logf("sipua: call %d PRACK: %v", c.id, err)
		return true
	}
	f.prack = o
	return true
}

// hopOf is where a request in early dialog d goes: the line's outbound
// proxy, else d's next hop, else where the INVITE went.
func (c *call) hopOf(d *dialog.Dialog) *net.UDPAddr {
	if c.line.proxy != nil {
		return c.line.proxy
	}
	if a, err := transport.Resolve(d.NextHop().HostPort()); err == nil {
		return a
	}
	return c.dest
}

// confirmEarly carries the early dialog of the 2xx's To tag into the
// confirmed dialog d, once its ACK is built: the CSeq numbers of its
// requests go on after the PRACKs sent in it (the early dialog is the same
// dialog, RFC 3261 12.1 and 12.2.1.1).
func (c *call) confirmEarly(d *dialog.Dialog) {
	if e := c.early[d.RemoteTag]; e != nil && e.LocalSeq > d.LocalSeq {
		d.LocalSeq = e.LocalSeq
	}
}

// answerBody is the SDP answer of a 2xx to our INVITE: its own body, else
// the one a reliable 18x of the same dialog carried (RFC 3262 section 5:
// offer and answer are done; the 2xx need not repeat it).
func (c *call) answerBody(r *sipmsg.Message) []byte {
	if len(r.Body) > 0 {
		return r.Body
	}
	if f := c.rel.forks[r.ToTag()]; f != nil {
		return f.answer
	}
	return nil
}

// uasReliable decides, at the first provisional, whether the INVITE's
// provisionals go reliably (RFC 3262 section 3: MUST with Require:
// 100rel, MAY with Supported: 100rel).
func (c *call) uasReliable() bool {
	if c.rel.state == relUnset {
		inv := c.srv.Request()
		c.rel.state = relOff
		if hasOption(inv, "Require", "100rel") || (c.ua.cfg.Reliable100rel && hasOption(inv, "Supported", "100rel")) {
			c.rel.state = relIdle
			c.rel.rseq = rand.Uint32N(1<<31 - 1) // the first is rseq+1: 1 to 2**31-1 (section 3)
		}
	}
	return c.rel.state != relOff
}

// respondReliably is respondInvite's reliable path; nil: respond as usual.
// A provisional (101-199) of a reliable INVITE is sent reliably, or queued
// behind the one that waits for its PRACK (section 3: one at a time). A
// 2xx is held while a provisional waits for its PRACK (section 3; the RFC
// asks it only when that provisional has SDP, ours never does, but a 200
// overtaking the 180 it should follow is what the PRACK is there to
// prevent); the queue is dropped, the 2xx says it all. A non-2xx final
// stops the retransmissions.
func (c *call) respondReliably(code int, build func(*sipmsg.Message)) *sipmsg.Message {
	if c.srv == nil {
		return nil
	}
	switch {
	case code > 100 && code < 200:
		if !c.uasReliable() || c.rel.state == relFinal {
			return nil
		}
		c.rel.rseq++
		n := c.rel.rseq
		r := c.ua.response(c.srv, code, "", func(r *sipmsg.Message) {
			build(r)
			r.Add("Require", "100rel")
			r.Add("RSeq", strconv.FormatUint(uint64(n), 10))
		})
		if c.rel.state == relUnacked {
			if len(c.rel.queue) < maxRelQueue {
				c.rel.queue = append(c.rel.queue, r)
			}
			return r
		}
		c.sendReliable(r)
		return r
	case code >= 200 && code < 300 && c.rel.state == relUnacked:
		r := c.ua.response(c.srv, code, "", build)
		c.rel.heldOK, c.rel.queue = r, nil
		c.ua.logf("sipua: call %d: %d held until the provisional's PRACK", c.id, code)
		return r
	case code >= 200: // a 2xx with nothing unacknowledged, or a non-2xx final (CANCEL, Reject, 500 for no PRACK)
		if c.rel.state == relIdle || c.rel.state == relUnacked {
			c.stopReliable()
			c.rel.state, c.rel.heldOK = relFinal, nil
		}
	}
	return nil
}

// sendReliable sends a reliable provisional and retransmits it until its
// PRACK: relIdle -> relUnacked (section 3).
func (c *call) sendReliable(r *sipmsg.Message) {
	n, _ := strconv.ParseUint(r.Get("RSeq"), 10, 32)
	c.rel.state, c.rel.unacked, c.rel.unackedN = relUnacked, r, uint32(n)
	if err := c.srv.Respond(r); err != nil {
		c.ua.logf("sipua: call %d: reliable %d: %v", c.id, r.StatusCode, err)
	}
	c.retransmitReliable(r, transaction.T1, 0)
}

// retransmitReliable re-sends r at T1, 2*T1, 4*T1, ... (over every
// transport: section 3 asks it of the UAS core, as 13.3.1.4 does of 2xx);
// after 64*T1 without a PRACK the INVITE is refused 500 (section 3: "SHOULD
// reject the original request with a 5xx") and the call ends.
func (c *call) retransmitReliable(r *sipmsg.Message, interval, elapsed time.Duration) {
	c.rel.stop = c.ua.after(interval, func() {
		if c.state == csEnded || c.rel.state != relUnacked || c.rel.unacked != r {
			return
		}
		elapsed += interval
		if elapsed >= 64*transaction.T1 {
			c.ua.logf("sipua: call %d: no PRACK for the reliable %d: 500", c.id, r.StatusCode)
			c.rel.heldOK = nil
			c.respondInvite(500, nil)
			c.end(500)
			return
		}
		if err := c.srv.Respond(r); err != nil {
			c.ua.logf("sipua: call %d: reliable %d: %v", c.id, r.StatusCode, err)
		}
		c.retransmitReliable(r, min(2*interval, 64*transaction.T1-elapsed), elapsed)
	})
}

func (c *call) stopReliable() {
	if c.rel.stop != nil {
		c.rel.stop()
		c.rel.stop = nil
	}
	c.rel.unacked, c.rel.queue = nil, nil
}

// dropHeldOK refuses, when the callee hangs up, an INVITE whose 2xx still
// waits for a PRACK (the 2xx never went, so there is no dialog to BYE):
// 480, as hanging up a ringing call does. It reports whether it did.
func (c *call) dropHeldOK() bool {
	if c.rel.heldOK == nil {
		return false
	}
	c.rel.heldOK = nil
	c.respondInvite(480, nil)
	c.end(480)
	return true
}

// handlePrack answers a PRACK (RFC 3262 section 3): 200 when it acknowledges
// the reliable provisional that waits (RAck: its RSeq, the INVITE's CSeq
// number and method), which then stops; 481 for any other (no such dialog,
// nothing unacknowledged, another RAck). The next queued provisional or the
// held 2xx goes then.
func (ua *UA) handlePrack(srv *transaction.Server, m *sipmsg.Message) {
	c := ua.prackCall(m)
	if c == nil || c.rel.state != relUnacked || !c.rackMatches(m.Get("RAck")) {
		ua.respond(srv, 481, "", nil)
		return
	}
	ua.respond(srv, 200, "", nil)
	if seq, _, err := m.CSeq(); err == nil && c.dlg != nil && seq > c.dlg.RemoteSeq {
		c.dlg.RemoteSeq = seq
	}
	c.stopReliable()
	c.rel.state = relIdle
	switch {
	case len(c.rel.queue) > 0:
		next := c.rel.queue[0]
		c.rel.queue = c.rel.queue[1:]
		c.sendReliable(next)
	case c.rel.heldOK != nil:
		ok := c.rel.heldOK
		c.rel.heldOK = nil
		c.rel.state = relFinal
		if err := c.srv.Respond(ok); err != nil {
			ua.logf("sipua: call %d: held 200: %v", c.id, err)
		}
		c.retransmitOK(transaction.T1, 0)
	}
}

// prackCall finds the incoming call a PRACK belongs to: its INVITE's
// Call-ID, our To tag, the caller's From tag (the early dialog, 12.1.1).
func (ua *UA) prackCall(m *sipmsg.Message) *call {
	callID, to, from := m.Get("Call-ID"), m.ToTag(), m.FromTag()
	for _, c := range ua.calls {
		if c.outgoing || c.srv == nil || c.localTag != to {
			continue
		}
		if inv := c.srv.Request(); inv.Get("Call-ID") == callID && inv.FromTag() == from {
			return c
		}
	}
	return nil
}

// rackMatches reports whether a RAck value (RFC 3262 section 7.2: "rseq
// cseq method") names the provisional that waits.
func (c *call) rackMatches(v string) bool {
	f := strings.Fields(v)
	if len(f) != 3 {
		return false
	}
	rseq, err1 := strconv.ParseUint(f[0], 10, 32)
	cseq, err2 := strconv.ParseUint(f[1], 10, 32)
	seq, method, err3 := c.srv.Request().CSeq()
	return err1 == nil && err2 == nil && err3 == nil &&
		uint32(rseq) == c.rel.unackedN && uint32(cseq) == seq && f[2] == method
}
