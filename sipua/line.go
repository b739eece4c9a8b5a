package sipua

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
	"github.com/deskphone/deskphone/sipua/transport"
)

// Registration timing.
//
// After a failure the line waits as RFC 5626 section 4.5 says: a random
// time between half and all of min(regBackoffMax, regBackoffBase *
// 2^failures), failures counting the consecutive failed attempts from 1
// (so 15-30 s, 30-60 s, ... up to 15-30 min). A 503 with Retry-After waits
// at least that long (RFC 3261 section 21.5.4), within the same cap.
//
// A binding is refreshed before it expires: at the granted lifetime less a
// tenth of it (at least regRefreshMargin), but never before half of it,
// less a random part of up to another tenth (regRefreshSpread).
//
// The first REGISTER goes out at once. tools/fleet (README, "Fleet")
// booted 1000 and 2000 phones within a second on Kamailio: every one
// registered, with no failed attempt; at peaks of 700-1500 REGISTERs a
// second Kamailio lost some (3-17% of the REGISTERs were
// retransmissions, answered at timer A's 500 ms), and the provisioning
// fetch before registering already spread the phones over seconds. A
// random delay before the first REGISTER would cost every phone's boot
// (DESIGN.md: start to registered in under 150 ms) for little; retries
// after a failure are random already (above; a 500 from a Kamailio out
// of memory was retried after 28 s).
const (
	regBackoffBase   = 15 * time.Second
	regBackoffMax    = 1800 * time.Second
	regRefreshMargin = 5 * time.Second
	regMaxExpires    = 86400 // a Min-Expires above this is not followed
)

// regBackoff is the bound of the wait after the given number of consecutive
// failures (1 for the first).
func regBackoff(failures int) time.Duration {
	d := regBackoffBase
	for i := 0; i < failures && d < regBackoffMax; i++ {
		d *= 2
	}
	return min(d, regBackoffMax)
}

// regRefreshAfter is the latest time to refresh a binding granted for
// granted seconds.
func regRefreshAfter(granted int) time.Duration {
	g := time.Duration(granted) * time.Second
	margin := max(g/10, regRefreshMargin)
	return max(g-margin, g/2)
}

// regRefreshSpread is how much earlier than regRefreshAfter a refresh may
// come, at random: a tenth of the lifetime, never before half of it.
// Phones that registered together (a building's, after a power cut:
// tools/fleet's thousand all within seconds) would otherwise refresh
// together at every lifetime, the boot's storm again each time; spread
// over a tenth (30 s of a 300 s binding), a thousand phones refresh at
// about 33 a second.
func regRefreshSpread(granted int) time.Duration {
	g := time.Duration(granted) * time.Second
	return max(min(g/10, regRefreshAfter(granted)-g/2), 0)
}

// refreshAfter is when this line refreshes a binding granted for granted
// seconds: a random moment within regRefreshSpread before regRefreshAfter.
func (l *line) refreshAfter(granted int) time.Duration {
	return regRefreshAfter(granted) - l.random(regRefreshSpread(granted)+1)
}

// keepaliveAfter is the wait until the next keepalive: random between 80%
// and 100% of keepaliveEvery (RFC 5626 section 4.4.1), so that the phones
// of a fleet that booted together (tools/fleet) do not send theirs in the
// same second, every 25 s.
func (l *line) keepaliveAfter() time.Duration {
	return keepaliveEvery - l.random(keepaliveEvery/5+1)
}

