package pbx

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Media anchoring for phones behind a NAT, as PBXs do for NATed phones
// (Kamailio's nat_uac_test and rtpengine, Asterisk's direct_media=no).
// The relay is made when the initial INVITE is forwarded; with a late
// offer (no SDP in the INVITE) the offer in the 2xx and the answer in the
// ACK are rewritten the same way.
//
// A phone in QEMU advertises 10.0.2.2 (nat.public_address) in its SDP:
// another QEMU phone reaches that, the host does not, and the QEMU phone
// cannot reach a host softphone's 127.0.0.1 either (inside the guest that
// is the guest). So when an initial INVITE is forwarded and
// either side is behind a NAT, the PBX puts itself in the media path: a
// relay with an RTP/RTCP socket pair per leg on its listening address, each
// SDP rewritten (the first audio stream's c= and port; Content-Length
// follows the body) so that each leg sends to the socket facing it, at the
// address that leg reaches the PBX by (10.0.2.2 for a QEMU phone, the
// listening IP for the host). Each socket forwards what it receives to the
// other leg from that leg's socket, so both legs see symmetric RTP.
//
// A leg is behind a NAT when the address in its SDP, or its Contact's, is
// not the source address of its signalling (Kamailio's nat_uac_test 8 and
// 32 ideas), or, for the
// callee whose SDP is not known yet, when its registration came through
// a NAT: it reached the PBX by another address than the listening one
// (10.0.2.2), or its Contact's IP is not its flow's. Two phones on the
// loopback (the sim board, baresip, sipp) keep direct media.
//
// Latching (symmetric RTP, RFC 4961 style): a leg's packets go back to
// where that leg's packets come from; before its first packet, to the
// address its SDP names, with 10.0.2.2 read as the host's 127.0.0.1 (the
// runner forwards the advertised port from there into the guest).
// Re-INVITE and UPDATE offers and answers (hold, resume) are rewritten to
// the same sockets. The relay closes on BYE, on CANCEL or a failure before
// the call is answered, after Config.MediaIdle without a packet or SIP
// message for the call, and when the PBX stops. Relays are bounded
// (Config.MaxRelays; beyond that a call keeps direct media) and so are
// packets (maxRelayPacket; a longer datagram is dropped).
//
// Known limits: one audio stream per call is relayed (other m-lines keep
// their own address); RTCP is expected on the RTP port + 1, or on the RTP port
// with rtcp-mux (a=rtcp in an SDP is dropped: the relay's RTCP is its RTP
// port + 1).

// Media relay bounds and defaults.
const (
	DefaultMaxRelays = 64
	DefaultMediaIdle = 60 * time.Second
	maxRelayPacket   = 1500 // bytes: RTP of a desk phone is far below
)

// legID names a leg of an anchored call.
type legID uint8

const (
	callerLeg legID = iota // sent the initial INVITE
	calleeLeg
)

func (l legID) String() string {
	if l == callerLeg {
		return "caller"
	}
	return "callee"
}

func (l legID) other() legID { return 1 - l }

// stream is RTP or RTCP, the two sockets of a leg.
type stream uint8

const (
	rtpStream stream = iota
	rtcpStream
)

// relayLeg is one side of an anchored call: the sockets facing it and
// where its media goes.
type relayLeg struct {
	reach string          // the host this leg reaches the PBX by: in SDP sent to it
	conns [2]*net.UDPConn // facing the leg: RTP (even port), RTCP (port + 1)

	// Guarded by relay.mu.
	sdp     [2]*net.UDPAddr // what its last SDP named
	target  [2]*net.UDPAddr // where its packets go: latched, else sdp
	latched [2]bool

	packets atomic.Uint64 // received from this leg, RTP and RTCP
	dropped atomic.Uint64 // too long, or nowhere to send yet
}

// relay anchors one call's media (keyed by Call-ID in state.relays).
type relay struct {
	callID    string
	callerTag string // From tag of the initial INVITE
	legs      [2]*relayLeg
	answered  bool         // a 2xx to the INVITE went through (loop-owned)
	last      atomic.Int64 // unix nanoseconds of the last packet or SIP message

	mu   sync.Mutex
	wg   sync.WaitGroup
	once sync.Once
}

