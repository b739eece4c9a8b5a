package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Config configures a Resolver. The zero value asks resolv.conf's servers,
// supports UDP and TCP, and asks for IPv4 addresses only.
type Config struct {
	// Servers are the DNS servers to ask, as host:port (port 53 when
	// omitted), in order: the DHCP-given ones, or 127.0.0.1:N in tests.
	// Empty: the nameserver lines of ResolvConf, read at each query.
	Servers    []string
	ResolvConf string // default /etc/resolv.conf

	// Transports are those the user agent supports, in the order it
	// prefers them when NAPTR records do not say (RFC 3263 section 4.1).
	// Default UDP, TCP: TLS only when asked for, as it needs trust anchors.
	Transports []Transport
	// IPv6 also asks for AAAA records; their addresses follow the A
	// records' for each name. Default: A records only.
	IPv6 bool

	Timeout  time.Duration // one query to one server; default 2 s
	Attempts int           // rounds over Servers per query; default 2

	MaxEntries  int           // cached record sets; default 64, the first to expire evicted when full
	NegativeTTL time.Duration // the most a negative answer is cached (less when its SOA says); default 30 s
	MaxTTL      time.Duration // the most a positive answer is cached; default 1 h
	FailFor     time.Duration // how long Failed puts a target last; default 30 s

	// Now is the clock for the cache and for Failed; default time.Now.
	// Network timeouts use the real clock.
	Now func() time.Time
	// Rand returns a uniform random int in [0, n): the SRV weighted
	// selection's source (RFC 2782). Default math/rand/v2's IntN. Called
	// with a lock held, so it need not be safe for concurrent use.
	Rand func(n int) int
}

// Resolver turns SIP URIs into ordered next hops (RFC 3263 section 4),
// caching what DNS said by its TTLs. It is safe for concurrent use.
type Resolver struct {
	client     client
	transports []Transport
	ipv6       bool
	maxEntries int
	negTTL     time.Duration
	maxTTL     time.Duration
	failFor    time.Duration
	now        func() time.Time

	randMu sync.Mutex
	rnd    func(int) int

	mu     sync.Mutex
	cache  map[key]entry
	failed map[failKey]time.Time // target -> when it goes back to its place
}

// service is an SRV query's prefix (RFC 3263 section 4.1).
type service uint8

const (
	svcNone    service = iota // the name as it is (NAPTR, A, AAAA, an SRV name a NAPTR record gave)
	svcSIPUDP                 // _sip._udp.
	svcSIPTCP                 // _sip._tcp.
	svcSIPSTCP                // _sips._tcp.
)

var svcPrefix = [...]string{"", "_sip._udp.", "_sip._tcp.", "_sips._tcp."}

func srvService(t Transport) service {
	switch t {
	case UDP:
		return svcSIPUDP
	case TCP:
		return svcSIPTCP
	}
	return svcSIPSTCP
}

// key names a cached record set: the query (prefix + name, type).
type key struct {
	svc   service
	name  string // normalized
	qtype dnsmessage.Type
}

func (k key) String() string { return svcPrefix[k.svc] + k.name + " " + typeName(k.qtype) }

// entry is a cached record set, positive or negative. Its slices are
// never changed once cached.
type entry struct {
	expires time.Time
	neg     bool
	addrs   []netip.Addr
	srvs    []srvRR
	naptrs  []naptrRR
}

type failKey struct {
	t    Transport
	addr netip.AddrPort
}

const maxFailed = 64

// New returns a Resolver. It does no I/O.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{
		client:     client{resolvConf: cfg.ResolvConf, timeout: cfg.Timeout, attempts: cfg.Attempts},
		transports: cfg.Transports,
		ipv6:       cfg.IPv6,
		maxEntries: cfg.MaxEntries,
		negTTL:     cfg.NegativeTTL,
		maxTTL:     cfg.MaxTTL,
		failFor:    cfg.FailFor,
		now:        cfg.Now,
		rnd:        cfg.Rand,
		cache:      map[key]entry{},
		failed:     map[failKey]time.Time{},
	}
	for _, s := range cfg.Servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(strings.Trim(s, "[]"), "53")
		}
		host, _, err := net.SplitHostPort(s)
		if err != nil || host == "" {
			return nil, fmt.Errorf("resolve: bad DNS server %q", s)
		}
		r.client.servers = append(r.client.servers, s)
	}
	if r.client.resolvConf == "" {
		r.client.resolvConf = "/etc/resolv.conf"
	}
	if r.client.timeout <= 0 {
		r.client.timeout = 2 * time.Second
	}
	if r.client.attempts <= 0 {
		r.client.attempts = 2
	}
	if len(r.transports) == 0 {
		r.transports = []Transport{UDP, TCP}
	}
	for _, t := range r.transports {
		if !t.valid() {
			return nil, fmt.Errorf("%w: %v", ErrTransport, t)
		}
	}
	if r.maxEntries <= 0 {
		r.maxEntries = 64
	}
	if r.negTTL <= 0 {
		r.negTTL = 30 * time.Second
	}
	if r.maxTTL <= 0 {
		r.maxTTL = time.Hour
	}
	if r.failFor <= 0 {
		r.failFor = 30 * time.Second
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rnd == nil {
		r.rnd = rand.IntN
	}
	return r, nil
}

