package sipua

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
	"github.com/deskphone/deskphone/sipua/transport"
)

// wire records every message a UA sent and received, with its first lines.
type wire struct {
	mu   sync.Mutex
	msgs []string
}

func (w *wire) fn(td TraceDir, _ string, _ *net.UDPAddr, b []byte) {
	dir := td.String()
	w.mu.Lock()
	w.msgs = append(w.msgs, dir+" "+string(b))
	w.mu.Unlock()
}

// find returns the first message with dir and start-line prefix.
func (w *wire) find(dir, start string) *sipmsg.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.msgs {
		if strings.HasPrefix(s, dir+" "+start) {
			m, err := sipmsg.Parse([]byte(strings.TrimPrefix(s, dir+" ")))
			if err == nil {
				return m
			}
		}
	}
	return nil
}

func startUACfg(t *testing.T, cfg Config) (*UA, *wire) {
	t.Helper()
	w := &wire{}
	cfg.Listen, cfg.UserAgent, cfg.Trace, cfg.Logf = "127.0.0.1:0", "deskphone-test", w.fn, t.Logf
	ua, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	return ua, w
}

// writeCert makes a certificate for 127.0.0.1 signed by a CA of the
// test's in dir and returns the certificate, key and CA file names.
func writeCert(t *testing.T, dir string) (certFile, keyFile, caFile string) {
	t.Helper()
	ca := testtool.NewCA(t, "deskphone test CA")
	certFile, keyFile = ca.Issue(t, "127.0.0.1", testtool.LeafOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}).WriteFiles(t, dir, "phone")
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, caFile
}

// TestCallOverStream runs the whole call (INVITE to BYE, both ways of
// hanging up) between two UAs over TCP and over TLS.
func TestCallOverStream(t *testing.T) {
	cert, key, caFile := writeCert(t, t.TempDir())
	for _, tc := range []struct {
		name, via string
		cfg       Config
		port      func(*UA) int
	}{
		{"tcp", "TCP", Config{}, func(u *UA) int { return u.LocalAddr().Port }},
		{"tls", "TLS", Config{TLSCertFile: cert, TLSKeyFile: key, TLSCAFile: caFile}, func(u *UA) int { return u.TLSAddr().Port }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, cb := tc.cfg, tc.cfg
			ca.Lines = []LineConfig{{User: "1001", DisplayName: "Alice"}}
			cb.Lines = []LineConfig{{User: "1002"}}
			a, aw := startUACfg(t, ca)
			b, bw := startUACfg(t, cb)
			to := fmt.Sprintf("sip:1002@127.0.0.1:%d;transport=%s", tc.port(b), tc.name)
			for round, calleeHangs := range []bool{false, true} {
				id, err := a.Dial(1, to, media(10000, "PCMU"))
				if err != nil {
					t.Fatal(err)
				}
				in := expect(t, b, CallIncoming)
				if in.Peer != "Alice" {
					t.Fatalf("incoming %+v", in)
				}
				if err := b.Ring(in.Call); err != nil {
					t.Fatal(err)
				}
				expect(t, a, CallProgress)
				if _, err := b.Answer(in.Call, media(20000, "PCMU")); err != nil {
					t.Fatal(err)
				}
				expect(t, b, CallAnswered)
				expect(t, a, CallAnswered)
				if calleeHangs {
					err = b.Hangup(in.Call)
				} else {
					err = a.Hangup(id)
				}
				if err != nil {
					t.Fatal(err)
				}
				if e := expect(t, a, CallEnded); e.Code != 200 {
					t.Fatalf("round %d: caller ended %+v", round, e)
				}
				if e := expect(t, b, CallEnded); e.Code != 200 {
					t.Fatalf("round %d: callee ended %+v", round, e)
				}
			}
			inv := bw.find("recv", "INVITE ")
			if inv == nil {
				t.Fatal("callee saw no INVITE")
			}
			wantContact := fmt.Sprintf("<sip:1001@127.0.0.1:%d;transport=%s>", tc.port(a), tc.name)
			if !strings.HasPrefix(inv.Get("Via"), "SIP/2.0/"+tc.via+" 127.0.0.1:"+strconv.Itoa(tc.port(a))) || inv.Get("Contact") != wantContact {
				t.Errorf("INVITE Via %q Contact %q, want %s and %s", inv.Get("Via"), inv.Get("Contact"), tc.via, wantContact)
			}
			ok := aw.find("recv", "SIP/2.0 200")
			if ok == nil || ok.Get("Contact") != fmt.Sprintf("<sip:1002@127.0.0.1:%d;transport=%s>", tc.port(b), tc.name) {
				t.Errorf("200 OK Contact: %v", ok)
			}
			if bye := aw.find("recv", "BYE "); bye == nil || !strings.HasPrefix(bye.Get("Via"), "SIP/2.0/"+tc.via) {
				t.Errorf("callee's BYE: %v", bye)
			}
			s := a.tcp
			if tc.name == "tls" {
				s = a.tls
			}
			if n := s.Len(); n < 1 || n > 2 {
				t.Errorf("caller has %d %s connections, want 1 or 2 (reused across calls)", n, tc.name)
			}
		})
	}
}

