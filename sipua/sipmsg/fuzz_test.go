package sipmsg

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzMsg is reused across inputs, as a receive loop reuses its message:
// state from one input must never leak into the next.
var fuzzMsg Message

// FuzzParseFrom is differential: ParseFrom into a reused message, Parse (a
// copy into a fresh one) and the old line-by-line parser (legacy_test.go)
// agree on every input ParseFrom accepts; re-serialising a parsed message
// re-parses to the same fields; the field parsers accept what ParseFrom
// checked; and the views (TopVia, Tag, Addr, CSeq), kept by ParseFrom
// or not, read what a fresh scan reads.
func FuzzParseFrom(f *testing.F) {
	files, _ := filepath.Glob("testdata/rfc4475/*.dat")
	bench, _ := filepath.Glob("testdata/bench/*.sip")
	for _, fn := range append(files, bench...) {
		b, _ := os.ReadFile(fn)
		f.Add(b)
	}
	f.Add([]byte(invite))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		buf := append([]byte(nil), b...)
		errFrom := fuzzMsg.ParseFrom(buf)
		if (err == nil) != (errFrom == nil) || err != nil && err.Error() != errFrom.Error() {
			t.Fatalf("Parse: %v; ParseFrom: %v", err, errFrom)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			if c, _ := ResponseFor(err); c != 400 && c != 505 {
				t.Fatalf("ResponseFor(%v) = %d", err, c)
			}
			return
		}
		if !sameMessage(m, &fuzzMsg) {
			t.Fatalf("ParseFrom and Parse differ:\n%q\n%q", m.String(), fuzzMsg.String())
		}
		if lm, lerr := legacyParse(b); lerr != nil || !sameMessage(m, lm) {
			t.Fatalf("the old parser differs (%v)", lerr)
		}
		if c := m.Clone(); !sameMessage(m, c) {
			t.Fatalf("Clone differs")
		}
		out := m.AppendTo(nil)
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("serialised message does not parse: %v\n%q", err, out)
		}
		if !sameExceptContentLength(m, m2) {
			t.Fatalf("round trip changed the message:\n%q\n%q", out, m2.String())
		}
		if out2 := m2.AppendTo(nil); string(out2) != string(out) {
			t.Fatalf("serialisation not stable:\n%q\n%q", out, out2)
		}
		for _, v := range m.GetAll("Via") {
			if _, err := ParseVia(v); err != nil {
				t.Fatalf("ParseVia(%q) after a successful parse: %v", v, err)
			}
		}
		for _, n := range []string{"From", "To"} {
			a, err := ParseNameAddr(m.Get(n))
			if err != nil {
				t.Fatalf("ParseNameAddr(%q) after a successful parse: %v", m.Get(n), err)
			}
			if tag, _ := a.Param("tag"); Tag(fuzzMsg.Get(n)) != tag {
				t.Fatalf("Tag(%q) = %q, ParseNameAddr: %q", m.Get(n), Tag(fuzzMsg.Get(n)), tag)
			}
		}
		checkKept(t, &fuzzMsg)
		checkKept(t, m)
		if v, err := fuzzMsg.TopVia(); err == nil {
			if p, _ := ParseVia(m.Get("Via")); v.Branch() != p.Branch() || v.Host != p.Host || v.Port != p.Port {
				t.Fatalf("TopVia %+v, ParseVia %+v", v, p)
			}
		} else if !errors.Is(err, errSentBySpace) {
			t.Fatalf("TopVia after a successful parse: %v", err)
		}
		_, _ = ParseURI(m.RequestURI)
	})
}

// sameExceptContentLength compares two messages ignoring Content-Length
// headers (AppendTo always writes one, from the body).
func sameExceptContentLength(a, b *Message) bool {
	if a.Method != b.Method || a.RequestURI != b.RequestURI || a.StatusCode != b.StatusCode ||
		a.Reason != b.Reason || string(a.Body) != string(b.Body) {
		return false
	}
	var ha, hb []Header
	for _, h := range a.Headers {
		if h.Name != "Content-Length" {
			ha = append(ha, h)
		}
	}
	for _, h := range b.Headers {
		if h.Name != "Content-Length" {
			hb = append(hb, h)
		}
	}
	if len(ha) != len(hb) {
		return false
	}
	for i := range ha {
		if ha[i] != hb[i] {
			return false
		}
	}
	return true
}

// FuzzURI: ParseURI and the allocation-free check agree; a parsed URI's
// String parses back to the same String.
func FuzzURI(f *testing.F) {
	for _, s := range []string{
		"sip:alice@atlanta.com", "sips:[2001:db8::1]:5061;transport=tls",
		"sip:alice:secret@atlanta.com:5070;transport=udp;lr?subject=x",
		"tel:+1-201-555-0123", "sip:%61lice@h;x=\"a;b\"", "SIP:10.0.2.2",
		"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if (err == nil) != (checkURI(s) == nil) {
			t.Fatalf("ParseURI: %v; checkURI: %v", err, checkURI(s))
		}
		if err != nil {
			return
		}
		u2, err := ParseURI(u.String())
		if err != nil {
			t.Fatalf("ParseURI(%q) (from %q): %v", u.String(), s, err)
		}
		if u2.String() != u.String() {
			t.Fatalf("round trip: %q -> %q", u.String(), u2.String())
		}
	})
}

// FuzzNameAddr: ParseNameAddr and the allocation-free check agree; String
// parses back to the same String.
func FuzzNameAddr(f *testing.F) {
	for _, s := range []string{
		`"Alice \"A\"" <sip:alice@a.com>;tag=12`, `Bob <sip:bob@b.com;transport=udp>;expires=60`,
		`sip:carol@c.com;tag=9`, `<sip:p1.example.com;lr>`, `"Mr. J. User <sip:j.user@example.com>`,
		`Bell, Alexander <sip:a.g.bell@example.com>;tag=43`, `"W" < sip:t.watson@example.org >`,
		`<urn:uuid:0000>;+sip.instance="<urn:uuid:1>"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNameAddr(s)
		if (err == nil) != (checkNameAddr(s) == nil) {
			t.Fatalf("ParseNameAddr: %v; checkNameAddr: %v", err, checkNameAddr(s))
		}
		if err != nil {
			return
		}
		n2, err := ParseNameAddr(n.String())
		if err != nil {
			t.Fatalf("ParseNameAddr(%q) (from %q): %v", n.String(), s, err)
		}
		if n2.String() != n.String() {
			t.Fatalf("round trip: %q -> %q", n.String(), n2.String())
		}
	})
}

// FuzzVia: ParseVia and the allocation-free check agree; String parses back
// to the same String.
func FuzzVia(f *testing.F) {
	for _, s := range []string{
		"SIP/2.0/UDP 10.0.2.15:5060;branch=z9hG4bK1;rport", "SIP / 2.0 / tcp  host.example ; branch=z9hG4bK2",
		"SIP/2.0/UDP [2001:db8::9]:5070", "SIP/2.0/UDP 192.0.2.15;;", "SIP/2.0/TLS h : 5061;received=1.2.3.4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVia(s)
		if (err == nil) != (checkVia(s) == nil) {
			t.Fatalf("ParseVia: %v; checkVia: %v", err, checkVia(s))
		}
		if err != nil {
			return
		}
		v2, err := ParseVia(v.String())
		if err != nil {
			t.Fatalf("ParseVia(%q) (from %q): %v", v.String(), s, err)
		}
		if v2.String() != v.String() {
			t.Fatalf("round trip: %q -> %q", v.String(), v2.String())
		}
	})
}
