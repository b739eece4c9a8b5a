package sipua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/resolve"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

const deadline = 5 * time.Second

// traced records the methods/status codes a UA received, for assertions.
type traced struct {
	mu     sync.Mutex
	recv   []string
	notify chan struct{} // nudged after each datagram received
}

func (tr *traced) fn(td TraceDir, _ string, _ *net.UDPAddr, b []byte) {
	dir := td.String()
	if dir != "recv" {
		return
	}
	m, err := sipmsg.Parse(b)
	if err != nil {
		return
	}
	s := m.Method
	if s == "" {
		s = fmt.Sprint(m.StatusCode)
	}
	tr.mu.Lock()
	tr.recv = append(tr.recv, s)
	tr.mu.Unlock()
	select {
	case tr.notify <- struct{}{}:
	default:
	}
}

func newTraced() *traced { return &traced{notify: make(chan struct{}, 1)} }

// waitFor waits until the UA has received every one of what, or fails at the deadline.
func (tr *traced) waitFor(t *testing.T, what ...string) {
	t.Helper()
	timeout := time.After(deadline)
	for {
		all := true
		for _, w := range what {
			all = all && tr.has(w)
		}
		if all {
			return
		}
		select {
		case <-tr.notify:
		case <-timeout:
			t.Fatalf("timed out waiting to receive %q", what)
		}
	}
}

func (tr *traced) has(what string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, s := range tr.recv {
		if s == what {
			return true
		}
	}
	return false
}

func startUA(t *testing.T, lines ...LineConfig) (*UA, *traced) {
	t.Helper()
	tr := newTraced()
	return startUAWith(t, Config{Lines: lines, Trace: tr.fn}), tr
}

// startUAWith starts a UA on a loopback port with cfg (its Listen,
// UserAgent and Logf set here) and closes it when the test ends.
func startUAWith(t *testing.T, cfg Config) *UA {
	t.Helper()
	cfg.Listen, cfg.UserAgent, cfg.Logf = "127.0.0.1:0", "deskphone-test", t.Logf
	ua, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	return ua
}

// expect returns the UA's next event, which must be of kind want. Waiting
// for a RegChanged it skips RegTrouble: a peer started with the UA may
// not listen yet when the first REGISTER comes, whose ICMP error the UA
// reports (rx.go) while its retransmissions go on.
func expect(t *testing.T, ua *UA, want EventKind) Event {
	t.Helper()
	for {
		e := expect1(t, ua, want)
		if want != RegChanged || e.Kind != RegTrouble {
			if e.Kind != want {
				t.Fatalf("event %v %+v, want %v", e.Kind, e, want)
			}
			return e
		}
	}
}

func expect1(t *testing.T, ua *UA, want EventKind) Event {
	t.Helper()
	select {
	case e, ok := <-ua.Events():
		if !ok {
			t.Fatalf("events closed, want %v", want)
		}
		if e.Kind != want && (want != RegChanged || e.Kind != RegTrouble) {
			t.Fatalf("event %v %+v, want %v", e.Kind, e, want)
		}
		return e
	case <-time.After(deadline):
		t.Fatalf("no %v event within %v", want, deadline)
	}
	return Event{}
}

func media(port int, codecs ...string) Media {
	return Media{Host: "127.0.0.1", Port: port, Codecs: codecs}
}

func target(ua *UA, user string) string { return "sip:" + user + "@" + ua.LocalAddr().String() }

func TestCallPeerToPeer(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001", DisplayName: "Alice"})
	b, btr := startUA(t, LineConfig{User: "1002"})

	id, err := a.Dial(1, target(b, "1002"), media(10000, "PCMA", "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	in := expect(t, b, CallIncoming)
	if in.Peer != "Alice" || in.Line != 1 || !reflect.DeepEqual(in.Remote, &Media{Host: "127.0.0.1", Port: 10000, Codecs: []string{"PCMA", "PCMU"}, Ptime: 20, TelephoneEvent: 101, Direction: "sendrecv"}) {
		t.Fatalf("incoming %+v %+v", in, in.Remote)
	}
	if err := b.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	if p := expect(t, a, CallProgress); p.Code != 180 || p.Call != id || p.Peer != "1002" {
		t.Fatalf("progress %+v", p)
	}
	rm, err := b.Answer(in.Call, media(20000, "PCMU", "PCMA"))
	if err != nil {
		t.Fatal(err)
	}
	if rm.Port != 10000 || !reflect.DeepEqual(rm.Codecs, []string{"PCMU"}) || rm.TelephoneEvent != 101 {
		t.Fatalf("Answer returned %+v", rm)
	}
	if e := expect(t, b, CallAnswered); !reflect.DeepEqual(e.Remote, rm) {
		t.Fatalf("callee answered %+v", e.Remote)
	}
	e := expect(t, a, CallAnswered)
	if e.Call != id || e.Remote.Port != 20000 || !reflect.DeepEqual(e.Remote.Codecs, []string{"PCMU"}) || e.Remote.Ptime != 20 || e.Remote.TelephoneEvent != 101 {
		t.Fatalf("caller answered %+v", e.Remote)
	}
	btr.waitFor(t, "ACK")
	if err := b.Ring(in.Call); !errors.Is(err, ErrCallState) {
		t.Fatalf("Ring after answer: %v", err)
	}
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, a, CallEnded); e.Code != 200 || e.Call != id {
		t.Fatalf("caller ended %+v", e)
	}
	if e := expect(t, b, CallEnded); e.Code != 200 || e.Call != in.Call {
		t.Fatalf("callee ended %+v", e)
	}
	if err := a.Hangup(id); !errors.Is(err, ErrNoCall) {
		t.Fatalf("Hangup of an ended call: %v", err)
	}
}

func TestCalleeHangsUp(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	b, _ := startUA(t, LineConfig{User: "1002"})
	id, _ := a.Dial(1, target(b, "1002"), media(10000, "PCMU"))
	in := expect(t, b, CallIncoming)
	if _, err := b.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, b, CallAnswered)
	expect(t, a, CallAnswered)
	if err := b.Hangup(in.Call); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, a, CallEnded); e.Code != 200 || e.Call != id {
		t.Fatalf("caller ended %+v", e)
	}
	if e := expect(t, b, CallEnded); e.Code != 200 {
		t.Fatalf("callee ended %+v", e)
	}
}

