package sipua

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/deskphone/deskphone/sipua/resolve"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// fakeDNS answers queries on 127.0.0.1 from zone (nil: A queries with
// 127.0.0.1 and TTL 0, so nothing is cached and every attempt looks the
// name up again; no records is a NOERROR with none), until hold: then it
// keeps the queries unanswered (held is nudged for each) until fail
// answers them, and every later one, SERVFAIL.
type fakeDNS struct {
	t    *testing.T
	conn *net.UDPConn
	held chan struct{}
	zone func(q dnsmessage.Question) []dnsmessage.Resource

	mu      sync.Mutex
	mode    int // 0 answer, 1 hold, 2 SERVFAIL
	pending []heldQuery
}

type heldQuery struct {
	b    []byte
	from *net.UDPAddr
}

func newFakeDNS(t *testing.T, zone func(q dnsmessage.Question) []dnsmessage.Resource) *fakeDNS {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if zone == nil {
		zone = func(q dnsmessage.Question) []dnsmessage.Resource {
			if q.Type != dnsmessage.TypeA {
				return nil
			}
			return []dnsmessage.Resource{{Header: dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET},
				Body: &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}}}}
		}
	}
	d := &fakeDNS{t: t, conn: c, held: make(chan struct{}, 16), zone: zone}
	t.Cleanup(func() { c.Close() })
	go d.serve()
	return d
}

func (d *fakeDNS) addr() string { return d.conn.LocalAddr().String() }

func (d *fakeDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		q := append([]byte(nil), buf[:n]...)
		d.mu.Lock()
		mode := d.mode
		if mode == 1 {
			d.pending = append(d.pending, heldQuery{q, from})
		}
		d.mu.Unlock()
		switch mode {
		case 0:
			d.answer(q, from, dnsmessage.RCodeSuccess)
		case 1:
			d.held <- struct{}{}
		default:
			d.answer(q, from, dnsmessage.RCodeServerFailure)
		}
	}
}

func (d *fakeDNS) hold() {
	d.mu.Lock()
	d.mode = 1
	d.mu.Unlock()
}

func (d *fakeDNS) fail() {
	d.mu.Lock()
	d.mode = 2
	p := d.pending
	d.pending = nil
	d.mu.Unlock()
	for _, q := range p {
		d.answer(q.b, q.from, dnsmessage.RCodeServerFailure)
	}
}

func (d *fakeDNS) answer(q []byte, to *net.UDPAddr, rc dnsmessage.RCode) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return
	}
	qq, err := p.Question()
	if err != nil {
		return
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: rc})
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(qq)
	_ = b.StartAnswers()
	if rc == dnsmessage.RCodeSuccess {
		for _, r := range d.zone(qq) {
			var err error
			switch body := r.Body.(type) {
			case *dnsmessage.AResource:
				err = b.AResource(r.Header, *body)
			case *dnsmessage.SRVResource:
				err = b.SRVResource(r.Header, *body)
			}
			if err != nil {
				d.t.Errorf("fake DNS: %v", err)
			}
		}
	}
	out, err := b.Finish()
	if err != nil {
		d.t.Errorf("fake DNS: %v", err)
		return
	}
	_, _ = d.conn.WriteToUDP(out, to)
}

// logWatch passes a UA's log to t and nudges seen when a line holds want.
type logWatch struct {
	t    *testing.T
	want string
	seen chan struct{}
}

func (w *logWatch) logf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	w.t.Log(s)
	if strings.Contains(s, w.want) {
		select {
		case w.seen <- struct{}{}:
		default:
		}
	}
}

