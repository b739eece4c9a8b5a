package digest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// MaxRetries bounds the re-sends of one Attempt: a request goes out at most
// 1+MaxRetries times, whatever the servers answer. Each realm is answered
// at most twice per attempt (its first challenge, and once more if it says
// the nonce went stale), so this is room for three realms: a proxy, a
// second proxy and the registrar, each stale once.
const MaxRetries = 6

const (
	maxCached = 8 // challenges a Client holds (destinations x kinds x realms)
	maxRealms = 4 // realms one Attempt answers
)

// Sentinels of Refused.Err that callers may branch on.
var (
	// ErrRejected: credentials for the realm were sent in this attempt in
	// answer to its challenge, and the server challenged again without
	// saying stale: the user name or password is wrong (RFC 3261 section
	// 22.1: never resend credentials that were just rejected).
	ErrRejected = errors.New("digest: credentials rejected")
	// ErrNoPassword: the account has no password to answer with.
	ErrNoPassword = errors.New("digest: no password configured")
)

// kind is the kind of a challenge, by the header that carries it.
type kind uint8

const (
	kindWWW   kind = iota // WWW-Authenticate, a UAS's or registrar's: Authorization (RFC 3261 section 22.2)
	kindProxy             // Proxy-Authenticate, a proxy's: Proxy-Authorization (section 22.3)
)

func (k kind) String() string {
	if k == kindProxy {
		return "Proxy-Authenticate"
	}
	return "WWW-Authenticate"
}

// credsHeader is the request header that answers a challenge of kind k.
func (k kind) credsHeader() string {
	if k == kindProxy {
		return "Proxy-Authorization"
	}
	return "Authorization"
}

// Refused is Challenged's error: the request is not to be sent again, and
// the 401 or 407 is its final response.
type Refused struct {
	Code  int    // the response's status code, 401 or 407
	Realm string // the realm concerned; "" when none applies
	// Err says why: ErrRejected, ErrNoPassword, ErrUnsupported (no
	// challenge this package answers), or another error (a challenge
	// without nonce, a malformed one, too many rounds).
	Err error
}

func (e *Refused) Error() string {
	var b strings.Builder
	b.WriteString("digest: ")
	b.WriteString(strconv.Itoa(e.Code))
	if e.Realm != "" {
		fmt.Fprintf(&b, " from realm %.40q", e.Realm)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "digest: "))
	}
	return b.String()
}

func (e *Refused) Unwrap() error { return e.Err }

// Attempt is the digest state of one request and its re-sends (the
// original transaction and those Challenged asked for): which realms it
// has answered, and how often. The zero value, with Dest set, is ready;
// use a new one for each new request (a refresh REGISTER, a new BYE), never
// across requests. An Attempt belongs to one goroutine.
type Attempt struct {
	// Dest names where the request goes: its next hop, such as
	// "udp:192.0.2.1:5060", the same string for every request to that hop
	// (all of a line's requests through its outbound proxy or to its
	// registrar share one). Challenges are cached per Dest and offered
	// pre-emptively only to requests with the same Dest: credentials for
	// the line's own servers never go to a peer (RFC 3261 section 22.3).
	Dest string

	retries int
	n       int
	realms  [maxRealms]attemptRealm
}

// attemptRealm is what an attempt did for one realm of one kind.
type attemptRealm struct {
	kind         kind
	realm        string // owned (cloned)
	answered     bool   // a challenge for it received in this attempt was answered
	staleRetried bool   // and a stale=true one after that
}

// Retries is how many re-sends Challenged has asked for in this attempt.
func (a *Attempt) Retries() int { return a.retries }

func (a *Attempt) find(k kind, realm string) *attemptRealm {
	for i := range a.realms[:a.n] {
		if r := &a.realms[i]; r.kind == k && r.realm == realm {
			return r
		}
	}
	return nil
}

// Client is the digest client of one account (one line): it answers the
// 401 and 407 challenges of every request the account sends (RFC 3261
// section 22, RFC 7616, RFC 8760) and keeps the challenges it has answered,
// per destination, kind and realm, so that later requests carry
// credentials at once, each use with the next nonce count (RFC 7616
// section 3.4). The UA calls Authorize on each request it sends (the
// first and every re-send), and Challenged on each 401/407. A Client is
// safe for concurrent use (calls of one line on their own goroutines).
type Client struct {
	user, password string

	mu    sync.Mutex
	cache [maxCached]entry
	clock uint64  // stamps entry.used: least recently used goes first
	tmp   []byte  // hashing scratch
	out   []byte  // header value scratch
	rnd   [8]byte // cnonce bytes
}

// entry is one cached challenge.
type entry struct {
	used uint64 // 0: a free slot
	kind kind
	dest string    // owned (cloned)
	ch   Challenge // strings owned (cloned)
	alg  algorithm
	sess bool
	ha1  [maxHex]byte // H(user:realm:password) in hex
	ha1n int
	nc   uint32 // the last nonce count sent for ch.Nonce
}