// Relay describes an anchored call, for tests and diagnostics.
type Relay struct {
	CallID string
	// Ports are the RTP ports of the sockets facing the caller and the
	// callee (RTCP is each + 1).
	Ports [2]int
	// Hosts are the addresses each leg was told to send to.
	Hosts [2]string
	// Packets are the RTP and RTCP packets received from the caller and
	// from the callee; Dropped those not passed on.
	Packets, Dropped [2]uint64
}

// Relays returns the calls whose media the PBX relays now.
func (p *PBX) Relays() []Relay {
	var out []Relay
	_ = p.do(func() {
		for _, r := range p.st.relays {
			var d Relay
			d.CallID = r.callID
			for i, l := range r.legs {
				d.Ports[i] = l.conns[rtpStream].LocalAddr().(*net.UDPAddr).Port
				d.Hosts[i] = l.reach
				d.Packets[i] = l.packets.Load()
				d.Dropped[i] = l.dropped.Load()
			}
			out = append(out, d)
		}
	})
	return out
}

// mediaBind is the address the PBX's media sockets bind: the listening
// address, all interfaces when it listens on all.
func (p *PBX) mediaBind() net.IP {
	if la, err := net.ResolveUDPAddr("udp", p.cfg.Listen); err == nil && la.IP != nil {
		return la.IP
	}
	return p.addr.IP
}

// hostSide is where the host reaches a media address an SDP names: a QEMU
// guest's 10.0.2.2 is the host's own loopback, where the runner forwards
// the guest's RTP ports (tools/qemu/doc.go).
func hostSide(host string) string {
	if host == qemuHost {
		return "127.0.0.1"
	}
	return host
}

// hostOf is the host of a host:port ("" when it is none).
func hostOf(hp string) string {
	h, _, err := net.SplitHostPort(hp)
	if err != nil {
		return ""
	}
	return h
}

// socketPair binds an RTP socket on an even port and its RTCP socket on
// the port above (RFC 3550 section 11), on ip.
func socketPair(ip net.IP) (rtp, rtcp *net.UDPConn, err error) {
	for try := 0; try < 32; try++ {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			return nil, nil, err
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port == 65535 {
			a.Close()
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port + 1})
		if err != nil {
			a.Close()
			continue
		}
		return a, b, nil
	}
	return nil, nil, errors.New("pbx: no free RTP/RTCP port pair")
}

// newRelay opens a relay's four sockets and starts forwarding.
func (p *PBX) newRelay(callID, callerTag, callerReach, calleeReach string) (*relay, error) {
	r := &relay{callID: callID, callerTag: callerTag}
	ip := p.mediaBind()
	for i, reach := range []string{callerReach, calleeReach} {
		rtp, rtcp, err := socketPair(ip)
		if err != nil {
			r.close()
			return nil, err
		}
		r.legs[i] = &relayLeg{reach: reach, conns: [2]*net.UDPConn{rtp, rtcp}}
	}
	r.touch()
	for i := range r.legs {
		for s := range r.legs[i].conns {
			r.wg.Add(1)
			go r.forward(legID(i), stream(s))
		}
	}
	return r, nil
}

func (r *relay) touch() { r.last.Store(time.Now().UnixNano()) }

// idle reports whether nothing happened for d.
func (r *relay) idle(d time.Duration) bool {
	return time.Since(time.Unix(0, r.last.Load())) > d
}

// forward passes what arrives from leg on stream s to the other leg, and
// latches leg's target to where it came from.
func (r *relay) forward(leg legID, s stream) {
	defer r.wg.Done()
	from, to := r.legs[leg], r.legs[leg.other()]
	buf := make([]byte, maxRelayPacket+1)
	for {
		n, src, err := from.conns[s].ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		r.touch()
		from.packets.Add(1)
		if n > maxRelayPacket {
			from.dropped.Add(1)
			continue
		}
		r.mu.Lock()
		if !from.latched[s] || !sameAddr(from.target[s], src) {
			from.target[s], from.latched[s] = src, true
		}
		dst := to.target[s]
		r.mu.Unlock()
		if dst == nil {
			from.dropped.Add(1) // the other leg named no address yet
			continue
		}
		to.conns[s].WriteToUDP(buf[:n], dst)
	}
}

// setSDP records the media addresses leg's SDP named; a new address
// undoes the latch (the phone moved its media, e.g. on resume).
func (r *relay) setSDP(leg legID, rtp, rtcp *net.UDPAddr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.legs[leg]
	for s, a := range []*net.UDPAddr{rtp, rtcp} {
		if a == nil || sameAddr(l.sdp[s], a) {
			continue
		}
		l.sdp[s] = a
		l.target[s], l.latched[s] = a, false
	}
}