// line is one account and its registration state (RFC 3261 section 10).
type line struct {
	ua         *UA
	n          int
	cfg        LineConfig
	domain     string
	authUser   string
	expires    int
	registrar  *net.UDPAddr // the registrar's current target; nil: no registration
	proxy      *net.UDPAddr // where requests go (the outbound proxy, else the registrar); nil: peer-to-peer
	tk         tkind        // transport of the line's requests (the current target's)
	serverName string       // TLS: the name the registrar/proxy must prove
	sips       bool         // the line's URIs are sips: (LineConfig.SIPS)
	reg, out   server       // the registrar and the outbound proxy as resolved (hop.go)

	regState  RegState
	regCode   int       // the failure's status while regState is RegFailed
	regDetail string    // the failure in plain words while regState is RegFailed (Event.Detail)
	trouble   bool      // a RegTrouble was reported since the last RegChanged
	regICMP   bool      // an ICMP error came back for this attempt's REGISTER (rx.go)
	regAt     time.Time // the last 2xx to a REGISTER, or re-registration on a lost connection
	regCallID string
	regTag    string
	regSeq    uint32
	regTx     *outReq
	// afterLookup runs once the lookups refresh started are done: the
	// REGISTER that waited for them (register).
	afterLookup func()
	regExp      int // the Expires of regTx's REGISTER
	// What every REGISTER of the line says the same, made at its first
	// (buildRegister).
	regRURI, regFrom, regTo string
	// The line's REGISTER, reused (sendRegister, buildRegister): its
	// text, its message (views into the text), its outReq (handlers bound
	// with the line) and the Client its first send's transaction runs in.
	regBuf    []byte
	regMsg    sipmsg.Message
	regOut    outReq
	regClient transaction.Client
	// refr (the next REGISTER, with refrExpires) and keep (the next
	// keepalive) are made with the line and re-armed each time: a refresh
	// or a keepalive allocates no timer (alarm.go).
	refr, keep  *alarm
	refrExpires int

	// digest answers the challenges of every request of the line (the
	// request sender, request.go) and keeps them, so later requests to
	// the same server carry credentials at once, each with the next nonce
	// count (RFC 7616 section 3.4).
	digest *digest.Client
	// natReceived and natRport are where the registrar last saw the phone
	// from (the 2xx's Via received and rport, RFC 3581; natSeen: it has
	// said), to notice a NAT rebinding (natMoved).
	natSeen               bool
	natReceived, natRport string
	// minExpFollowed: this attempt (one register call) has followed a 423;
	// regTried: the registrar targets it has failed over from;
	// regAttempt counts the attempts, so that one waiting for a lookup
	// knows when a later one has replaced it.
	minExpFollowed bool
	regTried       int
	regAttempt     int

	failures int                                 // consecutive failed attempts (backoff)
	jitter   func(d time.Duration) time.Duration // random in [0, d); nil: math/rand
}

