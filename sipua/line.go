package sipua

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
	"github.com/deskphone/deskphone/sipua/transport"
)

// Registration retry after a failure: the wait doubles from regRetryMin
// up to regRetryMax.
const (
	regRetryMin = 5 * time.Second
	regRetryMax = 30 * time.Second
)

// line is one account and its registration state (RFC 3261 section 10).
type line struct {
	ua        *UA
	n         int
	cfg       LineConfig
	domain    string
	authUser  string
	expires   int
	registrar *net.UDPAddr // nil: no registration
	proxy     *net.UDPAddr // where requests go; nil: peer-to-peer

	regState  string
	regCallID string
	regTag    string
	regSeq    uint32
	regTx     *transaction.Client
	regAuthed bool // the current attempt already answered a challenge
	retry     time.Duration
	stopRefr  func()
	stopKeep  func()
}

func newLine(ua *UA, n int, lc LineConfig) (*line, error) {
	if lc.User == "" {
		return nil, fmt.Errorf("sipua: line %d: no user", n)
	}
	l := &line{ua: ua, n: n, cfg: lc, domain: lc.Domain, authUser: lc.AuthUser, expires: lc.Expires}
	if l.authUser == "" {
		l.authUser = lc.User
	}
	if l.expires <= 0 {
		l.expires = 3600
	}
	if l.domain == "" && lc.Registrar != "" {
		l.domain = hostOnly(lc.Registrar)
	}
	if l.domain == "" && lc.OutboundProxy != "" {
		l.domain = hostOnly(lc.OutboundProxy)
	}
	l.regCallID = sipmsg.NewCallID("")
	l.regTag = sipmsg.NewTag()
	return l, nil
}

func hostOnly(hp string) string {
	if h, _, err := net.SplitHostPort(hp); err == nil {
		return h
	}
	return strings.Trim(hp, "[]")
}

// resolve looks up the registrar and outbound proxy (at Start).
func (l *line) resolve() error {
	if l.cfg.Registrar != "" {
		a, err := transport.Resolve(l.cfg.Registrar)
		if err != nil {
			return fmt.Errorf("sipua: line %d registrar: %w", l.n, err)
		}
		l.registrar = a
		l.proxy = a
	}
	if l.cfg.OutboundProxy != "" {
		a, err := transport.Resolve(l.cfg.OutboundProxy)
		if err != nil {
			return fmt.Errorf("sipua: line %d outbound proxy: %w", l.n, err)
		}
		l.proxy = a
	}
	return nil
}

func (l *line) aor() sipmsg.URI {
	d := l.domain
	if d == "" {
		d = l.ua.contactHost
	}
	return sipmsg.URI{Scheme: "sip", User: l.cfg.User, Host: d}
}

func (l *line) fromValue() string {
	na := sipmsg.NameAddr{Display: l.cfg.DisplayName, URI: l.aor()}
	na.SetParam("tag", sipmsg.NewTag())
	return na.String()
}

func (l *line) stopTimers() {
	if l.stopRefr != nil {
		l.stopRefr()
		l.stopRefr = nil
	}
	if l.stopKeep != nil {
		l.stopKeep()
		l.stopKeep = nil
	}
}

// keepalive sends CRLFCRLF to the outbound proxy every 25 s to keep NAT
// bindings open (RFC 5626 section 3.5.1 style, over UDP).
func (l *line) keepalive() {
	if l.ua.closing {
		return
	}
	if err := l.ua.sendRaw([]byte("\r\n\r\n"), l.proxy); err != nil {
		l.ua.logf("sipua: line %d keepalive: %v", l.n, err)
	}
	l.stopKeep = l.ua.after(keepaliveEvery, l.keepalive)
}

func (l *line) setReg(state string) {
	if state == l.regState {
		return
	}
	l.regState = state
	l.ua.logf("sipua: line %d %s", l.n, state)
	l.ua.emit(Event{Kind: RegChanged, Line: l.n, RegState: state})
}

// register sends a REGISTER for expires seconds (0 = remove the binding).
func (l *line) register(expires int) {
	l.regAuthed = false
	l.sendRegister(expires, "", "")
}

