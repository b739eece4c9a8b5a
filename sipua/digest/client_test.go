package digest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

const testPassword = "pw1001"

// respWith builds a response with the given "Name: value" headers.
func respWith(t testing.TB, code int, headers ...string) *sipmsg.Message {
	t.Helper()
	m := &sipmsg.Message{StatusCode: code, Reason: "Unauthorized"}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ": ")
		if !ok {
			t.Fatalf("bad header %q", h)
		}
		m.Add(name, value)
	}
	return m
}

func request(method, uri string) *sipmsg.Message {
	m := sipmsg.NewRequest(method, uri)
	m.Add("CSeq", "1 "+method)
	return m
}

// sent is what Authorize put on a request: per header name, the parsed
// credentials, each checked to verify with the password.
func sent(t *testing.T, m *sipmsg.Message) map[string][]Credentials {
	t.Helper()
	out := map[string][]Credentials{}
	for _, h := range []string{"Authorization", "Proxy-Authorization"} {
		for _, v := range m.GetAll(h) {
			cr, err := ParseCredentials(v)
			if err != nil {
				t.Fatalf("%s does not parse: %v: %s", h, err, v)
			}
			if cr.URI != m.RequestURI || cr.Username != "1001" || !cr.Verify(m.Method, testPassword) || cr.Verify(m.Method, "wrong") {
				t.Fatalf("%s does not verify for %s %s: %s", h, m.Method, m.RequestURI, v)
			}
			out[h] = append(out[h], cr)
		}
	}
	return out
}

