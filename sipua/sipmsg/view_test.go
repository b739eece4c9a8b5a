package sipmsg

import (
	"errors"
	"strings"
	"testing"
)

func TestScanVia(t *testing.T) {
	for _, tc := range []struct {
		via, transport, host string
		port                 int
		branch               string
		bad, space           bool
	}{
		{via: "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport", transport: "UDP", host: "10.0.0.1", port: 5060, branch: "z9hG4bK1"},
		{via: "SIP/2.0/UDP 10.0.0.1;rport=5;received=1.2.3.4;BRANCH = z9hG4bK2", transport: "UDP", host: "10.0.0.1", branch: "z9hG4bK2"},
		{via: " SIP / 2.0 / tcp  host.example ;branch=x", transport: "tcp", host: "host.example", branch: "x"},
		{via: "SIP/2.0/TLS h : 5061;received=1.2.3.4", transport: "TLS", host: "h", port: 5061},
		{via: "SIP/2.0/UDP [2001:db8::9] :5070;branch=z9hG4bK3", transport: "UDP", host: "2001:db8::9", port: 5070, branch: "z9hG4bK3"},
		{via: "SIP/2.0/UDP [::1]:5070", transport: "UDP", host: "::1", port: 5070},
		{via: `SIP/2.0/UDP h;x="a;branch=b";branch=c`, transport: "UDP", host: "h", branch: "c"},
		{via: "SIP/2.0/UDP h;branchx=1;branch", transport: "UDP", host: "h"},
		{via: "SIP/2.0/UDP h;branch=", transport: "UDP", host: "h"},
		{via: "SIP/2.0/UDP h o:5060", space: true},
		{via: "SIP/2.0/UDP h:50 60", space: true},
		{via: "SIP/2.0/UDP h:0", bad: true},
		{via: "SIP/2.0/UDP h : 65536", bad: true},
		{via: "SIP/2.0/UDP h;;", bad: true},
		{via: "SIP/3.0/UDP h", bad: true},
		{via: "SIP/2.0/UDP", bad: true},
	} {
		v, err := ScanVia(tc.via)
		switch {
		case tc.space:
			if !errors.Is(err, errSentBySpace) {
				t.Errorf("ScanVia(%q): %v, want errSentBySpace", tc.via, err)
			}
			if _, err := ParseVia(tc.via); err != nil {
				t.Errorf("ParseVia(%q): %v", tc.via, err)
			}
		case tc.bad:
			if err == nil || errors.Is(err, errSentBySpace) {
				t.Errorf("ScanVia(%q) = %+v, %v; want an error", tc.via, v, err)
			}
		case err != nil:
			t.Errorf("ScanVia(%q): %v", tc.via, err)
		case v.Transport != tc.transport || v.Host != tc.host || v.Port != tc.port || v.Branch() != tc.branch:
			t.Errorf("ScanVia(%q) = %+v branch %q", tc.via, v, v.Branch())
		}
	}
	// The branch found by the scan is Branch's only while Params is the
	// string scanned: an edited view reads its new parameters.
	v, err := ScanVia("SIP/2.0/UDP h;branch=z9hG4bK1")
	if err != nil || v.Branch() != "z9hG4bK1" {
		t.Fatalf("ScanVia: %+v %v", v, err)
	}
	for params, want := range map[string]string{";branch=z9hG4bK2": "z9hG4bK2", "": "", ";rport": "", v.Params[:9]: "z"} {
		w := v
		w.Params = params
		if w.Branch() != want {
			t.Errorf("Params %q: Branch %q, want %q", params, w.Branch(), want)
		}
	}
}

