package sipua

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transport"
)

// tkind is a SIP transport (RFC 3261 section 18).
type tkind uint8

const (
	tUDP tkind = iota
	tTCP
	tTLS
)

func parseTransport(s string) (tkind, error) {
	switch strings.ToLower(s) {
	case "", "udp":
		return tUDP, nil
	case "tcp":
		return tTCP, nil
	case "tls":
		return tTLS, nil
	}
	return tUDP, fmt.Errorf("sipua: transport %q is not udp, tcp or tls", s)
}

// via is the transport as Via names it.
func (k tkind) via() string { return [...]string{"UDP", "TCP", "TLS"}[k] }

// param is the transport as a URI's transport parameter names it.
func (k tkind) param() string { return [...]string{"udp", "tcp", "tls"}[k] }

// listen binds UDP at Config.Listen and TCP on the same port (retrying
// with another port when the kernel picked one that is taken on TCP), and
// TLS when there is a certificate. TLS lines dial even without one. A
// fixed port taken on TCP only costs the TCP listener (logged): UDP works
// as before, and TCP still dials out.
func (ua *UA) listen() error {
	_, port, _ := net.SplitHostPort(ua.cfg.Listen)
	for try := 0; ; try++ {
		conn, err := transport.Listen(ua.cfg.Listen)
		if err != nil {
			return fmt.Errorf("sipua: %w", err)
		}
		ua.tcp = transport.NewStream(transport.StreamConfig{Handler: ua.streamRecv, Oversize: ua.oversize, Logf: ua.logf,
			Closed: func(a *net.UDPAddr, err error) { ua.post(func() { ua.streamClosed(tTCP, a, err) }) }})
		ua.conn, ua.local = conn, conn.LocalAddr()
		err = ua.tcp.Listen(ua.local.String())
		if err == nil {
			break
		}
		if port != "0" || try == 9 {
			ua.logf("sipua: no TCP listener: %v", err)
			break
		}
		conn.Close()
		ua.tcp.Close()
	}
	client := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: ua.cfg.TLSInsecureSkipVerifyLabOnly}
	if ua.cfg.TLSCAFile != "" {
		pem, err := os.ReadFile(ua.cfg.TLSCAFile)
		if err != nil {
			return ua.listenFailed(fmt.Errorf("sipua: TLS CA file: %w", err))
		}
		client.RootCAs = x509.NewCertPool()
		if !client.RootCAs.AppendCertsFromPEM(pem) {
			return ua.listenFailed(fmt.Errorf("sipua: TLS CA file %s: no certificates", ua.cfg.TLSCAFile))
		}
	}
	var server *tls.Config
	if ua.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(ua.cfg.TLSCertFile, ua.cfg.TLSKeyFile)
		if err != nil {
			return ua.listenFailed(fmt.Errorf("sipua: TLS certificate: %w", err))
		}
		server = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ua.tls = transport.NewStream(transport.StreamConfig{TLS: true, ServerTLS: server, ClientTLS: client,
		Handler: ua.streamRecv, Oversize: ua.oversize, Logf: ua.logf,
		Closed: func(a *net.UDPAddr, err error) { ua.post(func() { ua.streamClosed(tTLS, a, err) }) }})
	ua.tlsPort = ua.local.Port
	if server != nil {
		addr := ua.cfg.TLSListen
		if addr == "" {
			port := 0
			if ua.local.Port != 0 && !strings.HasSuffix(ua.cfg.Listen, ":0") {
				port = ua.local.Port + 1
			}
			addr = net.JoinHostPort(ua.local.IP.String(), strconv.Itoa(port))
		}
		if err := ua.tls.Listen(addr); err != nil {
			return ua.listenFailed(fmt.Errorf("sipua: tls: %w", err))
		}
		ua.tlsPort = ua.tls.LocalAddr().Port
	}
	return nil
}

func (ua *UA) listenFailed(err error) error {
	ua.closeTransports()
	return err
}

func (ua *UA) closeTransports() {
	if ua.conn != nil {
		_ = ua.conn.Close()
	}
	if ua.tcp != nil {
		_ = ua.tcp.Close()
	}
	if ua.tls != nil {
		_ = ua.tls.Close()
	}
}

// TLSAddr is the TLS listener's address (nil without a certificate or
// before Start). TCP listens at LocalAddr's port.
func (ua *UA) TLSAddr() *net.TCPAddr {
	if ua.tls == nil {
		return nil
	}
	return ua.tls.LocalAddr()
}

// reflowAfter is how long a line must have been registered before the
// loss of its connection makes it register again at once (so that a
// registrar that closes every connection does not cause a loop; the
// refresh timer still runs).
const reflowAfter = 30 * time.Second

