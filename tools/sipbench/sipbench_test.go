package sipbench

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/emiago/sipgo/sip"
)

func load(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := Load(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestSameMessages: both parsers accept the messages and agree on what
// matters, so the benchmarks compare like with like.
func TestSameMessages(t *testing.T) {
	for _, name := range Messages {
		b := load(t, name)
		var m sipmsg.Message
		if err := m.ParseFrom(append([]byte(nil), b...)); err != nil {
			t.Fatalf("%s: sipmsg: %v", name, err)
		}
		g, err := sip.NewParser().ParseSIP(b)
		if err != nil {
			t.Fatalf("%s: sipgo: %v", name, err)
		}
		if g.CallID().Value() != m.Get("Call-ID") || string(g.Body()) != string(m.Body) {
			t.Fatalf("%s: parsers disagree: %q %q", name, g.CallID().Value(), m.Get("Call-ID"))
		}
		if n := testing.AllocsPerRun(50, func() { _ = m.ParseFrom(b) }); n != 0 {
			t.Errorf("%s: ParseFrom allocates %v times", name, n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, name := range Messages {
		src := load(b, name)
		b.Run(name+"/sipmsg.ParseFrom", func(b *testing.B) {
			var m sipmsg.Message
			buf := make([]byte, len(src))
			copy(buf, src)
			if err := m.ParseFrom(buf); err != nil { // warm: the header slice is sized once
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				copy(buf, src) // as a receive loop does: a fresh datagram in the same buffer
				if err := m.ParseFrom(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/sipmsg.Parse", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := sipmsg.Parse(src); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/sipgo", func(b *testing.B) {
			p := sip.NewParser()
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := p.ParseSIP(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSerialize(b *testing.B) {
	for _, name := range Messages {
		src := load(b, name)
		b.Run(name+"/sipmsg.AppendTo", func(b *testing.B) {
			m, err := sipmsg.Parse(src)
			if err != nil {
				b.Fatal(err)
			}
			out := make([]byte, 0, 2048)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				out = m.AppendTo(out[:0])
			}
		})
		b.Run(name+"/sipgo.StringWrite", func(b *testing.B) {
			g, err := sip.NewParser().ParseSIP(src)
			if err != nil {
				b.Fatal(err)
			}
			var out bytes.Buffer
			out.Grow(2048)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				out.Reset()
				g.StringWrite(&out)
			}
		})
	}
}

// BenchmarkSpeedup interleaves the two parsers in batches of 50 on the same
// message, so that both see the same machine load, and reports how many
// times faster ParseFrom is than sipgo (budget: at least 2) and each one's
// ns per parse. ParseFrom only checks the message and leaves its values as
// text, while sipgo also builds typed headers: BenchmarkSpeedupFields
// compares like with like.
func BenchmarkSpeedup(b *testing.B) {
	for _, name := range Messages {
		src := load(b, name)
		b.Run(name, func(b *testing.B) {
			var m sipmsg.Message
			buf := make([]byte, len(src))
			p := sip.NewParser()
			interleave(b, func() {
				copy(buf, src)
				if err := m.ParseFrom(buf); err != nil {
					b.Fatal(err)
				}
			}, func() {
				if _, err := p.ParseSIP(src); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// interleave runs ours and theirs alternately in batches of 50 and reports
// x-faster (their time over ours, all batches summed), x-faster-median (the
// median over adjacent pairs of batches: what a load spike during one
// batch does not move), each side's ns per message and, measured before
// the timed loop, its allocations per message.
func interleave(b *testing.B, ours, theirs func()) {
	const batch = 50
	ownAllocs, theirAllocs := testing.AllocsPerRun(20, ours), testing.AllocsPerRun(20, theirs)
	var tOurs, tTheirs time.Duration
	var ratios []float64
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			ours()
		}
		t1 := time.Now()
		for range batch {
			theirs()
		}
		d0, d1 := t1.Sub(t0), time.Since(t1)
		tOurs += d0
		tTheirs += d1
		ratios = append(ratios, float64(d1)/float64(d0))
	}
	slices.Sort(ratios)
	n := float64(b.N * batch)
	b.ReportMetric(float64(tTheirs)/float64(tOurs), "x-faster")
	b.ReportMetric(ratios[len(ratios)/2], "x-faster-median")
	b.ReportMetric(float64(tOurs.Nanoseconds())/n, "sipmsg-ns/msg")
	b.ReportMetric(float64(tTheirs.Nanoseconds())/n, "sipgo-ns/msg")
	b.ReportMetric(ownAllocs, "sipmsg-allocs/msg")
	b.ReportMetric(theirAllocs, "sipgo-allocs/msg")
}

// fields is what a user agent reads from every message it receives: the
// top Via's branch and sent-by (the transaction key), the From and To tags
// and the Call-ID (the dialog), CSeq, and the Contact's host (the remote
// target).
type fields struct {
	branch, viaHost string
	viaPort         int
	fromTag, toTag  string
	callID          string
	seq             uint32
	method          string
	contactHost     string
}

// ownFields reads the fields through sipmsg's views (those ParseFrom kept
// as it checked the message): no allocation.
func ownFields(m *sipmsg.Message, f *fields) error {
	v, err := m.TopVia()
	if err != nil {
		return err
	}
	f.branch, f.viaHost, f.viaPort = v.Branch(), v.Host, v.Port
	f.fromTag, f.toTag = m.FromTag(), m.ToTag()
	f.callID = m.Get("Call-ID")
	if f.seq, f.method, err = m.CSeq(); err != nil {
		return err
	}
	c, err := m.Addr("Contact")
	if err != nil {
		return err
	}
	f.contactHost = c.URI.Host
	return nil
}

// sipgoFields reads the same fields through sipgo's typed headers (which
// its parser fills as it parses).
func sipgoFields(m sip.Message, f *fields) error {
	v, from, to, cid, cseq := m.Via(), m.From(), m.To(), m.CallID(), m.CSeq()
	c, _ := m.(interface{ Contact() *sip.ContactHeader })
	if v == nil || from == nil || to == nil || cid == nil || cseq == nil || c == nil || c.Contact() == nil {
		return errors.New("sipgo: a header is missing")
	}
	f.branch, _ = v.Params.Get("branch")
	f.viaHost, f.viaPort = v.Host, v.Port
	f.fromTag, _ = from.Params.Get("tag")
	f.toTag, _ = to.Params.Get("tag")
	f.callID = cid.Value()
	f.seq, f.method = cseq.SeqNo, string(cseq.MethodName)
	f.contactHost = c.Contact().Address.Host
	return nil
}

// TestSameFields: both sides read the same fields from both messages, and
// ParseFrom plus the views allocate nothing.
func TestSameFields(t *testing.T) {
	for _, name := range Messages {
		src := load(t, name)
		buf := append([]byte(nil), src...)
		var m sipmsg.Message
		var own, theirs fields
		if err := m.ParseFrom(buf); err != nil {
			t.Fatal(err)
		}
		if err := ownFields(&m, &own); err != nil {
			t.Fatalf("%s: sipmsg: %v", name, err)
		}
		g, err := sip.NewParser().ParseSIP(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := sipgoFields(g, &theirs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if own != theirs || own.branch == "" || own.fromTag == "" || own.contactHost == "" || own.viaPort == 0 {
			t.Fatalf("%s: sipmsg %+v, sipgo %+v", name, own, theirs)
		}
		read := func() {
			copy(buf, src)
			if err := m.ParseFrom(buf); err != nil {
				t.Fatal(err)
			}
			if err := ownFields(&m, &own); err != nil {
				t.Fatal(err)
			}
		}
		if n := testing.AllocsPerRun(50, read); n != 0 {
			t.Errorf("%s: ParseFrom and the views allocate %v times", name, n)
		}
	}
}

// BenchmarkSpeedupFields is BenchmarkSpeedup on comparable work: each side
// parses the message and reads what a user agent reads from every message
// (fields), sipmsg by ParseFrom into a reused message and its views, sipgo
// by ParseSIP and its typed headers. The two alternate in batches of 50 on
// the same message and report what interleave reports (budget: at least 2x
// faster, 0 allocations for sipmsg).
func BenchmarkSpeedupFields(b *testing.B) {
	for _, name := range Messages {
		src := load(b, name)
		b.Run(name, func(b *testing.B) {
			var m sipmsg.Message
			buf := make([]byte, len(src))
			p := sip.NewParser()
			var own, theirs fields
			ours := func() {
				copy(buf, src)
				if err := m.ParseFrom(buf); err != nil {
					b.Fatal(err)
				}
				if err := ownFields(&m, &own); err != nil {
					b.Fatal(err)
				}
			}
			sipgo := func() {
				g, err := p.ParseSIP(src)
				if err != nil {
					b.Fatal(err)
				}
				if err := sipgoFields(g, &theirs); err != nil {
					b.Fatal(err)
				}
			}
			interleave(b, ours, sipgo)
			if own != theirs {
				b.Fatalf("sipmsg %+v, sipgo %+v", own, theirs)
			}
		})
	}
}