// TestRegisterLookupSuperseded: a refresh waits for the registrar's
// records (expired: TTL 0) when Close unregisters; the unREGISTER goes at
// once, with the targets known. The refresh's lookup then ends: the
// superseded refresh must not be sent (it would replace the unREGISTER,
// whose 200 would then be dropped, and bind the contact again).
func TestRegisterLookupSuperseded(t *testing.T) {
	dns := newFakeDNS(t, nil)
	reg := newPeer(t)
	_, port, _ := net.SplitHostPort(reg.addr())
	w := &logWatch{t: t, want: "keeping", seen: make(chan struct{}, 1)}
	ua, err := New(Config{Listen: "127.0.0.1:0", DNSServers: []string{dns.addr()}, Logf: w.logf,
		Lines: []LineConfig{{User: "1001", Registrar: "reg.test:" + port, Expires: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	defer ua.Close()
	okTo := func(m *sipmsg.Message, from *net.UDPAddr) {
		r := sipmsg.NewResponse(m, 200, "")
		r.Set("To", m.Get("To")+";tag=reg")
		r.Add("Contact", m.Get("Contact")+";expires="+m.Get("Expires"))
		reg.send(r, from)
	}
	m, from := reg.read()
	dns.hold() // the refresh (at half of 1 s) waits for DNS
	okTo(m, from)
	if e := expect(t, ua, RegChanged); e.RegText() != "registered" {
		t.Fatalf("reg %+v", e)
	}
	select {
	case <-dns.held:
	case <-time.After(deadline):
		t.Fatal("the refresh did not look the registrar up")
	}
	go func() { ua.Close(); close(closed) }()
	un, from := reg.read()
	if un.Method != "REGISTER" || un.Get("Expires") != "0" {
		t.Fatalf("Close sent %s Expires %q", un.Method, un.Get("Expires"))
	}
	dns.fail() // the refresh's lookup ends (SERVFAIL): it keeps the known target
	select {
	case <-w.seen:
	case <-time.After(deadline):
		t.Fatal("the refresh's lookup did not end")
	}
	okTo(un, from)
	select {
	case <-closed:
	case <-time.After(deadline):
		t.Fatal("Close did not return")
	}
	// everything the UA sent is in reg's socket by now
	_ = reg.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 65535)
	for {
		n, _, err := reg.conn.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if m, err := sipmsg.Parse(buf[:n]); err == nil && m.Method == "REGISTER" {
			t.Errorf("REGISTER Expires %s after the unREGISTER", m.Get("Expires"))
		}
	}
	var states []string
	for e := range ua.Events() {
		states = append(states, e.RegText())
	}
	if len(states) != 1 || states[0] != "unregistered" {
		t.Fatalf("events after Close: %q", states)
	}
}

// twoServers is the zone of pbx.test with SRV records for UDP at priority
// 10 to a.pbx.test:portA and 20 to b.pbx.test:portB, both 127.0.0.1.
func twoServers(portA, portB int) func(q dnsmessage.Question) []dnsmessage.Resource {
	return func(q dnsmessage.Question) []dnsmessage.Resource {
		h := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
		switch {
		case q.Type == dnsmessage.TypeSRV && q.Name.String() == "_sip._udp.pbx.test.":
			return []dnsmessage.Resource{
				{Header: h, Body: &dnsmessage.SRVResource{Priority: 10, Port: uint16(portA), Target: dnsmessage.MustNewName("a.pbx.test.")}},
				{Header: h, Body: &dnsmessage.SRVResource{Priority: 20, Port: uint16(portB), Target: dnsmessage.MustNewName("b.pbx.test.")}},
			}
		case q.Type == dnsmessage.TypeA && strings.HasSuffix(q.Name.String(), ".pbx.test."):
			return []dnsmessage.Resource{{Header: h, Body: &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}}}}
		}
		return nil
	}
}

// readRequest is p's next request (responses, ACKs and keepalives skipped).
func readRequest(p *peer) *sipmsg.Message {
	p.t.Helper()
	for {
		m, _ := p.read()
		if m.IsRequest() && m.Method != "ACK" {
			return m
		}
	}
}

// TestFailoverTogether: a REGISTER and an INVITE of one line are both at
// server A (SRV priority 10) when it answers each 503. The REGISTER fails
// over to B (20) first; the INVITE then must go to B too: it failed at A,
// not at B, where the line now is (marking B failed and going back to A
// would send the call to the server that just refused it, and end it).
func TestFailoverTogether(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	portA, portB := a.conn.LocalAddr().(*net.UDPAddr).Port, b.conn.LocalAddr().(*net.UDPAddr).Port
	dns := newFakeDNS(t, twoServers(portA, portB))
	ua, err := New(Config{Listen: "127.0.0.1:0", DNSServers: []string{dns.addr()}, Logf: t.Logf,
		Lines: []LineConfig{{User: "1001", Registrar: "pbx.test", Transport: "udp", Expires: 60}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	// answer sends m's sender a response (no t.Fatal: goroutines use it)
	answer := func(p *peer, m *sipmsg.Message, code int) {
		r := sipmsg.NewResponse(m, code, "")
		r.Set("To", m.Get("To")+";tag=srv")
		if code == 200 {
			r.Add("Contact", m.Get("Contact")+";expires="+m.Get("Expires"))
		}
		v, _ := sipmsg.ParseVia(m.Get("Via"))
		_, _ = p.conn.WriteToUDP(r.AppendTo(nil), &net.UDPAddr{IP: net.ParseIP(v.Host), Port: v.Port})
	}
	reg := readRequest(a)
	if reg.Method != "REGISTER" {
		t.Fatalf("A got %s first", reg.Method)
	}
	if _, err := ua.Dial(1, "1002", media(4000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	inv := readRequest(a)
	if inv.Method != "INVITE" {
		t.Fatalf("A got %s, want the INVITE", inv.Method)
	}
	answer(a, reg, 503)
	reg2 := readRequest(b)
	if reg2.Method != "REGISTER" {
		t.Fatalf("B got %s, want the REGISTER", reg2.Method)
	}
	answer(b, reg2, 200)
	if e := expect(t, ua, RegChanged); e.RegText() != "registered" {
		t.Fatalf("reg %+v", e)
	}
	answer(a, inv, 503)
	got := make(chan *sipmsg.Message, 2)
	go func() {
		_ = a.conn.SetReadDeadline(time.Now().Add(deadline))
		buf := make([]byte, 65535)
		for {
			n, _, err := a.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if m, err := sipmsg.Parse(buf[:n]); err == nil && m.Method == "INVITE" {
				got <- m
				return
			}
		}
	}()
	inv2 := readRequest(b)
	if inv2.Method != "INVITE" || inv2.Get("Call-ID") != inv.Get("Call-ID") {
		t.Fatalf("B got %s %s, want the INVITE", inv2.Method, inv2.Get("Call-ID"))
	}
	select {
	case m := <-got:
		t.Fatalf("the INVITE went to A again: %s", m.AppendTo(nil))
	default:
	}
	answer(b, inv2, 486)
	go func() { // B answers the unREGISTER of Close
		buf := make([]byte, 65535)
		for {
			n, _, err := b.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if m, err := sipmsg.Parse(buf[:n]); err == nil && m.Method == "REGISTER" {
				answer(b, m, 200)
			}
		}
	}()
	// B, not A, is where the line's requests go; A is the one marked failed
	var cur string
	ua.do(func() error {
		t, _ := ua.lines[0].reg.target()
		cur = t.Addr.String()
		return nil
	})
	if want := b.addr(); cur != want {
		t.Errorf("the line's registrar is %s, want B %s", cur, want)
	}
	if ts, ok := ua.res.Cached(ua.lines[0].reg.uri); !ok || ts[0].Addr.String() != b.addr() {
		t.Errorf("resolver order %v, want B first", ts)
	}
}

// TestServerStaysOnWorkingTarget: a line that failed over to B stays on
// B when its records are resolved again and list A first (the resolver
// has forgotten A failed); it moves only when B is no longer listed.
func TestServerStaysOnWorkingTarget(t *testing.T) {
	a := resolve.Target{Transport: resolve.UDP, Addr: netip.MustParseAddrPort("127.0.0.1:5070")}
	b := resolve.Target{Transport: resolve.UDP, Addr: netip.MustParseAddrPort("127.0.0.1:5080")}
	s := server{targets: []resolve.Target{a, b}, cur: 1}
	s.update([]resolve.Target{a, b})
	if got, _ := s.target(); got != b {
		t.Fatalf("after a new resolution the line uses %v, want %v (it works)", got, b)
	}
	s.update([]resolve.Target{a})
	if got, _ := s.target(); got != a {
		t.Fatalf("B gone: the line uses %v, want %v", got, a)
	}
}

// TestStartWithoutDNS: with the registrar's name unresolvable at boot
// (DNS failing), the UA starts anyway, reports the line failed (503) and
// looks the name up again on its next attempt, which registers once DNS
// answers.
func TestStartWithoutDNS(t *testing.T) {
	dns := newFakeDNS(t, nil)
	dns.fail()
	reg := newPeer(t)
	_, port, _ := net.SplitHostPort(reg.addr())
	ua, err := New(Config{Listen: "127.0.0.1:0", DNSServers: []string{dns.addr()}, Logf: t.Logf,
		Lines: []LineConfig{{User: "1001", Registrar: "reg.test:" + port}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatalf("Start with DNS down: %v", err)
	}
	defer ua.Close()
	if e := expect(t, ua, RegChanged); e.RegState != RegFailed || e.Code != 503 {
		t.Fatalf("reg %+v, want failed 503", e)
	}
	if _, err := ua.Dial(1, "1002", media(10000, "PCMU")); err == nil {
		t.Fatal("Dial through an unresolved registrar succeeded")
	}
	dns.mu.Lock()
	dns.mode = 0 // DNS answers again
	dns.mu.Unlock()
	ua.post(func() { ua.lines[0].register(ua.lines[0].expires) }) // the backoff's retry, now
	m, from := reg.read()
	r := sipmsg.NewResponse(m, 200, "")
	r.Set("To", m.Get("To")+";tag=reg")
	r.Add("Contact", m.Get("Contact")+";expires=600")
	reg.send(r, from)
	if e := expect(t, ua, RegChanged); e.RegState != Registered {
		t.Fatalf("reg %+v, want registered", e)
	}
}
