package interop

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// failoverDomain is the PBX domain dnsmasq publishes for the failover
// tests: two Kamailio instances behind NAPTR and SRV records.
const failoverDomain = "pbx.example.test"

// failoverDNS starts dnsmasq serving failoverDomain: NAPTR for UDP (order
// 10) and TCP (20), and for each SRV at priority 10 to instance A's port
// and 20 to B's, both instances on 127.0.0.1. The records live 3 s, so
// that the user agents' refreshes re-resolve them (off the UA goroutine).
func failoverDNS(t *testing.T, portA, portB int) string {
	t.Helper()
	flags := []string{
		"--local=/example.test/", // authoritative: unknown names are NXDOMAIN
		"--local-ttl=3",
		"--naptr-record=" + failoverDomain + ",10,10,s,SIP+D2U,,_sip._udp." + failoverDomain,
		"--naptr-record=" + failoverDomain + ",20,10,s,SIP+D2T,,_sip._tcp." + failoverDomain,
		"--host-record=kama." + failoverDomain + ",127.0.0.1",
		"--host-record=kamb." + failoverDomain + ",127.0.0.1",
	}
	for _, proto := range []string{"udp", "tcp"} {
		flags = append(flags,
			fmt.Sprintf("--srv-host=_sip._%s.%s,kama.%s,%d,10,0", proto, failoverDomain, failoverDomain, portA),
			fmt.Sprintf("--srv-host=_sip._%s.%s,kamb.%s,%d,20,0", proto, failoverDomain, failoverDomain, portB))
	}
	return testtool.DNSMasq(t, flags...)
}

// failoverUA records what a user agent sent and received and what it
// logged, for the checks after a failover.
type failoverUA struct {
	*sipua.UA
	name  string
	start time.Time

	mu      sync.Mutex
	trace   []traced
	logs    []string
	skipped []sipua.Event // events waitEvent passed over, for later waits
}

type traced struct {
	at   time.Time
	line string // "send|recv ADDR START-LINE CSEQ VIA-PROTOCOL"
}

func (f *failoverUA) traced(td sipua.TraceDir, _ string, a *net.UDPAddr, b []byte) {
	dir := td.String()
	m, err := sipmsg.Parse(b)
	if err != nil {
		return // keepalives
	}
	line := m.Method + " " + m.RequestURI
	if !m.IsRequest() {
		line = fmt.Sprintf("%d", m.StatusCode)
	}
	proto, _, _ := strings.Cut(m.Get("Via"), " ") // the transport: SIP/2.0/UDP
	f.mu.Lock()
	f.trace = append(f.trace, traced{time.Now(), fmt.Sprintf("%s %v %s %s %s", dir, a, line, m.Get("CSeq"), proto)})
	f.mu.Unlock()
}

func (f *failoverUA) logf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.logs = append(f.logs, s)
	f.mu.Unlock()
}

// saw reports whether the UA sent (or received) a message to (from) a
// after since whose trace line holds each of parts.
func (f *failoverUA) saw(dir string, a *net.UDPAddr, since time.Time, parts ...string) bool {
	_, ok := f.when(dir, a, since, parts...)
	return ok
}

// when is the time of the first such message.
func (f *failoverUA) when(dir string, a *net.UDPAddr, since time.Time, parts ...string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
next:
	for _, tr := range f.trace {
		l := tr.line
		if tr.at.Before(since) || !strings.HasPrefix(l, dir+" "+a.String()+" ") {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		return tr.at, true
	}
	return time.Time{}, false
}

func (f *failoverUA) dump(t *testing.T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t.Logf("%s log:\n  %s", f.name, strings.Join(f.logs, "\n  "))
	var b strings.Builder
	for _, tr := range f.trace {
		fmt.Fprintf(&b, "\n  %s %s", tr.at.Format("15:04:05.000"), tr.line)
	}
	t.Logf("%s trace:%s", f.name, b.String())
}

// waitEvent waits up to d for the UA's next event of kind want (one it
// passed over earlier first); a call ending or a line leaving
// "registered" on the way fails the test, other events are kept.
func waitEvent(t *testing.T, ua *failoverUA, want sipua.EventKind, d time.Duration) sipua.Event {
	t.Helper()
	for i, e := range ua.skipped {
		if e.Kind == want {
			ua.skipped = append(ua.skipped[:i], ua.skipped[i+1:]...)
			return e
		}
	}
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-ua.Events():
			if !ok {
				t.Fatalf("%s: events closed, want %v", ua.name, want)
			}
			if e.Kind == want {
				return e
			}
			if e.Kind == sipua.CallEnded || e.Kind == sipua.RegChanged && e.RegText() != "registered" {
				t.Fatalf("%s: event %v %+v, want %v", ua.name, e.Kind, e, want)
			}
			ua.skipped = append(ua.skipped, e)
		case <-timeout:
			t.Fatalf("%s: no %v in %v", ua.name, want, d)
		}
	}
}

