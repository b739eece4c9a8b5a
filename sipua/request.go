package sipua

import (
	"net"
	"net/netip"
	"strconv"

	"github.com/deskphone/deskphone/sipua/dialog"
	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// Client requests: the one home for sending a request the UA originates,
// out of a dialog or in one (REGISTER, INVITE, re-INVITE, BYE, REFER,
// SUBSCRIBE, NOTIFY, ...), and for answering its digest challenges (RFC
// 3261 section 22) with the line's digest client, whatever the method. A
// request and its re-sends are one outReq, so the code that sent it sees
// one stable handle and only the responses that matter to it. ACK and
// CANCEL cannot be challenged (22.1) and do not come here.

// outReq is one request the UA sends and its re-sends.
type outReq struct {
	ua  *UA
	l   *line          // the line whose credentials answer challenges; nil: none
	dlg *dialog.Dialog // in a dialog: a re-send takes the dialog's next CSeq (12.2.1.1)
	req *sipmsg.Message
	to  *net.UDPAddr
	tx  *transaction.Client
	// auth is the digest state of this request and its re-sends: which
	// realms were answered, so that a rejected password is never a loop.
	auth digest.Attempt

	// onResponse gets every response passed up except a 401/407 that was
	// answered by a re-send; onError gets the transaction's errors (of the
	// last re-send).
	onResponse func(o *outReq, r *sipmsg.Message)
	onError    func(o *outReq, err error)
	// onUnanswered, if set, is told when the current round has gone
	// unanswered for a while (transaction.ClientHandler.OnUnanswered);
	// it goes on.
	onUnanswered func(o *outReq)
	// mayResend, if set, is asked before answering a challenge (a call
	// hung up meanwhile does not re-send its INVITE); onResend is told of
	// the new request (the call keeps its INVITE for CANCEL and ACK).
	mayResend func() bool
	onResend  func(m *sipmsg.Message)

	// keep, when set, is the Client the next send starts its transaction
	// in (transaction.StartClient: a line's REGISTER, whose Client is the
	// line's); a re-send makes a new one. borrow: onResponse keeps nothing
	// of a response (transaction.ClientHandler.Borrow). authorized: the
	// request to send carries its credentials already (built as text with
	// digest.AppendAuthorization); a re-send gets them from Authorize.
	keep       *transaction.Client
	borrow     bool
	authorized bool
	h          transaction.ClientHandler // bound at the first send
}

// request sends req to to in a new client transaction on behalf of line
// l (nil: no credentials). req must carry its top Via (viaFor) with a
// fresh branch. The handle is returned even when the first send failed
// at once (onError has then already run); an error means no transaction
// could start (the table is full): nothing was sent.
func (ua *UA) request(l *line, dlg *dialog.Dialog, req *sipmsg.Message, to *net.UDPAddr, o *outReq) (*outReq, error) {
	o.ua, o.l, o.dlg, o.to = ua, l, dlg, to
	o.auth = digest.Attempt{Dest: ua.destKey(viaTransport(req), to)}
	if err := o.send(req); err != nil {
		return nil, err
	}
	return o, nil
}

// destKey names a next hop for the digest client's cache: challenges are
// offered again only to requests to the same hop over the same transport.
// The names of the few hops a phone talks to are kept, so naming one
// allocates nothing after the first time.
func (ua *UA) destKey(k tkind, to *net.UDPAddr) string {
	if to == nil {
		return k.param()
	}
	hk := hopKey{k, to.AddrPort()}
	if s, ok := ua.destKeys[hk]; ok {
		return s
	}
	s := k.param() + ":" + to.String()
	if ua.destKeys == nil {
		ua.destKeys = map[hopKey]string{}
	}
	if len(ua.destKeys) < 32 {
		ua.destKeys[hk] = s
	}
	return s
}

type hopKey struct {
	k  tkind
	ap netip.AddrPort
}

func (o *outReq) send(m *sipmsg.Message) error {
	if o.l != nil && m.Method != "ACK" && m.Method != "CANCEL" && !o.authorized {
		o.l.digest.Authorize(m, &o.auth)
	}
	o.authorized = false
	o.req, o.tx = m, nil       // nil while the transaction starts: a send that fails at once reports through failed
	if o.h.OnResponse == nil { // bound once: a method value is an allocation
		o.h = transaction.ClientHandler{OnResponse: o.response, OnError: o.failed}
		if o.onUnanswered != nil { // only for those who listen (REGISTER)
			o.h.OnUnanswered = o.unanswered
		}
	}
	o.h.Borrow = o.borrow
	if c := o.keep; c != nil {
		o.keep = nil
		if err := o.ua.tl.StartClient(c, m, o.to, o.h); err != nil {
			return err
		}
		o.tx = c
		return nil
	}
	tx, err := o.ua.tl.NewClient(m, o.to, o.h)
	if err != nil {
		return err
	}
	o.tx = tx
	return nil
}

// Terminate ends the request's transaction without telling anyone.
func (o *outReq) Terminate() {
	if o != nil && o.tx != nil {
		o.tx.Terminate()
	}
}

func (o *outReq) failed(tx *transaction.Client, err error) {
	if o.tx != nil && tx != o.tx {
		return // an earlier round's transaction
	}
	if o.onError != nil {
		o.onError(o, err)
	}
}

func (o *outReq) unanswered(tx *transaction.Client) {
	if tx == o.tx && o.onUnanswered != nil {
		o.onUnanswered(o)
	}
}

func (o *outReq) response(tx *transaction.Client, r *sipmsg.Message) {
	if tx != o.tx {
		return
	}
	if (r.StatusCode == 401 || r.StatusCode == 407) && o.l != nil && (o.mayResend == nil || o.mayResend()) {
		retry, err := o.l.digest.Challenged(r, &o.auth)
		if retry {
			if err := o.resend(); err == nil {
				return
			} else {
				o.ua.logf("sipua: %s re-send with credentials: %v", o.req.Method, err)
			}
		} else if err != nil {
			o.ua.logf("sipua: line %d %s: %v", o.l.n, o.req.Method, err)
		}
	}
	if o.onResponse != nil {
		o.onResponse(o, r)
	}
}

// resend sends the request again with credentials for the challenges
// recorded: a new branch, the next CSeq (the dialog's, in a dialog;
// otherwise one more, with the same Call-ID, 8.1.3.5 and 22.2).
func (o *outReq) resend() error { return o.resendWith(nil) }

// resendWith is resend with the request changed by mod first (nil: as
// it was): the re-send after a 422 with a larger Min-SE (RFC 4028 section
// 7.4, timer.go) goes this way, so that it too keeps the Call-ID, takes
// the next CSeq and answers the challenges the first round recorded.
func (o *outReq) resendWith(mod func(m *sipmsg.Message)) error {
	m := o.req.Clone()
	if mod != nil {
		mod(m)
	}
	seq, method, err := m.CSeq()
	if err != nil {
		return err
	}
	if o.dlg != nil {
		o.dlg.LocalSeq++
		seq = o.dlg.LocalSeq
	} else {
		seq++
	}
	m.Set("CSeq", strconv.FormatUint(uint64(seq), 10)+" "+method)
	k := viaTransport(m)
	m.RemoveFirst("Via")
	m.Prepend("Via", o.ua.viaFor(k))
	if err := o.send(m); err != nil {
		return err
	}
	if o.onResend != nil {
		o.onResend(m)
	}
	return nil
}