func (l *line) sendRegister(expires int, authHeader, authValue string) {
	if l.regTx != nil {
		l.regTx.Terminate()
		l.regTx = nil
	}
	ua := l.ua
	l.regSeq++
	ruri := sipmsg.URI{Scheme: "sip", Host: l.domain}
	if l.domain == "" {
		ruri.Host = hostOnly(l.cfg.Registrar)
	}
	m := sipmsg.NewRequest("REGISTER", ruri.String())
	m.Add("Via", ua.viaValue())
	m.Add("Max-Forwards", "70")
	to := sipmsg.NameAddr{Display: l.cfg.DisplayName, URI: l.aor()}
	from := to
	from.SetParam("tag", l.regTag)
	m.Add("From", from.String())
	m.Add("To", to.String())
	m.Add("Call-ID", l.regCallID)
	m.Add("CSeq", fmt.Sprintf("%d REGISTER", l.regSeq))
	m.Add("Contact", ua.contact(l.cfg.User))
	m.Add("Expires", strconv.Itoa(expires))
	if authHeader != "" {
		m.Add(authHeader, authValue)
	}
	m.Add("Allow", allowHeader)
	if ua.cfg.UserAgent != "" {
		m.Add("User-Agent", ua.cfg.UserAgent)
	}
	tx, err := ua.tl.NewClient(m, l.registrar, transaction.ClientHandler{
		OnResponse: func(c *transaction.Client, r *sipmsg.Message) { l.onRegResponse(c, r, expires) },
		OnError: func(c *transaction.Client, err error) {
			if l.regTx != c {
				return
			}
			l.regTx = nil
			code := 408
			if !isTimeout(err) {
				code = 503
			}
			l.ua.logf("sipua: line %d REGISTER: %v", l.n, err)
			l.regFailed(code, expires)
		},
	})
	if err != nil {
		l.ua.logf("sipua: line %d REGISTER: %v", l.n, err)
		l.regFailed(503, expires)
		return
	}
	if tx.State() != transaction.Terminated {
		l.regTx = tx
	}
}

func isTimeout(err error) bool { return errors.Is(err, transaction.ErrTimeout) }

func (l *line) onRegResponse(c *transaction.Client, r *sipmsg.Message, expires int) {
	if l.regTx != c || r.StatusCode < 200 {
		return
	}
	l.regTx = nil
	switch code := r.StatusCode; {
	case code >= 200 && code < 300:
		l.retry = 0
		l.regAuthed = false
		if expires == 0 {
			l.setReg("unregistered")
			l.ua.regDone()
			return
		}
		granted := grantedExpires(r, l.ua.contact(l.cfg.User), expires)
		if granted <= 0 {
			l.setReg("unregistered")
			return
		}
		l.setReg("registered")
		// Refresh at about half the granted lifetime.
		l.scheduleRegister(time.Duration(granted)*time.Second/2, l.expires)
	case (code == 401 || code == 407) && !l.regAuthed:
		hdr, ahdr := "WWW-Authenticate", "Authorization"
		if code == 407 {
			hdr, ahdr = "Proxy-Authenticate", "Proxy-Authorization"
		}
		ch, err := digest.ParseChallenge(r.Get(hdr))
		if err != nil {
			l.ua.logf("sipua: line %d: %v", l.n, err)
			l.regFailed(code, expires)
			return
		}
		l.regAuthed = true
		uri := sipmsg.URI{Scheme: "sip", Host: l.domain}
		l.sendRegister(expires, ahdr, ch.Authorize("REGISTER", uri.String(), l.authUser, l.cfg.Password))
	case code == 423 && r.Get("Min-Expires") != "" && expires != 0:
		n, err := strconv.Atoi(r.Get("Min-Expires"))
		if err != nil || n <= expires {
			l.regFailed(code, expires)
			return
		}
		l.expires = n
		l.register(n)
	default:
		l.regFailed(code, expires)
	}
}

// regFailed reports the failure and retries later with backoff (never a
// tight loop: at least regRetryMin, doubling to at most regRetryMax).
func (l *line) regFailed(code, expires int) {
	if expires == 0 {
		l.setReg("unregistered")
		l.ua.regDone()
		return
	}
	l.setReg("failed:" + strconv.Itoa(code))
	if l.retry == 0 {
		l.retry = regRetryMin
	} else {
		l.retry = min(2*l.retry, regRetryMax)
	}
	l.scheduleRegister(l.retry, l.expires)
}

func (l *line) scheduleRegister(d time.Duration, expires int) {
	if l.ua.closing {
		return
	}
	if l.stopRefr != nil {
		l.stopRefr()
	}
	l.stopRefr = l.ua.after(d, func() {
		l.stopRefr = nil
		if !l.ua.closing {
			l.register(expires)
		}
	})
}

// grantedExpires is the lifetime the registrar granted our contact: its
// expires parameter in the response's Contact, else Expires, else what we asked.
func grantedExpires(r *sipmsg.Message, ourContact string, asked int) int {
	our, _ := sipmsg.ParseNameAddr(ourContact)
	for _, c := range r.GetAll("Contact") {
		na, err := sipmsg.ParseNameAddr(c)
		if err != nil {
			continue
		}
		if na.URI.User == our.URI.User && strings.EqualFold(na.URI.Host, our.URI.Host) && na.URI.Port == our.URI.Port {
			if e, ok := na.Param("expires"); ok {
				if n, err := strconv.Atoi(e); err == nil {
					return n
				}
			}
		}
	}
	if e := r.Get("Expires"); e != "" {
		if n, err := strconv.Atoi(e); err == nil {
			return n
		}
	}
	return asked
}
