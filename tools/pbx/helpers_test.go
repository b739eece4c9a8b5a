package pbx

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// fakeClock is the PBX's replaceable clock in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startPBX runs a PBX on a free loopback port with a fake clock.
func startPBX(t *testing.T, users map[string]string) (*PBX, *fakeClock) {
	t.Helper()
	if users == nil {
		users = map[string]string{"1001": "pw1001", "1002": "pw1002", "1003": "pw1003"}
	}
	return startPBXWith(t, Config{Users: users, NoVoicemailFallback: true})
}

// startPBXWith is startPBX with more of the configuration: Listen, Realm,
// Logf and (when empty) VoicemailDir are filled in.
func startPBXWith(t *testing.T, cfg Config) (*PBX, *fakeClock) {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{"1001": "pw1001", "1002": "pw1002", "1003": "pw1003"}
	}
	cfg.Listen, cfg.Realm, cfg.Logf = "127.0.0.1:0", "test", t.Logf
	if cfg.VoicemailDir == "" {
		cfg.VoicemailDir = t.TempDir()
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	p.now = clk.Now
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, clk
}

// phone is a hand-driven SIP endpoint on a real loopback UDP socket. It
// claims to be at viaHost:5061 (as a phone behind QEMU's NAT does) while its
// real address is the socket's.
type phone struct {
	t       *testing.T
	c       *net.UDPConn
	pbx     *net.UDPAddr
	ext, pw string
	viaHost string // the address the phone believes it has
	pbxHost string // how the phone addresses the PBX (10.0.2.2:port behind NAT)
	callID  string
	seq     uint32
	tag     string
}

func newPhone(t *testing.T, p *PBX, ext, pw, viaHost, pbxHost string) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if pbxHost == "" {
		pbxHost = p.Addr().String()
	}
	return &phone{t: t, c: c, pbx: p.Addr(), ext: ext, pw: pw, viaHost: viaHost, pbxHost: pbxHost,
		callID: sipmsg.NewCallID("test"), tag: sipmsg.NewTag()}
}

func (ph *phone) addr() *net.UDPAddr { return ph.c.LocalAddr().(*net.UDPAddr) }

// contact is what the phone puts in Contact: its believed address.
func (ph *phone) contact() string {
	if ph.viaHost == "" {
		return "sip:" + ph.ext + "@" + ph.addr().String()
	}
	return "sip:" + ph.ext + "@" + ph.viaHost + ":5061"
}

func (ph *phone) sentBy() string {
	if ph.viaHost == "" {
		return ph.addr().String()
	}
	return ph.viaHost + ":5061"
}

// request builds an out-of-dialog request from this phone.
func (ph *phone) request(method, ruri, to string) *sipmsg.Message {
	ph.seq++
	m := sipmsg.NewRequest(method, ruri)
	m.Add("Via", "SIP/2.0/UDP "+ph.sentBy()+";branch="+sipmsg.NewBranch()+";rport")
	m.Add("Max-Forwards", "70")
	m.Add("From", "<sip:"+ph.ext+"@"+ph.pbxHost+">;tag="+ph.tag)
	m.Add("To", "<sip:"+to+"@"+ph.pbxHost+">")
	m.Add("Call-ID", ph.callID)
	m.Add("CSeq", fmt.Sprintf("%d %s", ph.seq, method))
	m.Add("Contact", "<"+ph.contact()+">")
	return m
}

func (ph *phone) send(m *sipmsg.Message) { ph.sendTo(m, ph.pbx) }

func (ph *phone) sendTo(m *sipmsg.Message, to *net.UDPAddr) {
	ph.t.Helper()
	if _, err := ph.c.WriteToUDP(m.AppendTo(nil), to); err != nil {
		ph.t.Fatal(err)
	}
}

// recv waits (with a deadline) for the next message.
func (ph *phone) recv() (*sipmsg.Message, *net.UDPAddr) {
	ph.t.Helper()
	buf := make([]byte, 65535)
	ph.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := ph.c.ReadFromUDP(buf)
	if err != nil {
		ph.t.Fatalf("%s: waiting for a message: %v", ph.ext, err)
	}
	m, err := sipmsg.Parse(buf[:n])
	if err != nil {
		ph.t.Fatalf("%s: %v", ph.ext, err)
	}
	return m, from
}

// expect receives the next message and checks its status code (0: a
// request, whose method is checked).
func (ph *phone) expect(code int, method string) *sipmsg.Message {
	ph.t.Helper()
	m, _ := ph.recv()
	if code == 0 {
		if m.Method != method {
			ph.t.Fatalf("%s: got %q, want a %s request", ph.ext, startLine(m), method)
		}
		return m
	}
	_, meth, _ := m.CSeq()
	if m.StatusCode != code || meth != method {
		ph.t.Fatalf("%s: got %q (%s), want %d to %s\n%s", ph.ext, startLine(m), meth, code, method, m)
	}
	return m
}

// authorize answers a 401/407 by resending req with credentials.
func (ph *phone) authorize(req, chal *sipmsg.Message) *sipmsg.Message {
	ph.t.Helper()
	hdr, cred := "WWW-Authenticate", "Authorization"
	if chal.StatusCode == 407 {
		hdr, cred = "Proxy-Authenticate", "Proxy-Authorization"
	}
	c, err := digest.ParseChallenge(chal.Get(hdr))
	if err != nil {
		ph.t.Fatal(err)
	}
	r := req.Clone()
	ph.seq++
	r.Set("CSeq", fmt.Sprintf("%d %s", ph.seq, req.Method))
	r.Set("Via", "SIP/2.0/UDP "+ph.sentBy()+";branch="+sipmsg.NewBranch()+";rport")
	r.Set(cred, c.Authorize(req.Method, req.RequestURI, ph.ext, ph.pw))
	return r
}

// register registers the phone (401 then 200) and returns the 200.
func (ph *phone) register(expires int) *sipmsg.Message {
	ph.t.Helper()
	req := ph.request("REGISTER", "sip:"+ph.pbxHost, ph.ext)
	req.Set("Expires", fmt.Sprint(expires))
	ph.send(req)
	chal := ph.expect(401, "REGISTER")
	ph.send(ph.authorize(req, chal))
	return ph.expect(200, "REGISTER")
}

// answer builds a response to req from this phone (as a UAS does).
func (ph *phone) answer(req *sipmsg.Message, code int, reason, toTag string) *sipmsg.Message {
	r := sipmsg.NewResponse(req, code, reason)
	if toTag != "" && !strings.Contains(r.Get("To"), "tag=") {
		r.Set("To", r.Get("To")+";tag="+toTag)
	}
	if code >= 200 && code < 300 {
		r.Add("Contact", "<"+ph.contact()+">")
	}
	return r
}

// sync makes sure the PBX has handled everything sent before: an OPTIONS
// to the PBX itself is answered in order.
func (ph *phone) sync() {
	ph.t.Helper()
	ph.send(ph.request("OPTIONS", "sip:"+ph.pbxHost, ph.ext))
	ph.expect(200, "OPTIONS")
}

// outs returns the summaries of messages the PBX sent to addr since entry i.
func outs(p *PBX, addr *net.UDPAddr, from int) []string {
	var s []string
	for _, e := range p.Ladder()[from:] {
		if e.Dir == "out" && e.Peer.String() == addr.String() {
			s = append(s, e.Summary)
		}
	}
	return s
}