// tcpRegistrar answers REGISTERs over TCP, on each connection it accepts.
func tcpRegistrar(t *testing.T) (addr string, got chan *sipmsg.Message) {
	addr, got, _ = tcpRegistrarConns(t)
	return addr, got
}

// tcpRegistrarConns is tcpRegistrar that also hands over each connection
// it accepts, so that a test may close it.
func tcpRegistrarConns(t *testing.T) (addr string, got chan *sipmsg.Message, conns chan net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveRegistrar(t, ln)
}

// serveRegistrar is tcpRegistrarConns on a listener of the caller's (a
// TLS one: tls_test.go).
func serveRegistrar(t *testing.T, ln net.Listener) (addr string, got chan *sipmsg.Message, conns chan net.Conn) {
	t.Cleanup(func() { ln.Close() })
	got, conns = make(chan *sipmsg.Message, 8), make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
			go registrarConn(c, got)
		}
	}()
	return ln.Addr().String(), got, conns
}

func registrarConn(c net.Conn, got chan *sipmsg.Message) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		var head []byte
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" && len(head) == 0 {
				continue
			}
			head = append(head, line...)
			if line == "\r\n" {
				break
			}
		}
		m, err := sipmsg.Parse(head)
		if err != nil {
			return
		}
		if n, _ := strconv.Atoi(m.Get("Content-Length")); n > 0 {
			io.CopyN(io.Discard, r, int64(n))
		}
		got <- m
		resp := sipmsg.NewResponse(m, 200, "")
		resp.Add("Contact", m.Get("Contact")+";expires=60")
		resp.Add("Content-Length", "0")
		c.Write(resp.AppendTo(nil))
	}
}

// TestReregisterOnClose: when the registrar's connection closes, a line
// registered for a while registers again over a new connection.
func TestReregisterOnClose(t *testing.T) {
	addr, got, conns := tcpRegistrarConns(t)
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001", Registrar: addr, Transport: "tcp"}}})
	expect(t, ua, RegChanged)
	<-got
	c := <-conns
	if err := ua.do(func() error { ua.lines[0].regAt = time.Time{}; return nil }); err != nil { // registered long ago
		t.Fatal(err)
	}
	c.Close()
	select {
	case m := <-got:
		if m.Method != "REGISTER" {
			t.Fatalf("got %s", m.Method)
		}
	case <-time.After(deadline):
		t.Fatal("no REGISTER after the connection closed")
	}
	select {
	case <-conns:
	default:
		t.Fatal("the REGISTER did not come on a new connection")
	}
}

