package sipua

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/deskphone/deskphone/sipua/resolve"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
	"github.com/deskphone/deskphone/sipua/transport"
)

const (
	keepaliveEvery = 25 * time.Second
	closeWait      = 2 * time.Second
)

// What the UA takes, in one place each: the methods (Allow, RFC 3261
// 20.5), the body types (Accept, 20.1: SDP for INVITE, RFC 3428 text for
// MESSAGE, RFC 3842 message summaries in NOTIFY), the body encodings
// (Accept-Encoding, 20.2: none but identity) and the extensions (Supported,
// 20.37; Require is checked against it, 8.2.2.3). OPTIONS answers carry
// them all (11.2); a 415 the one it is about (8.2.3).
const (
	allowHeader          = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, REFER, UPDATE, PRACK, MESSAGE"
	acceptHeader         = "application/sdp, text/plain, application/simple-message-summary"
	acceptEncodingHeader = "identity"
	// supportedHeader: 100rel (RFC 3262, prack.go), replaces (RFC 3891),
	// timer (RFC 4028, timer.go: left out while session timers are off,
	// Config.SessionExpires 0; UA.supported).
	supportedHeader = "100rel, replaces, timer"
)

// UA is the user agent. Its methods are safe for concurrent use.
type UA struct {
	cfg       Config
	events    chan Event
	queue     eventQueue    // the events on their way to events (events.go)
	forwarded chan struct{} // closed when the forwarder has closed events

	work chan func()
	stop chan struct{} // closed to stop the loop
	done chan struct{} // closed when the loop has exited

	stackMoves atomic.Int64 // the loop's stack copied since it grew (loopStack)

	startOnce sync.Once
	closeOnce sync.Once
	started   atomic.Bool
	conn      *transport.UDP
	tcp, tls  *transport.Stream // TCP at conn's port; TLS (stream.go)
	tlsPort   int
	local     *net.UDPAddr
	readerEnd chan struct{}

	res *resolve.Resolver // every next hop (hop.go); safe for concurrent use
	// lookupCtx bounds the resolver's lookups on other goroutines: Close
	// cancels it, so none outlives the UA.
	lookupCtx    context.Context
	cancelLookup context.CancelFunc

	txBuf    []byte            // the UDP send buffer (sendMessage), owned by the loop
	errChans sync.Pool         // do's result channels (errChan)
	destKeys map[hopKey]string // next hops' names for the digest cache (request.go), owned by the loop
	rxMsg    sipmsg.Message    // every received message is parsed into it (receive), owned by the loop
	rx       chan *rxSlot      // datagrams from the UDP reader to the loop (rx.go)
	rxFree   chan *rxSlot      // slots back to the reader

	// Owned by the loop goroutine.
	clock       *time.Timer // fires at the earliest of alarms' latest moments (alarm.go); stopped while none is armed
	alarms      []*alarm    // the armed alarms, a heap on their latest moment
	lax         int         // how many of them may fire late (slack > 0)
	laxNext     time.Time   // at or before the earliest moment of those
	due         []*alarm    // fireAlarms' scratch: the alarms due, kept for its capacity
	tl          *transaction.Layer
	contactHost string
	lines       []*line
	calls       map[CallID]*call
	nextCall    CallID
	mwi         map[int]*mwiSub      // message-summary subscriptions by line (mwi.go)
	viaSentBy   [3]string            // "SIP/2.0/UDP host:port" per transport, once started (viaFor)
	contacts    [4]map[string]string // Contact values per transport (and SIPS over TLS) and user, once started (contactFor)
	closing     bool
	pendingRegs int
	closeReady  chan struct{}
	closeSent   bool // closeReady is closed

	// Session timers (timer.go): the Supported value without "timer" when
	// they are off, and our Min-SE in seconds (RFC 4028 section 5: 90;
	// tests lower it to run sessions of a few seconds).
	supportedOff string
	minSE        int
	ringRefresh  time.Duration // 0 = provisionalEvery (ring.go); tests shorten it
}