// streamClosed runs on the loop when a TCP or TLS connection has closed.
// A connection to a line's registrar that could not open (dialErr) fails
// the pending REGISTER at once with 503 (RFC 3261 section 8.1.3.1) rather
// than after timer F. A registered line whose registrar or proxy the
// connection led to registers again over a new one (after a random 0-2 s),
// so that the registrar's way back to the phone (the connection, behind
// NAT) is open again (RFC 5626 section 4.4 in spirit; the phone has no
// outbound flow tokens).
func (ua *UA) streamClosed(k tkind, a *net.UDPAddr, dialErr error) {
	if ua.closing {
		return
	}
	for _, l := range ua.lines {
		if l.tk != k || l.registrar == nil || !sameAddr(l.proxy, a) {
			continue
		}
		if dialErr != nil && l.regTx != nil {
			tx := l.regTx
			l.regTx = nil
			tx.Terminate()
			ua.logf("sipua: line %d REGISTER: %v", l.n, dialErr)
			expires, _ := strconv.Atoi(tx.Request().Get("Expires"))
			l.regFailed(503, expires, 0)
			continue
		}
		if l.regState != "registered" || time.Since(l.regAt) < reflowAfter {
			continue
		}
		ua.logf("sipua: line %d: connection to %v closed; registering again", l.n, a)
		l.regAt = time.Now()
		l.scheduleRegister(l.random(2*time.Second), l.expires)
	}
}

// streamRecv hands a message from a TCP or TLS connection to the loop, as
// UDP datagrams are (the source is the connection's remote address).
func (ua *UA) streamRecv(b []byte, from *net.UDPAddr) {
	ua.post(func() { ua.receive(b, from) })
}

// oversize answers a request over the size bound with 413 (RFC 3261
// section 21.4.11) when its head can address a response; the connection is
// closed after it either way. It runs on the connection's reader.
func (ua *UA) oversize(head []byte, from *net.UDPAddr) []byte {
	m := new(sipmsg.Message)
	_ = m.ParseFrom(head) // Content-Length disagrees with the (missing) body
	if !m.IsRequest() || m.Method == "ACK" || len(m.GetAll("Via")) == 0 || m.Get("CSeq") == "" || !ua.trusted(from.IP) {
		return nil
	}
	r := sipmsg.NewResponse(m, 413, "")
	if ua.cfg.UserAgent != "" {
		r.Add("Server", ua.cfg.UserAgent)
	}
	r.Add("Content-Length", "0")
	ua.logf("sipua: 413 to an oversized %s from %v", m.Method, from)
	return r.AppendTo(nil)
}

func (ua *UA) portFor(k tkind) int {
	if k == tTLS {
		return ua.tlsPort
	}
	return ua.local.Port
}

// viaFor is a new top Via for a request sent over k.
func (ua *UA) viaFor(k tkind) string {
	v := sipmsg.Via{Transport: k.via(), Host: ua.contactHost, Port: ua.portFor(k)}
	v.SetParam("branch", sipmsg.NewBranch())
	v.SetParam("rport", "")
	return v.String()
}

// contactFor is our Contact for a line on k (;transport=tcp/tls on streams).
func (ua *UA) contactFor(k tkind, user string) string {
	u := sipmsg.URI{Scheme: "sip", User: user, Host: ua.contactHost, Port: ua.portFor(k)}
	if k != tUDP {
		u.Params = []sipmsg.Param{{Name: "transport", Value: k.param()}}
	}
	return "<" + u.String() + ">"
}

func sameAddr(a, b *net.UDPAddr) bool {
	return a != nil && b != nil && a.Port == b.Port && a.IP.Equal(b.IP)
}

// route picks the transport of a message to to, and where it goes.
//
// A response goes over the transport its top Via names (RFC 3261 section
// 18.2.2): over UDP to to (the source address, RFC 3581); over TCP or TLS
// on the connection the request came on (from to) while it is open, else
// on one to the received address and the sent-by port.
//
// A request to a line's registrar or outbound proxy uses the line's
// transport (the line whose user sent it first); any other (peer-to-peer)
// uses the next hop's URI: sips or ;transport=tcp/tls, else UDP.
func (ua *UA) route(m *sipmsg.Message, to *net.UDPAddr) (k tkind, dest *net.UDPAddr, serverName string) {
	if !m.IsRequest() {
		top := m.Get("Via")
		if len(top) >= 11 && strings.EqualFold(top[:11], "SIP/2.0/UDP") {
			return tUDP, to, "" // without parsing: the common case
		}
		v, err := sipmsg.ParseVia(top)
		if err != nil {
			return tUDP, to, ""
		}
		switch v.Transport {
		case "TCP":
			k = tTCP
			if ua.tcp.Has(to) {
				return k, to, ""
			}
		case "TLS":
			k = tTLS
			if ua.tls.Has(to) {
				return k, to, ""
			}
		default:
			return tUDP, to, ""
		}
		host := v.Host
		if r, ok := v.Param("received"); ok && r != "" {
			host = r
		}
		port := v.Port
		if port == 0 {
			port = 5060
			if k == tTLS {
				port = 5061
			}
		}
		if ip := net.ParseIP(host); ip != nil {
			return k, &net.UDPAddr{IP: ip, Port: port}, v.Host
		}
		return k, to, v.Host
	}
	var found *line
	fromUser, parsed := "", false
	for _, l := range ua.lines {
		if !sameAddr(l.proxy, to) && !sameAddr(l.registrar, to) {
			continue
		}
		if found != nil && found.tk != l.tk && !parsed { // lines differ: the From user decides
			if na, err := sipmsg.ParseNameAddr(m.Get("From")); err == nil {
				fromUser = na.URI.User
			}
			parsed = true
		}
		if found == nil || (found.cfg.User != fromUser && l.cfg.User == fromUser) {
			found = l
		}
	}
	if found != nil {
		return found.tk, to, found.serverName
	}
	hop := m.RequestURI
	if r := m.Get("Route"); r != "" {
		hop = r
	}
	if !hasFold(hop, "transport=") && !hasFold(hop, "sips:") {
		return tUDP, to, "" // without parsing: the common case
	}
	hop = m.RequestURI
	if r := m.GetAll("Route"); len(r) > 0 {
		hop = strings.Trim(r[0], "<> ") // GetAll has split the list
		if i := strings.IndexByte(hop, '>'); i >= 0 {
			hop = hop[:i]
		}
	}
	u, err := sipmsg.ParseURI(hop)
	if err != nil {
		return tUDP, to, ""
	}
	k = tUDP
	if p, ok := u.Param("transport"); ok {
		k, _ = parseTransport(p)
	}
	if strings.EqualFold(u.Scheme, "sips") {
		k = tTLS
	}
	return k, to, u.Host
}