// Lookup resolves u (a sip: or sips: URI) into next hops, best first
// (RFC 3263 section 4), asking DNS for what the cache lacks. Targets that
// Failed marked recently come last. It blocks on the network: a user
// agent runs it off the goroutine that owns its state, bounded by ctx.
//
// When some queries failed but others gave targets, the targets are
// returned without error. No target at all is an error wrapping
// ErrNotFound when every answer was negative, else the last failure (a
// timeout, ErrServer, ErrMalformed); a URI asking for a transport the
// resolver does not support wraps ErrTransport.
func (r *Resolver) Lookup(ctx context.Context, u sipmsg.URI) ([]Target, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	w := walker{r: r, ctx: ctx, now: r.now()}
	ts, host, err := r.walk(&w, nil, u)
	if errors.Is(err, ErrNotFound) {
		if w.err != nil {
			return nil, w.err
		}
		return nil, fmt.Errorf("resolve: %s: %w", host, err)
	}
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// Cached answers as Lookup would, from the cache only, without I/O: ok is
// true when every record set the steps need is cached and fresh and they
// give at least one target. Otherwise the caller runs Lookup (which
// answers a cached negative without I/O too).
func (r *Resolver) Cached(u sipmsg.URI) (ts []Target, ok bool) {
	ts, ok = r.AppendCached(make([]Target, 0, 8), u) // one allocation: a phone's names have a few targets
	if !ok {
		return nil, false
	}
	return ts, true
}

// AppendCached is Cached appending to dst, which it returns (dst as given
// when ok is false). It does not allocate when dst has room.
func (r *Resolver) AppendCached(dst []Target, u sipmsg.URI) ([]Target, bool) {
	w := walker{r: r, now: r.now()}
	out, _, err := r.walk(&w, dst, u)
	if err != nil || len(out) == len(dst) {
		return dst, false
	}
	return out, true
}

// Failed marks t as failed (a timeout, a 503, a transport error): Lookup
// and Cached order it after the others for FailFor.
func (r *Resolver) Failed(t Target) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failed) >= maxFailed {
		var oldest failKey
		var first time.Time
		for k, until := range r.failed {
			if !now.Before(until) {
				delete(r.failed, k)
			} else if first.IsZero() || until.Before(first) {
				oldest, first = k, until
			}
		}
		if len(r.failed) >= maxFailed {
			delete(r.failed, oldest)
		}
	}
	r.failed[failKey{t.Transport, t.Addr}] = now.Add(r.failFor)
}

// Flush forgets every cached answer and failure (the network changed: a
// new DHCP lease, other DNS servers).
func (r *Resolver) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.cache)
	clear(r.failed)
}

// Len returns the number of cached record sets.
func (r *Resolver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cache)
}

func (r *Resolver) supports(t Transport) bool {
	for _, x := range r.transports {
		if x == t {
			return true
		}
	}
	return false
}

// defaultTransport is what a URI without a transport parameter uses when
// no NAPTR or SRV record says (RFC 3263 section 4.1): UDP for sip (TCP
// when UDP is not supported), TLS for sips.
func (r *Resolver) defaultTransport(secure bool) (Transport, error) {
	switch {
	case secure && r.supports(TLS):
		return TLS, nil
	case secure:
		return 0, fmt.Errorf("%w: a sips URI needs TLS", ErrTransport)
	case r.supports(UDP):
		return UDP, nil
	case r.supports(TCP):
		return TCP, nil
	}
	return TLS, nil
}

// errMiss: the cache lacks a record set (Cached only; never returned).
var errMiss = errors.New("resolve: not cached")

