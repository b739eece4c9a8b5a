package sipmsg

import (
	"os"
	"strings"
	"testing"
)

func benchMessage(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/bench/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestParseFromAllocs proves the fixed-allocation budget: parsing into a
// reused message and serialising into a sized buffer allocate nothing.
func TestParseFromAllocs(t *testing.T) {
	for _, name := range []string{"invite.sip", "ok200.sip", "folded"} {
		var src []byte
		if name == "folded" {
			src = []byte(invite) // compact forms and a folded line
		} else {
			src = benchMessage(t, name)
		}
		buf := make([]byte, len(src))
		var m Message
		parse := func() {
			copy(buf, src) // ParseFrom may unfold in place
			if err := m.ParseFrom(buf); err != nil {
				t.Fatal(err)
			}
		}
		if n := testing.AllocsPerRun(100, parse); n != 0 {
			t.Errorf("%s: ParseFrom: %v allocations, want 0", name, n)
		}
		want, _ := Parse(src)
		if !sameMessage(want, &m) {
			t.Errorf("%s: ParseFrom and Parse differ", name)
		}
		out := make([]byte, 0, 2*len(src))
		if n := testing.AllocsPerRun(100, func() { out = m.AppendTo(out[:0]) }); n != 0 {
			t.Errorf("%s: AppendTo: %v allocations, want 0", name, n)
		}
		lookups := func() {
			_ = m.Get("Via")
			_ = m.Get("f")
			_ = m.Get("call-id")
			_, _, _ = m.CSeq()
		}
		if n := testing.AllocsPerRun(100, lookups); n != 0 {
			t.Errorf("%s: Get/CSeq: %v allocations, want 0", name, n)
		}
	}
}

// TestParseFromReuse: a message reused for a smaller message keeps no
// headers of the bigger one, and views stay within the newest buffer.
func TestParseFromReuse(t *testing.T) {
	var m Message
	inv := benchMessage(t, "invite.sip")
	if err := m.ParseFrom(inv); err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	ok := benchMessage(t, "ok200.sip")
	if err := m.ParseFrom(ok); err != nil {
		t.Fatal(err)
	}
	if m.IsRequest() || m.Get("Content-Type") != "" || m.Body != nil || m.StatusCode != 200 {
		t.Fatalf("reused message keeps old state: %q", m.String())
	}
	for i := range inv {
		inv[i] = 'X'
	}
	if c.Method != "INVITE" || c.Get("Call-ID") != "a84b4c76e66710f3c2b9@10.0.2.15" || len(c.Body) == 0 || c.Body[0] != 'v' {
		t.Fatalf("Clone shares the parse buffer: %q", c.String())
	}
}

func BenchmarkParseFrom(b *testing.B) {
	for _, name := range []string{"invite.sip", "ok200.sip"} {
		src := benchMessage(b, name)
		b.Run(name, func(b *testing.B) {
			var m Message
			if err := m.ParseFrom(src); err != nil { // warm: the header slice is sized once
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if err := m.ParseFrom(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"invite.sip", "ok200.sip"} {
		src := benchMessage(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := Parse(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendTo(b *testing.B) {
	for _, name := range []string{"invite.sip", "ok200.sip"} {
		src := benchMessage(b, name)
		m, err := Parse(src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			out := make([]byte, 0, 2048)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				out = m.AppendTo(out[:0])
			}
		})
	}
}

// TestParseCopies: Parse's message does not share the caller's buffer.
func TestParseCopies(t *testing.T) {
	b := []byte(invite)
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'X'
	}
	if m.Method != "INVITE" || m.Get("Subject") != "folded line" || string(m.Body) != "v=0\r" {
		t.Fatalf("Parse shares the input: %q", m.String())
	}
}

// TestValuesAllocs: Values and Has look through a message's headers, list
// elements split, without allocating, and yield what GetAll returns.
func TestValuesAllocs(t *testing.T) {
	m, err := Parse([]byte("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n" +
		"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
		"Supported: 100rel, timer\r\nSupported: replaces\r\nAllow: INVITE, ACK\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for v := range m.Values("supported") {
		got = append(got, v)
	}
	if want := m.GetAll("Supported"); len(got) != 3 || len(want) != 3 || got[0] != want[0] || got[2] != "replaces" {
		t.Fatalf("Values %q, GetAll %q", got, want)
	}
	n := testing.AllocsPerRun(100, func() {
		found := false
		for v := range m.Values("Supported") {
			if v == "timer" {
				found = true
				break
			}
		}
		if !found || !m.Has("Allow") || m.Has("Require") {
			t.Fatal("Values or Has wrong")
		}
	})
	if n != 0 {
		t.Errorf("Values and Has: %v allocations, want 0", n)
	}
}

// TestAppendVia: AppendVia writes what ParseVia, SetParam and String do,
// into the caller's buffer without allocating.
func TestAppendVia(t *testing.T) {
	for _, c := range []struct {
		via string
		set []Param
	}{
		{"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport", []Param{{"received", "192.0.2.1"}, {"rport", "5062"}}},
		{"SIP/2.0/udp host.example ; branch=z9hG4bKb ;rport=7;received=1.2.3.4", []Param{{"received", "192.0.2.1"}}},
		{"SIP / 2.0 / tcp [2001:db8::1]:5061;branch=z9hG4bKc;x;RPORT", []Param{{"received", "2001:db8::2"}, {"rport", "9"}}},
		{"SIP/2.0/UDP h;branch=z9hG4bKd", nil},
	} {
		v, err := ParseVia(c.via)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range c.set {
			v.SetParam(p.Name, p.Value)
		}
		b, err := AppendVia(nil, c.via, c.set...)
		if err != nil || string(b) != v.String() {
			t.Errorf("AppendVia(%q) = %q, %v; want %q", c.via, b, err, v.String())
		}
	}
	if _, err := AppendVia(nil, "SIP/2.0/UDP h;;x"); err == nil {
		t.Error("AppendVia took an empty parameter")
	}
	buf := make([]byte, 0, 256)
	via := "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport"
	if n := testing.AllocsPerRun(100, func() {
		buf, _ = AppendVia(buf[:0], via, Param{"received", "192.0.2.1"}, Param{"rport", "5062"})
	}); n != 0 {
		t.Errorf("AppendVia: %v allocations, want 0", n)
	}
}

// TestNewResponseAllocs: a response is its message and its headers, with
// room for what a UA adds to them.
func TestNewResponseAllocs(t *testing.T) {
	req, err := Parse(benchMessage(t, "invite.sip"))
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() {
		r := NewResponse(req, 200, "")
		for range respRoom {
			r.Add("X", "y")
		}
	}); n != 2 {
		t.Errorf("%v allocations a response, want 2", n)
	}
}

// TestAppendBranch: a branch is the magic cookie and 16 hex digits, fresh
// each time, appended without allocating.
func TestAppendBranch(t *testing.T) {
	a, b := NewBranch(), NewBranch()
	if len(a) != len(MagicCookie)+16 || a[:len(MagicCookie)] != MagicCookie || a == b {
		t.Fatalf("branches %q %q", a, b)
	}
	for _, c := range a[len(MagicCookie):] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			t.Fatalf("branch %q", a)
		}
	}
	buf := make([]byte, 0, 64)
	if got := string(AppendBranch(append(buf, "x;branch="...))); len(got) != 9+len(a) || got[:9+len(MagicCookie)] != "x;branch="+MagicCookie {
		t.Fatalf("AppendBranch %q", got)
	}
	if n := testing.AllocsPerRun(50, func() { buf = AppendBranch(buf[:0]) }); n != 0 {
		t.Errorf("AppendBranch: %v allocations, want 0", n)
	}
}
