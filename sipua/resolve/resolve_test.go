package resolve

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// zone is the fake server's data for the step tests. The addresses are
// only data (TEST-NET-1, the documentation prefix): nothing is sent there.
func zone() []fakeRR {
	return []fakeRR{
		// example.test: NAPTR to all three services, plus two it must skip
		rrNAPTR("example.test", 300, 10, 10, "s", "SIPS+D2T", "", "_sips._tcp.example.test"),
		rrNAPTR("example.test", 300, 30, 10, "s", "SIP+D2U", "", "_sip._udp.example.test"),
		rrNAPTR("example.test", 300, 20, 10, "S", "SIP+D2T", "", "_sip._tcp.example.test"),
		rrNAPTR("example.test", 300, 5, 10, "s", "SIP+D2S", "", "_sip._sctp.example.test"),
		rrNAPTR("example.test", 300, 1, 10, "u", "E2U+sip", "!^.*$!sip:info@example.test!", "."),
		rrSRV("_sips._tcp.example.test", 300, 10, 0, 5061, "sip1.example.test"),
		rrSRV("_sip._tcp.example.test", 300, 20, 0, 5060, "sip2.example.test"),
		rrSRV("_sip._tcp.example.test", 300, 10, 0, 5060, "sip1.example.test"),
		rrSRV("_sip._udp.example.test", 300, 10, 0, 5060, "sip1.example.test"),
		rrSRV("_sip._udp.example.test", 300, 20, 0, 5062, "sip2.example.test"),
		rrA("sip1.example.test", 300, "192.0.2.1"),
		rrA("sip2.example.test", 300, "192.0.2.2"),
		rrA("sip2.example.test", 300, "2001:db8::2"),
		// SRV without NAPTR
		rrSRV("_sip._udp.srvonly.test", 300, 10, 0, 5070, "sip1.example.test"),
		rrSRV("_sip._tcp.srvonly.test", 300, 10, 0, 5071, "sip2.example.test"),
		// A only
		rrA("aonly.test", 300, "192.0.2.9"),
		rrA("multi.test", 300, "192.0.2.21"),
		rrA("multi.test", 300, "192.0.2.22"),
		rrCNAME("alias.test", 300, "sip1.example.test"),
		// SRV says "no service here"; the A record must not be used
		rrSRV("_sip._udp.nosvc.test", 300, 0, 0, 0, "."),
		rrA("nosvc.test", 300, "192.0.2.10"),
		// NAPTR with nothing usable: falls back to SRV
		rrNAPTR("onlysctp.test", 300, 10, 10, "s", "SIP+D2S", "", "_sip._sctp.onlysctp.test"),
		rrSRV("_sip._udp.onlysctp.test", 300, 10, 0, 5080, "sip1.example.test"),
	}
}

type env struct {
	r   *Resolver
	dns *fakeDNS
	clk *fakeClock
}

