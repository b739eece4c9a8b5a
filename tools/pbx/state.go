package pbx

import (
	"net"
	"sort"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// binding is one registered contact of an extension (RFC 3261 section 10.3)
// with the flow it registered over.
type binding struct {
	ext     string
	contact sipmsg.URI   // the Contact URI as registered
	key     string       // user@hostport, lower case: identifies the binding
	flow    *net.UDPAddr // source address of the REGISTER: where to send
	local   string       // host:port the phone addressed the PBX by
	expires time.Time
	callID  string
	cseq    uint32
	updated time.Time
}

// nonce is a digest nonce the PBX issued.
type nonce struct {
	issued time.Time
	nc     uint64 // highest nonce count seen
}

// cached is a final response the PBX generated, kept to answer
// retransmissions of its request (RFC 3261 section 17.2).
type cached struct {
	raw  []byte
	msg  *sipmsg.Message
	dst  *net.UDPAddr
	at   time.Time
	code int
}

// forwarded is an INVITE the PBX proxied, kept for CANCEL, the ACK of a
// non-2xx response, and retransmissions.
type forwarded struct {
	at        time.Time
	dst       *net.UDPAddr
	ruri      string   // Request-URI sent downstream
	via       string   // the PBX's Via on the forwarded request
	routes    []string // Route values sent downstream
	upstream  *net.UDPAddr
	last      *sipmsg.Message // last response forwarded upstream (not 100)
	final     bool
	ext       string       // the extension located (for forwarding and voicemail)
	hops      int          // redirections followed before this branch (redirect.go)
	prev      []*forwarded // earlier branches of this call (after redirections)
	pbxACKs   bool         // the PBX acknowledges this branch's non-2xx itself
	cancelled bool         // the caller sent CANCEL: no recursion, no mailbox

	// Timer A/B of the PBX's client transaction (RFC 3261 section 17.1.1.2).
	req      *sipmsg.Message // the request as received, for a 408 upstream
	raw      []byte          // the request as forwarded
	answered bool            // any response from downstream
	next     time.Time       // next retransmission
	interval time.Duration
}

// learnt is the flow a Contact was last seen from on a request or response
// the PBX passed on (Kamailio's fix_nated_contact, kept on the side): how
// in-dialog requests reach a phone that never registered, behind NAT.
type learnt struct {
	flow *net.UDPAddr
	at   time.Time
}

const (
	maxLearnt      = 10000
	learntLifetime = 2 * time.Hour
)

type state struct {
	contacts map[string]*learnt    // bindingKey(Contact URI) -> flow
	bindings map[string][]*binding // ext -> bindings
	nonces   map[string]*nonce
	cache    map[string]*cached
	invites  map[string]*forwarded
	waiters  map[string][]chan struct{}

	vm   map[string]*vmCall       // Call-ID -> voicemail call the PBX answered
	subs map[string]*subscription // Call-ID -> message-summary subscription
	uacs map[string]*uac          // branch -> request the PBX sent itself
	mwi  map[string]*mwiDialog    // ext -> unsolicited NOTIFY Call-ID and CSeq

	relays map[string]*relay // Call-ID -> media relay of a NATed call (relay.go)
}

func newState() *state {
	return &state{
		bindings: map[string][]*binding{},
		contacts: map[string]*learnt{},
		nonces:   map[string]*nonce{},
		cache:    map[string]*cached{},
		invites:  map[string]*forwarded{},
		waiters:  map[string][]chan struct{}{},
		vm:       map[string]*vmCall{},
		subs:     map[string]*subscription{},
		uacs:     map[string]*uac{},
		mwi:      map[string]*mwiDialog{},
		relays:   map[string]*relay{},
	}
}

// live returns ext's unexpired bindings, most recently updated first.
func (s *state) live(ext string, now time.Time) []*binding {
	var out []*binding
	for _, b := range s.bindings[ext] {
		if now.Before(b.expires) {
			out = append(out, b)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].updated.After(out[j].updated) })
	return out
}