// walker runs the steps once, from the cache only (ctx nil) or asking DNS
// for what the cache lacks.
type walker struct {
	r    *Resolver
	ctx  context.Context
	now  time.Time
	miss bool  // from the cache only: something was not there
	err  error // the last query that failed
}

// get returns the record set k names, from the cache or (ctx not nil)
// from DNS; false when it has none (w.miss or w.err says why).
func (w *walker) get(k key) (entry, bool) {
	r := w.r
	r.mu.Lock()
	e, ok := r.cache[k]
	r.mu.Unlock()
	if ok && w.now.Before(e.expires) {
		return e, true
	}
	if w.ctx == nil {
		w.miss = true
		return entry{}, false
	}
	e, err := r.fetch(w.ctx, k)
	if err != nil {
		w.err = err
		return entry{}, false
	}
	return e, true
}

// fetch asks DNS for k, following a CNAME chain that ends outside the
// answer (at most 8 links), and caches the result for its TTL.
func (r *Resolver) fetch(ctx context.Context, k key) (entry, error) {
	name := svcPrefix[k.svc] + k.name
	ttl := ^uint32(0)
	var a answer
	for hop := 0; ; hop++ {
		var err error
		a, err = r.client.exchange(ctx, name, k.qtype)
		if err != nil {
			return entry{}, err
		}
		if a.cname == "" {
			break
		}
		ttl = min(ttl, a.ttl)
		if hop == 8 {
			return entry{}, fmt.Errorf("resolve: %s: CNAME chain too long", k)
		}
		name = a.cname
	}
	e := entry{neg: a.negative, addrs: a.addrs, srvs: a.srvs, naptrs: a.naptrs}
	var life time.Duration
	if a.negative {
		life = r.negTTL
		if a.ttl != noSOA {
			life = min(life, time.Duration(min(ttl, a.ttl))*time.Second)
		}
	} else {
		life = min(r.maxTTL, time.Duration(min(ttl, a.ttl))*time.Second)
	}
	now := r.now()
	e.expires = now.Add(life)
	if life > 0 {
		r.put(k, e, now)
	}
	return e, nil
}

func (r *Resolver) put(k key, e entry, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cache[k]; !ok && len(r.cache) >= r.maxEntries {
		var victim key
		var first time.Time
		for ck, ce := range r.cache {
			if !now.Before(ce.expires) {
				delete(r.cache, ck)
			} else if first.IsZero() || ce.expires.Before(first) {
				victim, first = ck, ce.expires
			}
		}
		if len(r.cache) >= r.maxEntries {
			delete(r.cache, victim)
		}
	}
	r.cache[k] = e
}

