package resolve

import (
	"context"
	"testing"
)

// cachedCases are the steps Cached walks, each from a warm cache.
var cachedCases = []struct{ name, uri string }{
	{"NAPTR", "sip:example.test"},             // NAPTR, 2 SRV sets, 2 A sets: 4 targets
	{"SRV", "sip:example.test;transport=udp"}, // 1 SRV set, 2 A sets: 2 targets
	{"A", "sip:sip2.example.test:5060"},       // 1 A set
	{"numeric", "sip:192.0.2.1:5060"},
}

// TestCachedAllocs: answering from the cache into the caller's buffer
// does not allocate, with a target marked failed or not.
func TestCachedAllocs(t *testing.T) {
	e := newEnv(t, Config{}, zone()...)
	for _, c := range cachedCases {
		u := uri(t, c.uri)
		ts, err := e.r.Lookup(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]Target, 0, 8)
		for _, failed := range []bool{false, true} {
			if failed {
				e.r.Failed(ts[0])
			}
			n := testing.AllocsPerRun(100, func() {
				out, ok := e.r.AppendCached(buf[:0], u)
				if !ok || len(out) != len(ts) {
					t.Fatalf("%s: AppendCached = %v, %v", c.name, out, ok)
				}
			})
			if n != 0 {
				t.Errorf("%s (failed %v): %v allocations per AppendCached, want 0", c.name, failed, n)
			}
		}
	}
}

func BenchmarkCached(b *testing.B) {
	for _, c := range cachedCases {
		b.Run(c.name, func(b *testing.B) {
			e := newEnv(b, Config{}, zone()...)
			u := uri(b, c.uri)
			if _, err := e.r.Lookup(context.Background(), u); err != nil {
				b.Fatal(err)
			}
			buf := make([]Target, 0, 8)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, ok := e.r.AppendCached(buf[:0], u); !ok {
					b.Fatal("not cached")
				}
			}
		})
	}
	b.Run("Cached/NAPTR", func(b *testing.B) { // the allocating convenience: one copy of the result
		e := newEnv(b, Config{}, zone()...)
		u := uri(b, "sip:example.test")
		if _, err := e.r.Lookup(context.Background(), u); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := e.r.Cached(u); !ok {
				b.Fatal("not cached")
			}
		}
	})
}

// BenchmarkLookup is a full NAPTR lookup against the in-process server,
// cache flushed each time: 5 queries over loopback UDP.
func BenchmarkLookup(b *testing.B) {
	e := newEnv(b, Config{}, zone()...)
	u := uri(b, "sip:example.test")
	b.ReportAllocs()
	for b.Loop() {
		e.r.Flush()
		if _, err := e.r.Lookup(context.Background(), u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAnswer(b *testing.B) {
	f := &fakeDNS{rrs: zone(), nx: map[string]bool{}, queries: map[string]int{}}
	msg, q, err := buildQuery(7, "example.test", typeNAPTR)
	if err != nil {
		b.Fatal(err)
	}
	a := f.answer(msg, true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseAnswer(a, 7, q); err != nil {
			b.Fatal(err)
		}
	}
}