// close stops the relay and waits for its goroutines.
func (r *relay) close() {
	r.once.Do(func() {
		for _, l := range r.legs {
			if l == nil {
				continue
			}
			for _, c := range l.conns {
				c.Close()
			}
		}
		r.wg.Wait()
	})
}

// anchorSDP rewrites body, an SDP a leg sent, so that its first audio
// stream names host:port (the relay socket facing the leg that receives
// it). It returns the new body and the RTP and RTCP addresses the original
// named as seen from the host (nil when it named none: 0.0.0.0 for hold,
// or not an IP address).
func anchorSDP(body []byte, host string, port int) ([]byte, *net.UDPAddr, *net.UDPAddr, error) {
	s, err := sdp.Parse(body)
	if err != nil {
		return nil, nil, nil, err
	}
	i := -1
	for j := range s.Media {
		if strings.EqualFold(s.Media[j].Type, "audio") && s.Media[j].Port != 0 {
			i = j
			break
		}
	}
	if i < 0 {
		return nil, nil, nil, errors.New("pbx: no audio stream to relay")
	}
	m := &s.Media[i]
	var rtp, rtcp *net.UDPAddr
	rtcpPort := m.Port + 1
	attrs := m.Attrs[:0:0]
	for _, a := range m.Attrs {
		if strings.EqualFold(a.Key, "rtcp") {
			// RFC 3605: "port [IN IP4 addr]"; the relay's RTCP is its
			// RTP port + 1, so the attribute does not go on.
			if f := strings.Fields(a.Value); len(f) > 0 {
				if n, err := strconv.Atoi(f[0]); err == nil && n > 0 && n < 65536 {
					rtcpPort = n
				}
			}
			continue
		}
		attrs = append(attrs, a)
	}
	m.Attrs = attrs
	if ip := net.ParseIP(hostSide(m.Host)); ip != nil && !ip.IsUnspecified() {
		rtp = &net.UDPAddr{IP: ip, Port: m.Port}
		rtcp = &net.UDPAddr{IP: ip, Port: rtcpPort}
		m.Host = host
	}
	m.Port = port
	if ip := net.ParseIP(s.Host); ip != nil && !ip.IsUnspecified() {
		// The other m-lines keep their address: after Parse each Media
		// holds its own, which Marshal writes when it is not the session's.
		s.Host = host
	}
	if s.Origin.Addr != "" {
		s.Origin.Addr = host
	}
	return s.Marshal(), rtp, rtcp, nil
}

// isSDP reports whether m carries a session description.
func isSDP(m *sipmsg.Message) bool {
	if len(m.Body) == 0 {
		return false
	}
	ct := strings.ToLower(strings.TrimSpace(m.Get("Content-Type")))
	return ct == "" || strings.HasPrefix(ct, "application/sdp")
}

// natted reports whether a request's sender is behind a NAT: its SDP
// names another address than the one it sends from (nat_uac_test 8), or
// its Contact does (nat_uac_test 2's idea on the Contact).
func natted(m *sipmsg.Message, src *net.UDPAddr) bool {
	if s, err := sdp.Parse(m.Body); err == nil {
		if i := s.FirstAudio(); i >= 0 {
			if ip := net.ParseIP(s.Media[i].Host); ip != nil && !ip.IsUnspecified() && !ip.Equal(src.IP) {
				return true
			}
		}
	}
	if na, err := sipmsg.ParseNameAddr(m.Get("Contact")); err == nil {
		if ip := net.ParseIP(na.URI.Host); ip != nil && !ip.Equal(src.IP) {
			return true
		}
	}
	return false
}