// Real-world challenge sets, one response each, answered once.
func TestChallenged(t *testing.T) {
	const (
		kamailio    = `WWW-Authenticate: Digest realm="kamailio.test", nonce="aw+OrmsPjYJt0ZyfjExjRpqWwafOpnGTOABf/4A=", qop="auth"`
		kamailio256 = `WWW-Authenticate: Digest realm="kamailio.test", nonce="aw+OrmsPjYKk7v1QRytZj14hbudnsc6MWbAyc4A=", qop="auth", algorithm=SHA-256`
		kamProxy    = `Proxy-Authenticate: Digest realm="kamailio.test", nonce="aw+OrmsPjYKzQPnSPHCwksl9JfpjegZcOABhAIA=", qop="auth"`
		// Asterisk's res_pjsip: no spaces, lower-case md5, opaque; SHA-256 first when configured for both.
		pjsipMD5 = `WWW-Authenticate: Digest realm="asterisk",nonce="1712345678/6e3c0a9b1e5d2f4a7b8c9d0e1f2a3b4c",opaque="4a1f6b2c3d9e8f70",algorithm=md5,qop="auth"`
		pjsip256 = `WWW-Authenticate: Digest realm="asterisk",nonce="1712345678/9f8e7d6c5b4a39281706f5e4d3c2b1a0",opaque="4a1f6b2c3d9e8f70",algorithm=SHA-256,qop="auth"`
		// Asterisk's chan_sip: algorithm first, no qop.
		chanSIP = `WWW-Authenticate: Digest algorithm=MD5, realm="asterisk", nonce="1cbd3a1b"`
		// FreeSWITCH (sofia-sip): realm the domain, UUID nonce, both qops.
		freeswitch = `Proxy-Authenticate: Digest realm="192.168.1.10", nonce="7b5e2c4e-ff1d-11ee-9c43-9b1c1d6a0c0e", algorithm=MD5, qop="auth,auth-int"`
		authInt    = `WWW-Authenticate: Digest realm="pbx", nonce="n1", qop="auth-int"`
		staleCase  = `WWW-Authenticate: Digest realm="pbx", nonce="n2", opaque="o", qop="auth", stale=TRUE`
		noNonce    = `WWW-Authenticate: Digest realm="pbx", qop="auth"`
		aka        = `WWW-Authenticate: Digest realm="ims.example", nonce="ak1", algorithm=AKAv1-MD5, qop="auth"`
		sha1       = `WWW-Authenticate: Digest realm="pbx", nonce="s1", algorithm=SHA-1`
		basic      = `WWW-Authenticate: Basic realm="pbx"`
		sha512     = `WWW-Authenticate: Digest realm="pbx", nonce="x5", qop="auth", algorithm=SHA-512-256`
		sha256     = `WWW-Authenticate: Digest realm="pbx", nonce="x2", qop="auth", algorithm=SHA-256`
		md5        = `WWW-Authenticate: Digest realm="pbx", nonce="x1", qop="auth", algorithm=MD5`
		twoInOne   = `WWW-Authenticate: Digest realm="pbx", nonce="x1", qop="auth", algorithm=MD5, Digest realm="pbx", nonce="x2", qop="auth", algorithm=SHA-256`
		quotedAlg  = `WWW-Authenticate: Digest realm="pbx", nonce="q1", algorithm="SHA-256", qop=auth`
		regProxy   = `WWW-Authenticate: Digest realm="registrar", nonce="r1", qop="auth"`
	)
	type want struct {
		header string // the request header answering it
		alg    string // its algorithm parameter ("" none)
		nonce  string
	}
	for _, tc := range []struct {
		name    string
		code    int
		headers []string
		want    []want // nil: refused
		err     error  // when refused: errors.Is, or nil for any *Refused
		errText string // when refused: in the message
	}{
		{"kamailio MD5", 401, []string{kamailio}, []want{{"Authorization", "", "aw+OrmsPjYJt0ZyfjExjRpqWwafOpnGTOABf/4A="}}, nil, ""},
		{"kamailio SHA-256", 401, []string{kamailio256}, []want{{"Authorization", "SHA-256", "aw+OrmsPjYKk7v1QRytZj14hbudnsc6MWbAyc4A="}}, nil, ""},
		{"kamailio proxy", 407, []string{kamProxy}, []want{{"Proxy-Authorization", "", "aw+OrmsPjYKzQPnSPHCwksl9JfpjegZcOABhAIA="}}, nil, ""},
		{"asterisk pjsip md5", 401, []string{pjsipMD5}, []want{{"Authorization", "MD5", "1712345678/6e3c0a9b1e5d2f4a7b8c9d0e1f2a3b4c"}}, nil, ""},
		{"asterisk pjsip both", 401, []string{pjsip256, pjsipMD5}, []want{{"Authorization", "SHA-256", "1712345678/9f8e7d6c5b4a39281706f5e4d3c2b1a0"}}, nil, ""},
		{"asterisk chan_sip", 401, []string{chanSIP}, []want{{"Authorization", "MD5", "1cbd3a1b"}}, nil, ""},
		{"freeswitch auth,auth-int", 407, []string{freeswitch}, []want{{"Proxy-Authorization", "MD5", "7b5e2c4e-ff1d-11ee-9c43-9b1c1d6a0c0e"}}, nil, ""},
		{"stale=TRUE first", 401, []string{staleCase}, []want{{"Authorization", "", "n2"}}, nil, ""},
		{"strongest of three", 401, []string{md5, sha512, sha256}, []want{{"Authorization", "SHA-512-256", "x5"}}, nil, ""},
		{"two in one header", 401, []string{twoInOne}, []want{{"Authorization", "SHA-256", "x2"}}, nil, ""},
		{"quoted algorithm", 401, []string{quotedAlg}, []want{{"Authorization", "SHA-256", "q1"}}, nil, ""},
		{"AKA and MD5", 401, []string{aka, `WWW-Authenticate: Digest realm="ims.example", nonce="m1", qop="auth"`}, []want{{"Authorization", "", "m1"}}, nil, ""},
		{"basic and digest", 401, []string{basic, md5}, []want{{"Authorization", "MD5", "x1"}}, nil, ""},
		{"no nonce and good", 401, []string{noNonce, md5}, []want{{"Authorization", "MD5", "x1"}}, nil, ""},
		{"aggregated 407", 407, []string{kamProxy, regProxy}, []want{{"Proxy-Authorization", "", "aw+OrmsPjYKzQPnSPHCwksl9JfpjegZcOABhAIA="}, {"Authorization", "", "r1"}}, nil, ""},
		{"auth-int only", 401, []string{authInt}, nil, ErrUnsupported, "qop"},
		{"no nonce", 401, []string{noNonce}, nil, nil, "nonce"},
		{"unknown algorithm", 401, []string{sha1}, nil, ErrUnsupported, "SHA-1"},
		{"AKA only", 401, []string{aka}, nil, ErrUnsupported, "AKAv1-MD5"},
		{"basic only", 401, []string{basic}, nil, ErrUnsupported, "Basic"},
		{"no challenge", 401, nil, nil, nil, "no WWW-Authenticate"},
		{"malformed", 407, []string{`Proxy-Authenticate: Digest realm="x, nonce=y`}, nil, nil, "quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClient("1001", "", testPassword)
			a := &Attempt{Dest: "udp:192.0.2.1:5060"}
			retry, err := c.Challenged(respWith(t, tc.code, tc.headers...), a)
			if tc.want == nil {
				var r *Refused
				if retry || !errors.As(err, &r) || r.Code != tc.code || (tc.err != nil && !errors.Is(err, tc.err)) ||
					!strings.Contains(err.Error(), tc.errText) || !strings.HasPrefix(err.Error(), "digest: ") {
					t.Fatalf("retry %v, err %v; want a refusal %v with %q", retry, err, tc.err, tc.errText)
				}
				m := request("REGISTER", "sip:pbx")
				c.Authorize(m, a)
				if len(m.Headers) != 1 {
					t.Fatalf("credentials after a refusal: %v", m.Headers)
				}
				return
			}
			if !retry || err != nil {
				t.Fatalf("retry %v, err %v", retry, err)
			}
			m := request("INVITE", "sip:1002@pbx.example")
			c.Authorize(m, a)
			got := sent(t, m)
			n := 0
			for _, w := range tc.want {
				var found bool
				for _, cr := range got[w.header] {
					found = found || (cr.Nonce == w.nonce && cr.Algorithm == w.alg)
				}
				if !found {
					t.Errorf("no %s with nonce %q algorithm %q: %v", w.header, w.nonce, w.alg, m.Headers)
				}
				n++
			}
			if len(got["Authorization"])+len(got["Proxy-Authorization"]) != n {
				t.Errorf("sent %v, want %d credentials", got, n)
			}
		})
	}
}

