package sipua

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// fakeDNS answers A queries on 127.0.0.1 with 127.0.0.1 and TTL 0 (so
// nothing is cached and every attempt looks the name up again), until
// hold: then it keeps the queries unanswered (held is nudged for each)
// until fail answers them, and every later one, SERVFAIL.
type fakeDNS struct {
	t    *testing.T
	conn *net.UDPConn
	held chan struct{}

	mu      sync.Mutex
	mode    int // 0 answer, 1 hold, 2 SERVFAIL
	pending []heldQuery
}

type heldQuery struct {
	b    []byte
	from *net.UDPAddr
}

func newFakeDNS(t *testing.T) *fakeDNS {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDNS{t: t, conn: c, held: make(chan struct{}, 16)}
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
	if rc == dnsmessage.RCodeSuccess && qq.Type == dnsmessage.TypeA {
		_ = b.AResource(dnsmessage.ResourceHeader{Name: qq.Name, Class: dnsmessage.ClassINET, TTL: 0},
			dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
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
	dns := newFakeDNS(t)
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