func newLine(ua *UA, n int, lc LineConfig) (*line, error) {
	if lc.User == "" {
		return nil, fmt.Errorf("sipua: line %d: no user", n)
	}
	// A server written as a URI: sips: makes the line a SIPS line.
	for _, hp := range []*string{&lc.Registrar, &lc.OutboundProxy} {
		low := strings.ToLower(*hp)
		switch {
		case strings.HasPrefix(low, "sips:"):
			*hp, lc.SIPS = (*hp)[5:], true
		case strings.HasPrefix(low, "sip:"):
			*hp = (*hp)[4:]
		}
	}
	l := &line{ua: ua, n: n, cfg: lc, domain: lc.Domain, authUser: lc.AuthUser, expires: lc.Expires, sips: lc.SIPS}
	l.refr, l.keep = ua.newAlarm(l.refreshDue), ua.newAlarm(l.keepalive)
	l.regOut.onResponse, l.regOut.onError, l.regOut.onUnanswered = l.regResponse, l.regError, l.regUnanswered
	tk, err := parseTransport(lc.Transport)
	if err != nil {
		return nil, fmt.Errorf("sipua: line %d: %w", n, err)
	}
	if lc.SIPS {
		// RFC 3261 26.2.2: sips means TLS on every hop.
		if lc.Transport != "" && tk != tTLS {
			return nil, fmt.Errorf("sipua: line %d: sips needs transport tls, not %s", n, lc.Transport)
		}
		tk = tTLS
	}
	l.tk = tk
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
	l.digest = digest.NewClient(lc.User, l.authUser, lc.Password)
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

// contact is the line's Contact, naming its transport.
func (l *line) contact() string { return l.ua.contactFor(l.tk, l) }

// scheme is the scheme of the line's URIs: "sips" on a SIPS line.
func (l *line) scheme() string {
	if l.sips {
		return "sips"
	}
	return "sip"
}

func (l *line) aor() sipmsg.URI {
	d := l.domain
	if d == "" {
		d = l.ua.contactHost
	}
	return sipmsg.URI{Scheme: l.scheme(), User: l.cfg.User, Host: d}
}

// serverRole names the kind of server the line's requests go to, for a
// TLS failure's message ("registrar pbx.test: certificate not trusted"),
// whose error names the host: "outbound proxy" or "registrar".
func (l *line) serverRole() string {
	if len(l.out.targets) > 0 {
		return "outbound proxy"
	}
	return "registrar"
}

func (l *line) fromValue() string {
	na := sipmsg.NameAddr{Display: l.cfg.DisplayName, URI: l.aor()}
	na.SetParam("tag", sipmsg.NewTag())
	return na.String()
}

func (l *line) stopTimers() {
	l.refr.Stop()
	l.keep.Stop()
}

// keepalive sends CRLFCRLF to the outbound proxy every 20-25 s to keep NAT
// bindings open (RFC 5626 section 3.5.1 style; over TCP and TLS it is the
// ping on the line's connection, which keeps it open too, and the proxy
// answers CRLF).
func (l *line) keepalive() {
	if l.ua.closing {
		return
	}
	if l.proxy == nil { // not resolved yet: the next one
		l.keep.reset(l.keepaliveAfter())
		return
	}
	if err := l.ua.sendOn(l.tk, keepaliveCRLF, l.proxy, l.serverName); err != nil {
		l.ua.logf("sipua: line %d keepalive: %v", l.n, err)
	}
	l.keep.reset(l.keepaliveAfter())
}

// keepaliveCRLF is what a keepalive sends (read only: sendOn copies it).
var keepaliveCRLF = []byte("\r\n\r\n")

// setReg moves the line to state (code and detail: the failure's status
// and plain words for RegFailed) and reports a change, or the end of a
// trouble reported (RegTrouble) even when the state stays.
func (l *line) setReg(state RegState, code int, detail string) {
	if state != RegFailed {
		code, detail = 0, ""
	}
	if state == l.regState && code == l.regCode && detail == l.regDetail && !l.trouble {
		return
	}
	l.regState, l.regCode, l.regDetail, l.trouble = state, code, detail, false
	e := Event{Kind: RegChanged, Line: l.n, RegState: state, Code: code, Detail: detail}
	if detail != "" {
		l.ua.logf("sipua: line %d %s: %s", l.n, e.RegText(), detail)
	} else {
		l.ua.logf("sipua: line %d %s", l.n, e.RegText())
	}
	l.ua.emit(e)
}

// troubled reports a trouble of the attempt under way (RegTrouble).
func (l *line) troubled(detail string) {
	l.trouble = true
	l.ua.logf("sipua: line %d: %s", l.n, detail)
	l.ua.emit(Event{Kind: RegTrouble, Line: l.n, RegState: l.regState, Detail: detail})
}

// server names where a request of the line went, for people: "registrar
// 127.0.0.1:5060", or "proxy ..." when an outbound proxy is in between.
func (l *line) server(to *net.UDPAddr) string {
	what := "registrar"
	if l.cfg.OutboundProxy != "" {
		what = "proxy"
	}
	if to == nil {
		return what + " " + l.reg.uri.HostPort()
	}
	return what + " " + to.String()
}

// transportDetail says in plain words why a REGISTER to to failed
// without a response: timer F, a refused connection or port (ICMP), or
// another transport error.
func (l *line) transportDetail(to *net.UDPAddr, err error) string {
	switch {
	case isTimeout(err) && l.regICMP:
		return "nothing listens at " + l.server(to) + " (port unreachable)"
	case isTimeout(err):
		return l.server(to) + " does not answer"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens at " + l.server(to) + " (connection refused)"
	}
	return "cannot reach " + l.server(to) + ": " + rootErr(err).Error()
}

// rootErr is the innermost of a chain of wrapped errors (the system
// call's "connection reset by peer" rather than every layer's prefix).
func rootErr(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// refusedDetail says in plain words why the registrar refused a
// REGISTER: a challenge it repeated, or a 403 to credentials, is a wrong
// password; the rest say the status.
func (l *line) refusedDetail(req, r *sipmsg.Message) string {
	code := r.StatusCode
	credentials := req.Get("Authorization") != "" || req.Get("Proxy-Authorization") != ""
	if code == 401 || code == 407 || code == 403 && credentials {
		return "wrong password for " + l.authUser + " (" + strconv.Itoa(code) + ")"
	}
	reason := r.Reason
	if reason == "" {
		reason = sipmsg.ReasonPhrase(code)
	}
	return "registrar refused " + l.cfg.User + ": " + strconv.Itoa(code) + " " + reason
}

// register starts an attempt: a REGISTER for expires seconds (0 = remove
// the binding), with credentials for the last challenge if there is one.
func (l *line) register(expires int) {
	l.minExpFollowed, l.regTried = false, 0
	l.regAttempt++
	if l.refresh() {
		// The registrar's records expired: sent once they are looked up
		// again, unless an attempt begun meanwhile (Close's unREGISTER,
		// a re-registration) has taken its place.
		n := l.regAttempt
		l.afterLookup = func() {
			if l.regAttempt == n {
				l.sendRegister(expires)
			}
		}
		return
	}
	l.sendRegister(expires)
}

// sendRegister sends one REGISTER of the current attempt.
func (l *line) sendRegister(expires int) {
	if l.regTx != nil {
		l.regTx.Terminate()
		l.regTx = nil
	}
	if st := l.regClient.State(); st != 0 && st != transaction.Terminated {
		// The last REGISTER's own transaction (at most in timer K, or
		// answered by a re-send with credentials): its request's text
		// is about to be rewritten.
		l.regClient.Terminate()
	}
	if l.proxy == nil { // the registrar's name does not resolve (yet)
		l.ua.logf("sipua: line %d: %s does not resolve: no REGISTER", l.n, l.reg.uri.HostPort())
		l.regFailed(503, "no route to "+l.reg.uri.Host+" (DNS)", expires, 0)
		return
	}
	ua := l.ua
	l.regICMP = false
	l.regSeq++
	l.regExp = expires
	// The line's one outReq for its REGISTERs (its handlers know their
	// attempt by l.regTx and l.regExp): its first send starts the
	// transaction in l.regClient, its responses are borrowed (none is
	// kept: onRegResponse copies what it keeps), its credentials are in
	// the text already.
	o := &l.regOut
	o.keep, o.borrow, o.authorized = &l.regClient, true, true
	o.auth = digest.Attempt{Dest: ua.destKey(l.tk, l.proxy)}
	m, err := l.buildRegister(expires, &o.auth)
	if err != nil {
		l.ua.logf("sipua: line %d REGISTER: %v", l.n, err)
		l.regFailed(503, "cannot build REGISTER: "+err.Error(), expires, 0)
		return
	}
	l.regTx = o // before the send: a send that fails at once reports to it
	// Through the outbound proxy when there is one (8.1.2), else to the registrar.
	if _, err := ua.request(l, nil, m, l.proxy, o); err != nil {
		l.regTx = nil
		l.ua.logf("sipua: line %d REGISTER: %v", l.n, err)
		l.regFailed(503, "cannot send REGISTER: "+err.Error(), expires, 0)
	}
}

// buildRegister writes the line's REGISTER for expires as text into
// l.regBuf, with the credentials the line holds for attempt a, and parses
// it into l.regMsg, whose strings are views into the text: once both have
// grown to a REGISTER's size a REGISTER allocates nothing. The text is the
// request's until the line's next REGISTER, which ends the transaction
// that sent it first (sendRegister).
func (l *line) buildRegister(expires int, a *digest.Attempt) (*sipmsg.Message, error) {
	ua := l.ua
	if l.regFrom == "" { // made once: the line's domain, user and tag, and the contact host, do not change
		ruri := sipmsg.URI{Scheme: l.scheme(), Host: l.domain}
		if l.domain == "" {
			ruri.Host = hostOnly(l.cfg.Registrar)
		}
		to := sipmsg.NameAddr{Display: l.cfg.DisplayName, URI: l.aor()}
		from := to
		from.SetParam("tag", l.regTag)
		l.regRURI, l.regFrom, l.regTo = ruri.String(), from.String(), to.String()
	}
	if l.regBuf == nil {
		// Room for any REGISTER of the line, credentials of both kinds
		// included, from the first: it never grows in a refresh.
		l.regBuf = make([]byte, 0, 2048)
	}
	b := append(l.regBuf[:0], "REGISTER "...)
	b = append(append(b, l.regRURI...), " SIP/2.0\r\nVia: "...)
	b = ua.appendVia(b, l.tk)
	b = append(append(b, "\r\nMax-Forwards: 70\r\nFrom: "...), l.regFrom...)
	b = append(append(b, "\r\nTo: "...), l.regTo...)
	b = append(append(b, "\r\nCall-ID: "...), l.regCallID...)
	b = append(strconv.AppendUint(append(b, "\r\nCSeq: "...), uint64(l.regSeq), 10), " REGISTER"...)
	b = append(append(b, "\r\nContact: "...), l.contact()...)
	b = strconv.AppendInt(append(b, "\r\nExpires: "...), int64(expires), 10)
	b = append(append(b, "\r\nAllow: "...), allowHeader...)
	if ua.cfg.UserAgent != "" {
		b = append(append(b, "\r\nUser-Agent: "...), ua.cfg.UserAgent...)
	}
	b = append(b, "\r\n"...)
	// Credentials for the registrar's (and a proxy's) challenges, the
	// last ones answered: a challenge now is answered by the request
	// sender (request.go), with a copy of this request.
	b = l.digest.AppendAuthorization(b, "REGISTER", l.regRURI, a)
	l.regBuf = append(b, "Content-Length: 0\r\n\r\n"...)
	if err := l.regMsg.ParseFrom(l.regBuf); err != nil {
		return nil, err
	}
	return &l.regMsg, nil
}

// regResponse, regError and regUnanswered are the handlers of the line's
// REGISTER (l.regOut): of the attempt in l.regTx (nil: none waits), whose
// Expires is l.regExp. An earlier attempt's transaction never reaches
// them (outReq passes up only its current transaction's).
func (l *line) regResponse(c *outReq, r *sipmsg.Message) { l.onRegResponse(c, r, l.regExp) }

func (l *line) regError(c *outReq, err error) {
	if l.regTx != c {
		return
	}
	expires := l.regExp
	l.regTx = nil
	code := 408
	if !isTimeout(err) {
		code = 503
	}
	l.ua.logf("sipua: line %d REGISTER: %v", l.n, err)
	if why := tlsFailure(err); why != nil {
		// The server did not prove who it is (or refused the
		// phone's certificate): the registration fails, saying
		// why. No other server or transport is tried (a
		// downgrade is what an attacker would want).
		l.regFailed(503, l.serverRole()+" "+why.Error(), expires, 0)
		return
	}
	if expires != 0 && l.failover(err.Error(), c.to, viaTransport(c.req), &l.regTried) {
		l.sendRegister(expires) // RFC 3263 4.3: the next server, at once
		return
	}
	l.regFailed(code, l.transportDetail(c.to, err), expires, 0)
}

func (l *line) regUnanswered(c *outReq) {
	if l.regTx == c && l.regExp != 0 && !l.regICMP { // an ICMP error said more
		l.troubled(l.server(c.to) + " does not answer (retrying)")
	}
}

func isTimeout(err error) bool { return errors.Is(err, transaction.ErrTimeout) }

// tlsFailure is the TLS verdict inside err, if it is one: a server
// certificate that did not verify, or a server that refused the phone in
// its handshake.
func tlsFailure(err error) error {
	var ce *transport.CertError
	if errors.As(err, &ce) {
		return ce
	}
	var re *transport.RefusedError
	if errors.As(err, &re) {
		return re
	}
	return nil
}

func (l *line) onRegResponse(c *outReq, r *sipmsg.Message, expires int) {
	if l.regTx != c || r.StatusCode < 200 {
		return
	}
	l.regTx = nil
	if seq, _, err := c.req.CSeq(); err == nil && seq > l.regSeq {
		l.regSeq = seq // re-sends with credentials took numbers too
	}
	switch code := r.StatusCode; {
	case code >= 200 && code < 300:
		l.failures = 0
		if expires == 0 {
			l.setReg(Unregistered, 0, "")
			l.ua.regDone()
			return
		}
		granted := grantedExpires(r, l.contact(), expires)
		if granted <= 0 {
			l.setReg(Unregistered, 0, "")
			return
		}
		l.regAt = time.Now()
		l.setReg(Registered, 0, "")
		if l.natMoved(r) {
			// RFC 3581: the registrar saw us from another public address
			// or port than last time (the NAT rebound the phone's
			// mapping). The binding it holds may still point at the old
			// one through proxies and subscriptions; register again at
			// once (after a random 0-2 s) so every path follows.
			l.scheduleRegister(l.random(2*time.Second), l.expires)
			return
		}
		l.scheduleRegister(l.refreshAfter(granted), l.expires)
	case code == 401 || code == 407: // the request sender did not answer it: refused
		l.ua.logf("sipua: line %d: credentials refused (%d)", l.n, code)
		l.regFailed(code, l.refusedDetail(c.req, r), expires, 0)
	case code == 423 && expires != 0 && !l.minExpFollowed:
		// Interval Too Brief: ask again at once for the registrar's
		// minimum (RFC 3261 section 10.2.8), which later refreshes keep.
		n, err := strconv.Atoi(strings.TrimSpace(r.Get("Min-Expires")))
		if err != nil || n <= expires || n > regMaxExpires {
			l.ua.logf("sipua: line %d: 423 with Min-Expires %q for %d s", l.n, r.Get("Min-Expires"), expires)
			l.regFailed(code, l.refusedDetail(c.req, r), expires, 0)
			return
		}
		l.ua.logf("sipua: line %d: registrar wants at least %d s", l.n, n)
		l.minExpFollowed = true
		l.expires = n
		l.sendRegister(n)
	case code == 503 && expires != 0 && l.failover("503 from", c.to, viaTransport(c.req), &l.regTried):
		l.sendRegister(expires) // RFC 3263 4.3: the next server, at once
	default:
		l.regFailed(code, l.refusedDetail(c.req, r), expires, retryAfter(r))
	}
}

// retryAfter is a response's Retry-After in seconds (0: none).
func retryAfter(r *sipmsg.Message) time.Duration {
	v := r.Get("Retry-After")
	if i := strings.IndexAny(v, " ;("); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// regFailed reports the failure and tries again later (never a tight loop):
// after the RFC 5626 backoff, or Retry-After if that is longer.
func (l *line) regFailed(code int, detail string, expires int, after time.Duration) {
	if expires == 0 {
		l.setReg(Unregistered, 0, "")
		l.ua.regDone()
		return
	}
	l.setReg(RegFailed, code, detail)
	l.digest.Reset() // the next attempt starts with fresh challenges
	l.failures++
	bound := regBackoff(l.failures)
	wait := bound/2 + l.random(bound/2+1)
	if after > wait {
		wait = min(after, regBackoffMax)
	}
	l.ua.logf("sipua: line %d: registering again in %v (failure %d)", l.n, wait.Round(time.Millisecond), l.failures)
	l.scheduleRegister(wait, l.expires)
}

// random returns a random duration in [0, d).
func (l *line) random(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if l.jitter != nil {
		return l.jitter(d)
	}
	return rand.N(d)
}

func (l *line) scheduleRegister(d time.Duration, expires int) {
	if l.ua.closing {
		return
	}
	l.refrExpires = expires
	l.refr.reset(d)
}

// refreshDue is the refr alarm: the REGISTER scheduleRegister set.
func (l *line) refreshDue() {
	if !l.ua.closing {
		l.register(l.refrExpires)
	}
}

// grantedExpires is the lifetime the registrar granted our contact: its
// expires parameter in the response's Contact, else Expires, else what we
// asked. It reads views of the response and of ourContact: it allocates
// nothing.
func grantedExpires(r *sipmsg.Message, ourContact string, asked int) int {
	our, _ := sipmsg.ScanNameAddr(ourContact)
	for c := range r.Values("Contact") {
		na, err := sipmsg.ScanNameAddr(c)
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

// natMoved reports whether a REGISTER's 2xx says the registrar saw the
// phone from another address or port (its top Via's received and rport,
// RFC 3581) than the last one did: a NAT that rebound the phone's mapping.
// Over TCP and TLS every new connection has a new port, so only UDP counts.
func (l *line) natMoved(r *sipmsg.Message) bool {
	if l.tk != tUDP {
		return false
	}
	v, err := r.TopVia() // views into r: copied below only when they changed
	if err != nil {
		return false
	}
	rport, _ := v.Param("rport")
	received, _ := v.Param("received")
	if rport == "" && received == "" {
		return false
	}
	if l.natSeen && received == l.natReceived && rport == l.natRport {
		return false
	}
	oldSeen, was := l.natReceived+":"+l.natRport, l.natSeen
	l.natSeen, l.natReceived, l.natRport = true, strings.Clone(received), strings.Clone(rport)
	if !was {
		return false
	}
	l.ua.logf("sipua: line %d: the registrar now sees the phone at %s:%s, not %s (NAT rebinding): registering again", l.n, received, rport, oldSeen)
	return true
}