// newEnv starts a fake server with rrs and a resolver asking it, on a fake
// clock, with a Rand that always returns 0 (records of one priority keep
// the order the server gave, zero weights first) unless cfg sets one.
func newEnv(t testing.TB, cfg Config, rrs ...fakeRR) env {
	t.Helper()
	f := newFakeDNS(t, rrs...)
	clk := newClock()
	cfg.Servers = []string{f.addr}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	cfg.Now = clk.Now
	if cfg.Rand == nil {
		cfg.Rand = func(int) int { return 0 }
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return env{r, f, clk}
}

func uri(t testing.TB, s string) sipmsg.URI {
	t.Helper()
	u, err := sipmsg.ParseURI(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func strs(ts []Target) []string {
	out := make([]string, len(ts))
	for i, x := range ts {
		out[i] = x.String()
	}
	return out
}

func lookup(t *testing.T, e env, s string) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts, err := e.r.Lookup(ctx, uri(t, s))
	return strs(ts), err
}

func TestLookupSteps(t *testing.T) {
	all := []Transport{UDP, TCP, TLS}
	tests := []struct {
		name       string
		uri        string
		transports []Transport
		ipv6       bool
		want       []string
		err        error
		noQuery    []string // queries that must not be asked ("name TYPE")
	}{
		{name: "NAPTR, TLS unsupported", uri: "sip:example.test", want: []string{
			"tcp 192.0.2.1:5060 (sip1.example.test)", "tcp 192.0.2.2:5060 (sip2.example.test)",
			"udp 192.0.2.1:5060 (sip1.example.test)", "udp 192.0.2.2:5062 (sip2.example.test)"},
			noQuery: []string{"_sips._tcp.example.test SRV", "_sip._sctp.example.test SRV"}},
		{name: "NAPTR, all transports", uri: "sip:example.test", transports: all, want: []string{
			"tls 192.0.2.1:5061 (sip1.example.test)",
			"tcp 192.0.2.1:5060 (sip1.example.test)", "tcp 192.0.2.2:5060 (sip2.example.test)",
			"udp 192.0.2.1:5060 (sip1.example.test)", "udp 192.0.2.2:5062 (sip2.example.test)"}},
		{name: "NAPTR, UDP only", uri: "sip:example.test", transports: []Transport{UDP}, want: []string{
			"udp 192.0.2.1:5060 (sip1.example.test)", "udp 192.0.2.2:5062 (sip2.example.test)"}},
		{name: "NAPTR, IPv6", uri: "sip:example.test", transports: []Transport{UDP}, ipv6: true, want: []string{
			"udp 192.0.2.1:5060 (sip1.example.test)", "udp 192.0.2.2:5062 (sip2.example.test)", "udp [2001:db8::2]:5062 (sip2.example.test)"}},
		{name: "sips: TLS only", uri: "sips:example.test", transports: all, want: []string{"tls 192.0.2.1:5061 (sip1.example.test)"}},
		{name: "sips: no TLS", uri: "sips:example.test", err: ErrTransport, noQuery: []string{"example.test NAPTR"}},
		{name: "sips, numeric: no TLS", uri: "sips:192.0.2.50", err: ErrTransport},
		{name: "transport param: that SRV only", uri: "sip:example.test;transport=udp", want: []string{
			"udp 192.0.2.1:5060 (sip1.example.test)", "udp 192.0.2.2:5062 (sip2.example.test)"},
			noQuery: []string{"example.test NAPTR", "_sip._tcp.example.test SRV"}},
		{name: "transport param TCP", uri: "sip:example.test;transport=TCP", want: []string{
			"tcp 192.0.2.1:5060 (sip1.example.test)", "tcp 192.0.2.2:5060 (sip2.example.test)"}},
		{name: "sips transport=tcp is TLS", uri: "sips:example.test;transport=tcp", transports: all, want: []string{"tls 192.0.2.1:5061 (sip1.example.test)"}},
		{name: "transport param, no SRV: A at default port", uri: "sip:aonly.test;transport=tcp", want: []string{"tcp 192.0.2.9:5060 (aonly.test)"}},
		{name: "transport param unsupported", uri: "sip:example.test;transport=tls", err: ErrTransport},
		{name: "transport param unknown", uri: "sip:example.test;transport=sctp", err: ErrTransport},
		{name: "sips over udp", uri: "sips:example.test;transport=udp", transports: all, err: ErrTransport},
		{name: "port: A only", uri: "sip:sip2.example.test:5099", want: []string{"udp 192.0.2.2:5099 (sip2.example.test)"},
			noQuery: []string{"sip2.example.test NAPTR", "_sip._udp.sip2.example.test SRV"}},
		{name: "port: A and AAAA", uri: "sip:sip2.example.test:5099", ipv6: true, want: []string{
			"udp 192.0.2.2:5099 (sip2.example.test)", "udp [2001:db8::2]:5099 (sip2.example.test)"}},
		{name: "port, several A", uri: "sip:multi.test:5080;transport=tcp", want: []string{
			"tcp 192.0.2.21:5080 (multi.test)", "tcp 192.0.2.22:5080 (multi.test)"}},
		{name: "port, sips", uri: "sips:aonly.test:5999", transports: all, want: []string{"tls 192.0.2.9:5999 (aonly.test)"}},
		{name: "SRV fallback", uri: "sip:srvonly.test", want: []string{
			"udp 192.0.2.1:5070 (sip1.example.test)", "tcp 192.0.2.2:5071 (sip2.example.test)"}},
		{name: "SRV fallback, TCP preferred", uri: "sip:srvonly.test", transports: []Transport{TCP, UDP}, want: []string{
			"tcp 192.0.2.2:5071 (sip2.example.test)", "udp 192.0.2.1:5070 (sip1.example.test)"}},
		{name: "SRV fallback, case folded", uri: "sip:SRVonly.TEST", want: []string{
			"udp 192.0.2.1:5070 (sip1.example.test)", "tcp 192.0.2.2:5071 (sip2.example.test)"}},
		{name: "NAPTR unusable: SRV fallback", uri: "sip:onlysctp.test", want: []string{"udp 192.0.2.1:5080 (sip1.example.test)"}},
		{name: "A fallback", uri: "sip:aonly.test", want: []string{"udp 192.0.2.9:5060 (aonly.test)"}},
		{name: "A fallback, sips", uri: "sips:aonly.test", transports: all, want: []string{"tls 192.0.2.9:5061 (aonly.test)"}},
		{name: "A fallback, TCP only", uri: "sip:aonly.test", transports: []Transport{TCP}, want: []string{"tcp 192.0.2.9:5060 (aonly.test)"}},
		{name: "maddr is the target", uri: "sip:alice@example.test;maddr=aonly.test", want: []string{"udp 192.0.2.9:5060 (aonly.test)"},
			noQuery: []string{"example.test NAPTR"}},
		{name: "CNAME", uri: "sip:alias.test:5060", want: []string{"udp 192.0.2.1:5060 (alias.test)"}},
		{name: "SRV target .", uri: "sip:nosvc.test", err: ErrNotFound, noQuery: []string{"nosvc.test A"}},
		{name: "no such name", uri: "sip:missing.test", err: ErrNotFound},
		{name: "numeric", uri: "sip:192.0.2.50", want: []string{"udp 192.0.2.50:5060 (192.0.2.50)"}},
		{name: "numeric, port", uri: "sip:192.0.2.50:5070", want: []string{"udp 192.0.2.50:5070 (192.0.2.50)"}},
		{name: "numeric sips", uri: "sips:192.0.2.50", transports: all, want: []string{"tls 192.0.2.50:5061 (192.0.2.50)"}},
		{name: "numeric transport=tls", uri: "sip:192.0.2.50;transport=tls", transports: all, want: []string{"tls 192.0.2.50:5061 (192.0.2.50)"}},
		{name: "numeric IPv6", uri: "sip:[2001:db8::5]:5070;transport=tcp", want: []string{"tcp [2001:db8::5]:5070 (2001:db8::5)"}},
		{name: "numeric, TCP only", uri: "sip:192.0.2.50", transports: []Transport{TCP}, want: []string{"tcp 192.0.2.50:5060 (192.0.2.50)"}},
		{name: "hex-looking name", uri: "sip:cafe.be", err: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{Transports: tc.transports, IPv6: tc.ipv6}, zone()...)
			got, err := lookup(t, e, tc.uri)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Lookup(%s) = %q, %v; want %v", tc.uri, got, err, tc.err)
				}
				if !strings.HasPrefix(err.Error(), "resolve: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
			} else if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Lookup(%s) = %q, %v\nwant %q", tc.uri, got, err, tc.want)
			}
			if strings.HasPrefix(tc.name, "numeric") && e.dns.total() != 0 {
				t.Errorf("numeric host asked DNS %d times", e.dns.total())
			}
			for _, q := range tc.noQuery {
				name, typ, _ := strings.Cut(q, " ")
				e.dns.mu.Lock()
				n := e.dns.queries[name+" "+typ]
				e.dns.mu.Unlock()
				if n != 0 {
					t.Errorf("asked %s", q)
				}
			}
			// what Lookup found, Cached answers alike, without I/O
			if err == nil {
				before := e.dns.total()
				ts, ok := e.r.Cached(uri(t, tc.uri))
				if !ok || !slices.Equal(strs(ts), tc.want) {
					t.Errorf("Cached = %q, %v; want %q", strs(ts), ok, tc.want)
				}
				if e.dns.total() != before {
					t.Errorf("Cached asked DNS")
				}
			}
		})
	}
}