// New validates cfg and returns a UA; it does no I/O.
func New(cfg Config) (*UA, error) {
	if cfg.Listen == "" {
		return nil, fmt.Errorf("sipua: Config.Listen is empty")
	}
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		return nil, fmt.Errorf("sipua: Config.Listen: %w", err)
	}
	res, err := newResolver(cfg)
	if err != nil {
		return nil, err
	}
	ua := &UA{
		cfg:        cfg,
		res:        res,
		rx:         make(chan *rxSlot, rxSlots),
		rxFree:     make(chan *rxSlot, rxSlots),
		events:     make(chan Event, 16),
		forwarded:  make(chan struct{}),
		work:       make(chan func(), 256),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		readerEnd:  make(chan struct{}),
		calls:      map[CallID]*call{},
		closeReady: make(chan struct{}),
		minSE:      defaultMinSE,
	}
	if cfg.SessionExpires != 0 && cfg.SessionExpires < defaultMinSE {
		return nil, fmt.Errorf("sipua: Config.SessionExpires %d: 0 (off) or at least %d (RFC 4028 section 5)", cfg.SessionExpires, defaultMinSE)
	}
	var tags []string
	for _, t := range sipmsg.SplitList(supportedHeader) {
		if t = strings.TrimSpace(t); !strings.EqualFold(t, "timer") {
			tags = append(tags, t)
		}
	}
	ua.supportedOff = strings.Join(tags, ", ")
	ua.queue.wake = make(chan struct{}, 1)
	ua.clock = time.NewTimer(time.Hour)
	ua.clock.Stop()
	ua.due = make([]*alarm, 0, dueCap)
	ua.lookupCtx, ua.cancelLookup = context.WithCancel(context.Background())
	for i, lc := range cfg.Lines {
		l, err := newLine(ua, i+1, lc)
		if err != nil {
			return nil, err
		}
		ua.lines = append(ua.lines, l)
	}
	return ua, nil
}

func (ua *UA) logf(format string, args ...any) {
	if ua.cfg.Logf != nil {
		ua.cfg.Logf(format, args...)
	}
}

// Events returns the event channel. It is closed after Close.
func (ua *UA) Events() <-chan Event { return ua.events }

// LocalAddr is the bound address (nil before Start).
func (ua *UA) LocalAddr() *net.UDPAddr { return ua.local }

// Start binds the socket, starts the loop, registers each line that has a
// registrar and sends keepalives to each outbound proxy. ctx ending closes
// the UA.
func (ua *UA) Start(ctx context.Context) error {
	err := ErrClosed
	ua.startOnce.Do(func() {
		err = ua.start(ctx)
	})
	return err
}

func (ua *UA) start(ctx context.Context) error {
	for _, l := range ua.lines {
		if err := l.resolve(); err != nil {
			return err
		}
	}
	if err := ua.listen(); err != nil {
		return err
	}
	conn := ua.conn
	ua.contactHost = ua.pickContactHost()
	ua.tl = transaction.NewLayer(transaction.Config{Transport: (*sender)(ua), Post: ua.post, Clock: (*loopClock)(ua), OnOwner: true, Max: ua.cfg.MaxTransactions})
	ua.started.Store(true)
	go ua.loop()
	go func() {
		defer close(ua.forwarded)
		ua.forward()
	}()
	go func() {
		defer close(ua.readerEnd)
		ua.readUDP(conn)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = ua.Close()
		case <-ua.done:
		}
	}()
	ua.post(func() {
		for _, l := range ua.lines {
			if l.cfg.Registrar != "" {
				l.register(l.expires) // resolved by now, or looked up again first (hop.go)
			}
			if l.cfg.Registrar != "" || l.cfg.OutboundProxy != "" {
				l.keepalive()
			}
		}
	})
	ua.logf("sipua: listening on %v, contact host %s", ua.local, ua.contactHost)
	return nil
}

