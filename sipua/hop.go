package sipua

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/deskphone/deskphone/sipua/resolve"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Next hops (RFC 3263): every request's next hop comes from the one
// resolver, ua.res (sipua/resolve: NAPTR, SRV by priority and weight,
// A/AAAA, cached by TTL). A line's registrar and outbound proxy are
// resolved at Start and again, off the UA goroutine, when their records
// expire; the line uses the first target and fails over to the next when
// a REGISTER or a new INVITE times out, gets 503, or meets a transport
// error (section 4.3). Peers named in dialogs (Contact, Record-Route) and
// dialled URIs use the same resolver.

// lookupTimeout bounds one resolution.
const lookupTimeout = 5 * time.Second

// server is one of a line's servers (its registrar or its outbound proxy)
// as RFC 3263 resolves it: the ordered targets and the one in use.
type server struct {
	uri     sipmsg.URI // sip:host[:port][;transport=x], from the configuration
	targets []resolve.Target
	spare   []resolve.Target // the list before targets, for refresh to read the cache into
	cur     int
	// looking: a Lookup runs on another goroutine.
	looking bool
}

// update takes a new resolution of the server. The line stays on the
// target it uses while that is still listed: a server that works is kept
// until it fails (failover), rather than left for the first one again
// once the resolver has forgotten that one failed, which over UDP would
// cost every refresh a timer F at a dead server.
func (s *server) update(ts []resolve.Target) {
	cur, ok := s.target()
	s.targets, s.cur = ts, 0
	if !ok {
		return
	}
	for i, t := range ts {
		if t.Transport == cur.Transport && t.Addr == cur.Addr {
			s.cur = i
			return
		}
	}
}

func (s *server) target() (resolve.Target, bool) {
	if len(s.targets) == 0 {
		return resolve.Target{}, false
	}
	return s.targets[s.cur%len(s.targets)], true
}

// serverURI is the URI a configured host[:port] is resolved as: the
// line's transport, when set, as the transport parameter (RFC 3263 4.1);
// on a SIPS line a sips: URI, which only TLS serves (no transport
// parameter: RFC 5630 deprecates transport=tls).
func serverURI(hostport, transport string, sips bool) (sipmsg.URI, error) {
	host, port := hostport, 0
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return sipmsg.URI{}, fmt.Errorf("sipua: bad port in %q", hostport)
		}
		host, port = h, n
	}
	u := sipmsg.URI{Scheme: "sip", Host: trimBrackets(host), Port: port}
	if sips {
		u.Scheme = "sips"
		return u, nil
	}
	if transport != "" {
		u.Params = []sipmsg.Param{{Name: "transport", Value: transport}}
	}
	return u, nil
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

// newResolver is the UA's resolver: the configured DNS servers, else the
// system's (/etc/resolv.conf, which the firmware writes from DHCP).
func newResolver(cfg Config) (*resolve.Resolver, error) {
	r, err := resolve.New(resolve.Config{
		Servers:    cfg.DNSServers,
		Transports: []resolve.Transport{resolve.UDP, resolve.TCP, resolve.TLS},
	})
	if err != nil {
		return nil, fmt.Errorf("sipua: %w", err)
	}
	return r, nil
}

// tkindOf maps the resolver's transport onto the UA's.
func tkindOf(t resolve.Transport) tkind {
	switch t {
	case resolve.TCP:
		return tTCP
	case resolve.TLS:
		return tTLS
	}
	return tUDP
}