func TestRejectBusy(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	b, btr := startUA(t, LineConfig{User: "1002"})
	id, _ := a.Dial(1, target(b, "1002"), media(10000, "PCMU"))
	in := expect(t, b, CallIncoming)
	if err := b.Reject(in.Call, 200); err == nil {
		t.Fatal("Reject with 200 accepted")
	}
	if err := b.Reject(in.Call, 486); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, a, CallEnded); e.Code != 486 || e.Call != id {
		t.Fatalf("caller %+v", e)
	}
	if e := expect(t, b, CallEnded); e.Code != 486 {
		t.Fatalf("callee %+v", e)
	}
	btr.waitFor(t, "ACK")
}

func TestCancelBeforeAnswer(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	b, btr := startUA(t, LineConfig{User: "1002"})
	id, _ := a.Dial(1, target(b, "1002"), media(10000, "PCMU"))
	in := expect(t, b, CallIncoming)
	_ = b.Ring(in.Call)
	expect(t, a, CallProgress)
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, b, CallEnded); e.Code != 487 {
		t.Fatalf("callee %+v", e)
	}
	if e := expect(t, a, CallEnded); e.Code != 487 {
		t.Fatalf("caller %+v", e)
	}
	btr.waitFor(t, "CANCEL", "ACK")
	if _, err := b.Answer(in.Call, media(20000, "PCMU")); !errors.Is(err, ErrNoCall) {
		t.Fatalf("Answer after CANCEL: %v", err)
	}
}

func TestNoCommonCodec(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	b, _ := startUA(t, LineConfig{User: "1002"})
	_, _ = a.Dial(1, target(b, "1002"), media(10000, "PCMA"))
	in := expect(t, b, CallIncoming)
	if _, err := b.Answer(in.Call, media(20000, "PCMU")); !errors.Is(err, ErrNoCodec) {
		t.Fatalf("Answer: %v", err)
	}
	if e := expect(t, b, CallEnded); e.Code != 488 {
		t.Fatalf("callee %+v", e)
	}
	if e := expect(t, a, CallEnded); e.Code != 488 {
		t.Fatalf("caller %+v", e)
	}
}

func TestEventKindString(t *testing.T) {
	for k, want := range map[EventKind]string{RegChanged: "reg-changed", CallIncoming: "call-incoming",
		CallProgress: "call-progress", CallAnswered: "call-answered", CallEnded: "call-ended", 0: "unknown"} {
		if k.String() != want {
			t.Errorf("%d: %q", int(k), k.String())
		}
	}
}

func TestAPIErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without Listen")
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{}}}); err == nil {
		t.Fatal("New with a line without user")
	}
	ua, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ua.Dial(1, "sip:x@127.0.0.1", media(1, "PCMU")); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("Dial before Start: %v", err)
	}
	a, _ := startUA(t, LineConfig{User: "1001"})
	for _, tc := range []struct {
		line   int
		target string
		m      Media
	}{
		{2, "sip:x@127.0.0.1", media(1, "PCMU")},
		{1, "1002", media(1, "PCMU")}, // no domain on a peer-to-peer line
		{1, "sip:x@127.0.0.1", media(1, "G729")},
		{1, "sip:x@127.0.0.1", media(0, "PCMU")},
		{1, "tel:+123", media(1, "PCMU")},
	} {
		if _, err := a.Dial(tc.line, tc.target, tc.m); err == nil {
			t.Errorf("Dial(%d, %q, %+v) accepted", tc.line, tc.target, tc.m)
		}
	}
	if err := a.Ring(99); !errors.Is(err, ErrNoCall) {
		t.Errorf("Ring(99): %v", err)
	}
	_ = a.Close()
	if _, ok := <-a.Events(); ok {
		t.Error("events not closed after Close")
	}
	if _, err := a.Dial(1, "sip:x@127.0.0.1", media(1, "PCMU")); !errors.Is(err, ErrClosed) {
		t.Errorf("Dial after Close: %v", err)
	}
}

