package sipbench

import (
	"bytes"
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
// ns per parse.
func BenchmarkSpeedup(b *testing.B) {
	const batch = 50
	for _, name := range Messages {
		src := load(b, name)
		b.Run(name, func(b *testing.B) {
			var m sipmsg.Message
			buf := make([]byte, len(src))
			p := sip.NewParser()
			var ours, theirs time.Duration
			for b.Loop() {
				t0 := time.Now()
				for range batch {
					copy(buf, src)
					if err := m.ParseFrom(buf); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				for range batch {
					if _, err := p.ParseSIP(src); err != nil {
						b.Fatal(err)
					}
				}
				ours += t1.Sub(t0)
				theirs += time.Since(t1)
			}
			n := float64(b.N * batch)
			b.ReportMetric(float64(theirs)/float64(ours), "x-faster")
			b.ReportMetric(float64(ours.Nanoseconds())/n, "sipmsg-ns/parse")
			b.ReportMetric(float64(theirs.Nanoseconds())/n, "sipgo-ns/parse")
		})
	}
}
