package sipua

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// tlsRegistrar answers REGISTERs over TLS with cfg (its certificate) and
// reports the client certificate's subject each connection showed ("" =
// none) on peers.
func tlsRegistrar(t *testing.T, cfg *tls.Config) (port int, got chan *sipmsg.Message, peers chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	peers = make(chan string, 8)
	tl := tls.NewListener(ln, cfg)
	_, got, conns := serveRegistrar(t, tl)
	go func() {
		for c := range conns {
			tc := c.(*tls.Conn)
			// the handshake runs on the registrar's first read; this one
			// waits for it without reading
			if err := tc.Handshake(); err != nil {
				peers <- "handshake failed: " + err.Error()
				continue
			}
			if pc := tc.ConnectionState().PeerCertificates; len(pc) > 0 {
				peers <- pc[0].Subject.CommonName
			} else {
				peers <- ""
			}
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, got, peers
}

// TestRegisterTLS: a line over TLS registers only with a registrar whose
// certificate chains to the configured CA (TLSCA) and names the host the
// line was configured with (RFC 5922 section 4: the domain, not the SRV
// target), or its IP address; a failure fails the registration at once
// with a reason that says why, and nothing reaches the registrar. A
// registrar that asks for a client certificate gets the phone's.
func TestRegisterTLS(t *testing.T) {
	ca, other := testtool.NewCA(t, "deskphone test CA"), testtool.NewCA(t, "someone else")
	pbx := ca.Issue(t, "pbx.test", testtool.LeafOptions{DNS: []string{"pbx.test", "example.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	srvOnly := ca.Issue(t, "host1.example.test", testtool.LeafOptions{DNS: []string{"host1.example.test"}})
	phone := ca.Issue(t, "phone-1001", testtool.LeafOptions{})
	plain := func(c tls.Certificate) *tls.Config { return &tls.Config{Certificates: []tls.Certificate{c}} }
	for _, tc := range []struct {
		name      string
		server    *tls.Config
		host      string // the registrar's host; its port is the registrar's
		srv       bool   // host is a domain with a _sips._tcp SRV record to host1.example.test
		cfg       Config
		reason    string // a failure's Event.Detail, with %d for the port; "" = registered
		clientSub string // the client certificate the registrar must have seen
	}{
		{name: "by IP", server: plain(pbx.TLS), host: "127.0.0.1", cfg: Config{TLSCA: ca.PEM}},
		{name: "by name", server: plain(pbx.TLS), host: "pbx.test", cfg: Config{TLSCA: ca.PEM}},
		{name: "SRV: the domain is checked", server: plain(pbx.TLS), host: "example.test", srv: true, cfg: Config{TLSCA: ca.PEM}},
		{name: "SRV: the target's name is not enough", server: plain(srvOnly.TLS), host: "example.test", srv: true, cfg: Config{TLSCA: ca.PEM},
			reason: "registrar example.test: certificate not valid for this name (x509: certificate is valid for host1.example.test, not example.test)"},
		{name: "wrong name", server: plain(pbx.TLS), host: "wrong.test", cfg: Config{TLSCA: ca.PEM},
			reason: "registrar wrong.test: certificate not valid for this name (x509: certificate is valid for pbx.test, example.test, not wrong.test)"},
		{name: "untrusted", server: plain(pbx.TLS), host: "pbx.test", cfg: Config{TLSCA: other.PEM},
			reason: "registrar pbx.test: certificate not trusted (x509: certificate signed by unknown authority)"},
		{name: "client certificate", host: "pbx.test", clientSub: "phone-1001",
			server: &tls.Config{Certificates: []tls.Certificate{pbx.TLS}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()},
			cfg:    Config{TLSCA: ca.PEM, TLSCert: phone.CertPEM, TLSKey: phone.KeyPEM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port, got, peers := tlsRegistrar(t, tc.server)
			registrar := fmt.Sprintf("%s:%d", tc.host, port)
			flags := []string{"--local=/test/", "--host-record=pbx.test,127.0.0.1", "--host-record=wrong.test,127.0.0.1", "--host-record=host1.example.test,127.0.0.1"}
			if tc.srv {
				flags = append(flags, fmt.Sprintf("--srv-host=_sips._tcp.example.test,host1.example.test,%d,10,0", port))
				registrar = tc.host
			}
			if tc.host != "127.0.0.1" {
				tc.cfg.DNSServers = []string{testtool.DNSMasq(t, flags...)}
			}
			tc.cfg.Lines = []LineConfig{{User: "1001", Registrar: registrar, Transport: "tls", SIPS: tc.srv}}
			ua, _ := startUACfg(t, tc.cfg)
			e := expect(t, ua, RegChanged)
			if tc.reason != "" {
				if e.RegText() != "failed:503" || e.Detail != tc.reason {
					t.Fatalf("registration %s %q, want failed:503 %q", e.RegText(), e.Detail, tc.reason)
				}
				select {
				case m := <-got:
					t.Fatalf("the registrar got a %s over a connection that did not verify", m.Method)
				default:
				}
				return
			}
			if e.RegText() != "registered" {
				t.Fatalf("registration %s %q", e.RegText(), e.Detail)
			}
			m := <-got
			if !strings.HasPrefix(m.Get("Via"), "SIP/2.0/TLS ") {
				t.Errorf("REGISTER Via %q", m.Get("Via"))
			}
			if sub := <-peers; sub != tc.clientSub {
				t.Errorf("the registrar saw client certificate %q, want %q", sub, tc.clientSub)
			}
			loopStackHeld(t, ua) // the TLS connection's set-up fits too (loopstack_test.go)
		})
	}
}

// TestSIPSLine: a SIPS line's address of record, REGISTER Request-URI and
// Contact are sips: URIs over TLS, and so is the Request-URI of a number
// it dials (a sip: URI dialled stays one); a registrar given as sips: makes a line SIPS. A SIPS line
// over UDP or TCP is refused.
func TestSIPSLine(t *testing.T) {
	ca := testtool.NewCA(t, "deskphone test CA")
	pbx := ca.Issue(t, "pbx.test", testtool.LeafOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	for _, lc := range []LineConfig{
		{User: "1001", SIPS: true},
		{User: "1001", Transport: "tls", SIPS: true},
		{User: "1001", Registrar: "sips:"},
	} {
		port, got, _ := tlsRegistrar(t, &tls.Config{Certificates: []tls.Certificate{pbx.TLS}})
		lc.Registrar += fmt.Sprintf("127.0.0.1:%d", port)
		ua, _ := startUACfg(t, Config{TLSCA: ca.PEM, Lines: []LineConfig{lc}})
		if e := expect(t, ua, RegChanged); e.RegText() != "registered" {
			t.Fatalf("%+v: registration %s %q", lc, e.RegText(), e.Detail)
		}
		m := <-got
		contact := fmt.Sprintf("<sips:1001@127.0.0.1:%d>", ua.tlsPort)
		if m.RequestURI != "sips:127.0.0.1" || !strings.HasPrefix(m.Get("From"), "<sips:1001@127.0.0.1>") ||
			!strings.HasPrefix(m.Get("To"), "<sips:1001@127.0.0.1>") || m.Get("Contact") != contact ||
			!strings.HasPrefix(m.Get("Via"), "SIP/2.0/TLS ") {
			t.Fatalf("%+v: REGISTER %s From %q To %q Contact %q (want %s) Via %q", lc, m.RequestURI, m.Get("From"), m.Get("To"), m.Get("Contact"), contact, m.Get("Via"))
		}
		for dialled, want := range map[string]string{"1002": "sips:1002@127.0.0.1", "1002@pbx.test": "sips:1002@pbx.test", "sip:1002@pbx.test": "sip:1002@pbx.test"} {
			if u, err := ua.lines[0].targetURI(dialled); err != nil || u.String() != want {
				t.Errorf("%+v: dialling %s calls %v (%v), want %s", lc, dialled, u, err, want)
			}
		}
	}
	for _, tr := range []string{"udp", "tcp"} {
		if _, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1", Transport: tr, SIPS: true}}}); err == nil {
			t.Errorf("a SIPS line over %s was accepted", tr)
		}
	}
}

// TestSIPSNotOverTLS: a request whose Request-URI is sips: gets 416 when it
// came over UDP or TCP (RFC 3261 26.2.2: sips is TLS on every hop); a sip:
// one is answered. (Over TLS one is taken: tools/interop's TestKamailioTLS
// calls a SIPS line.)
func TestSIPSNotOverTLS(t *testing.T) {
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001"}}})
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, ruri := range []string{"sips:1001@127.0.0.1", "sip:1001@127.0.0.1"} {
		req := fmt.Sprintf("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKsips%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <%s>\r\nCall-ID: sips%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			ruri, c.LocalAddr(), i, ruri, i)
		if _, err := c.WriteToUDP([]byte(req), ua.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(deadline))
		buf := make([]byte, 4096)
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		want := "SIP/2.0 416 "
		if i == 1 {
			want = "SIP/2.0 200 "
		}
		if !strings.HasPrefix(string(buf[:n]), want) {
			t.Fatalf("OPTIONS %s over UDP: %q, want %s", ruri, buf[:n], want)
		}
	}
}

// TestDialTLSUntrusted: an INVITE to an outbound proxy whose certificate
// does not verify ends the call at once with 503; the proxy gets nothing.
func TestDialTLSUntrusted(t *testing.T) {
	ca, other := testtool.NewCA(t, "deskphone test CA"), testtool.NewCA(t, "someone else")
	pbx := ca.Issue(t, "pbx.test", testtool.LeafOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	port, got, _ := tlsRegistrar(t, &tls.Config{Certificates: []tls.Certificate{pbx.TLS}})
	ua, _ := startUACfg(t, Config{TLSCA: other.PEM,
		Lines: []LineConfig{{User: "1001", OutboundProxy: fmt.Sprintf("127.0.0.1:%d", port), Transport: "tls"}}})
	if _, err := ua.Dial(1, "1002", media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, ua, CallEnded); e.Code != 503 {
		t.Fatalf("call ended %+v, want 503", e)
	}
	select {
	case m := <-got:
		t.Fatalf("the proxy got a %s over a connection that did not verify", m.Method)
	default:
	}
}
