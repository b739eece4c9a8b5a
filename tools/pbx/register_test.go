package pbx

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

func TestRegister(t *testing.T) {
	p, _ := startPBX(t, nil)
	ph := newPhone(t, p, "1001", "pw1001", "10.0.2.15", "10.0.2.2:5060")
	req := ph.request("REGISTER", "sip:10.0.2.2:5060", "1001")
	req.Set("Expires", "7200")
	ph.send(req)
	chal := ph.expect(401, "REGISTER")
	c, err := digest.ParseChallenge(chal.Get("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Realm != "test" || c.Qop != "auth" || c.Stale || !strings.EqualFold(c.Algorithm, "MD5") {
		t.Errorf("challenge = %+v", c)
	}
	if tag, _ := mustNA(t, chal.Get("To")).Param("tag"); tag == "" {
		t.Error("401 without To tag")
	}
	if p.Registered("1001") {
		t.Fatal("registered before authenticating")
	}
	ph.send(ph.authorize(req, chal))
	ok := ph.expect(200, "REGISTER")
	if got, want := ok.Get("Contact"), "<sip:1001@10.0.2.15:5061>;expires=3600"; got != want {
		t.Errorf("200 Contact = %q, want %q (capped at MaxExpires)", got, want)
	}
	if !p.Registered("1001") || p.Registered("1002") {
		t.Errorf("Registered(1001)=%v Registered(1002)=%v", p.Registered("1001"), p.Registered("1002"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.WaitRegistered(ctx, "1001"); err != nil {
		t.Fatal(err)
	}
	// The binding keeps the flow and the address the phone reached us by.
	var flow, local string
	p.do(func() {
		b := p.st.live("1001", p.now())[0]
		flow, local = b.flow.String(), b.local
	})
	if flow != ph.addr().String() || local != "10.0.2.2:5060" {
		t.Errorf("binding flow %s local %s, want %s and 10.0.2.2:5060", flow, local, ph.addr())
	}
	// The Via got received and rport.
	v, _ := sipmsg.ParseVia(ok.Get("Via"))
	if r, _ := v.Param("received"); r != "127.0.0.1" {
		t.Errorf("received = %q", r)
	}
	if r, _ := v.Param("rport"); r != itoa(ph.addr().Port) {
		t.Errorf("rport = %q", r)
	}
}

func TestWaitRegistered(t *testing.T) {
	p, _ := startPBX(t, nil)
	ph := newPhone(t, p, "1002", "pw1002", "", "")
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errc <- p.WaitRegistered(ctx, "1002")
	}()
	ph.register(3600)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.WaitRegistered(ctx, "1003"); err == nil {
		t.Fatal("WaitRegistered on a cancelled context returned nil")
	}
}

func TestRegisterErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ext, pw string
		expires string
		contact string
		want    int
	}{
		{"unknown extension", "4711", "x", "3600", "", 404},
		{"wrong password", "1001", "nope", "3600", "", 403},
		{"too brief", "1001", "pw1001", "30", "", 423},
		{"too brief in contact", "1001", "pw1001", "", "<sip:1001@127.0.0.1:5999>;expires=59", 423},
		{"bad expires", "1001", "pw1001", "soon", "", 400},
		{"wildcard without expires 0", "1001", "pw1001", "60", "*", 400},
		{"minimum is fine", "1001", "pw1001", "60", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := startPBX(t, nil)
			ph := newPhone(t, p, tc.ext, tc.pw, "", "")
			req := ph.request("REGISTER", "sip:"+ph.pbxHost, tc.ext)
			if tc.expires != "" {
				req.Set("Expires", tc.expires)
			}
			if tc.contact != "" {
				req.Set("Contact", tc.contact)
			}
			ph.send(req)
			if tc.want == 404 {
				ph.expect(404, "REGISTER")
				return
			}
			chal := ph.expect(401, "REGISTER")
			ph.send(ph.authorize(req, chal))
			r := ph.expect(tc.want, "REGISTER")
			if tc.want == 423 && r.Get("Min-Expires") != "60" {
				t.Errorf("423 Min-Expires = %q", r.Get("Min-Expires"))
			}
			if got := p.Registered(tc.ext); got != (tc.want == 200) {
				t.Errorf("Registered = %v", got)
			}
		})
	}
}