// NewClient returns the client of an account: user is its SIP user,
// authUser the user name for digest ("" means user), password its
// password ("": every challenge is refused with ErrNoPassword).
func NewClient(user, authUser, password string) *Client {
	if authUser == "" {
		authUser = user
	}
	return &Client{user: authUser, password: password}
}

// Authorize sets m's credentials: one Authorization or Proxy-Authorization
// header (by the kind of challenge) for each challenge the client holds for
// a.Dest, whether Challenged recorded it in this attempt or an earlier one.
// It first removes any Authorization and Proxy-Authorization headers m
// has (a re-send is usually the previous request cloned). The digest-uri
// is m's Request-URI and the method m's (RFC 3261 section 22.4); with
// qop=auth each header uses the next nonce count of its nonce and a fresh
// cnonce. The UA calls it after it has set m's Request-URI and just before
// sending m, for every request that may be challenged: not CANCEL (never
// challenged, RFC 3261 section 9.2) and not ACK (the ACK to a 2xx copies
// the INVITE's credentials, section 13.2.2.4). It allocates one string per
// header it adds.
func (c *Client) Authorize(m *sipmsg.Message, a *Attempt) {
	m.Del("Authorization")
	m.Del("Proxy-Authorization")
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.cache {
		if e := &c.cache[i]; e.used != 0 && e.dest == a.Dest {
			m.Add(e.kind.credsHeader(), string(c.credentials(e, m.Method, m.RequestURI)))
		}
	}
}

// AppendAuthorization is Authorize for a request built as text (a line's
// REGISTER): it appends each header line ("Authorization: Digest
// ...\r\n") to dst for a request of method to uri, allocating nothing.
func (c *Client) AppendAuthorization(dst []byte, method, uri string, a *Attempt) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.cache {
		if e := &c.cache[i]; e.used != 0 && e.dest == a.Dest {
			dst = append(append(dst, e.kind.credsHeader()...), ": "...)
			dst = append(append(dst, c.credentials(e, method, uri)...), "\r\n"...)
		}
	}
	return dst
}

// credentials are the credentials for cache entry e, a request of method
// to uri, in c.out (valid until the next call); c.mu is held. With qop
// they take the next nonce count of e's nonce and a fresh cnonce.
func (c *Client) credentials(e *entry, method, uri string) []byte {
	c.clock++
	e.used = c.clock
	var ncb [8]byte
	var cnb [2 * len(c.rnd)]byte
	var nc, cnonce []byte
	if e.ch.Qop != "" {
		e.nc++
		nc = appendNC(ncb[:0], e.nc)
		_, _ = rand.Read(c.rnd[:])
		cnonce = hex.AppendEncode(cnb[:0], c.rnd[:])
	}
	var respb [maxHex]byte
	resp, tmp := appendResponse(respb[:0], c.tmp, e.alg, e.sess, e.ha1[:e.ha1n], method, uri, e.ch.Nonce, e.ch.Qop, nc, cnonce)
	c.tmp = tmp
	c.out = appendCredentials(c.out[:0], &e.ch, c.user, uri, resp, nc, cnonce)
	return c.out
}

// pick is the strongest usable challenge a response holds for one kind and
// realm, or why there is none.
type pick struct {
	kind  kind
	realm string // a view into the response
	ch    Challenge
	ok    bool
	err   error // the first challenge's error, when !ok
	stale bool  // answered as a stale retry
}