// hasFold reports whether s contains sub, ASCII case-insensitively.
func hasFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// fitTransport makes our top Via (requests) and our Contact name the
// transport the message goes over. Messages built for UDP (viaValue,
// contact) leave here saying TCP or TLS.
func (ua *UA) fitTransport(m *sipmsg.Message, k tkind) {
	if m.IsRequest() {
		if v, err := sipmsg.ParseVia(m.Get("Via")); err == nil && v.Transport != k.via() && v.Host == ua.contactHost {
			v.Transport, v.Port = k.via(), ua.portFor(k)
			m.RemoveFirst("Via")
			m.Prepend("Via", v.String())
		}
	}
	c := m.Get("Contact")
	if c == "" || k == tUDP {
		return
	}
	na, err := sipmsg.ParseNameAddr(c)
	if err != nil || na.URI.Host != ua.contactHost || na.URI.Port != ua.local.Port {
		return
	}
	if _, ok := na.URI.Param("transport"); ok {
		return
	}
	na.URI.Port = ua.portFor(k)
	na.URI.Params = append(na.URI.Params, sipmsg.Param{Name: "transport", Value: k.param()})
	m.Set("Contact", na.String())
}

// sendMessage sends m to to over the transport route picks.
func (ua *UA) sendMessage(m *sipmsg.Message, to *net.UDPAddr) error {
	k, dest, name := ua.route(m, to)
	if k != tUDP {
		if ua.repeat(m, k, dest) {
			return nil
		}
		ua.fitTransport(m, k)
	}
	return ua.sendOn(k, m.AppendTo(nil), dest, name)
}

// streamSent remembers the last messages sent over TCP or TLS, so that
// the transaction layer's retransmissions (timers A, E and G, which RFC
// 3261 sections 17.1.1.2, 17.1.2.2 and 17.2.1 run only over unreliable
// transports) are not sent again on a connection that is still open. A
// connection that has closed gets the retransmission on a new one. Owned
// by the loop goroutine.
type streamSent struct {
	ring [16]struct {
		m  *sipmsg.Message
		k  tkind
		to string
	}
	next int
}

// repeat reports whether m already went over k to to on a connection that
// is still open, and remembers it otherwise. 2xx responses to INVITE are
// always sent: the UAS core retransmits them end to end whatever the
// transport (13.3.1.4).
func (ua *UA) repeat(m *sipmsg.Message, k tkind, to *net.UDPAddr) bool {
	if !m.IsRequest() && m.StatusCode >= 200 && m.StatusCode < 300 {
		if _, method, _ := m.CSeq(); method == "INVITE" {
			return false
		}
	}
	s := &ua.sent
	dest := to.String()
	for _, e := range s.ring {
		if e.m == m && e.k == k && e.to == dest {
			st := ua.tcp
			if k == tTLS {
				st = ua.tls
			}
			if st.Has(to) {
				return true
			}
			break
		}
	}
	e := &s.ring[s.next]
	e.m, e.k, e.to = m, k, dest
	s.next = (s.next + 1) % len(s.ring)
	return false
}

// sendOn sends bytes over k (b must not change afterwards: streams queue it).
func (ua *UA) sendOn(k tkind, b []byte, to *net.UDPAddr, serverName string) error {
	switch k {
	case tTCP:
		if ua.cfg.Trace != nil {
			ua.cfg.Trace("send", to, b)
		}
		return ua.tcp.Send(b, to, serverName)
	case tTLS:
		if ua.cfg.Trace != nil {
			ua.cfg.Trace("send", to, b)
		}
		return ua.tls.Send(b, to, serverName)
	}
	return ua.sendRaw(b, to)
}