// put adds or refreshes a binding.
func (s *state) put(nb *binding) {
	bs := s.bindings[nb.ext]
	for i, b := range bs {
		if b.key == nb.key {
			bs[i] = nb
			return
		}
	}
	s.bindings[nb.ext] = append(bs, nb)
}

func (s *state) remove(ext, key string) {
	bs := s.bindings[ext]
	out := bs[:0]
	for _, b := range bs {
		if b.key != key {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		delete(s.bindings, ext)
		return
	}
	s.bindings[ext] = out
}

func (s *state) find(ext, key string) *binding {
	for _, b := range s.bindings[ext] {
		if b.key == key {
			return b
		}
	}
	return nil
}

// byContact finds the live binding a Request-URI (a phone's Contact) names:
// the same user@hostport, else the one at that hostport registered by the
// URI's user or by hint (the To user of an in-dialog request), else the only
// one at that hostport. Phones in separate QEMU guests share 10.0.2.15:5061,
// hence the user checks.
func (s *state) byContact(u sipmsg.URI, hint string, now time.Time) *binding {
	hp := strings.ToLower(hostPort(u))
	key := strings.ToLower(u.User) + "@" + hp
	var sameHP []*binding
	for _, bs := range s.bindings {
		for _, b := range bs {
			if !now.Before(b.expires) {
				continue
			}
			if b.key == key {
				return b
			}
			if strings.ToLower(hostPort(b.contact)) == hp {
				sameHP = append(sameHP, b)
			}
		}
	}
	for _, want := range []string{u.User, hint} {
		for _, b := range sameHP {
			if want != "" && b.ext == want {
				return b
			}
		}
	}
	if len(sameHP) == 1 {
		return sameHP[0]
	}
	return nil
}

// byFlow finds a live binding registered from addr.
func (s *state) byFlow(addr *net.UDPAddr, now time.Time) *binding {
	var best *binding
	for _, bs := range s.bindings {
		for _, b := range bs {
			if now.Before(b.expires) && b.flow.IP.Equal(addr.IP) && b.flow.Port == addr.Port {
				if best == nil || b.updated.After(best.updated) {
					best = b
				}
			}
		}
	}
	return best
}

func (s *state) notify(ext string) {
	for _, ch := range s.waiters[ext] {
		close(ch)
	}
	delete(s.waiters, ext)
}

// sweep drops what has expired.
func (s *state) sweep(now time.Time) {
	for ext, bs := range s.bindings {
		out := bs[:0]
		for _, b := range bs {
			if now.Before(b.expires) {
				out = append(out, b)
			}
		}
		if len(out) == 0 {
			delete(s.bindings, ext)
		} else {
			s.bindings[ext] = out
		}
	}
	for k, n := range s.nonces {
		if now.Sub(n.issued) > nonceLifetime*2 {
			delete(s.nonces, k)
		}
	}
	for k, l := range s.contacts {
		if now.Sub(l.at) > learntLifetime {
			delete(s.contacts, k)
		}
	}
	for k, c := range s.cache {
		if now.Sub(c.at) > cacheLifetime {
			delete(s.cache, k)
		}
	}
	for k, f := range s.invites {
		if now.Sub(f.at) > inviteLifetime {
			delete(s.invites, k)
		}
	}
}

// hostPort is u's host:port with the default SIP port filled in.
func hostPort(u sipmsg.URI) string {
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(u.Host, itoa(port))
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// learn remembers that the phone with Contact value c sends from flow.
func (s *state) learn(c string, flow *net.UDPAddr, now time.Time) {
	na, err := sipmsg.ParseNameAddr(c)
	if err != nil || na.URI.Host == "" {
		return
	}
	k := bindingKey(na.URI)
	if _, ok := s.contacts[k]; !ok && len(s.contacts) >= maxLearnt {
		return // full: the oldest age out in sweep
	}
	s.contacts[k] = &learnt{flow: flow, at: now}
}