func (ua *UA) pickContactHost() string {
	if ua.cfg.ContactHost != "" {
		return ua.cfg.ContactHost
	}
	for _, l := range ua.lines {
		if l.proxy != nil {
			if ip, err := transport.LocalIPFor(l.proxy); err == nil {
				return ip.String()
			}
		}
	}
	if ip := ua.local.IP; ip != nil && !ip.IsUnspecified() {
		return ip.String()
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// post hands f to the loop goroutine (dropped once the UA has stopped).
func (ua *UA) post(f func()) {
	select {
	case ua.work <- f:
	case <-ua.stop:
	}
}

// do runs f on the loop goroutine and waits for its result.
func (ua *UA) do(f func() error) error {
	if !ua.started.Load() {
		return ErrNotStarted
	}
	errc := ua.errChan()
	select {
	case ua.work <- func() { errc <- f() }:
	case <-ua.stop:
		ua.errChans.Put(errc)
		return ErrClosed
	}
	select {
	case err := <-errc:
		ua.errChans.Put(errc) // empty again: reusable
		return err
	case <-ua.done:
		return ErrClosed // errc may still get its value: not reused
	}
}

// errChan is a result channel for do, reused across calls. The pool is
// the UA's own: a channel made inside a testing/synctest bubble (a UA
// tested there) must never be handed to a UA outside it.
func (ua *UA) errChan() chan error {
	if c, ok := ua.errChans.Get().(chan error); ok {
		return c
	}
	return make(chan error, 1)
}

// loopStack is the stack the UA's loop runs on. A goroutine's stack starts
// small and the runtime grows it by copying, which reads the stack maps
// (the program's pc tables) of every frame on it: the loop's first call
// grew it, and those reads mapped back about 1 MB of the program's file
// that the phone had let go of when it settled, held for the whole call
// (DESIGN.md, "Memory"). So the loop grows its stack to loopStack before
// the phone settles, and keeps a quarter of it in use (reserve) while it
// waits, so that a collection does not halve it again (the runtime
// shrinks a stack that uses less than a quarter). A call's deepest work
// on the loop (the INVITE's SDP, its digest, the answer's parse) is a few
// KiB above that; TestLoopStackStays holds it.
const loopStack = 32 << 10

func (ua *UA) loop() {
	defer close(ua.done)
	var reserve [loopStack / 4]byte
	keepReserve(&reserve)
	growStack()
	at := uintptr(unsafe.Pointer(&reserve)) // moves when the stack does
	for {
		if p := uintptr(unsafe.Pointer(&reserve)); p != at {
			at = p
			ua.stackMoves.Add(1)
		}
		select {
		case f := <-ua.work:
			f()
		case <-ua.clock.C:
			ua.fireAlarms()
			continue
		case s := <-ua.rx:
			ua.receive(tUDP, s.b[:s.n], &s.from)
			ua.rxFree <- s
		case <-ua.stop:
			return
		}
		if ua.lax > 0 && ua.laxDue(time.Now()) {
			ua.fireAlarms() // the alarms with slack that are due ride on this turn
		}
	}
}

// keepReserve and growStack are never inlined: the first keeps the loop's
// reserve in its frame, the second's frame takes the stack to loopStack.
//
//go:noinline
func keepReserve(*[loopStack / 4]byte) {}

//go:noinline
func growStack() {
	var b [loopStack / 2]byte
	keepGrow(&b)
}

//go:noinline
func keepGrow(*[loopStack / 2]byte) {}

// emit queues an event for the phone (events.go); the loop never waits.
func (ua *UA) emit(e Event) {
	if e.Number == "" && e.Call != 0 {
		if c := ua.calls[e.Call]; c != nil {
			e.Number = c.number
		}
	}
	if e.Kind == RegChanged {
		ua.mwiRegChanged(e.Line, e.RegState)
	}
	if !ua.queue.push(e) {
		ua.logf("sipua: the phone is %d events behind: dropped %v (line %d, call %d)", eventRing, e.Kind, e.Line, e.Call)
	}
}

// sender adapts the UA's socket to transaction.Transport.
type sender UA

func (s *sender) Send(m *sipmsg.Message, to *net.UDPAddr) error {
	return (*UA)(s).sendMessage(m, to)
}

func (ua *UA) sendRaw(b []byte, to *net.UDPAddr) error {
	ua.trace(TraceSend, tUDP, to, b)
	return ua.conn.Send(b, to)
}

// trace hands a message to Config.Trace: the one place every message
// sent (sendRaw, sendOn) and received (receive) passes, whatever its
// transport.
func (ua *UA) trace(dir TraceDir, k tkind, peer *net.UDPAddr, b []byte) {
	if ua.cfg.Trace != nil {
		ua.cfg.Trace(dir, k.via(), peer, b)
	}
}

// sendMsg sends outside any transaction (ACK to 2xx, stateless responses).
func (ua *UA) sendMsg(m *sipmsg.Message, to *net.UDPAddr) {
	if err := ua.sendMessage(m, to); err != nil {
		ua.logf("sipua: %v", err)
	}
}

// Close ends the calls and unregisters the registered lines, waiting (at
// most about 2 s) until the lines are unregistered and the calls through
// a proxy (a line's outbound proxy or registrar) have ended: their BYE
// answered, re-sent with credentials when the proxy challenges it. Then
// it closes the socket and the event channel. Calls straight to a peer
// are not waited for.
func (ua *UA) Close() error {
	if !ua.started.Load() {
		return nil
	}
	ua.closeOnce.Do(func() {
		ua.post(ua.beginClose)
		t := time.NewTimer(closeWait)
		select {
		case <-ua.closeReady:
		case <-t.C:
		case <-ua.done:
		}
		t.Stop()
		ua.shutdown()
	})
	return nil
}

// Halt stops the UA at once, as a power cut stops a phone: no BYE, no
// CANCEL, no unregistration; the loop ends and the sockets close, so the
// registrar keeps the bindings and the far ends of calls hear nothing
// more. tools/fleet cuts a building's power with it. After Halt, Close
// does nothing.
func (ua *UA) Halt() {
	if !ua.started.Load() {
		return
	}
	ua.closeOnce.Do(func() {
		ua.shutdown()
		// The loop has ended: its timers (refreshes, keepalives, the
		// message-summary subscriptions) are stopped from here, so that
		// none keeps the UA in memory until it would have fired.
		for _, l := range ua.lines {
			l.stopTimers()
		}
		for _, s := range ua.mwi {
			s.cancel()
		}
	})
}

// shutdown stops the loop and closes the transports and the event
// channel: the end of Close and all of Halt.
func (ua *UA) shutdown() {
	close(ua.stop)
	ua.cancelLookup()
	<-ua.done
	ua.closeTransports()
	<-ua.readerEnd
	<-ua.forwarded // the forwarder has handed over what was queued, and closed Events
}

// beginClose runs on the loop: BYE/CANCEL/480 every call, unregister every
// registered line, and signal closeReady when the unregistrations are done
// and the calls through a proxy have ended (closeDone).
func (ua *UA) beginClose() {
	ua.closing = true
	for _, c := range ua.calls {
		c.hangup()
	}
	for _, l := range ua.lines {
		l.stopTimers()
		if l.registrar != nil && l.regState == Registered {
			ua.pendingRegs++
			l.register(0)
		}
	}
	ua.closeDone()
}

func (ua *UA) regDone() {
	if ua.closing && ua.pendingRegs > 0 {
		ua.pendingRegs--
		ua.closeDone()
	}
}

// closeDone signals closeReady, once, when Close has nothing left to wait
// for: no unregistration pending and no call through a proxy left
// (call.end removes each).
func (ua *UA) closeDone() {
	if !ua.closing || ua.closeSent || ua.pendingRegs > 0 {
		return
	}
	for _, c := range ua.calls {
		if c.line.proxy != nil {
			return
		}
	}
	ua.closeSent = true
	close(ua.closeReady)
}

func (ua *UA) line(n int) (*line, error) {
	if n < 1 || n > len(ua.lines) {
		return nil, fmt.Errorf("%w: %d", ErrUnknownLine, n)
	}
	return ua.lines[n-1], nil
}

// trusted reports whether requests from ip may be handled.
func (ua *UA) trusted(ip net.IP) bool {
	if !ua.cfg.TrustedOnly {
		return true
	}
	for _, l := range ua.lines {
		if l.serves(ip) {
			return true
		}
	}
	return false
}

// receive handles one message received over k (a datagram, or a message
// a stream framed) on the loop goroutine.
func (ua *UA) receive(k tkind, b []byte, from *net.UDPAddr) {
	ua.trace(TraceRecv, k, from, b)
	if len(bytes.Trim(b, "\r\n")) == 0 {
		return // keepalive (RFC 5626 section 4.4.1 style CRLF)
	}
	// Every message is parsed into the one reused message, whose strings
	// are views into b, which is reused too (the receive ring): what is
	// kept is copied where it is kept. The transaction layer keeps its own
	// copy of a new request (srv.Request(), which the handlers get) and
	// passes up copies of responses; an ACK to a 2xx is copied here.
	m := &ua.rxMsg
	if err := m.ParseFrom(b); err != nil {
		ua.malformed(m, err, from)
		return
	}
	if !m.IsRequest() {
		if !ua.tl.HandleResponse(m) {
			ua.strayResponse(m)
		}
		return
	}
	if !ua.trusted(from.IP) {
		ua.logf("sipua: dropped %s from untrusted %v", m.Method, from)
		return
	}
	srv, up := ua.tl.HandleRequest(m, from)
	if !up {
		return
	}
	if srv == nil { // ACK to a 2xx
		ua.handleAck(m.Clone())
		return
	}
	if k != tTLS && ua.insecureSIPS(srv, m) {
		return
	}
	ua.handleRequest(srv, srv.Request())
}

// malformed answers a request that failed to parse with the response RFC
// 4475 asks for (400, or 505 for another SIP version) when enough of it
// parsed to address a response (RFC 3261 8.2, 18.2.2) and it came from a
// trusted address; anything else (responses, ACKs, untrusted senders,
// fragments) is dropped. The phone carries on either way.
func (ua *UA) malformed(m *sipmsg.Message, err error, from *net.UDPAddr) {
	code, reason := sipmsg.ResponseFor(err)
	if !m.IsRequest() || m.Method == "ACK" || !m.Has("Via") || !ua.trusted(from.IP) {
		ua.logf("sipua: dropped from %v: %v", from, err)
		return
	}
	r := sipmsg.NewResponse(m, code, reason)
	if ua.cfg.UserAgent != "" {
		r.Add("Server", ua.cfg.UserAgent)
	}
	ua.logf("sipua: %d to a malformed %s from %v: %v", code, m.Method, from, err)
	ua.sendMsg(r, from)
}

func (ua *UA) respond(srv *transaction.Server, code int, reason string, mod func(r *sipmsg.Message)) *sipmsg.Message {
	r := ua.response(srv, code, reason, mod)
	if err := srv.Respond(r); err != nil {
		ua.logf("sipua: respond %d: %v", code, err)
	}
	return r
}

// response builds the response respond sends, without sending it.
func (ua *UA) response(srv *transaction.Server, code int, reason string, mod func(r *sipmsg.Message)) *sipmsg.Message {
	r := sipmsg.NewResponse(srv.Request(), code, reason)
	if ua.cfg.UserAgent != "" {
		r.Add("Server", ua.cfg.UserAgent)
	}
	if mod != nil {
		mod(r)
	}
	return r
}

// messageSummary reads an application/simple-message-summary body (RFC
// 3842 section 5): "Messages-Waiting: yes" and "Voice-Message: new/old",
// the urgent counts in parentheses ignored.
func messageSummary(body []byte) (waiting bool, newMsgs, oldMsgs int) {
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "messages-waiting":
			waiting = strings.EqualFold(value, "yes")
		case "voice-message":
			if i := strings.IndexByte(value, '('); i >= 0 {
				value = strings.TrimSpace(value[:i])
			}
			n, o, _ := strings.Cut(value, "/")
			newMsgs, _ = strconv.Atoi(strings.TrimSpace(n))
			oldMsgs, _ = strconv.Atoi(strings.TrimSpace(o))
		}
	}
	return waiting, newMsgs, oldMsgs
}