// The captured Kamailio records: what Kamailio accepted verifies with
// Credentials.Verify, is what AuthorizeWith writes for the same cnonce and
// nonce count byte for byte, and the Client's answer verifies too.
func TestKamailioCaptured(t *testing.T) {
	b, err := os.ReadFile("testdata/kamailio.txt")
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for _, rec := range strings.Split(string(b), "\n\n") {
		var lines []string
		for _, l := range strings.Split(rec, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		if len(lines) < 2 {
			continue
		}
		records++
		hdr, value, _ := strings.Cut(lines[0], ": ")
		ch, err := ParseChallenge(value)
		if err != nil {
			t.Fatalf("%s: %v", value, err)
		}
		c := NewClient("1001", "", testPassword)
		a := &Attempt{Dest: "kamailio"}
		if retry, err := c.Challenged(respWith(t, 401, lines[0]), a); !retry || err != nil {
			t.Fatalf("%s: retry %v %v", value, retry, err)
		}
		for _, l := range lines[1:] {
			method, accepted, _ := strings.Cut(l, " ")
			cr, err := ParseCredentials(accepted)
			if err != nil || !cr.Verify(method, testPassword) || cr.Verify(method, "pw1002") {
				t.Fatalf("Kamailio's accepted credentials do not verify: %v %s", err, accepted)
			}
			var nc uint32
			fmt.Sscanf(cr.NC, "%x", &nc)
			if got := ch.AuthorizeWith(method, cr.URI, "1001", testPassword, cr.CNonce, nc); got != accepted {
				t.Errorf("AuthorizeWith\n got %s\nwant %s", got, accepted)
			}
			m := request(method, cr.URI)
			c.Authorize(m, a)
			want := "Authorization"
			if hdr == "Proxy-Authenticate" {
				want = "Proxy-Authorization"
			}
			if s := sent(t, m); len(s[want]) != 1 || s[want][0].NC != cr.NC || s[want][0].Algorithm != cr.Algorithm {
				t.Errorf("Client: %v, want %s nc %s", m.Headers, want, cr.NC)
			}
		}
	}
	if records != 6 {
		t.Fatalf("%d records", records)
	}
}

// The same challenge twice in one attempt is a wrong password: refused,
// never a loop, and the challenge is forgotten.
func TestLoopProtection(t *testing.T) {
	c := NewClient("1001", "", testPassword)
	a := &Attempt{}
	ch := `WWW-Authenticate: ` + NewChallenge("pbx").String()
	if retry, err := c.Challenged(respWith(t, 401, ch), a); !retry || err != nil {
		t.Fatalf("first: %v %v", retry, err)
	}
	m := request("REGISTER", "sip:pbx")
	c.Authorize(m, a)
	var r *Refused
	retry, err := c.Challenged(respWith(t, 401, ch), a)
	if retry || !errors.Is(err, ErrRejected) || !errors.As(err, &r) || r.Realm != "pbx" || r.Code != 401 || a.Retries() != 1 {
		t.Fatalf("second: %v %v (%d retries)", retry, err, a.Retries())
	}
	if err.Error() != `digest: 401 from realm "pbx": credentials rejected` {
		t.Errorf("message %q", err)
	}
	// A fresh nonce without stale is refused the same way.
	fresh := `WWW-Authenticate: ` + NewChallenge("pbx").String()
	if retry, err := c.Challenged(respWith(t, 401, fresh), a); retry || !errors.Is(err, ErrRejected) {
		t.Fatalf("fresh nonce: %v %v", retry, err)
	}
	m = request("REGISTER", "sip:pbx")
	c.Authorize(m, &Attempt{})
	if m.Get("Authorization") != "" {
		t.Fatalf("rejected challenge still cached: %s", m.Get("Authorization"))
	}
}

// stale=true is answered once more per realm (RFC 7616 section 3.3), and
// replaces the cached challenge.
func TestStale(t *testing.T) {
	c := NewClient("1001", "", testPassword)
	a := &Attempt{}
	first := NewChallenge("pbx")
	if retry, _ := c.Challenged(respWith(t, 401, "WWW-Authenticate: "+first.String()), a); !retry {
		t.Fatal("first")
	}
	stale := NewChallenge("pbx")
	stale.Stale = true
	if retry, err := c.Challenged(respWith(t, 401, "WWW-Authenticate: "+stale.String()), a); !retry || err != nil {
		t.Fatalf("stale: %v %v", retry, err)
	}
	m := request("REGISTER", "sip:pbx")
	c.Authorize(m, a)
	if s := sent(t, m)["Authorization"]; len(s) != 1 || s[0].Nonce != stale.Nonce || s[0].NC != "00000001" {
		t.Fatalf("after stale: %v", m.Headers)
	}
	again := NewChallenge("pbx")
	again.Stale = true
	if retry, err := c.Challenged(respWith(t, 401, "WWW-Authenticate: "+again.String()), a); retry || !errors.Is(err, ErrRejected) {
		t.Fatalf("stale twice: %v %v", retry, err)
	}
	if a.Retries() != 2 {
		t.Fatalf("%d retries", a.Retries())
	}

	// Cached credentials gone stale on a later request (a refresh): the
	// first challenge of that attempt is answered, stale or not.
	c = NewClient("1001", "", testPassword)
	c.Challenged(respWith(t, 401, "WWW-Authenticate: "+first.String()), &Attempt{})
	b := &Attempt{}
	c.Authorize(request("REGISTER", "sip:pbx"), b)
	if retry, err := c.Challenged(respWith(t, 401, "WWW-Authenticate: "+stale.String()), b); !retry || err != nil {
		t.Fatalf("refresh stale: %v %v", retry, err)
	}
}

// Cached credentials from an earlier attempt that the server no longer
// takes (a new nonce, not stale: many servers say so) are answered once.
func TestPreemptiveRefused(t *testing.T) {
	c := NewClient("1001", "", testPassword)
	c.Challenged(respWith(t, 401, "WWW-Authenticate: "+NewChallenge("pbx").String()), &Attempt{})
	a := &Attempt{}
	m := request("REGISTER", "sip:pbx")
	c.Authorize(m, a)
	if m.Get("Authorization") == "" {
		t.Fatal("no pre-emptive credentials")
	}
	next := "WWW-Authenticate: " + NewChallenge("pbx").String()
	if retry, err := c.Challenged(respWith(t, 401, next), a); !retry || err != nil {
		t.Fatalf("new nonce: %v %v", retry, err)
	}
	if retry, err := c.Challenged(respWith(t, 401, next), a); retry || !errors.Is(err, ErrRejected) {
		t.Fatalf("again: %v %v", retry, err)
	}
}

// Nonce counts run per nonce across requests and start over with a new nonce.
func TestClientNonceCount(t *testing.T) {
	c := NewClient("1001", "", testPassword)
	reg, prx := NewChallenge("pbx"), NewChallengeAlg("proxy", SHA256)
	if retry, _ := c.Challenged(respWith(t, 401, "WWW-Authenticate: "+reg.String()), &Attempt{}); !retry {
		t.Fatal("401")
	}
	for i := 1; i <= 3; i++ {
		m := request("REGISTER", "sip:pbx")
		c.Authorize(m, &Attempt{})
		if s := sent(t, m)["Authorization"]; len(s) != 1 || s[0].NC != fmt.Sprintf("%08x", i) {
			t.Fatalf("request %d: %v", i, m.Headers)
		}
	}
	c.Challenged(respWith(t, 407, "Proxy-Authenticate: "+prx.String()), &Attempt{})
	m := request("INVITE", "sip:1002@pbx")
	c.Authorize(m, &Attempt{})
	s := sent(t, m)
	if len(s["Authorization"]) != 1 || s["Authorization"][0].NC != "00000004" || len(s["Proxy-Authorization"]) != 1 || s["Proxy-Authorization"][0].NC != "00000001" {
		t.Fatalf("two nonces: %v", m.Headers)
	}
	// cnonces are fresh for each request.
	m2 := request("INVITE", "sip:1002@pbx")
	c.Authorize(m2, &Attempt{})
	if sent(t, m2)["Authorization"][0].CNonce == s["Authorization"][0].CNonce {
		t.Fatal("cnonce repeated")
	}
	// A new nonce for the realm starts over.
	c.Challenged(respWith(t, 401, "WWW-Authenticate: "+NewChallenge("pbx").String()), &Attempt{})
	m = request("REGISTER", "sip:pbx")
	c.Authorize(m, &Attempt{})
	if a := sent(t, m)["Authorization"]; a[0].NC != "00000001" || a[0].Nonce == reg.Nonce {
		t.Fatalf("new nonce: %v", m.Headers)
	}
	// No qop: neither nc nor cnonce.
	c = NewClient("1001", "", testPassword)
	c.Challenged(respWith(t, 401, `WWW-Authenticate: Digest algorithm=MD5, realm="asterisk", nonce="1cbd3a1b"`), &Attempt{})
	m = request("REGISTER", "sip:pbx")
	c.Authorize(m, &Attempt{})
	if a := sent(t, m)["Authorization"]; a[0].NC != "" || a[0].CNonce != "" {
		t.Fatalf("no qop: %v", m.Headers)
	}
}

// A REGISTER through a proxy: its 407, then the registrar's 401, then
// both at once on the next attempt (the refresh).
func TestProxyThenRegistrar(t *testing.T) {
	c := NewClient("1001", "", testPassword)
	a := &Attempt{Dest: "proxy"}
	prx, reg := NewChallengeAlg("proxy.example", SHA256), NewChallenge("pbx.example")
	m := request("REGISTER", "sip:pbx.example")
	c.Authorize(m, a)
	if len(m.Headers) != 1 {
		t.Fatalf("credentials before any challenge: %v", m.Headers)
	}
	if retry, _ := c.Challenged(respWith(t, 407, "Proxy-Authenticate: "+prx.String()), a); !retry {
		t.Fatal("407")
	}
	c.Authorize(m, a)
	if s := sent(t, m); len(s["Proxy-Authorization"]) != 1 || len(s["Authorization"]) != 0 {
		t.Fatalf("after 407: %v", m.Headers)
	}
	if retry, _ := c.Challenged(respWith(t, 401, "WWW-Authenticate: "+reg.String()), a); !retry {
		t.Fatal("401")
	}
	c.Authorize(m, a)
	if s := sent(t, m); len(s["Proxy-Authorization"]) != 1 || len(s["Authorization"]) != 1 || s["Proxy-Authorization"][0].NC != "00000002" {
		t.Fatalf("after 401: %v", m.Headers)
	}
	m = request("REGISTER", "sip:pbx.example")
	c.Authorize(m, &Attempt{Dest: "proxy"})
	if s := sent(t, m); len(s["Proxy-Authorization"]) != 1 || len(s["Authorization"]) != 1 || s["Authorization"][0].NC != "00000002" {
		t.Fatalf("refresh: %v", m.Headers)
	}
	c.Reset()
	m = request("REGISTER", "sip:pbx.example")
	c.Authorize(m, &Attempt{Dest: "proxy"})
	if len(m.Headers) != 1 {
		t.Fatalf("after Reset: %v", m.Headers)
	}
}

// A BYE straight to the peer (no Record-Route), challenged with 401 by the
// peer: answered, kept for the peer's later requests in the dialog, and
// never sent to the line's proxy; the proxy's credentials never go to the peer.
func TestInDialogDest(t *testing.T) {
	c := NewClient("1001", "", testPassword)
	c.Challenged(respWith(t, 407, "Proxy-Authenticate: "+NewChallenge("pbx").String()), &Attempt{Dest: "proxy"})
	peer := &Attempt{Dest: "udp:192.0.2.7:5060"}
	bye := request("BYE", "sip:1002@192.0.2.7:5060")
	c.Authorize(bye, peer)
	if len(bye.Headers) != 1 {
		t.Fatalf("proxy credentials to the peer: %v", bye.Headers)
	}
	if retry, err := c.Challenged(respWith(t, 401, "WWW-Authenticate: "+NewChallengeAlg("phone-b", SHA256).String()), peer); !retry || err != nil {
		t.Fatalf("BYE 401: %v %v", retry, err)
	}
	c.Authorize(bye, peer)
	if s := sent(t, bye); len(s["Authorization"]) != 1 || len(s["Proxy-Authorization"]) != 0 || s["Authorization"][0].Realm != "phone-b" {
		t.Fatalf("BYE re-sent: %v", bye.Headers)
	}
	reinv := request("INVITE", "sip:1002@192.0.2.7:5060")
	c.Authorize(reinv, &Attempt{Dest: "udp:192.0.2.7:5060"})
	if s := sent(t, reinv); len(s["Authorization"]) != 1 || s["Authorization"][0].NC != "00000002" {
		t.Fatalf("re-INVITE: %v", reinv.Headers)
	}
	inv := request("INVITE", "sip:1003@pbx")
	c.Authorize(inv, &Attempt{Dest: "proxy"})
	if s := sent(t, inv); len(s["Authorization"]) != 0 || len(s["Proxy-Authorization"]) != 1 {
		t.Fatalf("to the proxy: %v", inv.Headers)
	}
}

// Whatever a server answers, an attempt ends: a new realm every time, stale
// every time, the same response over and over.
func TestRetriesBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp func(i int) *sipmsg.Message
	}{
		{"new realm each time", func(i int) *sipmsg.Message {
			return respWith(t, 401, "WWW-Authenticate: "+NewChallenge(fmt.Sprintf("r%d", i)).String())
		}},
		{"stale each time", func(i int) *sipmsg.Message {
			ch := NewChallenge("pbx")
			ch.Stale = true
			return respWith(t, 401, "WWW-Authenticate: "+ch.String())
		}},
		{"proxy and registrar stale each time", func(i int) *sipmsg.Message {
			p, r := NewChallenge("proxy"), NewChallenge("pbx")
			p.Stale, r.Stale = true, true
			return respWith(t, 407, "Proxy-Authenticate: "+p.String(), "WWW-Authenticate: "+r.String())
		}},
	} {
		c := NewClient("1001", "", testPassword)
		a := &Attempt{}
		n := 0
		for ; n < 100; n++ {
			c.Authorize(request("REGISTER", "sip:pbx"), a)
			retry, err := c.Challenged(tc.resp(n), a)
			if !retry {
				var r *Refused
				if !errors.As(err, &r) {
					t.Errorf("%s: %v", tc.name, err)
				}
				break
			}
		}
		if n > MaxRetries || n == 0 {
			t.Errorf("%s: %d retries", tc.name, n)
		}
	}
}

