package digest

import (
	"errors"
	"strings"
	"testing"
)

// RFC 2617 section 3.5.
const rfcChallenge = `Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"`

func TestRFC2617Vector(t *testing.T) {
	c, err := ParseChallenge(rfcChallenge)
	if err != nil {
		t.Fatal(err)
	}
	if c.Realm != "testrealm@host.com" || c.Qop != "auth" || c.Opaque != "5ccc069c403ebaf9f0171e9517f40e41" {
		t.Fatalf("parsed %+v", c)
	}
	got := c.AuthorizeWith("GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b", 1)
	want := `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001, cnonce="0a4f113b"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	cr, err := ParseCredentials(got)
	if err != nil {
		t.Fatal(err)
	}
	if !cr.Verify("GET", "Circle Of Life") || cr.Verify("GET", "wrong") || cr.Verify("POST", "Circle Of Life") {
		t.Fatal("Verify")
	}
}

func TestNoQop(t *testing.T) {
	c, err := ParseChallenge(`Digest realm="asterisk",nonce="1cbd3a1b",algorithm=MD5`)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Authorize("REGISTER", "sip:10.0.2.2", "1001", "secret")
	if strings.Contains(a, "nc=") || strings.Contains(a, "cnonce") {
		t.Fatalf("no-qop answer has nc/cnonce: %s", a)
	}
	// HA1=md5(1001:asterisk:secret), HA2=md5(REGISTER:sip:10.0.2.2), resp=md5(HA1:nonce:HA2)
	want := md5hex(md5hex("1001:asterisk:secret") + ":1cbd3a1b:" + md5hex("REGISTER:sip:10.0.2.2"))
	if !strings.Contains(a, `response="`+want+`"`) {
		t.Fatalf("response: %s want %s", a, want)
	}
	cr, _ := ParseCredentials(a)
	if !cr.Verify("REGISTER", "secret") {
		t.Fatal("Verify no-qop")
	}
}

func TestNonceCount(t *testing.T) {
	c, _ := ParseChallenge(rfcChallenge)
	c2 := c // copies share the count
	for i, want := range []string{"00000001", "00000002", "00000003"} {
		cc := c
		if i == 1 {
			cc = c2
		}
		cr, err := ParseCredentials(cc.Authorize("INVITE", "sip:a@b", "u", "p"))
		if err != nil || cr.NC != want || !cr.Verify("INVITE", "p") {
			t.Fatalf("call %d: nc %q err %v", i, cr.NC, err)
		}
	}
	d, _ := ParseChallenge(rfcChallenge) // a fresh parse starts over
	cr, _ := ParseCredentials(d.Authorize("INVITE", "sip:a@b", "u", "p"))
	if cr.NC != "00000001" {
		t.Fatalf("fresh challenge nc %q", cr.NC)
	}
}

func TestServerRoundTrip(t *testing.T) {
	s := NewChallenge("pbx.example")
	c, err := ParseChallenge(s.String())
	if err != nil || c.Nonce != s.Nonce || c.Realm != "pbx.example" || c.Qop != "auth" {
		t.Fatalf("%v %+v", err, c)
	}
	if NewChallenge("x").Nonce == s.Nonce {
		t.Fatal("nonces repeat")
	}
	cr, err := ParseCredentials(c.Authorize("REGISTER", "sip:pbx.example", "1001", "pw"))
	if err != nil || !cr.Verify("REGISTER", "pw") || cr.Nonce != s.Nonce {
		t.Fatal("server verify")
	}
}

func TestParseErrors(t *testing.T) {
	for _, v := range []string{
		"", `Basic realm="x"`, `Digest realm="x"`, `Digest realm="x", nonce="n", algorithm=SHA-256`,
		`Digest realm="x", nonce="n", qop="auth-int"`, `Digest realm="x, nonce="n"`, `Digest realm="x" nonce="n"`,
	} {
		if _, err := ParseChallenge(v); err == nil {
			t.Errorf("ParseChallenge(%q) accepted", v)
		}
	}
	if _, err := ParseChallenge(`Basic realm="x"`); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Basic: %v", err)
	}
	for _, v := range []string{`Digest username="u"`, `Digest username="u", nonce="n", uri="x", response="r", qop=auth`} {
		if _, err := ParseCredentials(v); err == nil {
			t.Errorf("ParseCredentials(%q) accepted", v)
		}
	}
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(rfcChallenge)
	f.Add(`Digest realm="a\"b", nonce=x,qop=auth`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseChallenge(s)
		if err != nil {
			return
		}
		a := c.Authorize("REGISTER", "sip:x", "u", "p")
		cr, err := ParseCredentials(a)
		if err != nil {
			t.Fatalf("own answer does not parse: %v: %s", err, a)
		}
		if !cr.Verify("REGISTER", "p") {
			t.Fatalf("own answer does not verify: %s", a)
		}
	})
}