// eventType is the event package of an Event header value, lower case,
// without parameters ("check-sync;reboot=false" -> "check-sync").
func eventType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// lineFor is the number of the line a request is addressed to, by the user
// part of its Request-URI; 1 when none matches.
func (ua *UA) lineFor(m *sipmsg.Message) int {
	if u, err := sipmsg.ParseURI(m.RequestURI); err == nil {
		for _, l := range ua.lines {
			if l.cfg.User == u.User {
				return l.n
			}
		}
	}
	return 1
}

// addToTag puts tag on the response's To if it has none.
func addToTag(r *sipmsg.Message, tag string) {
	to := r.Get("To")
	if to == "" || sipmsg.Tag(to) != "" {
		return
	}
	if strings.IndexByte(to, '<') < 0 && strings.IndexByte(to, ';') >= 0 {
		// addr-spec with parameters: rebuild so the tag is a header parameter.
		na, err := sipmsg.ParseNameAddr(to)
		if err != nil {
			return
		}
		na.SetParam("tag", tag)
		r.Set("To", na.String())
		return
	}
	r.Set("To", to+";tag="+tag)
}

// supported is the Supported value the UA sends (supportedHeader, without
// "timer" while session timers are off).
func (ua *UA) supported() string {
	if ua.cfg.SessionExpires != 0 {
		return supportedHeader
	}
	return ua.supportedOff
}