func TestScanNameAddr(t *testing.T) {
	for _, tc := range []struct {
		s, display, user, host string
		port                   int
		tag                    string
		bad                    bool
	}{
		{s: `"Alice Desk" <sip:1001@10.0.2.2>;tag=1928301774a`, display: "Alice Desk", user: "1001", host: "10.0.2.2", tag: "1928301774a"},
		{s: `<sip:1001@10.0.2.15:5060;transport=udp>;+sip.instance="<urn:uuid:0>"`, user: "1001", host: "10.0.2.15", port: 5060},
		{s: `"A;tag=x" <sip:a@h;tag=uri>;tag=abc`, display: "A;tag=x", user: "a", host: "h", tag: "abc"},
		{s: `<sip:a@h>;x=1; TAG = def ;y`, user: "a", host: "h", tag: "def"},
		{s: `sip:a@h;tag=ghi`, user: "a", host: "h", tag: "ghi"},
		{s: `<sip:a@h;tag=uri>`, user: "a", host: "h"},
		{s: `<sip:a@[2001:db8::1]:5062>;tagx=1`, user: "a", host: "2001:db8::1", port: 5062},
		{s: `Bob <sips:b.example.com>`, display: "Bob", host: "b.example.com"},
		{s: `"\"Q\"" <sip:q@h>;tag=1`, display: `\"Q\"`, user: "q", host: "h", tag: "1"},
		{s: `<sip:a@h`, bad: true},
		{s: `"A <sip:a@h>`, bad: true},
		{s: `<sip:a@h>;;tag=1`, bad: true},
		{s: `<sip:a@h:0>;tag=1`, bad: true},
		{s: `< sip:a@h>`, bad: true},
	} {
		a, err := ScanNameAddr(tc.s)
		switch {
		case tc.bad:
			if err == nil {
				t.Errorf("ScanNameAddr(%q) = %+v, want an error", tc.s, a)
			}
		case err != nil:
			t.Errorf("ScanNameAddr(%q): %v", tc.s, err)
		case a.Display != tc.display || a.URI.User != tc.user || a.URI.Host != tc.host || a.URI.Port != tc.port || a.Tag() != tc.tag:
			t.Errorf("ScanNameAddr(%q) = %+v tag %q", tc.s, a, a.Tag())
		}
		if tag := Tag(tc.s); !tc.bad && tag != tc.tag {
			t.Errorf("Tag(%q) = %q, want %q", tc.s, tag, tc.tag)
		}
	}
	if tag := Tag(`sip:a@h`); tag != "" {
		t.Errorf("Tag without a tag = %q", tag)
	}
}

func TestScanURI(t *testing.T) {
	u, err := ScanURI("sips:alice:pw@[2001:db8::1]:5061;transport=tls;lr?subject=x")
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "sips" || u.User != "alice" || u.Password != "pw" || u.Host != "2001:db8::1" || u.Port != 5061 ||
		u.Params != ";transport=tls;lr" || u.Headers != "subject=x" {
		t.Fatalf("%+v", u)
	}
	if v, ok := u.Param("TRANSPORT"); !ok || v != "tls" {
		t.Fatalf("transport %q %v", v, ok)
	}
	if v, ok := u.Param("lr"); !ok || v != "" {
		t.Fatalf("lr %q %v", v, ok)
	}
	if _, ok := u.Param("maddr"); ok {
		t.Fatal("maddr present")
	}
	if u, err := ScanURI("tel:+1-201-555-0123"); err != nil || u.Opaque != "+1-201-555-0123" {
		t.Fatalf("tel: %+v %v", u, err)
	}
}

// TestViewsAllocs: what a user agent reads from every message, from a
// message ParseFrom filled, allocates nothing.
func TestViewsAllocs(t *testing.T) {
	for _, name := range []string{"invite.sip", "ok200.sip"} {
		src := benchMessage(t, name)
		var m Message
		if err := m.ParseFrom(src); err != nil {
			t.Fatal(err)
		}
		var f UAFields
		read := func() {
			if err := f.Read(&m); err != nil {
				t.Fatal(err)
			}
		}
		if n := testing.AllocsPerRun(100, read); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
		if f.Branch != "z9hG4bK776asdhds0f3a1c" || f.ViaHost != "10.0.2.15" || f.ViaPort != 5060 ||
			f.FromTag != "1928301774a" || f.CallID != "a84b4c76e66710f3c2b9@10.0.2.15" ||
			f.Seq != 314159 || f.Method != "INVITE" || f.ContactHost == "" {
			t.Errorf("%s: %+v", name, f)
		}
		if wantTo := map[string]string{"invite.sip": "", "ok200.sip": "a6c85cf"}[name]; f.ToTag != wantTo {
			t.Errorf("%s: To tag %q, want %q", name, f.ToTag, wantTo)
		}
	}
}

// UAFields is what a user agent reads from every message (as
// tools/sipbench's BenchmarkFields reads it on both sides).
type UAFields struct {
	Branch, ViaHost string
	ViaPort         int
	FromTag, ToTag  string
	CallID          string
	Seq             uint32
	Method          string
	ContactHost     string
}

func (f *UAFields) Read(m *Message) error {
	v, err := m.TopVia()
	if err != nil {
		return err
	}
	f.Branch, f.ViaHost, f.ViaPort = v.Branch(), v.Host, v.Port
	f.FromTag, f.ToTag = m.FromTag(), m.ToTag()
	f.CallID = m.Get("Call-ID")
	if f.Seq, f.Method, err = m.CSeq(); err != nil {
		return err
	}
	c, err := m.Addr("Contact")
	if err != nil {
		return err
	}
	f.ContactHost = c.URI.Host
	return nil
}

