package sipmsg

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const invite = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" +
	"v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1;rport\r\n" +
	"Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK2\r\n" +
	"Max-Forwards: 70\r\n" +
	"t: Bob <sip:bob@biloxi.example.com>\r\n" +
	"f: \"Alice, A.\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n" +
	"i: a84b4c76e66710@pc33.atlanta.example.com\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n" +
	"Subject: folded\r\n  line\r\n" +
	"m: <sip:alice@pc33.atlanta.example.com>\r\n" +
	"c: application/sdp\r\n" +
	"l: 4\r\n\r\nv=0\r\nextra"

func TestParseInvite(t *testing.T) {
	m, err := Parse([]byte(invite))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ got, want string }{
		{m.Method, "INVITE"},
		{m.RequestURI, "sip:bob@biloxi.example.com"},
		{m.Get("via"), "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8"},
		{m.Get("From"), `"Alice, A." <sip:alice@atlanta.example.com>;tag=1928301774`},
		{m.Get("Call-ID"), "a84b4c76e66710@pc33.atlanta.example.com"},
		{m.Get("i"), "a84b4c76e66710@pc33.atlanta.example.com"},
		{m.Get("Subject"), "folded line"},
		{m.Get("Content-Type"), "application/sdp"},
		{m.Get("Record-Route"), "<sip:p1.example.com;lr>"},
		{string(m.Body), "v=0\r"},
		{m.Get("X-None"), ""},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: got %q, want %q", i, c.got, c.want)
		}
	}
	if vias := m.GetAll("Via"); len(vias) != 3 || !strings.Contains(vias[2], "2001:db8::1") {
		t.Errorf("GetAll(Via) = %q", vias)
	}
	if m.Headers[0].Name != "Via" || m.Headers[3].Name != "To" || m.Headers[4].Name != "From" {
		t.Errorf("compact names not expanded: %v", m.Headers[:5])
	}
	seq, meth, err := m.CSeq()
	if seq != 314159 || meth != "INVITE" || err != nil {
		t.Errorf("CSeq = %d %q %v", seq, meth, err)
	}
}

func TestEdit(t *testing.T) {
	m, _ := Parse([]byte(invite))
	m.Prepend("Via", "SIP/2.0/UDP proxy;branch=z9hG4bKp")
	if m.Get("Via") != "SIP/2.0/UDP proxy;branch=z9hG4bKp" || len(m.GetAll("Via")) != 4 {
		t.Fatalf("Prepend: %q", m.GetAll("Via"))
	}
	m.RemoveFirst("Via")
	m.RemoveFirst("Via")
	if vias := m.GetAll("Via"); len(vias) != 2 || !strings.HasPrefix(vias[0], "SIP/2.0/UDP 10.0.0.1:5070") {
		t.Fatalf("RemoveFirst: %q", vias)
	}
	m.Prepend("Route", "<sip:r.example.com;lr>") // none yet: goes on top
	if m.Headers[0].Name != "Route" {
		t.Fatalf("Prepend without existing: %v", m.Headers[0])
	}
	m.Set("Max-Forwards", "69")
	m.Add("Max-Forwards", "1")
	m.Set("Max-Forwards", "68")
	if got := m.GetAll("Max-Forwards"); len(got) != 1 || got[0] != "68" {
		t.Fatalf("Set: %q", got)
	}
	m.Del("Record-Route")
	if m.Get("Record-Route") != "" {
		t.Fatal("Del")
	}
	c := m.Clone()
	c.Set("Call-ID", "other")
	c.Body[0] = 'X'
	if m.Get("Call-ID") == "other" || m.Body[0] == 'X' {
		t.Fatal("Clone shares state")
	}
	m.Body = []byte("hello")
	out := m.String()
	if !strings.Contains(out, "Content-Length: 5\r\n\r\nhello") {
		t.Fatalf("AppendTo: %q", out)
	}
}