func TestUnregisterAndExpiry(t *testing.T) {
	p, clk := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "", "")
	a.register(60)
	clk.Advance(59 * time.Second)
	if !p.Registered("1001") {
		t.Fatal("binding gone before it expired")
	}
	clk.Advance(time.Second)
	if p.Registered("1001") {
		t.Fatal("binding still there after it expired")
	}
	a.register(3600)
	if !p.Registered("1001") {
		t.Fatal("not registered again")
	}
	ok := a.register(0)
	if c := ok.Get("Contact"); c != "" {
		t.Errorf("200 to Expires 0 lists %q", c)
	}
	if p.Registered("1001") {
		t.Fatal("Expires 0 did not remove the binding")
	}
	a.register(3600)
	req := a.request("REGISTER", "sip:"+a.pbxHost, "1001")
	req.Set("Contact", "*")
	req.Set("Expires", "0")
	a.send(req)
	a.send(a.authorize(req, a.expect(401, "REGISTER")))
	a.expect(200, "REGISTER")
	if p.Registered("1001") {
		t.Fatal("Contact * did not remove the binding")
	}
}

func TestNonces(t *testing.T) {
	p, clk := startPBX(t, nil)
	ph := newPhone(t, p, "1001", "pw1001", "", "")
	req := ph.request("REGISTER", "sip:"+ph.pbxHost, "1001")
	ph.send(req)
	chal := ph.expect(401, "REGISTER")

	// A nonce the PBX never issued: a fresh challenge, not stale.
	forged := chal.Clone()
	forged.Set("WWW-Authenticate", `Digest realm="test", nonce="0123456789abcdef", algorithm=MD5, qop="auth"`)
	ph.send(ph.authorize(req, forged))
	r := ph.expect(401, "REGISTER")
	if c, _ := digest.ParseChallenge(r.Get("WWW-Authenticate")); c.Stale {
		t.Error("unknown nonce answered stale=true")
	}

	// The issued nonce, used twice with increasing nc: both accepted.
	c, _ := digest.ParseChallenge(chal.Get("WWW-Authenticate"))
	for i := 0; i < 2; i++ {
		r := ph.authorize(req, chal)
		r.Set("Authorization", c.Authorize("REGISTER", req.RequestURI, "1001", "pw1001"))
		ph.send(r)
		ph.expect(200, "REGISTER")
	}
	// A replayed nonce count: stale.
	r2 := ph.authorize(req, chal)
	r2.Set("Authorization", c.AuthorizeWith("REGISTER", req.RequestURI, "1001", "pw1001", "abc", 1))
	ph.send(r2)
	if c, _ := digest.ParseChallenge(ph.expect(401, "REGISTER").Get("WWW-Authenticate")); !c.Stale {
		t.Error("replayed nc not answered stale=true")
	}
	// An expired nonce: stale.
	clk.Advance(nonceLifetime + time.Second)
	r3 := ph.authorize(req, chal)
	r3.Set("Authorization", c.Authorize("REGISTER", req.RequestURI, "1001", "pw1001"))
	ph.send(r3)
	if c, _ := digest.ParseChallenge(ph.expect(401, "REGISTER").Get("WWW-Authenticate")); !c.Stale {
		t.Error("expired nonce not answered stale=true")
	}
}

func TestRetransmittedRegister(t *testing.T) {
	p, _ := startPBX(t, nil)
	ph := newPhone(t, p, "1001", "pw1001", "", "")
	req := ph.request("REGISTER", "sip:"+ph.pbxHost, "1001")
	ph.send(req)
	chal := ph.expect(401, "REGISTER")
	ph.send(req) // retransmission: the same 401
	again := ph.expect(401, "REGISTER")
	if again.String() != chal.String() {
		t.Errorf("retransmission got a different answer:\n%s\nvs\n%s", again, chal)
	}
	auth := ph.authorize(req, chal)
	ph.send(auth)
	ok := ph.expect(200, "REGISTER")
	ph.send(auth)
	if again := ph.expect(200, "REGISTER"); again.String() != ok.String() {
		t.Errorf("retransmitted REGISTER got a different 200")
	}
}

func mustNA(t *testing.T, s string) sipmsg.NameAddr {
	t.Helper()
	na, err := sipmsg.ParseNameAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return na
}