// TestKeptViews: the views ParseFrom keeps are what a fresh scan reads,
// and a header set after the parse is read afresh.
func TestKeptViews(t *testing.T) {
	for _, name := range []string{"invite.sip", "ok200.sip"} {
		var m Message
		if err := m.ParseFrom(benchMessage(t, name)); err != nil {
			t.Fatal(err)
		}
		checkKept(t, &m)
		m.Set("Via", "SIP/2.0/TCP new.example:5070;branch=z9hG4bKnew")
		m.Set("From", "<sip:x@new.example>;tag=newfrom")
		m.Set("To", "<sip:y@new.example>;tag=newto")
		m.Set("Contact", "<sip:z@contact.example>")
		m.Set("CSeq", "9 BYE")
		checkKept(t, &m)
		if v, _ := m.TopVia(); v.Host != "new.example" || m.FromTag() != "newfrom" || m.ToTag() != "newto" {
			t.Fatalf("%s: edited headers read as %+v %q %q", name, v, m.FromTag(), m.ToTag())
		}
		if c, _ := m.Addr("m"); c.URI.Host != "contact.example" {
			t.Fatalf("%s: Contact %+v", name, c)
		}
		if seq, meth, _ := m.CSeq(); seq != 9 || meth != "BYE" {
			t.Fatalf("%s: CSeq %d %s", name, seq, meth)
		}
	}
	if m, err := Parse(benchMessage(t, "invite.sip")); err != nil || m.kept == nil || m.kept.via == "" {
		t.Fatalf("Parse keeps no views: %v", err)
	}
}

// checkKept: m's views, kept or not, are what scanning m's values reads.
func checkKept(t *testing.T, m *Message) {
	t.Helper()
	v, err := m.TopVia()
	if w, werr := ScanVia(m.Get("Via")); v != w || (err == nil) != (werr == nil) {
		t.Fatalf("TopVia %+v %v, ScanVia %+v %v", v, err, w, werr)
	}
	for _, n := range []string{"From", "To", "Contact"} {
		a, err := m.Addr(n)
		if w, werr := ScanNameAddr(m.Get(n)); a != w || (err == nil) != (werr == nil) {
			t.Fatalf("Addr(%s) %+v %v, ScanNameAddr %+v %v", n, a, err, w, werr)
		}
	}
	if m.FromTag() != Tag(m.Get("From")) || m.ToTag() != Tag(m.Get("To")) {
		t.Fatalf("FromTag %q ToTag %q", m.FromTag(), m.ToTag())
	}
	seq, meth, err := m.CSeq()
	if ws, wm, werr := parseCSeq(m.Get("CSeq")); seq != ws || meth != wm || (err == nil) != (werr == nil) {
		t.Fatalf("CSeq %d %q %v, parseCSeq %d %q %v", seq, meth, err, ws, wm, werr)
	}
}

// FuzzScanVia: ScanVia accepts what ParseVia accepts (but a sent-by with
// whitespace inside it) and reads the same parts.
func FuzzScanVia(f *testing.F) {
	for _, s := range []string{
		"SIP/2.0/UDP 10.0.2.15:5060;branch=z9hG4bK1;rport", "SIP / 2.0 / tcp  host.example ; branch=z9hG4bK2",
		"SIP/2.0/UDP [2001:db8::9]:5070", "SIP/2.0/UDP 192.0.2.15;;", "SIP/2.0/TLS h : 5061;received=1.2.3.4",
		`SIP/2.0/UDP h;x="a;branch=b";branch=c`, "SIP/2.0/UDP h o:5060", "SIP/2.0/UDP [::1] : 5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, perr := ParseVia(s)
		v, err := ScanVia(s)
		if errors.Is(err, errSentBySpace) {
			return // ParseVia may or may not read it; a view cannot
		}
		if (err == nil) != (perr == nil) {
			t.Fatalf("ParseVia: %v; ScanVia: %v", perr, err)
		}
		if err != nil {
			return
		}
		if strings.ToUpper(v.Transport) != p.Transport || v.Host != p.Host || v.Port != p.Port || v.Branch() != p.Branch() {
			t.Fatalf("ScanVia %+v, ParseVia %+v", v, p)
		}
		sameParams(t, p.Params, v.Param, v.Params)
	})
}