func TestRegisterOverTCP(t *testing.T) {
	addr, got := tcpRegistrar(t)
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001", Registrar: addr, Transport: "TCP"}}})
	if e := expect(t, ua, RegChanged); e.RegText() != "registered" {
		t.Fatalf("reg %+v", e)
	}
	m := <-got
	port := ua.LocalAddr().Port
	if !strings.HasPrefix(m.Get("Via"), "SIP/2.0/TCP ") || m.Get("Contact") != fmt.Sprintf("<sip:1001@127.0.0.1:%d;transport=tcp>", port) {
		t.Fatalf("REGISTER Via %q Contact %q", m.Get("Via"), m.Get("Contact"))
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1", Transport: "sctp"}}}); err == nil {
		t.Fatal("transport sctp accepted")
	}
}

func TestOversizeOverTCP(t *testing.T) {
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001"}}})
	c, err := net.Dial("tcp", ua.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(deadline))
	fmt.Fprintf(c, "INVITE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbig\r\n"+
		"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: big\r\nCSeq: 1 INVITE\r\nContent-Length: 100000\r\n\r\n")
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "SIP/2.0 413 ") || !strings.Contains(string(b), "Call-ID: big") {
		t.Fatalf("got %q, want a 413 and close", b)
	}
}

// rawConn reads SIP messages framed by Content-Length from a TCP connection.
type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (rc *rawConn) read() *sipmsg.Message {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(deadline))
	var head []byte
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			rc.t.Fatalf("read: %v", err)
		}
		if line == "\r\n" && len(head) == 0 {
			continue
		}
		head = append(head, line...)
		if line == "\r\n" {
			break
		}
	}
	m, err := sipmsg.Parse(head)
	if err != nil {
		rc.t.Fatal(err)
	}
	if n, _ := strconv.Atoi(m.Get("Content-Length")); n > 0 {
		m.Body = make([]byte, n)
		if _, err := io.ReadFull(rc.r, m.Body); err != nil {
			rc.t.Fatal(err)
		}
	}
	return m
}

