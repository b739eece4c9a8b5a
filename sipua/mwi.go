package sipua

import (
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/dialog"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Message-waiting subscriptions (RFC 3842 over RFC 6665): when
// Config.OnMessageSummary is set, each line that registers subscribes to
// message-summary for its own address of record, through its outbound
// proxy, answers a digest challenge, and refreshes the subscription before
// it expires (in its dialog, 4.1.2.1). The NOTIFYs are handled with the
// unsolicited ones (handleRequest). A subscription the server refuses is
// tried again much later; one it forgets (481) is made anew.

const (
	mwiExpires   = 3600             // requested subscription lifetime, s
	mwiRetry     = 5 * time.Minute  // after a failure or a timeout
	mwiRetryLong = 30 * time.Minute // after a refusal of the event package
)

// mwiMinRefresh is the shortest wait before a refresh (tests lower it).
var mwiMinRefresh = 30 * time.Second

// mwiState is where a line's subscription is.
type mwiState int

const (
	mwiIdle    mwiState = iota // none; a retry may be scheduled
	mwiPending                 // SUBSCRIBE out
	mwiActive                  // 2xx came; a refresh is scheduled
)

func (s mwiState) String() string {
	return [...]string{"idle", "pending", "active"}[s]
}

type mwiSub struct {
	l      *line
	state  mwiState
	callID string
	tag    string
	seq    uint32
	dlg    *dialog.Dialog
	tx     *outReq
	stop   func()
}

// mwiRegChanged starts or stops line n's subscription as its registration
// comes and goes (on the loop goroutine).
func (ua *UA) mwiRegChanged(n int, state RegState) {
	if ua.cfg.OnMessageSummary == nil || ua.closing {
		return
	}
	l, err := ua.line(n)
	if err != nil || l.proxy == nil {
		return
	}
	if ua.mwi == nil {
		ua.mwi = map[int]*mwiSub{}
	}
	s := ua.mwi[n]
	if state != Registered {
		if s != nil {
			s.cancel()
			delete(ua.mwi, n)
		}
		return
	}
	if s == nil {
		s = &mwiSub{l: l, callID: sipmsg.NewCallID(ua.contactHost), tag: sipmsg.NewTag()}
		ua.mwi[n] = s
	}
	if s.state == mwiIdle {
		s.send()
	}
}

func (s *mwiSub) cancel() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	if s.tx != nil {
		s.tx.Terminate()
		s.tx = nil
	}
	s.state = mwiIdle
}

func (s *mwiSub) later(d time.Duration) {
	if s.stop != nil {
		s.stop()
	}
	s.stop = s.l.ua.after(d, func() {
		s.stop = nil
		if !s.l.ua.closing && s.l.ua.mwi[s.l.n] == s {
			s.send()
		}
	})
}

// send sends the SUBSCRIBE: initial, or in the dialog once there is one.
func (s *mwiSub) send() {
	ua, l := s.l.ua, s.l
	var m *sipmsg.Message
	if s.dlg != nil {
		m = s.dlg.NewRequest("SUBSCRIBE")
	} else {
		s.seq++
		aor := l.aor()
		m = sipmsg.NewRequest("SUBSCRIBE", aor.String())
		m.Add("Max-Forwards", "70")
		from := sipmsg.NameAddr{Display: l.cfg.DisplayName, URI: aor}
		from.SetParam("tag", s.tag)
		m.Add("From", from.String())
		m.Add("To", (&sipmsg.NameAddr{URI: aor}).String())
		m.Add("Call-ID", s.callID)
		m.Add("CSeq", strconv.FormatUint(uint64(s.seq), 10)+" SUBSCRIBE")
	}
	m.Prepend("Via", ua.viaFor(l.tk))
	m.Add("Contact", l.contact())
	m.Add("Event", "message-summary")
	m.Add("Accept", "application/simple-message-summary")
	m.Add("Expires", strconv.Itoa(mwiExpires))
	if ua.cfg.UserAgent != "" {
		m.Add("User-Agent", ua.cfg.UserAgent)
	}
	o := &outReq{
		onResponse: func(tx *outReq, r *sipmsg.Message) {
			if seq, _, err := tx.req.CSeq(); err == nil && seq > s.seq && s.dlg == nil {
				s.seq = seq // a re-send with credentials took a number
			}
			if tx == s.tx && r.StatusCode >= 200 {
				s.tx = nil
				s.response(tx.req, r)
			}
		},
		onError: func(tx *outReq, err error) {
			if tx == s.tx {
				s.tx = nil
				s.state = mwiIdle
				ua.logf("sipua: line %d message-summary SUBSCRIBE: %v", l.n, err)
				s.later(mwiRetry)
			}
		},
	}
	s.tx, s.state = o, mwiPending // before the send: a send that fails at once reports to it
	if _, err := ua.request(l, s.dlg, m, l.proxy, o); err != nil {
		s.tx, s.state = nil, mwiIdle
		ua.logf("sipua: line %d SUBSCRIBE: %v", l.n, err)
		s.later(mwiRetry)
	}
}

func (s *mwiSub) response(req, r *sipmsg.Message) {
	ua, l := s.l.ua, s.l
	code := r.StatusCode
	switch {
	case code < 300:
		if s.dlg == nil {
			if d, err := dialog.NewUAC(req, r); err == nil {
				s.dlg = d
			}
		}
		granted := mwiExpires
		if v, err := strconv.Atoi(strings.TrimSpace(r.Get("Expires"))); err == nil && v >= 0 {
			granted = v
		}
		s.state = mwiActive
		ua.logf("sipua: line %d subscribed to message-summary for %ds", l.n, granted)
		s.later(max(regRefreshAfter(granted), mwiMinRefresh))
	case code == 401 || code == 407: // the request sender did not answer it: refused
		s.state = mwiIdle
		ua.logf("sipua: line %d message-summary SUBSCRIBE: credentials refused (%d)", l.n, code)
		s.later(mwiRetryLong)
	case code == 481 && s.dlg != nil: // the notifier forgot it: a new one
		s.dlg, s.callID, s.tag = nil, sipmsg.NewCallID(ua.contactHost), sipmsg.NewTag()
		s.send()
	default:
		s.state = mwiIdle
		ua.logf("sipua: line %d message-summary SUBSCRIBE: %d", l.n, code)
		if code == 489 || code == 405 || code == 501 || code == 403 || code == 404 {
			s.later(mwiRetryLong)
		} else {
			s.later(mwiRetry)
		}
	}
}