func TestClientRefusals(t *testing.T) {
	ch := "WWW-Authenticate: " + NewChallenge("pbx").String()
	c := NewClient("1001", "", "")
	if retry, err := c.Challenged(respWith(t, 401, ch), &Attempt{}); retry || !errors.Is(err, ErrNoPassword) {
		t.Errorf("no password: %v %v", retry, err)
	}
	c = NewClient("1001", "", testPassword)
	if retry, err := c.Challenged(respWith(t, 200), &Attempt{}); retry || err == nil {
		t.Errorf("200: %v %v", retry, err)
	}
	// authUser is the digest user name.
	c = NewClient("1001", "auth-1001", "pw")
	a := &Attempt{}
	c.Challenged(respWith(t, 401, ch), a)
	m := request("REGISTER", "sip:pbx")
	c.Authorize(m, a)
	if cr, err := ParseCredentials(m.Get("Authorization")); err != nil || cr.Username != "auth-1001" || !cr.Verify("REGISTER", "pw") {
		t.Errorf("auth user: %v %+v", err, cr)
	}
}

// Challenged keeps nothing of the response: its buffer may be reused.
func TestChallengedCopies(t *testing.T) {
	raw := []byte("SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:1001@pbx>;tag=a\r\n" +
		"To: <sip:1001@pbx>;tag=b\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n" +
		"WWW-Authenticate: Digest realm=pbx, nonce=abcdef, algorithm=SHA-256, qop=auth\r\nContent-Length: 0\r\n\r\n")
	var r sipmsg.Message
	if err := r.ParseFrom(raw); err != nil {
		t.Fatal(err)
	}
	c := NewClient("1001", "", testPassword)
	a := &Attempt{}
	if retry, err := c.Challenged(&r, a); !retry || err != nil {
		t.Fatal(retry, err)
	}
	for i := range raw {
		raw[i] = 'X'
	}
	m := request("REGISTER", "sip:pbx")
	c.Authorize(m, a)
	if s := sent(t, m)["Authorization"]; len(s) != 1 || s[0].Nonce != "abcdef" || s[0].Realm != "pbx" || s[0].Algorithm != "SHA-256" {
		t.Fatalf("%v", m.Headers)
	}
}