// walk runs RFC 3263 section 4's steps for u, appending the targets to
// dst. It returns the normalized target host for error messages. An
// error wrapping ErrNotFound (or ErrNotFound itself) says no target was
// found; errMiss that the cache lacked something.
func (r *Resolver) walk(w *walker, dst []Target, u sipmsg.URI) ([]Target, string, error) {
	start := len(dst)
	var secure bool
	switch {
	case u.Scheme == "sip" || strings.EqualFold(u.Scheme, "sip"):
	case u.Scheme == "sips" || strings.EqualFold(u.Scheme, "sips"):
		secure = true
	default:
		return dst, "", fmt.Errorf("resolve: not a SIP URI: %.40q", u.Scheme)
	}
	if secure && !r.supports(TLS) {
		return dst, "", fmt.Errorf("%w: a sips URI needs TLS", ErrTransport)
	}
	// RFC 3263 section 4: TARGET is the maddr parameter, else the host.
	host := u.Host
	if m, ok := u.Param("maddr"); ok && m != "" {
		host = strings.TrimSuffix(strings.TrimPrefix(m, "["), "]")
	}
	host = normName(host)
	if host == "" {
		return dst, "", fmt.Errorf("resolve: no host in the URI")
	}
	if u.Port < 0 || u.Port > 65535 {
		return dst, host, fmt.Errorf("resolve: bad port %d", u.Port)
	}
	port := uint16(u.Port)

	// Section 4.1: a transport parameter is the transport; a sips URI
	// runs over TLS (transport=tcp means TLS over TCP there).
	var tp Transport
	if v, ok := u.Param("transport"); ok {
		t, err := ParseTransport(v)
		if err != nil {
			return dst, host, err
		}
		if secure {
			if t == UDP {
				return dst, host, fmt.Errorf("%w: a sips URI over UDP", ErrTransport)
			}
			t = TLS
		}
		if !r.supports(t) {
			return dst, host, fmt.Errorf("%w: %v", ErrTransport, t)
		}
		tp = t
	}

	// A numeric TARGET: that address, the URI's port or the default.
	if ip, ok := parseIP(host); ok {
		t := tp
		if t == 0 {
			var err error
			if t, err = r.defaultTransport(secure); err != nil {
				return dst, host, err
			}
		}
		if port == 0 {
			port = t.DefaultPort()
		}
		return append(dst, Target{t, netip.AddrPortFrom(ip, port), host}), host, nil
	}

	switch {
	case port != 0:
		// Section 4.2: a port given: A/AAAA only.
		t := tp
		if t == 0 {
			var err error
			if t, err = r.defaultTransport(secure); err != nil {
				return dst, host, err
			}
		}
		dst = w.addresses(dst, host, port, t, host)
	case tp != 0:
		// A transport given: its SRV records, else A/AAAA at the default port.
		var st step
		if dst, st = w.srv(dst, srvService(tp), host, tp); st == negative {
			dst = w.addresses(dst, host, tp.DefaultPort(), tp, host)
		}
	default:
		// Neither: NAPTR, else SRV for each supported transport, else
		// A/AAAA with the default transport and port. A step falls back
		// to the next only when every answer it got was negative: a
		// query that failed leaves the result to what the others gave.
		var st step
		if dst, st = w.naptr(dst, host, secure); st != negative {
			break
		}
		st = negative
		for _, t := range r.transports {
			if secure && t != TLS {
				continue
			}
			var s step
			dst, s = w.srv(dst, srvService(t), host, t)
			st = max(st, s)
			if w.miss {
				break
			}
		}
		if st != negative {
			break
		}
		t, err := r.defaultTransport(secure)
		if err != nil {
			return dst, host, err
		}
		dst = w.addresses(dst, host, t.DefaultPort(), t, host)
	}
	if w.miss {
		return dst[:start], host, errMiss
	}
	dst = r.finish(dst, start, w.now)
	if len(dst) == start {
		return dst, host, ErrNotFound
	}
	return dst, host, nil
}

// parseIP parses host as an IP address when it looks like one (so that
// host names cost no error allocation).
func parseIP(host string) (netip.Addr, bool) {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c != '.' && c != ':' && (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return netip.Addr{}, false
		}
	}
	if strings.IndexByte(host, ':') < 0 {
		// IPv4 needs digits and dots only ("cafe.be" is a name)
		for i := 0; i < len(host); i++ {
			if host[i] >= 'a' {
				return netip.Addr{}, false
			}
		}
	}
	ip, err := netip.ParseAddr(host)
	return ip, err == nil
}

// step is what a NAPTR or SRV step found, worst last: the walk falls
// back to the next step only on negative.
type step uint8

const (
	negative step = iota // no record (or none usable)
	found                // records: the next step is not taken
	failed               // a query failed, or the cache lacked it: the next step is not taken
)