// unsupported lists the Require options we do not support (RFC 3261
// 8.2.2.3): all but those in supported.
func unsupported(m *sipmsg.Message, supported string) []string {
	var u []string // nil, unallocated, when every option is supported
	for opt := range m.Values("Require") {
		if opt = strings.TrimSpace(opt); opt != "" && !hasTag(supported, opt) {
			u = append(u, opt)
		}
	}
	return u
}

// hasTag reports whether a comma-separated list (Allow, Supported,
// Require) has tag, case-insensitively.
func hasTag(list, tag string) bool {
	for list != "" { // a scan: no slice (option tags and methods hold no commas or quotes)
		var t string
		t, list, _ = strings.Cut(list, ",")
		if strings.EqualFold(strings.TrimSpace(t), tag) {
			return true
		}
	}
	return false
}

func (ua *UA) handleRequest(srv *transaction.Server, m *sipmsg.Message) {
	if m.Method != "CANCEL" { // a CANCEL follows its INVITE (9.2)
		if ua.badScheme(srv, m) { // 416 (screen.go): RFC 3261 8.2.2.1
			return
		}
		if opts := unsupported(m, ua.supported()); len(opts) > 0 {
			ua.respond(srv, 420, "", func(r *sipmsg.Message) {
				addToTag(r, sipmsg.NewTag())
				r.Add("Unsupported", strings.Join(opts, ", "))
			})
			return
		}
		if ua.badBody(srv, m) { // 415, 400 (screen.go): RFC 3261 8.2.3
			return
		}
	}
	switch m.Method {
	case "INVITE":
		ua.handleInvite(srv, m)
	case "REFER":
		ua.handleRefer(srv, m)
	case "CANCEL":
		ua.handleCancel(srv, m)
	case "BYE":
		ua.handleBye(srv, m)
	case "UPDATE":
		ua.handleUpdate(srv, m)
	case "MESSAGE":
		ua.handleMessage(srv, m)
	case "PRACK":
		ua.handlePrack(srv, m)
	case "OPTIONS":
		// RFC 3261 11.2: what we take, and our capabilities.
		ua.respond(srv, 200, "", func(r *sipmsg.Message) {
			addToTag(r, sipmsg.NewTag())
			r.Add("Allow", allowHeader)
			r.Add("Accept", acceptHeader)
			r.Add("Accept-Encoding", acceptEncodingHeader)
			r.Add("Supported", ua.supported())
		})
	case "NOTIFY":
		// Unsolicited NOTIFY (RFC 3265 style, as PBXs send them): a
		// check-sync asks for a configuration resync; message-summary and
		// the rest are acknowledged.
		ua.respond(srv, 200, "", nil)
		switch eventType(m.Get("Event")) {
		case "check-sync":
			if ua.cfg.OnCheckSync != nil {
				ua.cfg.OnCheckSync(ua.lineFor(m))
			}
		case "message-summary":
			if ua.cfg.OnMessageSummary != nil {
				waiting, n, o := messageSummary(m.Body)
				ua.cfg.OnMessageSummary(ua.lineFor(m), waiting, n, o)
			}
		}
	default:
		ua.respond(srv, 501, "", func(r *sipmsg.Message) { r.Add("Allow", allowHeader) })
	}
}

// strayResponse handles a response no transaction matched: a retransmitted
// 2xx to an INVITE whose transaction is gone is ACKed again (13.2.2.4).
func (ua *UA) strayResponse(m *sipmsg.Message) {
	_, method, err := m.CSeq()
	if err != nil || method != "INVITE" || m.StatusCode < 200 || m.StatusCode >= 300 {
		return
	}
	for _, c := range ua.calls {
		if c.outgoing && c.inv != nil && c.inv.Get("Call-ID") == m.Get("Call-ID") && c.ack != nil {
			ua.sendMsg(c.ack, c.dest)
			return
		}
	}
}

func userOf(s string) string {
	na, err := sipmsg.ParseNameAddr(s)
	if err != nil {
		return s
	}
	if na.Display != "" {
		return na.Display
	}
	if na.URI.User != "" {
		return na.URI.User
	}
	return na.URI.String()
}

// numberOf is what to call a party back on: the user part of its URI, or
// the whole URI when it has none.
func numberOf(s string) string {
	na, err := sipmsg.ParseNameAddr(s)
	if err != nil {
		return ""
	}
	if na.URI.User != "" {
		return na.URI.User
	}
	return na.URI.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