// Challenged takes a 401 or 407 response to a request of attempt a and
// says whether to send the request again (a new transaction: the UA bumps
// the CSeq, takes a new Via branch and calls Authorize). It reads every
// WWW-Authenticate and Proxy-Authenticate challenge in resp (a 401 or 407
// may carry both, RFC 3261 section 16.7) and keeps, per kind and realm, the
// strongest it supports (SHA-512-256, then SHA-256, then MD5: RFC 8760);
// challenges it cannot answer (another scheme, algorithm or qop, no nonce)
// are skipped when the realm has a usable one.
//
// It asks for a re-send when some realm can be answered and none refuses
// (a realm with no usable challenge is skipped): a realm answered for
// the first time in this attempt (also when the request carried cached
// credentials for it: those were from an earlier challenge), or one whose
// new challenge says stale=true, once (RFC 7616 section 3.3). It refuses,
// with a *Refused, when a realm it answered in this attempt challenges again
// without stale (ErrRejected: wrong credentials, never a loop), when no
// challenge is usable, when there is no password, or after MaxRetries. The
// challenges answered are cached for a.Dest, replacing older ones of the
// same kind and realm (a stale nonce is dropped so); on a refusal the
// cached challenges of the realms concerned are dropped. Challenged copies
// what it keeps: resp may be reused when it returns.
func (c *Client) Challenged(resp *sipmsg.Message, a *Attempt) (retry bool, err error) {
	code := resp.StatusCode
	if code != 401 && code != 407 {
		return false, fmt.Errorf("digest: a %d is not a challenge", code)
	}
	var picks [maxRealms]pick
	n := 0
	for _, h := range resp.Headers {
		var k kind
		switch {
		case strings.EqualFold(h.Name, "WWW-Authenticate"):
			k = kindWWW
		case strings.EqualFold(h.Name, "Proxy-Authenticate"):
			k = kindProxy
		default:
			continue
		}
		for _, v := range SplitChallenges(h.Value) {
			ch, err := parseChallenge(v)
			var p *pick
			for i := range picks[:n] {
				if picks[i].kind == k && picks[i].realm == ch.Realm {
					p = &picks[i]
				}
			}
			if p == nil {
				if n == len(picks) {
					continue // more realms than an attempt answers: the first ones
				}
				picks[n] = pick{kind: k, realm: ch.Realm}
				p = &picks[n]
				n++
			}
			switch {
			case err != nil:
				if p.err == nil {
					p.err = err
				}
			case !p.ok || ch.Strength() > p.ch.Strength():
				p.ch, p.ok = ch, true
			}
		}
	}
	if n == 0 {
		return false, &Refused{Code: code, Err: errors.New("digest: no WWW-Authenticate or Proxy-Authenticate")}
	}
	if c.password == "" {
		return false, &Refused{Code: code, Realm: strings.Clone(picks[0].realm), Err: ErrNoPassword}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	// Decide before changing anything: a refusal leaves a as it was.
	usable, fresh := 0, 0
	var first *pick
	for i := range picks[:n] {
		p := &picks[i]
		if !p.ok {
			if first == nil {
				first = p
			}
			continue
		}
		switch st := a.find(p.kind, p.realm); {
		case st == nil: // not answered yet in this attempt
			fresh++
		case p.ch.Stale && !st.staleRetried:
			p.stale = true
		default:
			c.drop(p.kind, p.realm, a.Dest)
			return false, &Refused{Code: code, Realm: strings.Clone(p.realm), Err: ErrRejected}
		}
		usable++
	}
	if usable == 0 {
		for _, p := range picks[:n] {
			c.drop(p.kind, p.realm, a.Dest)
		}
		return false, &Refused{Code: code, Realm: strings.Clone(first.realm), Err: first.err}
	}
	if a.retries >= MaxRetries || a.n+fresh > len(a.realms) {
		return false, &Refused{Code: code, Err: fmt.Errorf("digest: challenged again after %d retries", a.retries)}
	}
	for _, p := range picks[:n] {
		if !p.ok {
			c.drop(p.kind, p.realm, a.Dest)
			continue
		}
		st := a.find(p.kind, p.realm)
		if st == nil {
			st = &a.realms[a.n]
			*st = attemptRealm{kind: p.kind, realm: strings.Clone(p.realm)}
			a.n++
		}
		if p.stale {
			st.staleRetried = true
		}
		st.answered = true
		c.store(p.kind, p.ch, a.Dest)
	}
	a.retries++
	return true, nil
}

// Reset forgets every cached challenge: the next request of the account
// goes without credentials and answers the challenges it gets anew (the UA
// calls it after a failed registration, before its backoff).
func (c *Client) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cache = [maxCached]entry{}
}

// store caches ch for dest, in the slot of the same kind and realm, else a
// free one, else the least recently used. The caller holds c.mu.
func (c *Client) store(k kind, ch Challenge, dest string) {
	var e *entry
	for i := range c.cache {
		s := &c.cache[i]
		if s.used != 0 && s.kind == k && s.ch.Realm == ch.Realm && s.dest == dest {
			e = s
			break
		}
		if e == nil || e.used != 0 && s.used < e.used {
			e = s // a free slot (used 0) or an older one
		}
	}
	alg, sess, _ := lookupAlgorithm(ch.Algorithm) // parseChallenge checked it
	c.clock++
	*e = entry{used: c.clock, kind: k, dest: strings.Clone(dest), alg: alg, sess: sess, ch: Challenge{
		Realm: strings.Clone(ch.Realm), Nonce: strings.Clone(ch.Nonce), Opaque: strings.Clone(ch.Opaque),
		Algorithm: strings.Clone(ch.Algorithm), Qop: ch.Qop, Stale: ch.Stale,
	}}
	var ha1 []byte
	ha1, c.tmp = appendHA1(e.ha1[:0], c.tmp, alg, c.user, ch.Realm, c.password)
	e.ha1n = len(ha1)
}

// drop forgets the cached challenge of kind k and realm for dest. The
// caller holds c.mu.
func (c *Client) drop(k kind, realm, dest string) {
	for i := range c.cache {
		if s := &c.cache[i]; s.used != 0 && s.kind == k && s.ch.Realm == realm && s.dest == dest {
			*s = entry{}
		}
	}
}