// peer is a raw UDP socket standing in for a PBX or another phone.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newPeer(t *testing.T) *peer {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t, c}
}

func (p *peer) addr() string { return p.conn.LocalAddr().String() }

// read returns the next SIP message (keepalives skipped) and its source.
func (p *peer) read() (*sipmsg.Message, *net.UDPAddr) {
	p.t.Helper()
	buf := make([]byte, 65535)
	for {
		_ = p.conn.SetReadDeadline(time.Now().Add(deadline))
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			p.t.Fatalf("peer read: %v", err)
		}
		if strings.TrimSpace(string(buf[:n])) == "" {
			continue
		}
		m, err := sipmsg.Parse(buf[:n])
		if err != nil {
			p.t.Fatalf("peer got unparsable message: %v\n%s", err, buf[:n])
		}
		return m, from
	}
}

func (p *peer) send(m *sipmsg.Message, to *net.UDPAddr) {
	if _, err := p.conn.WriteToUDP(m.AppendTo(nil), to); err != nil {
		p.t.Fatal(err)
	}
}

func TestOptionsAndUnknownMethod(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	p := newPeer(t)
	for _, tc := range []struct {
		method string
		code   int
	}{{"OPTIONS", 200}, {"FOOBAR", 501}} {
		req := sipmsg.NewRequest(tc.method, target(a, "1001"))
		req.Add("Via", "SIP/2.0/UDP 10.9.9.9:5999;branch="+sipmsg.NewBranch()+";rport")
		req.Add("From", "<sip:x@10.9.9.9>;tag=1")
		req.Add("To", "<sip:1001@127.0.0.1>")
		req.Add("Call-ID", sipmsg.NewCallID(""))
		req.Add("CSeq", "1 "+tc.method)
		p.send(req, a.LocalAddr())
		r, _ := p.read() // it reached us, though the Via says 10.9.9.9: responses go to the source (RFC 3581)
		if r.StatusCode != tc.code {
			t.Fatalf("%s: %d", tc.method, r.StatusCode)
		}
		v, _ := sipmsg.ParseVia(r.Get("Via"))
		port := fmt.Sprint(p.conn.LocalAddr().(*net.UDPAddr).Port)
		if rp, _ := v.Param("rport"); rp != port {
			t.Fatalf("%s: Via %q lacks rport=%s", tc.method, r.Get("Via"), port)
		}
		if rc, _ := v.Param("received"); rc != "127.0.0.1" {
			t.Fatalf("%s: Via %q lacks received", tc.method, r.Get("Via"))
		}
	}
}