// Calls of one line authorize from their own goroutines (go test -race).
func TestClientConcurrent(t *testing.T) {
	c := NewClient("1001", "", testPassword)
	c.Challenged(respWith(t, 407, "Proxy-Authenticate: "+NewChallenge("pbx").String()), &Attempt{})
	var wg sync.WaitGroup
	ncs := make(chan string, 80)
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 10; i++ {
				m := request("INVITE", "sip:1002@pbx")
				c.Authorize(m, &Attempt{})
				cr, err := ParseCredentials(m.Get("Proxy-Authorization"))
				if err != nil || !cr.Verify("INVITE", testPassword) {
					t.Error(err)
				}
				ncs <- cr.NC
			}
		})
	}
	wg.Wait()
	close(ncs)
	seen := map[string]bool{}
	for nc := range ncs {
		if seen[nc] {
			t.Fatalf("nonce count %s used twice", nc)
		}
		seen[nc] = true
	}
}

// Authorize allocates the header values and nothing else.
func TestAuthorizeAllocs(t *testing.T) {
	c := NewClient("1001", "", testPassword)
	a := &Attempt{Dest: "proxy"}
	c.Challenged(respWith(t, 407, "Proxy-Authenticate: "+NewChallengeAlg("proxy", SHA256).String(),
		"WWW-Authenticate: "+NewChallengeAlg("pbx", SHA512256+"-sess").String()), a)
	m := request("INVITE", "sip:1002@pbx.example")
	m.Headers = make([]sipmsg.Header, 1, 8)
	m.Headers[0] = sipmsg.Header{Name: "CSeq", Value: "1 INVITE"}
	c.Authorize(m, a) // warm the scratch buffers
	if n := testing.AllocsPerRun(100, func() { c.Authorize(m, a) }); n > 2 {
		t.Fatalf("%v allocations for two headers", n)
	}
	sent(t, m)
}