// anchorRequest anchors the media of a request the PBX forwards to dst
// (reached by the phone there as local): an initial INVITE where either
// side is behind a NAT gets a relay; any SDP in a call that
// has one is rewritten; BYE closes it.
func (p *PBX) anchorRequest(m *sipmsg.Message, src, dst *net.UDPAddr, local string) {
	callID := m.Get("Call-ID")
	r := p.st.relays[callID]
	initial := m.Method == "INVITE" && m.ToTag() == ""
	if r == nil && initial {
		calleeNAT := hostOf(local) != p.addr.IP.String()
		if u, err := sipmsg.ParseURI(m.RequestURI); err == nil {
			if ip := net.ParseIP(u.Host); ip != nil && !ip.Equal(dst.IP) {
				calleeNAT = true // the callee's Contact is not where it sends from
			}
		}
		callerReach := hostOf(p.upstreamLocal(src, ""))
		if !calleeNAT && !natted(m, src) && callerReach == p.addr.IP.String() {
			return // both on the host's network: direct media
		}
		if len(p.st.relays) >= p.cfg.MaxRelays {
			p.cfg.Logf("pbx: %d media relays in use: call %s keeps direct media", len(p.st.relays), callID)
			return
		}
		nr, err := p.newRelay(callID, m.FromTag(), callerReach, hostOf(local))
		if err != nil {
			p.cfg.Logf("pbx: media relay for call %s: %v", callID, err)
			return
		}
		r = nr
		p.st.relays[callID] = r
		p.cfg.Logf("pbx: call %s: media relayed, caller (reaches me by %s) on %d, callee (by %s) on %d",
			callID, r.legs[callerLeg].reach, r.legs[callerLeg].port(), r.legs[calleeLeg].reach, r.legs[calleeLeg].port())
	} else if r != nil && initial {
		r.legs[calleeLeg].reach = hostOf(local) // a new branch after a redirection
	}
	if r == nil {
		return
	}
	r.touch()
	sender := calleeLeg
	if m.FromTag() == r.callerTag {
		sender = callerLeg
	}
	if isSDP(m) {
		p.rewriteSDP(r, sender, m)
	}
	if m.Method == "BYE" {
		p.closeRelay(callID)
	}
}

// anchorResponse rewrites the SDP of a response the PBX passes upstream in
// a call whose media it relays; a failure to the INVITE before any 2xx
// closes the relay (a new branch after a redirection makes another).
func (p *PBX) anchorResponse(m *sipmsg.Message) {
	callID := m.Get("Call-ID")
	r := p.st.relays[callID]
	if r == nil {
		return
	}
	r.touch()
	_, method, _ := m.CSeq()
	if method == "INVITE" && m.StatusCode >= 200 && m.StatusCode < 300 {
		r.answered = true
	}
	if method == "INVITE" && m.StatusCode >= 300 {
		p.closeUnanswered(callID)
		return
	}
	// The response's sender is the other side of its request's.
	sender := callerLeg
	if m.FromTag() == r.callerTag {
		sender = calleeLeg
	}
	if isSDP(m) {
		p.rewriteSDP(r, sender, m)
	}
}

func (l *relayLeg) port() int { return l.conns[rtpStream].LocalAddr().(*net.UDPAddr).Port }

// rewriteSDP points m's SDP, which sender sent, at the relay socket facing
// the other leg, and records the addresses it named for sender.
func (p *PBX) rewriteSDP(r *relay, sender legID, m *sipmsg.Message) {
	to := r.legs[sender.other()]
	body, rtp, rtcp, err := anchorSDP(m.Body, to.reach, to.port())
	if err != nil {
		p.cfg.Logf("pbx: call %s: SDP from the %s not relayed: %v", r.callID, sender, err)
		return
	}
	r.setSDP(sender, rtp, rtcp)
	m.Body = body // AppendTo writes Content-Length from the body
}

// closeRelay ends the relay of a call, if it has one.
func (p *PBX) closeRelay(callID string) {
	if r := p.st.relays[callID]; r != nil {
		delete(p.st.relays, callID)
		r.close()
		p.cfg.Logf("pbx: call %s: media relay closed (%d packets from the caller, %d from the callee)",
			callID, r.legs[callerLeg].packets.Load(), r.legs[calleeLeg].packets.Load())
	}
}

// closeUnanswered ends the relay of a call that was never answered (the
// caller cancelled, the INVITE failed or went to a mailbox); a relay of an
// answered call lives until BYE.
func (p *PBX) closeUnanswered(callID string) {
	if r := p.st.relays[callID]; r != nil && !r.answered {
		p.closeRelay(callID)
	}
}

// sweepRelays closes relays idle for Config.MediaIdle.
func (p *PBX) sweepRelays() {
	for id, r := range p.st.relays {
		if r.idle(p.cfg.MediaIdle) {
			p.cfg.Logf("pbx: call %s: media idle for %s", id, p.cfg.MediaIdle)
			p.closeRelay(id)
		}
	}
}