// ladderHas reports whether k's ladder holds, within d (Kamailio's log
// comes on its own pipe, after the UA may have seen the message), a
// request (status 0) or response of method in the direction dir, from the
// user from.
func ladderHas(k *Kamailio, dir, method, from string, status int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		for _, e := range k.Ladder() {
			if e.Dir == dir && e.Method == method && e.From == from && e.Status == status && e.Request == (status == 0) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKamailioFailover: a domain whose NAPTR and SRV records (dnsmasq)
// point at two Kamailio instances, A at priority 10 and B at 20, both
// registrar and proxy with the same digest users (they share no location
// table), with 10 s bindings (WITH_SHORT: refreshes every 5 s). Over UDP
// and over TCP:
//
//  1. 1002 registers on B directly and answers every call; 1001
//     registers at the domain (no port) and so on A.
//  2. A stops. A fresh UA, whose records still put A first, registers
//     1003 at the domain and calls 1002 from 1004, a line with only an
//     outbound proxy at the domain: the REGISTER and the INVITE go to A,
//     fail, and go on to B, and the call is answered, hung up, ended.
//  3. Meanwhile 1001's next refresh goes to A, and 1001 dials 1002 while
//     it waits there (over UDP; over TCP it has failed over already): the
//     INVITE goes to A too. Each fails and goes on to B over the line's
//     transport (the INVITE to where the REGISTER moved the line, not
//     onwards from there); 1001 stays registered, with no event, and calls
//     1002 again through B.
//
// Over TCP a stopped instance refuses the connection, so each failover is
// at once (5.5 s in all, the wait for 1001's refresh). Over UDP the UA's
// socket is unconnected and gets no ICMP errors: each request to A waits
// for its timer (F or B, 64*T1 = 32 s), so the requests of steps 2 and 3
// wait together, and the subtests run in parallel: 37.5 s in all.
func TestKamailioFailover(t *testing.T) {
	bin := need(t, "kamailio")
	if KamailioModules() == "" {
		testtool.Missing(t, "kamailio's modules are not installed")
	}
	testtool.Need(t, "dnsmasq")
	for _, tc := range []struct {
		name, transport string
		failover        time.Duration // bound of one failover
	}{
		{"TCP", "tcp", 10 * time.Second},
		{"UDP", "", 45 * time.Second}, // NAPTR: UDP first
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testFailover(t, bin, tc.transport, tc.failover)
		})
	}
}