// TestStreamSendsOnce: a request the UA builds for TCP (its Via says TCP)
// goes once on the connection: its transaction knows the transport is
// reliable and runs no timer A (RFC 3261 17.1.1.2), so nothing more comes
// in the time timer A would have fired twice.
func TestStreamSendsOnce(t *testing.T) {
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001"}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ln.Addr().(*net.TCPAddr).Port}
	err = ua.do(func() error {
		m := sipmsg.NewRequest("INVITE", fmt.Sprintf("sip:x@%v;transport=tcp", to))
		m.Add("Via", ua.viaFor(tTCP))
		m.Add("From", "<sip:1001@127.0.0.1>;tag=a")
		m.Add("To", "<sip:x@127.0.0.1>")
		m.Add("CSeq", "1 INVITE")
		m.Add("Call-ID", "once")
		_, err := ua.tl.NewClient(m, to, transaction.ClientHandler{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc := &rawConn{t, c, bufio.NewReader(c)}
	if m := rc.read(); m.Get("Call-ID") != "once" || !strings.HasPrefix(m.Get("Via"), "SIP/2.0/TCP ") {
		t.Fatalf("got %s", m)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * transaction.T1 / 2 * 2)) // past timer A's 0.5 s and 1.5 s
	if b, err := rc.r.ReadByte(); err == nil {
		t.Fatalf("more came after the INVITE (a retransmission over TCP?): %q", b)
	}
}

// TestStreamResponseReconnects: the responses to a request go on its
// connection; when that has closed, on a new connection to the received
// address and the Via's sent-by port (RFC 3261 section 18.2.2).
func TestStreamResponseReconnects(t *testing.T) {
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1002"}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := net.Dial("tcp", ua.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	inv := sipmsg.NewRequest("INVITE", fmt.Sprintf("sip:1002@%v;transport=tcp", ua.LocalAddr()))
	inv.Add("Via", fmt.Sprintf("SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bKreconnect", port))
	inv.Add("From", "<sip:1001@127.0.0.1>;tag=a")
	inv.Add("To", "<sip:1002@127.0.0.1>")
	inv.Add("Call-ID", "reconnect")
	inv.Add("CSeq", "1 INVITE")
	inv.Add("Contact", fmt.Sprintf("<sip:1001@127.0.0.1:%d;transport=tcp>", port))
	inv.Add("Content-Type", "application/sdp")
	inv.Body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n")
	inv.Set("Content-Length", strconv.Itoa(len(inv.Body)))
	if _, err := c.Write(inv.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	in := expect(t, ua, CallIncoming)
	rc := &rawConn{t, c, bufio.NewReader(c)}
	if r := rc.read(); r.StatusCode != 100 {
		t.Fatalf("got %d on the request's connection, want 100", r.StatusCode)
	}
	c.Close()
	waitUntil(t, func() bool { return ua.tcp.Len() == 0 })
	if err := ua.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	c2, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if r := (&rawConn{t, c2, bufio.NewReader(c2)}).read(); r.StatusCode != 180 {
		t.Fatalf("got %d on the new connection, want 180", r.StatusCode)
	}
}

// waitUntil polls cond (a connection closing has no event) until the deadline.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatal("condition not met by the deadline")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSippTCP: SIPp's built-in uac and uas scenarios over TCP (-t t1).
func TestSippTCP(t *testing.T) {
	t.Run("uac", func(t *testing.T) {
		ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1002"}}})
		wait := sipp(t, "-t", "t1", "-sn", "uac", "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
		in := expect(t, ua, CallIncoming)
		if err := ua.Ring(in.Call); err != nil {
			t.Fatal(err)
		}
		if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
			t.Fatal(err)
		}
		expect(t, ua, CallAnswered)
		if e := expect(t, ua, CallEnded); e.Code != 200 {
			t.Fatalf("ended %+v", e)
		}
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("uas", func(t *testing.T) {
		port := testtool.Port(t)
		wait := sipp(t, "-t", "t1", "-sn", "uas", "-p", fmt.Sprint(port))
		ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001"}}})
		waitListening(t, port) // over TCP nothing is retransmitted
		id, err := ua.Dial(1, fmt.Sprintf("sip:service@127.0.0.1:%d;transport=tcp", port), media(10000, "PCMU"))
		if err != nil {
			t.Fatal(err)
		}
		expect(t, ua, CallProgress)
		expect(t, ua, CallAnswered)
		if err := ua.Hangup(id); err != nil {
			t.Fatal(err)
		}
		if e := expect(t, ua, CallEnded); e.Code != 200 {
			t.Fatalf("ended %+v", e)
		}
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// waitListening waits until a peer (SIPp) accepts TCP connections on
// 127.0.0.1:port: over TCP a request is sent once, so it must be there.
func waitListening(t *testing.T, port int) {
	t.Helper()
	waitUntil(t, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// TestRoute: the transport each message takes.
func TestRoute(t *testing.T) {
	ua, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{
		{User: "1001", Registrar: "127.0.0.1:7001"},
		{User: "1002", Registrar: "127.0.0.1:7002", Transport: "tcp"},
		{User: "1003", Registrar: "pbx.test:7003", OutboundProxy: "127.0.0.1:7003", Transport: "tls"},
		{User: "1004", Registrar: "127.0.0.1", Transport: "tls"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ua.lines[:2] {
		if err := l.resolve(); err != nil {
			t.Fatal(err)
		}
	}
	ua.lines[2].proxy, ua.lines[2].serverName = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7003}, "pbx.test"
	if err := ua.lines[3].resolve(); err != nil || ua.lines[3].proxy.Port != 5061 {
		t.Fatalf("tls registrar without a port: %v, %v", ua.lines[3].proxy, err)
	}
	ua.tcp, ua.tls = transport.NewStream(transport.StreamConfig{}), transport.NewStream(transport.StreamConfig{TLS: true})
	defer ua.tcp.Close()
	defer ua.tls.Close()
	addr := func(port int) *net.UDPAddr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }
	// A connection from 127.0.0.1:7001 is open (as a UDP line's PBX might have).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	open := addr(ln.Addr().(*net.TCPAddr).Port)
	if err := ua.tcp.Send([]byte("\r\n\r\n"), open, ""); err != nil {
		t.Fatal(err)
	}
	req := func(k tkind, from, ruri string, route ...string) *sipmsg.Message {
		m := sipmsg.NewRequest("INVITE", ruri)
		m.Add("Via", "SIP/2.0/"+k.via()+" 127.0.0.1:5060;branch=z9hG4bK1;rport")
		m.Add("From", "<sip:"+from+"@x>;tag=1")
		for _, r := range route {
			m.Add("Route", r)
		}
		return m
	}
	resp := func(via string) *sipmsg.Message {
		m := &sipmsg.Message{StatusCode: 200, Reason: "OK"}
		m.Add("Via", via)
		return m
	}
	for _, tc := range []struct {
		name     string
		m        *sipmsg.Message
		to       *net.UDPAddr
		k        tkind
		dest     *net.UDPAddr
		hostname string
	}{
		// Requests go over the transport their Via was built for; TLS
		// names the line's server, else the next hop's host.
		{"udp line", req(tUDP, "1001", "sip:x@y"), addr(7001), tUDP, addr(7001), ""},
		{"tcp line", req(tTCP, "1002", "sip:x@y"), addr(7002), tTCP, addr(7002), ""},
		{"tls line by name", req(tTLS, "1003", "sip:x@y"), addr(7003), tTLS, addr(7003), "pbx.test"},
		{"peer by uri", req(tTCP, "1001", "sip:x@127.0.0.1:9;transport=tcp"), addr(9), tTCP, addr(9), ""},
		{"peer by route", req(tTLS, "1001", "sip:x@127.0.0.1:9", "<sip:127.0.0.1:8;lr;transport=tls>"), addr(8), tTLS, addr(8), "127.0.0.1"},
		{"peer sips", req(tTLS, "1001", "sips:x@127.0.0.1:9"), addr(9), tTLS, addr(9), "127.0.0.1"},
		{"peer plain", req(tUDP, "1001", "sip:x@127.0.0.1:9"), addr(9), tUDP, addr(9), ""},
		{"udp response beside a tcp connection", resp("SIP/2.0/UDP 127.0.0.1:5060;rport=" + strconv.Itoa(open.Port)), open, tUDP, open, ""},
		{"tcp response on its connection", resp("SIP/2.0/TCP 127.0.0.1:5090;branch=z9hG4bK1"), open, tTCP, open, ""},
		{"tcp response, connection gone", resp("SIP/2.0/TCP h.test:5090;received=127.0.0.2"), addr(40000), tTCP, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 5090}, "h.test"},
		{"tls response, default port", resp("SIP/2.0/TLS 127.0.0.3"), addr(40000), tTLS, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3), Port: 5061}, "127.0.0.3"},
	} {
		k, dest, name := ua.route(tc.m, tc.to)
		if k != tc.k || dest.String() != tc.dest.String() || name != tc.hostname {
			t.Errorf("%s: %v %v %q, want %v %v %q", tc.name, k.via(), dest, name, tc.k.via(), tc.dest, tc.hostname)
		}
	}
}

// TestRegisterTCPRefused: a registrar that refuses the connection fails
// the registration at once with 503, not after timer F.
func TestRegisterTCPRefused(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", testtool.Port(t)) // held: nothing listens there
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001", Registrar: addr, Transport: "tcp"}}})
	if e := expect(t, ua, RegChanged); e.RegText() != "failed:503" {
		t.Fatalf("reg %+v", e)
	}
}

// TestTCPPortTaken: a fixed port taken on TCP leaves UDP working. The port
// is held (free on UDP and TCP when taken), so UDP is free there.
func TestTCPPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", testtool.Port(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ua, err := New(Config{Listen: ln.Addr().String(), Lines: []LineConfig{{User: "1001"}}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	if ua.LocalAddr().Port != ln.Addr().(*net.TCPAddr).Port || ua.tcp.LocalAddr() != nil {
		t.Fatalf("UDP at %v, TCP listener %v", ua.LocalAddr(), ua.tcp.LocalAddr())
	}
}