func BenchmarkAuthorize(b *testing.B) {
	c := NewClient("1001", "", testPassword)
	a := &Attempt{}
	c.Challenged(respWith(b, 401, `WWW-Authenticate: Digest realm="kamailio.test", nonce="aw+OrmsPjYKk7v1QRytZj14hbudnsc6MWbAyc4A=", qop="auth", algorithm=SHA-256`), a)
	m := request("REGISTER", "sip:127.0.0.1:5060")
	b.ReportAllocs()
	for b.Loop() {
		c.Authorize(m, a)
	}
}

func BenchmarkChallenged(b *testing.B) {
	c := NewClient("1001", "", testPassword)
	r := respWith(b, 401, `WWW-Authenticate: Digest realm="asterisk",nonce="1712345678/9f8e7d6c5b4a39281706f5e4d3c2b1a0",opaque="4a1f6b2c3d9e8f70",algorithm=SHA-256,qop="auth"`,
		`WWW-Authenticate: Digest realm="asterisk",nonce="1712345678/6e3c0a9b1e5d2f4a7b8c9d0e1f2a3b4c",opaque="4a1f6b2c3d9e8f70",algorithm=md5,qop="auth"`)
	b.ReportAllocs()
	for b.Loop() {
		if retry, err := c.Challenged(r, &Attempt{}); !retry {
			b.Fatal(err)
		}
	}
}