func testFailover(t *testing.T, bin, transport string, failover time.Duration) {
	begin := time.Now()
	cfg, err := filepath.Abs("testdata/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
	defer cancel()
	ports := testtool.Ports(t, 2)
	dns := failoverDNS(t, ports, ports+1)
	kam := func(name string, port int) *Kamailio {
		k, err := StartKamailio(ctx, KamailioOptions{Binary: bin, Config: cfg, Dir: t.TempDir(), Port: port, TCP: true,
			Defines: []string{"WITH_SHORT"}}) // bindings of 10 s: refreshes every 5 s
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			k.Stop()
			if t.Failed() {
				t.Logf("kamailio %s log:\n%s", name, k.Log())
			}
		})
		return k
	}
	a, b := kam("A", ports), kam("B", ports+1)
	var uas []*failoverUA
	t.Cleanup(func() {
		if t.Failed() {
			for _, u := range uas {
				u.dump(t)
			}
		}
	})
	start := func(name string, lines ...sipua.LineConfig) *failoverUA {
		f := &failoverUA{name: name, start: time.Now()}
		for i := range lines {
			lines[i].Transport, lines[i].Expires = transport, 60
			lines[i].Password = "pw" + lines[i].User
		}
		ua, err := sipua.New(sipua.Config{Listen: "127.0.0.1:0", UserAgent: "deskphone-interop",
			DNSServers: []string{dns}, Trace: f.traced, Logf: f.logf, Lines: lines})
		if err != nil {
			t.Fatal(err)
		}
		f.UA = ua
		uas = append(uas, f)
		if err := ua.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ua.Close() })
		return f
	}
	media := func(port int) sipua.Media {
		return sipua.Media{Host: "127.0.0.1", Port: port, Codecs: []string{"PCMU"}}
	}
	// dial: from calls 1002 on line; finish waits up to d for the answer,
	// hangs up and waits for the end.
	dial := func(from *failoverUA, line int) sipua.CallID {
		t.Helper()
		id, err := from.Dial(line, "1002", media(40000))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	finish := func(from *failoverUA, id sipua.CallID, d time.Duration) {
		t.Helper()
		if e := waitEvent(t, from, sipua.CallAnswered, d); e.Call != id {
			t.Fatalf("%s: answered %+v", from.name, e)
		}
		if err := from.Hangup(id); err != nil {
			t.Fatal(err)
		}
		if e := waitEvent(t, from, sipua.CallEnded, 10*time.Second); e.Call != id {
			t.Fatalf("%s: ended %+v", from.name, e)
		}
	}

	// 1. 1002 on B, answering every call; 1001 at the domain: on A
	callee := start("1002", sipua.LineConfig{User: "1002", Registrar: b.Addr.String()})
	waitEvent(t, callee, sipua.RegChanged, 10*time.Second)
	answered := make(chan string, 8) // the callers, as 1002 answers them
	ended := make(chan sipua.CallID, 8)
	go func() {
		for e := range callee.Events() {
			switch e.Kind {
			case sipua.CallIncoming:
				if _, err := callee.Answer(e.Call, media(40010)); err != nil {
					t.Errorf("1002: answer %+v: %v", e, err)
				}
				answered <- e.Number
			case sipua.CallEnded:
				ended <- e.Call
			}
		}
	}()
	phone := start("1001", sipua.LineConfig{User: "1001", Registrar: failoverDomain})
	waitEvent(t, phone, sipua.RegChanged, 10*time.Second)
	if !ladderHas(a, "out", "REGISTER", "1001", 200, 2*time.Second) {
		t.Fatalf("A did not register 1001: %v", a.Ladder())
	}
	if ladderHas(b, "in", "REGISTER", "1001", 0, 0) {
		t.Fatal("1001 registered on B while A was up")
	}
	t.Logf("set up in %v", time.Since(begin).Round(time.Millisecond))

	// 2. A stops. A fresh UA registers 1003 and calls from 1004, both at
	// A first.
	a.Stop()
	stopped := time.Now()
	fresh := start("1003/1004",
		sipua.LineConfig{User: "1003", Registrar: failoverDomain},
		sipua.LineConfig{User: "1004", OutboundProxy: failoverDomain})
	freshCall := dial(fresh, 2)
	// 3. 1001's refresh goes to A; 1001 dials while it waits there (UDP:
	// timer F), so the INVITE goes to A too.
	for !phone.saw("send", a.Addr, stopped, "REGISTER ") {
		if time.Since(stopped) > failover {
			t.Fatal("1001 sent no REGISTER to A after it stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	phoneCall := dial(phone, 1)

	// 2. Each of the fresh UA's requests fails over to B.
	finish(fresh, freshCall, failover)
	if e := waitEvent(t, fresh, sipua.RegChanged, failover); e.Line != 1 {
		t.Fatalf("fresh UA: %+v", e)
	}
	// the line's own transport: a UDP line goes on from UDP at A to UDP
	// at B, the next target (NAPTR puts both UDP targets first)
	proto := "SIP/2.0/UDP"
	if transport == "tcp" {
		proto = "SIP/2.0/TCP"
	}
	failedOver := func(f *failoverUA, method string) string {
		at, ok := f.when("send", b.Addr, stopped, method+" ", proto)
		if !ok {
			return "never"
		}
		return at.Sub(stopped).Round(time.Millisecond).String()
	}
	t.Logf("fresh UA: REGISTER to B %s, INVITE to B %s after A stopped", failedOver(fresh, "REGISTER"), failedOver(fresh, "INVITE"))
	for _, want := range []struct {
		method, from string
		status       int
	}{{"REGISTER", "1003", 200}, {"INVITE", "1004", 0}} {
		if want.status != 0 && !ladderHas(b, "out", want.method, want.from, want.status, 2*time.Second) {
			t.Errorf("B did not answer %s from %s %d", want.method, want.from, want.status)
		}
		if !ladderHas(b, "in", want.method, want.from, 0, 2*time.Second) {
			t.Errorf("B did not get %s from %s", want.method, want.from)
		}
		if !fresh.saw("send", a.Addr, stopped, want.method+" ", proto) {
			t.Errorf("fresh UA sent no %s to A first", want.method)
		}
		if !fresh.saw("send", b.Addr, stopped, want.method+" ", proto) {
			t.Errorf("fresh UA sent no %s to B over %s", want.method, proto)
		}
	}

	// 3. 1001's REGISTER and INVITE fail over to B, the INVITE on to where
	// the REGISTER moved the line (not back to A), and the call goes
	// through; 1001 stays registered (no event), on B now.
	finish(phone, phoneCall, failover)
	t.Logf("1001: REGISTER to B %s, INVITE to B %s after A stopped", failedOver(phone, "REGISTER"), failedOver(phone, "INVITE"))
	if transport == "" && !phone.saw("send", a.Addr, stopped, "INVITE ") {
		t.Error("1001's INVITE did not go to A with the refresh")
	}
	for _, m := range []string{"REGISTER", "INVITE"} {
		if !phone.saw("send", b.Addr, stopped, m+" ", proto) {
			t.Errorf("1001 sent no %s to B over %s", m, proto)
		}
	}
	if !ladderHas(b, "out", "REGISTER", "1001", 200, 2*time.Second) || !phone.saw("recv", b.Addr, stopped, "200 ", "REGISTER") {
		t.Fatal("1001 not registered on B")
	}
	if !ladderHas(b, "in", "INVITE", "1001", 0, 2*time.Second) {
		t.Error("1001's INVITE did not reach B")
	}
	// The line stayed registered: no event but the trouble A's silence
	// (or its ICMP port unreachable) made the UA report, and the end of
	// it, registered again (sipua.RegTrouble).
	stayed := func(e sipua.Event) bool {
		return e.Kind == sipua.RegTrouble || e.Kind == sipua.RegChanged && e.RegState == sipua.Registered
	}
	for _, e := range phone.skipped {
		if e.Kind == sipua.RegChanged && !stayed(e) {
			t.Fatalf("1001: %+v during the failover", e)
		}
	}
	for done := false; !done; {
		select {
		case e := <-phone.Events():
			if !stayed(e) {
				t.Fatalf("1001: %v %+v during the failover", e.Kind, e)
			}
		default:
			done = true
		}
	}
	// and a call once registered on B
	finish(phone, dial(phone, 1), 10*time.Second)

	// 1002 answered the three calls, and each ended
	var callers []string
	for len(callers) < 3 {
		select {
		case c := <-answered:
			callers = append(callers, c)
		case <-time.After(5 * time.Second):
			t.Fatalf("1002 answered %q", callers)
		}
	}
	sort.Strings(callers)
	if want := []string{"1001", "1001", "1004"}; !slices.Equal(callers, want) {
		t.Errorf("1002 answered %q, want %q", callers, want)
	}
	for n := 0; n < 3; n++ {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatalf("1002: %d calls ended, want 3", n)
		}
	}
	t.Logf("done in %v", time.Since(begin).Round(time.Millisecond))
}
