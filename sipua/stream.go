package sipua

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
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
		ua.tcp = transport.NewStream(transport.StreamConfig{Handler: ua.streamRecv(tTCP), Oversize: ua.oversize, Logf: ua.logf,
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
	client, server, err := tlsConfigs(ua.cfg)
	if err != nil {
		return ua.listenFailed(err)
	}
	ua.tls = transport.NewStream(transport.StreamConfig{TLS: true, ServerTLS: server, ClientTLS: client,
		Handler: ua.streamRecv(tTLS), Oversize: ua.oversize, Logf: ua.logf,
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

// tlsConfigs builds the TLS client's and listener's configurations from
// Config: the CAs a server must chain to (none given: the system roots),
// and the phone's certificate for both sides (server nil without one).
func tlsConfigs(cfg Config) (client, server *tls.Config, err error) {
	client = &tls.Config{MinVersion: tls.VersionTLS12}
	ca := cfg.TLSCA
	if cfg.TLSCAFile != "" {
		b, err := os.ReadFile(cfg.TLSCAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("sipua: TLS CA file: %w", err)
		}
		ca = append(append(ca[:len(ca):len(ca)], '\n'), b...)
	}
	if len(ca) > 0 {
		client.RootCAs = x509.NewCertPool()
		if !client.RootCAs.AppendCertsFromPEM(ca) {
			return nil, nil, errors.New("sipua: TLS CAs: no PEM certificate")
		}
	}
	certPEM, keyPEM := cfg.TLSCert, cfg.TLSKey
	if len(certPEM) == 0 && cfg.TLSCertFile != "" {
		if certPEM, err = os.ReadFile(cfg.TLSCertFile); err == nil {
			keyPEM, err = os.ReadFile(cfg.TLSKeyFile)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("sipua: TLS certificate: %w", err)
		}
	}
	if len(certPEM) == 0 {
		return client, nil, nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("sipua: TLS certificate: %w", err)
	}
	client.Certificates = []tls.Certificate{cert}
	return client, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
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
// A connection that could not open (dialErr) fails the requests pending
// to that address at once (transaction.Layer.Unreachable), so a REGISTER
// fails with 503 (RFC 3261 section 8.1.3.1) and an INVITE ends rather
// than after timer B or F. A registered line whose registrar or proxy the
// connection led to registers again over a new one (after a random 0-2 s),
// so that the registrar's way back to the phone (the connection, behind
// NAT) is open again (RFC 5626 section 4.4 in spirit; the phone has no
// outbound flow tokens).
func (ua *UA) streamClosed(k tkind, a *net.UDPAddr, dialErr error) {
	if dialErr != nil {
		if n := ua.tl.Unreachable(a, dialErr); n > 0 {
			ua.logf("sipua: %v: %d requests failed", dialErr, n)
		}
	}
	if ua.closing {
		return
	}
	for _, l := range ua.lines {
		if dialErr != nil || l.tk != k || l.registrar == nil || !sameAddr(l.proxy, a) {
			continue
		}
		if l.regState != Registered || time.Since(l.regAt) < reflowAfter {
			continue
		}
		ua.logf("sipua: line %d: connection to %v closed; registering again", l.n, a)
		l.regAt = time.Now()
		l.scheduleRegister(l.random(2*time.Second), l.expires)
	}
}

// streamRecv is the handler of k's connections: it hands each message to
// the loop, as UDP datagrams are (the source is the connection's remote
// address).
func (ua *UA) streamRecv(k tkind) func(b []byte, from *net.UDPAddr) {
	return func(b []byte, from *net.UDPAddr) {
		ua.post(func() { ua.receive(k, b, from) })
	}
}

// oversize answers a request over the size bound with 413 (RFC 3261
// section 21.4.11) when its head can address a response; the connection is
// closed after it either way. It runs on the connection's reader.
func (ua *UA) oversize(head []byte, from *net.UDPAddr) []byte {
	m := new(sipmsg.Message)
	_ = m.ParseFrom(head) // Content-Length disagrees with the (missing) body
	if !m.IsRequest() || m.Method == "ACK" || !m.Has("Via") || m.Get("CSeq") == "" || !ua.trusted(from.IP) {
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

// viaFor is a new top Via for a request sent over k: the one Via
// builder. It names the transport and our address and port on it (RFC
// 3261 18.1.1), a fresh branch and rport (RFC 3581). Every request is
// built for the transport it goes over; nothing is rewritten on the way out.
func (ua *UA) viaFor(k tkind) string {
	var b [96]byte // room for an IPv4 sent-by: the string is the one allocation
	return string(ua.appendVia(b[:0], k))
}

// appendVia is viaFor appending the Via's value to dst.
func (ua *UA) appendVia(dst []byte, k tkind) []byte {
	if ua.viaSentBy[k] == "" { // contactHost and the ports are fixed once started
		ua.viaSentBy[k] = "SIP/2.0/" + k.via() + " " + sipmsg.URI{Host: ua.contactHost, Port: ua.portFor(k)}.HostPort()
	}
	dst = append(append(dst, ua.viaSentBy[k]...), ";branch="...)
	return append(sipmsg.AppendBranch(dst), ";rport"...)
}

// contactFor is the Contact of line l on k (;transport=tcp/tls on
// streams; sips:user@host:port, no transport parameter, on a SIPS line
// over TLS): the one Contact builder, for requests and responses alike.
func (ua *UA) contactFor(k tkind, l *line) string {
	sips := k == tTLS && l.sips
	slot := int(k)
	if sips {
		slot = len(ua.contacts) - 1
	}
	if c, ok := ua.contacts[slot][l.cfg.User]; ok {
		return c
	}
	u := sipmsg.URI{Scheme: "sip", User: l.cfg.User, Host: ua.contactHost, Port: ua.portFor(k)}
	switch {
	case sips:
		u.Scheme = "sips"
	case k != tUDP:
		u.Params = []sipmsg.Param{{Name: "transport", Value: k.param()}}
	}
	c := "<" + u.String() + ">"
	if ua.contacts[slot] == nil {
		ua.contacts[slot] = map[string]string{}
	}
	if len(ua.contacts[slot]) < 16 { // the lines' users; anything else is not kept
		ua.contacts[slot][u.User] = c
	}
	return c
}

// viaTransport is the transport the top Via of m names (UDP when it names
// none we speak), without parsing the whole value.
func viaTransport(m *sipmsg.Message) tkind {
	t := m.TopTransport()
	switch {
	case strings.EqualFold(t, "TCP"):
		return tTCP
	case strings.EqualFold(t, "TLS"):
		return tTLS
	}
	return tUDP
}

func sameAddr(a, b *net.UDPAddr) bool {
	return a != nil && b != nil && a.Port == b.Port && a.IP.Equal(b.IP)
}

// route is where a message to to goes and over what: the transport its
// top Via names, since every message is built for its transport (viaFor;
// a response's top Via is the request's, RFC 3261 18.2.2).
//
// A response over UDP goes to to (the source address, RFC 3581); over TCP
// or TLS on the connection the request came on (from to) while it is
// open, else on one to the received address and the sent-by port. A
// request goes to to; over TLS the server must prove the name of the
// line's registrar or proxy at to, else the host of the Route or
// Request-URI it is sent to.
func (ua *UA) route(m *sipmsg.Message, to *net.UDPAddr) (k tkind, dest *net.UDPAddr, serverName string) {
	k = viaTransport(m)
	if k == tUDP {
		return tUDP, to, ""
	}
	if m.IsRequest() {
		if k != tTLS {
			return k, to, ""
		}
		for _, l := range ua.lines {
			if l.tk == tTLS && (sameAddr(l.proxy, to) || sameAddr(l.registrar, to)) {
				return k, to, l.serverName
			}
		}
		hop := m.RequestURI
		if r := m.GetAll("Route"); len(r) > 0 {
			hop = strings.Trim(r[0], "<> ") // GetAll has split the list
			if i := strings.IndexByte(hop, '>'); i >= 0 {
				hop = hop[:i]
			}
		}
		if u, err := sipmsg.ParseURI(hop); err == nil {
			return k, to, u.Host
		}
		return k, to, ""
	}
	st := ua.tcp
	if k == tTLS {
		st = ua.tls
	}
	if st.Has(to) {
		return k, to, ""
	}
	v, err := sipmsg.ParseVia(m.Get("Via"))
	if err != nil {
		return k, to, ""
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

// sendMessage sends m to to over the transport route picks. The
// transaction layer has already left out the retransmissions a reliable
// transport does not need. Over UDP m is written into the UA's one send
// buffer (the socket copies it), so a send allocates nothing; a stream
// queues its bytes and gets a copy of its own.
func (ua *UA) sendMessage(m *sipmsg.Message, to *net.UDPAddr) error {
	k, dest, name := ua.route(m, to)
	if k == tUDP {
		ua.txBuf = m.AppendTo(ua.txBuf[:0])
		return ua.sendRaw(ua.txBuf, dest)
	}
	return ua.sendOn(k, m.AppendTo(nil), dest, name)
}

// sendOn sends bytes over k (b must not change afterwards: streams queue it).
func (ua *UA) sendOn(k tkind, b []byte, to *net.UDPAddr, serverName string) error {
	switch k {
	case tTCP:
		ua.trace(TraceSend, k, to, b)
		return ua.tcp.Send(b, to, serverName)
	case tTLS:
		ua.trace(TraceSend, k, to, b)
		return ua.tls.Send(b, to, serverName)
	}
	return ua.sendRaw(b, to)
}