// FuzzChallenged: any challenges (lines of WWW-Authenticate and of
// Proxy-Authenticate values) in a response sent again and again end the
// attempt within MaxRetries with a *Refused, and every retry's credentials
// parse and verify.
func FuzzChallenged(f *testing.F) {
	f.Add(`Digest realm="kamailio.test", nonce="aw+OrmsPjYJt0ZyfjExjRpqWwafOpnGTOABf/4A=", qop="auth"`, "")
	f.Add(`Digest realm="asterisk",nonce="1712345678/9f8e",opaque="4a1f",algorithm=SHA-256,qop="auth"`+"\n"+`Digest realm="asterisk",nonce="1712345678/6e3c",opaque="4a1f",algorithm=md5,qop="auth"`, "")
	f.Add("", `Digest realm="192.168.1.10", nonce="7b5e2c4e-ff1d", algorithm=MD5, qop="auth,auth-int", stale=TRUE`)
	f.Add(`Digest realm="r", nonce="1", Digest realm="r", nonce="2", algorithm=SHA-512-256-sess, qop=auth`, `Basic realm="p"`)
	f.Fuzz(func(t *testing.T, www, proxy string) {
		r := &sipmsg.Message{StatusCode: 401}
		for _, v := range strings.Split(www, "\n") {
			r.Add("WWW-Authenticate", v)
		}
		for _, v := range strings.Split(proxy, "\n") {
			r.Add("Proxy-Authenticate", v)
		}
		c := NewClient("1001", "", testPassword)
		a := &Attempt{Dest: "d"}
		for n := 0; ; n++ {
			retry, err := c.Challenged(r, a)
			if !retry {
				var refused *Refused
				if !errors.As(err, &refused) || !strings.HasPrefix(err.Error(), "digest: ") {
					t.Fatalf("not a refusal: %v", err)
				}
				return
			}
			if n >= MaxRetries {
				t.Fatalf("retry %d", n+1)
			}
			m := request("REGISTER", "sip:pbx")
			c.Authorize(m, a)
			if len(m.Headers) == 1 {
				t.Fatal("retry without credentials")
			}
			sent(t, m)
		}
	})
}