func TestNewResponse(t *testing.T) {
	req, _ := Parse([]byte(invite))
	for _, tc := range []struct {
		code int
		rr   bool
	}{{100, false}, {180, true}, {200, true}, {486, false}} {
		r := NewResponse(req, tc.code, "")
		if r.StatusCode != tc.code || r.Reason != ReasonPhrase(tc.code) || r.IsRequest() {
			t.Errorf("%d: start line %d %q", tc.code, r.StatusCode, r.Reason)
		}
		if len(r.GetAll("Via")) != 3 || r.Get("Call-ID") != req.Get("Call-ID") || r.Get("CSeq") != "314159 INVITE" {
			t.Errorf("%d: copied headers wrong: %v", tc.code, r.Headers)
		}
		if got := r.Get("Record-Route") != ""; got != tc.rr {
			t.Errorf("%d: Record-Route copied = %v", tc.code, got)
		}
		if r.Get("Contact") != "" || r.Get("Max-Forwards") != "" {
			t.Errorf("%d: extra headers", tc.code)
		}
		if _, err := Parse(r.AppendTo(nil)); err != nil {
			t.Errorf("%d: response does not parse: %v", tc.code, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("good: %v", err)
	}
	for name, msg := range map[string]string{
		"empty":       "",
		"no-version":  "OPTIONS sip:a@b\r\n\r\n",
		"bad-status":  strings.Replace(good, "OPTIONS sip:a@b SIP/2.0", "SIP/2.0 20 OK", 1),
		"no-via":      strings.Replace(good, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", "", 1),
		"no-cseq":     strings.Replace(good, "CSeq: 1 OPTIONS\r\n", "", 1),
		"bad-cseq":    strings.Replace(good, "CSeq: 1 OPTIONS", "CSeq: x OPTIONS", 1),
		"no-colon":    strings.Replace(good, "Call-ID: x", "Call-ID x", 1),
		"cl-too-long": strings.Replace(good, "\r\n\r\n", "\r\nContent-Length: 10\r\n\r\nabc", 1),
		"cl-bad":      strings.Replace(good, "\r\n\r\n", "\r\nContent-Length: x\r\n\r\n", 1),
		"no-end":      "OPTIONS sip:a@b SIP/2.0\r\nVia: x",
	} {
		if _, err := Parse([]byte(msg)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestURI(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want URI
		out  string
	}{
		{"sip:alice@atlanta.com", URI{Scheme: "sip", User: "alice", Host: "atlanta.com"}, ""},
		{"sip:alice:secret@atlanta.com:5070;transport=udp;lr?subject=x",
			URI{Scheme: "sip", User: "alice", Password: "secret", Host: "atlanta.com", Port: 5070,
				Params: []Param{{"transport", "udp"}, {"lr", ""}}, Headers: "subject=x"}, ""},
		{"sips:[2001:db8::1]:5061", URI{Scheme: "sips", Host: "2001:db8::1", Port: 5061}, ""},
		{"SIP:10.0.2.2", URI{Scheme: "sip", Host: "10.0.2.2"}, "sip:10.0.2.2"},
		{"tel:+1-201-555-0123", URI{Scheme: "tel", Opaque: "+1-201-555-0123"}, ""},
	} {
		u, err := ParseURI(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(u, tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.in, u, tc.want)
		}
		out := tc.out
		if out == "" {
			out = tc.in
		}
		if u.String() != out {
			t.Errorf("%q: String = %q", tc.in, u.String())
		}
	}
	u, _ := ParseURI("sip:[::1]:5060;lr")
	if u.HostPort() != "[::1]:5060" {
		t.Errorf("HostPort = %q", u.HostPort())
	}
	if v, ok := u.Param("LR"); !ok || v != "" {
		t.Errorf("Param(lr) = %q %v", v, ok)
	}
	for _, bad := range []string{"", "alice", "sip:", "sip:@h", "sip:h:99999", "sip:[::1", "sip:a b@c d", "sip:h;"} {
		if _, err := ParseURI(bad); err == nil {
			t.Errorf("ParseURI(%q) accepted", bad)
		}
	}
}

func TestNameAddr(t *testing.T) {
	for _, tc := range []struct{ in, disp, uri, out string }{
		{`"Alice \"A\"" <sip:alice@a.com>;tag=12`, `Alice "A"`, "sip:alice@a.com", `"Alice \"A\"" <sip:alice@a.com>;tag=12`},
		{`Bob <sip:bob@b.com;transport=udp>;expires=60`, "Bob", "sip:bob@b.com;transport=udp", `"Bob" <sip:bob@b.com;transport=udp>;expires=60`},
		{`sip:carol@c.com;tag=9`, "", "sip:carol@c.com", `<sip:carol@c.com>;tag=9`},
		{`<sip:p1.example.com;lr>`, "", "sip:p1.example.com;lr", `<sip:p1.example.com;lr>`},
	} {
		n, err := ParseNameAddr(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if n.Display != tc.disp || n.URI.String() != tc.uri || n.String() != tc.out {
			t.Errorf("%q: got %q %q %q", tc.in, n.Display, n.URI.String(), n.String())
		}
	}
	n, _ := ParseNameAddr(`<sip:a@b>`)
	n.SetParam("tag", "x")
	n.SetParam("tag", "y")
	if v, _ := n.Param("tag"); v != "y" || n.String() != "<sip:a@b>;tag=y" {
		t.Errorf("SetParam: %q", n.String())
	}
	for _, bad := range []string{`"unterminated <sip:a@b>`, `<sip:a@b`, `a, b <sip:a@b>`, `<sip:a@b> junk`} {
		if _, err := ParseNameAddr(bad); err == nil {
			t.Errorf("ParseNameAddr(%q) accepted", bad)
		}
	}
}

func TestVia(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Via
		out  string
	}{
		{"SIP/2.0/UDP 10.0.2.15:5060;branch=z9hG4bK1;rport",
			Via{"UDP", "10.0.2.15", 5060, []Param{{"branch", "z9hG4bK1"}, {"rport", ""}}}, ""},
		{"SIP / 2.0 / tcp  host.example ; branch=z9hG4bK2",
			Via{"TCP", "host.example", 0, []Param{{"branch", "z9hG4bK2"}}}, "SIP/2.0/TCP host.example;branch=z9hG4bK2"},
		{"SIP/2.0/UDP [2001:db8::9]:5070", Via{"UDP", "2001:db8::9", 5070, nil}, ""},
	} {
		v, err := ParseVia(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(v, tc.want) {
			t.Errorf("%q: %+v", tc.in, v)
		}
		out := tc.out
		if out == "" {
			out = tc.in
		}
		if v.String() != out {
			t.Errorf("%q: String %q", tc.in, v.String())
		}
	}
	v, _ := ParseVia("SIP/2.0/UDP h;branch=z9hG4bKx;rport")
	v.SetParam("rport", "5062")
	v.SetParam("received", "10.0.2.2")
	if v.String() != "SIP/2.0/UDP h;branch=z9hG4bKx;rport=5062;received=10.0.2.2" || v.Branch() != "z9hG4bKx" {
		t.Errorf("SetParam: %q", v.String())
	}
	for _, bad := range []string{"", "SIP/2.0/UDP", "SIP/3.0/UDP h", "HTTP/2.0/UDP h", "SIP/2.0/UDP h:0"} {
		if _, err := ParseVia(bad); err == nil {
			t.Errorf("ParseVia(%q) accepted", bad)
		}
	}
}

func TestIDs(t *testing.T) {
	b1, b2 := NewBranch(), NewBranch()
	if !strings.HasPrefix(b1, MagicCookie) || b1 == b2 || len(b1) < 16 {
		t.Errorf("NewBranch: %q %q", b1, b2)
	}
	if NewTag() == NewTag() || !strings.HasSuffix(NewCallID("h"), "@h") || strings.Contains(NewCallID(""), "@") {
		t.Error("NewTag/NewCallID")
	}
	if ReasonPhrase(486) != "Busy Here" || ReasonPhrase(499) != "Client Error" {
		t.Error("ReasonPhrase")
	}
}

// TestStatusLine: the status line read at once ("SIP/2.0 NNN ...") and
// the others, read step by step, are read as the old parser reads them.
func TestStatusLine(t *testing.T) {
	for _, l := range []string{
		"SIP/2.0 200 OK", "SIP/2.0 180 Ringing", "SIP/2.0 200", "SIP/2.0 200 ", "SIP/2.0 699 x y",
		"SIP/2.0 100  Trying", "SIP/2.0 099 x", "SIP/2.0 700 x", "SIP/2.0 2000 OK", "SIP/2.0 20a OK",
		"SIP/2.0 20 OK", "SIP/2.0  200 OK", "SIP/2.0 +20 OK", "SIP/3.0 200 OK", "SIP/2.0", "SIP/2.0 ",
	} {
		var m, want Message
		err, werr := m.parseStartLine(l), legacyStartLine(&want, l)
		if (err == nil) != (werr == nil) || m.StatusCode != want.StatusCode || m.Reason != want.Reason {
			t.Errorf("%q: %d %q %v; the old parser: %d %q %v", l, m.StatusCode, m.Reason, err, want.StatusCode, want.Reason, werr)
		}
	}
}