func TestCachedNoIO(t *testing.T) {
	e := newEnv(t, Config{}, zone()...)
	for _, s := range []string{"sip:example.test", "sip:aonly.test:5060", "sip:srvonly.test;transport=udp"} {
		if ts, ok := e.r.Cached(uri(t, s)); ok || ts != nil {
			t.Errorf("Cached(%s) on an empty cache = %v, %v", s, ts, ok)
		}
	}
	if n := e.dns.total(); n != 0 {
		t.Fatalf("Cached asked DNS %d times", n)
	}
	// a numeric host needs no cache
	if ts, ok := e.r.Cached(uri(t, "sip:192.0.2.7")); !ok || len(ts) != 1 {
		t.Fatalf("Cached(numeric) = %v, %v", ts, ok)
	}
	// a cached negative: Cached says ask Lookup, which answers without I/O
	if _, err := lookup(t, e, "sip:missing.test:5060"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if _, ok := e.r.Cached(uri(t, "sip:missing.test:5060")); ok {
		t.Fatal("Cached answered a negative as found")
	}
	n := e.dns.total()
	if _, err := lookup(t, e, "sip:missing.test:5060"); !errors.Is(err, ErrNotFound) || e.dns.total() != n {
		t.Fatalf("second Lookup: %v, %d queries (was %d)", err, e.dns.total(), n)
	}
}

func TestWeightedSelection(t *testing.T) {
	// scripted draws against RFC 2782's rule
	rs := func(ws ...uint16) []srvRR {
		out := make([]srvRR, len(ws))
		for i, w := range ws {
			out[i] = srvRR{priority: 10, weight: w, port: uint16(i), target: "t" + strconv.Itoa(i)}
		}
		return out
	}
	order := func(g []srvRR) []uint16 {
		var ps []uint16
		for _, x := range g {
			ps = append(ps, x.port)
		}
		return ps
	}
	tests := []struct {
		name    string
		weights []uint16
		draws   []int
		want    []uint16 // original indexes, in the order chosen
	}{
		{"draw 0 takes the first", []uint16{10, 30, 60}, []int{0, 0}, []uint16{0, 1, 2}},
		{"top draw takes the last", []uint16{10, 30, 60}, []int{100, 40}, []uint16{2, 1, 0}},
		{"running sum reached exactly", []uint16{10, 30, 60}, []int{40, 10}, []uint16{1, 0, 2}},
		{"just past", []uint16{10, 30, 60}, []int{41, 11}, []uint16{2, 1, 0}},
		{"zero weights go first", []uint16{5, 0, 5, 0}, []int{0, 0, 0}, []uint16{1, 3, 0, 2}},
		{"zero weight chosen only by a 0 draw", []uint16{0, 5}, []int{1}, []uint16{1, 0}},
		{"all zero: as listed", []uint16{0, 0, 0}, nil, []uint16{0, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := rs(tc.weights...)
			i := 0
			weighted(g, func(n int) int {
				if i >= len(tc.draws) {
					t.Fatalf("draw %d not scripted", i)
				}
				d := tc.draws[i]
				i++
				if d < 0 || d >= n {
					t.Fatalf("scripted draw %d outside [0,%d)", d, n)
				}
				return d
			})
			if got := order(g); !slices.Equal(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWeightedDistribution(t *testing.T) {
	// seeded, so deterministic: the first pick's frequencies follow the
	// weights ((w+1)/(sum+1) for the first record, w/(sum+1) for the others)
	rnd := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	first := map[string]int{}
	for i := 0; i < n; i++ {
		g := []srvRR{{10, 10, 1, "a"}, {10, 30, 1, "b"}, {10, 60, 1, "c"}}
		weighted(g, rnd.IntN)
		first[g[0].target]++
	}
	for name, want := range map[string]float64{"a": 11.0 / 101, "b": 30.0 / 101, "c": 60.0 / 101} {
		got := float64(first[name]) / n
		if got < want-0.02 || got > want+0.02 {
			t.Errorf("%s first %.3f of the time, want %.3f", name, got, want)
		}
	}
}

func TestPriorityAndWeightThroughLookup(t *testing.T) {
	rrs := []fakeRR{
		rrSRV("_sip._udp.w.test", 60, 20, 0, 5060, "backup.w.test"),
		rrSRV("_sip._udp.w.test", 60, 10, 1, 5060, "light.w.test"),
		rrSRV("_sip._udp.w.test", 60, 10, 99, 5060, "heavy.w.test"),
		rrA("backup.w.test", 60, "192.0.2.3"),
		rrA("light.w.test", 60, "192.0.2.1"),
		rrA("heavy.w.test", 60, "192.0.2.2"),
	}
	for _, tc := range []struct {
		name string
		rand func(int) int
		want []string
	}{
		{"low draw", func(int) int { return 0 }, []string{"light.w.test", "heavy.w.test", "backup.w.test"}},
		{"high draw", func(n int) int { return n - 1 }, []string{"heavy.w.test", "light.w.test", "backup.w.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{Rand: tc.rand}, rrs...)
			ts, err := e.r.Lookup(context.Background(), uri(t, "sip:w.test;transport=udp"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range ts {
				got = append(got, x.ServerName)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("order %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTTL(t *testing.T) {
	e := newEnv(t, Config{MaxTTL: 2 * time.Hour},
		rrSRV("_sip._udp.ttl.test", 300, 10, 0, 5060, "sip1.ttl.test"),
		rrA("sip1.ttl.test", 60, "192.0.2.1"),
		rrA("zero.test", 0, "192.0.2.2"),
		rrA("long.test", 86400, "192.0.2.3"),
	)
	u := uri(t, "sip:ttl.test;transport=udp")
	if _, err := e.r.Lookup(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	cached := func(u sipmsg.URI) bool { _, ok := e.r.Cached(u); return ok }
	srv := func() int { return e.dns.count("_sip._udp.ttl.test", dnsmessage.TypeSRV) }
	a := func() int { return e.dns.count("sip1.ttl.test", dnsmessage.TypeA) }
	steps := []struct {
		advance  time.Duration
		cached   bool
		lookup   bool
		srvQ, aQ int
	}{
		{0, true, false, 1, 1},
		{59 * time.Second, true, true, 1, 1},   // both fresh: no query
		{2 * time.Second, false, true, 1, 2},   // A (60 s) expired: only A asked again
		{59 * time.Second, true, false, 1, 2},  // the new A is fresh until 121 s
		{240 * time.Second, false, true, 2, 3}, // 301 s: SRV expired too
	}
	for i, s := range steps {
		e.clk.Advance(s.advance)
		if got := cached(u); got != s.cached {
			t.Fatalf("step %d: Cached = %v, want %v", i, got, s.cached)
		}
		if s.lookup {
			if _, err := e.r.Lookup(context.Background(), u); err != nil {
				t.Fatal(err)
			}
		}
		if srv() != s.srvQ || a() != s.aQ {
			t.Fatalf("step %d: %d SRV and %d A queries, want %d and %d", i, srv(), a(), s.srvQ, s.aQ)
		}
	}

	// TTL 0: used by the lookup that asked, never cached
	z := uri(t, "sip:zero.test:5060")
	if ts, err := e.r.Lookup(context.Background(), z); err != nil || len(ts) != 1 {
		t.Fatalf("Lookup = %v, %v", ts, err)
	}
	if cached(z) {
		t.Fatal("a TTL 0 answer was cached")
	}
	// MaxTTL caps a long TTL
	l := uri(t, "sip:long.test:5060")
	if _, err := e.r.Lookup(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2*time.Hour - time.Second)
	if !cached(l) {
		t.Fatal("expired before MaxTTL")
	}
	e.clk.Advance(2 * time.Second)
	if cached(l) {
		t.Fatal("cached past MaxTTL")
	}
}

func TestNegativeCache(t *testing.T) {
	tests := []struct {
		name   string
		uri    string
		soaTTL uint32
		negTTL time.Duration
		want   time.Duration // how long the negative answer is kept
	}{
		{"NXDOMAIN, no SOA: the cap", "sip:missing.test:5060", 0, 0, 30 * time.Second},
		{"NXDOMAIN, SOA below the cap", "sip:missing.test:5060", 10, 0, 10 * time.Second},
		{"NXDOMAIN, SOA above the cap", "sip:missing.test:5060", 300, 0, 30 * time.Second},
		{"NXDOMAIN, cap configured", "sip:missing.test:5060", 300, 5 * time.Second, 5 * time.Second},
		{"NODATA, SOA", "sip:exists.test:5060", 20, 0, 20 * time.Second},
		{"NODATA, no SOA", "sip:exists.test:5060", 0, 0, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{NegativeTTL: tc.negTTL}, rrSRV("_sip._udp.exists.test", 60, 1, 1, 5060, "x.test"))
			e.dns.set(func(f *fakeDNS) { f.nx["missing.test"] = true; f.soaTTL = tc.soaTTL })
			host := uri(t, tc.uri).Host
			q := func() int { return e.dns.count(host, dnsmessage.TypeA) }
			look := func() {
				t.Helper()
				if _, err := lookup(t, e, tc.uri); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Lookup: %v, want ErrNotFound", err)
				}
			}
			look()
			e.clk.Advance(tc.want - time.Second)
			look()
			if q() != 1 {
				t.Fatalf("%d queries within the negative TTL", q())
			}
			e.clk.Advance(2 * time.Second)
			look()
			if q() != 2 {
				t.Fatalf("%d queries after the negative TTL, want 2", q())
			}
		})
	}
}

func TestTruncatedRetriesOverTCP(t *testing.T) {
	e := newEnv(t, Config{}, zone()...)
	e.dns.set(func(f *fakeDNS) { f.truncate = true })
	got, err := lookup(t, e, "sip:example.test")
	if err != nil || len(got) != 4 {
		t.Fatalf("Lookup = %q, %v", got, err)
	}
	e.dns.mu.Lock()
	defer e.dns.mu.Unlock()
	if e.dns.tcp == 0 {
		t.Fatal("no query over TCP")
	}
}

func TestRetry(t *testing.T) {
	t.Run("a lost datagram", func(t *testing.T) {
		e := newEnv(t, Config{Timeout: 300 * time.Millisecond}, zone()...)
		e.dns.set(func(f *fakeDNS) { f.drop = 1 })
		if got, err := lookup(t, e, "sip:aonly.test:5060"); err != nil || len(got) != 1 {
			t.Fatalf("Lookup = %q, %v", got, err)
		}
		if n := e.dns.count("aonly.test", dnsmessage.TypeA); n != 2 {
			t.Fatalf("%d queries, want 2", n)
		}
	})
	t.Run("a silent server, then one that answers", func(t *testing.T) {
		silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		f := newFakeDNS(t, zone()...)
		r, err := New(Config{Servers: []string{silent.LocalAddr().String(), f.addr}, Timeout: 300 * time.Millisecond, Attempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		if ts, err := r.Lookup(context.Background(), uri(t, "sip:aonly.test:5060")); err != nil || len(ts) != 1 {
			t.Fatalf("Lookup = %v, %v", ts, err)
		}
	})
	t.Run("bounded in time", func(t *testing.T) {
		e := newEnv(t, Config{Timeout: 50 * time.Millisecond, Attempts: 2}, zone()...)
		e.dns.set(func(f *fakeDNS) { f.drop = 1 << 30 })
		start := time.Now()
		_, err := lookup(t, e, "sip:aonly.test:5060")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Lookup error %v, want a timeout", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
		if n := e.dns.count("aonly.test", dnsmessage.TypeA); n != 2 {
			t.Fatalf("%d tries, want 2", n)
		}
	})
	t.Run("the context bounds it", func(t *testing.T) {
		e := newEnv(t, Config{Timeout: time.Minute}, zone()...)
		e.dns.set(func(f *fakeDNS) { f.drop = 1 << 30 })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := e.r.Lookup(ctx, uri(t, "sip:aonly.test:5060"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lookup error %v, want the context's", err)
		}
	})
}

func TestFailedOrdersLast(t *testing.T) {
	e := newEnv(t, Config{FailFor: 30 * time.Second},
		rrSRV("_sip._udp.pbx.test", 300, 10, 0, 5060, "a.pbx.test"),
		rrSRV("_sip._udp.pbx.test", 300, 20, 0, 5060, "b.pbx.test"),
		rrSRV("_sip._udp.pbx.test", 300, 30, 0, 5060, "c.pbx.test"),
		rrA("a.pbx.test", 300, "192.0.2.1"),
		rrA("b.pbx.test", 300, "192.0.2.2"),
		rrA("c.pbx.test", 300, "192.0.2.3"),
	)
	u := uri(t, "sip:pbx.test;transport=udp") // SRV only: no negative NAPTR expiring in between
	names := func(ts []Target) string {
		var s []string
		for _, x := range ts {
			s = append(s, strings.TrimSuffix(x.ServerName, ".pbx.test"))
		}
		return strings.Join(s, ",")
	}
	ts, err := e.r.Lookup(context.Background(), u)
	if err != nil || names(ts) != "a,b,c" {
		t.Fatalf("Lookup = %s, %v", names(ts), err)
	}
	check := func(want string) {
		t.Helper()
		c, ok := e.r.Cached(u)
		l, err := e.r.Lookup(context.Background(), u)
		if !ok || err != nil || names(c) != want || names(l) != want {
			t.Fatalf("Cached %s (%v), Lookup %s (%v); want %s", names(c), ok, names(l), err, want)
		}
	}
	e.r.Failed(ts[0])
	check("b,c,a")
	e.clk.Advance(10 * time.Second)
	e.r.Failed(ts[1])
	check("c,a,b") // both failed ones last, in their own order
	e.clk.Advance(21 * time.Second)
	check("a,c,b") // a's 30 s are over
	e.clk.Advance(10 * time.Second)
	check("a,b,c")
	// a failure is per transport and address
	e.r.Failed(Target{Transport: TCP, Addr: ts[0].Addr})
	check("a,b,c")
}

func TestCacheBounded(t *testing.T) {
	var rrs []fakeRR
	for i := 0; i < 20; i++ {
		rrs = append(rrs, rrA("h"+strconv.Itoa(i)+".test", uint32(100+i), "192.0.2.1"))
	}
	e := newEnv(t, Config{MaxEntries: 5}, rrs...)
	for i := 0; i < 20; i++ {
		if _, err := lookup(t, e, "sip:h"+strconv.Itoa(i)+".test:5060"); err != nil {
			t.Fatal(err)
		}
		if n := e.r.Len(); n > 5 {
			t.Fatalf("%d entries cached, bound 5", n)
		}
	}
	// the latest stays; the ones that expire first went
	if _, ok := e.r.Cached(uri(t, "sip:h19.test:5060")); !ok {
		t.Fatal("latest entry evicted")
	}
	if _, ok := e.r.Cached(uri(t, "sip:h0.test:5060")); ok {
		t.Fatal("earliest-expiring entry kept")
	}
	e.r.Flush()
	if e.r.Len() != 0 {
		t.Fatal("Flush kept entries")
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{Servers: []string{"192.0.2.53"}}, true},
		{Config{Servers: []string{"[2001:db8::53]"}}, true},
		{Config{Servers: []string{"192.0.2.53:5353"}}, true},
		{Config{Servers: []string{":53"}}, false},
		{Config{Transports: []Transport{UDP, 9}}, false},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("New(%+v) error %v", tc.cfg, err)
		}
	}
	r, _ := New(Config{Servers: []string{"192.0.2.53"}})
	if got := r.client.servers[0]; got != "192.0.2.53:53" {
		t.Errorf("server %q, want port 53 added", got)
	}
}

func TestResolvConf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	read := func(s string) ([]string, error) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return readResolvConf(p)
	}
	got, err := read("# comment\nsearch example.test\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions ndots:2\n")
	if err != nil || !slices.Equal(got, []string{"192.0.2.53:53", "[2001:db8::53]:53"}) {
		t.Fatalf("readResolvConf = %q, %v", got, err)
	}
	if got, _ := read("search x\n"); !slices.Equal(got, []string{"127.0.0.1:53", "[::1]:53"}) {
		t.Fatalf("no nameserver: %q", got)
	}
	if _, err := readResolvConf(p + ".none"); err == nil {
		t.Fatal("missing file: no error")
	}
}

func TestTransportNames(t *testing.T) {
	for _, tc := range []struct {
		t      Transport
		s, via string
		port   uint16
	}{
		{UDP, "udp", "UDP", 5060},
		{TCP, "tcp", "TCP", 5060},
		{TLS, "tls", "TLS", 5061},
	} {
		if tc.t.String() != tc.s || tc.t.Via() != tc.via || tc.t.DefaultPort() != tc.port {
			t.Errorf("%d: %s %s %d", tc.t, tc.t, tc.t.Via(), tc.t.DefaultPort())
		}
		if p, err := ParseTransport(strings.ToUpper(tc.s)); err != nil || p != tc.t {
			t.Errorf("ParseTransport(%s) = %v, %v", tc.s, p, err)
		}
	}
	if Transport(0).String() != "Transport(0)" || Transport(7).String() != "Transport(7)" {
		t.Error("bad transports' names")
	}
	if _, err := ParseTransport("sctp"); !errors.Is(err, ErrTransport) {
		t.Errorf("ParseTransport(sctp): %v", err)
	}
}

// TestFallbackOnlyOnNegative: RFC 3263 falls back (NAPTR -> SRV -> A)
// when no records are found; a query that failed is not "no records".
func TestFallbackOnlyOnNegative(t *testing.T) {
	servfail := func(names ...string) func(q dnsmessage.Question, id uint16) []byte {
		return func(q dnsmessage.Question, id uint16) []byte {
			if slices.Contains(names, normName(q.Name.String())+" "+typeName(q.Type)) {
				return build(id, q, dnsmessage.RCodeServerFailure, nil)
			}
			return nil
		}
	}
	tests := []struct {
		name    string
		uri     string
		fail    []string
		want    []string
		err     error
		noQuery []string
	}{
		{name: "NAPTR failed: no SRV fallback", uri: "sip:srvonly.test", fail: []string{"srvonly.test NAPTR"}, err: ErrServer,
			noQuery: []string{"_sip._udp.srvonly.test SRV"}},
		{name: "one SRV failed, another found", uri: "sip:srvonly.test", fail: []string{"_sip._udp.srvonly.test SRV"},
			want: []string{"tcp 192.0.2.2:5071 (sip2.example.test)"}},
		{name: "SRV failed, the other negative: no A fallback", uri: "sip:aonly.test", fail: []string{"_sip._udp.aonly.test SRV"}, err: ErrServer,
			noQuery: []string{"aonly.test A"}},
		{name: "transport given, SRV failed: no A fallback", uri: "sip:aonly.test;transport=udp", fail: []string{"_sip._udp.aonly.test SRV"}, err: ErrServer,
			noQuery: []string{"aonly.test A"}},
		{name: "NAPTR's SRV failed: no SRV fallback", uri: "sip:example.test", fail: []string{"_sip._tcp.example.test SRV", "_sip._udp.example.test SRV"}, err: ErrServer},
		{name: "NAPTR's SRV failed, another found", uri: "sip:example.test", fail: []string{"_sip._tcp.example.test SRV"}, want: []string{
			"udp 192.0.2.1:5060 (sip1.example.test)", "udp 192.0.2.2:5062 (sip2.example.test)"}},
		{name: "one SRV target's A failed", uri: "sip:example.test;transport=udp", fail: []string{"sip1.example.test A"}, want: []string{
			"udp 192.0.2.2:5062 (sip2.example.test)"}},
		{name: "every target's A failed", uri: "sip:example.test;transport=udp", fail: []string{"sip1.example.test A", "sip2.example.test A"}, err: ErrServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{}, zone()...)
			e.dns.set(func(f *fakeDNS) { f.reply = servfail(tc.fail...) })
			got, err := lookup(t, e, tc.uri)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || len(got) != 0 {
					t.Fatalf("Lookup = %q, %v; want %v", got, err, tc.err)
				}
			} else if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Lookup = %q, %v; want %q", got, err, tc.want)
			}
			for _, q := range tc.noQuery {
				name, typ, _ := strings.Cut(q, " ")
				e.dns.mu.Lock()
				n := e.dns.queries[name+" "+typ]
				e.dns.mu.Unlock()
				if n != 0 {
					t.Errorf("asked %s", q)
				}
			}
		})
	}
}

func TestNotSIP(t *testing.T) {
	e := newEnv(t, Config{}, zone()...)
	if ts, err := e.r.Lookup(context.Background(), uri(t, "tel:+15551234")); err == nil || ts != nil || !strings.HasPrefix(err.Error(), "resolve: ") {
		t.Fatalf("Lookup(tel:) = %v, %v", ts, err)
	}
	if _, ok := e.r.Cached(uri(t, "tel:+15551234")); ok {
		t.Fatal("Cached(tel:) ok")
	}
}

// TestConcurrent: lookups off the owner's goroutine, Cached and Failed on
// it, and Flush, all at once (run with -race).
func TestConcurrent(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	e := newEnv(t, Config{Rand: rnd.IntN, MaxEntries: 6}, zone()...) // Rand is not goroutine-safe: the resolver locks it
	uris := []string{"sip:example.test", "sip:srvonly.test", "sip:aonly.test", "sip:sip2.example.test:5070", "sip:example.test;transport=tcp"}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var err error
			for i := 0; i < 30 && err == nil; i++ {
				_, err = e.r.Lookup(context.Background(), uri(t, uris[(g+i)%len(uris)]))
			}
			done <- err
		}()
	}
	buf := make([]Target, 0, 8)
	for finished := 0; finished < 4; {
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
			finished++
		default:
			for _, s := range uris {
				if ts, ok := e.r.AppendCached(buf[:0], uri(t, s)); ok {
					e.r.Failed(ts[0])
				}
			}
			e.clk.Advance(time.Second)
			if n := e.r.Len(); n > 6 {
				t.Errorf("%d entries, bound 6", n)
			}
		}
	}
	e.r.Flush()
}