// lookupNow resolves u, from the cache when it can, else with a bounded
// Lookup on the calling goroutine: for Start and for callers that are not
// the UA goroutine (Dial's caller).
func (ua *UA) lookupNow(u sipmsg.URI) ([]resolve.Target, error) {
	if ts, ok := ua.res.Cached(u); ok {
		return ts, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	ts, err := ua.res.Lookup(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("sipua: resolve %s: %w", u.HostPort(), err)
	}
	return ts, nil
}

// resolveHop is the first target for a request to u from the UA goroutine:
// from the cache, else (a name not looked up yet: rare, as dialogs carry
// addresses) a bounded lookup.
func (ua *UA) resolveHop(u sipmsg.URI) (resolve.Target, error) {
	ts, err := ua.lookupNow(u)
	if err != nil {
		return resolve.Target{}, err
	}
	return ts[0], nil
}

// resolve looks up the line's registrar and outbound proxy (at Start,
// before the loop runs, so it may wait).
func (l *line) resolve() error {
	for _, s := range []struct {
		what string
		hp   string
		srv  *server
	}{{"registrar", l.cfg.Registrar, &l.reg}, {"outbound proxy", l.cfg.OutboundProxy, &l.out}} {
		if s.hp == "" {
			continue
		}
		u, err := serverURI(s.hp, l.cfg.Transport, l.sips)
		if err != nil {
			return fmt.Errorf("sipua: line %d %s: %w", l.n, s.what, err)
		}
		s.srv.uri = u
		ts, err := l.ua.lookupNow(u)
		if err != nil {
			// DNS down at boot (or the name not there yet): the phone
			// comes up anyway, and each registration attempt looks the
			// name up again (refresh) until it resolves.
			l.ua.logf("sipua: line %d %s: %v; trying again with each registration attempt", l.n, s.what, err)
			continue
		}
		s.srv.targets, s.srv.cur = ts, 0
	}
	l.apply()
	return nil
}

// apply points the line at its servers' current targets: where its
// REGISTERs and other requests go, over what, and the name a TLS server
// must prove: the configured host (RFC 5922 section 4: the domain of the
// URI the client resolved, not an SRV target, as DNS is not secured), an
// IP address when that is what was configured.
func (l *line) apply() {
	if t, ok := l.reg.target(); ok {
		l.registrar = udpAddrOf(t, l.registrar)
		l.proxy = l.registrar
		l.tk, l.serverName = tkindOf(t.Transport), l.reg.uri.Host
	}
	if t, ok := l.out.target(); ok {
		l.proxy = udpAddrOf(t, l.proxy)
		l.tk, l.serverName = tkindOf(t.Transport), l.out.uri.Host
	}
}

// udpAddrOf is t's address as a *net.UDPAddr: cur itself when it is that
// address already, so a refresh on the same target allocates none (the
// addresses are never modified, only replaced).
func udpAddrOf(t resolve.Target, cur *net.UDPAddr) *net.UDPAddr {
	if cur != nil && cur.AddrPort() == t.Addr {
		return cur
	}
	return t.UDPAddr()
}

// next is the server whose targets the line's requests fail over on: the
// outbound proxy, else the registrar.
func (l *line) next() *server {
	if len(l.out.targets) > 0 {
		return &l.out
	}
	return &l.reg
}

// failover marks the target a request of the line failed at (to, over
// tk: a timeout, a 503, a transport error) and moves the line's next hop
// on to the next target (RFC 3263 section 4.3), unless another request
// has moved it on already (two requests at one server that fails: the
// second must not mark the next target failed or move back). tried counts
// the targets the attempt (a registration attempt, a new call) has moved
// past; it reports false once each target has had its turn.
func (l *line) failover(why string, to *net.UDPAddr, tk tkind, tried *int) bool {
	s := l.next()
	t, ok := s.target()
	if !ok {
		return false
	}
	found := sameTarget(t, to, tk)
	moved := !found // the line is past the target already
	for i := 0; i < len(s.targets) && !found; i++ {
		if sameTarget(s.targets[i], to, tk) {
			t, found = s.targets[i], true
		}
	}
	if found {
		l.ua.res.Failed(t)
	}
	*tried++
	if *tried >= len(s.targets) {
		return false
	}
	if !moved {
		s.cur = (s.cur + 1) % len(s.targets)
		l.apply()
	}
	n, _ := s.target()
	l.ua.logf("sipua: line %d: %s %v; trying %v", l.n, why, t, n)
	return true
}

// sameTarget reports whether t is to over tk.
func sameTarget(t resolve.Target, to *net.UDPAddr, tk tkind) bool {
	return tkindOf(t.Transport) == tk && sameAddr(t.UDPAddr(), to)
}

// refresh brings the line's servers up to date with the resolver before a
// new attempt: from the cache at once when the records are fresh (failed
// targets come last there; read into the server's spare list, so a
// refresh allocates nothing), else by a Lookup on another goroutine,
// after which l.afterLookup runs on the loop. It reports whether the
// attempt must wait for that (the caller sets afterLookup then).
func (l *line) refresh() (waiting bool) {
	for _, s := range [2]*server{&l.reg, &l.out} {
		if s.uri.Host == "" || s.looking {
			continue
		}
		if ts, ok := l.ua.res.AppendCached(s.spare[:0], s.uri); ok {
			old := s.targets
			s.update(ts)
			s.spare = old[:0] // the next refresh reads into it (ts is not old: spare and targets never share)
			continue
		}
		s.looking, waiting = true, true
		go func(s *server, u sipmsg.URI) {
			ctx, cancel := context.WithTimeout(l.ua.lookupCtx, lookupTimeout) // Close cancels it
			defer cancel()
			ts, err := l.ua.res.Lookup(ctx, u)
			l.ua.post(func() {
				s.looking = false
				if err != nil {
					l.ua.logf("sipua: line %d: resolve %s: %v (keeping %d known targets)", l.n, u.HostPort(), err, len(s.targets))
				} else {
					s.update(ts)
				}
				l.apply()
				if !l.reg.looking && !l.out.looking && l.afterLookup != nil {
					then := l.afterLookup
					l.afterLookup = nil
					then()
				}
			})
		}(s, s.uri)
	}
	if !waiting {
		l.apply()
	}
	return waiting
}

// serves reports whether ip is one of the line's servers' addresses
// (any of their targets: after a failover the others stay trusted).
func (l *line) serves(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, s := range [2]*server{&l.reg, &l.out} {
		for _, t := range s.targets {
			if t.Addr.Addr().Unmap() == a {
				return true
			}
		}
	}
	return false
}

// resolveDial is the next hop of a peer-to-peer call to u, looked up on
// the caller's goroutine.
func (ua *UA) resolveDial(u sipmsg.URI) (resolve.Target, error) {
	ts, err := ua.lookupNow(u)
	if err != nil {
		return resolve.Target{}, fmt.Errorf("sipua: dial: %w", err)
	}
	return ts[0], nil
}