// naptr appends the targets of the usable NAPTR records of host, in
// order and preference (RFC 3263 section 4.1, RFC 3403 section 4.1).
// Every usable record is expanded, not only the first order's, so that
// a failing server has somewhere to fail over to. found means targets
// were appended; negative that none came from records all negative.
func (w *walker) naptr(dst []Target, host string, secure bool) ([]Target, step) {
	e, ok := w.get(key{svcNone, host, typeNAPTR})
	if !ok {
		return dst, failed
	}
	if e.neg {
		return dst, negative
	}
	var buf [8]naptrRR
	rs := buf[:0]
	for _, n := range e.naptrs {
		if t := naptrTransport(&n, secure); t != 0 && w.r.supports(t) && n.replacement != "" {
			rs = append(rs, n)
		}
	}
	for i := 1; i < len(rs); i++ { // insertion sort: stable, no allocation
		for j := i; j > 0 && naptrLess(&rs[j], &rs[j-1]); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	n := len(dst)
	st := negative
	for i := range rs {
		var s step
		dst, s = w.srv(dst, svcNone, rs[i].replacement, naptrTransport(&rs[i], secure))
		if s == failed {
			st = failed
		}
		if w.miss {
			return dst, failed
		}
	}
	if len(dst) > n {
		return dst, found
	}
	return dst, st
}

func naptrLess(a, b *naptrRR) bool {
	if a.order != b.order {
		return a.order < b.order
	}
	return a.preference < b.preference
}

// naptrTransport is the transport a NAPTR record offers (RFC 3263 section
// 4.1), or 0 when it is not one a SIP client resolves: the flag must be
// "s" (an SRV lookup follows), the regexp empty, and a sips URI takes
// SIPS+D2T only. SCTP (D2S) is not supported.
func naptrTransport(n *naptrRR, secure bool) Transport {
	if !strings.EqualFold(n.flags, "s") || n.regexp != "" {
		return 0
	}
	switch {
	case strings.EqualFold(n.service, "SIPS+D2T"):
		return TLS
	case secure:
		return 0
	case strings.EqualFold(n.service, "SIP+D2U"):
		return UDP
	case strings.EqualFold(n.service, "SIP+D2T"):
		return TCP
	}
	return 0
}

// srv appends the targets of the SRV records (svc, name) over t, ordered
// by priority and weight (RFC 2782). found says there were SRV records,
// even if none of them gave an address (a lone "." target says the
// service is not offered: nothing falls back to A then).
func (w *walker) srv(dst []Target, svc service, name string, t Transport) ([]Target, step) {
	e, ok := w.get(key{svc, name, dnsmessage.TypeSRV})
	if !ok {
		return dst, failed
	}
	if e.neg {
		return dst, negative
	}
	var buf [16]srvRR
	rs := append(buf[:0], e.srvs...)
	w.r.orderSRV(rs)
	for i := range rs {
		if rs[i].target == "" {
			continue
		}
		dst = w.addresses(dst, rs[i].target, rs[i].port, t, rs[i].target)
		if w.miss {
			break
		}
	}
	return dst, found
}

// addresses appends a target for each A (then AAAA) record of name. A
// query that fails costs this name's targets only (w.err keeps why).
func (w *walker) addresses(dst []Target, name string, port uint16, t Transport, server string) []Target {
	for _, qt := range [2]dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
		if qt == dnsmessage.TypeAAAA && !w.r.ipv6 {
			continue
		}
		e, ok := w.get(key{svcNone, name, qt})
		if w.miss {
			return dst
		}
		if !ok || e.neg {
			continue
		}
		for _, a := range e.addrs {
			dst = append(dst, Target{t, netip.AddrPortFrom(a, port), server})
		}
	}
	return dst
}

// orderSRV sorts SRV records by priority, lowest first, and within each
// priority by RFC 2782's weighted random selection.
func (r *Resolver) orderSRV(s []srvRR) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].priority < s[j-1].priority; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j].priority == s[i].priority {
			j++
		}
		if j-i > 1 {
			r.randMu.Lock()
			weighted(s[i:j], r.rnd)
			r.randMu.Unlock()
		}
		i = j
	}
}

// weighted orders one priority's records (RFC 2782, "Usage rules"): the
// zero-weight ones first, then repeatedly: sum the weights of those not
// yet ordered, pick a uniform random number in [0, sum], and take the
// first record whose running sum reaches it.
func weighted(g []srvRR, intn func(int) int) {
	z := 0
	for i := range g {
		if g[i].weight == 0 {
			rotate(g[z : i+1])
			z++
		}
	}
	for k := 0; k < len(g)-1; k++ {
		sum := 0
		for _, x := range g[k:] {
			sum += int(x.weight)
		}
		pick := k
		if sum > 0 {
			x := intn(sum + 1)
			run := 0
			for m := k; m < len(g); m++ {
				if run += int(g[m].weight); run >= x {
					pick = m
					break
				}
			}
		}
		rotate(g[k : pick+1])
	}
}

// rotate moves s's last element to its front, keeping the others' order.
func rotate(s []srvRR) {
	if len(s) < 2 {
		return
	}
	last := s[len(s)-1]
	copy(s[1:], s[:len(s)-1])
	s[0] = last
}

// finish drops duplicate targets (same transport and address: the first
// stays) and moves the ones Failed marked after the others, keeping order.
func (r *Resolver) finish(dst []Target, start int, now time.Time) []Target {
	out := dst[:start]
	for i := start; i < len(dst); i++ {
		dup := false
		for j := start; j < len(out); j++ {
			if out[j].Transport == dst[i].Transport && out[j].Addr == dst[i].Addr {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, dst[i])
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failed) == 0 {
		return out
	}
	end := len(out)
	for i := start; i < end; {
		until, ok := r.failed[failKey{out[i].Transport, out[i].Addr}]
		if !ok || !now.Before(until) {
			i++
			continue
		}
		t := out[i] // to the very end, after the failed ones already moved
		copy(out[i:], out[i+1:])
		out[len(out)-1] = t
		end--
	}
	return out
}
