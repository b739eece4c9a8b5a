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
		"", `Basic realm="x"`, `Digest realm="x"`, `Digest realm="x", nonce="n", algorithm=SHA-1`, `Digest realm="x", nonce="n", algorithm=AKAv1-MD5`,
		`Digest realm="x", nonce="n", algorithm=SHA-256-sess`,
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

// RFC 7616 section 3.9.1: the same request answered with MD5 and SHA-256.
func TestRFC7616Vectors(t *testing.T) {
	for _, tc := range []struct{ alg, want string }{
		{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		c, err := ParseChallenge(`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=` + tc.alg +
			`, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`)
		if err != nil {
			t.Fatal(err)
		}
		a := c.AuthorizeWith("GET", "/dir/index.html", "Mufasa", "Circle of Life", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", 1)
		if !strings.Contains(a, `response="`+tc.want+`"`) || !strings.Contains(a, "algorithm="+tc.alg) {
			t.Errorf("%s: %s\nwant response %s", tc.alg, a, tc.want)
		}
		cr, err := ParseCredentials(a)
		if err != nil || !cr.Verify("GET", "Circle of Life") || cr.Verify("GET", "Circle of life") {
			t.Errorf("%s: verify %v", tc.alg, err)
		}
	}
}

// Every algorithm, with and without -sess, answers and verifies; a -sess
// answer depends on the cnonce.
func TestAlgorithms(t *testing.T) {
	for _, alg := range []string{"MD5", "md5", "SHA-256", "sha-256", "SHA-512-256", "MD5-sess", "SHA-256-sess", "SHA-512-256-SESS"} {
		c, err := ParseChallenge(`Digest realm="r", nonce="n1", qop="auth", algorithm=` + alg)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if c.Algorithm != canonical(alg) || c.Strength() == 0 {
			t.Fatalf("%s: algorithm %q strength %d", alg, c.Algorithm, c.Strength())
		}
		a1 := c.AuthorizeWith("REGISTER", "sip:r", "u", "p", "c1", 1)
		a2 := c.AuthorizeWith("REGISTER", "sip:r", "u", "p", "c2", 1)
		for _, a := range []string{a1, a2} {
			cr, err := ParseCredentials(a)
			if err != nil || !cr.Verify("REGISTER", "p") || cr.Verify("REGISTER", "q") || cr.Algorithm != c.Algorithm {
				t.Fatalf("%s: %v %s", alg, err, a)
			}
		}
		resp := func(a string) string { cr, _ := ParseCredentials(a); return cr.Response }
		if resp(a1) == resp(a2) {
			t.Fatalf("%s: cnonce does not change the response", alg)
		}
	}
	s := NewChallengeAlg("r", SHA256)
	if c, err := ParseChallenge(s.String()); err != nil || c.Algorithm != "SHA-256" || c.Strength() != 2 {
		t.Fatalf("NewChallengeAlg round trip: %v %+v", err, c)
	}
}

func TestChoose(t *testing.T) {
	md5 := `Digest realm="r", nonce="m", qop="auth", algorithm=MD5`
	sha := `Digest realm="r", nonce="s", qop="auth", algorithm=SHA-256`
	sha2 := `Digest realm="r", nonce="s2", qop="auth", algorithm=SHA-256`
	sha512 := `Digest realm="r", nonce="x", qop="auth", algorithm=SHA-512-256`
	bad := `Digest realm="r", nonce="b", algorithm=AKAv1-MD5`
	for _, tc := range []struct {
		name   string
		values []string
		nonce  string // "" = an error
	}{
		{"one", []string{md5}, "m"},
		{"strongest last", []string{md5, sha}, "s"},
		{"strongest first", []string{sha, md5}, "s"},
		{"three", []string{md5, sha512, sha}, "x"},
		{"tie keeps the topmost", []string{sha, sha2}, "s"},
		{"unsupported skipped", []string{bad, md5}, "m"},
		{"nothing usable", []string{bad}, ""},
		{"none", nil, ""},
		{"basic and digest", []string{`Basic realm="r"`, sha}, "s"},
	} {
		c, err := Choose(tc.values)
		switch {
		case tc.nonce == "" && err == nil:
			t.Errorf("%s: chose %+v", tc.name, c)
		case tc.nonce != "" && (err != nil || c.Nonce != tc.nonce):
			t.Errorf("%s: got %q %v, want %q", tc.name, c.Nonce, err, tc.nonce)
		}
	}
	if _, err := Choose([]string{bad}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unsupported: %v", err)
	}
}

// One header field should hold one challenge (RFC 3261 section 25.1), but
// HTTP's grammar (RFC 7235 section 4.1) allows a comma list of them.
func TestSplitChallenges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`Digest realm="a", nonce="1"`, []string{`Digest realm="a", nonce="1"`}},
		{`Digest realm="a",nonce="1", Digest realm="a", nonce="2", algorithm=SHA-256`,
			[]string{`Digest realm="a",nonce="1"`, `Digest realm="a", nonce="2", algorithm=SHA-256`}},
		{`Basic realm="x", Digest realm="y", nonce=n`, []string{`Basic realm="x"`, `Digest realm="y", nonce=n`}},
		{`Digest realm = "a" , nonce="1"`, []string{`Digest realm = "a" , nonce="1"`}},                           // BWS around "="
		{`Digest realm="a, Digest realm=b", nonce="1"`, []string{`Digest realm="a, Digest realm=b", nonce="1"`}}, // quoted
		{`Digest realm="a\", Digest x", nonce="1"`, []string{`Digest realm="a\", Digest x", nonce="1"`}},         // escaped quote
		{`Negotiate, Digest realm="a", nonce="1"`, []string{`Negotiate`, `Digest realm="a", nonce="1"`}},
		{`  `, nil},
	} {
		if got := SplitChallenges(tc.in); strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("SplitChallenges(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Unsplit, the second challenge's parameters must not pass for the first's.
	if c, err := ParseChallenge(`Digest realm="a", nonce="1", Digest realm="b", nonce="2"`); err == nil {
		t.Errorf("two challenges parsed as one: %+v", c)
	}
	if c, err := Choose([]string{`Digest realm="a", nonce="1", Digest realm="a", nonce="2", qop="auth", algorithm=SHA-256`}); err != nil || c.Nonce != "2" {
		t.Errorf("Choose over one header of two: %+v %v", c, err)
	}
}