// TestAppendAuthorization: the header lines AppendAuthorization writes are
// Authorize's headers (without qop, whose cnonce differs each time), and
// with qop it allocates nothing.
func TestAppendAuthorization(t *testing.T) {
	const ch = `WWW-Authenticate: Digest algorithm=MD5, realm="asterisk", nonce="1cbd3a1b"`
	dest := &Attempt{Dest: "udp:192.0.2.1:5060"}
	c1, c2 := NewClient("1001", "", testPassword), NewClient("1001", "", testPassword)
	for _, c := range []*Client{c1, c2} {
		if retry, err := c.Challenged(respWith(t, 401, ch), &Attempt{Dest: dest.Dest}); !retry || err != nil {
			t.Fatal(retry, err)
		}
	}
	m := request("REGISTER", "sip:pbx")
	c1.Authorize(m, dest)
	want := "Authorization: " + m.Get("Authorization") + "\r\n"
	if got := string(c2.AppendAuthorization(nil, "REGISTER", "sip:pbx", dest)); got != want {
		t.Fatalf("AppendAuthorization:\n%q\nwant\n%q", got, want)
	}
	c3 := NewClient("1001", "", testPassword)
	if retry, err := c3.Challenged(respWith(t, 401, `WWW-Authenticate: Digest realm="pbx", nonce="x1", qop="auth", algorithm=MD5`), &Attempt{Dest: dest.Dest}); !retry || err != nil {
		t.Fatal(retry, err)
	}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(50, func() { buf = c3.AppendAuthorization(buf[:0], "REGISTER", "sip:pbx", dest) }); n != 0 {
		t.Errorf("AppendAuthorization: %v allocations, want 0", n)
	}
}