// FuzzScanNameAddr: ScanNameAddr accepts what ParseNameAddr accepts and
// reads the same parts; Tag finds the same tag; ScanURI agrees with ParseURI.
func FuzzScanNameAddr(f *testing.F) {
	for _, s := range []string{
		`"Alice \"A\"" <sip:alice@a.com>;tag=12`, `Bob <sip:bob@b.com;transport=udp>;expires=60`,
		`sip:carol@c.com;tag=9`, `<sip:p1.example.com;lr>`, `"Mr. J. User <sip:j.user@example.com>`,
		`Bell, Alexander <sip:a.g.bell@example.com>;tag=43`, `"W" < sip:t.watson@example.org >`,
		`<urn:uuid:0000>;+sip.instance="<urn:uuid:1>"`, `<sip:a@h>;x=1; TAG = def ;y`,
		`<sip:a@h;tag=uri>;x="a;tag=b";tag=c`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, perr := ParseNameAddr(s)
		a, err := ScanNameAddr(s)
		if (err == nil) != (perr == nil) {
			t.Fatalf("ParseNameAddr: %v; ScanNameAddr: %v", perr, err)
		}
		if err == nil {
			if strings.IndexByte(a.Display, '\\') < 0 && a.Display != p.Display {
				t.Fatalf("display %q, ParseNameAddr %q", a.Display, p.Display)
			}
			sameURI(t, p.URI, a.URI)
			sameParams(t, p.Params, a.Param, a.Params)
			if want, _ := p.Param("tag"); Tag(s) != want || a.Tag() != want {
				t.Fatalf("Tag %q, AddrView.Tag %q, ParseNameAddr %q", Tag(s), a.Tag(), want)
			}
		}
		pu, perr := ParseURI(s)
		u, err := ScanURI(s)
		if (err == nil) != (perr == nil) {
			t.Fatalf("ParseURI: %v; ScanURI: %v", perr, err)
		}
		if err == nil {
			sameURI(t, pu, u)
		}
	})
}

func sameURI(t *testing.T, p URI, u URIView) {
	t.Helper()
	if u.Scheme != p.Scheme || u.User != p.User || u.Password != p.Password || u.Host != p.Host ||
		u.Port != p.Port || u.Headers != p.Headers || u.Opaque != p.Opaque {
		t.Fatalf("ScanURI %+v, ParseURI %+v", u, p)
	}
	sameParams(t, p.Params, u.Param, u.Params)
}

// sameParams: the raw parameters parse to want, and the scan finds each
// one's value (the first of its name, as getParam does).
func sameParams(t *testing.T, want []Param, param func(string) (string, bool), raw string) {
	t.Helper()
	got, err := parseParams(raw)
	if err != nil || len(got) != len(want) {
		t.Fatalf("params %q: %v %v, want %v", raw, got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("params %q: %v, want %v", raw, got, want)
		}
		w, _ := getParam(want, want[i].Name)
		if v, ok := param(want[i].Name); !ok || v != w {
			t.Fatalf("param %q in %q: %q %v, want %q", want[i].Name, raw, v, ok, w)
		}
	}
	if _, ok := param("no-such-param"); ok != func() bool { _, ok := getParam(want, "no-such-param"); return ok }() {
		t.Fatalf("param no-such-param in %q", raw)
	}
}

// BenchmarkViews: reading the fields a user agent reads from every message
// (UAFields) out of a parsed message.
func BenchmarkViews(b *testing.B) {
	for _, name := range []string{"invite.sip", "ok200.sip"} {
		src := benchMessage(b, name)
		b.Run(name, func(b *testing.B) {
			var m Message
			if err := m.ParseFrom(src); err != nil {
				b.Fatal(err)
			}
			var f UAFields
			b.ReportAllocs()
			for b.Loop() {
				if err := f.Read(&m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestTopTransport: the top Via's transport as written, without
// allocating; "" for a Via that does not read.
func TestTopTransport(t *testing.T) {
	for via, want := range map[string]string{
		"SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1":      "UDP",
		"SIP/2.0/tcp 1.2.3.4:5060;branch=z9hG4bK1": "tcp",
		"SIP / 2.0 / TLS 1.2.3.4;branch=z9hG4bK1":  "TLS",
		"garbage": "",
	} {
		m := NewRequest("OPTIONS", "sip:x")
		m.Add("Via", via)
		if got := m.TopTransport(); got != want {
			t.Errorf("TopTransport(%q) = %q, want %q", via, got, want)
		}
	}
	m := NewRequest("OPTIONS", "sip:x")
	m.Add("Via", "SIP/2.0/TCP 1.2.3.4:5060;branch=z9hG4bK1;rport")
	if n := testing.AllocsPerRun(100, func() { m.TopTransport() }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