func TestTrustedOnly(t *testing.T) {
	// No I/O: New and resolve only; the registrar and proxy are IP literals.
	ua, err := New(Config{Listen: "127.0.0.1:0", TrustedOnly: true, Lines: []LineConfig{
		{User: "1001", Registrar: "10.0.2.2:5060"},
		{User: "1002", Registrar: "10.0.2.2", OutboundProxy: "10.0.2.3:5070"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ua.lines {
		if err := l.resolve(); err != nil {
			t.Fatal(err)
		}
	}
	for ip, want := range map[string]bool{"10.0.2.2": true, "10.0.2.3": true, "10.0.2.15": false, "127.0.0.1": false} {
		if got := ua.trusted(net.ParseIP(ip)); got != want {
			t.Errorf("trusted(%s) = %v", ip, got)
		}
	}
	ua.cfg.TrustedOnly = false
	if !ua.trusted(net.ParseIP("192.0.2.1")) {
		t.Error("TrustedOnly off still filters")
	}
	if ua.lines[1].domain != "10.0.2.2" || ua.lines[1].proxy.String() != "10.0.2.3:5070" || ua.lines[0].registrar.String() != "10.0.2.2:5060" {
		t.Errorf("line defaults: %q %v %v", ua.lines[1].domain, ua.lines[1].proxy, ua.lines[0].registrar)
	}
}

// TestTrustedOnlyDrops sends a request from a source that is not the
// line's registrar: it must be dropped, and the registrar's own is answered.
func TestTrustedOnlyDrops(t *testing.T) {
	reg := &registrar{p: newPeer(t), password: "pw", expires: 60, ok: make(chan string, 10)}
	go reg.serve(t)
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ua, err := New(Config{Listen: "127.0.0.1:0", TrustedOnly: true, Lines: []LineConfig{{User: "1001", Password: "pw", Registrar: reg.p.addr()}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	expect(t, ua, RegChanged)
	// Only the trust check is pointed elsewhere (TrustedOnly compares IPs);
	// the address is put back before Close, so nothing is sent off loopback.
	setTrusted := func(ts []resolve.Target) (old []resolve.Target) {
		done := make(chan struct{})
		ua.post(func() {
			old = ua.lines[0].reg.targets
			ua.lines[0].reg.targets = ts
			close(done)
		})
		<-done
		return old
	}
	regTargets := setTrusted([]resolve.Target{{Transport: resolve.UDP, Addr: netip.MustParseAddrPort("10.0.2.2:5060")}})
	defer setTrusted(regTargets)
	req := sipmsg.NewRequest("OPTIONS", target(ua, "1001"))
	req.Add("Via", "SIP/2.0/UDP 127.0.0.1;branch="+sipmsg.NewBranch())
	req.Add("From", "<sip:x@127.0.0.1>;tag=1")
	req.Add("To", "<sip:1001@127.0.0.1>")
	req.Add("Call-ID", "t1")
	req.Add("CSeq", "1 OPTIONS")
	_, _ = other.WriteToUDP(req.AppendTo(nil), ua.LocalAddr())
	_ = other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 2048)
	if n, _, err := other.ReadFromUDP(buf); err == nil {
		t.Fatalf("untrusted OPTIONS answered: %s", buf[:n])
	}
}

func TestKeepalive(t *testing.T) {
	proxy := newPeer(t)
	_, _ = startUA(t, LineConfig{User: "1001", Domain: "pbx.example", OutboundProxy: proxy.addr()})
	_ = proxy.conn.SetReadDeadline(time.Now().Add(deadline))
	buf := make([]byte, 100)
	n, _, err := proxy.conn.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "\r\n\r\n" {
		t.Fatalf("keepalive %q %v", buf[:n], err)
	}
}

// registrar is a tiny digest-checking registrar for the tests.
type registrar struct {
	p        *peer
	password string
	expires  int
	ok       chan string // Expires of each accepted REGISTER
	requests int
	mu       sync.Mutex
}

func (r *registrar) serve(t *testing.T) {
	ch := digest.NewChallenge("test.example")
	buf := make([]byte, 65535)
	for {
		n, from, err := r.p.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		m, err := sipmsg.Parse(buf[:n])
		if err != nil || m.Method != "REGISTER" {
			continue
		}
		r.mu.Lock()
		r.requests++
		r.mu.Unlock()
		auth := m.Get("Authorization")
		var resp *sipmsg.Message
		if auth == "" {
			resp = sipmsg.NewResponse(m, 401, "")
			resp.Add("WWW-Authenticate", ch.String())
		} else if cr, err := digest.ParseCredentials(auth); err != nil || cr.Nonce != ch.Nonce || cr.Username != "1001" || !cr.Verify("REGISTER", r.password) {
			resp = sipmsg.NewResponse(m, 403, "")
		} else {
			resp = sipmsg.NewResponse(m, 200, "")
			e := m.Get("Expires")
			if e != "0" {
				e = fmt.Sprint(r.expires)
			}
			resp.Add("Contact", m.Get("Contact")+";expires="+e)
			r.ok <- m.Get("Expires")
		}
		resp.Set("To", m.Get("To")+";tag=reg")
		_, _ = r.p.conn.WriteToUDP(resp.AppendTo(nil), from)
	}
}

func TestRegisterRefreshUnregister(t *testing.T) {
	reg := &registrar{p: newPeer(t), password: "pw", expires: 2, ok: make(chan string, 10)}
	go reg.serve(t)
	tr := newTraced()
	ua, err := New(Config{Listen: "127.0.0.1:0", Trace: tr.fn, Logf: t.Logf,
		Lines: []LineConfig{{User: "1001", Password: "pw", Registrar: reg.p.addr(), Expires: 60}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, ua, RegChanged); e.RegText() != "registered" || e.Line != 1 {
		t.Fatalf("reg %+v", e)
	}
	for i, want := range []string{"60", "60"} { // the first registration and the refresh at half of 2 s
		select {
		case got := <-reg.ok:
			if got != want {
				t.Fatalf("REGISTER %d asked Expires %s", i, got)
			}
		case <-time.After(deadline):
			t.Fatalf("no REGISTER %d", i)
		}
	}
	_ = ua.Close()
	select {
	case got := <-reg.ok:
		if got != "0" {
			t.Fatalf("unREGISTER asked Expires %s", got)
		}
	default:
		t.Fatal("Close did not unregister")
	}
	var states []string
	for e := range ua.Events() {
		states = append(states, e.RegText())
	}
	if !reflect.DeepEqual(states, []string{"unregistered"}) {
		t.Fatalf("events after the refresh: %q", states)
	}
}

func TestRegisterWrongPassword(t *testing.T) {
	reg := &registrar{p: newPeer(t), password: "right", expires: 60, ok: make(chan string, 10)}
	go reg.serve(t)
	ua, _ := startUA(t, LineConfig{User: "1001", Password: "wrong", Registrar: reg.p.addr()})
	if e := expect(t, ua, RegChanged); e.RegText() != "failed:403" {
		t.Fatalf("reg %+v", e)
	}
	reg.mu.Lock()
	n := reg.requests
	reg.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d REGISTERs before failing, want 2 (no tight challenge loop)", n)
	}
}

func TestRegisterTimeout(t *testing.T) {
	testtool.Long(t, "make race") // waits for timer F (32 s)
	p := newPeer(t)               // never answers
	ua, _ := startUA(t, LineConfig{User: "1001", Registrar: p.addr()})
	expect(t, ua, RegTrouble) // after four sends (failure_test.go)
	select {
	case e := <-ua.Events():
		if e.RegText() != "failed:408" || e.Detail != "registrar "+p.addr()+" does not answer" {
			t.Fatalf("reg %+v", e)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("no failure after timer F")
	}
}

// TestOutboundProxyAuth checks the routing rule and INVITE authentication:
// the INVITE goes to the outbound proxy (not the target's host), a 407 is
// answered once with Proxy-Authorization, non-2xx finals are ACKed there.
func TestOutboundProxyAuth(t *testing.T) {
	proxy := newPeer(t)
	ua, _ := startUA(t, LineConfig{User: "1001", Password: "pw", Domain: "pbx.example", OutboundProxy: proxy.addr()})
	id, err := ua.Dial(1, "1002", media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	inv, from := proxy.read()
	if inv.Method != "INVITE" || inv.RequestURI != "sip:1002@pbx.example" {
		t.Fatalf("first request %s %s", inv.Method, inv.RequestURI)
	}
	if v, _ := sipmsg.ParseVia(inv.Get("Via")); !strings.Contains(v.String(), ";rport") {
		t.Fatalf("Via without rport: %s", inv.Get("Via"))
	}
	ch := digest.NewChallenge("pbx.example")
	r := sipmsg.NewResponse(inv, 407, "")
	r.Set("To", inv.Get("To")+";tag=p1")
	r.Add("Proxy-Authenticate", ch.String())
	proxy.send(r, from)
	if ack, _ := proxy.read(); ack.Method != "ACK" || ack.Get("CSeq") != "1 ACK" {
		t.Fatalf("want ACK of the 407, got %s %s", ack.Method, ack.Get("CSeq"))
	}
	inv2, _ := proxy.read()
	cr, err := digest.ParseCredentials(inv2.Get("Proxy-Authorization"))
	if inv2.Method != "INVITE" || inv2.Get("CSeq") != "2 INVITE" || err != nil || !cr.Verify("INVITE", "pw") || cr.Nonce != ch.Nonce {
		t.Fatalf("second INVITE: %s %v", inv2.Get("CSeq"), err)
	}
	if inv2.Get("Call-ID") != inv.Get("Call-ID") || inv2.Get("From") != inv.Get("From") {
		t.Fatal("authenticated INVITE changed Call-ID or From")
	}
	busy := sipmsg.NewResponse(inv2, 486, "")
	busy.Set("To", inv2.Get("To")+";tag=p2")
	proxy.send(busy, from)
	if e := expect(t, ua, CallEnded); e.Code != 486 || e.Call != id {
		t.Fatalf("ended %+v", e)
	}
	if ack, _ := proxy.read(); ack.Method != "ACK" || ack.Get("CSeq") != "2 ACK" {
		t.Fatalf("want ACK of the 486, got %s", ack.Method)
	}
}

// TestIncomingViaProxy: a call arriving through a record-routing proxy. The
// 200 is retransmitted until the ACK (13.3.1.4) and the BYE goes to the
// proxy with the route set, aimed at the caller's Contact (12.2.1.1).
func TestIncomingViaProxy(t *testing.T) {
	proxy := newPeer(t)
	ua, _ := startUA(t, LineConfig{User: "1002", Domain: "pbx.example", OutboundProxy: proxy.addr()})
	sdpBody := "v=0\r\no=- 1 1 IN IP4 10.0.2.15\r\ns=-\r\nc=IN IP4 10.0.2.15\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0\r\na=ptime:20\r\n"
	inv := sipmsg.NewRequest("INVITE", target(ua, "1002"))
	inv.Add("Via", "SIP/2.0/UDP "+proxy.addr()+";branch="+sipmsg.NewBranch()+";rport")
	inv.Add("Via", "SIP/2.0/UDP 10.0.2.15:5060;branch=z9hG4bKcaller;received=10.0.2.2;rport=40000")
	inv.Add("Record-Route", "<sip:"+proxy.addr()+";lr>")
	inv.Add("Max-Forwards", "69")
	inv.Add("From", `"Alice" <sip:1001@pbx.example>;tag=al`)
	inv.Add("To", "<sip:1002@pbx.example>")
	inv.Add("Call-ID", "via-proxy-1")
	inv.Add("CSeq", "1 INVITE")
	inv.Add("Contact", "<sip:1001@10.0.2.15:5060>")
	inv.Add("Content-Type", "application/sdp")
	inv.Body = []byte(sdpBody)
	proxy.send(inv, ua.LocalAddr())
	if r, _ := proxy.read(); r.StatusCode != 100 {
		t.Fatalf("first response %d", r.StatusCode)
	}
	in := expect(t, ua, CallIncoming)
	if in.Peer != "Alice" || in.Remote.Host != "10.0.2.15" || in.Remote.Codecs[0] != "PCMA" {
		t.Fatalf("incoming %+v %+v", in, in.Remote)
	}
	rm, err := ua.Answer(in.Call, media(20000, "PCMU", "PCMA"))
	if err != nil || rm.Codecs[0] != "PCMU" || rm.Port != 4000 {
		t.Fatalf("Answer %+v %v", rm, err)
	}
	expect(t, ua, CallAnswered)
	ok1, _ := proxy.read()
	ok2, _ := proxy.read() // not ACKed yet: retransmitted at T1
	for _, ok := range []*sipmsg.Message{ok1, ok2} {
		if ok.StatusCode != 200 || len(ok.GetAll("Via")) != 2 || ok.Get("Record-Route") == "" || ok.Get("Contact") == "" {
			t.Fatalf("200: %s", ok)
		}
	}
	to, _ := sipmsg.ParseNameAddr(ok1.Get("To"))
	tag, _ := to.Param("tag")
	if tag == "" || ok2.Get("To") != ok1.Get("To") {
		t.Fatalf("To tags %q %q", ok1.Get("To"), ok2.Get("To"))
	}
	ans, _ := sdpParse(ok1.Body)
	if ans != "PCMU" {
		t.Fatalf("answer codec %q", ans)
	}
	contact, _ := sipmsg.ParseNameAddr(ok1.Get("Contact"))
	ack := sipmsg.NewRequest("ACK", contact.URI.String())
	ack.Add("Via", "SIP/2.0/UDP "+proxy.addr()+";branch="+sipmsg.NewBranch())
	ack.Add("From", inv.Get("From"))
	ack.Add("To", ok1.Get("To"))
	ack.Add("Call-ID", "via-proxy-1")
	ack.Add("CSeq", "1 ACK")
	proxy.send(ack, ua.LocalAddr())
	if err := ua.Hangup(in.Call); err != nil {
		t.Fatal(err)
	}
	var bye *sipmsg.Message
	var from *net.UDPAddr
	for bye == nil { // a 200 retransmission may cross the ACK
		m, f := proxy.read()
		if m.Method == "BYE" {
			bye, from = m, f
		} else if m.StatusCode != 200 {
			t.Fatalf("want BYE, got %d %s", m.StatusCode, m.Method)
		}
	}
	if bye.RequestURI != "sip:1001@10.0.2.15:5060" || bye.Get("Route") != "<sip:"+proxy.addr()+";lr>" ||
		bye.Get("To") != inv.Get("From") || bye.Get("Call-ID") != "via-proxy-1" {
		t.Fatalf("BYE:\n%s", bye)
	}
	if f, _ := sipmsg.ParseNameAddr(bye.Get("From")); func() string { v, _ := f.Param("tag"); return v }() != tag {
		t.Fatalf("BYE From tag, want %q: %s", tag, bye.Get("From"))
	}
	proxy.send(sipmsg.NewResponse(bye, 200, ""), from)
	if e := expect(t, ua, CallEnded); e.Code != 200 {
		t.Fatalf("ended %+v", e)
	}
}

func sdpParse(b []byte) (string, error) {
	for _, l := range strings.Split(string(b), "\r\n") {
		if strings.HasPrefix(l, "a=rtpmap:") {
			f := strings.Fields(l)
			name, _, _ := strings.Cut(f[1], "/")
			return name, nil
		}
	}
	return "", errors.New("no rtpmap")
}

// TestCancelThroughProxy: early media from a 183 with SDP, then CANCEL (sent
// at once, or held until the first provisional when hung up before one).
func TestCancelThroughProxy(t *testing.T) {
	for _, early := range []bool{true, false} {
		t.Run(fmt.Sprint("early=", early), func(t *testing.T) {
			proxy := newPeer(t)
			ua, _ := startUA(t, LineConfig{User: "1001", Domain: "pbx.example", OutboundProxy: proxy.addr()})
			id, err := ua.Dial(1, "1002", media(10000, "PCMU", "PCMA"))
			if err != nil {
				t.Fatal(err)
			}
			inv, from := proxy.read()
			if !early {
				if err := ua.Hangup(id); err != nil { // before any provisional: CANCEL must wait (9.1)
					t.Fatal(err)
				}
			}
			r := sipmsg.NewResponse(inv, 183, "")
			r.Set("To", inv.Get("To")+";tag=t1")
			r.Add("Contact", "<sip:1002@127.0.0.1:1>")
			r.Add("Content-Type", "application/sdp")
			r.Body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8\r\n")
			proxy.send(r, from)
			if early {
				e := expect(t, ua, CallProgress)
				if e.Code != 183 || e.Remote == nil || e.Remote.Port != 30000 || e.Remote.Codecs[0] != "PCMA" {
					t.Fatalf("progress %+v %+v", e, e.Remote)
				}
				if err := ua.Hangup(id); err != nil {
					t.Fatal(err)
				}
			}
			cancel, _ := proxy.read()
			if cancel.Method != "CANCEL" || cancel.RequestURI != inv.RequestURI || cancel.Get("Via") != inv.Get("Via") ||
				cancel.Get("CSeq") != "1 CANCEL" || cancel.Get("To") != inv.Get("To") {
				t.Fatalf("CANCEL:\n%s", cancel)
			}
			proxy.send(sipmsg.NewResponse(cancel, 200, ""), from)
			term := sipmsg.NewResponse(inv, 487, "")
			term.Set("To", inv.Get("To")+";tag=t1")
			proxy.send(term, from)
			if e := expect(t, ua, CallEnded); e.Code != 487 || e.Call != id {
				t.Fatalf("ended %+v", e)
			}
			if ack, _ := proxy.read(); ack.Method != "ACK" || ack.Get("CSeq") != "1 ACK" {
				t.Fatalf("want ACK of the 487, got %s", ack.Method)
			}
		})
	}
}

// TestMalformedRequests: a request that fails to parse gets the response RFC
// 4475 asks for when it can be addressed, junk is dropped, and the UA keeps
// answering afterwards.
func TestMalformedRequests(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	p := newPeer(t)
	raw := func(s string) {
		if _, err := p.conn.WriteToUDP([]byte(strings.ReplaceAll(s, "\n", "\r\n")), a.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	head := "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-%s;rport\nFrom: <sip:x@127.0.0.1>;tag=1\nTo: <sip:1001@127.0.0.1>\nCall-ID: %s@x\nCSeq: 1 OPTIONS\n"
	for _, tc := range []struct {
		name, msg string
		code      int
	}{
		{"bad version", "OPTIONS sip:1001@127.0.0.1 SIP/7.0\n" + fmt.Sprintf(head, "v", "v") + "Content-Length: 0\n\n", 505},
		{"bad content length", "OPTIONS sip:1001@127.0.0.1 SIP/2.0\n" + fmt.Sprintf(head, "cl", "cl") + "Content-Length: 9999\n\nshort", 400},
	} {
		raw("\x00\x01 not SIP at all\n\n") // dropped
		raw(tc.msg)
		r, _ := p.read()
		if r.StatusCode != tc.code {
			t.Fatalf("%s: got %d, want %d", tc.name, r.StatusCode, tc.code)
		}
	}
	// Still answering.
	req := sipmsg.NewRequest("OPTIONS", target(a, "1001"))
	req.Add("Via", "SIP/2.0/UDP 127.0.0.1:5999;branch="+sipmsg.NewBranch()+";rport")
	req.Add("From", "<sip:x@127.0.0.1>;tag=1")
	req.Add("To", "<sip:1001@127.0.0.1>")
	req.Add("Call-ID", sipmsg.NewCallID(""))
	req.Add("CSeq", "2 OPTIONS")
	p.send(req, a.LocalAddr())
	if r, _ := p.read(); r.StatusCode != 200 {
		t.Fatalf("after malformed input: %d", r.StatusCode)
	}
}

// TestNotifyCheckSync: NOTIFY with Event: check-sync is answered 200 and
// reported for its line; other events are answered and not reported.
func TestNotifyCheckSync(t *testing.T) {
	got := make(chan int, 4)
	ua, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1001"}, {User: "1002"}},
		OnCheckSync: func(line int) { got <- line }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := ua.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	p := newPeer(t)
	for i, tc := range []struct {
		user, event string
		line        int // 0: not reported
	}{{"1002", "check-sync;reboot=false", 2}, {"1001", "message-summary", 0}, {"1001", "Check-Sync", 1}} {
		req := sipmsg.NewRequest("NOTIFY", target(ua, tc.user))
		req.Add("Via", "SIP/2.0/UDP 127.0.0.1:5999;branch="+sipmsg.NewBranch()+";rport")
		req.Add("From", "<sip:pbx@127.0.0.1>;tag=1")
		req.Add("To", "<sip:"+tc.user+"@127.0.0.1>")
		req.Add("Call-ID", sipmsg.NewCallID(""))
		req.Add("CSeq", fmt.Sprint(i+1)+" NOTIFY")
		req.Add("Event", tc.event)
		p.send(req, ua.LocalAddr())
		if r, _ := p.read(); r.StatusCode != 200 {
			t.Fatalf("%s: %d", tc.event, r.StatusCode)
		}
		if tc.line != 0 {
			if l := <-got; l != tc.line {
				t.Fatalf("%s: reported line %d, want %d", tc.event, l, tc.line)
			}
		}
	}
	if len(got) != 0 {
		t.Fatalf("message-summary reported as check-sync")
	}
}

// TestRedirect: the phone forwards an unanswered call with 302, a Contact
// for the target on its line's domain and a Diversion naming the line.
func TestRedirect(t *testing.T) {
	b, _ := startUA(t, LineConfig{User: "1002", Domain: "pbx.test"})
	p := newPeer(t)
	inv := sipmsg.NewRequest("INVITE", target(b, "1002"))
	inv.Add("Via", "SIP/2.0/UDP 127.0.0.1:5999;branch="+sipmsg.NewBranch()+";rport")
	inv.Add("From", "\"Alice\" <sip:1001@127.0.0.1>;tag=a1")
	inv.Add("To", "<sip:1002@pbx.test>")
	inv.Add("Call-ID", sipmsg.NewCallID(""))
	inv.Add("CSeq", "1 INVITE")
	inv.Add("Contact", "<sip:1001@127.0.0.1:5999>")
	inv.Add("Content-Type", "application/sdp")
	inv.Body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	p.send(inv, b.LocalAddr())
	in := expect(t, b, CallIncoming)
	if in.Peer != "Alice" || in.Number != "1001" {
		t.Fatalf("caller shown as %q, number %q", in.Peer, in.Number)
	}
	if err := b.Redirect(in.Call, "8000", "no-answer"); err != nil {
		t.Fatal(err)
	}
	for {
		r, _ := p.read()
		if r.StatusCode < 200 {
			continue
		}
		if r.StatusCode != 302 || r.Get("Contact") != "<sip:8000@pbx.test>" || r.Get("Diversion") != "<sip:1002@pbx.test>;reason=no-answer" {
			t.Fatalf("got %d Contact %q Diversion %q", r.StatusCode, r.Get("Contact"), r.Get("Diversion"))
		}
		break
	}
	if e := expect(t, b, CallEnded); e.Code != 302 {
		t.Fatalf("ended %+v", e)
	}
	if err := b.Redirect(in.Call, "8000", ""); err == nil {
		t.Fatal("redirect of an ended call accepted")
	}
}

func TestMessageSummary(t *testing.T) {
	for _, tc := range []struct {
		body     string
		waiting  bool
		new, old int
	}{
		{"Messages-Waiting: yes\r\nMessage-Account: sip:8000@pbx\r\nVoice-Message: 2/8 (0/2)\r\n", true, 2, 8},
		{"Messages-Waiting: no\r\nVoice-Message: 0/3\r\n", false, 0, 3},
		{"messages-waiting:YES\n", true, 0, 0},
		{"", false, 0, 0},
	} {
		w, n, o := messageSummary([]byte(tc.body))
		if w != tc.waiting || n != tc.new || o != tc.old {
			t.Errorf("%q: %v %d/%d", tc.body, w, n, o)
		}
	}
}

// TestRequestsBeforeACK: a callee that transfers, or puts the call on
// hold, before the caller's ACK has come holds the REFER or re-INVITE until
// the ACK (RFC 3261 15, 14.2), then sends it.
func TestRequestsBeforeACK(t *testing.T) {
	for _, tc := range []struct {
		name   string
		act    func(b *UA, id CallID) error
		method string
		check  func(m *sipmsg.Message) bool
	}{
		{"transfer", func(b *UA, id CallID) error { return b.Transfer(id, "1003") }, "REFER",
			func(m *sipmsg.Message) bool { return strings.Contains(m.Get("Refer-To"), "sip:1003@") }},
		{"hold", func(b *UA, id CallID) error { return b.Hold(id, true) }, "INVITE",
			func(m *sipmsg.Message) bool { return strings.Contains(string(m.Body), "a=sendonly") }},
	} {
		t.Run(tc.name, func(t *testing.T) { requestBeforeACK(t, tc.act, tc.method, tc.check) })
	}
}

func requestBeforeACK(t *testing.T, act func(b *UA, id CallID) error, method string, check func(*sipmsg.Message) bool) {
	b, _ := startUA(t, LineConfig{User: "1002", Domain: "pbx.test"})
	p := newPeer(t)
	inv := sipmsg.NewRequest("INVITE", target(b, "1002"))
	inv.Add("Via", "SIP/2.0/UDP "+p.conn.LocalAddr().String()+";branch="+sipmsg.NewBranch()+";rport")
	inv.Add("From", "<sip:1001@127.0.0.1>;tag=a1")
	inv.Add("To", "<sip:1002@127.0.0.1>")
	inv.Add("Call-ID", sipmsg.NewCallID(""))
	inv.Add("CSeq", "1 INVITE")
	inv.Add("Contact", "<sip:1001@"+p.conn.LocalAddr().String()+">")
	inv.Add("Content-Type", "application/sdp")
	inv.Body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	p.send(inv, b.LocalAddr())
	in := expect(t, b, CallIncoming)
	if _, err := b.Answer(in.Call, media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	var ok *sipmsg.Message
	for ok == nil {
		if r, _ := p.read(); r.StatusCode == 200 {
			ok = r
		}
	}
	if err := act(b, in.Call); err != nil {
		t.Fatalf("%s before the ACK: %v", method, err)
	}
	// Nothing but 200 retransmissions until the ACK.
	p.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 65535)
	for {
		n, _, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if m, err := sipmsg.Parse(buf[:n]); err == nil && m.IsRequest() {
			t.Fatalf("%s before the ACK", m.Method)
		}
	}
	p.conn.SetReadDeadline(time.Time{})
	ack := sipmsg.NewRequest("ACK", target(b, "1002"))
	ack.Add("Via", "SIP/2.0/UDP "+p.conn.LocalAddr().String()+";branch="+sipmsg.NewBranch()+";rport")
	ack.Add("From", inv.Get("From"))
	ack.Add("To", ok.Get("To"))
	ack.Add("Call-ID", inv.Get("Call-ID"))
	ack.Add("CSeq", "1 ACK")
	p.send(ack, b.LocalAddr())
	for {
		m, _ := p.read()
		if m.IsRequest() {
			if m.Method != method || !check(m) {
				t.Fatalf("after the ACK: %s", m)
			}
			break
		}
	}
}
